"""The ASGI layer in front of the routes: records each request, applies injected faults, checks
HTTP Basic auth the way `--api-auth` does, and hides the API of a WebUI started without `--api`.

Faults act before auth, as a crash or a network problem would. Requests to the simulator's own
/sim/ admin routes are neither recorded, faulted nor authenticated.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from secrets import compare_digest
from typing import Any, Protocol
from urllib.parse import parse_qsl

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from stablenew_tui.sim.errors import SimHTTPError, SimServerError, error_response
from stablenew_tui.sim.faults import (
    FAIL_ERROR_CLASS,
    FAIL_MESSAGE,
    OOM_ERROR_CLASS,
    OOM_MESSAGE,
    Fault,
    FaultKind,
)
from stablenew_tui.sim.state import SimState

ADMIN_PREFIX = "/sim/"
# SD.Next catches a CUDA out-of-memory inside the pipeline and answers 200 with no images
# (modules/processing_diffusers.py `process_base`), so the fault reaches these routes.
_GENERATION_PATHS = frozenset({"/sdapi/v1/txt2img", "/sdapi/v1/img2img"})


class Network(Protocol):
    """What the server lets the front do to real connections."""

    def close_connection(self, client: Any) -> None: ...
    def is_connected(self, client: Any) -> bool: ...
    def go_down(self, seconds: float) -> None: ...


class SimFront:
    def __init__(
        self,
        app: ASGIApp,
        sim: SimState,
        needs_auth: Callable[[str], bool],
        without_api: Callable[[str], bool],
    ) -> None:
        self.app = app
        self.sim = sim
        self.needs_auth = needs_auth
        self.without_api = without_api  # paths that a WebUI started without --api lacks
        self.network: Network | None = None  # set by the server that owns the sockets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        body, complete = await _read_body(receive)
        if not complete:
            return  # the client left before sending its request
        path = scope["path"]
        query = dict(parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True))
        record = self.sim.requests.record(scope["method"], path, query, body)
        scope.setdefault("state", {})["sim_record"] = record

        fault = self.sim.faults.take(path)
        if fault is not None:
            record.fault = fault.kind.value
            if await self._apply(fault, scope, receive, send):
                return
        if not self.sim.api_enabled and self.without_api(path):
            # The routes were never registered: FastAPI's own 404, whatever the credentials.
            await JSONResponse({"detail": "Not Found"}, status_code=404)(scope, receive, send)
            return
        if self.sim.credentials is not None and self.needs_auth(path):
            refusal = self._check_auth(scope)
            if refusal is not None:
                await error_response(self.sim.flavor.server, refusal)(scope, receive, send)
                return
        await self.app(scope, _replay(body, receive), send)

    async def _apply(self, fault: Fault, scope: Scope, receive: Receive, send: Send) -> bool:
        """Act out `fault`; True when the request is finished with (answered or dropped)."""
        server = self.sim.flavor.server
        client = scope.get("client")
        match fault.kind:
            case FaultKind.FAIL:
                error = SimServerError(
                    FAIL_ERROR_CLASS, fault.message or FAIL_MESSAGE, fault.status
                )
                await error_response(server, error)(scope, receive, send)
            case FaultKind.OOM if self.sim.flavor.is_sdnext and scope["path"] in _GENERATION_PATHS:
                scope["state"]["sim_out_of_memory"] = True
                return False
            case FaultKind.OOM:
                self.sim.out_of_memory_events += 1
                error = SimServerError(OOM_ERROR_CLASS, OOM_MESSAGE)
                await error_response(server, error)(scope, receive, send)
            case FaultKind.DROP | FaultKind.DOWN:
                network = self._network()
                network.close_connection(client)
                if fault.kind is FaultKind.DOWN:
                    network.go_down(fault.seconds or 0.0)
                await _until_disconnected(receive)
            case FaultKind.HANG:
                await self.sim.faults.hold(fault.seconds)
                # Served normally afterwards, unless the client has given up meanwhile.
                return not self._network().is_connected(client)
        return True

    def _network(self) -> Network:
        if self.network is None:
            raise RuntimeError("connection faults need a SimServer")
        return self.network

    def _check_auth(self, scope: Scope) -> SimHTTPError | None:
        challenge = {"WWW-Authenticate": "Basic"}
        header = dict(scope["headers"]).get(b"authorization", b"")
        scheme, _, encoded = header.partition(b" ")
        if scheme.lower() != b"basic":
            return SimHTTPError(401, "Not authenticated", challenge)
        try:
            user, _, password = base64.b64decode(encoded).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return SimHTTPError(401, "Invalid authentication credentials", challenge)
        expected = (self.sim.credentials or {}).get(user)
        if expected is None or not compare_digest(password, expected):
            # modules/api/api.py `Api.auth`; SD.Next's modules/api/api.py `Api.auth`.
            refusal = (
                "Unauthorized" if self.sim.flavor.is_sdnext else "Incorrect username or password"
            )
            return SimHTTPError(401, refusal, challenge)
        return None


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(chunks), False
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), True


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive channel that hands the already-read body to the app, then waits as usual."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _until_disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
