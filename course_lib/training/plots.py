"""The figure of one training run: reported loss, held-out response-only loss and accuracy.

    >>> fig = plot_history(result.history)     # doctest: +SKIP
    >>> fig                                    # a notebook shows it as an image  # doctest: +SKIP
    >>> fig.savefig("loss.png")                # doctest: +SKIP

The live plot (callbacks.LiveLossPlot) redraws the same figure while a run trains.
"""

from __future__ import annotations

import textwrap
from typing import Any

from matplotlib.figure import Figure

from course_lib.display import PALETTE, CourseFigure, log_loss_axis, new_figure, say_empty
from course_lib.training.history import RunHistory, as_history


def plot_history(history: RunHistory | Any, fig: Figure | None = None,
                 max_steps: int | None = None) -> CourseFigure:
    """One run: reported training loss and held-out response-only loss, and accuracy.

    `history`: a RunHistory, a train() result, or a run folder or its history.json, as
    compare_runs takes them.

    The x-axis spans the whole run (`max_steps`, else the history's) from the first frame,
    and the loss axis is logarithmic: step 0's loss (about 11 for the base model) and the
    end of a run (below 1) are both readable.
    """
    history = as_history(history)
    # The live callback passes the same figure at every log: it is redrawn from scratch.
    fig = fig or new_figure(figsize=(9, 3.5))
    fig.clear()
    ax_loss, ax_acc = fig.subplots(1, 2)
    if history.train_loss:
        ax_loss.plot(history.train_steps, history.train_loss, alpha=0.8, color=PALETTE[0],
                     label="training loss (as reported)")
    if history.eval_steps:
        # A long held-out file name is wrapped, so the legend stays inside its panel.
        on = "\n" + textwrap.fill(f"on {history.eval_data}", 40) if history.eval_data else ""
        # Its own colour and a dashed line with squares: two cues, not colour alone.
        # clip_on=False: a point on the axis's edge (accuracy 1, the last step) is drawn whole.
        ax_loss.plot(history.eval_steps, history.eval_loss, "s--", color=PALETTE[1],
                     clip_on=False, label=f"held-out response-only loss{on}")
        ax_acc.plot(history.eval_steps, history.eval_accuracy, "s--", color=PALETTE[1],
                    clip_on=False)
    else:  # said, rather than a blank square
        say_empty(ax_acc, "no held-out data given", keep_ticks=True)
    # A fixed x range, so a live plot does not rescale as the run goes on.
    last = max_steps or history.max_steps or max(history.train_steps + history.eval_steps,
                                                 default=1)
    for ax in (ax_loss, ax_acc):
        ax.set_xlim(0, max(last, 1))
    log_loss_axis(ax_loss, history.train_loss + history.eval_loss)
    ax_loss.set(xlabel="step", title=f"{history.name}: loss")
    if ax_loss.lines:
        ax_loss.legend(fontsize=8)
    else:  # no loss logged yet (or a history without curves): said, not a blank square
        say_empty(ax_loss, "no loss logged yet", keep_ticks=True)
    ax_acc.set(xlabel="step", ylabel="accuracy (share, 0-1)", ylim=(0, 1),
               title="held-out response-token accuracy")
    fig.tight_layout()
    return fig

