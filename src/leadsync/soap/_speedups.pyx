# cython: language_level=3, boundscheck=False, wraparound=False
"""Reads a parsed ``leadRecordList`` straight from libxml2's tree, in C.

The document was parsed by the one hardened parser (``leadsync.soap.xml``); this only walks
what it built, without making a Python object per element. It reads the shape nearly every
client sends: unqualified children without attributes, text-only values. Anything else
(a qualified or unknown child, ``xsi:nil``, mixed content) hands the element back so the
general Python reader decides, which keeps one set of rules.
"""

from cpython.unicode cimport PyUnicode_DecodeUTF8
from libc.string cimport memcmp, strcmp, strlen

cimport lxml.includes.etreepublic as cetree
from lxml.includes.tree cimport (
    XML_CDATA_SECTION_NODE,
    XML_ELEMENT_NODE,
    XML_TEXT_NODE,
    xmlNode,
)

cetree.import_lxml__etree()

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
    """An unqualified element without attributes."""
    return node.ns is NULL and node.properties is NULL


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


cdef class _Names:
    """The attribute names of one record list, each distinct name one str object.

    A batch repeats the same few names in every record: each is decoded once, and since a
    str keeps its hash, every later dictionary look-up of it skips hashing too.
    """

    cdef const char* raw[MAX_NAMES]
    cdef size_t size[MAX_NAMES]
    cdef list strs
    cdef int count

    def __cinit__(self):
        self.strs = []
        self.count = 0

    cdef str get(self, const char* raw, size_t size):
        cdef int i
        cdef str name
        for i in range(self.count):
            if self.size[i] == size and memcmp(self.raw[i], raw, size) == 0:
                return <str>self.strs[i]
        name = PyUnicode_DecodeUTF8(raw, size, NULL)
        if size and (_space(raw[0]) or _space(raw[size - 1])):
            name = name.strip()
        if self.count < MAX_NAMES:
            # The text belongs to the parsed document, which outlives this read.
            self.raw[self.count] = raw
            self.size[self.count] = size
            self.strs.append(name)
            self.count += 1
        return name


cdef list _attributes(xmlNode* node, _Names names, bint* ok):
    cdef list out = []
    cdef xmlNode* attr = node.children
    cdef xmlNode* part
    cdef xmlNode* name_node
    cdef xmlNode* value_node
    cdef bint has_name
    cdef const char* raw
    cdef str name
    while attr is not NULL:
        if attr.type == XML_ELEMENT_NODE:
            if not _plain(attr):
                ok[0] = False
                return out
            has_name = False
            name_node = NULL
            value_node = NULL
            part = attr.children
            while part is not NULL:
                if part.type == XML_ELEMENT_NODE:
                    if not _plain(part):
                        ok[0] = False
                        return out
                    if strcmp(<const char*>part.name, "attrName") == 0:
                        has_name = True
                        name_node = _text_node(part, ok)
                    elif strcmp(<const char*>part.name, "attrValue") == 0:
                        value_node = _text_node(part, ok)
                    if not ok[0]:
                        return out
                part = part.next
            if has_name and name_node is not NULL and name_node.content is not NULL:
                raw = <const char*>name_node.content
                name = names.get(raw, strlen(raw))
                if name:
                    out.append((name, "" if value_node is NULL else _decode(<const char*>value_node.content)))
        attr = attr.next
    return out


cdef object _record(xmlNode* node, _Names names):
    """(Id, Email, ForeignSysPersonId, ForeignSysType, attributes), or None to read it in
    Python."""
    cdef bint ok = True
    cdef xmlNode* child = node.children
    cdef Kind kind
    cdef object id_text = None
    cdef object email = None
    cdef object fsp = None
    cdef object fsp_type = None
    cdef list attributes = []
    while child is not NULL:
        if child.type == XML_ELEMENT_NODE:
            if not _plain(child):
                return None
            kind = _kind(<const char*>child.name)
            if kind == K_OTHER:
                return None
            if kind == K_ATTRIBUTES:
                attributes = _attributes(child, names, &ok)
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
    return (id_text, email, fsp, fsp_type, attributes)


def read_lead_records(cetree._Element record_list not None):
    """One entry per element child of ``record_list``: the record's parts as a tuple, or the
    element itself when it needs the general reader."""
    cdef list out = []
    cdef xmlNode* node = record_list._c_node.children
    cdef object parts
    cdef _Names names = _Names()
    while node is not NULL:
        if node.type == XML_ELEMENT_NODE:
            parts = _record(node, names)
            if parts is None:
                parts = cetree.elementFactory(record_list._doc, node)
            out.append(parts)
        node = node.next
    return out
