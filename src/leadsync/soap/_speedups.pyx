# cython: language_level=3, boundscheck=False, wraparound=False
"""Accelerates ``leadsync.soap.record_reader.read_lead_records``, reading a parsed
``leadRecordList`` straight from libxml2's tree, in C.

The document was parsed by the one hardened parser (``leadsync.mktows.xml``); this only walks
what it built, without making a Python object per element. It reads the shape nearly every
client sends: unqualified children without attributes, text-only values, each attribute
one attrName and one attrValue. Anything else (a qualified or unknown child, ``xsi:nil``,
mixed content, an attribute of another shape, a name not spelled as a field) hands the
element back to ``read_lead_record``, the definition, which decides. The property test in
tests/soap/test_record_reader_property.py proves the two give equal records.

Attributes named exactly as a plain text field (``FieldCatalogue.plain``) are typed with the
one typing function, ``operations.text.plain_text`` (compiled from the same source and
called here in C), and kept in the record's ``typed`` dict; the others stay (name, value)
pairs for the sync's rules.
"""

from cpython.unicode cimport PyUnicode_DecodeUTF8
from leadsync.operations.text cimport plain_text
from libc.string cimport memcmp, strcmp, strlen

cdef extern from "<dlfcn.h>" nogil:
    void* dlopen(const char* filename, int flags)
    void* dlsym(void* handle, const char* symbol)
    enum:
        RTLD_LAZY
        RTLD_NOLOAD

cimport lxml.includes.etreepublic as cetree
from lxml.includes.tree cimport (
    XML_CDATA_SECTION_NODE,
    XML_ELEMENT_NODE,
    XML_TEXT_NODE,
    xmlNode,
)

cetree.import_lxml__etree()

ctypedef void (*_node_fn)(xmlNode*) noexcept nogil

#: libxml2's own functions, taken from the copy lxml uses (bundled in its wheel or linked
#: from the system): freeing with any other copy would not match how the tree was built.
cdef _node_fn _unlink_node = NULL
cdef _node_fn _free_node_list = NULL


cdef _bind_libxml2():
    global _unlink_node, _free_node_list
    import lxml.etree

    cdef void* handle = dlopen(lxml.etree.__file__.encode(), RTLD_LAZY | RTLD_NOLOAD)
    if handle is NULL:
        return
    _unlink_node = <_node_fn>dlsym(handle, "xmlUnlinkNode")
    _free_node_list = <_node_fn>dlsym(handle, "xmlFreeNodeList")
    if _unlink_node is NULL or _free_node_list is NULL:
        _unlink_node = _free_node_list = NULL


_bind_libxml2()


def frees_records():
    """Whether records read here are freed as soon as they are read (else with the tree)."""
    return _free_node_list is not NULL


cdef void _free_records(xmlNode* first) noexcept nogil:
    """Frees detached records, chained through ``next``, as the tree would have."""
    _free_node_list(first)

cdef enum Kind:
    K_OTHER = 0
    K_ID = 1
    K_EMAIL = 2
    K_FSP = 3
    K_FSP_TYPE = 4
    K_ATTRIBUTES = 5


cdef Kind _kind(const char* name) noexcept:
    if strcmp(name, "Email") == 0:
        return K_EMAIL
    if strcmp(name, "leadAttributeList") == 0:
        return K_ATTRIBUTES
    if strcmp(name, "Id") == 0:
        return K_ID
    if strcmp(name, "ForeignSysPersonId") == 0 or strcmp(name, "foreignSysPersonId") == 0:
        return K_FSP
    if strcmp(name, "ForeignSysType") == 0 or strcmp(name, "foreignSysType") == 0:
        return K_FSP_TYPE
    return K_OTHER


cdef inline bint _plain(xmlNode* node) noexcept:
    """An unqualified element without attributes, and without a Python proxy (none of a
    record read here has one, so the record can be freed here)."""
    return node.ns is NULL and node.properties is NULL and node._private is NULL


cdef inline xmlNode* _text_node(xmlNode* node, bint* ok) noexcept:
    """The single text child of ``node`` (NULL when it has none); ``ok`` is cleared for any
    other content."""
    cdef xmlNode* child = node.children
    if child is NULL:
        return NULL
    if child.next is not NULL or (
        child.type != XML_TEXT_NODE and child.type != XML_CDATA_SECTION_NODE
    ):
        ok[0] = False
        return NULL
    return child


cdef inline str _decode(const char* text):
    if text is NULL:
        return ""
    return PyUnicode_DecodeUTF8(text, strlen(text), NULL)


cdef inline str _text(xmlNode* node, bint* ok):
    cdef xmlNode* t = _text_node(node, ok)
    if t is NULL:
        return ""
    return _decode(<const char*>t.content)


cdef inline bint _space(char c) noexcept:
    return c == 32 or c == 9 or c == 10 or c == 13


cdef enum:
    MAX_NAMES = 64


cdef enum NameClass:
    N_UNKNOWN = 0  # not a field's exact name: the record goes to the Python reader
    N_PLAIN = 1  # a plain text field: typed here
    N_FIELD = 2  # another field: typed by the sync


cdef class _Names:
    """The attribute names of one record list, each distinct name one str object.

    A batch repeats the same few names in every record: each is decoded and classified
    once, and since a str keeps its hash, every later dictionary look-up of it skips hashing
    too.
    """

    cdef const char* raw[MAX_NAMES]
    cdef size_t size[MAX_NAMES]
    cdef NameClass cls[MAX_NAMES]
    cdef list strs
    cdef int count
    cdef dict plain
    cdef dict fields
    cdef Py_ssize_t max_chars
    #: The class of the name ``get`` returned last.
    cdef NameClass last

    def __cinit__(self, dict plain, dict fields, Py_ssize_t max_chars):
        self.strs = []
        self.count = 0
        self.plain = plain
        self.fields = fields
        self.max_chars = max_chars

    cdef str get(self, const char* raw, size_t size):
        cdef int i
        cdef str name
        for i in range(self.count):
            if self.size[i] == size and memcmp(self.raw[i], raw, size) == 0:
                self.last = self.cls[i]
                return <str>self.strs[i]
        name = PyUnicode_DecodeUTF8(raw, size, NULL)
        if size and (_space(raw[0]) or _space(raw[size - 1])):
            name = name.strip()
        if name in self.plain:
            self.last = N_PLAIN
        elif name in self.fields:
            self.last = N_FIELD
        else:
            self.last = N_UNKNOWN
        if self.count < MAX_NAMES:
            # The text belongs to the parsed document, which outlives this read.
            self.raw[self.count] = raw
            self.size[self.count] = size
            self.cls[self.count] = self.last
            self.strs.append(name)
            self.count += 1
        return name


cdef bint _attributes(
    xmlNode* node, _Names names, list pairs, dict typed, bint* ok
):
    """Reads the attributes into ``pairs`` and ``typed``; False when a name is unknown.
    ``ok`` is cleared for any shape but one attrName and one attrValue per attribute."""
    cdef xmlNode* attr = node.children
    cdef xmlNode* part
    cdef xmlNode* name_node
    cdef xmlNode* value_node
    cdef int name_count
    cdef int value_count
    cdef const char* raw
    cdef str name
    cdef str value
    while attr is not NULL:
        if attr.type == XML_ELEMENT_NODE:
            if not _plain(attr):
                ok[0] = False
                return True
            name_count = 0
            value_count = 0
            name_node = NULL
            value_node = NULL
            part = attr.children
            while part is not NULL:
                if part.type == XML_ELEMENT_NODE:
                    if not _plain(part):
                        ok[0] = False
                        return True
                    if strcmp(<const char*>part.name, "attrName") == 0:
                        name_count += 1
                        name_node = _text_node(part, ok)
                    elif strcmp(<const char*>part.name, "attrValue") == 0:
                        value_count += 1
                        value_node = _text_node(part, ok)
                    if not ok[0]:
                        return True
                part = part.next
            if name_count != 1 or value_count != 1 or name_node is NULL:
                ok[0] = False
                return True
            raw = <const char*>name_node.content
            name = names.get(raw, strlen(raw))
            if not name:
                ok[0] = False
                return True
            if names.last == N_UNKNOWN:
                return False
            value = "" if value_node is NULL else _decode(<const char*>value_node.content)
            if names.last == N_PLAIN and len(value) <= names.max_chars:
                typed[name] = plain_text(value)
            else:
                pairs.append((name, value))
        attr = attr.next
    return True


cdef object _record(xmlNode* node, _Names names, object make):
    """``make(Id, Email, ForeignSysPersonId, ForeignSysType, attributes, typed)``, or None to
    read it in Python."""
    cdef bint ok = True
    cdef xmlNode* child = node.children
    cdef Kind kind
    cdef object id_text = None
    cdef object email = None
    cdef object fsp = None
    cdef object fsp_type = None
    cdef list pairs = []
    cdef dict typed = {}
    while child is not NULL:
        if child.type == XML_ELEMENT_NODE:
            if not _plain(child):
                return None
            kind = _kind(<const char*>child.name)
            if kind == K_OTHER:
                return None
            if kind == K_ATTRIBUTES:
                # A later list replaces an earlier one, as in the Python reader.
                pairs = []
                typed = {}
                if not _attributes(child, names, pairs, typed, &ok):
                    return None
            elif kind == K_EMAIL:
                email = _text(child, &ok)
            elif kind == K_ID:
                id_text = _text(child, &ok)
            elif kind == K_FSP:
                fsp = _text(child, &ok)
            else:
                fsp_type = _text(child, &ok)
            if not ok:
                return None
        child = child.next
    return make(id_text, email, fsp, fsp_type, pairs, typed)


def read_lead_records(
    cetree._Element record_list not None,
    dict plain,
    dict fields,
    Py_ssize_t max_chars,
    object make,
):
    """One entry per element child of ``record_list``, and the positions of those that need
    the general reader: a record read here is ``make``'s record of its parts (Id, Email,
    ForeignSysPersonId and ForeignSysType texts, attributes, typed values); one that needs
    the general reader is its element.

    ``plain`` and ``fields`` hold the exact names of the plain text fields and of every
    field; a value of a plain text field longer than ``max_chars`` stays a pair, the others
    are typed with ``operations.text.plain_text``.

    Records read here are taken out of the tree and freed without the GIL: a batch's
    records are nearly all of its tree, and other calls need not wait while they are freed.
    Only the elements handed back stay in ``record_list``.
    """
    cdef list out = []
    cdef list general = []
    cdef xmlNode* node = record_list._c_node.children
    cdef xmlNode* next_node
    cdef xmlNode* done = NULL
    cdef object parts
    cdef _Names names = _Names(plain, fields, max_chars)
    while node is not NULL:
        next_node = node.next
        if node.type == XML_ELEMENT_NODE:
            parts = _record(node, names, make) if node._private is NULL else None
            if parts is None:
                general.append(len(out))
                parts = cetree.elementFactory(record_list._doc, node)
            elif _free_node_list is not NULL:
                _unlink_node(node)
                node.next = done
                done = node
            out.append(parts)
        node = next_node
    if done is not NULL:
        with nogil:
            _free_records(done)
    return out, general
