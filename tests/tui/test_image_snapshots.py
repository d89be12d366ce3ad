"""The image details view and the full-screen preview at 80×24 and 120×40.

The image, its run's manifest line and its learning record are written here with fixed values
(in a folder named relative to the test's working directory, with the clock in UTC), so every
frame is the same on every machine."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin

from stablenew_tui.config import AppConfig, UIConfig
from stablenew_tui.paths import AppPaths
from stablenew_tui.sim import SimServer
from stablenew_tui.tui.screens.details import DetailsScreen
from tests.tui.helpers import app_for, node_state, results_in_view, wait_until

RUN = "20260101-120000-abc123"
FOLDER = Path("out/20260101-120000_a-lighthouse-at-dusk")
IMAGE = FOLDER / "txt2img/00001_1234_a-lighthouse-at-dusk.png"
INFOTEXT = (
    "a lighthouse at dusk, oil painting\nNegative prompt: blurry, lowres\nSteps: 25, Sampler: "
    "DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 1234, Size: 96x64, Model hash: "
    "31e35c80fc, Model: sd_xl_base_1.0, Version: v1.10.1"
)
SENT = {
    "prompt": "a lighthouse at dusk, oil painting", "negative_prompt": "blurry, lowres",
    "seed": 1234, "sampler_name": "DPM++ 2M", "scheduler": "Karras", "steps": 25,
    "cfg_scale": 7.0, "width": 96, "height": 64, "batch_size": 1, "n_iter": 1,
    "override_settings": {"sd_model_checkpoint": "sd_xl_base_1.0.safetensors [31e35c80fc]"},
    "override_settings_restore_afterwards": False, "send_images": True, "save_images": False,
}  # fmt: skip
PROMPT = {
    "prompt": SENT["prompt"], "negative": SENT["negative_prompt"],
    "template": "a lighthouse at {dusk|dawn|night}, {oil painting|ink drawing|photo}",
    "choices": {"1": "dusk", "2": "oil painting"}, "locks": {"2": "oil painting"},
    "mode": "random", "prompt_seed": 1234,
}  # fmt: skip


def _write_image(path: Path) -> str:
    """A small picture: a sky, a sea and a lighthouse, with its infotext."""
    image = Image.new("RGB", (96, 64), (250, 170, 90))
    for y in range(40, 64):
        for x in range(96):
            image.putpixel((x, y), (20, 60 + y, 120 + y))
    for y in range(18, 44):
        for x in range(44, 52):
            image.putpixel((x, y), (240, 240, 230) if (y // 5) % 2 else (200, 30, 30))
    chunk = PngImagePlugin.PngInfo()
    chunk.add_text("parameters", INFOTEXT)
    path.parent.mkdir(parents=True)
    image.save(path, pnginfo=chunk)
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def image_app(tmp_path, monkeypatch, stablenew_home):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    sha256 = _write_image(IMAGE)
    job, started = f"{RUN}-00000", 1767268800.0  # 2026-01-01 12:00:00 UTC
    line = {
        "job_id": job, "run_id": RUN, "index": 0, "stage": "txt2img", **PROMPT,
        "settings": SENT, "seed": 1234, "model": "sd_xl_base_1.0",
        "model_hash": "31e35c80fc", "vae": None, "unverified": ["vae"], "node": "sim",
        "started": started, "finished": started + 4.25, "seconds": 4.25,
        "path": "txt2img/00001_1234_a-lighthouse-at-dusk.png", "format": "png",
        "sha256": sha256, "infotext": INFOTEXT,
    }  # fmt: skip
    (FOLDER / "manifest.jsonl").write_text(json.dumps(line) + "\n")
    record = {
        "record_version": 1, "time": started + 4.25, "run_id": RUN, "job_id": job,
        "stage": "txt2img", "node": "sim",
        "inputs": {**PROMPT, "model": "sd_xl_base_1.0", "sampler": "DPM++ 2M", "seed": 1234},
        "outputs": {"paths": [str(IMAGE)], "format": "png", "infotext": INFOTEXT},
    }  # fmt: skip
    data_dir = AppPaths.from_environment().data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "records.jsonl").write_text(json.dumps(record) + "\n")
    simulator = SimServer(speed=0).start_in_thread()
    try:
        yield app_for(simulator.url, AppConfig(ui=UIConfig(image_preview="halfcell")))
    finally:
        simulator.stop()
        monkeypatch.delenv("TZ")
        time.tzset()


async def _on_the_result(pilot) -> None:
    await wait_until(pilot, lambda: node_state(pilot.app) == "READY", what="READY")
    await results_in_view(pilot, 1)


async def _details(pilot) -> None:
    await _on_the_result(pilot)
    await pilot.press("enter")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, DetailsScreen),
                     what="the details in view")  # fmt: skip
    await pilot.pause()


async def _full_preview(pilot) -> None:
    await _on_the_result(pilot)
    await pilot.press("v")
    image = pilot.app.screen.query_one("#full-preview").children[0]
    await wait_until(pilot, lambda: image.image is not None, what="the image decoded")
    await pilot.pause()


SIZES = pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])


@SIZES
def test_image_details(snap_compare, image_app, size):
    assert snap_compare(image_app, terminal_size=size, run_before=_details)


@SIZES
def test_full_screen_preview(snap_compare, image_app, size):
    assert snap_compare(image_app, terminal_size=size, run_before=_full_preview)
