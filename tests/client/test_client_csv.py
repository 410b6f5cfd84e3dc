"""Reading CSV rows: line numbers, original text, bad lines, columns to leads."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import pytest

from leadsync.client.csvsource import Columns, CsvSource, SourceError, parse_map
from leadsync.client.journal import Checkpoint, Journal, JournalError
from leadsync.client.models import FieldInfo, Lead, SyncResult, SyncStatus
from leadsync.client.validate import FieldValidator


def write(tmp_path: Path, text: str | bytes, name: str = "in.csv") -> str:
    path = tmp_path / name
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8", newline="")
    else:
        path.write_bytes(text)
    return str(path)


def test_rows_carry_line_numbers_and_their_original_text(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        'Email,Notes\r\na@x.com,"two\r\nlines"\r\n\r\nb@x.com,plain\r\nc@x.com,"bad"quote\r\n'
        "d@x.com\r\ne@x.com,last",
    )
    with CsvSource(path) as source:
        assert source.header == ["Email", "Notes"]
        assert source.header_raw == b"Email,Notes\r\n"
        rows = list(source)
    assert [(r.ordinal, r.line) for r in rows] == [(0, 2), (1, 5), (2, 6), (3, 7), (4, 8)]
    assert rows[0].values == ["a@x.com", "two\r\nlines"]
    assert rows[0].raw == b'a@x.com,"two\r\nlines"\r\n'
    assert rows[2].values is None
    assert rows[2].error is not None
    assert rows[2].error.startswith("malformed CSV")
    assert rows[3].error == "expected 2 fields, found 1"
    assert rows[3].raw == b"d@x.com\r\n"
    assert rows[4].values == ["e@x.com", "last"]
    assert rows[4].raw == b"e@x.com,last"


def test_bytes_that_do_not_decode_fail_their_row_only(tmp_path: Path) -> None:
    path = write(tmp_path, b"Email,Name\na@x.com,Jos\xe9\nb@x.com,Ann\n")
    with CsvSource(path) as source:
        rows = list(source)
    assert rows[0].values is None
    assert rows[0].error is not None
    assert "utf-8" in rows[0].error
    assert rows[0].raw == b"a@x.com,Jos\xe9\n"
    assert rows[1].values == ["b@x.com", "Ann"]
    with CsvSource(path, encoding="latin-1") as source:
        latin = list(source)
    assert latin[0].values == ["a@x.com", "José"]


def test_gzip_stdin_bom_and_delimiter(tmp_path: Path) -> None:
    text = "\ufeffEmail;Name\na@x.com;A\n"
    gz = tmp_path / "in.csv.gz"
    gz.write_bytes(gzip.compress(text.encode("utf-8")))
    with CsvSource(str(gz), delimiter=";") as source:
        assert source.header == ["Email", "Name"]
        assert [r.values for r in source] == [["a@x.com", "A"]]
        assert source.position() > 0
    piped = CsvSource("-", delimiter=";", stdin=io.BytesIO(text.encode("utf-8")))
    assert [r.values for r in piped] == [["a@x.com", "A"]]
    assert piped.total_bytes is None


def test_unusable_inputs(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="cannot open"):
        CsvSource(str(tmp_path / "missing.csv"))
    with pytest.raises(SourceError, match="empty"):
        CsvSource(write(tmp_path, ""))
    with pytest.raises(SourceError, match="ASCII-compatible"):
        CsvSource(write(tmp_path, "Email\n"), encoding="utf-16")
    with pytest.raises(SourceError, match="unknown encoding"):
        CsvSource(write(tmp_path, "Email\n"), encoding="nope")


def test_columns_map_keys_and_attributes() -> None:
    columns = Columns.from_header(
        ["e-mail", "id", "First Name", "Notes", "ForeignSysPersonId", "ForeignSysType"],
        parse_map(["e-mail=Email", "First Name=FirstName", "Notes="]),
    )
    assert (columns.email, columns.id, columns.fsp_id, columns.fsp_type) == (0, 1, 4, 5)
    assert columns.attributes == [(2, "FirstName")]
    values = ["a@x.com", "12", "Ann", "ignored", "", ""]
    assert columns.key_of(values) == "Id=12"
    assert columns.to_lead(values) == Lead(
        id=12, email="a@x.com", attributes={"FirstName": "Ann", "Email": "a@x.com"}
    )
    with pytest.raises(ValueError, match="Id is not an integer"):
        columns.to_lead(["a@x.com", "x", "", "", "", ""])
    with pytest.raises(ValueError, match="no key"):
        columns.to_lead(["", "", "Ann", "", "", ""])


def test_empty_cells_are_left_out_unless_asked() -> None:
    columns = Columns.from_header(["Email", "City"], {})
    assert columns.to_lead(["a@x.com", ""]).attributes == {}
    assert columns.to_lead(["a@x.com", ""], send_blanks=True).attributes == {"City": ""}


@pytest.mark.parametrize(
    ("header", "mapping", "message"),
    [
        (["Name"], {}, "no key column"),
        (["Email", "email"], {}, "columns 1 and 2 both give email"),
        (["Email", ""], {}, "column 2 has no name"),
        (["Email"], {"Mail": "Email"}, "no column 'Mail'"),
    ],
)
def test_bad_headers(header: list[str], mapping: dict[str, str], message: str) -> None:
    with pytest.raises(SourceError, match=message):
        Columns.from_header(header, mapping)


def test_map_syntax() -> None:
    with pytest.raises(SourceError, match="COLUMN=FIELD"):
        parse_map(["Email"])


def test_validator_checks_names_and_values() -> None:
    validator = FieldValidator(
        [
            FieldInfo("Email", "email"),
            FieldInfo("LeadScore", "integer"),
            FieldInfo("AnnualRevenue", "currency"),
            FieldInfo("DoNotCall", "boolean"),
            FieldInfo("DateofBirth", "date"),
            FieldInfo("Seen", "datetime"),
            FieldInfo("FirstName", "string"),
            FieldInfo("Locked", "string", is_readonly=True),
        ]
    )
    assert validator.unknown(["FirstName", "Nope"]) == ["Nope"]

    def check(**attrs: str) -> str | None:
        return validator.check(Lead(email="a@x.com", attributes=dict(attrs)))

    assert (
        check(LeadScore="12", AnnualRevenue="1.5", DoNotCall="yes", DateofBirth="2001-02-03")
        is None
    )
    assert check(Seen="2024-01-02 03:04:05 +0100", FirstName="x" * 255) is None
    assert check(LeadScore="") is None
    assert check(LeadScore="1.5") == "value for LeadScore is not an integer: '1.5'"
    assert check(DoNotCall="maybe") == "value for DoNotCall is not a boolean: 'maybe'"
    assert check(DateofBirth="03/02/2001") is not None
    assert check(FirstName="x" * 256) == "value for FirstName is longer than 255 characters"
    assert check(Nope="1") == "unknown field Nope"
    assert check(Locked="1") == "Locked is read-only"
    assert validator.check(Lead(email="not-an-email")) is not None


def test_journal_keeps_what_resume_needs(tmp_path: Path) -> None:
    path = str(tmp_path / "r.csv.journal")
    journal = Journal.create(path, {"header": "Email"})
    ok = SyncResult(SyncStatus.CREATED, 5, None, 1)
    journal.batch([(0, ok), (1, ok)])
    journal.checkpoint(Checkpoint(2, 100, 10, {"rows": 2, "created": 2}))
    journal.batch([(4, SyncResult(SyncStatus.FAILED, None, "boom", 3))])
    journal.batch([(2, ok)])
    journal.close()
    with open(path, "a", encoding="utf-8") as torn:
        torn.write('{"t":"b","k":[3')
    with pytest.raises(JournalError, match="unfinished push"):
        Journal.create(path, {})
    resumed, state = Journal.resume(path)
    assert state.checkpoint == Checkpoint(2, 100, 10, {"rows": 2, "created": 2})
    assert state.known == {2: ok, 4: SyncResult(SyncStatus.FAILED, None, "boom", 3)}
    resumed.batch([(3, ok)])
    resumed.close()
    last, again = Journal.resume(path)
    last.close()
    assert sorted(again.known) == [2, 3, 4]
    with pytest.raises(JournalError, match="nothing to resume"):
        Journal.resume(str(tmp_path / "none.journal"))


@pytest.mark.parametrize("with_fields", [False, True])
@pytest.mark.parametrize("send_blanks", [False, True])
def test_fast_row_path_matches_the_general_one(with_fields: bool, send_blanks: bool) -> None:
    import random

    from leadsync.client.batching import Batcher
    from leadsync.client.push import RowPreparer

    rng = random.Random(5)
    header = ["Id", "Email", "ForeignSysPersonId", "ForeignSysType", "City", "LeadScore", "Hobby"]
    columns = Columns.from_header(header, {})
    fields = [
        FieldInfo("Email", "email"),
        FieldInfo("City", "string"),
        FieldInfo("LeadScore", "integer"),
    ]
    validator = FieldValidator(fields) if with_fields else None
    prep = RowPreparer(columns, Batcher(), validator=validator, send_blanks=send_blanks)
    pools = [
        ["", "12", " 7 ", "x1"],
        ["", "a@x.com", " b@x.com ", "nope"],
        ["", "F-1", " F2 "],
        ["", "CUSTOM", "SFDC"],
        ["", "Lyon", " Saint Étienne ", "a" * 300],
        ["", "5", "five"],
        ["", "chess"],
    ]
    for _ in range(3000):
        values = [rng.choice(pool) for pool in pools]

        def outcome(fn: object, values: list[str] = values) -> str:
            try:
                return fn(values)  # type: ignore[operator,no-any-return]
            except ValueError as exc:
                return f"error: {exc}"

        fast = outcome(lambda v: prep._plain(v).encode())
        general = outcome(prep._general)
        assert fast == general, values
