"""Builds the optional C reader of lead records and the compiled text rule; everything else
is in pyproject.toml.

Without a C compiler the package still installs: the extension is optional and the pure
Python reader does the same work, only slower.
"""

import lxml
from Cython.Build import cythonize
from setuptools import Extension, setup

setup(
    ext_modules=cythonize(
        [
            Extension(
                "leadsync.soap._speedups",
                ["src/leadsync/soap/_speedups.pyx"],
                include_dirs=lxml.get_include(),
                optional=True,
            ),
            # The same source as the pure Python module, compiled: see its docstring.
            Extension(
                "leadsync.operations.text",
                ["src/leadsync/operations/text.py"],
                optional=True,
            ),
        ],
        compiler_directives={"language_level": "3"},
        # Where the reader finds operations/text.pxd, to call the compiled text rule in C.
        include_path=["src"],
    ),
)
