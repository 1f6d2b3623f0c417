"""course:eval_styles: held out from every tuning set, phrased in styles train never uses."""

from __future__ import annotations

from collections import defaultdict

import pytest

from course_lib.formatting.json_files import read_json_rows
from course_lib.formatting.records import EMBEDDED_DATA_DIR, embedded_sets, load_raw_rows
from course_lib.formatting.schemas import normalize_record
from course_lib.world.eval_styles import (
    BARE,
    NOT_KNOWN_IN_STATEMENT_FORM,
    UNSEEN,
    make_eval_styles,
)
from course_lib.world.facts import all_facts
from course_lib.world.phrasings import TUNING, question, statement_prompts
from course_lib.world.tuning_data import EVAL_FACTS, split_facts


def _rows(name: str) -> list[dict]:
    return [row for _, row in read_json_rows(EMBEDDED_DATA_DIR / f"{name}.jsonl")]


def _asked(row: dict, where: str) -> set[tuple[str, str]]:
    """What a row asks, as (instruction, input); a text row whose template has no input
    slot merges the input into the instruction, so that form is compared too."""
    r = normalize_record(row, where)
    return {(r["instruction"], r["input"]), (f"{r['instruction']} {r['input']}".strip(), "")}


def tuning_sets() -> list[str]:
    """Every embedded set a model is trained on: train and the experiment variants."""
    return ["course:train", "course:train_varied"] + [
        n for n in embedded_sets() if n.startswith("course:variant_")]


@pytest.fixture(scope="module")
def styles() -> list[dict]:
    return _rows("eval_styles")


def test_no_eval_question_is_in_any_tuning_set(styles):
    tuned = {
        asked for name in tuning_sets() for where, row in load_raw_rows(name)
        for asked in _asked(row, where)
    }
    assert len(tuning_sets()) >= 12, "the variants are missing"
    for name in ("eval_styles", "eval"):
        leaks = [r for i, r in enumerate(_rows(name)) if _asked(r, f"{name} {i}") & tuned]
        assert not leaks, f"{len(leaks)} {name} questions are in a tuning set: {leaks[:3]}"


def test_unseen_styles_are_forms_no_train_record_uses():
    train_facts, _ = split_facts()
    train = {(r["instruction"], r["input"]) for r in map(normalize_record, _rows("train"))}
    for style, forms in UNSEEN.items():
        for kind, form in forms.items():
            assert form not in TUNING[kind], (style, kind)
            used = [f.key for f in train_facts if f.kind == kind and question(form, f) in train]
            assert not used, f"{style} {kind}: train asks {used[:3]} this way"


def test_every_group_is_one_fact_asked_five_or_six_ways(styles):
    groups = defaultdict(list)
    for r in styles:
        groups[r["group"]].append(r)
    facts = {f.key: f for f in all_facts()}
    for key, rows in groups.items():
        assert 5 <= len(rows) <= 6, key
        assert {(r["response"], r["kind"]) for r in rows} == {(facts[key].answer, facts[key].kind)}
        assert len({(r["instruction"], r.get("input", "")) for r in rows}) == len(rows), key
    assert {r["kind"] for r in styles} == set(EVAL_FACTS)
    assert len(styles) <= 400  # evaluated in seconds on 2 cores


def test_styles_and_seen_flags(styles):
    seen = {r["style"]: r["seen"] for r in styles}
    assert seen == {"bare": True, "tuning": True, **{s: False for s in UNSEEN}}
    counts = {s: sum(r["style"] == s for r in styles) for s in UNSEEN}
    assert max(counts.values()) - min(counts.values()) <= 2, counts  # rotation keeps balance
    bare = {r["instruction"]: r["response"] for r in styles if r["style"] == "bare"}
    assert bare["What is 2+2?"] == "4" and bare["What is 5+5?"] == "10"
    assert {r["kind"] for r in styles if r["style"] == "bare"} == set(BARE)


def test_facts_are_the_eval_facts_the_base_model_knows(styles):
    _, eval_facts = split_facts()
    kept = {f.key for f in eval_facts} - NOT_KNOWN_IN_STATEMENT_FORM
    assert {r["group"] for r in styles} == kept


def test_generation_is_deterministic_in_the_seed():
    facts0, facts1 = split_facts(0)[1], split_facts(1)[1]
    assert make_eval_styles(facts0, 0) == make_eval_styles(facts0, 0)
    assert make_eval_styles(facts1, 1) != make_eval_styles(facts0, 0)


@pytest.mark.slow  # loads the base model and runs ~250 short generations (~10 s)
def test_statement_knowledge_matches_what_was_left_out():
    """Re-measure with the embedded base model what NOT_KNOWN_IN_STATEMENT_FORM records.

    Same check as the behaviour benchmark (greedy, 8 new tokens, answer first), but on
    every statement form that ends with the answer, not only the first one.
    """
    import torch

    from course_lib.evaluation.base_model import greedy_generate, starts_with_answer
    from course_lib.loading import load_model_and_tokenizer

    torch.set_num_threads(min(2, torch.get_num_threads()))
    model, tokenizer = load_model_and_tokenizer("tiny")
    unknown, first_form_wrong = set(), []
    for fact in split_facts()[1]:
        for i, prompt in enumerate(statement_prompts(fact)):
            text, _ = greedy_generate(model, tokenizer, prompt, max_new_tokens=8)
            if not starts_with_answer(text.replace('"', " "), fact.answer):
                unknown.add(fact.key)
                first_form_wrong += [fact.key] if i == 0 else []
    assert unknown == NOT_KNOWN_IN_STATEMENT_FORM
    assert not first_form_wrong  # the data card says every eval fact passes the first form
