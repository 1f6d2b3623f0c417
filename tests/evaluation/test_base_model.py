"""The embedded base model behaves like a base model, and a masked fine-tune unlocks it.

One fine-tune (module fixture) serves every assertion. Bounds are looser than the
benchmark's typical numbers (python -m benchmarks.base_model_behaviour).
"""

from __future__ import annotations

import pytest

from course_lib.evaluation.base_model import measure

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def result() -> dict:
    return measure()


def test_base_model_continues_instead_of_answering(result):
    assert result["eval_prompts"] >= 50
    assert result["raw_completion_rate"] >= 0.80


def test_base_model_knows_the_facts_as_statements(result):
    assert result["statement_knowledge"] >= 0.90


def test_masked_fine_tune_unlocks_the_answers(result):
    # The benchmark's goal is 0.90 (median over seeds); this looser bound catches a model or
    # runner that regressed (the committed model measured 0.93 at this seed, 0.93-0.95 over
    # seeds 0-3; before any tuning it answers none of these).
    assert result["tuned_exact_match"] >= 0.85


def test_tuning_teaches_stopping(result):
    # (Its time, goal <= 60 s, is the benchmark's to report: a loaded machine is no failure.)
    assert result["tuned_eos_rate"] >= 0.95


def test_headline_example_before_tuning_continues(result):
    before = result["rows"]["headline_before"]
    assert all(r["continues"] for r in before)
    assert "What is" in before[0]["output"] or "Instruction" in before[0]["output"]


def test_headline_examples_after_tuning(result):
    after = {r["prompt"]: r for r in result["rows"]["headline_after"]}
    assert after["### Instruction: What is 2+2? ### Response:"]["output"].strip() == "4"
    assert after["### Instruction: What is 5+5? ### Response:"]["output"].strip() == "10"
    assert all(r["eos"] for r in after.values())
