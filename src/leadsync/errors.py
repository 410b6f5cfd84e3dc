"""The server's errors: one class per code of the kit's catalogue (``leadsync.mktows.codes``).

The wire layer renders these (a SOAP Fault today); clients key on ``code``, so tests
assert codes and never message text.
"""

from __future__ import annotations

from typing import Any, ClassVar

from leadsync.mktows.codes import FaultCode


class MarketoError(Exception):
    """An error that Marketo would have reported with a numeric code.

    Each subclass names its ``fault`` in the kit's catalogue; its code, its name in the
    faultstring and the side it blames come from there.
    """

    fault: ClassVar[FaultCode] = FaultCode.INTERNAL_ERROR
    code: ClassVar[int] = int(FaultCode.INTERNAL_ERROR)
    short: ClassVar[str] = FaultCode.INTERNAL_ERROR.title
    #: True for failures on the server's side (rendered as faultcode ``SOAP-ENV:Server``).
    server_side: ClassVar[bool] = FaultCode.INTERNAL_ERROR.server_side

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.code = int(cls.fault)
        cls.short = cls.fault.title
        cls.server_side = cls.fault.server_side

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
    fault = FaultCode.SEVERE_INTERNAL_ERROR


class InternalError(MarketoError):
    fault = FaultCode.INTERNAL_ERROR


class RequestNotUnderstood(MarketoError):
    fault = FaultCode.REQUEST_NOT_UNDERSTOOD


class AccessDenied(MarketoError):
    fault = FaultCode.ACCESS_DENIED


class AuthenticationFailed(MarketoError):
    fault = FaultCode.AUTHENTICATION_FAILED


class RequestLimitExceeded(MarketoError):
    fault = FaultCode.REQUEST_LIMIT_EXCEEDED


class RequestExpired(MarketoError):
    fault = FaultCode.REQUEST_EXPIRED


class InvalidRequest(MarketoError):
    fault = FaultCode.INVALID_REQUEST


class UnsupportedOperation(MarketoError):
    fault = FaultCode.UNSUPPORTED_OPERATION


class TimeRangeExceeded(MarketoError):
    fault = FaultCode.TIME_RANGE_EXCEEDED


class RateLimitExceeded(MarketoError):
    fault = FaultCode.RATE_LIMIT_EXCEEDED


class ConcurrencyLimitExceeded(MarketoError):
    fault = FaultCode.CONCURRENCY_LIMIT_EXCEEDED


class LeadKeyRequired(MarketoError):
    fault = FaultCode.LEAD_KEY_REQUIRED


class LeadKeyBad(MarketoError):
    fault = FaultCode.LEAD_KEY_BAD


class LeadNotFound(MarketoError):
    fault = FaultCode.LEAD_NOT_FOUND


class LeadDetailRequired(MarketoError):
    fault = FaultCode.LEAD_DETAIL_REQUIRED


class LeadAttributeBad(MarketoError):
    fault = FaultCode.LEAD_ATTRIBUTE_BAD


class LeadSyncFailed(MarketoError):
    fault = FaultCode.LEAD_SYNC_FAILED


class ActivityKeyBad(MarketoError):
    fault = FaultCode.ACTIVITY_KEY_BAD


class LeadOwnerNotFound(MarketoError):
    fault = FaultCode.LEAD_OWNER_NOT_FOUND


class ParameterRequired(MarketoError):
    fault = FaultCode.PARAMETER_REQUIRED


class BadParameter(MarketoError):
    fault = FaultCode.BAD_PARAMETER


class ListNotFound(MarketoError):
    fault = FaultCode.LIST_NOT_FOUND


class CampaignNotFound(MarketoError):
    fault = FaultCode.CAMPAIGN_NOT_FOUND


class BadParameterValue(MarketoError):
    fault = FaultCode.BAD_PARAMETER_VALUE


class BadStreamPosition(MarketoError):
    fault = FaultCode.BAD_STREAM_POSITION


class StreamAtEnd(MarketoError):
    fault = FaultCode.STREAM_AT_END


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


class StoreError(Exception):
    """The database failed a read or a write. Stores raise it in place of their driver's
    errors (``store.base.driver_errors``), so nothing above ``store/`` knows sqlite3 or
    psycopg; its text is fit to show as it is."""


class StoreUnavailable(StoreError):
    """The database cannot be reached or opened."""


# -- REST API codes (docs/rest.md) --------------------------------------------------------
# Marketo's REST codes travel as strings in ``errors[].code`` and ``reasons[].code``. They
# share no numbers with the SOAP codes above, so they are a family of their own.


class RestError(Exception):
    """A request-level REST error: HTTP 200 with ``success:false`` and this code."""

    code: ClassVar[str] = "611"
    short: ClassVar[str] = "System error"

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.short
        super().__init__(self.message)


class AccessTokenMissing(RestError):
    code = "600"
    short = "Access token not specified"


class AccessTokenInvalid(RestError):
    code = "601"
    short = "Access token invalid"


class AccessTokenExpired(RestError):
    code = "602"
    short = "Access token expired"


class RestAccessDenied(RestError):
    code = "603"
    short = "Access denied"


class RequestTimedOut(RestError):
    code = "604"
    short = "Request time-out"


class MethodNotSupported(RestError):
    code = "605"
    short = "HTTP Method not supported"


class RestRateLimit(RestError):
    code = "606"
    short = "Max rate limit exceeded"


class DailyQuotaReached(RestError):
    code = "607"
    short = "Daily quota reached"


class TemporarilyUnavailable(RestError):
    code = "608"
    short = "API Temporarily Unavailable"


class InvalidJson(RestError):
    code = "609"
    short = "Invalid JSON"


class ResourceNotFound(RestError):
    code = "610"
    short = "Requested resource not found"


class RestSystemError(RestError):
    code = "611"
    short = "System error"


class InvalidContentType(RestError):
    code = "612"
    short = "Invalid Content Type"


class ConcurrentAccessLimit(RestError):
    code = "615"
    short = "Concurrent access limit reached"


class BlankValue(RestError):
    code = "701"
    short = "cannot be blank"


class TransientError(RestError):
    code = "713"
    short = "Transient Error"


class InvalidValue(RestError):
    code = "1001"
    short = "Invalid value"


class MissingParameter(RestError):
    code = "1002"
    short = "Missing value for required parameter"


class InvalidData(RestError):
    code = "1003"
    short = "Invalid data"


class RestLeadNotFound(RestError):
    code = "1004"
    short = "Lead not found"


class FieldNotFound(RestError):
    code = "1006"
    short = "Field not found"


class FieldNotSupported(RestError):
    code = "1011"
    short = "Field not supported"


class InvalidCookie(RestError):
    code = "1012"
    short = "Invalid cookie value"


class ObjectNotFound(RestError):
    code = "1013"
    short = "Object not found"


class TooManyMergeIds(RestError):
    code = "1080"
    short = "Too many ids in leadIds"


class InvalidMultipart(RestError):
    code = "613"
    short = "Invalid Multipart Request"


class TooManyImports(RestError):
    code = "1016"
    short = "Too many imports"


class TooManyExportJobs(RestError):
    """Marketo answers 1029 both for a full export queue and for the daily export volume."""

    code = "1029"
    short = "Too many jobs in queue"


REST_CATALOGUE: dict[str, type[RestError]] = {
    cls.code: cls
    for cls in (
        AccessTokenMissing,
        AccessTokenInvalid,
        AccessTokenExpired,
        RestAccessDenied,
        RequestTimedOut,
        MethodNotSupported,
        RestRateLimit,
        DailyQuotaReached,
        TemporarilyUnavailable,
        InvalidJson,
        ResourceNotFound,
        RestSystemError,
        InvalidContentType,
        ConcurrentAccessLimit,
        BlankValue,
        TransientError,
        InvalidValue,
        MissingParameter,
        InvalidData,
        RestLeadNotFound,
        FieldNotFound,
        FieldNotSupported,
        InvalidCookie,
        ObjectNotFound,
        TooManyMergeIds,
        InvalidMultipart,
        TooManyImports,
        TooManyExportJobs,
    )
}


def rest_error_for_code(code: str, message: str | None = None) -> RestError:
    """The REST catalogue's error for ``code`` (fault injection); unknown codes keep their
    number with a generic message."""
    cls = REST_CATALOGUE.get(code)
    if cls is not None:
        return cls(message)
    error = RestError(message or f"Error {code}")
    error.code = code  # type: ignore[misc]
    return error
