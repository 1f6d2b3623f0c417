"""The report's table footer and figure panels, on hand-made answers (no model is run)."""

from course_lib.evaluation.eval_data import eval_rows
from course_lib.evaluation.report import EvalOptions, EvalReport, score_row, summarize


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
