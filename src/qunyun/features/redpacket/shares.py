"""How a red packet's total is cut into shares. Shares are cut once, when the packet is made,
and stored, so claiming only hands out the next stored share.

Random (拼手气): a uniformly random composition of the total into `count` positive parts — pick
count - 1 distinct cut points uniformly from 1..total - 1 and take the gaps between them. Every
composition is equally likely, so every share has the same distribution (mean total / count)
whatever its position: claiming early or late gives no advantage. The generator is seeded, so a
replay cuts the same shares.

Equal (普通): total // count each; the remainder goes one point at a time to the first shares,
so shares differ by at most one and sum exactly to the total.
"""

from __future__ import annotations

import random
from itertools import pairwise

RANDOM = "random"
EQUAL = "equal"
MODES = (RANDOM, EQUAL)


def random_split(total: int, count: int, seed: str) -> list[int]:
    _check(total, count)
    rng = random.Random(seed)  # not for secrets: a fair, reproducible draw
    cuts = sorted(rng.sample(range(1, total), count - 1))
    edges = [0, *cuts, total]
    return [high - low for low, high in pairwise(edges)]


def equal_split(total: int, count: int) -> list[int]:
    _check(total, count)
    base, extra = divmod(total, count)
    return [base + 1] * extra + [base] * (count - extra)


def split(mode: str, total: int, count: int, seed: str) -> list[int]:
    if mode == RANDOM:
        return random_split(total, count, seed)
    if mode == EQUAL:
        return equal_split(total, count)
    raise ValueError(f"unknown split mode {mode!r}")


def _check(total: int, count: int) -> None:
    if count < 1 or total < count:
        raise ValueError(f"cannot cut {total} points into {count} shares of at least 1")
