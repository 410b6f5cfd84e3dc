"""The fault-code catalogue: each code Marketo's SOAP API answers with, its name as the
faultstring gives it, and which side the fault blames (``SOAP-ENV:Server`` or ``Client``).

Server and client both key on these codes, never on message text. The server's exception
classes (``leadsync.errors``) take their code, name and side from here.
"""

from __future__ import annotations

from enum import IntEnum


class FaultCode(IntEnum):
    SEVERE_INTERNAL_ERROR = 10001
    INTERNAL_ERROR = 20011
    REQUEST_NOT_UNDERSTOOD = 20012
    ACCESS_DENIED = 20013
    AUTHENTICATION_FAILED = 20014
    REQUEST_LIMIT_EXCEEDED = 20015
    REQUEST_EXPIRED = 20016
    INVALID_REQUEST = 20017
    UNSUPPORTED_OPERATION = 20019
    TIME_RANGE_EXCEEDED = 20022
    RATE_LIMIT_EXCEEDED = 20023
    CONCURRENCY_LIMIT_EXCEEDED = 20024
    LEAD_KEY_REQUIRED = 20101
    LEAD_KEY_BAD = 20102
    LEAD_NOT_FOUND = 20103
    LEAD_DETAIL_REQUIRED = 20104
    LEAD_ATTRIBUTE_BAD = 20105
    LEAD_SYNC_FAILED = 20106
    ACTIVITY_KEY_BAD = 20107
    LEAD_OWNER_NOT_FOUND = 20108
    PARAMETER_REQUIRED = 20109
    BAD_PARAMETER = 20110
    LIST_NOT_FOUND = 20111
    CAMPAIGN_NOT_FOUND = 20113
    BAD_PARAMETER_VALUE = 20114
    BAD_STREAM_POSITION = 20122
    STREAM_AT_END = 20123

    @property
    def title(self) -> str:
        """The name after the code in a faultstring (``20012 - Request Not Understood``)."""
        return _TITLES[self]

    @property
    def server_side(self) -> bool:
        """True when the fault blames the server (faultcode ``SOAP-ENV:Server``)."""
        return self in _SERVER_SIDE


_TITLES: dict[FaultCode, str] = {
    FaultCode.SEVERE_INTERNAL_ERROR: "Internal Error",
    FaultCode.INTERNAL_ERROR: "Internal Error",
    FaultCode.REQUEST_NOT_UNDERSTOOD: "Request Not Understood",
    FaultCode.ACCESS_DENIED: "Access Denied",
    FaultCode.AUTHENTICATION_FAILED: "Authentication failed",
    FaultCode.REQUEST_LIMIT_EXCEEDED: "Request Limit Exceeded",
    FaultCode.REQUEST_EXPIRED: "Request Expired",
    FaultCode.INVALID_REQUEST: "Invalid Request",
    FaultCode.UNSUPPORTED_OPERATION: "Unsupported Operation",
    FaultCode.TIME_RANGE_EXCEEDED: "Time range specified in query filter exceeded limit",
    FaultCode.RATE_LIMIT_EXCEEDED: "Rate Limit Exceeded",
    FaultCode.CONCURRENCY_LIMIT_EXCEEDED: "Concurrency Limit Exceeded",
    FaultCode.LEAD_KEY_REQUIRED: "Lead Key Required",
    FaultCode.LEAD_KEY_BAD: "Lead Key Bad",
    FaultCode.LEAD_NOT_FOUND: "Lead not found",
    FaultCode.LEAD_DETAIL_REQUIRED: "Lead Detail Required",
    FaultCode.LEAD_ATTRIBUTE_BAD: "Unknown lead field",
    FaultCode.LEAD_SYNC_FAILED: "Lead Sync Failed",
    FaultCode.ACTIVITY_KEY_BAD: "Activity Key Bad",
    FaultCode.LEAD_OWNER_NOT_FOUND: "Lead Owner Not Found",
    FaultCode.PARAMETER_REQUIRED: "Parameter Required",
    # Marketo's observed faultstring for 20110.
    FaultCode.BAD_PARAMETER: "Input error",
    FaultCode.LIST_NOT_FOUND: "List Not Found",
    FaultCode.CAMPAIGN_NOT_FOUND: "Campaign Not Found",
    FaultCode.BAD_PARAMETER_VALUE: "Bad Parameter",
    FaultCode.BAD_STREAM_POSITION: "Bad Stream Position",
    FaultCode.STREAM_AT_END: "Stream at End",
}

_SERVER_SIDE = frozenset(
    {
        FaultCode.SEVERE_INTERNAL_ERROR,
        FaultCode.INTERNAL_ERROR,
        FaultCode.RATE_LIMIT_EXCEEDED,
        FaultCode.CONCURRENCY_LIMIT_EXCEEDED,
    }
)

#: Codes saying every further call would fail the same way: wrong credentials, a blocked
#: client, an exhausted daily quota, an operation the server does not have.
FATAL = frozenset(
    {
        FaultCode.ACCESS_DENIED,
        FaultCode.AUTHENTICATION_FAILED,
        FaultCode.REQUEST_LIMIT_EXCEEDED,
        FaultCode.UNSUPPORTED_OPERATION,
    }
)

#: Codes a server answers before it does anything, so resending is always safe.
RETRYABLE = frozenset(
    {
        FaultCode.REQUEST_EXPIRED,
        FaultCode.RATE_LIMIT_EXCEEDED,
        FaultCode.CONCURRENCY_LIMIT_EXCEEDED,
    }
)
