"""Which models, samplers and prompt choices the user rates highly.

Ratings are joined to learning records by image path, so each rating knows the model,
sampler and randomized choices that made its image. Scores are shrunk toward the overall mean
(a few lucky images should not outrank many good ones).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from stablenew_tui.learning.ratings import Rating

# How many "average" ratings each option is assumed to already have.
PRIOR_WEIGHT = 2.0
FAVOURITE_MIN_SCORE = 3.5


@dataclass(frozen=True)
class Score:
    value: str
    mean: float
    count: int
    score: float


def scores_by(key: str, ratings: list[Rating], records: list[dict]) -> list[Score]:
    """Scores of each value of an input (`model`, `sampler`, `choice:2`, …), best first."""
    by_path = {
        path: record for record in records for path in record.get("outputs", {}).get("paths", [])
    }
    groups: dict[str, list[int]] = defaultdict(list)
    for rating in ratings:
        record = by_path.get(rating.path)
        if record is None or rating.rating is None:
            continue
        value = _input_value(record.get("inputs", {}), key)
        if value:
            groups[value].append(rating.rating)
    all_ratings = [r for values in groups.values() for r in values]
    if not all_ratings:
        return []
    overall = sum(all_ratings) / len(all_ratings)
    scores = [
        Score(
            value=value,
            mean=sum(values) / len(values),
            count=len(values),
            score=(sum(values) + PRIOR_WEIGHT * overall) / (len(values) + PRIOR_WEIGHT),
        )
        for value, values in groups.items()
    ]
    return sorted(scores, key=lambda s: (-s.score, -s.count, s.value))


def favourites(key: str, ratings: list[Rating], records: list[dict]) -> list[str]:
    """Values worth listing first (★) in a dropdown."""
    return [s.value for s in scores_by(key, ratings, records) if s.mean >= FAVOURITE_MIN_SCORE]


def _input_value(inputs: dict, key: str) -> str | None:
    if key.startswith("choice:"):
        value = (inputs.get("choices") or {}).get(key.removeprefix("choice:"))
    else:
        value = inputs.get(key)
    return str(value) if value not in (None, "") else None
