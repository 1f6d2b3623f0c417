"""The hand-written masked cross-entropy and the per-token losses."""

import math

import pytest
import torch
import torch.nn.functional as F

from course_lib.errors import CourseError
from course_lib.masking.labels import IGNORE_INDEX
from course_lib.masking.loss import example_token_losses, masked_cross_entropy, per_token_losses


def test_uniform_logits_give_log_vocab():
    logits = torch.zeros(1, 3, 5)
    labels = torch.tensor([[IGNORE_INDEX, IGNORE_INDEX, 4]])
    assert masked_cross_entropy(logits, labels).item() == pytest.approx(math.log(5))


def test_matches_shifted_cross_entropy_on_trained_positions_only():
    torch.manual_seed(0)
    logits = torch.randn(2, 6, 11)
    labels = torch.randint(0, 11, (2, 6))
    labels[0, :3] = IGNORE_INDEX
    labels[1, 4:] = IGNORE_INDEX
    # Written out differently: gather the trained (position, target) pairs one by one.
    terms = []
    for b in range(2):
        for t in range(1, 6):
            if labels[b, t] != IGNORE_INDEX:
                terms.append(-F.log_softmax(logits[b, t - 1], -1)[labels[b, t]])
    expected = torch.stack(terms).mean()
    assert masked_cross_entropy(logits, labels).item() == pytest.approx(expected.item(), rel=1e-6)


def test_label_at_position_zero_is_never_used():
    logits = torch.randn(1, 4, 7)
    labels = torch.tensor([[3, IGNORE_INDEX, 2, 5]])
    other = labels.clone()
    other[0, 0] = IGNORE_INDEX
    assert masked_cross_entropy(logits, labels) == masked_cross_entropy(logits, other)


def test_no_trained_token_is_nan():
    loss = masked_cross_entropy(torch.randn(1, 4, 7), torch.full((1, 4), IGNORE_INDEX))
    assert torch.isnan(loss)


def test_per_token_losses_align_with_tokens_and_average_to_the_loss():
    torch.manual_seed(1)
    logits = torch.randn(2, 5, 9)
    labels = torch.randint(0, 9, (2, 5))
    labels[:, :2] = IGNORE_INDEX
    per = per_token_losses(logits, labels)
    assert per.shape == labels.shape
    assert torch.isnan(per[:, :2]).all()  # position 0 and masked positions
    assert not torch.isnan(per[:, 2:]).any()
    assert per[~per.isnan()].mean().item() == pytest.approx(
        masked_cross_entropy(logits, labels).item(), rel=1e-6)
    # Unbatched input works too.
    assert torch.allclose(per_token_losses(logits[0], labels[0]), per[0], equal_nan=True)


def test_shape_mismatch_is_explained():
    with pytest.raises(CourseError, match="disagree"):  # was a ValueError
        masked_cross_entropy(torch.randn(1, 4, 7), torch.zeros(1, 5, dtype=torch.long))


def test_example_token_losses_from_the_toy_model(toy_model_dir, toy_tokenizer):
    from transformers import AutoModelForCausalLM

    from course_lib.masking.labels import build_example

    model = AutoModelForCausalLM.from_pretrained(toy_model_dir)
    model.train()
    ex = build_example({"instruction": "What is 2+2?", "response": "4"}, toy_tokenizer)
    losses = example_token_losses(model, ex)
    assert model.training  # restored
    trained = [i for i, lab in enumerate(ex["labels"]) if lab != IGNORE_INDEX]
    assert [i for i, x in enumerate(losses) if not math.isnan(x)] == trained
    with torch.no_grad():
        loss = model(input_ids=torch.tensor([ex["input_ids"]]),
                     labels=torch.tensor([ex["labels"]])).loss.item()
    assert sum(losses[i] for i in trained) / len(trained) == pytest.approx(loss, rel=1e-5)


def test_num_items_replaces_the_count_of_trained_tokens():
    """With num_items (the Trainer's tokens over all accumulated batches) the sum is divided
    by it, not by this batch's own count: 2 trained tokens of ln 5 each over 8 -> ln(5) / 4."""
    logits = torch.zeros(1, 4, 5)
    labels = torch.tensor([[IGNORE_INDEX, IGNORE_INDEX, 1, 3]])
    assert masked_cross_entropy(logits, labels, num_items=8).item() == pytest.approx(
        2 * math.log(5) / 8)
    assert masked_cross_entropy(logits, labels, num_items=torch.tensor(2)).item() == (
        pytest.approx(math.log(5)))


def test_misplaced_logits_and_labels_say_what_to_give(toy_model_dir):
    """Lesson 03's masked_cross_entropy(out.logits, batch["labels"]) with a learner's slips:
    the whole output, the two swapped, the batch or a list as labels. Were AttributeErrors
    ("no attribute 'dim'", "no attribute 'shape'") or a puzzle about shapes."""
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(toy_model_dir)
    batch = {"input_ids": torch.tensor([[1, 2, 3]]), "labels": torch.tensor([[-100, 2, 3]])}
    with torch.no_grad():
        out = model(input_ids=batch["input_ids"])
    for call in (masked_cross_entropy, per_token_losses):
        with pytest.raises(CourseError, match=r"not the model's whole output; give its \.logits"):
            call(out, batch["labels"])
    with pytest.raises(CourseError, match="the logits come first and the labels second"):
        masked_cross_entropy(batch["labels"], out.logits)
    with pytest.raises(CourseError, match=r"labels must be a tensor, not a batch \(a dict\)"):
        masked_cross_entropy(out.logits, batch)
    with pytest.raises(CourseError, match="labels must be a tensor, not list"):
        masked_cross_entropy(out.logits, [[-100, 2, 3]])


def test_per_token_losses_stay_on_the_logits_device():
    """The NaN column for position 0 was made on the CPU: with a GPU's logits (lesson 03 on
    Colab) torch.cat refused the mix. The meta device stands in for the GPU here."""
    logits = torch.zeros(1, 4, 7, device="meta")
    labels = torch.tensor([[-100, 1, 2, 3]], device="meta")
    assert per_token_losses(logits, labels).device.type == "meta"
