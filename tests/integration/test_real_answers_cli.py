"""`stablenew resources` and `stablenew run` as a user runs them, against stubs answering as
each real server's code does (tests/data/answers), SD.Next included."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.pipeline_helpers import manifest
from tests.integration.test_run_cli import stablenew
from tests.stub_webui import FLAVORS, StubWebUI


@pytest.mark.parametrize("flavor", FLAVORS)
def test_resources_lists_everything_the_server_offers(flavor):
    with StubWebUI(flavor) as stub:
        text = stablenew("resources", "--node", stub.url)
        as_json = stablenew("resources", "--node", stub.url, "--json")
    assert text.returncode == 0, text.stderr
    assert as_json.returncode == 0, as_json.stderr
    assert "Traceback" not in text.stderr + as_json.stderr
    (node,) = json.loads(as_json.stdout)
    assert node["models"] and node["samplers"] and node["embeddings"]
    assert node["prompt_styles"] and node["face_restorers"]
    assert node["scripts"]["txt2img"] and node["scripts"]["img2img"]
    for section in ("prompt styles", "face restorers", "txt2img scripts", "img2img scripts"):
        assert f"\n{section} (" in text.stdout
    if flavor == "sdnext":
        assert node["embeddings"] == ["EasyNegative", "negativeXL_D"]
        assert node["hypernetworks"] == [] and node["latent_upscale_modes"] == []


@pytest.mark.parametrize("flavor", FLAVORS)
def test_run_makes_images_and_exits_0(flavor, tmp_path: Path):
    out = tmp_path / "out"
    with StubWebUI(flavor) as stub:
        result = stablenew(
            "run", "--node", stub.url, "--prompt", "a lighthouse at dusk",
            "--images-per-prompt", "2", "--steps", "4", "--size", "64x64",
            "--out", str(out),
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    (run_folder,) = list(out.iterdir())
    entries = manifest(run_folder)
    assert len(entries) == 2
    for entry in entries:
        assert (run_folder / entry["path"]).read_bytes().startswith(b"\x89PNG")
    sent = [request.body for request in stub.requests if request.path == "/sdapi/v1/txt2img"]
    assert len(sent) == 2 and all(body["width"] == 64 for body in sent)
    if flavor == "sdnext":  # its samplers are its schedulers: no separate field is sent
        assert all("scheduler" not in body for body in sent)


def test_resources_of_a_webui_without_api_says_to_start_it_with_api():
    with StubWebUI("a1111-1.10") as stub:
        for route in [route for route in stub.answers if "/sdapi/" in route]:
            stub.remove(route)
        result = stablenew("resources", "--node", stub.url)
    assert result.returncode == 1
    assert "start the WebUI with --api" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


NGINX_502 = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.24.0</center>\r\n"
    "</body>\r\n</html>\r\n"
)


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (
            {"status": 200, "body": {"images": [123], "parameters": {}, "info": "{}"}},
            "txt2img: invalid answer at images[0]: input should be a valid string (got 123)",
        ),
        (
            # A proxy that never recovers: transient, so retried until [client] retry_seconds.
            {"status": 502, "text": NGINX_502, "content_type": "text/html"},
            "s: txt2img rejected (502): 502 Bad Gateway",
        ),
    ],
    ids=["invalid images", "proxy error page"],
)
def test_a_broken_answer_fails_the_job_with_one_plain_reason(
    answer, reason, tmp_path: Path, stablenew_home: Path
):
    stablenew_home.mkdir(parents=True, exist_ok=True)
    (stablenew_home / "config.toml").write_text("[client]\nretry_seconds = 1\n")
    with StubWebUI("a1111-1.10") as stub:
        stub.answer("POST /sdapi/v1/txt2img", **answer)
        result = stablenew(
            "run", "--node", stub.url, "--prompt", "x", "--size", "64x64", "--json",
            "--out", str(tmp_path / "out"),
        )  # fmt: skip
    assert result.returncode == 1, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    (failed,) = [e for e in events if e["event"] == "job_failed" and not e["will_retry"]]
    assert failed["reason"].endswith(reason)
    assert "Traceback" not in result.stderr and "pydantic" not in result.stdout + result.stderr
