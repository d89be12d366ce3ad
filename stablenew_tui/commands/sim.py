"""`stablenew sim`: serve a simulated Stable Diffusion WebUI until Ctrl-C.

Faults armed here work like the ones armed at run time through `POST /sim/faults`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
from typing import TYPE_CHECKING

from stablenew_tui.errors import InputError, StableNewError
from stablenew_tui.sim.flavors import FLAVORS

if TYPE_CHECKING:  # the server pulls in FastAPI and Pillow: only load them when serving
    from stablenew_tui.sim.server import SimServer


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sim",
        description=(
            "Serve a simulated AUTOMATIC1111-compatible WebUI API over HTTP: real request and "
            "response shapes, deterministic pictures, progress and queueing, injectable faults. "
            "Fault routes: GET/POST/DELETE /sim/faults; request log: GET/DELETE /sim/requests."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=7861, help="port to listen on (0 = any free)")
    parser.add_argument(
        "--flavor", default="a1111", choices=list(FLAVORS), help="which server to imitate"
    )
    parser.add_argument(
        "--speed",
        type=float,
        default=1.0,
        metavar="F",
        help="how fast simulated work goes: 2 is twice as fast, 0 is instant (default 1)",
    )
    parser.add_argument("--instant", action="store_true", help="same as --speed 0")
    parser.add_argument("--auth", metavar="USER:PASS", help="require HTTP Basic auth on /sdapi")
    parser.add_argument(
        "--preview", action="store_true", help="send live preview images in /progress"
    )
    parser.add_argument(
        "--freeze-settings",
        action="store_true",
        help="answer option changes with 200 but ignore them, as a locked-down WebUI does",
    )
    parser.add_argument(
        "--no-api",
        action="store_true",
        help="answer 404 on every /sdapi route, as an A1111 or Forge WebUI started without --api",
    )
    faults = parser.add_argument_group("faults (each applies to the next matching requests)")
    faults.add_argument("--fail-next", type=int, default=0, metavar="N", help="answer 500")
    faults.add_argument(
        "--oom-next", type=int, default=0, metavar="N", help='answer 500 "CUDA out of memory"'
    )
    faults.add_argument(
        "--drop-next", type=int, default=0, metavar="N", help="close the connection, no answer"
    )
    faults.add_argument("--hang-next", type=int, default=0, metavar="N", help="never answer")
    faults.add_argument(
        "--hang-seconds",
        type=float,
        metavar="T",
        help="with --hang-next: answer normally after T seconds instead of never",
    )
    faults.add_argument(
        "--down-for",
        type=float,
        metavar="T",
        help="on the next request, drop it and refuse connections for T seconds",
    )
    faults.add_argument(
        "--fault-path",
        metavar="GLOB",
        help='which paths the faults hit, e.g. "txt2img" (default: all of /sdapi/v1 except '
        "progress, interrupt and skip)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from stablenew_tui.sim.server import SimServer

    speed = 0.0 if args.instant else args.speed
    counts = (args.fail_next, args.oom_next, args.drop_next, args.hang_next)
    if speed < 0:
        raise InputError("--speed must not be negative")
    if not 0 <= args.port <= 65535:
        raise InputError("--port must be between 0 and 65535")
    if any(count < 0 for count in counts):
        raise InputError("fault counts must not be negative")
    if args.hang_seconds is not None and args.hang_seconds < 0:
        raise InputError("--hang-seconds must not be negative")
    if args.down_for is not None and args.down_for < 0:
        raise InputError("--down-for must not be negative")
    try:
        server = SimServer(
            args.flavor,
            speed=speed,
            auth=args.auth,
            host=args.host,
            port=args.port,
            preview=args.preview,
            freeze_settings=args.freeze_settings,
            api=not args.no_api,
        )
    except ValueError as error:
        raise InputError(str(error)) from None

    path = args.fault_path
    for kind, count in zip(("fail", "oom", "drop", "hang"), counts, strict=True):
        if count:
            seconds = args.hang_seconds if kind == "hang" else None
            server.faults.add(kind, count, path=path, seconds=seconds)
    if args.down_for is not None:
        server.faults.down_next(args.down_for, path=path)

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(server))
    return 0


async def _serve(server: SimServer) -> None:
    try:
        await server.start()
    except OSError as error:
        raise StableNewError(f"cannot listen on {server.host}:{server.port}: {error}") from None
    print(f"Simulated {server.flavor} WebUI at {server.url} (Ctrl-C to stop)", flush=True)
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError):  # no signal handlers on some platforms
        loop.add_signal_handler(signal.SIGTERM, stopped.set)
    try:
        await stopped.wait()
    finally:
        await server.stop()
