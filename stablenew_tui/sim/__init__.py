"""A simulated AUTOMATIC1111-compatible WebUI (also Forge and SD.Next flavors) on real loopback
HTTP, for the demo mode and for tests: deterministic pictures, real progress and queueing,
scriptable faults and a log of every request received."""

from stablenew_tui.sim.faults import Fault, FaultInjector, FaultKind
from stablenew_tui.sim.flavors import FLAVORS
from stablenew_tui.sim.requests_log import RecordedRequest, RequestLog
from stablenew_tui.sim.server import SimServer, SimThread

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
