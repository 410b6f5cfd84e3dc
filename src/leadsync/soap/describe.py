"""describeMObject and listMObjects on the wire."""

from __future__ import annotations

from leadsync.mktows.escaping import esc
from leadsync.operations.describe import FieldMeta, ObjectMeta, describe, list_objects
from leadsync.operations.fields import catalogue_of
from leadsync.soap.handlers import CallContext, CallOutcome, operation
from leadsync.soap.records import child_text, w3c
from leadsync.soap.writer import element, success


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _field(meta: FieldMeta) -> str:
    is_name = (
        element("isName", None)
        if meta.is_name is None
        else f"<isName>{_bool(meta.is_name)}</isName>"
    )
    size = element("size", None if meta.size is None else str(meta.size))
    return (
        f"<field><name>{esc(meta.name)}</name>"
        f"{element('description', meta.description)}"
        f"{element('displayName', meta.display_name)}"
        f"{element('sourceObject', meta.source_object)}"
        f"<dataType>{esc(meta.data_type)}</dataType>{size}"
        f"<isReadonly>{_bool(meta.is_readonly)}</isReadonly>"
        f"<isUpdateBlocked>{_bool(meta.is_update_blocked)}</isUpdateBlocked>{is_name}"
        f"<isPrimaryKey>{_bool(meta.is_primary_key)}</isPrimaryKey>"
        f"<isCustom>{_bool(meta.is_custom)}</isCustom>"
        f"<isDynamic>{_bool(meta.is_dynamic)}</isDynamic>"
        f"{element('dynamicFieldRef', meta.dynamic_field_ref)}"
        f"<updatedAt>{w3c(meta.updated_at)}</updatedAt></field>"
    )


@operation("describeMObject")
def describe_mobject(ctx: CallContext) -> CallOutcome:
    catalogue = catalogue_of(ctx.store.custom_fields())
    return describe_answer(describe(catalogue, child_text(ctx.request.params, "objectName")))


def describe_answer(meta: ObjectMeta) -> CallOutcome:
    """The describeMObject response for ``meta`` (the bridge answers through it too)."""
    body = (
        f"<result><metadata><name>{esc(meta.name)}</name>"
        f"{element('description', meta.description)}"
        f"<isCustom>{_bool(meta.is_custom)}</isCustom>"
        f"<isVirtual>{_bool(meta.is_virtual)}</isVirtual>"
        f"<fieldList>{''.join(map(_field, meta.fields))}</fieldList>"
        f"<updatedAt>{w3c(meta.updated_at)}</updatedAt></metadata></result>"
    )
    return CallOutcome(success("describeMObject", body), records=len(meta.fields))


@operation("listMObjects")
def list_mobjects(ctx: CallContext) -> CallOutcome:
    names = "".join(f"<objects>{esc(name)}</objects>" for name in list_objects())
    return CallOutcome(success("listMObjects", f"<result>{names}</result>"))
