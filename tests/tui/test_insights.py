"""The Insights tab at 80×24: the report as tables with bars, and one key to apply an option."""

from __future__ import annotations

import itertools

from textual.widgets import Input, Select

from stablenew_tui.learning.factors import PROMPT
from stablenew_tui.learning.picks import PICKS_NAME, Pick, PickedImage, PickStore
from stablenew_tui.learning.ratings import RATINGS_NAME, RatingStore
from stablenew_tui.learning.records import RECORDS_NAME, RecordWriter
from stablenew_tui.paths import AppPaths
from stablenew_tui.tui.widgets.insights import FactorTable, InsightsView, OptionTable
from stablenew_tui.tui.widgets.insights_bars import length_bar, rating_scale, strength_scale
from stablenew_tui.tui.widgets.insights_picks import PickTable
from stablenew_tui.tui.widgets.stage_cards import StageCards
from tests.learning.synthetic import TEMPLATE, SyntheticUser, rated_session
from tests.tui.helpers import app_for, drawn_text, node_state, wait_until

TASTE = SyntheticUser(
    {
        "txt2img sampler": {"DDIM": 1.2, "Euler a": -0.8},
        "txt2img cfg": {"4–6": 0.8},
        "segment 1": {"gold": 1.0, "red": -1.0},
    }
)


def _rated_history() -> None:
    session = rated_session(TASTE, images=150, seed=6)
    data_dir = AppPaths.from_environment().data_dir
    RecordWriter(data_dir / RECORDS_NAME).append(
        [{k: v for k, v in r.items() if k != "record_version"} for r in session.records]
    )
    store = RatingStore(data_dir / RATINGS_NAME)
    for rating in session.ratings:
        store.rate(rating.path, rating.rating, job_id=rating.job_id, run_id=rating.run_id,
                   stage=rating.stage)  # fmt: skip


def _fits(table) -> bool:
    """Every column is in sight: the table needs no more width than it has."""
    return table.virtual_size.width <= table.scrollable_content_region.width


async def _choose_factor(pilot, view: InsightsView, wanted) -> None:
    """Move the factor cursor to the first factor `wanted` accepts, then into its options."""
    factors = view.query_one(FactorTable)
    factors.focus()
    row = next(n for n, f in enumerate(view.report.factors) if wanted(f.factor))
    factors.move_cursor(row=row)
    await pilot.press("enter")
    await pilot.pause()


async def test_insights_show_the_report_and_apply_options_at_80x24(sim):
    _rated_history()
    app = app_for(sim.url)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await wait_until(pilot, lambda: node_state(app) == "READY", what="READY")
        draft = app.screen.services.draft
        # The editor's learned mode draws from the same ratings, read when the app starts.
        await wait_until(pilot, lambda: TEMPLATE in draft.beliefs, what="beliefs")
        assert draft.beliefs[TEMPLATE][1].options["gold"].mean > 3.5
        await pilot.press("ctrl+n")
        view = app.screen.query_one(InsightsView)
        factors, options = view.query_one(FactorTable), view.query_one(OptionTable)
        await wait_until(pilot, lambda: factors.row_count > 0, what="the report")
        assert view.report.rated_images == 150
        ranked = [factor.factor.label for factor in view.report.factors]
        assert ranked[0] in ("txt2img sampler", "segment 1 {red|blue|green|gold}")
        assert options.row_count == len(view.report.factors[0].options)
        assert _fits(factors) and _fits(options)
        assert factors.region.bottom <= 23 and options.region.bottom <= 23  # above key hints
        best_bar = str(factors.get_row_at(0)[1])
        assert best_bar.strip() and set(best_bar.strip()) <= set("█▏▎▍▌▋▊▉")
        scale = options.get_row_at(0)[3]
        assert "●" in scale.plain and len(scale.plain) == 16

        # A setting goes into its stage card: the best sampler, then the best CFG as used.
        await _choose_factor(pilot, view, lambda f: f.label == "txt2img sampler")
        assert app.focused is options
        best = view.report.factors[factors.cursor_row].options[0]
        await pilot.press("a")
        cards = app.screen.query_one(StageCards)
        assert cards.query_one("#field-txt2img-sampler", Select).value == best.value == "DDIM"
        await _choose_factor(pilot, view, lambda f: f.label == "txt2img cfg")
        await pilot.press("a")
        assert cards.query_one("#field-txt2img-cfg-scale", Input).value == "5.0"
        assert cards.changed()["txt2img"] == {"sampler": "DDIM", "cfg_scale": 5.0}

        # A segment's option is pinned in the editor, its template loaded there.
        await _choose_factor(pilot, view, lambda f: f.stage == PROMPT and f.setting == "1")
        gold = next(n for n, o in enumerate(view.report.factors[factors.cursor_row].options)
                    if o.value == "gold")  # fmt: skip
        options.move_cursor(row=gold)
        await pilot.press("a")
        assert draft.text == TEMPLATE
        assert dict(draft.locks.pinned) == {1: 3}  # {red|blue|green|gold}: option 3
        assert all("gold" in row.value for row in draft.rows(1) if row.index == 1)
        assert any("pinned" in n.message for n in app._notifications)


async def test_an_empty_history_says_what_to_do(sim):
    app = app_for(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+n")
        view = app.screen.query_one(InsightsView)
        await wait_until(pilot, lambda: view.report is not None, what="the report")
        summary = str(view.query_one("#insights-summary").render())
        assert "no rated images yet" in summary
        await pilot.press("tab", "a")  # nothing to apply: no error
        assert view.query_one(OptionTable).row_count == 0


def test_bars_are_drawn_to_scale():
    # 16 cells for 1–5: a rating r falls in cell int((r - 1) / 4 · 16).
    scale = rating_scale(low=2.0, mean=2.6, high=3.1, overall=4.0, width=16).plain
    assert scale == "····━━●━━···┊···"
    assert rating_scale(1.0, 1.0, 5.0, 3.0, 16).plain == "●━━━━━━━━━━━━━━━"
    assert length_bar(1.0, 2.0, 4) == "██  "
    assert length_bar(0.3, 1.0, 2) == "▋ "  # 0.3 · 16 eighths = 4.8 → 5 eighths: ▋
    assert length_bar(2.0, 2.0, 3) == "███" and length_bar(1.0, 0.0, 3) == ""


def _picked_grid(run_id: str, template: str, rounds: int) -> None:
    """`rounds` times, every pair of a 2×2 grid picked: DDIM over Euler a always, CFG 7 over 5
    when the samplers are equal."""
    axes = [{"name": "cfg", "values": ["5", "7"]},
            {"name": "sampler", "values": ["Euler a", "DDIM"]}]  # fmt: skip
    images = [
        PickedImage(f"/out/{run_id}/{n}.png", f"job{n}", {"cfg": cfg, "sampler": sampler})
        for n, (cfg, sampler) in enumerate(
            [(c, s) for c in ("5", "7") for s in ("Euler a", "DDIM")]
        )
    ]
    store = PickStore(AppPaths.from_environment().data_dir / PICKS_NAME)

    def better(a: PickedImage, b: PickedImage) -> bool:
        key = {"DDIM": 1, "Euler a": 0}
        return (key[a.cell["sampler"]], a.cell["cfg"]) > (key[b.cell["sampler"]], b.cell["cfg"])

    for _ in range(rounds):
        for a, b in itertools.combinations(images, 2):
            preferred, other = (a, b) if better(a, b) else (b, a)
            store.record(Pick(run_id, preferred, other, axes, template))


async def test_pick_rankings_show_beside_the_factors_at_80x24(sim):
    _rated_history()
    _picked_grid("run-a", "a fox", rounds=2)  # 12 picks: ranked
    PickStore(AppPaths.from_environment().data_dir / PICKS_NAME).record(
        Pick(
            "run-b",
            PickedImage("/x/1.png", "j1", {"cfg": "5"}),
            PickedImage("/x/2.png", "j2", {"cfg": "7"}),
            [],
            "a cat",
        )
    )  # fmt: skip  one pick: not enough to rank
    app = app_for(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+n")
        view = app.screen.query_one(InsightsView)
        factors = view.query_one(FactorTable)
        await wait_until(pilot, lambda: factors.row_count > 0, what="the report")
        summary = view.query_one("#insights-summary")
        assert "1 grid ranked from picks · 1 needs more picks" in drawn_text(summary)
        rated = len(view.report.factors)
        labels = [str(factors.get_row_at(n)[0]) for n in range(rated, factors.row_count)]
        assert labels == ["picked: cfg · “a fox”", "picked: sampler · “a fox”",
                          "picked: images · “a fox”"]  # fmt: skip
        picks, options = view.query_one(PickTable), view.query_one(OptionTable)
        assert options.display and not picks.display
        factors.focus()
        factors.move_cursor(row=rated + 1)  # the sampler row
        await pilot.pause()
        assert picks.display and not options.display
        assert picks.border_title == "sampler of “a fox”, from 12 picks"
        rows = [picks.get_row_at(n) for n in range(picks.row_count)]
        assert [row[0] for row in rows] == ["DDIM", "Euler a"]
        assert rows[0][1] == "8/8", "DDIM won every pick against Euler a"
        ddim, euler = rows[0][3].plain, rows[1][3].plain
        assert ddim.index("●") > 8 > euler.index("●"), "either side of 0, drawn at cell 8"
        assert _fits(picks) and picks.region.bottom <= 23
        await pilot.press("down")  # the images: the best cell first
        await pilot.pause()
        assert str(picks.get_row_at(0)[0]) == "cfg=7 · sampler=DDIM"
        await pilot.press("enter")
        assert app.focused is picks
        # Back on a rating factor, its options take the place again.
        factors.focus()
        factors.move_cursor(row=0)
        await pilot.pause()
        assert options.display and not picks.display
        assert options.row_count == len(view.report.factors[0].options)


def test_strength_bars_are_drawn_to_scale():
    # 16 cells for −3…+3: a strength s falls in cell int((s + 3) / 6 · 16); 0 (cell 8) marked.
    assert strength_scale(low=1.0, strength=2.0, high=3.0, width=16).plain == "········┊·━━━●━━"
    assert strength_scale(-1.0, 0.5, 1.5, 16).plain == "·····━━━━●━━━···"
    assert strength_scale(-9.0, -5.0, -4.0, 16).plain == "●·······┊·······"
