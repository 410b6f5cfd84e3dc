"""describeMObject and listMObjects."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from inprocess import serving_app
from leadapi import body_of, is_nil
from support import Server, cli, fault

FIELD_CHILDREN = [
    "name",
    "description",
    "displayName",
    "sourceObject",
    "dataType",
    "size",
    "isReadonly",
    "isUpdateBlocked",
    "isName",
    "isPrimaryKey",
    "isCustom",
    "isDynamic",
    "dynamicFieldRef",
    "updatedAt",
]


def metadata(server: Server, name: str) -> etree._Element:
    found = body_of(
        server.call("describeMObject", f"<objectName>{name}</objectName>"), "describeMObject"
    ).find("result/metadata")
    assert found is not None
    assert [c.tag for c in found] == [
        "name",
        "description",
        "isCustom",
        "isVirtual",
        "fieldList",
        "updatedAt",
    ]
    for field in found.iterfind("fieldList/field"):
        assert [c.tag for c in field] == FIELD_CHILDREN
    return found


def fields(meta: etree._Element) -> dict[str, etree._Element]:
    return {f.findtext("name") or "": f for f in meta.iterfind("fieldList/field")}


def test_lead_record_lists_every_field_with_its_type(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'd.db'}"
    assert cli("db", "upgrade", "--database", db).returncode == 0
    assert (
        cli("fields", "add", "Shoe_Size__c", "--type", "integer", "--database", db).returncode == 0
    )
    with serving_app(tmp_path, database_url=db) as server:
        meta = metadata(server, "LeadRecord")
    assert (meta.findtext("name"), meta.findtext("isVirtual")) == ("LeadRecord", "true")
    found = fields(meta)
    assert {"Id", "Email", "FirstName", "LeadScore", "Website", "Shoe_Size__c"} <= set(found)
    assert len(found) == 3 + 43 + 1
    score = found["LeadScore"]
    assert (score.findtext("dataType"), score.findtext("displayName")) == ("integer", "Lead Score")
    assert (score.findtext("isDynamic"), score.findtext("dynamicFieldRef")) == (
        "true",
        "leadAttributeList",
    )
    assert (score.findtext("sourceObject"), score.findtext("isCustom")) == ("Lead", "false")
    assert found["Shoe_Size__c"].findtext("isCustom") == "true"
    assert found["Website"].findtext("dataType") == "url"
    assert found["Id"].findtext("isPrimaryKey") == "true"
    assert is_nil(found["Id"].find("dynamicFieldRef"))


def test_activity_record(server: Server) -> None:
    found = fields(metadata(server, "ActivityRecord"))
    assert list(found) == [
        "id",
        "activityDateTime",
        "activityType",
        "mktgAssetName",
        "activityAttributes",
        "campaign",
        "personName",
        "mktPersonId",
        "foreignSysId",
        "orgName",
        "foreignSysOrgId",
    ]
    assert found["activityDateTime"].findtext("dataType") == "dateTime"


@pytest.mark.parametrize(("name", "code"), [("Opportunity", 20019), ("Pants", 20110), ("", 20110)])
def test_other_objects(server: Server, name: str, code: int) -> None:
    got = fault(server.call("describeMObject", f"<objectName>{name}</objectName>"))
    assert got.code == code
    if code == 20110:
        assert got.message == "Object name is not valid (20110)"


def test_list_mobjects(server: Server) -> None:
    result = body_of(server.call("listMObjects", ""), "listMObjects").find("result")
    assert result is not None
    assert [o.text for o in result.iter("objects")] == ["ActivityRecord", "LeadRecord"]
