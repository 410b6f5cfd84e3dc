"""getMultipleLeads: every selector, batch sizes and every paging edge."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from backends import BACKENDS
from inprocess import app_on, running_clock, serving_app
from leadapi import (
    MKTOWS,
    XSI,
    create,
    get_multiple,
    key_selector,
    list_operation,
    list_result,
    list_selector,
    page_of,
    read_all,
    selector,
    sync,
    unique,
    updated_selector,
)
from support import Server, cli, fault, lead_record


@pytest.fixture(scope="module", params=BACKENDS)
def srv(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A server of its own per backend: update-time windows here must see only this module's
    leads."""
    tmp = tmp_path_factory.mktemp("reads")
    with app_on(request, request.param, tmp, clock=running_clock()) as server:
        yield server


@pytest.fixture(scope="module")
def small_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serving_app(
        tmp_path_factory.mktemp("reads-small"),
        clock=running_clock(),
        leads_batch_max=5,
        max_time_range_days=0,
    ) as server:
        yield server


def fresh_window(srv: Server) -> str:
    """A LastUpdateAtSelector that starts now, so it holds only leads written after it."""
    start = srv.clock.now() - timedelta(milliseconds=1)
    srv.clock.advance(seconds=0.002)
    return updated_selector(start)


def add_list(srv: Server, name: str) -> int:
    done = cli("lists", "add", name, "--database", srv.database_url)
    assert done.returncode == 0, done.stderr
    return int(done.stdout.rsplit("id ", 1)[1].rstrip(")\n"))


# -- LastUpdateAtSelector ----------------------------------------------------------------
def test_pages_through_every_lead_once_in_id_order(srv: Server) -> None:
    window = fresh_window(srv)
    ids = create(srv, 25, {"Company": "Acme"})
    pages = read_all(srv, window, batch=10)
    assert [len(p.records) for p in pages] == [10, 10, 5]
    assert [p.remaining for p in pages] == [15, 5, 0]
    assert all(p.position for p in pages[:-1])
    assert [i for p in pages for i in p.ids] == sorted(ids)
    assert pages[0].records[0].attrs == {"Company": ("string", "Acme")}


def test_exactly_one_page(srv: Server) -> None:
    window = fresh_window(srv)
    ids = create(srv, 5)
    for batch in (5, 6):
        [page] = read_all(srv, window, batch=batch)
        assert (page.ids, page.remaining, page.position) == (ids, 0, "")


def test_empty_result(srv: Server) -> None:
    page = page_of(get_multiple(srv, updated_selector(srv.clock.now() + timedelta(days=1))))
    assert (page.records, page.return_count, page.remaining, page.position) == ([], 0, 0, "")


def test_updates_between_pages_neither_skip_nor_repeat(srv: Server) -> None:
    window = fresh_window(srv)
    emails = [unique() for _ in range(30)]
    ids = [s.lead_id for s in sync(srv, *(lead_record(e) for e in emails))]
    first = page_of(get_multiple(srv, window, batch=10))
    assert first.ids == ids[:10]
    # Between pages: a lead already returned and one not yet returned are updated, a new
    # lead is created.
    sync(srv, lead_record(emails[0], {"City": "Again"}), lead_record(emails[25], {"City": "Late"}))
    [extra] = create(srv, 1)
    rest = [first]
    while rest[-1].remaining:
        rest.append(page_of(get_multiple(srv, window, position=rest[-1].position, batch=10)))
    seen = [i for p in rest for i in p.ids]
    assert seen == [*ids, extra]
    late = next(r for p in rest for r in p.records if r.id == ids[25])
    assert late.value("City") == "Late"


def test_latest_updated_at_bounds_the_window(srv: Server) -> None:
    start = srv.clock.now()
    srv.clock.advance(seconds=0.002)
    inside = create(srv, 3)
    srv.clock.advance(seconds=0.002)
    end = srv.clock.now()
    srv.clock.advance(seconds=0.002)
    create(srv, 2)
    [page] = read_all(srv, updated_selector(start, end), batch=100)
    assert page.ids == inside


def test_more_than_30_days_is_20022(srv: Server) -> None:
    start = srv.clock.now() - timedelta(days=40)
    got = fault(get_multiple(srv, updated_selector(start, start + timedelta(days=30, seconds=1))))
    assert got.code == 20022
    page_of(get_multiple(srv, updated_selector(start, start + timedelta(days=30))))
    # Without an end there is no range to measure.
    page_of(get_multiple(srv, updated_selector(start)))


def test_the_range_limit_is_a_setting(small_server: Server) -> None:
    start = small_server.clock.now() - timedelta(days=400)
    page_of(get_multiple(small_server, updated_selector(start, small_server.clock.now())))


def test_deprecated_last_updated_at_parameter(srv: Server) -> None:
    start = srv.clock.now()
    srv.clock.advance(seconds=0.002)
    ids = create(srv, 2)
    params = f"<lastUpdatedAt>{start.isoformat()}</lastUpdatedAt>"
    assert page_of(get_multiple(srv, None, extra=params)).ids == ids


# -- LeadKeySelector ---------------------------------------------------------------------
def test_ids_come_in_key_order_and_unknown_keys_are_skipped(srv: Server) -> None:
    a, b, c = create(srv, 3)
    page = page_of(get_multiple(srv, key_selector("IDNUM", [c, 999_999_999, a, b, a])))
    assert (page.ids, page.remaining, page.position) == ([c, a, b], 0, "")


def test_emails_return_every_duplicate_newest_first(srv: Server) -> None:
    email, other = unique("Dup"), unique()
    [old] = sync(srv, lead_record(email), dedup="false")
    [new] = sync(srv, lead_record(email), dedup="false")
    [third] = sync(srv, lead_record(other))
    page = page_of(get_multiple(srv, key_selector("EMAIL", [other, email.upper()])))
    assert page.ids == [third.lead_id, new.lead_id, old.lead_id]


def test_key_selector_pages(srv: Server) -> None:
    ids = create(srv, 5)
    lead_selector = key_selector("IDNUM", ids)
    pages = read_all(srv, lead_selector, batch=2)
    assert [p.ids for p in pages] == [ids[:2], ids[2:4], ids[4:]]
    assert [p.remaining for p in pages] == [3, 1, 0]
    # The position belongs to these keys: without them, or with others, it is refused.
    assert fault(get_multiple(srv, None, position=pages[0].position)).code == 20122
    other = key_selector("IDNUM", ids[:4])
    assert fault(get_multiple(srv, other, position=pages[0].position)).code == 20122


def test_keys_beyond_100_are_ignored(srv: Server) -> None:
    [lead_id] = create(srv, 1)
    keys = [str(999_000_000 + n) for n in range(100)] + [str(lead_id)]
    assert page_of(get_multiple(srv, key_selector("IDNUM", keys))).ids == []
    assert page_of(get_multiple(srv, key_selector("IDNUM", keys[1:]))).ids == [lead_id]


def test_bad_key_type_is_20102(srv: Server) -> None:
    assert fault(get_multiple(srv, key_selector("PHONE", ["1"]))).code == 20102


# -- StaticListSelector ------------------------------------------------------------------
def test_static_list_by_name_or_id(srv: Server) -> None:
    list_id = add_list(srv, "Reads.Members")
    ids = create(srv, 7)
    members = ids[1:]
    assert list_result(list_operation(srv, "ADDTOLIST", "Reads.Members", members)).success
    by_name = read_all(srv, list_selector("reads.members"), batch=4)
    assert [p.ids for p in by_name] == [members[:4], members[4:]]
    assert [p.remaining for p in by_name] == [2, 0]
    by_id = read_all(srv, list_selector(list_id=list_id), batch=10)
    assert by_id[0].ids == members
    both = read_all(srv, list_selector("Reads.Members", list_id), batch=10)
    assert both[0].ids == members


def test_removal_between_pages_is_not_a_repeat(srv: Server) -> None:
    add_list(srv, "Reads.Moving")
    ids = create(srv, 6)
    list_operation(srv, "ADDTOLIST", "Reads.Moving", ids)
    first = page_of(get_multiple(srv, list_selector("Reads.Moving"), batch=3))
    list_operation(srv, "REMOVEFROMLIST", "Reads.Moving", [ids[1], ids[4]])
    second = page_of(get_multiple(srv, None, position=first.position, batch=3))
    assert (first.ids, second.ids, second.remaining) == (ids[:3], [ids[3], ids[5]], 0)


def test_an_empty_list(srv: Server) -> None:
    add_list(srv, "Reads.Empty")
    page = page_of(get_multiple(srv, list_selector("Reads.Empty")))
    assert (page.ids, page.remaining, page.position) == ([], 0, "")


@pytest.mark.parametrize(
    "lead_selector",
    [
        list_selector("No.Such.List"),
        list_selector(list_id=987654),
        list_selector("Reads.Members", 987654),
    ],
)
def test_unknown_list_is_20111(srv: Server, lead_selector: str) -> None:
    assert fault(get_multiple(srv, lead_selector)).code == 20111


# -- positions, batch sizes, parameters --------------------------------------------------
def test_bad_positions_are_20122(srv: Server) -> None:
    window = fresh_window(srv)
    create(srv, 3)
    token = page_of(get_multiple(srv, window, batch=1)).position
    body, _, check = token.rpartition(":")
    tampered = body.replace("lu:", "lu:1", 1) + ":" + check
    for position in ("abc", "ID:5", token[:-1], tampered, "lu:1:2:3:4:5"):
        assert fault(get_multiple(srv, window, position=position)).code == 20122, position
    # A position of one selector kind given with another kind of selector.
    assert fault(get_multiple(srv, list_selector("x"), position=token)).code == 20122


def test_a_position_needs_no_selector_for_update_windows(srv: Server) -> None:
    window = fresh_window(srv)
    ids = create(srv, 3)
    first = page_of(get_multiple(srv, window, batch=2))
    second = page_of(get_multiple(srv, None, position=first.position, batch=2))
    assert first.ids + second.ids == ids


def test_batch_size_defaults_to_100_and_is_capped_at_1000(srv: Server) -> None:
    window = fresh_window(srv)
    for _ in range(2):
        sync(srv, *(lead_record(unique()) for _ in range(503)))
    default = page_of(get_multiple(srv, window))
    assert (len(default.records), default.remaining) == (100, 906)
    capped = page_of(get_multiple(srv, window, batch=5000))
    assert (len(capped.records), capped.remaining) == (1000, 6)


def test_the_cap_is_a_setting(small_server: Server) -> None:
    window = fresh_window(small_server)
    create(small_server, 7)
    page = page_of(get_multiple(small_server, window, batch=50))
    assert (len(page.records), page.remaining) == (5, 2)


@pytest.mark.parametrize("batch", ["0", "-1", "many"])
def test_bad_batch_size_is_20110(srv: Server, batch: str) -> None:
    params = updated_selector(srv.clock.now()) + f"<batchSize>{batch}</batchSize>"
    assert fault(srv.call("getMultipleLeads", params)).code == 20110


def test_include_attributes_limits_the_attributes(srv: Server) -> None:
    [made] = sync(srv, lead_record(unique(), {"FirstName": "A", "City": "B", "Title": "C"}))
    page = page_of(
        get_multiple(
            srv,
            key_selector("IDNUM", [made.lead_id]),
            include=["firstname", "Title", "NoSuchField", "Email"],
        )
    )
    [rec] = page.records
    assert rec.attrs == {"FirstName": ("string", "A"), "Title": ("string", "C")}
    assert rec.email


def test_missing_selector_is_20109(srv: Server) -> None:
    assert fault(get_multiple(srv, None, batch=10)).code == 20109


def test_selector_type_is_inferred_without_xsi_type(srv: Server) -> None:
    [lead_id] = create(srv, 1)
    inner = f"<keyType>IDNUM</keyType><keyValues><stringItem>{lead_id}</stringItem></keyValues>"
    assert page_of(get_multiple(srv, selector(None, inner))).ids == [lead_id]


def test_xsi_type_prefix_is_resolved_not_matched(srv: Server) -> None:
    [lead_id] = create(srv, 1)
    inner = f"<keyType>IDNUM</keyType><keyValues><stringItem>{lead_id}</stringItem></keyValues>"
    own_prefix = (
        f'<leadSelector xmlns:m="{MKTOWS}" xmlns:i="{XSI}" i:type="m:LeadKeySelector">'
        f"{inner}</leadSelector>"
    )
    assert page_of(get_multiple(srv, own_prefix)).ids == [lead_id]
    foreign = (
        f'<leadSelector xmlns:m="urn:other" xmlns:i="{XSI}" i:type="m:LeadKeySelector">'
        f"{inner}</leadSelector>"
    )
    assert fault(get_multiple(srv, foreign)).code == 20110
    assert fault(get_multiple(srv, selector("CampaignSelector", inner))).code == 20110


def test_last_update_selector_needs_its_oldest_time(srv: Server) -> None:
    inner = f"<latestUpdatedAt>{srv.clock.now().isoformat()}</latestUpdatedAt>"
    assert fault(get_multiple(srv, selector("LastUpdateAtSelector", inner))).code == 20109
    bad = "<oldestUpdatedAt>yesterday</oldestUpdatedAt>"
    assert fault(get_multiple(srv, selector("LastUpdateAtSelector", bad))).code == 20110
