"""Bradley–Terry strengths from pairwise picks, with intervals. Pure Python.

Each item i has a strength θᵢ (log scale); in one pick, i is preferred to j with probability
σ(θᵢ − θⱼ) = 1 / (1 + e^−(θᵢ−θⱼ)). The fit maximises the log-likelihood of the picks plus a
Gaussian prior θᵢ ~ N(0, 1/λ): the prior is what makes the fit defined with few picks (an item
that won every pick would otherwise run off to infinity, and items nobody compared have no
scale) and it pulls strengths with little evidence toward the middle, as the rating report's
shrinkage does. λ = `PRIOR_PRECISION` = 0.5 is worth about two draws against an average item.

The fit is Newton's method on the penalised log-likelihood (concave, so it converges from 0
in a handful of steps). The intervals are the Laplace approximation: the posterior covariance
is the inverse of the negative Hessian at the optimum, and an 80 % interval is θᵢ ± z₀.₉₀ √Σᵢᵢ.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from stablenew_tui.learning.stats import Z80

PRIOR_PRECISION = 0.5
_TOLERANCE = 1e-9
_MAX_STEPS = 50


@dataclass(frozen=True)
class Strength:
    item: Hashable
    strength: float  # θ, in log-odds of being preferred
    low: float  # its 80 % interval
    high: float
    wins: int
    picks: int  # picks it took part in


def fit(items: Sequence[Hashable], picks: Sequence[tuple[Hashable, Hashable]]) -> list[Strength]:
    """Strengths of `items` from `picks`, each (preferred, other); strongest first. Picks
    naming an item not listed are ignored."""
    index = {item: number for number, item in enumerate(items)}
    size = len(items)
    # wins[i][j]: times i was preferred to j
    wins = [[0] * size for _ in range(size)]
    for winner, loser in picks:
        if winner in index and loser in index and winner != loser:
            wins[index[winner]][index[loser]] += 1
    theta = [0.0] * size
    for _ in range(_MAX_STEPS):
        gradient, hessian = _derivatives(theta, wins)
        step = _solve(hessian, gradient)
        theta = [value + change for value, change in zip(theta, step, strict=True)]
        if max((abs(change) for change in step), default=0.0) < _TOLERANCE:
            break
    _, hessian = _derivatives(theta, wins)
    covariance = _inverse(hessian)
    strengths = []
    for i, item in enumerate(items):
        spread = Z80 * math.sqrt(max(covariance[i][i], 0.0))
        won = sum(wins[i])
        taken = won + sum(wins[j][i] for j in range(size))
        strengths.append(Strength(item, theta[i], theta[i] - spread, theta[i] + spread, won, taken))
    strengths.sort(key=lambda s: (-s.strength, str(s.item)))
    return strengths


def preferred_probability(mine: float, other: float) -> float:
    """How likely the item of strength `mine` is preferred to one of strength `other`."""
    return 1.0 / (1.0 + math.exp(other - mine))


Matrix = list[list[float]]


def _derivatives(theta: list[float], wins: list[list[int]]) -> tuple[list[float], Matrix]:
    """The gradient of the penalised log-likelihood and its negative Hessian (positive
    definite thanks to the prior): the Newton step solves one with the other."""
    size = len(theta)
    gradient = [-PRIOR_PRECISION * value for value in theta]
    hessian = [[PRIOR_PRECISION if i == j else 0.0 for j in range(size)] for i in range(size)]
    for i in range(size):
        for j in range(i + 1, size):
            games = wins[i][j] + wins[j][i]
            if not games:
                continue
            p = preferred_probability(theta[i], theta[j])
            gradient[i] += wins[i][j] - games * p
            gradient[j] -= wins[i][j] - games * p
            weight = games * p * (1.0 - p)
            hessian[i][i] += weight
            hessian[j][j] += weight
            hessian[i][j] -= weight
            hessian[j][i] -= weight
    return gradient, hessian


def _solve(matrix: list[list[float]], vector: list[float]) -> list[float]:
    """x with matrix · x = vector (Gauss–Jordan with partial pivoting)."""
    size = len(vector)
    rows = [[*row, value] for row, value in zip(matrix, vector, strict=True)]
    _eliminate(rows, size)
    return [rows[i][size] for i in range(size)]


def _inverse(matrix: list[list[float]]) -> list[list[float]]:
    size = len(matrix)
    rows = [[*row, *(1.0 if i == j else 0.0 for j in range(size))] for i, row in enumerate(matrix)]
    _eliminate(rows, size)
    return [row[size:] for row in rows]


def _eliminate(rows: list[list[float]], size: int) -> None:
    """Reduce the left `size` columns of `rows` to the identity, in place."""
    for column in range(size):
        pivot = max(range(column, size), key=lambda r: abs(rows[r][column]))
        rows[column], rows[pivot] = rows[pivot], rows[column]
        lead = rows[column][column]
        rows[column] = [value / lead for value in rows[column]]
        for r in range(size):
            if r != column and rows[r][column]:
                factor = rows[r][column]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[column], strict=True)]
