"""Helpers for the lead API's raw-envelope tests: request fragments and response readers."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from xml.sax.saxutils import escape

import httpx
from lxml import etree

from support import MKTOWS, SOAP_ENV, Server, Status, lead_record, statuses, sync_params

XSI = "http://www.w3.org/2001/XMLSchema-instance"
XSI_NIL = f"{{{XSI}}}nil"
_n = itertools.count()


def unique(prefix: str = "lead") -> str:
    return f"{prefix}-{next(_n)}-{id(_n)}@example.com"


def w3c(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def now() -> datetime:
    return datetime.now(UTC)


# -- requests -----------------------------------------------------------------------------
def key_xml(key_type: str, value: str | int, tag: str = "leadKey") -> str:
    return f"<{tag}><keyType>{key_type}</keyType><keyValue>{escape(str(value))}</keyValue></{tag}>"


def strings(tag: str, values: Iterable[str | int], item: str = "stringItem") -> str:
    inner = "".join(f"<{item}>{escape(str(v))}</{item}>" for v in values)
    return f"<{tag}>{inner}</{tag}>"


def selector(kind: str | None, inner: str, prefix: str = "ns1") -> str:
    if kind is None:
        return f"<leadSelector>{inner}</leadSelector>"
    return f'<leadSelector xmlns:xsi="{XSI}" xsi:type="{prefix}:{kind}">{inner}</leadSelector>'


def key_selector(key_type: str, values: Iterable[str | int]) -> str:
    return selector(
        "LeadKeySelector", f"<keyType>{key_type}</keyType>{strings('keyValues', values)}"
    )


def updated_selector(oldest: datetime | str, latest: datetime | str | None = None) -> str:
    def text(value: datetime | str) -> str:
        return value if isinstance(value, str) else w3c(value)

    inner = f"<oldestUpdatedAt>{text(oldest)}</oldestUpdatedAt>"
    if latest is not None:
        inner = f"<latestUpdatedAt>{text(latest)}</latestUpdatedAt>" + inner
    return selector("LastUpdateAtSelector", inner)


def list_selector(name: str | None = None, list_id: int | None = None) -> str:
    inner = ""
    if name is not None:
        inner += f"<staticListName>{escape(name)}</staticListName>"
    if list_id is not None:
        inner += f"<staticListId>{list_id}</staticListId>"
    return selector("StaticListSelector", inner)


# -- responses ----------------------------------------------------------------------------
def body_of(response: httpx.Response, operation: str) -> etree._Element:
    """The ``successXxx`` element of a 200 response."""
    assert response.status_code == 200, response.text
    root = etree.fromstring(response.content)
    wrapper = "success" + operation[0].upper() + operation[1:]
    found = root.find(f"{{{SOAP_ENV}}}Body/{{{MKTOWS}}}{wrapper}")
    assert found is not None, response.text
    return found


def is_nil(el: etree._Element | None) -> bool:
    return el is not None and el.get(XSI_NIL) == "true"


@dataclass
class Record:
    id: int
    email: str | None
    fsp: str | None
    fsp_type: str | None
    #: attrName -> (attrType, attrValue), in document order.
    attrs: dict[str, tuple[str, str]] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)

    def value(self, name: str) -> str | None:
        found = self.attrs.get(name)
        return None if found is None else found[1]


def records(parent: etree._Element | None) -> list[Record]:
    if parent is None:
        return []
    found = []
    for el in parent.iter("leadRecord"):
        assert [c.tag for c in el] == [
            "Id",
            "Email",
            "ForeignSysPersonId",
            "ForeignSysType",
            "leadAttributeList",
        ], etree.tostring(el)
        rec = Record(
            int(el.findtext("Id") or "0"),
            None if is_nil(el.find("Email")) else el.findtext("Email"),
            None if is_nil(el.find("ForeignSysPersonId")) else el.findtext("ForeignSysPersonId"),
            None if is_nil(el.find("ForeignSysType")) else el.findtext("ForeignSysType"),
        )
        for attr in el.iterfind("leadAttributeList/attribute"):
            assert [c.tag for c in attr] == ["attrName", "attrType", "attrValue"]
            name = attr.findtext("attrName") or ""
            rec.attrs[name] = (attr.findtext("attrType") or "", attr.findtext("attrValue") or "")
            rec.order.append(name)
        found.append(rec)
    return found


@dataclass
class Page:
    records: list[Record]
    return_count: int
    remaining: int
    position: str

    @property
    def ids(self) -> list[int]:
        return [r.id for r in self.records]


def get_multiple(
    server: Server,
    lead_selector: str | None,
    *,
    position: str | None = None,
    batch: int | None = None,
    include: Sequence[str] | None = None,
    extra: str = "",
) -> httpx.Response:
    params = lead_selector or ""
    params += extra
    if position is not None:
        params += f"<streamPosition>{escape(position)}</streamPosition>"
    if batch is not None:
        params += f"<batchSize>{batch}</batchSize>"
    if include is not None:
        params += strings("includeAttributes", include)
    return server.call("getMultipleLeads", params)


def page_of(response: httpx.Response) -> Page:
    result = body_of(response, "getMultipleLeads").find("result")
    assert result is not None
    assert [c.tag for c in result] == [
        "returnCount",
        "remainingCount",
        "newStreamPosition",
        "leadRecordList",
    ]
    found = records(result.find("leadRecordList"))
    page = Page(
        found,
        int(result.findtext("returnCount") or "-1"),
        int(result.findtext("remainingCount") or "-1"),
        result.findtext("newStreamPosition") or "",
    )
    assert page.return_count == len(found)
    return page


def read_all(server: Server, lead_selector: str, batch: int) -> list[Page]:
    pages = [page_of(get_multiple(server, lead_selector, batch=batch))]
    while pages[-1].remaining > 0:
        assert pages[-1].position
        pages.append(
            page_of(get_multiple(server, lead_selector, position=pages[-1].position, batch=batch))
        )
        assert len(pages) < 1000
    assert pages[-1].position == ""
    return pages


def get_lead(server: Server, key_type: str, value: str | int) -> list[Record]:
    result = body_of(server.call("getLead", key_xml(key_type, value)), "getLead").find("result")
    assert result is not None
    found = records(result.find("leadRecordList"))
    assert int(result.findtext("count") or "-1") == len(found)
    return found


def sync(server: Server, *lead_records: str, dedup: str | None = "true") -> list[Status]:
    return statuses(server.call("syncMultipleLeads", sync_params(lead_records, dedup)))


def create(server: Server, count: int = 1, attrs: dict[str, str] | None = None) -> list[int]:
    made = sync(server, *(lead_record(unique(), attrs or {}) for _ in range(count)))
    assert all(s.status == "CREATED" for s in made)
    return [s.lead_id for s in made]


def list_operation(
    server: Server,
    operation: str,
    list_name: str,
    ids: Iterable[str | int],
    *,
    strict: str | None = None,
    key_type: str = "IDNUM",
    list_key_type: str = "MKTOLISTNAME",
    extra: str = "",
) -> httpx.Response:
    members = "".join(key_xml(key_type, i) for i in ids)
    params = (
        f"<listOperation>{operation}</listOperation>"
        f"<listKey><keyType>{list_key_type}</keyType><keyValue>{escape(list_name)}</keyValue>"
        f"</listKey><listMemberList>{members}</listMemberList>"
    )
    if strict is not None:
        params += f"<strict>{strict}</strict>"
    return server.call("listOperation", params + extra)


@dataclass
class ListResult:
    success: bool
    #: None when the response's statusList is nil.
    statuses: list[tuple[str, bool]] | None


def list_result(response: httpx.Response) -> ListResult:
    result = body_of(response, "listOperation").find("result")
    assert result is not None
    status_list = result.find("statusList")
    assert status_list is not None
    if is_nil(status_list):
        found = None
    else:
        found = [
            (el.findtext("leadKey/keyValue") or "", el.findtext("status") == "true")
            for el in status_list.iter("leadStatus")
        ]
    return ListResult(result.findtext("success") == "true", found)


@dataclass
class ActivityRow:
    id: int
    when: str
    type: str
    asset: str | None
    attrs: dict[str, str]
    lead_id: int


def activities(parent: etree._Element | None, tag: str) -> list[ActivityRow]:
    if parent is None:
        return []
    found = []
    for el in parent.iter(tag):
        asset = el.find("mktgAssetName")
        found.append(
            ActivityRow(
                int(el.findtext("id") or "0"),
                el.findtext("activityDateTime") or "",
                el.findtext("activityType") or "",
                None if asset is None or is_nil(asset) else (asset.text or ""),
                {
                    a.findtext("attrName") or "": a.findtext("attrValue") or ""
                    for a in el.iterfind("activityAttributes/attribute")
                },
                int(el.findtext("mktPersonId") or "0"),
            )
        )
    return found
