"""Rates with Wilson intervals, seed spreads and breakdowns."""

from __future__ import annotations

import math

import pytest
from scipy.stats import binomtest

from course_lib.errors import CourseError
from course_lib.evaluation.uncertainty import (
    Rate,
    Spread,
    breakdown,
    median_spread,
    within_seed_spread,
)


@pytest.mark.parametrize("k, n", [(45, 56), (0, 10), (10, 10), (1, 2), (3, 1000)])
def test_wilson_interval_equals_scipy(k, n):
    ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert Rate(k, n).interval == (ci.low, ci.high)
    assert Rate(k, n).value == k / n


def test_wilson_by_its_formula_and_confidence_level():
    # Wilson's score interval written out, as an independent check of the method asked for.
    k, n, z = 45, 56, 1.959963984540054
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert Rate(k, n).interval == pytest.approx((centre - half, centre + half), abs=1e-9)
    wide, narrow = Rate(k, n, confidence=0.99).interval, Rate(k, n).interval
    assert wide[0] < narrow[0] and wide[1] > narrow[1]


def test_rate_prints_count_value_and_interval():
    assert str(Rate(45, 56)) == "45/56 = 0.80 [0.68, 0.89]"
    assert str(Rate.of([True, False, True, True])) == "3/4 = 0.75 [0.30, 0.95]"


@pytest.mark.parametrize("k, n", [(0, 0), (5, 4), (-1, 3)])
def test_impossible_rates_are_refused(k, n):
    with pytest.raises(CourseError, match=f"k={k}, n={n}"):
        Rate(k, n)


def test_median_spread_and_overlap():
    assert median_spread([0.7, 0.9, 0.8]) == Spread(0.8, 0.7, 0.9, 3)
    assert median_spread([1.0, 3.0]).median == 2.0
    assert str(median_spread([0.80, 0.84, 0.77])) == "0.80 (0.77-0.84, 3 runs)"
    assert within_seed_spread([0.70, 0.80], [0.80, 0.90])  # touching ranges overlap
    assert not within_seed_spread([0.70, 0.79], [0.80, 0.90])
    assert not within_seed_spread([0.95, 0.91], [0.80, 0.90])
    with pytest.raises(CourseError, match="no values"):
        median_spread([])


ROWS = [
    {"kind": "add", "phrasing": "seen", "correct": True},
    {"kind": "add", "phrasing": "unseen", "correct": False},
    {"kind": "capital", "phrasing": "unseen", "correct": True},
    {"kind": "add", "phrasing": "seen", "correct": True},
]


def test_breakdown_counts_every_item_once_per_group():
    by_kind = breakdown(ROWS, "kind")
    assert list(by_kind) == ["add", "capital"]
    assert (by_kind["add"].k, by_kind["add"].n) == (2, 3)
    assert (by_kind["capital"].k, by_kind["capital"].n) == (1, 1)
    by_phrasing = breakdown(ROWS, "phrasing")
    assert {g: (r.k, r.n) for g, r in by_phrasing.items()} == {"seen": (2, 2), "unseen": (1, 2)}
    by_function = breakdown(ROWS, lambda r: r["kind"] == "add", outcome="correct")
    assert {g: (r.k, r.n) for g, r in by_function.items()} == {True: (2, 3), False: (1, 1)}


def test_breakdown_refuses_an_item_without_the_field():
    with pytest.raises(CourseError, match="Item 1 has no 'template' field"):
        breakdown([{"template": "a", "correct": True}, {"correct": False}], "template")
    with pytest.raises(CourseError, match="Item 0 has no 'correct' field"):
        breakdown([{"kind": "add"}], "kind")


def test_the_spread_is_centred_on_the_median_not_the_mean():
    """One seed far off moves the mean (0.4), not the median (0.2)."""
    spread = median_spread([0.1, 0.9, 0.2])
    assert (spread.median, spread.low, spread.high, spread.n) == (0.2, 0.1, 0.9, 3)
    assert str(spread) == "0.20 (0.10-0.90, 3 runs)"


def test_rate_of_keeps_its_confidence_level():
    outcomes = [True] * 45 + [False] * 11
    rate = Rate.of(outcomes, confidence=0.9)
    ci = binomtest(45, 56).proportion_ci(0.9, method="wilson")
    assert rate.confidence == 0.9
    assert rate.interval == pytest.approx((ci.low, ci.high))


def test_values_and_items_in_other_containers_give_the_list_result():
    # median_spread(generator) was "min() arg is an empty sequence" (median had read it), a
    # Series, an array or a tensor "truth value is ambiguous"; breakdown(DataFrame) said
    # "Item 0 has no 'correct' field (['d', 'i', 'k', 'n'])", the letters of a column name.
    import numpy as np
    import pandas as pd
    import torch

    values = [0.80, 0.84, 0.77]
    for given in ((v for v in values), pd.Series(values, index=[3, 2, 1]), np.array(values),
                  torch.tensor(values, dtype=torch.float64)):
        assert median_spread(given) == median_spread(values)
    assert within_seed_spread(iter(values), np.array([0.85, 0.9])) is False
    rows = [{"kind": "add", "correct": True}, {"kind": "capital", "correct": False},
            {"kind": "add", "correct": False}]
    assert breakdown(pd.DataFrame(rows), "kind") == breakdown(rows, "kind")
    with pytest.raises(CourseError, match=r"^items must be a list of scored items \(dicts\), "
                                          r"not one item \(a dict\)"):
        breakdown(rows[0], "kind")
