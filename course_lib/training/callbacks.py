"""Trainer callbacks: held-out measurements, a progress bar and a live plot of the curves.

`train()` adds them; they are plain `transformers.TrainerCallback`s, so they work with
TRL's SFTTrainer too (lesson 05):

    >>> SFTTrainer(..., callbacks=[ProgressBar(), LiveLossPlot("TRL")])   # doctest: +SKIP

Outside a notebook the live plot does nothing, so the same lesson code runs headless.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import torch
from transformers import TrainerCallback

from course_lib.display import Picture, figure_alt, figure_png, in_notebook, new_figure
from course_lib.training.held_out import check_held_out, response_metrics
from course_lib.training.history import RunHistory, history_from_log
from course_lib.training.plots import plot_history


class ResponseEvalCallback(TrainerCallback):
    """Every `every` steps (and at step 0 and the end): held-out response-only loss/accuracy.

    The numbers go into `state.log_history`, so they are saved with each checkpoint and
    survive a resume.
    """

    def __init__(
        self,
        examples: Sequence[dict[str, list[int]]],
        pad_token_id: int,
        every: int,
        batch_size: int = 32,
    ):
        check_held_out(examples, pad_token_id,
                       "ResponseEvalCallback(examples, tokenizer.pad_token_id, every=10)")
        self.examples, self.pad_token_id, self.every = examples, pad_token_id, every
        self.batch_size = batch_size

    def _evaluate(self, state, model) -> None:
        if not state.is_world_process_zero:
            return  # N processes train together; one measures (the others wait at the next step)
        m = response_metrics(model, self.examples, self.pad_token_id, self.batch_size)
        state.log_history.append(
            {
                "step": state.global_step,
                "response_eval_loss": m.loss,
                "response_eval_accuracy": m.accuracy,
            }
        )

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        if state.global_step == 0:
            self._evaluate(state, model)

    def on_step_end(self, args, state, control, model=None, **kwargs):
        if state.global_step % self.every == 0 or state.global_step >= state.max_steps:
            self._evaluate(state, model)


def weights_finite(model) -> bool:
    """Whether every weight of `model` is a number (no NaN, no infinity)."""
    return all(torch.isfinite(p).all() for p in model.parameters())


class StopAtNonFiniteLoss(TrainerCallback):
    """Ends the run at the first logged loss that is NaN or infinite once the weights are too
    (a learning rate far too high): every step after it trains weights that are no longer
    numbers. `at` is that step."""

    def __init__(self):
        self.at: int | None = None

    def on_log(self, args, state, control, logs=None, model=None, **kwargs):
        if self.at is not None or not logs or math.isfinite(logs.get("loss", 0.0)):
            return
        # float16's loss scaler skips a step whose numbers overflowed: the weights stay whole.
        if model is None or not weights_finite(model):
            self.at = state.global_step
            control.should_training_stop = True


class LiveLossPlot(TrainerCallback):
    """Redraws the loss curves in the notebook cell while training runs (no-op headless).

    The first frame is drawn when training begins, with the x-axis already spanning the
    whole run. Drawing costs ~0.1 s, so it redraws at most every `min_interval` seconds
    (and once at the end) to keep the run's speed. Add it after a ResponseEvalCallback so
    that the held-out panel has points.
    """

    def __init__(self, title: str = "", min_interval: float = 2.0):
        self.title, self.min_interval = title, min_interval
        self.enabled = in_notebook()
        self._handle = None
        self._last = 0.0
        self._fig = new_figure(figsize=(9, 3.5)) if self.enabled else None

    def _draw(self, state) -> None:
        from IPython.display import display  # deferred: only inside a notebook

        history = history_from_log(RunHistory(label=self.title), state.log_history)
        fig = plot_history(history, self._fig, max_steps=state.max_steps)
        image = Picture(figure_png(fig), figure_alt(fig))  # a frame, with its alt text
        if self._handle is None:
            self._handle = display(image, display_id=True)
        else:
            self._handle.update(image)
        self._last = time.monotonic()

    def on_train_begin(self, args, state, control, **kwargs):
        if self.enabled:
            # A new display for each run: a cell run again (trainer.train() twice) cleared the
            # old one, and its updates drew nowhere, or in the cell that trained first.
            self._handle = None
            self._draw(state)  # the frame the curves will fill: axes over the whole run

    def on_log(self, args, state, control, **kwargs):
        if self.enabled and time.monotonic() - self._last >= self.min_interval:
            self._draw(state)

    def on_train_end(self, args, state, control, **kwargs):
        if self.enabled:
            self._draw(state)


class ProgressBar(TrainerCallback):
    """A tqdm.auto bar (a widget in notebooks, text in a terminal) showing the latest loss."""

    def __init__(self):
        self.bar = None

    def on_train_begin(self, args, state, control, **kwargs):
        from tqdm.auto import tqdm  # deferred: picks the notebook or terminal bar at run time

        self.bar = tqdm(
            total=state.max_steps, initial=state.global_step, desc="training", unit="step"
        )

    def on_step_end(self, args, state, control, **kwargs):
        if self.bar is not None:
            self.bar.update(state.global_step - self.bar.n)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if self.bar is not None and logs and "loss" in logs:
            self.bar.set_postfix(loss=f"{logs['loss']:.3f}", refresh=False)

    def on_train_end(self, args, state, control, **kwargs):
        self.close()

    def close(self) -> None:
        """End the bar's line (train() calls it on an interrupt too: its message then starts a
        line of its own, and no stale bar is redrawn after it)."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None
