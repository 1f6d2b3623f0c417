import pytest
from matplotlib.colors import to_hex

from course_lib.display import PALETTE, in_notebook
from course_lib.errors import CourseError
from course_lib.training.callbacks import LiveLossPlot
from course_lib.training.history import RunHistory
from course_lib.training.plots import plot_history


def test_single_run_plot_has_loss_and_accuracy_panels(toy_history):
    fig = plot_history(toy_history("response", 0))
    assert len(fig.axes) == 2
    assert len(fig.axes[0].lines) == 2  # reported training loss and held-out loss
    assert fig.axes[0].get_yscale() == "log"  # step 0's ~11 does not flatten the rest


def test_a_train_result_or_a_run_folder_is_plotted_as_its_history(toy_history, tmp_path):
    # Were AttributeErrors: "'TrainResult' object has no attribute 'train_loss'", and of 'str'.
    from course_lib.training.runner import TrainResult

    history = toy_history("response", 0)
    history.save(tmp_path)
    for run in (TrainResult(None, None, history), tmp_path, str(tmp_path / "history.json")):
        fig = plot_history(run)
        assert list(fig.axes[0].lines[0].get_ydata()) == history.train_loss
    with pytest.raises(CourseError, match=r"^plot_history takes a run: result.history, a train"
                                          r"\(\) result or a run folder, not list\.$"):
        plot_history([history])


def test_first_frame_spans_the_whole_run():
    # The first live frame holds one held-out point at step 0: without a fixed x-axis
    # matplotlib would centre it on -0.04..0.04.
    first = RunHistory(masking="response")
    first.add_eval(0, 11.0, 0.0)
    fig = plot_history(first, max_steps=40)
    for ax in fig.axes:
        assert ax.get_xlim() == (0, 40)


def test_an_empty_accuracy_panel_says_why():
    h = RunHistory(masking="response", max_steps=5)
    h.add_train_loss(1, 3.0)
    texts = [t.get_text() for t in plot_history(h).axes[1].texts]
    assert texts == ["no held-out data given"]


def test_live_plot_is_a_no_op_headless():
    assert not in_notebook()
    cb = LiveLossPlot()
    assert not cb.enabled
    cb.on_log(None, None, None)  # would fail on the None state if it tried to draw
    cb.on_train_end(None, None, None)


def test_live_plot_shows_then_updates_one_display_in_a_notebook(monkeypatch):
    import IPython.display
    from transformers import TrainerState

    import course_lib.training.callbacks as plots

    calls = []

    class Handle:
        def update(self, obj):
            calls.append(("update", obj))

    def fake_display(obj, display_id=False):
        calls.append(("display", obj, display_id))
        return Handle()

    monkeypatch.setattr(plots, "in_notebook", lambda: True)
    monkeypatch.setattr(IPython.display, "display", fake_display)
    cb = LiveLossPlot(min_interval=0.0)
    state = TrainerState(max_steps=2)
    state.log_history = [{"step": 0, "response_eval_loss": 3.0, "response_eval_accuracy": 0.0}]
    cb.on_train_begin(None, state, None)  # the first frame: step 0's held-out point
    assert cb._fig.axes[0].get_xlim() == (0, 2)
    for step in (1, 2):
        state.log_history.append({"step": step, "loss": 3.0 - step})
        cb.on_log(None, state, None)
    cb.on_train_end(None, state, None)
    assert [c[0] for c in calls] == ["display", "update", "update", "update"]
    assert calls[0][2] is True  # display_id=True: later frames replace this one in place
    assert calls[-1][1].png.startswith(b"\x89PNG")
    # Each frame has its alt text: JupyterLab gives an image/png output none.
    assert "held-out response-token accuracy" in calls[-1][1]._repr_mimebundle_()["text/html"]


def test_live_plot_shows_a_new_display_when_the_same_callback_trains_again(monkeypatch):
    # trainer.train() run again (its cell twice, or a cell of its own after the one that built
    # the trainer): the frames updated the first run's display, which JupyterLab had cleared
    # (a cell run again) or shows in another cell, and the new run's cell showed no plot.
    import IPython.display
    from transformers import TrainerState

    import course_lib.training.callbacks as plots

    shown = []

    class Handle:
        def __init__(self, n):
            self.n = n

        def update(self, obj):
            shown.append(("update", self.n))

    def fake_display(obj, display_id=False):
        shown.append(("display", len(shown)))
        return Handle(len(shown) - 1)

    monkeypatch.setattr(plots, "in_notebook", lambda: True)
    monkeypatch.setattr(IPython.display, "display", fake_display)
    cb = LiveLossPlot(min_interval=0.0)
    for _ in range(2):
        state = TrainerState(max_steps=1)
        state.log_history = [{"step": 1, "loss": 2.0}]
        cb.on_train_begin(None, state, None)
        cb.on_train_end(None, state, None)
    assert shown == [("display", 0), ("update", 0), ("display", 2), ("update", 2)]


def test_a_history_without_loss_says_so_and_has_no_legend_of_nothing():
    fig = plot_history(RunHistory(masking="response"))
    ax_loss = fig.axes[0]
    # Before: a legend naming a training-loss line with no point, on axes from -0.04 to 0.04.
    assert ax_loss.get_legend() is None and not ax_loss.lines
    assert [t.get_text() for t in ax_loss.texts] == ["no loss logged yet"]


def test_axes_say_their_units_and_a_long_held_out_file_keeps_the_legend_in_its_panel():
    h = RunHistory(masking="response", max_steps=40,
                   eval_data="/home/learner/my_project/data/held_out_questions_v2.jsonl")
    for step in (0, 20, 40):
        h.add_train_loss(step, 11.0 / (step + 1))
        h.add_eval(step, 11.0 / (step + 1), step / 40)
    fig = plot_history(h)
    fig.draw_without_rendering()
    ax_loss, ax_acc = fig.axes
    legend, panel = ax_loss.get_legend().get_window_extent(), ax_loss.get_window_extent()
    assert panel.x0 <= legend.x0 and legend.x1 <= panel.x1  # it ran into the next panel
    assert ax_loss.get_ylabel() == "loss (nats, log scale)"
    assert ax_acc.get_ylabel() == "accuracy (share, 0-1)"


def test_the_curves_take_the_safe_palette_and_the_held_out_one_a_second_cue(toy_history):
    ax_loss, ax_acc = plot_history(toy_history("response", 0)).axes
    train, held_out = ax_loss.lines
    assert [to_hex(train.get_color()), to_hex(held_out.get_color())] == [
        PALETTE[0].lower(), PALETTE[1].lower()]
    assert held_out.get_linestyle() != train.get_linestyle() and held_out.get_marker() == "s"
    assert to_hex(ax_acc.lines[0].get_color()) == PALETTE[1].lower()  # the same curve's colour
