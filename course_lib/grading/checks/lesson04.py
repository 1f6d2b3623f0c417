"""Checks for lesson 04, masked vs unmasked: fair metrics and reading two runs' curves."""

from __future__ import annotations

import contextlib
import inspect
import io
import math
import re
import sys

from course_lib.grading.checks import is_int
from course_lib.grading.registry import exercise
from course_lib.training.history import RunHistory

IGNORE = -100  # masking.labels.IGNORE_INDEX, repeated: importing it would load torch in the grader


def _batch():
    """Logits whose argmax is known, and labels with a prompt, a response and padding."""
    import torch

    vocab = 9
    labels = torch.tensor([[IGNORE, IGNORE, IGNORE, 4, 5, 6, 1, IGNORE],
                           [IGNORE, IGNORE, 3, 8, 1, IGNORE, IGNORE, IGNORE]])
    # predicted[b, t] is the model's guess for the token at t + 1. Every usual mistake gives
    # its own number: unshifted 2/7 (the last 1 of each row), every position 6/14, per example
    # (3/4 + 3/3) / 2, whole rows 1/2.
    predicted = torch.tensor([[2, 7, 4, 0, 6, 1, 1, 5],   # row 0: 3 of 4 graded guesses right
                              [0, 3, 8, 1, 1, 0, 0, 0]])  # row 1: 3 of 3 right
    logits = torch.full((2, 8, vocab), -1.0)
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
        (float((shifted_ok[0] & graded[0]).sum() / graded[0].sum()),
         "that is the first row's accuracy only; count the graded tokens of every row of the "
         "batch, logits[:, :-1] with labels[:, 1:]."),
        (float((~shifted_ok & graded).sum() / graded.sum()),
         "that is the share predicted wrong; count the predictions equal to their label."),
        (float((shifted_ok & graded).sum()),
         "that is the number of correct tokens; divide by the number of graded tokens."),
        (float(sum(bool((shifted_ok[r] | ~graded[r]).all()) for r in range(len(labels)))
               / len(labels)),
         "you counted whole rows (a row counts when all its tokens are right); count tokens: "
         "correct graded tokens over graded tokens."),
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
    want = 6 / 7  # 6 of the 7 graded tokens are predicted right
    given = labels.clone()
    got = _number(response_accuracy(logits.clone(), given))
    assert torch.equal(given, labels), (
        "response_accuracy changed the labels it was given, but the caller still needs them "
        "(for the loss, say): find the graded positions with labels[:, 1:] != -100 instead of "
        "writing into labels.")
    if abs(got - want) > 1e-6:
        assert abs(got - 100 * want) > 1e-4, (
            f"your accuracy is {got:.4f}, 100 times too large: response_accuracy should return "
            f"a share between 0 and 1, not a percentage.")
        for value, message in _variants(logits, labels):
            if abs(value - got) < 1e-6:
                raise AssertionError(f"your accuracy is {got:.4f}, expected {want:.4f}: {message}")
        raise AssertionError(
            f"your accuracy is {got:.4f} but 6 of the 7 graded tokens are predicted right "
            f"({want:.4f}): shift by one and count only labels != -100.")
    perfect = torch.zeros(1, 4, 9)
    perfect[0, torch.arange(3), torch.tensor([5, 6, 2])] = 1.0
    one = _number(response_accuracy(perfect, torch.tensor([[IGNORE, 5, 6, 2]])))
    assert abs(one - 1.0) < 1e-6, (
        f"every guess is right in a second batch but your accuracy is {one}: check the shift.")
    _check_label_zero(response_accuracy)
    _check_nothing_graded(response_accuracy)


def _check_label_zero(response_accuracy) -> None:
    """A graded label 0, guessed wrong: 0 is a token id like any other, not a mask."""
    import torch

    logits = torch.zeros(1, 4, 9)
    logits[0, torch.arange(3), torch.tensor([5, 3, 2])] = 1.0  # guesses 5, 3 (not 0), 2
    got = _number(response_accuracy(logits, torch.tensor([[IGNORE, 5, 0, 2]])))
    assert abs(got - 2 / 3) < 1e-6, (
        f"labels [[-100, 5, 0, 2]] grade 3 predictions and 2 are right, so the accuracy is "
        f"0.6667, not {got:.4f}" + (": 0 is a real token id (graded like any other); a "
        "position is graded when its label != -100." if abs(got - 1.0) < 1e-6 else "."))


def _number(got) -> float:
    """The learner's accuracy as a float, or an AssertionError saying what it is instead."""
    import torch

    if isinstance(got, torch.Tensor):
        assert got.numel() == 1, (
            f"response_accuracy should return one number, not a tensor of shape "
            f"{tuple(got.shape)}.")
        got = got.item()
    assert isinstance(got, float | int) and not isinstance(got, bool), (
        f"response_accuracy should return a number, not {type(got).__name__}.")
    return float(got)


def _check_nothing_graded(response_accuracy) -> None:
    """A prompt-only batch has no accuracy: NaN (the mean of nothing), never 0.0 or a crash."""
    import torch

    logits = torch.zeros(2, 4, 9)
    labels = torch.full((2, 4), IGNORE)  # every token is prompt or padding
    what = "a batch with nothing graded (every label -100: only prompts and padding)"
    try:
        got = response_accuracy(logits, labels)
    except ZeroDivisionError:
        raise AssertionError(
            f"your function raised ZeroDivisionError on {what}: there is no accuracy to "
            f"measure, so return float('nan'), as torch's 0 / 0 does.") from None
    got = None if got is None else _number(got)
    assert got is not None and math.isnan(got), (
        f"on {what} you returned {got!r}: there is no accuracy to measure, so return "
        f"float('nan'). 0.0 would say every answer was wrong, and pull down any average it "
        f"joins.")


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
    assert got is None or is_int(got), (
        f"first_step_below(masked, 1.0) returned {got!r}, a {type(got).__name__}: return the "
        f"step as history.eval_steps holds it, an int (30, not 30.0), or None.")
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
    assert got in (30, 20), (
        f"first_step_below(unmasked, 1.2) should be 30, not {got!r}: compare each loss with "
        f"the threshold you are given, here 1.2.")
    assert got == 30, (
        "first_step_below(unmasked, 1.2) should be 30, not 20: at step 20 the loss is "
        "exactly 1.2, which is not *below* 1.2.")
    try:
        got = first_step_below(unmasked, 0.5)
    except StopIteration:
        raise AssertionError(
            "first_step_below(unmasked, 0.5) raised StopIteration: the loss never drops below "
            "0.5, so return None (next(..., None) gives a default when none is found)."
        ) from None
    assert got is None, (
        f"the unmasked loss never drops below 0.5, so the answer is None, not {got!r}.")
    assert first_step_below(_history([], []), 1.0) is None, (
        "a run with no evaluation should give None, not crash.")
    _check_other_steps(first_step_below)


def _check_other_steps(first_step_below) -> None:
    """Evaluations not 10 steps apart, a loss below the threshold only at the last evaluation,
    and one already below it at step 0."""
    uneven = _history([0, 25, 50, 100], [9.0, 2.0, 0.5, 0.4])
    got = first_step_below(uneven, 1.0)
    assert got == 50, (
        f"with eval_steps [0, 25, 50, 100] and eval_loss [9.0, 2.0, 0.5, 0.4], "
        f"first_step_below(history, 1.0) should be 50, not {got!r}: read the step from "
        f"history.eval_steps, evaluations are not always 10 steps apart.")
    late = _history([0, 10, 20], [2.0, 1.5, 0.5])
    got = first_step_below(late, 1.0)
    assert got == 20, (
        f"with eval_steps [0, 10, 20] and eval_loss [2.0, 1.5, 0.5] the loss drops below 1.0 "
        f"at the last evaluation, so first_step_below(history, 1.0) should be 20, not {got!r}: "
        f"look at every evaluation, the last one too.")
    early = _history([0, 10, 20], [0.5, 0.4, 0.3])
    got = first_step_below(early, 1.0)
    assert got == 0 and got is not False, (
        f"the held-out loss is already below 1.0 at step 0 (eval_steps [0, 10, 20], eval_loss "
        f"[0.5, 0.4, 0.3]), so first_step_below(history, 1.0) should be 0, not {got!r}: start "
        f"at the first evaluation and keep step 0 (it is a step, not 'never': `step or None` "
        f"and `if step:` lose it).")


# --- ex04_3: a short fine-tune on rows that keep their EOS ----------------------------------
# Not the notebook's call (all of course:train, max_length=18, seed 0), so that an answer must
# use its arguments: the first 800 records, of which 605 fit whole in 17 tokens and 195 do not.
N_RECORDS = 800
FIT_LENGTH = 17
NOTEBOOK_LENGTH = 18
STEPS = 40
SEED = 1
# Held-out accuracy at step 40, measured over seeds 0-4 by benchmarks/exercise_fine_tune.py:
# the reference answer 0.849-0.892 (median 0.871), learning rate 1e-5 0.054 (the base model's),
# 4 steps 0.086-0.151.
ACCURACY_BOUND = 0.6


class _Tee(io.StringIO):
    """Keeps what the learner's code prints and still shows it."""

    def __init__(self, shown):
        super().__init__()
        self.shown = shown

    def write(self, text: str) -> int:
        self.shown.write(text)
        return super().write(text)

    def flush(self) -> None:
        self.shown.flush()


@exercise(
    "ex04_3",
    title="Fine-tune on rows that keep their EOS",
    hints=[
        "len(build_example(record, tokenizer)['input_ids']) is the length of the whole "
        "example: BOS, prompt, response and EOS. Keep a record when it is at most max_length.",
        "Print how many records you dropped (nothing should leave the data silently), then "
        "call train('tiny', kept, ..., max_length=max_length, max_steps=40, seed=seed).",
        "masking='response' grades the answer and its EOS only: what the model should learn "
        "to write. Return what train returns.",
    ],
    timeout=180,  # it trains: about 3 s alone on 2 cores, much more on a busy machine
)
def check_fine_tune(fine_tune):
    # deferred: the grader's start imports every check module; these load torch
    from course_lib.formatting.records import load_records
    from course_lib.loading import load_tokenizer
    from course_lib.masking.labels import build_example

    tokenizer = load_tokenizer("tiny")
    every = load_records("course:train")
    lengths = [len(build_example(r, tokenizer)["input_ids"]) for r in every]
    records = every[:N_RECORDS]
    given = [dict(r) for r in records]
    printed = _Tee(sys.stdout)
    with contextlib.redirect_stdout(printed):
        result = fine_tune(given, FIT_LENGTH, SEED)
    assert given == records, "fine_tune must not change the records it is given."
    history = getattr(result, "history", None)
    assert isinstance(history, RunHistory), (
        f"fine_tune should return what train() returns (a TrainResult), not "
        f"{type(result).__name__}.")
    _check_settings(history)
    _check_not_cut(history)  # first: a filter that forgets the EOS looks like one for 18 tokens
    _check_arguments(history.examples_used, lengths)
    _check_rows(history, sum(n <= FIT_LENGTH for n in lengths[:N_RECORDS]), printed.getvalue())
    _check_max_length(history, _parameter(fine_tune, 1, "max_length"))
    _check_learned(history)


def _parameter(function, index: int, default: str) -> str:
    """What the learner named their function's parameter number `index` (0 is the first)."""
    with contextlib.suppress(TypeError, ValueError):
        names = [p.name for p in inspect.signature(function).parameters.values()
                 if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        if len(names) > index:
            return names[index]
    return default


def _check_max_length(history: RunHistory, name: str) -> None:
    """train told the max_length the rows were filtered by: here the rows fit either way, but
    on a GPU it is the cap that bounds a batch, and the one cut rows are reported against."""
    # Unpassed, train cuts at the model's context: what the run's history records then.
    assert history.max_length == FIT_LENGTH, (
        f"your run cut rows at {history.max_length} tokens, not at the {FIT_LENGTH} your "
        f"function was given as {name}: pass max_length={name} to train(...), so that it caps "
        f"rows at the length your filter kept them within (they fit either way here, but on a "
        f"GPU max_length is the cap that bounds the memory a batch takes).")


def _check_settings(history: RunHistory) -> None:
    assert history.masking == "response", (
        f"your run used masking={history.masking!r}: it also grades every prompt token, which "
        f"the model only reads. Grade what it should learn to write: masking='response'.")
    assert history.steps_done == STEPS, (
        f"your run made {history.steps_done} optimizer steps; train for {STEPS} "
        f"(max_steps={STEPS}).")
    assert history.seed == SEED, (
        f"the check asked for seed={SEED} but your run used seed={history.seed}: pass seed=seed "
        f"to train, so the run can be repeated.")


def _check_arguments(used: int, lengths: list[int]) -> None:
    """Rows counted as if the answer ignored its records or max_length for the notebook's."""
    def fit(rows: list[int], length: int) -> int:
        return sum(n <= length for n in rows)

    right = fit(lengths[:N_RECORDS], FIT_LENGTH)
    if used != right and used in (fit(lengths, FIT_LENGTH), fit(lengths, NOTEBOOK_LENGTH)):
        raise AssertionError(
            f"you trained on {used} rows, as many as fit of all {len(lengths)} records of "
            f"course:train: filter the {N_RECORDS} records the check gave you (the `records` "
            f"argument), not data you load yourself.")
    if used != right and used == fit(lengths[:N_RECORDS], NOTEBOOK_LENGTH):
        raise AssertionError(
            f"you trained on the {used} rows that fit in {NOTEBOOK_LENGTH} tokens, but the check "
            f"asked for max_length={FIT_LENGTH}: use the max_length argument, not the "
            f"notebook's {NOTEBOOK_LENGTH}.")


def _check_not_cut(history: RunHistory) -> None:
    cut = history.examples_truncated
    assert cut == 0, (
        f"{cut} of the rows you trained on were cut at train's max_length: a cut row loses its "
        f"EOS (cut shorter, its answer too), so it teaches the model never to stop. Drop the "
        f"rows that do not fit whole in max_length={FIT_LENGTH} tokens (BOS and EOS count) "
        f"before training, and pass max_length=max_length to train.")


def _check_rows(history: RunHistory, n_fit: int, printed: str) -> None:
    used, total = history.examples_used, N_RECORDS
    assert used <= n_fit, (
        f"you trained on {used} rows, but only {n_fit} of the {total} fit whole in "
        f"{FIT_LENGTH} tokens: drop the {total - n_fit} longer ones (count BOS and EOS too: "
        f"len(build_example(record, tokenizer)['input_ids'])).")
    assert used == n_fit, (
        f"you trained on {used} rows, but {n_fit} fit whole in {FIT_LENGTH} tokens: keep every "
        f"row whose example has at most max_length tokens (a row of exactly {FIT_LENGTH} "
        f"fits).")
    # train() itself prints how many it kept: only the number dropped says what left the data.
    dropped = total - n_fit
    lines = printed.strip().splitlines()
    said = f"the first line printed was {lines[0]!r}" if lines else "nothing was printed"
    assert re.search(rf"(?<![\d.]){dropped}(?!\.?\d)", printed), (
        f"print how many rows you dropped ({dropped} of the {total} here; {said}): nothing "
        f"should leave the data silently.")


def _check_learned(history: RunHistory) -> None:
    assert history.eval_accuracy, (
        "your run has no held-out evaluation: keep train's eval_data ('course:eval') and "
        "eval_every, so the check can judge what the run learned.")
    accuracy = history.eval_accuracy[-1]
    assert accuracy >= ACCURACY_BOUND, (
        f"after {history.steps_done} steps the held-out accuracy is {accuracy:.0%}; a run that "
        f"learned the answer format reaches more than {ACCURACY_BOUND:.0%} (the base model "
        f"about 6%). Keep train's defaults for the rest, the learning rate included.")
