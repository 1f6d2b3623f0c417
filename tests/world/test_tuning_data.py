"""Fast checks of the world generator, the tuning data and the embedded tokenizer."""

from __future__ import annotations

import json
import re

import pytest

from course_lib.formatting.json_files import read_json_rows
from course_lib.formatting.records import EMBEDDED_DATA_DIR, load_records
from course_lib.formatting.stats import check_consistent_templates
from course_lib.formatting.templates import ONE_LINE, format_example
from course_lib.loading import EMBEDDED_MODEL_DIR
from course_lib.world.build import FULL_BUILD
from course_lib.world.corpus import answered_question_share, generate_corpus
from course_lib.world.facts import arithmetic_facts
from course_lib.world.phrasings import HELD_OUT, TUNING, question
from course_lib.world.tuning_data import make_splits, split_facts, write_tuning_data


@pytest.fixture(scope="module")
def full_corpus() -> str:
    return "\n".join(generate_corpus(FULL_BUILD.seed, FULL_BUILD.corpus_chars))


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(EMBEDDED_MODEL_DIR)


def test_corpus_is_deterministic_for_a_seed():
    assert generate_corpus(seed=3, target_chars=20_000) == generate_corpus(3, 20_000)
    assert generate_corpus(seed=3, target_chars=20_000) != generate_corpus(4, 20_000)


def test_a_question_directly_followed_by_its_answer_is_rare(full_corpus):
    answered, asked = answered_question_share([full_corpus])
    assert asked > 1000, "the corpus should ask many questions"
    # Measured 10.8%: the Q/A pages (10% of documents). Everything else asks without
    # answering; the base model still answers none of the course-template prompts
    # (tests/evaluation/test_base_model.py checks that behaviour itself).
    assert answered / asked < 0.125, f"{answered} of {asked} questions are answered at once"


def test_answered_question_share_detects_answers():
    assert answered_question_share(["Q: What is 2+2?\nA: 4", "What is 2+2? What is 3+3?"]) == (1, 3)


def test_every_single_digit_sum_and_difference_is_stated(full_corpus):
    stated = set(re.findall(r"(?<![\d-])(\d+) ?([+-]) ?(\d+) = (\d+)(?!\d)", full_corpus))
    missing = [
        f.key for f in arithmetic_facts()
        if f.kind in ("add", "sub") and f.single_digit
        and (str(f.a), "+" if f.kind == "add" else "-", str(f.b), f.answer) not in stated
    ]
    assert not missing
    assert ("2", "+", "2", "5") not in stated  # only true statements


def test_eval_facts_never_appear_in_train():
    records = load_records(EMBEDDED_DATA_DIR / "train.jsonl")
    train = {(r["instruction"], r["input"]) for r in records}
    _, eval_facts = split_facts()
    leaks = [
        question(t, f) for f in eval_facts for t in TUNING[f.kind] + HELD_OUT[f.kind]
        if question(t, f) in train
    ]
    assert not leaks


def test_eval_holds_the_seed_questions_and_unseen_phrasings():
    evals = [row for _, row in read_json_rows(EMBEDDED_DATA_DIR / "eval.jsonl")]
    assert len(evals) >= 50
    asked = {r["instruction"]: r["response"] for r in evals}
    assert asked["What is 2+2?"] == "4" and asked["What is 5+5?"] == "10"
    train = load_records(EMBEDDED_DATA_DIR / "train.jsonl")
    held_out_forms = {t.split("{")[0] for ts in HELD_OUT.values() for t in ts}
    assert not [r for r in train if any(r["instruction"].startswith(h) for h in held_out_forms)]
    assert sum(r["phrasing"] == "unseen" for r in evals) >= 10


def test_committed_data_is_what_the_generator_makes(tmp_path):
    counts = write_tuning_data(tmp_path)
    assert {"train", "eval", "eval_styles", "variant_poor_50"} <= set(counts)
    committed = sorted(p.name for p in EMBEDDED_DATA_DIR.iterdir())
    assert committed == sorted(p.name for p in tmp_path.iterdir()), "a set is missing or extra"
    for name in committed:  # every .jsonl file and the data card
        assert (tmp_path / name).read_text() == (EMBEDDED_DATA_DIR / name).read_text(), (
            f"{name} is stale: run course build-tuning-data --out course_lib/assets/data --force"
        )


def test_tuning_data_is_deterministic_and_short():
    train, evals = make_splits(seed=0)
    assert (train, evals) == make_splits(seed=0)
    assert 300 <= len(train) <= 2000
    assert all(len(r["response"].split()) <= 4 for r in train + evals)


def test_mixed_format_set_is_flagged_as_mixed():
    rows = [json.loads(line) for line in (EMBEDDED_DATA_DIR / "mixed_format.jsonl").open()]
    warnings = " ".join(check_consistent_templates(rows))
    assert "human_assistant" in warnings and "qa" in warnings


def test_poor_quality_records_come_with_good_counterparts():
    rows = [json.loads(line) for line in (EMBEDDED_DATA_DIR / "poor_quality.jsonl").open()]
    assert {"instruction": "help", "response": "ok"}.items() <= rows[0].items()
    pairs = {}
    for r in rows:
        pairs.setdefault(r["pair"], set()).add(r["quality"])
    assert all(q == {"poor", "good"} for q in pairs.values())


def test_templates_are_a_few_tokens(tokenizer):
    for marker in ("### Instruction:", "### Response:", " ### Response:", "### Input:"):
        assert len(tokenizer(marker, add_special_tokens=False)["input_ids"]) <= 4, marker


def test_special_tokens(tokenizer):
    assert tokenizer.pad_token_id != tokenizer.eos_token_id
    assert (tokenizer.bos_token, tokenizer.eos_token, tokenizer.pad_token, tokenizer.unk_token) == (
        "<s>", "</s>", "<pad>", "<unk>")
    with_bos = tokenizer("What is 2+2?")["input_ids"]
    plain = tokenizer("What is 2+2?", add_special_tokens=False)["input_ids"]
    assert with_bos == [tokenizer.bos_token_id] + plain  # BOS added, never EOS
    assert tokenizer.bos_token_id not in plain


def test_prompt_and_response_tokenize_like_the_whole_text(tokenizer):
    """Segment tokenization (labels.py) must equal whole-text tokenization at the boundary."""
    records = load_records(EMBEDDED_DATA_DIR / "train.jsonl")[:200]
    records += load_records(EMBEDDED_DATA_DIR / "eval.jsonl")
    for r in records:
        prompt, response = format_example(r, ONE_LINE)
        whole = tokenizer(prompt + response)["input_ids"]
        parts = tokenizer(prompt)["input_ids"]
        parts += tokenizer(response, add_special_tokens=False)["input_ids"]
        assert whole == parts, prompt + response
