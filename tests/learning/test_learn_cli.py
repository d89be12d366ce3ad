"""`stablenew learn report` through `cli.main`, on files written by the real writers."""

from __future__ import annotations

import json

import pytest

from stablenew_tui.cli import main
from stablenew_tui.learning.ratings import RATINGS_NAME, RatingStore
from stablenew_tui.learning.records import RECORDS_NAME, RecordWriter
from stablenew_tui.paths import AppPaths
from tests.learning.synthetic import TEMPLATE, SyntheticUser, rated_session

TASTE = SyntheticUser({"txt2img checkpoint": {"dreamshaper_8": 1.5, "realvis_v4": -1.5}})


def _write(session) -> None:
    data_dir = AppPaths.from_environment().data_dir
    RecordWriter(data_dir / RECORDS_NAME).append(
        [{k: v for k, v in r.items() if k != "record_version"} for r in session.records]
    )
    store = RatingStore(data_dir / RATINGS_NAME)
    for rating in session.ratings:
        store.rate(rating.path, rating.rating, job_id=rating.job_id, run_id=rating.run_id,
                   stage=rating.stage)  # fmt: skip


def _report(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["learn", "report", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_json_report(capsys):
    _write(rated_session(TASTE, images=60, seed=2))
    code, out, _ = _report(capsys, "--json")
    report = json.loads(out)
    assert code == 0 and report["rated_images"] == 60
    factors = report["factors"]
    assert [f["importance"] for f in factors] == sorted(
        (f["importance"] for f in factors), reverse=True
    )
    checkpoint = factors[0]
    assert checkpoint["factor"] == "txt2img checkpoint"
    assert checkpoint["options"][0]["value"] == "dreamshaper_8"
    assert checkpoint["options"][-1]["value"] == "realvis_v4"
    option = checkpoint["options"][0]
    assert option["interval_80"][0] <= option["shrunk_mean"] <= option["interval_80"][1]
    assert option["keeper_share_low"] <= option["keeper_share"]
    segment = next(f for f in factors if f["stage"] == "prompt")
    assert segment["template"] == TEMPLATE and segment["segment"] in (1, 2, 3)
    loo = report["leave_one_out"]
    assert loo["predictions"] == 60 * len(factors)


def test_text_report_fits_80_columns_and_flags_thin_evidence(capsys):
    _write(rated_session(TASTE, images=30, seed=4))
    code, out, _ = _report(capsys)
    lines = out.splitlines()
    assert code == 0 and lines[0].startswith("30 rated images")
    assert lines[1].startswith("leave-one-out")
    assert "txt2img checkpoint" in out and out.count("few") >= 1
    assert max(len(line) for line in lines) <= 80


def test_filters(capsys):
    _write(rated_session(TASTE, images=20, seed=4))
    assert json.loads(_report(capsys, "--json", "--template", TEMPLATE)[1])["rated_images"] == 20
    assert json.loads(_report(capsys, "--json", "--template", "a fox")[1])["rated_images"] == 0
    assert json.loads(_report(capsys, "--json", "--since", "2020-01-01")[1])["rated_images"] == 20
    # The synthetic images were made in January 2027.
    assert json.loads(_report(capsys, "--json", "--since", "2027-02-01")[1])["rated_images"] == 0


def test_nothing_rated_yet(capsys):
    code, out, _ = _report(capsys)
    assert code == 0 and "no rated images" in out


@pytest.mark.parametrize("since", ["yesterday", "2026-13-01", ""])
def test_a_bad_date_exits_2(capsys, since):
    code, _, err = _report(capsys, "--since", since)
    assert code == 2
    assert f"--since {since!r}: expected a date like 2026-11-30" in err
    assert len(err.strip().splitlines()) == 1


def test_unreadable_lines_are_noted(capsys):
    _write(rated_session(TASTE, images=5, seed=4))
    data_dir = AppPaths.from_environment().data_dir
    with (data_dir / RATINGS_NAME).open("a") as handle:
        handle.write('{"path": "/x.png", "rat\n')
    code, out, _ = _report(capsys)
    assert code == 0 and f"{data_dir / RATINGS_NAME}: skipped unreadable rating line(s) 6" in out
