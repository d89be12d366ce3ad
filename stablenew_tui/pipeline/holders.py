"""Who holds a lease on a run or a job: words for people, never the identity itself.

A lease is ours while its generation number is ours; host name and PID only say who that
is. One narrow fact may still end a lease early: on this machine, in this PID namespace, a
process that has exited (or whose PID now belongs to a process started later) is certainly
gone, so its work need not wait for the lease to lapse. Everywhere else — another host, a
container with its own PIDs, a system without /proc — the lease alone decides.
"""

from __future__ import annotations

import functools
import json
import os
import socket
import time
from dataclasses import asdict, dataclass

from stablenew_tui.errors import StableNewError

_PROC = "/proc"


@dataclass(frozen=True)
class Holder:
    host: str
    pid: int
    since: float
    # "<boot id>/<pid namespace>/<start time in clock ticks>" where /proc tells them; it names
    # one process for the life of a boot, which a PID alone does not.
    process: str | None = None

    def describe(self) -> str:
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.since))
        return f"{self.host} pid {self.pid} (since {since})"

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str | None) -> Holder | None:
        try:
            data = json.loads(text or "")
            return cls(str(data["host"]), int(data["pid"]), float(data["since"]), data["process"])
        except (ValueError, KeyError, TypeError):
            return None

    def certainly_gone(self) -> bool:
        """True only when this machine can prove the process has exited."""
        if not self.process:
            return False
        boot, namespace, started = self.process.rsplit("/", 2)
        ours = _machine()
        if ours is None or (boot, namespace) != ours:
            return False
        return _start_ticks(self.pid) != started


class RunBusy(StableNewError):
    """Another live process is running this run."""

    def __init__(self, run_id: str, holder: Holder) -> None:
        self.run_id = run_id
        self.holder = holder
        super().__init__(f"run {run_id} is being run by {holder.describe()}")


def this_process() -> Holder:
    pid = os.getpid()
    return Holder(socket.gethostname(), pid, time.time(), _process_key(pid))


@functools.cache
def _process_key(pid: int) -> str | None:
    machine, started = _machine(), _start_ticks(pid)
    return f"{machine[0]}/{machine[1]}/{started}" if machine and started else None


@functools.cache
def _machine() -> tuple[str, str] | None:
    """This boot and this PID namespace: where a PID names the same process as for us."""
    try:
        with open(f"{_PROC}/sys/kernel/random/boot_id", encoding="ascii") as handle:
            boot = handle.read().strip()
        return boot, os.readlink(f"{_PROC}/self/ns/pid")
    except OSError:
        return None


def _start_ticks(pid: int) -> str | None:
    try:
        with open(f"{_PROC}/{pid}/stat", encoding="ascii", errors="replace") as handle:
            stat = handle.read()
    except OSError:
        return None
    # The command name is in parentheses and may hold anything; the fields follow the last ")".
    fields = stat.rpartition(")")[2].split()
    return fields[19] if len(fields) > 19 else None
