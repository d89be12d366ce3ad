import pytest

from stablenew_tui.learning.ratings import RatingStore
from stablenew_tui.learning.suggest import favourites, scores_by


def test_latest_rating_wins_and_survives_reload(tmp_path):
    path = tmp_path / "ratings.jsonl"
    store = RatingStore(path)
    store.rate("/out/a.png", 2, job_id="j1", run_id="r", stage="txt2img")
    store.rate("/out/a.png", 4, job_id="j1", run_id="r", stage="txt2img")
    store.rate("/out/b.png", 5)
    store.rate("/out/b.png", None)  # cleared
    again = RatingStore(path)
    assert again.get("/out/a.png") == 4
    assert again.get("/out/b.png") is None
    assert [r.path for r in again.rated()] == ["/out/a.png"]


def test_ratings_are_one_to_five(tmp_path):
    store = RatingStore(tmp_path / "ratings.jsonl")
    for bad in (0, 6, 3.5, True, "4"):
        with pytest.raises(ValueError):
            store.rate("/x.png", bad)


def test_broken_lines_are_skipped(tmp_path):
    path = tmp_path / "ratings.jsonl"
    path.write_text('{"path": "/a.png", "rating": 3}\n{"path": "/b.png", "rat\n')
    store = RatingStore(path)
    assert store.get("/a.png") == 3 and store.skipped_lines == [2]


def _record(path, model, sampler, choice):
    return {
        "outputs": {"paths": [path]},
        "inputs": {"model": model, "sampler": sampler, "choices": {"1": choice}},
    }


def test_favourites_rank_by_shrunk_mean(tmp_path):
    store = RatingStore(tmp_path / "ratings.jsonl")
    records = []
    plan = [
        ("m1", "Euler", "red", 5), ("m1", "Euler", "red", 5), ("m1", "DDIM", "blue", 4),
        ("m2", "DDIM", "blue", 1), ("m2", "DDIM", "red", 2), ("m3", "Euler", "red", 5),
    ]  # fmt: skip
    for n, (model, sampler, choice, rating) in enumerate(plan):
        path = f"/out/{n}.png"
        records.append(_record(path, model, sampler, choice))
        store.rate(path, rating)
    models = scores_by("model", store.rated(), records)
    assert [s.value for s in models] == ["m1", "m3", "m2"]  # 3 good beats 1 lucky
    assert favourites("model", store.rated(), records) == ["m1", "m3"]
    assert favourites("sampler", store.rated(), records) == ["Euler"]
    assert scores_by("choice:1", store.rated(), records)[0].value == "red"
