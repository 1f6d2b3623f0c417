"""Wrong answers to the exercises of 04_masked_vs_unmasked.ipynb (accuracy, loss curves)."""

# ruff: noqa: B905  (learners write zip() without strict=, so do the mutants)

from __future__ import annotations

import torch

from course_lib.training.history import RunHistory

from . import mutant


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
