from lxml import etree

#: A record's Id, Email, ForeignSysPersonId and ForeignSysType texts (None when absent) and
#: its (name, value) attributes.
RecordParts = tuple[str | None, str | None, str | None, str | None, list[tuple[str, str]]]

def read_lead_records(record_list: etree._Element) -> list[RecordParts | etree._Element]: ...
