"""Bulk lead import: the request, the job, its status, failures and warnings."""

from __future__ import annotations

from conftest import Bulk

from leadsync.model import FieldDef, FieldType
from leadsync.operations.fields import FieldCatalogue
from leadsync.store.base import LeadQuery


def leads_by_email(bulk: Bulk) -> dict[str, int]:
    with bulk.rest.store.read() as reader:
        leads = reader.leads_page(LeadQuery(), 1000)
    return {lead.email or "": lead.id for lead in leads}


def test_an_import_creates_and_updates_leads(bulk: Bulk) -> None:
    batch = bulk.import_ok(b"email,firstName,lastName\na@x.com,Ann,Lee\nb@x.com,Bob,Ray\n")
    status = bulk.status(batch)
    assert status["status"] == "Queued"
    assert bulk.run() == 1
    status = bulk.status(batch)
    assert status == {
        "batchId": batch,
        "importId": str(batch),
        "status": "Complete",
        "numOfLeadsProcessed": 2,
        "numOfRowsFailed": 0,
        "numOfRowsWithWarning": 0,
        "message": "Import succeeded, 2 records imported (2 members)",
    }
    assert set(leads_by_email(bulk)) == {"a@x.com", "b@x.com"}
    again = bulk.import_ok(b"email,lastName\na@x.com,Lim\n")
    bulk.run()
    assert bulk.status(again)["numOfLeadsProcessed"] == 1
    lead_id = leads_by_email(bulk)["a@x.com"]
    with bulk.rest.store.read() as reader:
        lead = reader.leads_by_ids([lead_id])
    assert [one.values.get("LastName") for one in lead.values()] == ["Lim"]
    assert bulk.failures(again) == b"email,lastName,Import Failure Reason\n"


def test_bad_rows_land_in_the_failures_file_byte_for_byte(bulk: Bulk) -> None:
    bulk.rest.store.add_custom_field(
        FieldDef("Score2", FieldType.INTEGER, custom=True, rest_name="score2")
    )
    rows = [
        b"email,firstName,score2,shoeSize",
        b"ok@x.com,Ok,1,",
        b"not-an-email,Bad,2,",
        b"typed@x.com,Typed,twelve,",
        b",NoKey,3,",
        b'quoted@x.com,"Line one\r\nline two, ""quoted""",4,',
        "jos\u00e9@x.com,Jos\u00e9 \u00c5se \u4e2d,5,".encode(),
        b"extra@x.com,Extra,6,44",
        b"short@x.com,Short",
    ]
    batch = bulk.import_ok(b"\r\n".join(rows) + b"\r\n")
    bulk.run()
    status = bulk.status(batch)
    failures = bulk.failures(batch).split(b"\n")
    assert failures[0] == b"email,firstName,score2,shoeSize,Import Failure Reason"
    failed_rows = {line.rsplit(b",", 1)[0] for line in failures[1:] if line}
    imported = leads_by_email(bulk)
    for row in rows[1:]:
        email = row.split(b",", 1)[0].decode()
        in_db = email in imported
        assert in_db != (row in failed_rows), row
    assert status["numOfRowsFailed"] == len(failed_rows)
    assert status["numOfLeadsProcessed"] == len(imported)
    assert "quoted@x.com" in imported
    assert "jos\u00e9@x.com" in imported
    assert rows[3] in failed_rows  # twelve in an integer field
    assert rows[4] in failed_rows  # no email: the lookup field's value is missing
    assert rows[8] in failed_rows  # too few fields
    assert status["numOfRowsWithWarning"] == 1
    warnings = bulk.warnings(batch)
    assert warnings.split(b"\n")[1].startswith(rows[7] + b",")
    catalogue = FieldCatalogue(bulk.rest.store.custom_fields())
    assert catalogue.by_rest_name("score2") is not None
