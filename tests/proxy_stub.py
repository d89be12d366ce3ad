"""A reverse proxy in front of a WebUI, over loopback HTTP, that can have a bad spell.

Like nginx in front of a WebUI that restarts or is overloaded: for `seconds` after
`bad_spell()` every request is answered with nginx's own 502 or 503 page (alternately), not
passed on; otherwise requests go to the upstream server unchanged.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler

import httpx

from tests.loopback_server import LoopbackServer

_PAGES = {
    502: "502 Bad Gateway",
    503: "503 Service Temporarily Unavailable",
}
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


def nginx_page(status: int) -> bytes:
    title = _PAGES[status]
    return (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx/1.24.0</center>\r\n"
        "</body>\r\n</html>\r\n"
    ).encode()


class ReverseProxyStub(LoopbackServer):
    """`with ReverseProxyStub(sim.url) as proxy:` serves on a free loopback port; `proxy.url`,
    `proxy.bad_spell(seconds)`, `proxy.refused` (requests answered with an error page)."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.refused = 0
        self._bad_until = 0.0
        self._lock = threading.Lock()
        self._http = httpx.Client(base_url=upstream, timeout=600)
        super().__init__(_handler_for(self))

    def __exit__(self, *exc_info: object) -> None:
        super().__exit__(*exc_info)
        self._http.close()

    def bad_spell(self, seconds: float) -> None:
        with self._lock:
            self._bad_until = time.monotonic() + seconds

    def error_status(self) -> int | None:
        """The status to answer with now instead of passing the request on, if any."""
        with self._lock:
            if time.monotonic() >= self._bad_until:
                return None
            self.refused += 1
            return 502 if self.refused % 2 else 503

    def forward(self, method: str, path: str, headers: dict[str, str], body: bytes):
        kept = {k: v for k, v in headers.items() if k.lower() not in _HOP_BY_HOP}
        return self._http.request(method, path, headers=kept, content=body)


def _handler_for(proxy: ReverseProxyStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status = proxy.error_status()
            if status is not None:
                self._reply(status, nginx_page(status), "text/html")
                return
            answer = proxy.forward(self.command, self.path, dict(self.headers), body)
            self._reply(answer.status_code, answer.content, answer.headers.get("content-type"))

        def _reply(self, status: int, body: bytes, content_type: str | None) -> None:
            self.send_response(status)
            if content_type:
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _serve

    return Handler
