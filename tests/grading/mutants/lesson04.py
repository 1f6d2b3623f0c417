"""Wrong answers to the exercises of 04_masked_vs_unmasked.ipynb (accuracy, loss curves),
and right answers written another way."""

# ruff: noqa: B905  (learners write zip() without strict=, so do the mutants)

from __future__ import annotations

import torch

from course_lib.masking.labels import build_example
from course_lib.training.history import RunHistory
from course_lib.training.runner import TrainResult, train

from . import mutant, right

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


@mutant("ex04_1", "sequence-level accuracy (rows whose every token is right)",
        phrase="counted whole rows")
def response_accuracy__whole_rows(logits: torch.Tensor, labels: torch.Tensor) -> float:
    predictions, targets = logits[:, :-1].argmax(-1), labels[:, 1:]
    graded = targets != -100
    rows = [bool(((predictions[b] == targets[b]) | ~graded[b]).all()) for b in range(len(targets))]
    return sum(rows) / len(rows)


@right("ex04_1", "numpy and loops, math.nan when nothing is graded")
def response_accuracy__numpy_loops(logits: torch.Tensor, labels: torch.Tensor) -> float:
    import math

    predicted = logits.detach().numpy().argmax(-1)
    gold = labels.numpy()
    right = total = 0
    for b in range(gold.shape[0]):
        for t in range(1, gold.shape[1]):
            if gold[b, t] != -100:
                total += 1
                right += int(predicted[b, t - 1] == gold[b, t])
    return right / total if total else math.nan


@right("ex04_1", "boolean indexing, a 0-d tensor returned")
def response_accuracy__boolean_indexing(logits: torch.Tensor, labels: torch.Tensor) -> float:
    targets = labels[:, 1:]
    keep = targets != -100
    return (logits[:, :-1].argmax(-1)[keep] == targets[keep]).float().mean()


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


@mutant("ex04_2", "step computed from the index (evaluations assumed 10 steps apart)",
        phrase="eval_steps [0, 25, 50, 100]")
def first_step_below__index_times_ten(history: RunHistory, threshold: float) -> int | None:
    for i, loss in enumerate(history.eval_loss):
        if loss < threshold:
            return i * 10
    return None


@mutant("ex04_2", "first evaluation skipped (range(1, ...))", phrase="already below 1.0 at step 0")
def first_step_below__first_evaluation_skipped(
    history: RunHistory, threshold: float,
) -> int | None:
    for i in range(1, len(history.eval_loss)):
        if history.eval_loss[i] < threshold:
            return history.eval_steps[i]
    return None


@mutant("ex04_2", "step 0 turned into None (`or None`)", phrase="already below 1.0 at step 0")
def first_step_below__step_zero_as_none(history: RunHistory, threshold: float) -> int | None:
    below = (s for s, v in zip(history.eval_steps, history.eval_loss) if v < threshold)
    return next(below, 0) or None


@right("ex04_2", "numpy: argmax of a boolean array, with a guard")
def first_step_below__numpy_argmax(history: RunHistory, threshold: float) -> int | None:
    import numpy as np

    below = np.asarray(history.eval_loss) < threshold
    if not below.any():
        return None
    return int(np.asarray(history.eval_steps)[below.argmax()])


@right("ex04_2", "numpy: a numpy int returned")
def first_step_below__numpy_int(history: RunHistory, threshold: float) -> int | None:
    import numpy as np

    steps, loss = np.array(history.eval_steps), np.array(history.eval_loss)
    below = np.flatnonzero(loss < threshold)
    return steps[below[0]] if len(below) else None


@mutant("ex04_3", "trained on every token", phrase="masking='none'")
def fine_tune__unmasked(records: list[dict], max_length: int, seed: int) -> TrainResult:
    fits = [r for r in records if len(build_example(r, tokenizer)["input_ids"]) <= max_length]
    print(f"dropped {len(records) - len(fits)} records")
    return train("tiny", fits, masking="none", max_length=max_length, max_steps=40, seed=seed)


@mutant("ex04_3", "long rows cut at max_length (they lose their EOS)",
        phrase="were cut at train's max_length")
def fine_tune__rows_cut(records: list[dict], max_length: int, seed: int) -> TrainResult:
    return train("tiny", records, masking="response", max_length=max_length, max_steps=40,
                 seed=seed)


@mutant("ex04_3", "long rows kept whole (max_length ignored)", phrase="fit whole in 17 tokens")
def fine_tune__max_length_ignored(records: list[dict], max_length: int, seed: int) -> TrainResult:
    return train("tiny", records, masking="response", max_steps=40, seed=seed)


@mutant("ex04_3", "rows of exactly max_length dropped (< instead of <=)",
        phrase="a row of exactly 17")
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


@mutant("ex04_3", "arguments ignored: course:train and max_length=18 hard-coded",
        phrase="filter the 800 records the check gave you")
def fine_tune__arguments_ignored(records: list[dict], max_length: int, seed: int) -> TrainResult:
    from course_lib.formatting.records import load_records

    data = load_records("course:train")
    fits = [r for r in data if len(build_example(r, tokenizer)["input_ids"]) <= 18]
    print(f"dropped {len(data) - len(fits)} records")
    return train("tiny", fits, masking="response", max_length=18, max_steps=40, seed=seed,
                 progress=False)


@mutant("ex04_3", "max_length=18 hard-coded (the notebook's value)",
        phrase="use the max_length argument")
def fine_tune__length_hard_coded(records: list[dict], max_length: int, seed: int) -> TrainResult:
    fits = [r for r in records if len(build_example(r, tokenizer)["input_ids"]) <= 18]
    print(f"dropped {len(records) - len(fits)} records")
    return train("tiny", fits, masking="response", max_length=18, max_steps=40, seed=seed,
                 progress=False)


@mutant("ex04_3", "prints how many records it got, not how many it dropped",
        phrase="print how many rows you dropped")
def fine_tune__prints_the_total(records: list[dict], max_length: int, seed: int) -> TrainResult:
    print(f"loaded {len(records)} records")
    fits = [r for r in records if len(build_example(r, tokenizer)["input_ids"]) <= max_length]
    return train("tiny", fits, masking="response", max_length=max_length, max_steps=40,
                 seed=seed, progress=False)


@right("ex04_3", "a loop, lengths from the formatted text plus EOS, keywords to train")
def fine_tune__loop_and_keywords(records: list[dict], max_length: int, seed: int) -> TrainResult:
    from course_lib.formatting.templates import format_example

    kept = []
    for record in records:
        prompt, response = format_example(record)
        n = (len(tokenizer(prompt)["input_ids"])
             + len(tokenizer(response, add_special_tokens=False)["input_ids"]) + 1)
        if n <= max_length:
            kept.append(record)
    print(f"Dropping {len(records) - len(kept)} records longer than {max_length} tokens.")
    return train(model="tiny", data=kept, max_steps=40, seed=seed, max_length=max_length)


@mutant("ex04_3", "rows filtered right, max_length left out of train's call",
        phrase="pass max_length=max_length to train(...)")
def fine_tune__max_length_not_passed(
    records: list[dict], max_length: int, seed: int,
) -> TrainResult:
    fits = [r for r in records if len(build_example(r, tokenizer)["input_ids"]) <= max_length]
    print(f"dropped {len(records) - len(fits)} records")
    return train("tiny", fits, masking="response", max_steps=40, seed=seed, progress=False)


@mutant("ex04_3", "rows filtered right, a tutorial's max_length=512 (train through its module)",
        phrase="not at the 17 your function was given as max_length")
def fine_tune__tutorial_max_length(
    records: list[dict], max_length: int, seed: int,
) -> TrainResult:
    import course_lib.training.runner as runner

    fits = [r for r in records if len(build_example(r, tokenizer)["input_ids"]) <= max_length]
    print(f"dropped {len(records) - len(fits)} records")
    return runner.train("tiny", fits, masking="response", max_length=512, max_steps=40,
                        seed=seed, progress=False)


@right("ex04_3", "settings in a dict, max_length as a variable, train through its module")
def fine_tune__settings_dict(records: list[dict], max_length: int, seed: int) -> TrainResult:
    from course_lib.training import runner

    limit = int(max_length)
    kept = [r for r in records if len(build_example(r, tokenizer)["input_ids"]) <= limit]
    print(f"{len(records) - len(kept)} of {len(records)} records dropped (over {limit} tokens)")
    settings = {"masking": "response", "max_steps": 40, "seed": seed, "max_length": limit,
                "progress": False}
    return runner.train("tiny", kept, **settings)


@mutant("ex04_3", "the EOS left out of each row's length", phrase="(BOS and EOS count)")
def fine_tune__eos_not_counted(records: list[dict], max_length: int, seed: int) -> TrainResult:
    fits = [r for r in records
            if len(build_example(r, tokenizer)["input_ids"]) - 1 <= max_length]
    print(f"dropped {len(records) - len(fits)} records")
    return train("tiny", fits, masking="response", max_length=max_length, max_steps=40,
                 seed=seed, progress=False)


@mutant("ex04_1", "graded positions found with > 0 (a label 0 taken for a mask)",
        phrase="0 is a real token id")
def response_accuracy__positive_labels(logits: torch.Tensor, labels: torch.Tensor) -> float:
    targets = labels[:, 1:]
    graded = targets > 0
    correct = (logits[:, :-1].argmax(-1) == targets) & graded
    return (correct.sum() / graded.sum()).item()


@mutant("ex04_1", "a percentage, not a share", phrase="not a percentage")
def response_accuracy__percentage(logits: torch.Tensor, labels: torch.Tensor) -> float:
    targets = labels[:, 1:]
    graded = targets != -100
    correct = (logits[:, :-1].argmax(-1) == targets) & graded
    return 100 * correct.sum().item() / graded.sum().item()


@mutant("ex04_2", "the last evaluation never looked at (range(len - 1))",
        phrase="the last one too")
def first_step_below__last_skipped(history: RunHistory, threshold: float) -> int | None:
    for i in range(len(history.eval_steps) - 1):
        if history.eval_loss[i] < threshold:
            return history.eval_steps[i]
    return None


@mutant("ex04_1", "the first row only (logits[0], labels[0])", phrase="first row's accuracy only")
def response_accuracy__first_row_only(logits: torch.Tensor, labels: torch.Tensor) -> float:
    predictions = logits[0, :-1].argmax(dim=-1)
    targets = labels[0, 1:]
    graded = targets != -100
    return (((predictions == targets) & graded).sum() / graded.sum()).item()


@mutant("ex04_1", "the share predicted wrong", phrase="share predicted wrong")
def response_accuracy__error_rate(logits: torch.Tensor, labels: torch.Tensor) -> float:
    predictions = logits[:, :-1].argmax(dim=-1)
    targets = labels[:, 1:]
    graded = targets != -100
    return (((predictions != targets) & graded).sum() / graded.sum()).item()


@mutant("ex04_2", "threshold ignored: the notebook's 1.0 typed in",
        phrase="the threshold you are given, here 1.2")
def first_step_below__threshold_typed_in(history: RunHistory, threshold: float) -> int | None:
    for step, loss in zip(history.eval_steps, history.eval_loss):
        if loss < 1.0:
            return step
    return None


@mutant("ex04_2", "the step returned as a float (float(step))", phrase="an int (30, not 30.0)")
def first_step_below__float_step(history: RunHistory, threshold: float) -> int | None:
    for step, loss in zip(history.eval_steps, history.eval_loss):
        if loss < threshold:
            return float(step)
    return None


@mutant("ex04_1", "-100 replaced in the caller's labels, through the view labels[:, 1:]",
        phrase="response_accuracy changed the labels it was given")
def response_accuracy__labels_written(logits: torch.Tensor, labels: torch.Tensor) -> float:
    targets = labels[:, 1:]
    graded = targets != -100
    targets[~graded] = -1  # a view: this writes into the caller's labels
    predictions = logits[:, :-1].argmax(dim=-1)
    return ((predictions == targets).sum() / graded.sum()).item()


@mutant("ex04_2", "next() without a default: StopIteration when never below",
        phrase="raised StopIteration: the loss never drops below 0.5, so return None")
def first_step_below__next_without_default(history: RunHistory, threshold: float) -> int | None:
    return next(s for s, loss in zip(history.eval_steps, history.eval_loss) if loss < threshold)
