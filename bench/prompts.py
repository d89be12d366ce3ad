"""Prompt engine throughput beside Dynamic Prompts, and memory while enumerating.

    .venv/bin/python bench/prompts.py [--quick]

Random: each of our prompts is seeded on its own, so any one of them can be drawn again from its
seed alone; our splitmix64 generator (stablenew_tui/prompts/rng.py) seeds in about 0.3 µs. Dynamic
Prompts is measured drawing all prompts from one seeded stream ("DP", how its WebUI extension
uses it, and its fastest) and re-seeded for every prompt ("DP seeded", the same guarantee as
ours). Combinatorial: the first N combinations.
Each figure is the best of three runs. Memory: tracemalloc's peak while enumerating a
10^7-combination template under growing caps; flat means lazy.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
import tracemalloc
import warnings
from collections.abc import Callable
from pathlib import Path

from dynamicprompts.generators import CombinatorialPromptGenerator, RandomPromptGenerator
from dynamicprompts.wildcards import WildcardManager

from stablenew_tui.prompts import PromptSampler, Template, WildcardLibrary

SIMPLE = "a {red|blue|green} {cat|dog} in a {house|garden}, (best:1.2)"
TYPICAL = (
    "{portrait|photo|painting} of a {young|old} {woman|man} with {red|blonde|black} hair, "
    "{smiling|serious}, {soft|hard} light, {indoors|outdoors}, (masterpiece:1.2)"
)
NESTED = "__scene__, __style__"
BIG = "a __big__ beside a __big__"
WILDCARDS = {
    "colors.txt": "red\nblue\ngreen\ngolden\nsilver\n",
    "animals.txt": "cat\ndog\n{small|large} __colors__ horse\nowl\n",
    "places.txt": "a forest\na {quiet|busy} street\na __colors__ room\n",
    "scene.txt": "__animals__ in __places__\n{two|three} __animals__ near __places__\n",
    "style.txt": "{oil|ink} painting\n__colors__ palette\n",
}
TEN_TO_THE_SEVEN = " ".join("{" + "|".join(f"w{n}" for n in range(10)) + "}" for _ in range(7))


def write_wildcards(root: Path) -> None:
    for name, text in WILDCARDS.items():
        (root / name).write_text(text)
    (root / "big.txt").write_text("\n".join(f"value number {n}" for n in range(10_000)))


def rate(run: Callable[[int], int], count: int) -> float:
    """Prompts per second, best of three runs asking for `count` prompts."""
    best = 0.0
    for _ in range(3):
        started = time.perf_counter()
        produced = run(count)
        best = max(best, produced / (time.perf_counter() - started))
    return best


def ours(template: str, library: WildcardLibrary, mode: str) -> Callable[[int], int]:
    sampler = PromptSampler(Template.parse(template), library, mode=mode)
    return lambda count: sum(1 for _ in sampler.prompts(range(count)))


def theirs_random(template: str, manager: WildcardManager, seeded: bool) -> Callable:
    generator = RandomPromptGenerator(manager, seed=1)
    if seeded:
        return lambda count: len(generator.generate(template, count, seeds=list(range(count))))
    return lambda count: len(generator.generate(template, count))


def theirs_combinatorial(template: str, manager: WildcardManager) -> Callable:
    generator = CombinatorialPromptGenerator(manager)
    return lambda count: len(generator.generate(template, max_prompts=count))


def throughput_rows(library: WildcardLibrary, manager: WildcardManager, scale: float) -> list:
    """(case, ours, Dynamic Prompts streaming, Dynamic Prompts seeded per prompt or None)."""
    cases = [
        ("simple", SIMPLE, 20_000, 20_000),
        ("typical (7 variants)", TYPICAL, 20_000, 10_000),
        ("nested wildcards", NESTED, 20_000, 1_000),
        ("10,000-line wildcard", BIG, 20_000, 2_000),
    ]
    rows = []
    for name, template, our_count, their_count in cases:
        our_count, their_count = int(our_count * scale), int(their_count * scale)
        mine = rate(ours(template, library, "random"), our_count)
        stream = rate(theirs_random(template, manager, seeded=False), their_count)
        seeded = rate(theirs_random(template, manager, seeded=True), their_count)
        rows.append((f"random: {name}", mine, stream, seeded))
    combinatorial = [
        ("simple", SIMPLE + " {a|b|c|d|e|f|g|h|i|j}" * 4),
        ("nested wildcards", NESTED + " {a|b|c|d|e|f|g|h|i|j}"),
        ("10,000-line wildcard", BIG),
    ]
    for name, template in combinatorial:
        count = int(20_000 * scale)
        mine = rate(ours(template, library, "combinatorial"), count)
        theirs = rate(theirs_combinatorial(template, manager), count)
        rows.append((f"combinatorial: {name}", mine, theirs, None))
    return rows


def memory_rows(library: WildcardLibrary, caps: list[int]) -> list[tuple[int, float, float]]:
    rows = []
    sampler = PromptSampler(Template.parse(TEN_TO_THE_SEVEN), library, mode="combinatorial")
    assert sampler.combination_count() == 10**7
    for cap in caps:
        tracemalloc.start()
        started = time.perf_counter()
        for _ in sampler.prompts(range(cap)):
            pass
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        rows.append((cap, peak / 1024, seconds))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the prompts")
    args = parser.parse_args()
    scale = 0.1 if args.quick else 1.0
    logging.getLogger("dynamicprompts").setLevel(logging.ERROR)
    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        write_wildcards(root)
        library, manager = WildcardLibrary([root]), WildcardManager(root)
        rows = throughput_rows(library, manager, scale)
        caps = [int(cap * scale) for cap in (1_000, 10_000, 100_000)]
        memory = memory_rows(WildcardLibrary([root]), caps)
    header = f"{'case':<37}{'ours/s':>10}{'DP/s':>10}{'ratio':>8}{'DP seeded/s':>13}{'ratio':>8}"
    print(header)
    for name, mine, theirs, seeded in rows:
        line = f"{name:<37}{mine:>10,.0f}{theirs:>10,.0f}{mine / theirs:>7.1f}x"
        if seeded is not None:
            line += f"{seeded:>13,.0f}{mine / seeded:>7.1f}x"
        print(line)
    print()
    print("combinatorial enumeration of a 10^7-combination template (7 variants of 10)")
    print(f"{'cap (prompts)':>14}{'tracemalloc peak':>18}{'seconds':>10}")
    for cap, kib, seconds in memory:
        print(f"{cap:>14,}{kib:>15,.0f} KiB{seconds:>10.2f}")


if __name__ == "__main__":
    main()
