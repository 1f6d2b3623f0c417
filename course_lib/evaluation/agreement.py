"""Does the model say the same thing twice, and do metrics agree with people?

Consistency: ask one question in several phrasings (or sample several answers) and see
whether the normalised answers agree, whether or not they are right:

    >>> result = paraphrase_agreement({"2+2": ["4", "four", "5"], "France": ["Paris", "Paris"]})
    >>> {g: round(s, 2) for g, s in result.per_group.items()}, str(result.consistent)
    ({'2+2': 0.67, 'France': 1.0}, '1/2 = 0.50 [0.09, 0.91]')

Human-vs-metric agreement: rank correlation (scipy's Spearman) between human scores and a
metric's scores on the same responses, and the responses where the two disagree most.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from course_lib.errors import CourseError
from course_lib.evaluation.metrics import normalize_answer
from course_lib.evaluation.uncertainty import Rate, items_given
from course_lib.formatting.rows import listed


@dataclass(frozen=True)
class ParaphraseAgreement:
    """Per group, the share of answers equal to the group's most common answer."""

    per_group: dict[Hashable, float]
    mean: float  # mean of the per-group shares (each group weighs the same)
    consistent: Rate  # groups whose answers are all the same


def paraphrase_agreement(answers_by_group: Mapping[Hashable, Sequence[str]],
                         normalize: Callable[[str], str] = normalize_answer
                         ) -> ParaphraseAgreement:
    """Agreement of the answers to paraphrases of one question, for every question.

    Answers are compared after `normalize` ("four" and "4" agree). A group of one answer is
    trivially consistent. Ties for the most common answer give the same share either way.

    >>> paraphrase_agreement({"q": ["cold", "Cold.", "hot", "cold"]}).mean
    0.75
    """
    per_group = {}
    for group, answers in answers_by_group.items():
        answers = _answers(answers, f"Group {group!r}")
        if not answers:
            raise CourseError(f"Group {group!r} has no answers; give every group at least one.")
        counts = Counter(normalize(a) for a in answers)
        per_group[group] = counts.most_common(1)[0][1] / len(answers)
    if not per_group:
        raise CourseError("paraphrase_agreement got no groups; pass {question: [answers]}.")
    mean = sum(per_group.values()) / len(per_group)
    return ParaphraseAgreement(per_group, mean, Rate.of(s == 1.0 for s in per_group.values()))


def sampling_agreement(greedy: str, samples: Sequence[str],
                       normalize: Callable[[str], str] = normalize_answer) -> Rate:
    """The share of sampled answers equal to the greedy answer (after `normalize`).

    >>> print(sampling_agreement("4", ["4", "four", "5", "4."]))
    3/4 = 0.75 [0.30, 0.95]
    """
    want = normalize(greedy)
    return Rate.of(normalize(s) == want for s in _answers(samples, "samples"))


def _answers(answers: Any, name: str) -> list[Any]:
    """Answers in any container, as a list read once (a generator was counted, then had no
    len(); `if answers` of a Series or an array was ambiguous); one string, whose letters were
    counted as answers, is refused."""
    if isinstance(answers, str):
        raise CourseError(f"{name} is one string ({answers[:30]!r}), not a list of answers; "
                          f"put it in a list: [{answers[:30]!r}].")
    return listed(answers)


@dataclass(frozen=True)
class RankAgreement:
    """Spearman's rank correlation of human and metric scores over n responses, and its p-value
    (two-sided: how often unrelated scores would rank at least this alike, or this unlike)."""

    rho: float
    p_value: float
    n: int

    def __str__(self) -> str:
        return f"Spearman rho = {self.rho:.2f} over {self.n} responses (p = {self.p_value:.2g})"


def rank_agreement(human_scores: Sequence[float], metric_scores: Sequence[float]
                   ) -> RankAgreement:
    """Do the metric and the humans rank the responses in the same order? (scipy's spearmanr)

    rho is 1 for the same order, -1 for the reverse, near 0 for unrelated orders; ties
    get average ranks. It is nan when either side gives every response the same score.

    >>> round(rank_agreement([1, 2, 3, 4], [0.1, 0.3, 0.2, 0.9]).rho, 6)
    0.8
    """
    from scipy.stats import spearmanr  # about 0.7 s, so only when needed

    human_scores, metric_scores = listed(human_scores), listed(metric_scores)  # read once
    if len(human_scores) != len(metric_scores) or len(human_scores) < 3:
        raise CourseError(f"Pass one human and one metric score per response, at least 3 "
                          f"(got {len(human_scores)} and {len(metric_scores)}).")
    result = spearmanr(human_scores, metric_scores)
    rho, p = float(result.statistic), float(result.pvalue)
    # scipy's p comes from an approximation that needs many responses: 3 in reverse order get
    # p = 0, where 2 of their 6 orderings are that extreme. A few responses: count exactly.
    if len(human_scores) <= EXACT_UP_TO and not math.isnan(rho):
        p = exact_p_value(human_scores, metric_scores, rho)
    return RankAgreement(rho, p, len(human_scores))


EXACT_UP_TO = 8  # responses: 8! = 40,320 orderings, all counted in a fraction of a second


def exact_p_value(human_scores: Sequence[float], metric_scores: Sequence[float],
                  rho: float) -> float:
    """The share of all pairings of the metric's ranks with the humans' whose Spearman rho is
    at least as far from 0 as `rho`: if the scores were unrelated, each pairing would be
    equally likely. Ties keep their average ranks, as in rho itself.

    >>> round(exact_p_value([1, 2, 3], [30, 20, 10], -1.0), 4)   # 2 of 6 orderings
    0.3333
    """
    from scipy.stats import rankdata

    human = rankdata(human_scores) - (len(human_scores) + 1) / 2  # centred ranks
    pairings = np.array(list(itertools.permutations(rankdata(metric_scores))))
    pairings -= pairings.mean(axis=1, keepdims=True)
    # Spearman's rho is Pearson's correlation of the ranks: one row per pairing.
    rhos = pairings @ human / np.sqrt((pairings ** 2).sum(axis=1) * (human ** 2).sum())
    return float(np.mean(np.abs(rhos) >= abs(rho) - 1e-9))  # 1e-9: float rounding of ties


def most_disagreeing(items: Sequence[dict], k: int = 5, human: str = "human",
                     metric: str = "metric") -> list[dict]:
    """The k items whose human rank and metric rank differ most, largest gap first.

    Each item is returned as a copy with `human_rank`, `metric_rank` (1 = lowest score;
    ties get average ranks) and `rank_gap` (metric rank minus human rank: positive when the
    metric likes the response more than people do).

    >>> rows = [{"text": "a", "human": 1, "metric": 0.9}, {"text": "b", "human": 2, "metric": 0.2},
    ...         {"text": "c", "human": 3, "metric": 0.5}]
    >>> [(r["text"], r["rank_gap"]) for r in most_disagreeing(rows, k=2)]
    [('a', 2.0), ('b', -1.0)]
    """
    from scipy.stats import rankdata

    # Read once: a generator was checked here, then ranked as empty ([] without a word).
    items = items_given(items, "most_disagreeing(items)")
    for i, item in enumerate(items):
        if human not in item or metric not in item:
            raise CourseError(f"Item {i} lacks '{human}' or '{metric}'; give every item both "
                              f"scores (or name the fields with human=..., metric=...).")
    human_ranks = rankdata([item[human] for item in items])
    metric_ranks = rankdata([item[metric] for item in items])
    ranked = [{**item, "human_rank": float(h), "metric_rank": float(m), "rank_gap": float(m - h)}
              for item, h, m in zip(items, human_ranks, metric_ranks, strict=True)]
    # Stable sort: equal gaps keep the input order.
    return sorted(ranked, key=lambda r: -abs(r["rank_gap"]))[:k]
