import json
import random

import pytest

from stablenew_tui.pipeline.jobs import PromptSpec, SourceImage
from stablenew_tui.pipeline.settings import merge_settings
from stablenew_tui.pipeline.speed_model import KEPT, SPEEDS_NAME, SpeedBook, fit_line, job_work


def settings(**table):
    return merge_settings(("test", table))


def test_work_is_megapixels_times_steps_of_each_enabled_stage():
    spec = PromptSpec(prompt="p")
    plain = settings(txt2img={"width": 1000, "height": 1000, "steps": 20})
    assert job_work(spec, plain) == pytest.approx(20.0)
    hires = settings(txt2img={"width": 512, "height": 512, "steps": 20, "hires": True,
                              "hires_scale": 2.0, "hires_steps": 10})  # fmt: skip
    assert job_work(spec, hires) == pytest.approx(0.262144 * 20 + 1.048576 * 10)
    refined = settings(
        stages=["txt2img", "img2img", "upscale"],
        txt2img={"width": 512, "height": 512, "steps": 20},
        img2img={"denoising_strength": 0.5},
        upscale={"scale": 2.0},
    )
    # img2img samples the last half of its 20 steps (+1); the extras upscale counts as six
    # steps over the 1024² output.
    assert job_work(spec, refined) == pytest.approx(0.262144 * 20 + 0.262144 * 11 + 1.048576 * 6)


def test_work_of_a_refined_image_starts_from_its_own_size():
    image = SourceImage(path="/x.png", sha256="0" * 64, format="png", width=1000, height=500)
    spec = PromptSpec(prompt="p", image=image)
    upscale_only = settings(stages=["upscale"], upscale={"scale": 2.0})
    assert job_work(spec, upscale_only) == pytest.approx(2.0 * 6)


def test_fit_recovers_a_known_line():
    rng = random.Random(1)
    samples = [(work, 1.5 + 0.2 * work + rng.uniform(-0.05, 0.05))
               for work in (rng.uniform(5, 60) for _ in range(20))]  # fmt: skip
    a, b = fit_line(samples)
    assert a == pytest.approx(1.5, abs=0.1)
    assert b == pytest.approx(0.2, abs=0.005)


def test_one_outlier_moves_nothing():
    samples = [(work, 1.0 + 0.1 * work) for work in (10, 20, 30, 40, 50, 15, 25, 35)]
    samples.insert(4, (30, 60.0))  # a job that waited on something else
    a, b = fit_line(samples)
    assert a == pytest.approx(1.0, abs=1e-6)
    assert b == pytest.approx(0.1, abs=1e-6)


def test_jobs_of_one_size_fit_through_the_origin(tmp_path):
    samples = [(10.0, 5.0)] * 4 + [(10.0, 5.2)]
    book = SpeedBook(tmp_path / SPEEDS_NAME)
    for work, seconds in samples:
        book.observe("n", work, seconds)
    assert book.estimate("n", 10.0) == pytest.approx(5.0, rel=0.05)
    assert book.estimate("n", 20.0) == pytest.approx(10.0, rel=0.05)
    assert book.rate("n") == pytest.approx(2.0, rel=0.05)


def test_recent_jobs_outweigh_old_ones(tmp_path):
    """A node that became half as fast is seen as such once its new pace is the recent
    majority, within the observations kept."""
    book = SpeedBook(tmp_path / SPEEDS_NAME)
    for _ in range(KEPT):
        book.observe("n", 10.0, 2.0)
    for _ in range(10):
        book.observe("n", 10.0, 4.0)
    assert book.estimate("n", 10.0) == pytest.approx(4.0)


def test_unknown_node_has_no_estimate(tmp_path):
    book = SpeedBook(tmp_path / SPEEDS_NAME)
    assert book.estimate("n", 10.0) is None
    assert book.rate("n") is None
    assert book.load_seconds("n", "m") is None


def test_load_times_are_kept_per_node_and_model(tmp_path):
    book = SpeedBook(tmp_path / SPEEDS_NAME)
    for seconds in (8.0, 9.0, 30.0):
        book.observe_load("a", "xl", seconds)
    book.observe_load("a", "sd15", 2.0)
    assert book.load_seconds("a", "xl") == 9.0  # the median: one slow load does not count
    assert book.load_seconds("a", "sd15") == 2.0
    assert book.load_seconds("b", "xl") is None


def test_round_trip(tmp_path):
    path = tmp_path / SPEEDS_NAME
    book = SpeedBook.load(path)
    for work in (10, 20, 30, 40):
        book.observe("fast", work, 0.5 + 0.05 * work)
    book.observe_load("fast", "xl", 7.5)
    book.save()
    again = SpeedBook.load(path)
    assert again.estimate("fast", 25) == pytest.approx(book.estimate("fast", 25))
    assert again.load_seconds("fast", "xl") == 7.5
    assert not list(tmp_path.glob("*.part")), "no temporary file left behind"


def test_two_books_saving_in_turn_keep_each_others_nodes(tmp_path):
    # Two processes, each making images on its own node, save into one data folder.
    path = tmp_path / SPEEDS_NAME
    first, second = SpeedBook.load(path), SpeedBook.load(path)
    first.observe("left", 10, 2.0)
    first.save()
    second.observe("right", 10, 4.0)
    second.observe_load("right", "xl", 6.0)
    second.save()
    first.observe("left", 20, 4.0)
    first.save()
    merged = SpeedBook.load(path)
    assert merged.estimate("left", 20) == pytest.approx(4.0)
    assert merged.estimate("right", 10) == pytest.approx(4.0)
    assert merged.load_seconds("right", "xl") == 6.0
    assert first.estimate("right", 10) == pytest.approx(4.0)  # the saver sees them too


@pytest.mark.parametrize(
    "text",
    ["{not json", json.dumps({"version": 99, "nodes": {}}),
     json.dumps({"version": 1, "nodes": {"a": {"samples": [[-1, 2]], "loads": {}}}}),
     json.dumps({"version": 1, "nodes": {"a": {"samples": "x"}}}), "\xff"],
)  # fmt: skip
def test_an_unreadable_book_starts_empty_with_a_warning(tmp_path, caplog, text):
    path = tmp_path / SPEEDS_NAME
    path.write_text(text, encoding="latin-1")
    book = SpeedBook.load(path)
    assert book.estimate("a", 1.0) is None
    assert str(path) in caplog.text
    book.observe("a", 1.0, 1.0)
    book.save()
    assert SpeedBook.load(path).estimate("a", 1.0) == pytest.approx(1.0)


def test_impossible_observations_are_ignored(tmp_path):
    book = SpeedBook(tmp_path / SPEEDS_NAME)
    book.observe("n", 0.0, 1.0)
    book.observe("n", 1.0, float("nan"))
    book.observe("n", 1.0, -1.0)
    assert book.estimate("n", 1.0) is None
