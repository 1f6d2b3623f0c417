"""The experiment variants: each changes exactly the one thing it is named after."""

from __future__ import annotations

import pytest

from course_lib.formatting.schemas import detect_template, normalize_record
from course_lib.formatting.stats import check_consistent_templates
from course_lib.world.phrasings import ARITHMETIC, TUNING, question
from course_lib.world.tuning_data import train_with_facts
from course_lib.world.variants import (
    ANSWER_IS,
    POOR_PROBLEMS,
    copies_poor_style,
    inconsistent_formatting,
    make_variants,
    with_poor_rows,
)


@pytest.fixture(scope="module")
def pairs():
    return train_with_facts(0)[0]


@pytest.fixture(scope="module")
def sets(pairs):
    return make_variants(pairs, 0)


def _asked(row: dict) -> tuple[str, str]:
    return row["instruction"], row.get("input", "")


def test_variants_are_deterministic_in_seed_and_parameters(pairs, sets):
    assert make_variants(pairs, 0) == sets
    assert make_variants(pairs, 1)["variant_poor_20"] != sets["variant_poor_20"]
    assert inconsistent_formatting(pairs, 0.3, 0) != sets["variant_format_mixed"]


@pytest.mark.parametrize("share", [0.2, 0.5, 1 / 3])
def test_inconsistent_formatting_changes_only_the_wrapping(pairs, share):
    rows = inconsistent_formatting(pairs, share, seed=0)
    texts = [(r, record) for r, (_, record) in zip(rows, pairs, strict=True) if "text" in r]
    assert len(texts) == round(share * len(pairs))
    kinds = [detect_template(r["text"]) for r, _ in texts]
    assert max(map(kinds.count, set(kinds))) - min(map(kinds.count, set(kinds))) <= 1
    assert set(kinds) == {"one_line", "human_assistant", "qa"}
    for row, record in texts:  # the text parses back to the same question and answer
        r, want = normalize_record(row), normalize_record(record)
        assert r["response"] == want["response"]
        assert r["instruction"] in (want["instruction"], f"{want['instruction']} {want['input']}")
    assert [r for r in rows if "text" not in r] == [rec for r, (_, rec) in
                                                    zip(rows, pairs, strict=True)
                                                    if "text" not in r]
    assert check_consistent_templates(rows)


def test_poor_rows_grow_with_the_share_and_nothing_else_changes(pairs, sets):
    train = [record for _, record in pairs]
    arms = [sets[f"variant_poor_{s}"] for s in ("00", "20", "50")]
    for arm, share in zip(arms, (0.0, 0.2, 0.5), strict=True):
        assert len(arm) == len(train)
        assert sum(r["poor"] for r in arm) == round(share * len(train))
        for row, record in zip(arm, train, strict=True):
            if not row["poor"]:
                assert {k: row[k] for k in record} == record and row["problem"] == ""
    small, large = arms[1], arms[2]
    assert all(row == large[i] for i, row in enumerate(small) if row["poor"])  # nested
    assert {r["problem"] for r in large if r["poor"]} == set(POOR_PROBLEMS)
    assert with_poor_rows(pairs, 0.2, 0) == small


def test_poor_style_detector_finds_poor_rows_and_no_clean_answer(pairs, sets):
    styled = {"non-answer", "rambling", "continues"}
    for r in sets["variant_poor_50"]:
        if r["problem"] in styled:
            assert copies_poor_style(r["response"]) == r["problem"], r
        if r["problem"] == "vague instruction":
            assert copies_poor_style(r["response"]) == "non-answer", r
    clean_flagged = [rec["response"] for _, rec in pairs if copies_poor_style(rec["response"])]
    assert not clean_flagged


def test_wrong_answers_are_wrong(pairs, sets):
    right = {_asked(rec): rec["response"] for _, rec in pairs}
    wrong = [r for r in sets["variant_poor_50"] if r["problem"] == "wrong answer"]
    assert wrong and all(r["response"] != right[_asked(r)] for r in wrong)


def test_quality_vs_quantity(sets):
    clean, noisy = sets["variant_quality_clean"], sets["variant_quantity_noisy"]
    assert len(noisy) == 4 * len(clean) and not any(r["poor"] for r in clean)
    assert sum(r["poor"] for r in noisy) == 2 * len(clean)
    noisy_clean = [r for r in noisy if not r["poor"]]
    assert all(r in noisy_clean for r in clean)
    sources = [_asked(r) for r in noisy if r["problem"] != "vague instruction"]
    assert len(set(sources)) == len(sources)  # every row comes from a different train row


def test_one_phrasing_changes_only_the_phrasing(pairs, sets):
    rows = sets["variant_one_phrasing"]
    assert [r["response"] for r in rows] == [rec["response"] for _, rec in pairs]
    for row, (fact, _) in zip(rows, pairs, strict=True):
        assert _asked(row) == question(TUNING[fact.kind][0], fact)
    forms = {_asked(rec) for _, rec in pairs}
    assert len({_asked(r) for r in rows}) < len(forms)


def test_response_styles(pairs, sets):
    fixed, varied = sets["variant_style_fixed"], sets["variant_style_varied"]
    for f_row, v_row, (fact, rec) in zip(fixed, varied, pairs, strict=True):
        assert _asked(f_row) == _asked(v_row) == _asked(rec)
        assert f_row["response"] == ANSWER_IS.format(x=rec["response"])
        assert rec["response"] in v_row["response"]
        if fact.kind not in ARITHMETIC:
            assert not v_row["response"].startswith("The answer is"), v_row
    assert {r["style"] for r in varied} == {"bare", "sentence", "answer_is"}


def test_balance_keeps_the_row_count(pairs, sets):
    arithmetic, mixed = sets["variant_balance_arithmetic"], sets["variant_balance_mixed"]
    assert len(arithmetic) == len(mixed) == sum(f.kind in ARITHMETIC for f, _ in pairs)
    assert {r["kind"] for r in arithmetic} == set(ARITHMETIC)
    assert len({r["kind"] for r in mixed}) == 8
    train = {_asked(rec): rec for _, rec in pairs}
    assert all({k: r[k] for k in train[_asked(r)]} == train[_asked(r)] for r in mixed)
