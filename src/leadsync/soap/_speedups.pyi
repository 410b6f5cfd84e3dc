from collections.abc import Callable
from typing import Any

from lxml import etree

from leadsync.model import LeadInput, Value

#: Makes a record from its Id, Email, ForeignSysPersonId and ForeignSysType texts (None when
#: absent), its (name, value) attributes, and the values of its plain text fields by name.
MakeRecord = Callable[
    [str | None, str | None, str | None, str | None, list[tuple[str, str]], dict[str, Value]],
    LeadInput,
]

def read_lead_records(
    record_list: etree._Element,
    plain: dict[str, Any],
    fields: dict[str, Any],
    max_chars: int,
    make: MakeRecord,
) -> tuple[list[LeadInput | etree._Element], list[int]]: ...
def frees_records() -> bool: ...
