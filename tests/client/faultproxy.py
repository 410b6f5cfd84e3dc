"""A real HTTP proxy between a client and a leadsync server that misbehaves on a script.

Each syncMultipleLeads call takes the next action of the script (other calls, and every
call once the script is used up, are forwarded as they are):

* ``fault:CODE`` answers a Marketo fault (Marketo's shape, HTTP 500) without forwarding;
* ``drop`` closes the connection without forwarding (the call never ran);
* ``drop-after`` forwards, lets the server run the call, then closes without answering
  (the call ran, and the client cannot know it);
* ``503`` answers HTTP 503 with an HTML body, without forwarding;
* ``hold`` keeps the call waiting until ``release()``, then closes without forwarding.

``rewrite``, when set, edits the server's answer to every other call on its way back;
``read_keys`` holds how many keys each getMultipleLeads call carried.
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

FAULT_SHORT = {
    20014: "Authentication failed",
    20016: "Request Expired",
    20023: "Rate Limit Exceeded",
    20024: "Concurrency Limit Exceeded",
}


def fault_body(code: int) -> bytes:
    short = FAULT_SHORT.get(code, "Internal Error")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/">'
        "<SOAP-ENV:Body><SOAP-ENV:Fault><faultcode>SOAP-ENV:Client</faultcode>"
        f"<faultstring>{code} - {short}</faultstring><detail>"
        '<ns1:serviceException xmlns:ns1="http://www.marketo.com/mktows/">'
        f"<name>mktServiceException</name><message>{short} ({code})</message>"
        f"<code>{code}</code></ns1:serviceException></detail></SOAP-ENV:Fault>"
        "</SOAP-ENV:Body></SOAP-ENV:Envelope>"
    ).encode()


_EMAIL = re.compile(rb"<Email>([^<]*)</Email>")


@dataclass
class Seen:
    """One syncMultipleLeads call as the proxy saw it."""

    action: str
    size: int
    records: int
    emails: list[str]


@dataclass
class FaultProxy:
    upstream: str
    script: list[str] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    url: str = ""
    rewrite: Callable[[bytes], bytes] | None = None
    read_keys: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._http = httpx.Client(timeout=60)

    def endpoint(self, path: str = "/soap/mktows/2_2") -> str:
        return self.url + path

    def next_action(self, body: bytes) -> str:
        with self._lock:
            action = self.script.pop(0) if self.script else "forward"
            self.seen.append(
                Seen(
                    action,
                    len(body),
                    body.count(b"<leadRecord>"),
                    [m.decode() for m in _EMAIL.findall(body)],
                )
            )
            return action

    def add(self, actions: Iterable[str]) -> None:
        with self._lock:
            self.script.extend(actions)

    def release(self) -> None:
        self._release.set()

    def forwarded_emails(self) -> list[str]:
        """Emails of every call that reached the server."""
        return [e for s in self.seen if s.action in ("forward", "drop-after") for e in s.emails]

    def forward(self, path: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
        return self._http.post(self.upstream + path, content=body, headers=headers)


def _handler(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            response = proxy._http.get(proxy.upstream + self.path)
            self._answer(response.status_code, response.content, response.headers)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            headers = {
                k: v for k, v in self.headers.items() if k.lower() in ("content-type", "soapaction")
            }
            action = "forward"
            if b"paramsSyncMultipleLeads" in body:
                action = proxy.next_action(body)
            elif b"paramsGetMultipleLeads" in body:
                proxy.read_keys.append(body.count(b"<stringItem>"))
            if action.startswith("fault:"):
                self._answer(500, fault_body(int(action.split(":")[1])), {})
            elif action == "503":
                self._answer(503, b"<html><body>Service Unavailable</body></html>", {})
            elif action in ("drop", "hold"):
                if action == "hold":
                    proxy._release.wait(60)
                self._drop()
            elif action == "drop-after":
                proxy.forward(self.path, body, headers)
                self._drop()
            else:
                response = proxy.forward(self.path, body, headers)
                content = response.content
                if proxy.rewrite is not None and b"paramsSyncMultipleLeads" not in body:
                    content = proxy.rewrite(content)
                self._answer(response.status_code, content, response.headers)

        def _answer(self, status: int, body: bytes, headers: object) -> None:
            self.send_response(status)
            content_type = "text/xml; charset=utf-8"
            if isinstance(headers, httpx.Headers):
                content_type = headers.get("content-type", content_type)
            elif status == 503:
                content_type = "text/html"
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _drop(self) -> None:
            self.close_connection = True
            with suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)

    return Handler


@contextmanager
def fault_proxy(upstream: str, script: Iterable[str] = ()) -> Iterator[FaultProxy]:
    proxy = FaultProxy(upstream, list(script))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(proxy))
    server.daemon_threads = True
    proxy.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        proxy.release()
        server.shutdown()
        server.server_close()
        proxy._http.close()
