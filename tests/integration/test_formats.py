"""Whole runs against WebUIs answering in PNG, JPEG or WebP: what is on disk, in the manifest and
in the learning records, and what each stage was fed."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from stablenew_tui.learning.records import read_records
from stablenew_tui.paths import AppPaths
from stablenew_tui.pipeline.engine import EngineOptions
from stablenew_tui.pipeline.events import JobFailed, StageProgress
from stablenew_tui.pipeline.launch import RunRequest
from stablenew_tui.sim import SimServer
from tests.image_metadata import (
    EXTENSIONS,
    PILLOW_NAMES,
    SIGNATURES,
    open_bytes,
    pillow_infotext,
    webui_infotext,
)
from tests.integration.pipeline_helpers import launcher_for, manifest, posted, run_to_end

IMAGE_STAGES = ("txt2img", "img2img", "upscale")
FLAGS = {
    "stages": [*IMAGE_STAGES, "video"],
    "images_per_prompt": 2,
    "txt2img": {"steps": 2, "width": 96, "height": 64, "seed": 11},
    "img2img": {"denoising_strength": 0.4, "steps": 2},
    "upscale": {"upscaler": "Lanczos", "scale": 2.0},
    "video": {"fps": 4, "seconds_per_image": 0.5, "format": "mp4"},
}
PROMPT = "a lighthouse at dusk, waves"


@pytest.mark.parametrize(
    ("flavor", "samples_format", "expected"),
    [
        ("a1111", "png", "png"),
        ("a1111", "jpg", "jpeg"),
        ("a1111", "webp", "webp"),
        ("forge", "jpeg", "jpeg"),
        ("sdnext", None, "jpeg"),  # SD.Next's own default
    ],
)
async def test_a_full_run_keeps_every_image_as_sent(flavor, samples_format, expected):
    async with SimServer(flavor=flavor, speed=0) as sim:
        if samples_format:
            async with httpx.AsyncClient(base_url=sim.url) as http:
                answer = await http.post(
                    "/sdapi/v1/options", json={"samples_format": samples_format}
                )
                answer.raise_for_status()
        launcher = launcher_for(sim.url)
        try:
            prepared, summary, _ = await run_to_end(
                launcher, RunRequest(prompt=PROMPT, flags=FLAGS)
            )
        finally:
            await launcher.aclose()
        fed_to_img2img = [body["init_images"][0] for body in posted(sim, "img2img")]
        fed_to_upscale = [body["image"] for body in posted(sim, "extra-single-image")]
    assert summary.counts == {"done": 2}

    folder = Path(prepared.run.folder)
    lines = manifest(folder)
    images = [line for line in lines if line["stage"] in IMAGE_STAGES]
    assert len(images) == 6
    kept: dict[tuple[str, int], bytes] = {}
    for line in images:
        path = folder / line["path"]
        data = path.read_bytes()
        kept[line["stage"], line["index"]] = data
        assert path.suffix == EXTENSIONS[expected], line["path"]
        assert data.startswith(SIGNATURES[expected])
        assert open_bytes(data).format == PILLOW_NAMES[expected]
        assert line["format"] == expected
        assert line["sha256"] == hashlib.sha256(data).hexdigest()
        # The infotext is in the manifest, and is what the file itself carries.
        assert line["infotext"].startswith(PROMPT)
        assert pillow_infotext(data) == webui_infotext(data) == line["infotext"]

    # Each stage started from the previous stage's bytes, exactly as the server sent them.
    assert sorted(base64.b64decode(image) for image in fed_to_img2img) == sorted(
        kept["txt2img", index] for index in (0, 1)
    )
    assert sorted(base64.b64decode(image) for image in fed_to_upscale) == sorted(
        kept["img2img", index] for index in (0, 1)
    )

    (video,) = [line for line in lines if line["stage"] == "video"]
    assert (folder / video["path"]).stat().st_size > 0
    assert video["size"] == [192, 128] and video["frames"] == 4
    assert all(image.endswith(EXTENSIONS[expected]) for image in video["images"])

    records = read_records(AppPaths.from_environment().data_dir / "records.jsonl").records
    image_records = [record for record in records if record["stage"] in IMAGE_STAGES]
    assert len(image_records) == 6
    for record in image_records:
        outputs = record["outputs"]
        assert outputs["format"] == expected
        assert outputs["paths"][0].endswith(EXTENSIONS[expected])
        assert outputs["infotext"].startswith(PROMPT)


@contextmanager
def _garbling_proxy(upstream: str, endpoint: str, image: bytes) -> Iterator[str]:
    """A loopback server that passes every request to `upstream` and answers `endpoint` with
    `image` in place of the images the simulator made."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._forward()

        def do_POST(self) -> None:
            self._forward()

        def _forward(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {"Content-Type": "application/json"} if body else {}
            answer = httpx.request(
                self.command, upstream + self.path, content=body, headers=headers, timeout=30
            )
            content = answer.content
            if self.path.endswith(endpoint) and answer.status_code == 200:
                data = answer.json()
                data["images"] = [base64.b64encode(image).decode()] * len(data["images"])
                content = json.dumps(data).encode()
            self.send_response(answer.status_code)
            self.send_header("Content-Type", answer.headers.get("content-type", "text/plain"))
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.parametrize(
    ("image", "reason"),
    [
        (b"GIF89a\x01\x00\x01\x00", "img2img sent an image that is not a PNG, JPEG or WebP"),
        (b"\xff\xd8\xff\xe0 not really a jpeg", "img2img sent a damaged JPEG image"),
    ],
    ids=["gif", "damaged-jpeg"],
)
async def test_an_image_in_no_known_format_fails_the_job_and_says_so(image, reason):
    flags = {"stages": ["txt2img", "img2img"], "txt2img": {"steps": 2, "width": 64, "height": 64}}
    request = RunRequest(prompt=PROMPT, flags=flags)
    with (
        SimServer(flavor="sdnext", speed=0).start_in_thread() as sim,
        _garbling_proxy(sim.url, "/img2img", image) as url,
    ):
        launcher = launcher_for(url)
        try:
            prepared, summary, events = await run_to_end(launcher, request)
        finally:
            await launcher.aclose()
    assert summary.counts == {"failed": 1}
    (failure,) = [event for event in events if isinstance(event, JobFailed)]
    assert failure.stage == "img2img" and reason in failure.reason
    assert not failure.will_retry
    folder = Path(prepared.run.folder)
    assert [line["stage"] for line in manifest(folder)] == ["txt2img"], "earlier stage kept"
    assert not list(folder.glob("img2img/*")), "nothing written for the bad answer"


async def test_live_previews_are_kept_under_the_extension_of_their_format():
    """The servers send the /progress preview in the samples_format too."""
    flags = {"txt2img": {"steps": 150, "width": 512, "height": 512}}
    async with SimServer(flavor="sdnext", speed=4.0, preview=True) as sim:
        launcher = launcher_for(sim.url, options=EngineOptions(previews=True))
        try:
            _, summary, events = await run_to_end(launcher, RunRequest(prompt=PROMPT, flags=flags))
        finally:
            await launcher.aclose()
    assert summary.counts == {"done": 1}
    previews = [e.preview_path for e in events if isinstance(e, StageProgress) and e.preview_path]
    assert previews, "no live preview arrived"
    assert all(path.endswith(".jpg") for path in previews)
    assert open_bytes(Path(previews[-1]).read_bytes()).format == "JPEG"
