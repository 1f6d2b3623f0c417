"""The figure of one training run: reported loss, held-out response-only loss and accuracy.

    >>> fig = plot_history(result.history)     # doctest: +SKIP
    >>> fig.savefig("loss.png")                # doctest: +SKIP

The live plot (callbacks.LiveLossPlot) redraws the same figure while a run trains.
"""

from __future__ import annotations

import io

from matplotlib.figure import Figure

from course_lib.training.history import RunHistory


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
            + (f"\non {history.eval_data}" if history.eval_data else ""),  # which held-out set
        )
        ax_acc.plot(history.eval_steps, history.eval_accuracy, "o-", color="tab:green")
    ax_loss.set(xlabel="step", ylabel="loss", title=f"{history.name}: loss")
    ax_loss.legend(fontsize=8)
    ax_acc.set(
        xlabel="step", ylabel="accuracy", ylim=(0, 1), title="held-out response-token accuracy"
    )
    fig.tight_layout()
    return fig


def figure_png(fig: Figure, dpi: int = 80) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()
