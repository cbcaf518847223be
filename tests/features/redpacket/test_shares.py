"""Cutting a total into shares: exact sums, every share at least 1, a fair random draw."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qunyun.features.redpacket.shares import equal_split, random_split, split


@st.composite
def totals_and_counts(draw: st.DrawFn) -> tuple[int, int]:
    count = draw(st.integers(min_value=1, max_value=1000))
    total = draw(st.integers(min_value=count, max_value=1_000_000))
    return total, count


@given(totals_and_counts(), st.text(max_size=20))
def test_random_shares_sum_exactly_and_are_at_least_one(tc: tuple[int, int], seed: str) -> None:
    total, count = tc
    shares = random_split(total, count, seed)
    assert len(shares) == count and sum(shares) == total and min(shares) >= 1


@given(totals_and_counts())
def test_equal_shares_differ_by_at_most_one(tc: tuple[int, int]) -> None:
    total, count = tc
    shares = equal_split(total, count)
    assert len(shares) == count and sum(shares) == total
    assert max(shares) - min(shares) <= 1 and min(shares) >= 1


def test_the_same_seed_cuts_the_same_shares() -> None:
    assert random_split(1000, 10, "redpacket:7") == random_split(1000, 10, "redpacket:7")
    assert random_split(1000, 10, "redpacket:7") != random_split(1000, 10, "redpacket:8")


def test_every_composition_is_about_equally_likely() -> None:
    # 5 points in 3 shares: C(4, 2) = 6 compositions, each expected 1000 times in 6000 draws.
    seen = Counter(tuple(random_split(5, 3, f"seed:{i}")) for i in range(6000))
    assert len(seen) == 6
    assert all(850 < n < 1150 for n in seen.values()), seen


def test_a_share_of_every_position_has_the_same_mean() -> None:
    draws = [random_split(100, 4, f"mean:{i}") for i in range(4000)]
    means = [sum(d[i] for d in draws) / len(draws) for i in range(4)]
    assert all(abs(m - 25) < 1.5 for m in means), means


@pytest.mark.parametrize(("total", "count"), [(2, 3), (0, 1), (5, 0)])
def test_fewer_points_than_shares_is_refused(total: int, count: int) -> None:
    with pytest.raises(ValueError, match="cannot cut"):
        split("random", total, count, "x")
    with pytest.raises(ValueError, match="cannot cut"):
        split("equal", total, count, "x")
