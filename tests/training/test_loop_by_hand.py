"""The training step written out gives the loss curve of `train()` (the Trainer's loop)."""

import pytest
import torch
from transformers import AutoModelForCausalLM

from course_lib.errors import CourseError
from course_lib.training.loop_by_hand import train_by_hand
from course_lib.training.runner import train

SETTINGS = dict(batch_size=8, learning_rate=1e-3, seed=3)


@pytest.mark.slow
@pytest.mark.parametrize("fast, tolerance", [(False, 1e-5), (True, 1e-3)])
def test_loop_by_hand_matches_train(toy_model_dir, toy_tokenizer, records, fast, tolerance):
    """Steps cross an epoch boundary (80 records, batch 8: 10 steps an epoch). The plain path
    computes the same numbers in the same order, so the curves agree to 1e-5; the fast path
    computes them in another order (fused AdamW, kept logits), so to float rounding, which
    training amplifies to ~1e-4 here: the tolerance is 1e-3 relative."""
    steps = 14
    by_hand = train_by_hand(AutoModelForCausalLM.from_pretrained(toy_model_dir), toy_tokenizer,
                            records, steps=steps, **SETTINGS)
    run = train(AutoModelForCausalLM.from_pretrained(toy_model_dir), records, None,
                tokenizer=toy_tokenizer, max_steps=steps, fast=fast, progress=False,
                verbose=False, num_threads=1, freeze=(), **SETTINGS)  # every weight, as by hand
    assert run.history.train_steps == list(range(1, steps + 1))
    assert by_hand == pytest.approx(run.history.train_loss, rel=tolerance)
    assert by_hand[-1] < by_hand[0] * 0.95  # it trained


@pytest.mark.slow
def test_a_different_seed_gives_a_different_curve(toy_model_dir, toy_tokenizer, records):
    """The comparison above can fail: another data order is another curve."""
    curves = [train_by_hand(AutoModelForCausalLM.from_pretrained(toy_model_dir), toy_tokenizer,
                            records, steps=5, batch_size=8, seed=seed) for seed in (3, 4)]
    assert curves[0] != pytest.approx(curves[1], rel=1e-3)


RECORD = {"instruction": "What is 2+2?", "response": "4"}
MISUSES = [  # (what lesson 04's call becomes with a learner's slip, what the error says)
    (lambda m, t, r: train_by_hand(m, t, "course:train"),  # was "expected a JSON object"
     r"records must be a list of records, not the string 'course:train'; load them first"),
    (lambda m, t, r: train_by_hand(m, t, RECORD), "records is one record"),
    (lambda m, t, r: train_by_hand(t, m, r),  # was an AttributeError: no 'parameters'
     r"model must be the model, not a tokenizer; give the model first"),
    (lambda m, t, r: train_by_hand("tiny", t, r), r"load it first: model, tokenizer = "),
    (lambda m, t, r: train_by_hand(m, m, r), "tokenizer must be the tokenizer, not LlamaFor"),
    (lambda m, t, r: train_by_hand(m, t, []), "records is empty"),  # was an endless loop
    (lambda m, t, r: train_by_hand(m, t, r, steps=0), "steps must be at least 1, not 0"),
    (lambda m, t, r: train_by_hand(m, t, r, steps=-3), "steps must be at least 1, not -3"),
    (lambda m, t, r: train_by_hand(m, t, r, steps="40"), "steps must be a whole number"),
    (lambda m, t, r: train_by_hand(m, t, r, batch_size=0), "batch_size must be at least 1"),
    (lambda m, t, r: train_by_hand(m, t, r, batch_size=-1),  # was an endless loop
     "batch_size must be at least 1"),
    (lambda m, t, r: train_by_hand(m, t, r, learning_rate=0), "learning_rate must be above 0"),
    (lambda m, t, r: train_by_hand(m, t, r, learning_rate="1e-3"),
     "learning_rate must be a number"),
    (lambda m, t, r: train_by_hand(m, t, r, masking="prompt"),  # was a plain ValueError
     "masking must be 'response' .* or 'none'"),
]  # float16 weights, refused before as now: test_lesson_claims.py checks them


@pytest.mark.parametrize("misuse, message", MISUSES)
def test_a_misused_argument_is_one_sentence_before_training(toy_model_dir, toy_tokenizer,
                                                              records, misuse, message):
    """Each slip is a CourseError before the first step: the weights stay as they were."""
    model = AutoModelForCausalLM.from_pretrained(toy_model_dir)
    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(CourseError, match=message):
        misuse(model, toy_tokenizer, records)
    assert all(torch.equal(a.to(b.dtype), b) for a, b in zip(before, model.parameters(),
                                                              strict=True))
