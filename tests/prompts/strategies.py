"""Hypothesis strategies for templates, built from parts whose sizes are known."""

from __future__ import annotations

import itertools
from math import perm

from hypothesis import strategies as st

# Wildcards of `conftest.WILDCARD_FILES` and how many values each enumerates.
WILDCARD_SIZES = {
    "colors": 3,
    "shapes/basic": 2,
    "shapes/fancy": 3,
    "art/painting": 2,
    "moods/calm": 2,
    "nested": 6,
    "shapes/*": 5,
}
JOINERS = [" ", ", ", " with ", " and a ", ""]


@st.composite
def sized_templates(draw, allow_variables: bool = True) -> tuple[str, int]:
    """(template, combination count): variants with unique words, pick-N, nested variants,
    weights, wildcards, wildcard picks and deferred variables, all in the syntax Dynamic
    Prompts shares."""
    words = (f"w{n}" for n in itertools.count())
    parts: list[str] = []
    total = 1
    definitions = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["variant", "pick", "nested", "wildcard", "wildcard_pick"]))
        if kind == "variant":
            size = draw(st.integers(1, 4))
            weights = [draw(st.sampled_from(["", "", "2::", "0.5::"])) for _ in range(size)]
            parts.append("{" + "|".join(w + next(words) for w in weights) + "}")
        elif kind == "pick":
            options = [next(words) for _ in range(draw(st.integers(1, 4)))]
            low = draw(st.integers(0, len(options)))
            high = draw(st.integers(low, len(options)))
            separator = draw(st.sampled_from(["", " and $$", "-$$"]))
            bounds = f"{low}" if low == high else f"{low}-{high}"
            parts.append("{" + f"{bounds}$${separator}" + "|".join(options) + "}")
            size = sum(perm(len(options), k) for k in range(low, high + 1))
        elif kind == "nested":
            inner = [next(words) for _ in range(draw(st.integers(1, 3)))]
            outer = [next(words) for _ in range(draw(st.integers(0, 2)))]
            parts.append("{" + "|".join([*outer, f"{next(words)} {{{'|'.join(inner)}}}"]) + "}")
            size = len(outer) + len(inner)
        elif kind == "wildcard":
            name = draw(st.sampled_from(sorted(WILDCARD_SIZES)))
            parts.append(f"__{name}__")
            size = WILDCARD_SIZES[name]
        else:
            parts.append("{2$$__colors__}")
            size = 6
        total *= size
    if allow_variables and draw(st.booleans()):
        options = [next(words) for _ in range(draw(st.integers(1, 3)))]
        definitions.append("${v={" + "|".join(options) + "}}")
        uses = draw(st.integers(1, 2))
        parts.extend(["${v}"] * uses)
        total *= len(options) ** uses
    joined = draw(st.sampled_from(JOINERS)).join(parts)
    return "".join(definitions) + joined, total


SYNTAX_PIECES = [
    "{", "}", "|", "$", "${", "__", "_", "~", "@", "::", "$$", "-", "!", "=", ":", "2", "0",
    "a", " ", "\n", "*", "**", "/", "..", "[", "]", "(", ")", "<", ">", "#", "\\", "colors",
    "shapes/", "v", "9999",
]  # fmt: skip
SNIPPETS = [
    "{a|b}", "{2$$a|b|c}", "{1-2$$ & $$a|b}", "{~a|b}", "{@a|b}", "{3::a|b}", "{|x}", "{}",
    "__colors__", "__@colors__", "__~shapes/*__", "__**__", "__nested__", "{2$$__colors__}",
    "${v=!{x|y}}", "${v={x|y}}", "${v}", "${w:d}", "${v=${v}}", "{a|{b|{c|d}}}",
]  # fmt: skip


@st.composite
def _mutated(draw) -> str:
    """A well-formed template with syntax pieces inserted at random places."""
    text = draw(sized_templates())[0] + "".join(draw(st.lists(st.sampled_from(SNIPPETS))))
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(text)))
        cut = draw(st.integers(0, 2))
        text = text[:at] + draw(st.sampled_from(SYNTAX_PIECES)) + text[at + cut :]
    return text


arbitrary_text = st.one_of(
    st.lists(st.sampled_from(SYNTAX_PIECES) | st.text(max_size=3), max_size=30).map("".join),
    st.lists(st.sampled_from(SNIPPETS + SYNTAX_PIECES), max_size=12).map("".join),
    _mutated(),
)

WEBUI_PIECES = [
    "(word:1.2)", "[word]", "[a|b]", "[a:b:0.5]", "<lora:name:0.8>", "<hypernet:x:1>",
    "BREAK", ", ", " ", "\n", "}", "|", "$", "_", ":", "!", "~", "@", "::", "$$", "a_b",
]  # fmt: skip
plain_text = st.lists(
    st.sampled_from(WEBUI_PIECES) | st.text(st.characters(blacklist_characters="{$_")),
    max_size=20,
).map("".join)
