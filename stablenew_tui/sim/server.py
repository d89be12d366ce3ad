"""`SimServer`: a simulated WebUI on a real loopback TCP port, in the caller's event loop or in a
background thread.

The server drives uvicorn's HTTP protocol over a listening socket it owns, rather than running
`uvicorn.Server`, so that it can do what the fault injector needs with real TCP: close one
connection without an answer, stop listening (clients get "connection refused") and listen again
on the same port later, all without losing the simulated state.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from types import TracebackType
from typing import Any

import uvicorn
from uvicorn.server import ServerState

from stablenew_tui.sim.app import build_app
from stablenew_tui.sim.faults import FaultInjector
from stablenew_tui.sim.flavors import get_flavor
from stablenew_tui.sim.requests_log import RequestLog
from stablenew_tui.sim.state import SimState

STOP_GRACE_SECONDS = 5.0
BACKLOG = 2048


def _sever(transport: asyncio.BaseTransport) -> None:
    """Close a connection now: the FIN leaves before the loop turns, so a client reusing the
    connection finds it closed instead of racing the close."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    transport.close()


def parse_credentials(auth: str | None) -> dict[str, str] | None:
    """`user:pass[,user2:pass2]`, as the WebUI's --api-auth takes it."""
    if auth is None:
        return None
    credentials = {}
    for pair in auth.split(","):
        user, colon, password = pair.partition(":")
        if not colon or not user:
            raise ValueError(f"auth must look like user:password, got {pair!r}")
        credentials[user] = password
    return credentials


class SimServer:
    """A simulated AUTOMATIC1111-compatible WebUI.

    `async with SimServer(flavor="a1111", speed=0) as sim:` serves on a free loopback port until
    the block ends; `sim.url`, `sim.faults`, `sim.requests`. A SimServer runs once.
    `api=False` imitates a WebUI started without --api: every /sdapi route answers 404.
    """

    def __init__(
        self,
        flavor: str = "a1111",
        *,
        speed: float = 1.0,
        auth: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        preview: bool = False,
        freeze_settings: bool = False,
        api: bool = True,
    ) -> None:
        if speed < 0:
            raise ValueError("speed must not be negative")
        server = get_flavor(flavor)
        if not api and server.is_sdnext:
            raise ValueError("SD.Next always serves its API: only A1111 and Forge need --api")
        self.webui = SimState(
            server,
            speed=speed,
            credentials=parse_credentials(auth),
            preview=preview,
            api=api,
        )
        self.webui.freeze_settings = freeze_settings
        self.host = host
        self.port = port  # the real port once started
        self._front = build_app(self.webui)
        self._front.network = self
        self._config = uvicorn.Config(
            self._front,
            http="h11",
            ws="none",
            lifespan="off",
            interface="asgi3",
            proxy_headers=False,
            access_log=False,
            log_config=None,
            log_level=None,
        )
        self._connections = ServerState()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._listener: asyncio.Server | None = None
        self._outage: asyncio.Task[None] | None = None
        self._outage_ends = 0.0
        self._come_back_now = asyncio.Event()
        self._reopened: socket.socket | None = None  # listening again, not yet served
        self._stopping = False

    # -- what callers use ---------------------------------------------------------------------

    @property
    def url(self) -> str:
        host = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(self.host, self.host)
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def flavor(self) -> str:
        return self.webui.flavor.name

    @property
    def faults(self) -> FaultInjector:
        return self.webui.faults

    @property
    def requests(self) -> RequestLog:
        return self.webui.requests

    @property
    def options(self) -> dict[str, Any]:
        return self.webui.options

    @property
    def speed(self) -> float:
        return self.webui.engine.speed

    @speed.setter
    def speed(self, value: float) -> None:
        if value < 0:
            raise ValueError("speed must not be negative")
        self.webui.engine.speed = value

    @property
    def freeze_settings(self) -> bool:
        """When set, option changes are answered 200 and ignored, as A1111 does for options it
        restricts from the API (`Options.set` with `restrict_api`)."""
        return self.webui.freeze_settings

    @freeze_settings.setter
    def freeze_settings(self, value: bool) -> None:
        self.webui.freeze_settings = value

    @property
    def is_down(self) -> bool:
        """True while connections are refused."""
        return self._outage is not None and not self._come_back_now.is_set()

    async def __aenter__(self) -> SimServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Listen in the running loop; OSError if the port cannot be bound."""
        if self._loop is not None:
            raise RuntimeError("a SimServer can only be started once")
        self._loop = asyncio.get_running_loop()
        self._config.load()
        self._connections.default_headers = list(self._config.encoded_headers)
        await self._listen()
        self.faults.attach(self._loop, self.go_down, self.come_back)

    async def stop(self) -> None:
        """Finish quickly: the running job is interrupted, queued ones end at once, hangs end."""
        if self._loop is None or self._stopping:
            return
        self._stopping = True
        self.webui.engine.shut_down()
        self._come_back_now.set()  # an outage under way ends, without listening again
        self.faults.clear()
        if self._outage is not None:
            await self._outage
        if self._listener is not None:
            self._listener.close()
        for connection in list(self._connections.connections):
            connection.shutdown()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._requests_finished(), STOP_GRACE_SECONDS)
        for task in list(self._connections.tasks):
            task.cancel()
        for connection in list(self._connections.connections):
            connection.transport.close()

    def start_in_thread(self) -> SimThread:
        """Run in a daemon thread with its own loop, for synchronous callers."""
        return SimThread(self)

    # -- what the fault injector and the front layer use -------------------------------------

    def close_connection(self, client: Any) -> None:
        for connection in list(self._connections.connections):
            if getattr(connection, "client", None) == tuple(client or ()):
                _sever(connection.transport)

    def is_connected(self, client: Any) -> bool:
        return any(
            getattr(connection, "client", None) == tuple(client or ())
            and not connection.transport.is_closing()
            for connection in self._connections.connections
        )

    def go_down(self, seconds: float) -> None:
        """Refuse connections for `seconds` (extending an outage already under way).

        Called in the server's loop. The listening socket and every connection close before
        this returns, so the very next connection attempt is refused.
        """
        if self._loop is None or self._stopping:
            return
        self._outage_ends = max(self._outage_ends, self._loop.time() + seconds)
        if self._outage is not None:
            return
        if self._listener is not None:
            self._listener.close()
        for connection in list(self._connections.connections):
            _sever(connection.transport)
        # The node "crashed": the job it was running is lost, so stop spending time on it.
        self.webui.engine.interrupt()
        self._come_back_now = asyncio.Event()
        self._outage = self._loop.create_task(self._stay_down())

    def come_back(self) -> None:
        """End an outage now. The port listens again before this returns (connections wait in
        the backlog until the server loop serves them), so a caller can go straight on."""
        if self._outage is None or self._stopping or self._come_back_now.is_set():
            return
        self._come_back_now.set()
        with contextlib.suppress(OSError):  # the port was taken: the outage task keeps trying
            sock = self._bind()
            sock.listen(BACKLOG)
            self._reopened = sock

    # -- sockets ------------------------------------------------------------------------------

    async def _listen(self, sock: socket.socket | None = None) -> None:
        assert self._loop is not None
        sock = sock or self._bind()
        self.port = sock.getsockname()[1]
        self._listener = await self._loop.create_server(
            self._new_connection, sock=sock, backlog=BACKLOG
        )

    def _bind(self) -> socket.socket:
        family, kind, proto, _, address = socket.getaddrinfo(
            self.host, self.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
        try:
            # Re-binding the same port right after an outage must not wait for TIME_WAIT.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        return sock

    def _new_connection(self) -> asyncio.Protocol:
        return self._config.http_protocol_class(  # type: ignore[call-arg]
            config=self._config, server_state=self._connections, app_state={}, _loop=self._loop
        )

    async def _stay_down(self) -> None:
        assert self._loop is not None
        while not self._come_back_now.is_set():
            remaining = self._outage_ends - self._loop.time()
            if remaining <= 0:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._come_back_now.wait(), remaining)
        self._outage_ends = 0.0
        try:
            while not self._stopping:
                sock, self._reopened = self._reopened, None
                try:
                    await self._listen(sock)
                    break
                except OSError:
                    # Something took the port meanwhile; retry, as a restarting WebUI would.
                    await asyncio.sleep(0.2)
        finally:
            if self._reopened is not None:
                self._reopened.close()
                self._reopened = None
            self._outage = None

    async def _requests_finished(self) -> None:
        while self._connections.tasks:
            await asyncio.sleep(0.01)


class SimThread:
    """A SimServer running in a background thread; `stop()` (or leaving `with`) ends it."""

    def __init__(self, server: SimServer, start_timeout: float = 10.0) -> None:
        self.server = server
        self._loop = asyncio.new_event_loop()
        self._stop = asyncio.Event()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="stablenew-sim", daemon=True)
        self._thread.start()
        if not self._ready.wait(start_timeout):
            raise TimeoutError("the simulator did not start")
        if self._error is not None:
            self._thread.join()
            raise self._error

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def faults(self) -> FaultInjector:
        return self.server.faults

    @property
    def requests(self) -> RequestLog:
        return self.server.requests

    def stop(self, timeout: float = 10.0) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(timeout)

    def __enter__(self) -> SimThread:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._serve())
            self._loop.run_until_complete(self._loop.shutdown_default_executor())
        finally:
            self._loop.close()

    async def _serve(self) -> None:
        try:
            await self.server.start()
        except BaseException as error:
            self._error = error
            self._ready.set()
            return
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await self.server.stop()
