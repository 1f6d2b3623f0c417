"""Lesson 08's measured claims, re-measured with the committed model (see test_lesson_claims)."""

import pytest

from course_lib.evaluation.base_model import share, statement_knowledge
from course_lib.training.runner import train
from course_lib.world.tuning_data import split_facts

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def runs():
    common = dict(max_steps=40, eval_every=40, progress=False, verbose=False, num_threads=1)
    return {"full": train("tiny", **common), "LoRA": train("tiny", lora=True, **common),
            "frozen": train("tiny", freeze=("embed_tokens", "mlp"), **common)}


def test_l08_all_three_learn_about_as_well(runs):
    """L08: "all three reach about the same held-out accuracy (0.92-0.94)"."""
    for name, run in runs.items():
        assert 0.91 <= run.history.eval_accuracy[-1] <= 0.95, name


def test_l08_the_full_fine_tune_forgets_statements_the_others_keep(runs):
    """L08: "the full fine-tune at 1e-3 forgot a fifth of the statements (80% kept), LoRA and
    the frozen run almost none (95-100%)"."""
    facts = split_facts()[1]
    kept = {name: share(statement_knowledge(run.model, run.tokenizer, facts), "correct")
            for name, run in runs.items()}
    assert round(kept["full"], 1) == 0.8
    assert round(kept["LoRA"], 2) >= 0.95 and round(kept["frozen"], 2) >= 0.95  # as printed
