"""The typing rule for text values (operations/text.py): blank is None, anything else is kept
exactly; the compiled build and the source agree on every code point."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import leadsync.operations.text as text_module
from leadsync.operations.text import plain_text


def _source_module() -> object:
    """text.py run as Python, whether or not the installed module is its compiled build."""
    path = Path(text_module.__file__).with_name("text.py")
    spec = importlib.util.spec_from_file_location("leadsync_text_source", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_rule() -> None:
    assert plain_text("") is None
    assert plain_text(" \t\r\n\u2003\u3000") is None
    assert plain_text(" a ") == " a "
    assert plain_text("\u00a0x") == "\u00a0x"


def test_compiled_and_source_agree_on_every_code_point() -> None:
    source = _source_module().plain_text  # type: ignore[attr-defined]
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        for value in (char, char * 2, " " + char, char + " "):
            expected = value if value and not value.isspace() else None
            assert plain_text(value) == expected, hex(code)
            assert source(value) == expected, hex(code)
