"""Wrong answers to the exercises of 04_masked_vs_unmasked.ipynb (accuracy, loss curves)."""

# ruff: noqa: B905  (learners write zip() without strict=, so do the mutants)

from __future__ import annotations

import torch

from course_lib.masking.labels import build_example
from course_lib.training.history import RunHistory
from course_lib.training.runner import TrainResult, train

from . import mutant

tokenizer = None  # the ex04_3 cell loads the tiny model's tokenizer under this name


@mutant("ex04_1", "no shift", phrase="did not shift")
def response_accuracy__no_shift(logits: torch.Tensor, labels: torch.Tensor) -> float:
    graded = labels != -100
    correct = (logits.argmax(-1) == labels) & graded
    return (correct.sum() / graded.sum()).item()


@mutant("ex04_1", "prompt and padding counted", phrase="counted every position")
def response_accuracy__every_position(logits: torch.Tensor, labels: torch.Tensor) -> float:
    return (logits[:, :-1].argmax(-1) == labels[:, 1:]).float().mean().item()


@mutant("ex04_1", "mean per example, then over the batch", phrase="averaged per example")
def response_accuracy__mean_per_example(logits: torch.Tensor, labels: torch.Tensor) -> float:
    targets = labels[:, 1:]
    graded = targets != -100
    correct = (logits[:, :-1].argmax(-1) == targets) & graded
    return (correct.sum(1) / graded.sum(1)).mean().item()


@mutant("ex04_1", "0.0 when nothing is graded", phrase="there is no accuracy to measure")
def response_accuracy__zero_when_nothing_graded(
    logits: torch.Tensor, labels: torch.Tensor,
) -> float:
    targets = labels[:, 1:]
    graded = targets != -100
    correct = (logits[:, :-1].argmax(-1) == targets) & graded
    return (correct.sum() / graded.sum().clamp(min=1)).item()


@mutant("ex04_1", "Python division: crashes when nothing is graded",
        phrase="raised ZeroDivisionError on a batch with nothing graded")
def response_accuracy__python_division(logits: torch.Tensor, labels: torch.Tensor) -> float:
    targets = labels[:, 1:]
    graded = targets != -100
    correct = (logits[:, :-1].argmax(-1) == targets) & graded
    return correct.sum().item() / graded.sum().item()


@mutant("ex04_2", "reported training loss used", phrase="reported training")
def first_step_below__training_loss(history: RunHistory, threshold: float) -> int | None:
    for step, loss in zip(history.train_steps, history.train_loss):
        if loss < threshold:
            return step
    return None


@mutant("ex04_2", "index instead of step", phrase="index in the list")
def first_step_below__index_not_step(history: RunHistory, threshold: float) -> int | None:
    for i, loss in enumerate(history.eval_loss):
        if loss < threshold:
            return i
    return None


@mutant("ex04_2", "at or below (<=)", phrase="not *below*")
def first_step_below__at_or_below(history: RunHistory, threshold: float) -> int | None:
    for step, loss in zip(history.eval_steps, history.eval_loss):
        if loss <= threshold:
            return step
    return None


@mutant("ex04_2", "last step below", phrase="the *last* step")
def first_step_below__last_step(history: RunHistory, threshold: float) -> int | None:
    below = [s for s, v in zip(history.eval_steps, history.eval_loss) if v < threshold]
    return below[-1] if below else None


@mutant("ex04_3", "trained on every token", phrase="masking='none'")
def fine_tune__unmasked(records: list[dict], max_length: int, seed: int) -> TrainResult:
    fits = [r for r in records if len(build_example(r, tokenizer)["input_ids"]) <= max_length]
    print(f"dropped {len(records) - len(fits)} records")
    return train("tiny", fits, masking="none", max_length=max_length, max_steps=40, seed=seed)


@mutant("ex04_3", "long rows cut at max_length (they lose their EOS)",
        phrase="cut at max_length=18")
def fine_tune__rows_cut(records: list[dict], max_length: int, seed: int) -> TrainResult:
    return train("tiny", records, masking="response", max_length=max_length, max_steps=40,
                 seed=seed)


@mutant("ex04_3", "long rows kept whole (max_length ignored)", phrase="fit whole in 18 tokens")
def fine_tune__max_length_ignored(records: list[dict], max_length: int, seed: int) -> TrainResult:
    return train("tiny", records, masking="response", max_steps=40, seed=seed)


@mutant("ex04_3", "rows of exactly max_length dropped (< instead of <=)",
        phrase="a row of exactly 18")
def fine_tune__strictly_shorter(records: list[dict], max_length: int, seed: int) -> TrainResult:
    fits = [r for r in records if len(build_example(r, tokenizer)["input_ids"]) < max_length]
    print(f"dropped {len(records) - len(fits)} records")
    return train("tiny", fits, masking="response", max_length=max_length, max_steps=40,
                 seed=seed)


@mutant("ex04_3", "rows dropped silently", phrase="should leave the data silently")
def fine_tune__dropped_silently(records: list[dict], max_length: int, seed: int) -> TrainResult:
    fits = [r for r in records if len(build_example(r, tokenizer)["input_ids"]) <= max_length]
    return train("tiny", fits, masking="response", max_length=max_length, max_steps=40,
                 seed=seed)


@mutant("ex04_3", "a learning rate too small to learn", phrase="held-out accuracy is")
def fine_tune__tiny_learning_rate(records: list[dict], max_length: int, seed: int) -> TrainResult:
    fits = [r for r in records if len(build_example(r, tokenizer)["input_ids"]) <= max_length]
    print(f"dropped {len(records) - len(fits)} records")
    return train("tiny", fits, masking="response", max_length=max_length, max_steps=40,
                 seed=seed, learning_rate=1e-5)
