"""A stub WebUI that answers with recorded answers of the real servers, over loopback HTTP.

Each flavor's answers are one file, tests/data/answers/<flavor>.json (see the README there):
`"GET /sdapi/v1/samplers": {"source": ..., "status": 200, "body": [...]}`. A key with a
`#variant` suffix is another answer of the same route, served after `use(...)`. A route the
file lacks answers 404 `{"detail": "Not Found"}`, as FastAPI does for a route a server does not
have. Only two things are not replayed verbatim, so that a pipeline run against the stub checks
out: recorded generation answers carry a PNG of the asked size per image and echo the asked
seed, size and prompt in `info`; and options set with POST are read back by GET, as on a real
server.
"""

from __future__ import annotations

import base64
import copy
import io
import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

from PIL import Image

from tests.conftest import TEST_DATA
from tests.loopback_server import LoopbackServer

ANSWERS = TEST_DATA / "answers"
FLAVORS = ("a1111-1.10", "a1111-1.8", "forge", "sdnext")
_GENERATION_ROUTES = ("/sdapi/v1/txt2img", "/sdapi/v1/img2img")
_NOT_FOUND = {"status": 404, "body": {"detail": "Not Found"}}


def recorded_answers(flavor: str) -> dict[str, dict[str, Any]]:
    return json.loads((ANSWERS / f"{flavor}.json").read_text())


@dataclass
class StubRequest:
    method: str
    path: str
    body: Any


class StubWebUI(LoopbackServer):
    """`with StubWebUI("sdnext") as stub:` serves on a free loopback port; `stub.url`,
    `stub.requests`, `stub.use("POST /sdapi/v1/txt2img#out-of-memory")`, `stub.answer(...)`."""

    def __init__(self, flavor: str) -> None:
        self.flavor = flavor
        self.answers = recorded_answers(flavor)
        self.requests: list[StubRequest] = []
        self._options: dict[str, Any] = {}
        self._lock = threading.Lock()
        super().__init__(_handler_for(self))

    def use(self, variant: str) -> None:
        """Answer a route with one of its recorded variants from now on."""
        route = variant.split("#", 1)[0]
        self.answers[route] = self.answers[variant]

    def answer(self, route: str, **answer: Any) -> None:
        """Answer `route` ("POST /sdapi/v1/txt2img") with something no real server recorded
        (a broken answer, a proxy's error page): status, and body or text + content_type."""
        self.answers[route] = {"source": "test", "verbatim": True, **answer}

    def remove(self, route: str) -> None:
        """Make the server lack `route` (404), as a flavor or a setup without it does."""
        self.answers.pop(route, None)

    # -- what the handler calls (server threads) -----------------------------------------------

    def respond(self, method: str, path: str, body: Any) -> dict[str, Any]:
        with self._lock:
            self.requests.append(StubRequest(method, path, body))
            route = f"{method} {path}"
            answer = copy.deepcopy(self.answers.get(route, _NOT_FOUND))
            if route == "POST /sdapi/v1/options" and isinstance(body, dict):
                self._options.update(body)
            elif route == "GET /sdapi/v1/options" and isinstance(answer.get("body"), dict):
                answer["body"].update(self._options)
        if path in _GENERATION_ROUTES and answer["status"] == 200 and not answer.get("verbatim"):
            _echo_request(answer["body"], body if isinstance(body, dict) else {})
        return answer


def _handler_for(stub: StubWebUI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            answer = stub.respond(method, urlsplit(self.path).path, body)
            status = answer["status"]
            if "text" in answer:
                payload = answer["text"].encode()
                content_type = answer.get("content_type", "text/plain")
            elif status == 204:
                payload, content_type = b"", None
            else:
                payload = json.dumps(answer.get("body")).encode()
                content_type = "application/json"
            self.send_response(status)
            if content_type:
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:  # quiet test output
            pass

    return Handler


def _echo_request(answer: dict[str, Any], request: dict[str, Any]) -> None:
    """What was asked, in the answer: one image of the asked size per seed, seeds from the
    request's seed as the WebUI counts them (seed + index), the asked size and prompt."""
    info = json.loads(answer["info"]) if answer.get("info") else {}
    if not answer.get("images"):
        return  # an answer recorded without images (a failed generation) stays that way
    count = int(request.get("batch_size", 1)) * int(request.get("n_iter", 1))
    width, height = int(request.get("width") or 512), int(request.get("height") or 512)
    seed = request.get("seed", -1)
    seed = info.get("seed", 1) if seed in (None, -1) else int(seed)
    prompt = request.get("prompt", "")
    info.update(
        seed=seed, all_seeds=[seed + index for index in range(count)], width=width,
        height=height, prompt=prompt, all_prompts=[prompt] * count,
    )  # fmt: skip
    answer["images"] = [_png(width, height, seed + index) for index in range(count)]
    answer["info"] = json.dumps(info)


def _png(width: int, height: int, seed: int) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (seed * 37 % 256, seed * 91 % 256, 128)).save(buffer, "PNG")
    return base64.b64encode(buffer.getvalue()).decode()
