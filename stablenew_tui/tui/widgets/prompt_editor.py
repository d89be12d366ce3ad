"""The prompt editor: template, negative, sampling mode, the segment list with locks, and the
exact prompt the next run starts with.

A view over `PromptDraft`; the screen tells it which image seed comes next. The keyboard starts
in the segment list, where letters are keys; `e` goes into the template and Esc comes back.
"""

from __future__ import annotations

import random
from typing import Any

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import DataTable, Input, Label, Select, Static, TextArea

from stablenew_tui.prompts import SamplingMode
from stablenew_tui.prompts.draft import PromptDraft, SegmentAction
from stablenew_tui.prompts.locks import DroppedLock
from stablenew_tui.tui.widgets.key_hints import key_display

EDIT_SETTLE_SECONDS = 0.25  # re-parse after typing pauses, not on every key
EXAMPLE = (
    "e.g. a lighthouse at {dusk|dawn|night}, __lighting__, {oil painting|ink drawing}\n"
    "{a|b} picks one option, __name__ a line of a wildcard file. Esc when done."
)
HELD_MARK, REROLLED_MARK, FREE_MARK = "🔒", "↻", "·"
TEMPLATE_TITLE, EDITING_TITLE = "template", "template · editing, Esc when done"


class SegmentTable(DataTable):
    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="segments.down", system=True),
        Binding("k", "cursor_up", "Up", show=False, id="segments.up", system=True),
        Binding("l", "act('lock')", "Lock", id="segments.lock"),
        Binding("u", "act('unlock')", "Unlock", id="segments.unlock"),
        Binding("r", "act('reroll')", "Re-roll", id="segments.reroll"),
        Binding("L", "act('lock_all')", "Lock all", id="segments.lock_all"),
        Binding("U", "act('unlock_all')", "Unlock all", id="segments.unlock_all"),
        Binding("R", "act('reroll_all')", "Re-roll all", id="segments.reroll_all"),
    ]
    # The selected row stands out only while the list has the keyboard.
    DEFAULT_CSS = """
    SegmentTable { height: 1fr; min-height: 4; }
    SegmentTable > .datatable--cursor { background: $surface; color: $foreground;
                                        text-style: none; }
    """

    class Act(Message):
        """A key asked for `action` on the selected segment (`index`, None when none is)."""

        def __init__(self, action: SegmentAction, index: int | None) -> None:
            self.action = action
            self.index = index
            super().__init__()

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.add_column("#", key="index", width=3)
        self.add_column("", key="held", width=2)
        self.add_column("segment", key="source", width=28)
        self.add_column("next value", key="value")

    @property
    def selected_index(self) -> int | None:
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return int(key) if key is not None else None

    def action_act(self, action: str) -> None:
        # A binding's action string names a SegmentAction; an unknown name fails here, loudly.
        self.post_message(self.Act(SegmentAction(action), self.selected_index))


class PromptEditor(Vertical):
    BINDINGS = [
        Binding("e", "edit", "Edit template", id="editor.edit"),
        Binding("escape", "leave", "Done editing", id="editor.leave", show=False, system=True),
    ]
    DEFAULT_CSS = """
    PromptEditor { padding: 0 1; }
    PromptEditor #template { height: 5; }
    PromptEditor .row { height: 1; }
    PromptEditor .row Label { width: auto; padding-right: 1; color: $text-muted; }
    PromptEditor #negative { width: 1fr; height: 1; border: none; background: $boost; }
    PromptEditor #mode { width: 22; }
    PromptEditor #seed-info { width: 1fr; color: $text-muted; padding-left: 1; }
    PromptEditor #segment-keys { height: 1; color: $text-muted; }
    PromptEditor #next-prompt { height: auto; max-height: 4; border: round $panel-lighten-2;
                                padding: 0 1; }
    PromptEditor #next-prompt.-error { border: round $error; color: $error; }
    """

    class Changed(Message):
        """The template or the locks changed: the next prompt is different."""

    def __init__(self, draft: PromptDraft, keymap: dict[str, str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.draft = draft
        self.keymap = keymap  # to name the keys as remapped
        self.image_seed = 0
        self.rng = random.Random()
        self._settle_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        template = TextArea(
            self.draft.text, id="template", soft_wrap=True, tab_behavior="focus",
            placeholder=EXAMPLE,
        )  # fmt: skip
        template.cursor_blink = False  # no blinking cursors: each blink is a redraw over SSH
        yield template
        with Horizontal(classes="row"):
            yield Label("negative:")
            negative = Input(
                self.draft.negative, id="negative", compact=True,
                placeholder="type what to keep out of the image, e.g. blurry, lowres",
            )  # fmt: skip
            negative.cursor_blink = False
            yield negative
        with Horizontal(classes="row"):
            yield Label("mode:")
            modes = [(mode.value, mode) for mode in SamplingMode]
            yield Select(modes, value=self.draft.mode, allow_blank=False, compact=True, id="mode")
            yield Label("", id="seed-info")
        yield SegmentTable(id="segments")
        yield Label(self._segment_keys(), id="segment-keys")
        yield Static("", id="next-prompt")

    def _segment_keys(self) -> str:
        """What the segment keys do, in one line: a re-roll is for the next run only."""
        keys = {binding.id: key_display(self.app, binding, self.keymap)
                for binding in (*SegmentTable.BINDINGS, *PromptEditor.BINDINGS)
                if isinstance(binding, Binding)}  # fmt: skip
        return (
            f"{keys['editor.edit']} edit · {keys['segments.lock']} lock: every run · "
            f"{keys['segments.reroll']}/{keys['segments.reroll_all']} re-roll one/all: "
            "next run only"
        )

    def on_mount(self) -> None:
        self.query_one("#template", TextArea).border_title = TEMPLATE_TITLE
        self.query_one("#next-prompt", Static).border_title = "next prompt"
        self.refresh_view()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if event.widget.id == "template":  # say so: letters are text here, not keys
            event.widget.border_title = EDITING_TITLE

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        if event.widget.id == "template":
            event.widget.border_title = TEMPLATE_TITLE

    def action_edit(self) -> None:
        self.query_one("#template", TextArea).focus()

    def action_leave(self) -> None:
        self.query_one(SegmentTable).focus()

    # -- what the screen calls -----------------------------------------------------------

    def set_image_seed(self, seed: int) -> None:
        self.image_seed = seed
        self.refresh_view()

    def load(self, template: str, negative: str) -> None:
        self.query_one("#template", TextArea).text = template
        self.query_one("#negative", Input).value = negative
        self._apply_edit(template)

    def hold_option(self, template: str, index: int, text: str) -> bool:
        """Hold segment `index` of `template` to the option reading `text`, loading the
        template first when another is in the editor; True when pinned, False when locked."""
        if self.draft.text != template:
            self.load(template, self.draft.negative)
        pinned = self.draft.hold(index, text)
        self.refresh_view()
        self.post_message(self.Changed())
        return pinned

    def refresh_view(self) -> None:
        draft = self.draft
        table = self.query_one(SegmentTable)
        selected = table.selected_index
        table.clear()
        for row in draft.rows(self.image_seed):
            mark = HELD_MARK if row.held else REROLLED_MARK if row.rerolled else FREE_MARK
            table.add_row(str(row.index), mark, row.source, row.value, key=str(row.index))
        if selected is not None and str(selected) in table.rows:
            table.move_cursor(row=table.get_row_index(str(selected)))
        preview = self.query_one("#next-prompt", Static)
        resolved = draft.preview(self.image_seed)
        if draft.error is not None:
            preview.update(Text(str(draft.error)))
        elif resolved is not None:
            preview.update(Text(resolved.text))
        preview.set_class(draft.error is not None, "-error")
        prompt_seed = (  # short enough for 80 columns beside the mode
            "prompt seed = image seed" if draft.prompt_seed is None
            else f"prompt {REROLLED_MARK} {draft.prompt_seed} (next run)"
        )  # fmt: skip
        self.query_one("#seed-info", Label).update(f"seed {self.image_seed} · {prompt_seed}")

    # -- input -----------------------------------------------------------------------------

    def flush(self) -> None:
        """Apply typing that has not settled yet: a run must use what is on screen."""
        if self._settle_timer is not None:
            self._settle_timer.stop()
            self._settle_timer = None
            self._apply_edit(self.query_one("#template", TextArea).text)

    @on(TextArea.Changed, "#template")
    def _template_typed(self, event: TextArea.Changed) -> None:
        if self._settle_timer is not None:
            self._settle_timer.stop()
        text = event.text_area.text
        self._settle_timer = self.set_timer(EDIT_SETTLE_SECONDS, lambda: self._apply_edit(text))

    def _apply_edit(self, text: str) -> None:
        dropped = self.draft.edit(text)
        if dropped:  # one notice for all of them: a stack of toasts hides some at 80×24
            self.notify(_dropped_notice(dropped), severity="warning", timeout=8, markup=False)
        self.refresh_view()
        self.post_message(self.Changed())

    @on(Input.Changed, "#negative")
    def _negative_typed(self, event: Input.Changed) -> None:
        self.draft.negative = event.value

    @on(Select.Changed, "#mode")
    def _mode_chosen(self, event: Select.Changed) -> None:
        if isinstance(event.value, SamplingMode):
            self.draft.mode = event.value
            self.refresh_view()

    @on(SegmentTable.Act)
    def _segment_action(self, message: SegmentTable.Act) -> None:
        rerolls = (SegmentAction.REROLL, SegmentAction.REROLL_ALL)
        if message.action in rerolls and self.draft.mode in _IN_ORDER:
            self.notify(f"re-roll draws values at random: {self.draft.mode} mode goes through "
                        "them in order (random or learned mode re-rolls)", timeout=5)  # fmt: skip
            return
        self.draft.act(message.action, message.index, self.image_seed, self.rng)
        self.refresh_view()
        self.post_message(self.Changed())


_IN_ORDER = (SamplingMode.COMBINATORIAL, SamplingMode.CYCLICAL)  # no draw to re-roll


def _dropped_notice(dropped: list[DroppedLock]) -> str:
    held = ", ".join(
        f"{lock.index} {lock.source or ''} = "
        + (lock.text if lock.text is not None else f"option {lock.option}")
        for lock in dropped
    )
    return f"{len(dropped)} lock(s) dropped, their segments changed: {held}"
