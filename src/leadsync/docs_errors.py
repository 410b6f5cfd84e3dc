"""docs/errors.md: every Marketo fault code leadsync answers with, from the kit's catalogue.

Run ``python -m leadsync.docs_errors`` to rewrite the file, ``--check`` to fail when it is
out of date (the test suite does the same).
"""

from __future__ import annotations

import sys
from pathlib import Path

from leadsync.docs_files import generate, table
from leadsync.mktows.codes import FATAL, RETRYABLE, FaultCode

DEFAULT_PATH = Path("docs/errors.md")


def _client(code: FaultCode) -> str:
    if code in RETRYABLE:
        return "resend: the server did nothing"
    if code in FATAL:
        return "stop: every further call fails the same way"
    return "depends on the call; see the message"


def render() -> str:
    rows = (
        (
            str(int(code)),
            f"`{int(code)} - {code.title}`",
            f"`SOAP-ENV:{'Server' if code.server_side else 'Client'}`",
            _client(code),
        )
        for code in FaultCode
    )
    return "\n".join(
        [
            "# Fault codes",
            "",
            "<!-- Generated from leadsync.mktows.codes by `python -m leadsync.docs_errors`;"
            " a test fails when this file is out of date. -->",
            "",
            "Every fault leadsync answers carries one of Marketo's codes below, in Marketo's",
            "shape (HTTP 500, the code in `detail/serviceException/code`). Clients key on the",
            "code, never on the message. These are also the codes a fault-injection rule may",
            "name (`code=...`, docs/testing.md); when and why each is answered is in",
            "docs/compatibility.md and docs/limits.md.",
            "",
            *table(("Code", "faultstring", "faultcode", "What a client does"), rows),
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    return generate("leadsync.docs_errors", DEFAULT_PATH, lambda _current: render(), argv)


if __name__ == "__main__":
    sys.exit(main())
