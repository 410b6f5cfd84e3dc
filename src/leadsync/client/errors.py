"""What the client raises. Callers key on ``MktowsFault.code`` (a ``FaultCode`` of the kit's
catalogue, ``leadsync.mktows.codes``), never on message text."""

from __future__ import annotations

from leadsync.mktows.codes import FATAL, RETRYABLE


class ClientError(Exception):
    """Base of everything the client raises."""


class MktowsFault(ClientError):
    """A SOAP Fault in Marketo's shape (docs/errors.md)."""

    def __init__(
        self,
        code: int | None,
        faultstring: str,
        message: str = "",
        *,
        faultcode: str = "",
        http_status: int = 500,
    ) -> None:
        self.code = code
        self.faultstring = faultstring
        self.message = message
        self.faultcode = faultcode
        self.http_status = http_status
        super().__init__(self.describe())

    def describe(self) -> str:
        """One line: the faultstring, and the longer message when it adds something."""
        text = self.faultstring or (f"fault {self.code}" if self.code else "SOAP fault")
        if self.message and self.message not in text:
            text = f"{text}: {self.message}"
        return text

    @property
    def retryable(self) -> bool:
        return self.code in RETRYABLE

    @property
    def fatal(self) -> bool:
        return self.code in FATAL


class EndpointUnreachable(ClientError):
    """No connection could be made to the endpoint (refused, DNS, TLS, connect timeout)."""


class ProtocolError(ClientError):
    """The endpoint answered, but not as a mktows server does (HTML, a 404, garbage)."""

    def __init__(self, message: str, *, http_status: int | None = None) -> None:
        self.http_status = http_status
        super().__init__(message)


class SyncAborted(ClientError):
    """A bulk sync stopped part-way: ``error`` says why (a fatal fault, an endpoint gone).

    ``results`` holds, by input index, every outcome the client knew but had not handed back
    yet; an index missing from it (and not handed back) was never applied by the server.
    """

    def __init__(self, error: ClientError, results: dict[int, object]) -> None:
        self.error = error
        self.results = results
        super().__init__(str(error))
