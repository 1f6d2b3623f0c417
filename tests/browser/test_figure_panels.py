"""The empty-panel check of the browser tests, on the course's own figures (no browser needed).

    python -m pytest tests/browser/test_figure_panels.py -q
"""

import base64

import pytest
from lab_driver import MIN_DATA_SHARE, decode_image, panel_data_shares

from course_lib.display import figure_png
from course_lib.evaluation.compare import compare_runs
from course_lib.training.history import RunHistory
from course_lib.training.plots import plot_history

TRAINED = dict(train_steps=[5, 10, 15, 20], train_loss=[5.0, 1.0, 0.5, 0.4])
EVALUATED = dict(eval_steps=[0, 10, 20], eval_loss=[9.0, 1.0, 0.5], eval_accuracy=[0.1, 0.8, 0.9])


def _as_shown(fig, dpi: int):
    """The figure as the page's <img> carries it: a data: URL."""
    return decode_image("data:image/png;base64," + base64.b64encode(figure_png(fig, dpi)).decode())


@pytest.mark.parametrize("dpi", [80, 100, 200])
def test_a_panel_without_data_is_found(dpi):
    # The live plot of a run without evaluation: the accuracy panel stays empty.
    shares = panel_data_shares(_as_shown(plot_history(RunHistory(label="x", **TRAINED)), dpi))
    assert len(shares) == 2
    assert shares[0] >= MIN_DATA_SHARE > shares[1]


@pytest.mark.parametrize("dpi", [80, 100, 200])
def test_panels_with_data_pass(dpi):
    runs = [RunHistory(label="a", masking="response", **TRAINED, **EVALUATED),
            RunHistory(label="b", masking="none", **TRAINED, **EVALUATED)]
    for fig in (plot_history(runs[0]), compare_runs(runs)):
        shares = panel_data_shares(_as_shown(fig, dpi))
        assert len(shares) == 2 and min(shares) >= MIN_DATA_SHARE, shares


def test_a_legend_alone_is_not_data():
    runs = [RunHistory(label="a", masking="response", **TRAINED),
            RunHistory(label="b", masking="none", **TRAINED)]
    shares = panel_data_shares(_as_shown(compare_runs(runs), 80))  # right panel: legend only
    assert shares[0] >= MIN_DATA_SHARE > shares[1]
