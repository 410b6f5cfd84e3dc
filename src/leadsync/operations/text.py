"""The typing rule for text values, in a module of its own so that it can be compiled.

setup.py builds this same source with Cython when a C compiler is present (text.pxd types
it): the record reader calls ``plain_text`` for every plain text value of a call (3,000 for
300 leads of 10 fields), and its compiled accelerator calls the compiled function directly,
at the cost of a C call. Without a compiler this file runs as it is.
"""


def plain_text(raw: str) -> str | None:
    """What a text field (string, phone, url, text) stores for ``raw`` once its length is
    known to fit: the text exactly as sent, or None when it is blank (empty or whitespace
    only), which clears the field.

    THE typing rule for text: the converters of ``operations.fields``, the record reader and
    its compiled accelerator (``soap/_speedups.pyx``) all call this function.
    """
    # A character at a time (the first that is not whitespace ends it, and nearly every
    # value's first character is one): compiled, this loop is C, with no method call.
    for char in raw:
        if not char.isspace():
            return raw
    return None
