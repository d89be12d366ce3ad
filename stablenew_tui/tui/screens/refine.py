"""`i` on the Results tab: send the marked images on through img2img and/or upscale, with the
stage cards' settings. One key per stage toggles it, Enter runs: marking three images and
refining them takes a handful of keys."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from stablenew_tui.pipeline.refine import REFINE_STAGES


class RefineDialog(ModalScreen[list[str] | None]):
    BINDINGS = [
        Binding("enter", "run", "Refine", id="refine.run"),
        Binding("i", "switch('img2img')", "img2img on/off", id="refine.img2img"),
        Binding("u", "switch('upscale')", "Upscale on/off", id="refine.upscale"),
        Binding("escape", "dismiss(None)", "Cancel", id="refine.cancel"),
    ]
    DEFAULT_CSS = """
    RefineDialog { align: center middle; }
    RefineDialog > Vertical { width: 64; max-width: 95%; height: auto; padding: 0 1;
                              border: round $primary; background: $surface; }
    RefineDialog #hint { color: $text-muted; }
    """

    def __init__(self, images: int, stages: list[str], settings: dict[str, Any]) -> None:
        """`stages`: those on at first; `settings`: the stage cards' values."""
        super().__init__()
        self.images = images
        self.stages = {stage: stage in stages for stage in REFINE_STAGES}
        self.settings = settings

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = f"refine {self.images} image(s)"
            yield Static(id="stages")
            yield Label("i, u: img2img, upscale on/off · Enter: run · Esc: cancel", id="hint")

    def on_mount(self) -> None:
        self._draw()

    def _draw(self) -> None:
        img2img, upscale = self.settings.get("img2img", {}), self.settings.get("upscale", {})
        sampler = img2img.get("sampler") or "as txt2img"
        what = {
            "img2img": f"denoising {img2img.get('denoising_strength')} · sampler {sampler}",
            "upscale": f"{upscale.get('upscaler')} ×{upscale.get('scale')}",
        }
        text = Text()
        for stage, on in self.stages.items():
            text.append("[x] " if on else "[ ] ", style="bold" if on else "dim")
            text.append(f"{stage:<8} ", style="bold" if on else "dim")
            text.append(f"{what[stage]}\n", style="" if on else "dim")
        self.query_one("#stages", Static).update(text)

    def action_switch(self, stage: str) -> None:
        self.stages[stage] = not self.stages[stage]
        self._draw()

    def action_run(self) -> None:
        chosen = [stage for stage, on in self.stages.items() if on]
        if not chosen:
            self.notify("turn on img2img or upscale first (i, u)", severity="warning")
            return
        self.dismiss(chosen)
