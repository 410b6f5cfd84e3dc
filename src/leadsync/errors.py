"""The vendor's error catalogue: one class per Marketo code.

The wire layer renders these (a SOAP Fault today); clients key on ``code``, so tests
assert codes and never message text.
"""

from __future__ import annotations

from typing import ClassVar


class MarketoError(Exception):
    """An error that Marketo would have reported with a numeric code."""

    code: ClassVar[int] = 20011
    short: ClassVar[str] = "Internal Error"
    #: True for failures on the server's side (rendered as faultcode ``SOAP-ENV:Server``).
    server_side: ClassVar[bool] = False

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.short
        super().__init__(self.message)

    @property
    def faultstring(self) -> str:
        return f"{self.code} - {self.short}"

    @property
    def detail_message(self) -> str:
        return f"{self.message} ({self.code})"


class SevereInternalError(MarketoError):
    code = 10001
    short = "Internal Error"
    server_side = True


class InternalError(MarketoError):
    code = 20011
    short = "Internal Error"
    server_side = True


class RequestNotUnderstood(MarketoError):
    code = 20012
    short = "Request Not Understood"


class AccessDenied(MarketoError):
    code = 20013
    short = "Access Denied"


class AuthenticationFailed(MarketoError):
    code = 20014
    short = "Authentication failed"


class RequestLimitExceeded(MarketoError):
    code = 20015
    short = "Request Limit Exceeded"


class RequestExpired(MarketoError):
    code = 20016
    short = "Request Expired"


class InvalidRequest(MarketoError):
    code = 20017
    short = "Invalid Request"


class UnsupportedOperation(MarketoError):
    code = 20019
    short = "Unsupported Operation"


class TimeRangeExceeded(MarketoError):
    code = 20022
    short = "Time range specified in query filter exceeded limit"


class RateLimitExceeded(MarketoError):
    code = 20023
    short = "Rate Limit Exceeded"
    server_side = True


class ConcurrencyLimitExceeded(MarketoError):
    code = 20024
    short = "Concurrency Limit Exceeded"
    server_side = True


class LeadKeyRequired(MarketoError):
    code = 20101
    short = "Lead Key Required"


class LeadKeyBad(MarketoError):
    code = 20102
    short = "Lead Key Bad"


class LeadNotFound(MarketoError):
    code = 20103
    short = "Lead not found"


class LeadDetailRequired(MarketoError):
    code = 20104
    short = "Lead Detail Required"


class LeadAttributeBad(MarketoError):
    code = 20105
    short = "Unknown lead field"


class LeadSyncFailed(MarketoError):
    code = 20106
    short = "Lead Sync Failed"


class ActivityKeyBad(MarketoError):
    code = 20107
    short = "Activity Key Bad"


class LeadOwnerNotFound(MarketoError):
    code = 20108
    short = "Lead Owner Not Found"


class ParameterRequired(MarketoError):
    code = 20109
    short = "Parameter Required"


class BadParameter(MarketoError):
    """20110; Marketo's observed fault text for it is "Input error"."""

    code = 20110
    short = "Input error"


class ListNotFound(MarketoError):
    code = 20111
    short = "List Not Found"


class CampaignNotFound(MarketoError):
    code = 20113
    short = "Campaign Not Found"


class BadParameterValue(MarketoError):
    code = 20114
    short = "Bad Parameter"


class BadStreamPosition(MarketoError):
    code = 20122
    short = "Bad Stream Position"


class StreamAtEnd(MarketoError):
    code = 20123
    short = "Stream at End"


CATALOGUE: dict[int, type[MarketoError]] = {
    cls.code: cls
    for cls in (
        SevereInternalError,
        InternalError,
        RequestNotUnderstood,
        AccessDenied,
        AuthenticationFailed,
        RequestLimitExceeded,
        RequestExpired,
        InvalidRequest,
        UnsupportedOperation,
        TimeRangeExceeded,
        RateLimitExceeded,
        ConcurrencyLimitExceeded,
        LeadKeyRequired,
        LeadKeyBad,
        LeadNotFound,
        LeadDetailRequired,
        LeadAttributeBad,
        LeadSyncFailed,
        ActivityKeyBad,
        LeadOwnerNotFound,
        ParameterRequired,
        BadParameter,
        ListNotFound,
        CampaignNotFound,
        BadParameterValue,
        BadStreamPosition,
        StreamAtEnd,
    )
}


def error_for_code(code: int, message: str | None = None) -> MarketoError:
    """Build the catalogue's error for ``code`` (used by fault injection and the client)."""
    cls = CATALOGUE.get(code)
    if cls is None:
        raise KeyError(f"unknown Marketo error code {code}")
    return cls(message)


class ConfigError(Exception):
    """A setting, flag or database URL that cannot be used; shown to the user as one line."""


class StoreUnavailable(Exception):
    """The database cannot be reached or opened."""
