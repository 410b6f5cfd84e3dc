"""describeMObject and listMObjects: the objects leadsync can describe.

LeadRecord lists every lead field, standard and custom, as a dynamic field of
``leadAttributeList`` typed with the attrType vocabulary (``datetime`` in lower case, as
attrType spells it). ActivityRecord is Marketo's fixed composite, as its docs show it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from leadsync.errors import BadParameter, UnsupportedOperation
from leadsync.model import FieldType
from leadsync.operations.fields import STRING_MAX_CHARS, TEXT_MAX_BYTES, FieldCatalogue

#: Nothing in these objects' shape changes at run time but custom fields, which carry no
#: timestamp; Marketo's own example shows this date for its built-in metadata.
BUILT_IN = datetime(2010, 1, 1, tzinfo=UTC)
DESCRIBABLE = ("ActivityRecord", "LeadRecord")
#: Objects Marketo describes that leadsync does not hold.
NOT_HELD = ("Opportunity", "OpportunityPersonRole")


@dataclass(frozen=True, slots=True)
class FieldMeta:
    name: str
    description: str | None
    display_name: str | None
    source_object: str | None
    data_type: str
    size: int | None
    is_readonly: bool
    is_update_blocked: bool
    is_name: bool | None
    is_primary_key: bool
    is_custom: bool
    is_dynamic: bool
    dynamic_field_ref: str | None
    updated_at: datetime = BUILT_IN


@dataclass(frozen=True, slots=True)
class ObjectMeta:
    name: str
    description: str | None
    is_custom: bool
    is_virtual: bool
    fields: tuple[FieldMeta, ...]
    updated_at: datetime = BUILT_IN


_SIZES = {
    FieldType.STRING: STRING_MAX_CHARS,
    FieldType.EMAIL: STRING_MAX_CHARS,
    FieldType.PHONE: STRING_MAX_CHARS,
    FieldType.URL: STRING_MAX_CHARS,
    FieldType.TEXT: TEXT_MAX_BYTES,
    FieldType.INTEGER: 10,
    FieldType.SCORE: 10,
    FieldType.PERCENT: 10,
}


def field_size(field_type: FieldType) -> int | None:
    """The most a field of this type holds (characters, bytes for text, digits)."""
    return _SIZES.get(field_type)


def list_objects() -> list[str]:
    return list(DESCRIBABLE)


def describe(catalogue: FieldCatalogue, object_name: str | None) -> ObjectMeta:
    name = (object_name or "").strip()
    if name == "LeadRecord":
        return _lead_record(catalogue)
    if name == "ActivityRecord":
        return _ACTIVITY_RECORD
    if name in NOT_HELD:
        raise UnsupportedOperation(
            f"Unsupported Operation: describeMObject({name}) is not emulated by leadsync"
        )
    raise BadParameter("Object name is not valid")


def _lead_record(catalogue: FieldCatalogue) -> ObjectMeta:
    keys = (
        _key("Id", "Unique system id of Lead", "integer", 10, primary=True),
        _key("ForeignSysPersonId", "Unique person id in a foreign system", "string", 255),
        _key("ForeignSysType", "The foreign system: CUSTOM, SFDC or NETSUITE", "string", 10),
    )
    fields = tuple(
        FieldMeta(
            name=f.name,
            description=None,
            display_name=f.display_name or f.name,
            source_object="Lead",
            data_type=f.type.value,
            size=_SIZES.get(f.type),
            is_readonly=False,
            is_update_blocked=False,
            is_name=None,
            is_primary_key=False,
            is_custom=f.custom,
            is_dynamic=True,
            dynamic_field_ref="leadAttributeList",
        )
        for f in catalogue.all()
    )
    return ObjectMeta("LeadRecord", "Lead record with its attributes", False, True, keys + fields)


def _key(
    name: str, description: str, data_type: str, size: int, primary: bool = False
) -> FieldMeta:
    return FieldMeta(
        name=name,
        description=description,
        display_name=None,
        source_object="Lead",
        data_type=data_type,
        size=size,
        is_readonly=primary,
        is_update_blocked=primary,
        is_name=False,
        is_primary_key=primary,
        is_custom=False,
        is_dynamic=False,
        dynamic_field_ref=None,
    )


def _event(name: str, description: str, source: str, data_type: str, size: int | None) -> FieldMeta:
    return FieldMeta(
        name=name,
        description=description,
        display_name=None,
        source_object=source,
        data_type=data_type,
        size=size,
        is_readonly=True,
        is_update_blocked=True,
        is_name=name == "activityType",
        is_primary_key=name == "id",
        is_custom=False,
        is_dynamic=False,
        dynamic_field_ref=None,
    )


_ACTIVITY_FIELDS = (
    ("id", "Unique system id of Event", "Event", "integer", 10),
    ("activityDateTime", "Event timestamp", "Event", "dateTime", None),
    ("activityType", "Name of Event", "Event", "string", 255),
    ("mktgAssetName", "Name of email, landing page, or object field", "Event", "string", 255),
    (
        "activityAttributes",
        "Array of name / value pairs of dynamic event attributes",
        "Event",
        "Array",
        None,
    ),
    ("campaign", "Name of Campaign that caused the Event", "Campaign", "string", 255),
    ("personName", "Name of Lead that owns the Event", "Lead", "string", 255),
    ("mktPersonId", "Unique system id of Lead", "Lead", "integer", 10),
    ("foreignSysId", "Unique foreign system id of Lead", "Lead", "string", 50),
    ("orgName", "Name of Company associated to the Lead", "Company", "string", 255),
    ("foreignSysOrgId", "Unique foreign system id of Company", "Company", "string", 50),
)
_ACTIVITY_RECORD = ObjectMeta(
    "ActivityRecord",
    "Composite object composed of fields from Event, Campaign, Lead, and Company",
    False,
    True,
    tuple(_event(*spec) for spec in _ACTIVITY_FIELDS),
)
