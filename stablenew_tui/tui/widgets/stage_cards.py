"""Stage cards: dropdowns filled from the node's catalog, inputs checked as you type.

The cards start from the warm settings (defaults < config < last run < the preset chosen in
the palette), and show a preset's values once it is chosen. What the user changes
here is the strongest layer of the next run; what they leave alone still lets a pack's own
settings apply, exactly as on the command line. An input that may be left to the WebUI shows
"auto" while empty, and emptying it gives it back.
"""

from __future__ import annotations

from typing import Any, cast

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.validation import Integer, Number
from textual.widgets import Checkbox, Input, Label, Select

from stablenew_tui.learning.suggest import Favourite
from stablenew_tui.tui.widgets.form_fields import CARDS, FormField, put_value, value_at
from stablenew_tui.tui.widgets.model_picker import ModelPicker, tick_mark
from stablenew_tui.webui.resources import ADETAILER, ResourceCatalog

WEIGHT_FILES = ("safetensors", "ckpt", "pt", "pth", "bin")  # extensions a label leaves out


class OnOff(Checkbox):
    """A checkbox that reads without colour: `▐✓▌ on` or `▐ ▌ off`."""

    def __init__(self, value: bool, **kwargs: Any) -> None:
        super().__init__(_on_off(value), value=value, compact=True, **kwargs)
        self.BUTTON_INNER = tick_mark(value)

    def watch_value(self) -> None:
        self.BUTTON_INNER = tick_mark(self.value)
        self.label = _on_off(self.value)
        super().watch_value()


def _on_off(value: bool) -> str:
    return "on" if value else "off"


class StageCards(VerticalScroll):
    DEFAULT_CSS = """
    /* A scrollbar that shows at every size: at 80×24 the last cards are below the fold. */
    StageCards { padding: 0 1; scrollbar-size-vertical: 1;
                 scrollbar-background: $panel; scrollbar-color: $accent; }
    StageCards .card { height: auto; border: round $panel-lighten-2; padding: 0 1;
                       margin-bottom: 0; }
    StageCards .card-row { height: auto; }
    StageCards .field { height: auto; width: 1fr; min-width: 22; layout: horizontal; }
    StageCards .field Label { width: 15; padding-top: 0; color: $text-muted; }
    StageCards .field Input { width: 1fr; height: 1; border: none; padding: 0 1;
                              background: $boost; }
    StageCards .field Input.-invalid { background: $error 30%; }
    StageCards .field Select { width: 1fr; }
    StageCards .field Select > SelectOverlay { text-wrap: nowrap; text-overflow: ellipsis; }
    StageCards .field OnOff { width: 1fr; }
    """

    def __init__(self, base: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base = base
        self._catalog: ResourceCatalog | None = None
        self.favourites: dict[str, list[Favourite]] = {}  # catalog list → values rated highly

    def compose(self) -> ComposeResult:
        for name, fields in CARDS.items():
            with Vertical(classes="card", id=f"card-{name}") as card:
                card.border_title = name
                for start in range(0, len(fields), 2):
                    with Horizontal(classes="card-row"):
                        for field in fields[start : start + 2]:
                            yield self._field(field)

    def _field(self, field: FormField) -> Horizontal:
        value = value_at(self.base, field)
        widget: Checkbox | Select[Any] | Input | ModelPicker
        if field.kind == "models":
            first = value[0] if isinstance(value, list) else value
            widget = ModelPicker(
                self._options(field, first), value, select_id=field.widget_id, id=_picker_id(field)
            )
        elif field.kind == "text":
            widget = Input(
                value or "", placeholder="the image's own", id=field.widget_id, compact=True
            )
            widget.cursor_blink = False
        elif field.kind in ("switch", "stage"):
            widget = OnOff(bool(value), id=field.widget_id)
        elif field.kind == "choice":
            widget = Select(
                self._options(field, value), value=_or_blank(value), compact=True,
                allow_blank=field.optional, prompt=field.blank_label, id=field.widget_id,
            )  # fmt: skip
        else:
            low, high = field.bounds()
            validator = Integer if field.kind == "int" else Number
            widget = number = Input(
                "" if value is None else str(value),
                type="integer" if field.kind == "int" else "number",
                validators=[validator(minimum=low, maximum=high)],
                valid_empty=field.optional,
                placeholder="auto" if field.optional else "",
                id=field.widget_id,
                compact=True,
            )
            number.cursor_blink = False  # a blink is a redraw sent over SSH
        label = f"{field.label}\n+ also on" if field.kind == "models" else field.label
        return Horizontal(Label(label), widget, classes="field")

    def _options(self, field: FormField, current: Any) -> list[tuple[str, str]]:
        names = list(field.options)
        if field.catalog and self._catalog is not None:
            catalog = self._catalog
            names = (
                [*catalog.upscalers, *catalog.latent_upscale_modes]
                if field.catalog == "hires"
                else list(getattr(catalog, field.catalog))
            )
        if current not in (None, "") and current not in names:
            names.append(str(current))  # keep a remembered choice visible even if unknown here
        starred = {f.value: f for f in self.favourites.get(field.catalog or "", [])}
        ordered = [n for n in starred if n in names] + [n for n in names if n not in starred]
        return [(_starred(starred[n]) if n in starred else _shown(n), n) for n in ordered]

    def update_catalog(
        self, catalog: ResourceCatalog, favourites: dict[str, list[Favourite]] | None = None
    ) -> None:
        """Refill every dropdown; what was selected stays selected."""
        self._catalog = catalog
        self.favourites = favourites or {}
        self._offer_adetailer(catalog)
        for fields in CARDS.values():
            for field in fields:
                if field.kind == "models":
                    picker = self.query_one(f"#{_picker_id(field)}", ModelPicker)
                    picker.set_options(self._options(field, picker.first))
                if field.kind != "choice" or not field.catalog:
                    continue
                select = self.query_one(f"#{field.widget_id}", Select)
                current = select.value if select.value != Select.NULL else None
                select.set_options(self._options(field, current))
                if current is not None:
                    select.value = current

    def set_value(self, path: str, value: Any) -> bool:
        """Show `value` in the input of setting `path` ("txt2img.cfg_scale"), as if the user
        had typed or picked it; False when no card shows that setting."""
        field = next((f for fields in CARDS.values() for f in fields if f.path == path), None)
        if field is None:
            return False
        self._show(field, self._listed(field, value))  # records hold names, not titles
        return True

    def start_from(self, base: dict[str, Any]) -> None:
        """Start from other settings (the warm ones with a preset chosen, or without it again):
        each value they change is shown; what the user changed elsewhere stays, and only what
        differs from `base` is the next run's strongest layer."""
        old, self.base = self.base, base
        for fields in CARDS.values():
            for field in fields:
                value = value_at(base, field)
                if value != value_at(old, field):
                    value = self._listed(field, value)
                    put_value(base, field, value)  # as shown: not a change of the user's
                    self._show(field, value)

    def _listed(self, field: FormField, value: Any) -> Any:
        """The catalog's spelling of `value` where it lists it another way (a checkpoint's name
        without its hash, a scheduler's label), so a dropdown never offers one choice twice."""
        if isinstance(value, list):
            return [self._listed(field, one) for one in value]
        if not field.catalog or self._catalog is None or not isinstance(value, str):
            return value
        if field.catalog == "models":
            titles = (m.title for m in self._catalog.model_details if m.matches(value))
            return next(titles, value)
        listed = (name for _, name in self._options(field, None) if _loose(name) == _loose(value))
        return next(listed, value)

    def _show(self, field: FormField, value: Any) -> None:
        if field.kind == "models":
            picker = self.query_one(f"#{_picker_id(field)}", ModelPicker)
            first = value[0] if isinstance(value, list) else value
            picker.choose(self._options(field, first), value)
            return
        widget = self.query_one(f"#{field.widget_id}")
        if isinstance(widget, Checkbox):
            widget.value = bool(value)
        elif isinstance(widget, Select):
            widget.set_options(self._options(field, value))
            widget.value = _or_blank(value)
        elif isinstance(widget, Input):
            widget.value = "" if value is None else str(value)

    def _offer_adetailer(self, catalog: ResourceCatalog) -> None:
        """The ADetailer stage only where the node has the extension."""
        installed = ADETAILER in catalog.scripts.img2img
        switch = self.query_one("#field-stages-adetailer", Checkbox)
        if not installed:
            switch.value = False
        switch.disabled = not installed
        card = self.query_one("#card-adetailer")
        card.border_title = "adetailer" if installed else "adetailer: not on this node"

    # -- reading the cards back ----------------------------------------------------------

    def values(self) -> dict[str, Any]:
        """Every card value, as a settings table (invalid inputs are left out)."""
        table: dict[str, Any] = {"stages": list(self.base.get("stages", ["txt2img"]))}
        for fields in CARDS.values():
            for field in fields:
                put_value(table, field, self._read(field))
        return table

    def changed(self) -> dict[str, Any]:
        """Only what the user changed from the warm settings: the strongest merge layer."""
        table: dict[str, Any] = {}
        current = self.values()
        for fields in CARDS.values():
            for field in fields:
                value = value_at(current, field)
                if value != value_at(self.base, field):
                    put_value(table, field, value)
        if "stages" in table:
            table["stages"] = current["stages"]
        return table

    def invalid_fields(self) -> list[str]:
        """Each input that holds what a run cannot take, named with its card and range."""
        return [
            f"{card} {field.label} ({_range(field)})"
            for card, fields in CARDS.items()
            for field in fields
            if field.kind in ("int", "float")
            and not self.query_one(f"#{field.widget_id}", Input).is_valid
        ]

    def _read(self, field: FormField) -> Any:
        if field.kind == "models":
            return self.query_one(f"#{_picker_id(field)}", ModelPicker).value
        widget = self.query_one(f"#{field.widget_id}")
        if isinstance(widget, Checkbox):
            return widget.value
        if isinstance(widget, Select):
            return None if widget.value == Select.NULL else widget.value
        text = cast(Input, widget).value.strip()
        if not text or field.kind == "text":
            return text or None
        try:
            return int(text) if field.kind == "int" else float(text)
        except ValueError:
            return value_at(self.base, field)


def _picker_id(field: FormField) -> str:
    return f"{field.widget_id}-picker"


def _loose(name: str) -> str:
    """A name as the WebUI matches it: `SGM Uniform` is `sgm_uniform`."""
    return name.lower().replace(" ", "_")


def _or_blank(value: Any) -> Any:
    return Select.NULL if value in (None, "") else value


def _starred(favourite: Favourite) -> str:
    """A favourite with its evidence: rated images and their shrunk mean."""
    return f"★ {_shown(favourite.value)} ({favourite.count}, {favourite.mean:.1f})"


def _shown(name: str) -> str:
    """A file's title as a person picks it: `SDXL/juggernaut.safetensors [31e35c80fc]` →
    `SDXL/juggernaut`, so it fits a dropdown line at 80 columns; the value sent keeps it all."""
    title, bracket, rest = name.rpartition(" [")
    if bracket and rest.endswith("]"):
        name = title
    stem, dot, extension = name.rpartition(".")
    return stem if dot and extension.lower() in WEIGHT_FILES else name


def _range(field: FormField) -> str:
    low, high = field.bounds()
    number = "a whole number" if field.kind == "int" else "a number"
    limits = f"{low:g}–{high:g}" if low is not None and high is not None else number
    return f"{limits}, or empty for auto" if field.optional else limits
