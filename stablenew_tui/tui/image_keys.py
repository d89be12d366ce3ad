"""The keys that act on one finished image, the same on its Results row and in its details
view: open it full screen, send its prompt to the editor, reuse its seed, copy its prompt or
path, make it again."""

from __future__ import annotations

from enum import StrEnum

from textual.binding import Binding


class ImageAction(StrEnum):
    DETAILS = "details"
    PREVIEW = "preview"
    TO_EDITOR = "to_editor"
    REUSE_SEED = "reuse_seed"
    COPY_PROMPT = "copy_prompt"
    COPY_PATH = "copy_path"
    AGAIN = "again"
    AGAIN_NEW_SEED = "again_new_seed"


# key, action, description, shown in the key hints
_IMAGE_KEYS = (
    ("v", ImageAction.PREVIEW, "Full screen", True),
    ("e", ImageAction.TO_EDITOR, "Prompt to editor", False),
    ("s", ImageAction.REUSE_SEED, "Reuse seed", False),
    ("y", ImageAction.COPY_PROMPT, "Copy prompt", False),
    ("Y", ImageAction.COPY_PATH, "Copy path", False),
    ("a", ImageAction.AGAIN, "Make again", False),
    ("A", ImageAction.AGAIN_NEW_SEED, "Make again, new seed", False),
)


def image_bindings(scope: str, *, hints: bool = False) -> list[Binding]:
    """The image keys as bindings with ids `<scope>.<action>`, calling `action_image(name)`
    on whoever declares them. `hints`: show them all in the key hints (a view with room)."""
    return [
        Binding(
            key,
            f"image('{action.value}')",
            description,
            show=hints or shown,
            id=f"{scope}.{action.value}",
        )
        for key, action, description, shown in _IMAGE_KEYS
    ]
