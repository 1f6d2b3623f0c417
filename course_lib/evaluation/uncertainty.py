"""How sure is a number? k/n with a Wilson interval, spreads across seeds, breakdowns.

With 56 eval questions one answer moves accuracy by almost 2 points, and another training
seed moves it by more. Report counts and intervals, and compare runs by their seed spread:

    >>> print(Rate(45, 56))
    45/56 = 0.80 [0.68, 0.89]
    >>> print(median_spread([0.80, 0.84, 0.77]))
    0.80 (0.77-0.84, 3 runs)
    >>> within_seed_spread([0.80, 0.84, 0.77], [0.82, 0.86, 0.79])
    True

Intervals come from scipy (`scipy.stats.binomtest(k, n).proportion_ci(method="wilson")`),
imported when first used (about 0.7 s).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from course_lib.errors import CourseError
from course_lib.formatting.rows import is_table, listed, table_rows


@dataclass(frozen=True)
class Rate:
    """k successes out of n, with a Wilson score interval at `confidence`.

    >>> r = Rate(45, 56)
    >>> round(r.value, 3), [round(x, 3) for x in r.interval]
    (0.804, [0.682, 0.887])
    """

    k: int
    n: int
    confidence: float = 0.95

    def __post_init__(self):
        if not 0 <= self.k <= self.n or self.n == 0:
            raise CourseError(f"A rate needs 0 <= k <= n and n >= 1, got k={self.k}, "
                              f"n={self.n}; count the successes among at least one item.")

    @classmethod
    def of(cls, outcomes: Iterable[Any], confidence: float = 0.95) -> Rate:
        """The rate of true values: `Rate.of([True, False, True])` is 2/3."""
        outcomes = list(outcomes)
        return cls(sum(bool(o) for o in outcomes), len(outcomes), confidence)

    @property
    def value(self) -> float:
        return self.k / self.n

    @property
    def interval(self) -> tuple[float, float]:
        """(low, high) of the Wilson score interval: sensible at 0/n and n/n too."""
        from scipy.stats import binomtest  # about 0.7 s, so only when needed

        ci = binomtest(self.k, self.n).proportion_ci(self.confidence, method="wilson")
        return float(ci.low), float(ci.high)

    def __str__(self) -> str:
        low, high = self.interval
        return f"{self.k}/{self.n} = {self.value:.2f} [{low:.2f}, {high:.2f}]"


@dataclass(frozen=True)
class Spread:
    """The median of a few runs (e.g. one per training seed) and their range."""

    median: float
    low: float
    high: float
    n: int

    def __str__(self) -> str:
        return f"{self.median:.2f} ({self.low:.2f}-{self.high:.2f}, {self.n} runs)"


def median_spread(values: Sequence[float]) -> Spread:
    """Median, min and max of one number measured over several runs.

    >>> median_spread([0.9, 0.7, 0.8, 0.6])
    Spread(median=0.75, low=0.6, high=0.9, n=4)
    """
    values = listed(values)  # a generator was read by median(), then empty to min()
    if not values:
        raise CourseError("median_spread got no values; pass one number per run (seed).")
    return Spread(statistics.median(values), min(values), max(values), len(values))


def within_seed_spread(arm_a: Sequence[float], arm_b: Sequence[float]) -> bool:
    """True if the two arms' ranges over seeds overlap: their difference is within the spread.

    Then one arm cannot be called better from these runs. Ranges that do not overlap are
    a difference larger than the seeds moved either arm (with few seeds, still no proof).

    >>> within_seed_spread([0.80, 0.84], [0.85, 0.90]), within_seed_spread([0.80], [0.80])
    (False, True)
    """
    a, b = median_spread(arm_a), median_spread(arm_b)
    return a.low <= b.high and b.low <= a.high


def breakdown(items: Sequence[dict], key: str | Callable[[dict], Hashable],
              outcome: str = "correct") -> dict[Hashable, Rate]:
    """{group: Rate of `outcome`} over items grouped by a field (or a function of the item).

    Groups come in the order they first appear. An item without the field is an error,
    not a silently smaller group.

    >>> rows = [{"kind": "add", "correct": True}, {"kind": "capital", "correct": False},
    ...         {"kind": "add", "correct": False}]
    >>> {kind: str(rate) for kind, rate in breakdown(rows, "kind").items()}
    {'add': '1/2 = 0.50 [0.09, 0.91]', 'capital': '0/1 = 0.00 [0.00, 0.79]'}
    """
    groups: dict[Hashable, list[bool]] = {}
    for i, item in enumerate(items_given(items, "breakdown(items, key)")):
        for field in (key, outcome) if isinstance(key, str) else (outcome,):
            if field not in item:
                raise CourseError(f"Item {i} has no '{field}' field ({sorted(item)}); add it "
                                  f"to every item or break down by another field.")
        group = item[key] if isinstance(key, str) else key(item)
        groups.setdefault(group, []).append(bool(item[outcome]))
    return {group: Rate.of(outcomes) for group, outcomes in groups.items()}


def items_given(items: Any, call: str) -> list[Any]:
    """Scored items (dicts: an evaluation's rows, rated answers) in any container, as a list
    read once, and a DataFrame or a Dataset row by row: a generator was read twice (the second
    time empty, without a word), a DataFrame gave its column names. One item, or a name, is
    refused in one sentence naming `call` as the learner writes it."""
    if isinstance(items, str | Mapping):
        what = "one item (a dict)" if isinstance(items, Mapping) else repr(items[:30])
        raise CourseError(f"items must be a list of scored items (dicts), not {what}; give "
                          f"a list of them to {call}, e.g. report.rows['masked'] or "
                          f"review_items(report).")
    return table_rows(items) if is_table(items) else listed(items)
