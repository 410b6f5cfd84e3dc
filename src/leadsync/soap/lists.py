"""listOperation on the wire."""

from __future__ import annotations

from leadsync.errors import ParameterRequired
from leadsync.mktows import xml
from leadsync.mktows.escaping import esc
from leadsync.operations.keys import make_key
from leadsync.operations.lists import list_operation, parse_action, parse_list_key_type
from leadsync.soap.handlers import CallContext, CallOutcome, operation, parse_bool
from leadsync.soap.records import child_text
from leadsync.soap.writer import success


def _bool(value: bool) -> str:
    return "true" if value else "false"


@operation("listOperation")
def list_operation_handler(ctx: CallContext) -> CallOutcome:
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
    result = list_operation(
        ctx.store,
        action,
        key_type,
        child_text(list_key, "keyValue") or "",
        members,
        strict=parse_bool(child_text(params, "strict"), "strict", False),
        skip_activity_log=parse_bool(
            child_text(params, "skipActivityLog"), "skipActivityLog", False
        ),
        clock=ctx.clock,
    )
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
    return CallOutcome(success("listOperation", body), records=len(members), failed=failed)
