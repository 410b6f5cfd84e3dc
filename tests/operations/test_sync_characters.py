"""A value XML 1.0 cannot carry fails its record on every way in, so no read ever has to
refuse a stored value (docs/compatibility.md, "Characters"). SOAP requests cannot hold one;
this is the sync as any other wire (REST) calls it, on each backend."""

from __future__ import annotations

import pytest

from backends import (  # noqa: F401
    database_url,
    postgres_database_url,
    postgres_url,
    store,
)
from leadsync.model import LeadInput, SyncOutcome
from leadsync.operations.fields import FieldCatalogue
from leadsync.operations.sync import SyncOptions, sync_leads
from leadsync.store.base import Store


@pytest.mark.parametrize(
    ("record", "named"),
    [
        (LeadInput(email="a@chars.example", attributes=[("Company", "a\x01b")]), "Company"),
        (LeadInput(email="b@chars.example", attributes=[("Address", "\ufffe")]), "Address"),
        (LeadInput(email="c\x0b@chars.example"), "Email"),
        (LeadInput(email="d@chars.example", attributes=[("Email", "e\x00@x.example")]), "Email"),
        (
            LeadInput(foreign_sys_person_id="F\x1f1", foreign_sys_type="CUSTOM"),
            "ForeignSysPersonId",
        ),
        (LeadInput(email="f@chars.example", attributes=[("company", "\ud800")]), "Company"),
    ],
)
def test_a_value_xml_cannot_carry_fails_its_record_alone(
    store: Store,  # noqa: F811
    record: LeadInput,
    named: str,
) -> None:
    good = LeadInput(email="good@chars.example", attributes=[("Company", "tab\there\r\n")])
    result = sync_leads(store, FieldCatalogue(), [record, good], SyncOptions())
    failed, created = result.statuses
    assert failed.status is SyncOutcome.FAILED
    assert failed.error is not None
    assert named in failed.error
    assert "which XML 1.0 cannot carry" in failed.error
    assert created.status is SyncOutcome.CREATED
    with store.read() as reader:
        assert reader.count_leads() == 1
