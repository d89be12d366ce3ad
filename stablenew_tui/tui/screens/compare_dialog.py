"""The comparison grid dialog ("Compare: make a grid…" in the palette): what `stablenew compare`
takes, as a form. The prompt (the editor's template at first), up to three axes — the first is
the sheet's columns, the second its rows, the third one sheet per value — each an axis name and
a comma list of values, and the seed (the seed field's, else random).

For the axes whose values are the node's names (models, VAEs, samplers, schedulers) the line
below the form lists them while the values are being typed, and → completes the value being
typed to the first that fits. Enter queues the grid as Ctrl+R queues a run; a wrong axis or
value is named in a notification and the dialog stays, with everything typed, until the run is
queued. Esc closes it (a grid already being planned is still queued, or refused by a note).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widgets import Input, Label, Select

from stablenew_tui.errors import InputError
from stablenew_tui.pipeline.compare_grid import AXIS_NAMES, MAX_AXES, ComparisonGrid
from stablenew_tui.services.comparisons import complete_listed, parse_axes, parse_seed

AXIS_ROLES = ("columns", "rows", "sheets")[:MAX_AXES]
HINT = "Enter: queue the grid · → completes a name · Esc: close"


@dataclass(frozen=True)
class ComparisonAsk:
    prompt: str
    grid: ComparisonGrid
    seed: int | None  # None: a random one


class AxisValues(Suggester):
    """Completes the value being typed from the node's names for the row's axis."""

    def __init__(self, choices: Callable[[], list[str]]) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.choices = choices

    async def get_suggestion(self, value: str) -> str | None:
        return complete_listed(value, self.choices())


class ComparisonDialog(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "dismiss(None)", "Close", id="compare.close"),
    ]
    DEFAULT_CSS = """
    ComparisonDialog { align: center middle; }
    ComparisonDialog > Vertical { width: 76; max-width: 100%; height: auto; padding: 0 1;
                                  border: round $primary; background: $surface; }
    ComparisonDialog .row { height: 1; margin-bottom: 1; }
    ComparisonDialog .row Label { width: 9; color: $text-muted; }
    ComparisonDialog Input, ComparisonDialog Input:focus {
        height: 1; border: none; padding: 0 1; background: $boost; width: 1fr; }
    ComparisonDialog Input:focus { background: $primary 30%; }
    ComparisonDialog Select { width: 18; margin-right: 1; }
    ComparisonDialog SelectCurrent, ComparisonDialog Select:focus > SelectCurrent {
        height: 1; border: none; padding: 0 1; background: $boost; }
    ComparisonDialog Select:focus > SelectCurrent { background: $primary 30%; }
    ComparisonDialog #seed { width: 24; }
    ComparisonDialog #known { height: 2; width: 1fr; color: $text-muted; }
    ComparisonDialog #hint { color: $text-muted; }
    """

    def __init__(
        self,
        prompt: str,
        seed: int | None,
        choices: Callable[[], Awaitable[dict[str, list[str]]]],
        submit: Callable[[ComparisonAsk], Awaitable[bool]],
    ) -> None:
        """`choices` gives the node's names per axis; `submit` plans and queues the grid and
        says whether it was queued (it names what is wrong itself)."""
        super().__init__()
        self.prompt = prompt
        self.seed = seed
        self.known: dict[str, list[str]] = {}
        self._load_choices = choices
        self._submit = submit
        self.planning = False

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "comparison grid: every combination, one prompt and seed"
            with Horizontal(classes="row"):
                yield Label("prompt")
                yield Input(self.prompt, placeholder="prompt or template", id="prompt")
            for number, role in enumerate(AXIS_ROLES):
                with Horizontal(classes="row"):
                    yield Label(role)
                    yield Select(
                        [(name, name) for name in AXIS_NAMES], prompt="no axis",
                        id=f"axis-{number}",
                    )  # fmt: skip
                    yield Input(
                        placeholder="values, e.g. 5, 7", id=f"values-{number}",
                        suggester=AxisValues(partial(self._choices_of, number)),
                    )  # fmt: skip
            with Horizontal(classes="row"):
                yield Label("seed")
                seed = "" if self.seed is None else str(self.seed)
                yield Input(seed, placeholder="random", id="seed")
            yield Label("", id="known")
            yield Label(HINT, id="hint")

    def on_mount(self) -> None:
        self.query_one("#axis-0", Select).focus()
        self._fetch_choices()

    @work(exit_on_error=False)
    async def _fetch_choices(self) -> None:
        self.known = await self._load_choices()
        self._show_known()

    def _axis_of(self, number: int) -> str | None:
        value = self.query_one(f"#axis-{number}", Select).value
        return value if isinstance(value, str) else None

    def _choices_of(self, number: int) -> list[str]:
        return self.known.get(self._axis_of(number) or "", [])

    def _row_in_focus(self) -> int | None:
        focused = self.focused
        name = focused.id if focused is not None and focused.id else ""
        kind, _, number = name.partition("-")
        return int(number) if kind in ("axis", "values") else None

    @on(Select.Changed)
    @on(Input.Changed)
    def _show_known(self) -> None:
        """The node's names for the axis being filled in, so none has to be remembered."""
        number = self._row_in_focus()
        axis = self._axis_of(number) if number is not None else None
        names = self.known.get(axis or "", [])
        text = f"{axis}s on the node: {', '.join(names)}" if names else ""
        self.query_one("#known", Label).update(text)

    def on_descendant_focus(self) -> None:
        self._show_known()

    @on(Input.Submitted)
    def _queue(self) -> None:
        if self.planning:
            return
        prompt = self.query_one("#prompt", Input).value
        try:
            if not prompt.strip():
                raise InputError("the prompt is empty")
            grid = parse_axes(
                [(self._axis_of(n) or "", self.query_one(f"#values-{n}", Input).value)
                 for n in range(len(AXIS_ROLES))]
            )  # fmt: skip
            seed = parse_seed(self.query_one("#seed", Input).value)
        except InputError as error:
            self.notify(str(error), severity="error", timeout=10)
            return
        self.planning = True  # from now: a second Enter must not queue the grid twice
        self.query_one("#hint", Label).update("checking the values with the node…")
        self._plan(ComparisonAsk(prompt, grid, seed))

    @work(exit_on_error=False)
    async def _plan(self, ask: ComparisonAsk) -> None:
        try:
            queued = await self._submit(ask)
        finally:
            self.planning = False
        if queued:
            self.dismiss(None)
        else:  # what is wrong has been said; everything typed is still here
            self.query_one("#hint", Label).update(HINT)
