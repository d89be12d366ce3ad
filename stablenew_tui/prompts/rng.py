"""The per-prompt random source: splitmix64, small, fast and the same everywhere.

Every prompt is drawn from its own seed, so a run seeds once per prompt. Seeding
`random.Random` (Mersenne Twister) builds a 2.5 KB state and cost about 4 µs, most of a
simple prompt's time; seeding this generator is one 64-bit mix. The sampler only needs
uniform floats in [0, 1), so that is all it offers.

Determinism: pure integer arithmetic masked to 64 bits, and a float built from the top 53 bits
of an output times 2**-53, which is exact in IEEE double. No `hash()`, no platform-dependent
floats, no dependence on the Python version: the same seed gives the same stream on every
machine. Changing anything here changes every prompt drawn from a seed, so don't.

The generator is splitmix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number
generators", 2014; the mixer is Stafford's variant 13): the state steps by an odd constant and
each output is the state through a bijective 64-bit mixer. The seed goes through the same
mixer before it becomes the state, so streams of nearby seeds are unrelated rather than shifted
copies of each other.
"""

from __future__ import annotations

_MASK = (1 << 64) - 1
_GAMMA = 0x9E3779B97F4A7C15  # 2**64 / golden ratio, odd
_MIX1 = 0xBF58476D1CE4E5B9
_MIX2 = 0x94D049BB133111EB
_UNIT = 1.0 / (1 << 53)  # 2**-53: 53-bit integers times this are exact doubles in [0, 1)


def _mix(value: int) -> int:
    """splitmix64's output function: a bijection on 64-bit integers."""
    value = ((value ^ (value >> 30)) * _MIX1) & _MASK
    value = ((value ^ (value >> 27)) * _MIX2) & _MASK
    return value ^ (value >> 31)


def _fold(seed: int) -> int:
    """Any int as 64 bits: itself when it fits, else its magnitude absorbed 64 bits at a time
    after a word for its sign and length, so negative and wide seeds get their own streams."""
    if 0 <= seed <= _MASK:
        return seed
    magnitude = -seed if seed < 0 else seed
    folded = _mix((magnitude.bit_length() << 1) | (seed < 0))
    while magnitude:
        folded = _mix((folded + _GAMMA + (magnitude & _MASK)) & _MASK)
        magnitude >>= 64
    return folded


class PromptRandom:
    """A seeded stream of uniform floats in [0, 1); reseeding is cheap, so reuse one."""

    __slots__ = ("_base", "_state")

    def __init__(self, seed: int = 0) -> None:
        self._base = self._state = 0
        self.seed(seed)

    def seed(self, seed: int) -> None:
        self._base = self._state = _mix(_fold(seed))

    def stream(self, number: int) -> None:
        """Switch to substream `number` of the current seed: independent of the others, and
        the same whatever was drawn before it."""
        self._state = _mix((self._base + _GAMMA * (number + 1)) & _MASK)

    def random(self) -> float:
        """The next float in [0, 1): a multiple of 2**-53, each equally likely."""
        state = self._state = (self._state + _GAMMA) & _MASK
        value = ((state ^ (state >> 30)) * _MIX1) & _MASK
        value = ((value ^ (value >> 27)) * _MIX2) & _MASK
        return ((value ^ (value >> 31)) >> 11) * _UNIT
