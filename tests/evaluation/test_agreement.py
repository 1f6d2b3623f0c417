"""Consistency across paraphrases and samples; human-vs-metric rank agreement."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import permutation_test, spearmanr

from course_lib.errors import CourseError
from course_lib.evaluation.agreement import (
    most_disagreeing,
    paraphrase_agreement,
    rank_agreement,
    sampling_agreement,
)


def test_paraphrase_agreement_on_a_hand_made_example():
    answers = {
        "2+2": ["4", "four", "Four.", "5"],  # 3 of 4 say 4 once normalised
        "capital of France": ["Paris", "paris", "Paris."],  # all agree
        "opposite of hot": ["cold", "warm"],  # a tie: 1 of 2
        "Spanish for cat": ["perro"],  # one answer: consistent (and wrong: not our business)
    }
    result = paraphrase_agreement(answers)
    assert result.per_group == {"2+2": 0.75, "capital of France": 1.0,
                                "opposite of hot": 0.5, "Spanish for cat": 1.0}
    assert result.mean == pytest.approx((0.75 + 1.0 + 0.5 + 1.0) / 4)
    assert (result.consistent.k, result.consistent.n) == (2, 4)


def test_paraphrase_agreement_refuses_empty_input():
    with pytest.raises(CourseError, match="Group 'q' has no answers"):
        paraphrase_agreement({"q": []})
    with pytest.raises(CourseError, match="no groups"):
        paraphrase_agreement({})


def test_sampling_agreement_counts_samples_equal_to_greedy():
    rate = sampling_agreement("Paris", ["Paris", "paris.", "Lyon", "Paris", "Rome"])
    assert (rate.k, rate.n) == (3, 5)
    assert sampling_agreement("twenty-one", ["21"]).k == 1


@pytest.mark.parametrize("human, metric", [
    ([1, 2, 3, 4, 5], [0.1, 0.2, 0.3, 0.4, 0.5]),
    ([1, 2, 3, 4, 5], [5, 4, 3, 2, 1]),
    ([1, 2, 3, 4, 5, 6], [0.01, 0.02, 0.9, 0.03, 0.95, 1.0]),  # Pearson would differ
    ([3, 3, 1, 2, 5], [0.5, 0.4, 0.4, 0.1, 0.9]),  # ties
])
def test_rank_agreement_is_scipys_spearman_with_an_exact_p_for_a_few_responses(human, metric):
    result = rank_agreement(human, metric)
    expected = spearmanr(human, metric)
    assert (result.rho, result.n) == (expected.statistic, len(human))
    # scipy's own exact test: every pairing of the two sides' scores, counted.
    exact = permutation_test((human,), lambda h: spearmanr(h, metric).statistic,
                             permutation_type="pairings", n_resamples=np.inf)
    assert result.p_value == pytest.approx(exact.pvalue)


def test_rank_agreement_p_is_not_scipys_approximation_for_a_few_responses():
    # Was: p = 0 for 3 responses in reverse order; 2 of their 6 orderings are that extreme.
    assert rank_agreement([1, 2, 3], [30, 20, 10]).p_value == pytest.approx(1 / 3)
    assert rank_agreement([1, 2, 3, 4, 5], [5, 4, 3, 2, 1]).p_value == pytest.approx(2 / 120)
    many = list(range(9)), [1, 0, 3, 2, 5, 4, 7, 6, 8]  # past EXACT_UP_TO: scipy's p
    assert rank_agreement(*many).p_value == spearmanr(*many).pvalue


def test_rank_agreement_extremes_and_bad_input():
    assert rank_agreement([1, 2, 3], [10, 20, 30]).rho == pytest.approx(1.0)
    assert rank_agreement([1, 2, 3], [30, 20, 10]).rho == pytest.approx(-1.0)
    with pytest.raises(CourseError, match="got 3 and 2"):
        rank_agreement([1, 2, 3], [1, 2])


def test_most_disagreeing_lists_the_largest_rank_gaps_first():
    items = [
        {"id": "right", "human": 5, "metric": 0.2},   # people like it, the metric does not
        {"id": "ok", "human": 3, "metric": 0.5},
        {"id": "wrong", "human": 1, "metric": 0.9},   # the metric likes a wrong answer
        {"id": "fine", "human": 4, "metric": 0.7},
    ]
    top = most_disagreeing(items, k=2)
    assert [(r["id"], r["rank_gap"]) for r in top] == [("right", -3.0), ("wrong", 3.0)]
    assert top[0]["human_rank"] == 4.0 and top[0]["metric_rank"] == 1.0
    assert "rank_gap" not in items[0]  # the caller's items are left unchanged
    renamed = [{"h": i["human"], "m": i["metric"]} for i in items]
    assert len(most_disagreeing(renamed, k=10, human="h", metric="m")) == 4
    with pytest.raises(CourseError, match="Item 0 lacks 'human' or 'metric'"):
        most_disagreeing(renamed)


def test_items_answers_and_scores_in_other_containers_give_the_list_result():
    # most_disagreeing read a generator twice: checked, then ranked as empty, [] without a
    # word; a DataFrame said "Item 0 lacks 'human'" of its column names. A generator or a
    # Series of answers or scores had no len() or raised "truth value is ambiguous".
    import pandas as pd

    rows = [{"text": "a", "human": 1, "metric": 0.9}, {"text": "b", "human": 2, "metric": 0.2},
            {"text": "c", "human": 3, "metric": 0.5}]
    want = most_disagreeing(rows, k=2)
    assert want and most_disagreeing((r for r in rows), k=2) == want
    assert most_disagreeing(pd.DataFrame(rows), k=2) == want
    answers = ["4", "four", "5"]
    for make in (lambda: (a for a in answers), lambda: pd.Series(answers, index=[7, 8, 9]),
                 lambda: np.array(answers)):
        assert paraphrase_agreement({"q": make()}) == paraphrase_agreement({"q": answers})
        assert sampling_agreement("4", make()) == sampling_agreement("4", answers)
    human, metric = [1, 2, 3, 4], [0.1, 0.3, 0.2, 0.9]
    assert rank_agreement((h for h in human), iter(metric)) == rank_agreement(human, metric)


def test_one_string_of_answers_is_refused_not_counted_letter_by_letter():
    # {"q": "four"} counted the letters f, o, u, r as four answers: 1/4 agree, without a word.
    with pytest.raises(CourseError, match=r"^Group 'q' is one string \('four'\), not a list"):
        paraphrase_agreement({"q": "four"})
    with pytest.raises(CourseError, match=r"^samples is one string"):
        sampling_agreement("4", "44")
