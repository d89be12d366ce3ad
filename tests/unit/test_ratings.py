import pytest

from stablenew_tui.learning.rated_images import join_ratings
from stablenew_tui.learning.ratings import RatingStore
from stablenew_tui.learning.stats import Tally, estimate, pool
from stablenew_tui.learning.suggest import favourites


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


def _record(path, model, sampler):
    job = path.removesuffix(".png")
    return {"job_id": job, "stage": "txt2img", "outputs": {"paths": [path]},
            "inputs": {"model": model, "sampler": sampler}}  # fmt: skip


def test_favourites_rank_by_shrunk_mean_and_carry_their_evidence(tmp_path):
    store = RatingStore(tmp_path / "ratings.jsonl")
    records = []
    plan = [
        ("m1", "Euler", 5), ("m1", "Euler", 5), ("m1", "DDIM", 4), ("m1", "Euler", 5),
        ("m2", "DDIM", 1), ("m2", "DDIM", 2), ("m2", "Euler", 1), ("m3", "Euler", 5),
    ]  # fmt: skip
    for n, (model, sampler, rating) in enumerate(plan):
        path = f"/out/{n}.png"
        records.append(_record(path, model, sampler))
        store.rate(path, rating, job_id=f"/out/{n}")
    found = favourites(join_ratings(store.rated(), records).images)
    models = found["models"]
    assert [f.value for f in models] == ["m3", "m1"]  # m2 (mean 1.33) is no favourite
    assert [f.count for f in models] == [1, 4]
    # The prior strength comes from these ratings: the models differ a lot (τ² large) and
    # m1's ratings agree (σ² small), so a single 5 is strong evidence; a fixed prior of two
    # average ratings would have put it at (5 + 2 · 3.5) / 3 = 4.0, below m1.
    pooling = pool([_tally(5, 5, 4, 5), _tally(1, 2, 1), _tally(5)])
    assert models[0].mean == pytest.approx(estimate(_tally(5), pooling).shrunk)
    assert models[1].mean == pytest.approx(estimate(_tally(5, 5, 4, 5), pooling).shrunk)
    assert pooling.prior_strength < 0.5 and 4.5 < models[1].mean < models[0].mean < 5
    assert [f.value for f in found["samplers"]] == ["Euler"]
    assert "vaes" not in found


def _tally(*ratings):
    tally = Tally()
    for rating in ratings:
        tally.add(rating)
    return tally
