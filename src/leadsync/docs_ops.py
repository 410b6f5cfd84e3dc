"""docs/operations.md: every operation of the WSDL and whether leadsync emulates it.

Run ``python -m leadsync.docs_ops`` to rewrite the file, ``--check`` to fail when it is
out of date (the test suite does the same).
"""

from __future__ import annotations

import sys
from pathlib import Path

from leadsync.docs_files import generate, table
from leadsync.soap.handlers import load_handlers
from leadsync.soap.wsdl import wsdl_operations

DEFAULT_PATH = Path("docs/operations.md")
IMPLEMENTED = "implemented"
NOT_EMULATED = "answers 20019 (Unsupported Operation)"


def render() -> str:
    handlers = load_handlers()
    names = wsdl_operations()
    rows = (
        (str(n), f"`{name}`", IMPLEMENTED if name in handlers else NOT_EMULATED)
        for n, name in enumerate(names, 1)
    )
    done = sum(1 for name in names if name in handlers)
    return "\n".join(
        [
            "# Operations",
            "",
            "<!-- Generated from the served WSDL by `python -m leadsync.docs_ops`;"
            " a test fails when this file is out of date. -->",
            "",
            f"The WSDL declares {len(names)} operations; leadsync emulates {done} of them.",
            "A call to any other one gets a SOAP fault with code 20019 whose message names",
            "the operation, for example",
            "`Unsupported Operation: getTags is not emulated by leadsync (20019)`.",
            "",
            *table(("#", "Operation", "State"), rows),
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    return generate("leadsync.docs_ops", DEFAULT_PATH, lambda _current: render(), argv)


if __name__ == "__main__":
    sys.exit(main())
