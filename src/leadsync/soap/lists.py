"""listOperation on the wire."""

from __future__ import annotations

from dataclasses import dataclass

from leadsync.errors import ParameterRequired
from leadsync.mktows import xml
from leadsync.mktows.escaping import esc
from leadsync.operations.keys import LeadKey, make_key
from leadsync.operations.lists import (
    ListAction,
    ListKeyType,
    ListOperationResult,
    list_operation,
    parse_action,
    parse_list_key_type,
)
from leadsync.soap.handlers import CallContext, CallOutcome, operation, parse_bool
from leadsync.soap.records import child_text
from leadsync.soap.writer import success


def _bool(value: bool) -> str:
    return "true" if value else "false"


@dataclass(frozen=True, slots=True)
class ListRequest:
    action: ListAction
    key_type: ListKeyType
    list_name: str
    members: list[LeadKey]
    strict: bool
    skip_activity_log: bool


def read_list_request(ctx: CallContext) -> ListRequest:
    """A listOperation request (faults for what is wrong with it as a whole); the bridge
    reads its calls through this too."""
    params = ctx.request.params
    action = parse_action(child_text(params, "listOperation"))
    list_key = xml.child(params, "listKey")
    if list_key is None or xml.is_nil(list_key):
        raise ParameterRequired("Parameter Required: listKey is missing")
    key_type = parse_list_key_type(child_text(list_key, "keyType"))
    member_list = xml.child(params, "listMemberList")
    if member_list is None:
        raise ParameterRequired("Parameter Required: listMemberList is missing")
    members = [
        make_key(child_text(key, "keyType"), child_text(key, "keyValue"))
        for key in xml.children(member_list)
    ]
    return ListRequest(
        action,
        key_type,
        child_text(list_key, "keyValue") or "",
        members,
        strict=parse_bool(child_text(params, "strict"), "strict", False),
        skip_activity_log=parse_bool(
            child_text(params, "skipActivityLog"), "skipActivityLog", False
        ),
    )


@operation("listOperation")
def list_operation_handler(ctx: CallContext) -> CallOutcome:
    request = read_list_request(ctx)
    result = list_operation(
        ctx.store,
        request.action,
        request.key_type,
        request.list_name,
        request.members,
        strict=request.strict,
        skip_activity_log=request.skip_activity_log,
        clock=ctx.clock,
    )
    return list_answer(result, len(request.members))


def list_answer(result: ListOperationResult, members: int) -> CallOutcome:
    """The listOperation response for ``result``."""
    if result.statuses is None:
        statuses = '<statusList xsi:nil="true" />'
    else:
        statuses = (
            "<statusList>"
            + "".join(
                f"<leadStatus><leadKey><keyType>{key.type.value}</keyType>"
                f"<keyValue>{esc(key.value)}</keyValue></leadKey>"
                f"<status>{_bool(ok)}</status></leadStatus>"
                for key, ok in result.statuses
            )
            + "</statusList>"
        )
    body = f"<result><success>{_bool(result.success)}</success>{statuses}</result>"
    failed = sum(1 for _, ok in result.statuses or () if not ok)
    return CallOutcome(success("listOperation", body), records=members, failed=failed)
