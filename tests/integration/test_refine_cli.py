"""`stablenew refine` as a user runs it: a real subprocess against a real simulator."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from stablenew_tui.sim import SimServer
from tests.integration.pipeline_helpers import manifest, posted
from tests.integration.test_run_cli import stablenew


@pytest.fixture
def sim_in_thread():
    simulator = SimServer(speed=0).start_in_thread()
    try:
        yield simulator
    finally:
        simulator.stop()


def _made(url: str, out: Path) -> list[Path]:
    result = stablenew("run", "--node", url, "--prompt", "a red fox", "--negative", "blurry",
                       "--images-per-prompt", "3", "--steps", "2", "--size", "64x64",
                       "--out", str(out))  # fmt: skip
    assert result.returncode == 0, result.stderr
    (folder,) = out.iterdir()
    return sorted((folder / "txt2img").iterdir())


def test_refine_sends_the_chosen_images_on_with_the_flags(sim_in_thread, tmp_path):
    url = sim_in_thread.url
    first, _, third = _made(url, tmp_path / "made")
    result = stablenew("refine", str(third), str(first), "--node", url,
                       "--stages", "img2img,upscale", "--denoise", "0.3", "--steps", "4",
                       "--scale", "2", "--out", str(tmp_path / "refined"), "--json")  # fmt: skip
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert events[-1]["event"] == "run_finished" and events[-1]["counts"] == {"done": 2}
    made = {body["seed"]: body for body in posted(sim_in_thread, "txt2img")}
    refined = posted(sim_in_thread, "img2img")
    assert [body["init_images"][0] for body in refined] == [
        base64.b64encode(path.read_bytes()).decode() for path in (third, first)
    ]
    for body in refined:
        assert (body["denoising_strength"], body["steps"]) == (0.3, 4)
        assert (body["prompt"], body["negative_prompt"]) == ("a red fox", "blurry")
        assert body["seed"] in made, "each keeps the seed of the image it starts from"
    assert [body["upscaling_resize"] for body in posted(sim_in_thread, "extra-single-image")] == [
        2.0, 2.0,
    ]  # fmt: skip
    (folder,) = (tmp_path / "refined").iterdir()
    sources = {line["source_image"]["path"] for line in manifest(folder)}
    assert sources == {str(first), str(third)}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{tmp}/missing.png", "--stages", "img2img"], "missing.png: no such file"),
        (["{tmp}/notes.png", "--stages", "img2img"], "notes.png: not a PNG, JPEG or WebP image"),
        (["{tmp}/notes.png", "--stages", "txt2img"], "'txt2img' cannot be one of its stages"),
        (["{tmp}/notes.png"], "the following arguments are required: --stages"),
        (["--stages", "img2img"], "the following arguments are required: IMAGE"),
        (["{tmp}/notes.png", "--stages", "img2img", "--seed", "x"], "invalid int value: 'x'"),
    ],
)
def test_bad_refine_input_exits_2_with_one_line(args, message, tmp_path):
    (tmp_path / "notes.png").write_text("not an image")
    args = [arg.replace("{tmp}", str(tmp_path)) for arg in args]
    result = stablenew("refine", "--node", "http://127.0.0.1:9", *args)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr


def test_a_run_from_prompts_without_txt2img_points_to_refine():
    result = stablenew("run", "--node", "http://127.0.0.1:9", "--prompt", "x", "--stages",
                       "img2img")  # fmt: skip
    assert result.returncode == 2
    assert "a run from prompts starts with txt2img" in result.stderr
    assert "stablenew refine" in result.stderr
