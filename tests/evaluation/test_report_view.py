"""The report's table footer and figure panels, on hand-made answers (no model is run)."""

import datasets
from matplotlib.colors import to_hex

from course_lib.display import PALETTE
from course_lib.evaluation.eval_data import eval_rows
from course_lib.evaluation.report import EvalOptions, EvalReport, score_row, summarize
from course_lib.evaluation.report_view import METRICS_LINE


def report_of(data, answers):
    """The report a model giving `answers` (each stopped with EOS) would get on `data`."""
    data, options = eval_rows(data), EvalOptions(samples=0)
    scored = [score_row(row, answer, True) | {"template": "one_line", "samples": [],
                                              "sampling_agreement": 0}
              for row, answer in zip(data.rows, answers, strict=True)]
    return EvalReport(data, ["one_line"], options, rows={"m": scored},
                      summaries={"m": summarize(scored, options)})


def panel_texts(report):
    return [[t.get_text() for t in ax.texts] for ax in report.to_figure().axes[1:]]


def test_unlabelled_rows_are_said_to_have_no_label_not_no_reference():
    rows = [{"instruction": "What is 2+2?", "response": "4"},
            {"instruction": "What is 3+3?", "response": "6"}]
    style, kind = panel_texts(report_of(rows, ["4", "5"]))
    # Both said "no row has a reference answer", though every row has one.
    assert style == ['no row has a "style" label;\nadd a "style" field to each row']
    assert kind == ['no row has a "kind" label;\nadd a "kind" field to each row']
    # No reference at all is still said first: no label would give a bar to draw.
    assert panel_texts(report_of([{"instruction": "Say hi."}], ["hi"]))[0] == [
        "no row has a reference answer"]


def footer(report):
    return str(report).splitlines()[-2:]


def test_the_footer_counts_in_words_and_says_what_each_metric_measures():
    one = report_of([{"instruction": "What is 2+2?", "response": "4"}], ["4"])
    assert footer(one)[0].startswith("1 question from rows, template one_line; ")  # "1 questions"
    # One short line for the four correctness metrics, BLEU's 0 on one-word answers among them.
    assert footer(one)[1] == METRICS_LINE and len(METRICS_LINE) <= 140
    assert "BLEU: 1-4-word runs (0 on one-word answers)" in METRICS_LINE
    assert f"<br>{METRICS_LINE}</small>" in one._repr_html_()
    # The intervals are where each view shows them: the text table has no room for them.
    assert "95% Wilson intervals in the JSON report" in footer(one)[0]
    assert "95% Wilson intervals in brackets" in one._repr_html_()
    # With no reference the metrics show "-": the line would explain nothing on the table.
    bare = report_of([{"instruction": "Say hi."}, {"instruction": "Say bye."}], ["hi", "bye"])
    assert str(bare).splitlines()[-1].startswith("2 questions from rows, ")
    assert METRICS_LINE not in str(bare)


def test_the_footer_names_the_split_of_a_saved_dataset_dict(tmp_path):
    rows = [{"instruction": f"What is {n}+{n}?", "response": str(2 * n)} for n in range(4)]
    datasets.DatasetDict({"train": datasets.Dataset.from_list(rows[:2]),
                          "test": datasets.Dataset.from_list(rows[2:])}).save_to_disk(tmp_path)
    report = report_of(str(tmp_path), ["4", "5"])
    assert report.data.split == "test"  # "2 questions from <folder>" said not which split
    assert footer(report)[0].startswith(f"2 questions from {tmp_path} (its 'test' split), ")
    assert report_of(rows, ["0", "2", "4", "6"]).data.split is None


STYLED = [{"instruction": f"What is {n}+{n}?", "response": str(2 * n), "style": style,
           "kind": "add"} for n, style in zip(range(6), ["casual", "polite"] * 3, strict=True)]


def two_models(names=("base model (tiny, not tuned at all)", "masked run, lr 3e-4, seed 0")):
    """A report of two models (the second right on every question), no sampling."""
    one, other = report_of(STYLED, ["0"] * 6), report_of(STYLED, [r["response"] for r in STYLED])
    return EvalReport(one.data, one.templates, one.options,
                      rows=dict(zip(names, [one.rows["m"], other.rows["m"]], strict=True)),
                      summaries=dict(zip(names, [one.summaries["m"], other.summaries["m"]],
                                         strict=True)))


def test_the_figure_fits_a_notebook_and_no_label_leaves_it(layout_faults):
    fig = two_models().to_figure()
    # 900 px at the 100 dpi a notebook shows: Colab's ~800 px column shrinks it little, so
    # 8-point tick labels stay readable (the 14-inch figure shrank them to about 5 px).
    assert fig.get_size_inches()[0] <= 9.5
    # Long model names in the legend above the panels, rotated tick labels, the title:
    # none cut off at the edge, none running into another (the legend sat on the title).
    assert layout_faults(fig) == []
    assert fig.axes[0].get_legend() is not None
    title = fig.get_suptitle()  # says what was asked, and what the whiskers are
    assert "6 questions from rows" in title and "95% Wilson interval" in title


def test_models_differ_in_colour_and_in_hatch_from_the_safe_palette():
    bars = [c for c in two_models().to_figure().axes[0].containers if hasattr(c, "patches")]
    colours = [to_hex(bar.patches[0].get_facecolor()) for bar in bars]
    assert colours == [PALETTE[0].lower(), PALETTE[1].lower()]  # not tab10's orange/green
    assert len({bar.patches[0].get_hatch() for bar in bars}) == 2  # grey print, colour-blind


def test_every_panel_has_a_y_unit_and_a_missing_value_says_n_a():
    axes = two_models().to_figure().axes  # samples=0: no sampling consistency to draw
    assert [ax.get_ylabel() for ax in axes] == ["score (0-1)"] + [
        "share of questions (0-1)"] * 2
    # A bar of no value looked like a bar of 0; it is written "n/a" now, once per model.
    assert [t.get_text() for t in axes[0].texts].count("n/a") == 2 * 2  # paraphrase, sampling
