"""The report's table footer and figure panels, on hand-made answers (no model is run)."""

import datasets

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
