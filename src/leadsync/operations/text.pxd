# Declarations for compiling text.py (the one source) with Cython; see its docstring.
# cpdef: Python callers see the same function, and the C record reader calls it directly.
cimport cython

@cython.locals(char=Py_UCS4)
cpdef object plain_text(str raw)
