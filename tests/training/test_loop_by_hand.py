"""The training step written out gives the loss curve of `train()` (the Trainer's loop)."""

import pytest
from transformers import AutoModelForCausalLM

from course_lib.training.loop_by_hand import train_by_hand
from course_lib.training.runner import train

pytestmark = pytest.mark.slow
SETTINGS = dict(batch_size=8, learning_rate=1e-3, seed=3)


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


def test_a_different_seed_gives_a_different_curve(toy_model_dir, toy_tokenizer, records):
    """The comparison above can fail: another data order is another curve."""
    curves = [train_by_hand(AutoModelForCausalLM.from_pretrained(toy_model_dir), toy_tokenizer,
                            records, steps=5, batch_size=8, seed=seed) for seed in (3, 4)]
    assert curves[0] != pytest.approx(curves[1], rel=1e-3)
