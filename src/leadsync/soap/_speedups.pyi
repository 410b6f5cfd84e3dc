from typing import Any

from lxml import etree

from leadsync.model import Value

#: A record's Id, Email, ForeignSysPersonId and ForeignSysType texts (None when absent), its
#: (name, value) attributes, and the values of its plain text fields by field name.
RecordParts = tuple[
    str | None, str | None, str | None, str | None, list[tuple[str, str]], dict[str, Value]
]

def read_lead_records(
    record_list: etree._Element,
    plain: dict[str, Any],
    fields: dict[str, Any],
    max_chars: int,
) -> list[RecordParts | etree._Element]: ...
def frees_records() -> bool: ...
