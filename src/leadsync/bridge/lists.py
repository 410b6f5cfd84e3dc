"""listOperation through the upstream: the list's name resolved to its id (Get Lists), then
Add to List, Remove from List or Member of List, 300 leads a call (spec §9.4).

Read and checked as locally (``soap.lists.read_list_request``, ``operations.lists``): leads
are named by IDNUM, at most 1,000. Per lead, ADDTOLIST succeeds when the upstream added it,
REMOVEFROMLIST when it removed it, ISMEMBEROFLIST when it is a member. A strict call that
would fail for any lead changes nothing: it asks first (Member of List for a removal, Get
Leads by id for an addition) and writes only if every lead passes.
"""

from __future__ import annotations

from collections.abc import Sequence

from leadsync.bridge.upstream import Upstream
from leadsync.errors import ListNotFound
from leadsync.operations.lists import ListAction, ListKeyType, ListOperationResult, lead_ids_of
from leadsync.soap.handlers import CallContext, CallOutcome
from leadsync.soap.lists import list_answer, read_list_request

MAX_IDS = 300
_DONE = {ListAction.ADD: "added", ListAction.REMOVE: "removed", ListAction.IS_MEMBER: "memberof"}


def list_operation(ctx: CallContext, upstream: Upstream) -> CallOutcome:
    request = read_list_request(ctx)
    ids = lead_ids_of(request.members)
    list_id = _list_id(upstream, request.key_type, request.list_name)
    known = [i for i in dict.fromkeys(ids) if i is not None]
    action = request.action
    if action is ListAction.IS_MEMBER or request.strict:
        ok = _members(upstream, list_id, known) if action is not ListAction.ADD else None
        if ok is None:
            ok = _existing(upstream, known)
        outcomes = [i is not None and i in ok for i in ids]
        if action is ListAction.IS_MEMBER or not all(outcomes):
            result = ListOperationResult(
                all(outcomes), list(zip(request.members, outcomes, strict=True))
            )
            return list_answer(result, len(ids))
    done = _change(upstream, list_id, action, known)
    outcomes = [i is not None and i in done for i in ids]
    success = all(outcomes)
    statuses = None if success else list(zip(request.members, outcomes, strict=True))
    return list_answer(ListOperationResult(success, statuses), len(ids))


def _list_id(upstream: Upstream, key_type: ListKeyType, name: str) -> int:
    # Lists keyed by sales user or lead owner have no REST equivalent.
    if key_type is ListKeyType.MKTOLISTNAME and name.strip():
        answer = upstream.call("GET", "/rest/v1/lists.json", params={"name": name.strip()})
        for row in answer.get("result") or []:
            if isinstance(row, dict) and isinstance(row.get("id"), int):
                return int(row["id"])
    raise ListNotFound(f"List Not Found: no static list {name!r}")


def _members(upstream: Upstream, list_id: int, ids: Sequence[int]) -> set[int]:
    found: set[int] = set()
    for start in range(0, len(ids), MAX_IDS):
        chunk = ids[start : start + MAX_IDS]
        answer = upstream.call(
            "GET",
            f"/rest/v1/lists/{list_id}/leads/ismember.json",
            params=[("id", str(i)) for i in chunk],
        )
        found |= _with_status(answer, "memberof")
    return found


def _existing(upstream: Upstream, ids: Sequence[int]) -> set[int]:
    found: set[int] = set()
    for start in range(0, len(ids), MAX_IDS):
        chunk = ids[start : start + MAX_IDS]
        form = {
            "_method": "GET",
            "filterType": "id",
            "filterValues": ",".join(map(str, chunk)),
            "fields": "id",
        }
        answer = upstream.call("POST", "/rest/v1/leads.json", form=form)
        found |= {
            int(row["id"])
            for row in answer.get("result") or []
            if isinstance(row, dict) and isinstance(row.get("id"), int)
        }
    return found


def _change(upstream: Upstream, list_id: int, action: ListAction, ids: Sequence[int]) -> set[int]:
    method = "POST" if action is ListAction.ADD else "DELETE"
    done: set[int] = set()
    for start in range(0, len(ids), MAX_IDS):
        body = {"input": [{"id": i} for i in ids[start : start + MAX_IDS]]}
        # Adding or removing twice changes nothing: safe to send again if an answer is lost.
        answer = upstream.call(method, f"/rest/v1/lists/{list_id}/leads.json", body=body)
        done |= _with_status(answer, _DONE[action])
    return done


def _with_status(answer: dict[str, object], status: str) -> set[int]:
    rows = answer.get("result")
    return {
        int(row["id"])
        for row in (rows if isinstance(rows, list) else [])
        if isinstance(row, dict) and row.get("status") == status and isinstance(row.get("id"), int)
    }
