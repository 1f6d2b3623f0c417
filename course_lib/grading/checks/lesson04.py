"""Checks for lesson 04, masked vs unmasked: fair metrics and reading two runs' curves."""

from __future__ import annotations

from course_lib.grading.registry import exercise
from course_lib.training.history import RunHistory

IGNORE = -100


def _batch():
    """Logits whose argmax is known, and labels with a prompt, a response and padding."""
    import torch

    vocab = 9
    labels = torch.tensor([[IGNORE, IGNORE, IGNORE, 4, 5, 6, 1],
                           [IGNORE, IGNORE, 3, 8, 1, IGNORE, IGNORE]])
    # predicted[b, t] is the model's guess for the token at t + 1
    predicted = torch.tensor([[2, 7, 4, 0, 6, 1, 5],    # row 0: 3 of 4 graded guesses right
                              [0, 3, 2, 1, 3, 0, 0]])   # row 1: 2 of 3 right (3 and 1)
    logits = torch.full((2, 7, vocab), -1.0)
    logits.scatter_(-1, predicted.unsqueeze(-1), 5.0)
    return logits, labels


def _variants(logits, labels):
    """The usual wrong answers, each with what it gets wrong."""
    pred = logits.argmax(-1)
    shifted_ok = pred[:, :-1] == labels[:, 1:]
    graded = labels[:, 1:] != IGNORE
    unshifted_graded = labels != IGNORE
    return [
        (float((pred == labels)[unshifted_graded].float().mean()),
         "you did not shift: logits[:, t] predicts the token at t + 1, so compare "
         "logits[:, :-1].argmax(-1) with labels[:, 1:]."),
        (float(shifted_ok.float().mean()),
         "you counted every position, the prompt's and the padding's too; count only "
         "positions whose label is not -100."),
        (float(sum((shifted_ok[r] & graded[r]).sum() / graded[r].sum()
                   for r in range(len(labels))) / len(labels)),
         "you averaged per example, then over the batch; count correct graded tokens over "
         "the whole batch, then divide once (a long answer counts more)."),
        (float((shifted_ok & graded).sum()),
         "that is the number of correct tokens; divide by the number of graded tokens."),
    ]


@exercise(
    "ex04_1",
    title="Response-token accuracy",
    hints=[
        "Position t predicts the token at t + 1: compare logits[:, :-1].argmax(-1) with "
        "labels[:, 1:].",
        "Only positions whose label is not -100 count: the prompt and the padding are not "
        "graded.",
        "correct = (predictions == targets) & graded; return correct.sum() / graded.sum() as a "
        "float, over the whole batch at once.",
    ],
)
def check_response_accuracy(response_accuracy):
    import torch

    logits, labels = _batch()
    want = 5 / 7  # 5 of the 7 graded tokens are predicted right
    got = response_accuracy(logits.clone(), labels.clone())
    if isinstance(got, torch.Tensor):
        assert got.numel() == 1, (
            f"response_accuracy should return one number, not a tensor of shape "
            f"{tuple(got.shape)}.")
        got = got.item()
    assert isinstance(got, float | int), (
        f"response_accuracy should return a number, not {type(got).__name__}.")
    if abs(got - want) > 1e-6:
        for value, message in _variants(logits, labels):
            if abs(value - got) < 1e-6:
                raise AssertionError(f"your accuracy is {got:.4f}, expected {want:.4f}: {message}")
        raise AssertionError(
            f"your accuracy is {got:.4f} but 5 of the 7 graded tokens are predicted right "
            f"({want:.4f}): shift by one and count only labels != -100.")
    # A prompt-only batch (nothing graded): no crash, no NaN leaking as a number of "0 right".
    perfect = torch.zeros(1, 4, 9)
    perfect[0, torch.arange(3), torch.tensor([5, 6, 2])] = 1.0
    one = response_accuracy(perfect, torch.tensor([[IGNORE, 5, 6, 2]]))
    one = one.item() if isinstance(one, torch.Tensor) else one
    assert abs(one - 1.0) < 1e-6, (
        f"every guess is right in a second batch but your accuracy is {one}: check the shift.")


def _history(eval_steps, eval_loss, train_loss=None, masking="response"):
    h = RunHistory(model="tiny", masking=masking, label=masking)
    for step, loss in zip(eval_steps, eval_loss, strict=True):
        h.add_eval(step, loss, 0.5)
    for step, loss in enumerate(train_loss or [], start=1):
        h.add_train_loss(step, loss)
    return h


@exercise(
    "ex04_2",
    title="Which run learned the answers first?",
    hints=[
        "Use history.eval_steps and history.eval_loss (held-out, response tokens only): the "
        "reported history.train_loss of an unmasked run also averages over prompt tokens.",
        "Walk through zip(history.eval_steps, history.eval_loss) in order and return the "
        "*step* (not the index) of the first loss strictly below the threshold.",
        "Return None when the loss never drops below the threshold.",
    ],
)
def check_first_step_below(first_step_below):
    steps = [0, 10, 20, 30, 40, 50]
    masked = _history(steps, [9.5, 1.6, 1.2, 0.9, 1.0, 0.8], train_loss=[3.0] * 9 + [0.5] * 41)
    unmasked = _history(steps, [9.5, 1.8, 1.2, 1.1, 0.95, 0.7],
                        train_loss=[0.6] * 50, masking="none")

    got = first_step_below(masked, 1.0)
    if got == 3:
        raise AssertionError("first_step_below(masked, 1.0) returned 3, the index in the list; "
                             "return the training step it was measured at: eval_steps[3] = 30.")
    if got == 10:
        raise AssertionError(
            "first_step_below(masked, 1.0) returned 10: that is where the *reported training "
            "loss* drops below 1.0. Use the held-out response-only loss (eval_loss): the "
            "training loss of an unmasked run also averages over prompt tokens.")
    if got == 50:
        raise AssertionError("first_step_below(masked, 1.0) returned 50, the *last* step below "
                             "1.0; return the first one, 30.")
    assert got == 30, f"first_step_below(masked, 1.0) should be 30 (loss 0.9), not {got!r}."
    got = first_step_below(unmasked, 1.2)
    assert got == 30, (
        f"first_step_below(unmasked, 1.2) should be 30, not {got!r}: at step 20 the loss is "
        f"exactly 1.2, which is not *below* 1.2.")
    got = first_step_below(unmasked, 0.5)
    assert got is None, (
        f"the unmasked loss never drops below 0.5, so the answer is None, not {got!r}.")
    assert first_step_below(_history([], []), 1.0) is None, (
        "a run with no evaluation should give None, not crash.")
