"""A simulated AUTOMATIC1111-compatible WebUI (also Forge and SD.Next flavors) on real loopback
HTTP, for the demo mode and for tests: deterministic pictures, real progress and queueing,
scriptable faults and a log of every request received."""

from typing import TYPE_CHECKING, Any

from stablenew_tui.sim.faults import Fault, FaultInjector, FaultKind
from stablenew_tui.sim.flavors import FLAVORS
from stablenew_tui.sim.requests_log import RecordedRequest, RequestLog

if TYPE_CHECKING:
    from stablenew_tui.sim.server import SimServer, SimThread


def __getattr__(name: str) -> Any:
    # The server pulls in FastAPI, uvicorn and Pillow (~200 ms); every `stablenew` command
    # imports this package for the flavor names, and only the simulator needs the server.
    if name in ("SimServer", "SimThread"):
        from stablenew_tui.sim import server

        return getattr(server, name)
    raise AttributeError(name)


__all__ = [
    "FLAVORS",
    "Fault",
    "FaultInjector",
    "FaultKind",
    "RecordedRequest",
    "RequestLog",
    "SimServer",
    "SimThread",
]
