"""A bulk import's row is read as the REST record of its non-empty cells would be, and a row
known clean (printable, at most 255 characters) reads the same with its per-cell checks
skipped."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from leadsync.model import LeadInput
from leadsync.operations import rest_sync
from leadsync.operations.bulk_import import _RowReader
from leadsync.operations.fields import FieldCatalogue

CATALOGUE = FieldCatalogue()
#: Plain text fields, other typed fields, the lookup key, a read-only field and one unknown.
NAMES = ["email", "firstName", "lastName", "phone", "leadScore", "address", "createdAt", "nope"]
CELLS = st.one_of(
    st.sampled_from(["", " ", "a@b.example", "42", "x" * 300, "é\u2028", "1.5", "\x01"]),
    st.text(max_size=20),
)


def reader(action: str | None = None, lookup: str | None = None) -> rest_sync.RecordReader:
    return rest_sync.RecordReader(CATALOGUE, rest_sync.plan(CATALOGUE, action, lookup, None))


@settings(max_examples=300)
@given(st.lists(CELLS, min_size=len(NAMES), max_size=len(NAMES)))
def test_a_row_reads_as_the_record_of_its_non_empty_cells(cells: list[str]) -> None:
    records = reader()
    known = [rest_sync.known_field(CATALOGUE, name) for name in NAMES]
    rows = _RowReader(records, NAMES, known, "\t")
    if any(c in cell for cell in cells for c in '\t"\r\n'):
        return  # such a cell would have needed quotes
    row = rows.row("\t".join(cells).encode())
    expected = records.record(
        {name: cell for name, cell, ok in zip(NAMES, cells, known, strict=True) if ok and cell}
    )
    assert row.record == expected


@settings(max_examples=300)
@given(st.lists(st.text(max_size=60), min_size=5, max_size=5), st.sampled_from([None, "id"]))
def test_clean_values_read_the_same_without_their_checks(
    values: list[str], lookup: str | None
) -> None:
    records = reader("updateOnly" if lookup else None, lookup)
    columns = records.columns(("firstName", "email", "city", "leadScore", "title"))
    text = ",".join(values)
    if not (len(text) <= 255 and text.isprintable()):
        return
    checked: LeadInput = records.read(columns, values, skip_empty=True)
    assert records.read(columns, values, skip_empty=True, clean=True) == checked
