"""HTTP Basic auth as --api-auth puts it, thread mode for synchronous callers, and the CLI."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import httpx
import pytest

from stablenew_tui.cli import main
from stablenew_tui.sim import SimServer

from .helpers import API, serving, wait_until_sync

CREDENTIALS = ("alice", "secret")


async def test_api_routes_need_credentials() -> None:
    async with serving(auth="alice:secret") as (_sim, http):
        anonymous = await http.get(f"{API}/sd-models")
        wrong = await http.get(f"{API}/sd-models", auth=("alice", "nope"))
        right = await http.get(f"{API}/sd-models", auth=CREDENTIALS)
        progress = await http.get(f"{API}/progress")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == "Basic"
    assert anonymous.json()["detail"] == "Not authenticated"
    assert wrong.status_code == 401
    assert wrong.json()["detail"] == "Incorrect username or password"
    assert right.status_code == 200
    assert progress.status_code == 401


async def test_loras_and_admin_routes_are_open() -> None:
    async with serving(auth="alice:secret") as (_sim, http):
        assert (await http.get(f"{API}/loras")).status_code == 200
        assert (await http.post(f"{API}/refresh-loras")).status_code == 200
        assert (await http.get("/sim/requests")).status_code == 200
        # A route the flavor lacks is a plain 404, credentials or not.
        assert (await http.get(f"{API}/sd-modules")).status_code == 404


@pytest.mark.parametrize("flavor", ["a1111", "a1111-1.8", "forge", "sdnext"])
async def test_progress_needs_credentials_on_every_flavor(flavor: str) -> None:
    async with serving(flavor, auth="alice:secret") as (_sim, http):
        anonymous = await http.get(f"{API}/progress")
        allowed = await http.get(f"{API}/progress", auth=CREDENTIALS)
        loras = await http.get(f"{API}/loras")
    assert (anonymous.status_code, allowed.status_code) == (401, 200)
    # SD.Next registers its Lora routes like every other API route.
    assert loras.status_code == (401 if flavor == "sdnext" else 200)


@pytest.mark.parametrize(
    ("flavor", "body"),
    [
        ("a1111", {"error": "HTTPException", "detail": "Incorrect username or password",
                   "body": "", "errors": ""}),
        ("forge", {"detail": "Incorrect username or password"}),
        ("sdnext", {"error": "HTTPException", "code": 401, "detail": "Unauthorized", "body": "",
                    "errors": "401: Unauthorized"}),
    ],
)  # fmt: skip
async def test_wrong_password_body_per_flavor(flavor: str, body: dict) -> None:
    async with serving(flavor, auth="alice:secret") as (_sim, http):
        wrong = await http.get(f"{API}/sd-models", auth=("alice", "nope"))
    assert (wrong.status_code, wrong.json()) == (401, body)


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="flavor"):
        SimServer(flavor="comfy")
    with pytest.raises(ValueError, match="user:password"):
        SimServer(auth="alice")
    with pytest.raises(ValueError, match="speed"):
        SimServer(speed=-1)


def test_runs_in_a_thread_for_synchronous_callers() -> None:
    with SimServer(speed=0).start_in_thread() as running:
        assert running.url.startswith("http://127.0.0.1:")
        running.faults.fail_next(path="txt2img")
        with httpx.Client(base_url=running.url) as http:
            assert http.get(f"{API}/sd-models").status_code == 200
            assert http.post(f"{API}/txt2img", json={"steps": 2}).status_code == 500
            assert http.post(f"{API}/txt2img", json={"steps": 2}).status_code == 200
        assert [entry.fault for entry in running.requests] == [None, "fail", None]
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{running.url}{API}/sd-models")


def test_faults_can_be_driven_from_another_thread() -> None:
    with (
        SimServer(speed=0).start_in_thread() as running,
        httpx.Client(base_url=running.url) as http,
    ):
        running.faults.hang_next()
        release = threading.Timer(0.05, running.faults.clear)
        release.start()
        assert http.post(f"{API}/txt2img", json={"steps": 2}).status_code == 200
        release.join()
        running.faults.down_now(60)
        # The outage starts on the server's loop a moment later; then connections are refused.
        wait_until_sync(lambda: _refused(http), "connections to be refused")
        running.faults.clear()
        wait_until_sync(lambda: _answers(http), "the server to answer again")


def _refused(http: httpx.Client) -> bool:
    try:
        http.get(f"{API}/progress")
    except httpx.ConnectError:
        return True
    except httpx.TransportError:
        return False  # an open connection closing under us, not yet a refusal
    return False


def _answers(http: httpx.Client) -> bool:
    try:
        return http.get(f"{API}/progress").status_code == 200
    except httpx.TransportError:
        return False


def test_the_simulator_never_imports_textual() -> None:
    code = (
        "import sys, stablenew_tui.sim, stablenew_tui.commands.sim; "
        "sys.exit('textual' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_thread_start_reports_a_busy_port() -> None:
    with SimServer(speed=0).start_in_thread() as first:
        port = int(first.url.rsplit(":", 1)[1])
        with pytest.raises(OSError):
            SimServer(port=port).start_in_thread()


def test_cli_rejects_bad_flags(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sim", "--speed", "-2"]) == 2
    assert main(["sim", "--auth", "nobody"]) == 2
    with pytest.raises(SystemExit) as exited:
        main(["sim", "--flavor", "comfy"])
    assert exited.value.code == 2
    assert "--speed must not be negative" in capsys.readouterr().err


# `stablenew` as `python -m stablenew_tui` runs it, with Ctrl-C raising KeyboardInterrupt as
# in a terminal: a process started with SIGINT ignored or blocked (pytest run in the
# background by a non-interactive shell, or by a thread that blocked it) would otherwise pass
# that on to the command.
STABLENEW_IN_A_TERMINAL = (
    "import signal, sys; signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT}); "
    "signal.signal(signal.SIGINT, signal.default_int_handler); "
    "from stablenew_tui.cli import main; sys.exit(main(sys.argv[1:]))"
)


def test_cli_serves_until_interrupted() -> None:
    command = [sys.executable, "-c", STABLENEW_IN_A_TERMINAL, "sim", "--port", "0", "--instant"]
    env = os.environ | {"PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        line = process.stdout.readline()
        url = line.split(" at ")[1].split()[0]
        assert httpx.get(f"{url}{API}/samplers").status_code == 200
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0
        assert "Traceback" not in process.stderr.read()
