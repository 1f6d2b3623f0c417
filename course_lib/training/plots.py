"""Loss curves: live while training in a notebook, and side by side for several runs.

    >>> fig = compare_runs([masked.history, unmasked.history])   # doctest: +SKIP
    >>> fig.savefig("compare.png")                               # doctest: +SKIP

`LiveLossPlot` and `ProgressBar` are Trainer callbacks; `train(live_plot=True)` adds them.
Outside a notebook the live plot does nothing, so the same lesson code runs headless.
"""

from __future__ import annotations

import io
import time
from collections.abc import Sequence
from pathlib import Path

from matplotlib.figure import Figure
from transformers import TrainerCallback

from course_lib.history import RunHistory

NOT_COMPARABLE = (
    "Reported losses are not comparable: the unmasked run's loss also averages over prompt tokens. "
    "Compare the held-out response-only loss (right)."
)


def in_notebook() -> bool:
    """True inside a Jupyter/Colab kernel (where display updates work), False in a terminal."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def plot_history(history: RunHistory, fig: Figure | None = None) -> Figure:
    """One run: reported training loss and held-out response-only loss, and accuracy.

    Uses matplotlib's object API (no pyplot), so nothing pops up or leaks between cells.
    """
    fig = fig or Figure(figsize=(9, 3.5))
    fig.clear()
    ax_loss, ax_acc = fig.subplots(1, 2)
    ax_loss.plot(
        history.train_steps, history.train_loss, label="training loss (as reported)", alpha=0.8
    )
    if history.eval_steps:
        ax_loss.plot(
            history.eval_steps, history.eval_loss, "o-", label="held-out response-only loss"
        )
        ax_acc.plot(history.eval_steps, history.eval_accuracy, "o-", color="tab:green")
    ax_loss.set(xlabel="step", ylabel="loss", title=f"{history.name}: loss")
    ax_loss.legend(fontsize=8)
    ax_acc.set(
        xlabel="step", ylabel="accuracy", ylim=(0, 1), title="held-out response-token accuracy"
    )
    fig.tight_layout()
    return fig


def compare_runs(
    runs: Sequence[RunHistory | str | Path], labels: Sequence[str] | None = None
) -> Figure:
    """Two or more runs side by side: reported training loss | held-out response-only loss.

    `runs` are RunHistory objects or run folders / history.json files.
    """
    histories = [r if isinstance(r, RunHistory) else RunHistory.load(r) for r in runs]
    names = list(labels) if labels else _unique_names(histories)
    fig = Figure(figsize=(11, 4.2))
    ax_train, ax_eval = fig.subplots(1, 2)
    for h, name in zip(histories, names, strict=True):
        line = ax_train.plot(h.train_steps, h.train_loss, label=f"{name} (masking={h.masking})")[0]
        ax_eval.plot(h.eval_steps, h.eval_loss, "o-", color=line.get_color(), label=name)
    ax_train.set(xlabel="step", ylabel="loss", title="Training loss, as each trainer reports it")
    ax_eval.set(xlabel="step", ylabel="loss", title="Held-out loss on response tokens only")
    ax_train.legend(fontsize=8)
    ax_eval.legend(fontsize=8)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    maskings = {h.masking for h in histories}
    note = (
        NOT_COMPARABLE
        if "none" in maskings and len(maskings) > 1
        else ("All runs use the same masking, so their reported losses are measured alike.")
    )
    fig.text(0.5, 0.015, note, ha="center", fontsize=9, style="italic")
    return fig


def _unique_names(histories: Sequence[RunHistory]) -> list[str]:
    names = [h.name for h in histories]
    if len(set(names)) == len(names):
        return names
    names = [f"{h.name} (seed {h.seed}, {h.model})" for h in histories]
    if len(set(names)) == len(names):
        return names
    return [f"{name} #{i}" for i, name in enumerate(names, start=1)]


def figure_png(fig: Figure, dpi: int = 80) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


class LiveLossPlot(TrainerCallback):
    """Redraws the loss curves in the notebook cell while training runs (no-op headless).

    Drawing costs ~0.1 s, so it redraws at most every `min_interval` seconds (and once at
    the end) to keep the run's speed.
    """

    def __init__(self, title: str = "", min_interval: float = 2.0):
        self.title, self.min_interval = title, min_interval
        self.enabled = in_notebook()
        self._handle = None
        self._last = 0.0
        self._fig = Figure(figsize=(9, 3.5)) if self.enabled else None

    def _draw(self, state) -> None:
        from IPython.display import Image, display

        from course_lib.training import history_from_log

        history = history_from_log(RunHistory(label=self.title), state.log_history)
        image = Image(data=figure_png(plot_history(history, self._fig)))
        if self._handle is None:
            self._handle = display(image, display_id=True)
        else:
            self._handle.update(image)
        self._last = time.monotonic()

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
        from tqdm.auto import tqdm

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
        if self.bar is not None:
            self.bar.close()
            self.bar = None
