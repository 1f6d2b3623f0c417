"""How an evaluation report shows itself: a text table, an HTML table and a figure.

Models are columns; metrics and breakdowns are rows; every rate shows its count:

    >>> cell(Rate(45, 56)), cell(None), cell(12.345)
    ('0.80 (45/56)', '-', '12.3')

The figure uses matplotlib's object API (no pyplot) and shows itself as a PNG in any
notebook, a fresh kernel too (display.CourseFigure); `fig.savefig("eval.png")` saves it.
"""

from __future__ import annotations

import html
from typing import Any

from matplotlib.figure import Figure

from course_lib.display import HATCHES, PALETTE, new_figure, say_empty
from course_lib.evaluation.uncertainty import Rate

# What these functions draw: report.EvalReport (not imported here: report.py imports this
# module, and a module never imports back).
EvalReport = Any

CHECK_NAMES = {"answered": "answered (no new question)", "stopped": "stopped with EOS",
               "no_template_leak": "no template marker", "length_ok": "length within bounds",
               "language_ok": "language asked for"}


def cell(value: Any, interval: bool = False) -> str:
    """One table cell: a rate as 'value (k/n)', a mean as 'value (n=...)', a score as 12.3."""
    if value is None:
        return "-"
    if isinstance(value, Rate):
        text = f"{value.value:.2f} ({value.k}/{value.n})"
        if interval:
            low, high = value.interval
            text += f" [{low:.2f}, {high:.2f}]"
        return text
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def table_rows(report: EvalReport) -> list[tuple[str, list[Any] | None]]:
    """(label, one value per model) in display order; (heading, None) starts a section."""
    # One summary per column, in the order the models were given.
    s = [report.summaries[m] for m in report.models]
    opts = report.options

    def each(key, inner=None):
        # A metric a model has no value for (no reference, no samples) stays None: a "-" cell.
        return [x[key] if inner is None or x[key] is None else x[key][inner] for x in s]

    rows: list[tuple[str, list[Any] | None]] = [
        # How many rows each rate stands on comes first: a rate over 3 rows means little.
        ("rows (with a reference)", [f"{x['rows']} ({x['with_reference']})" for x in s]),
        ("exact match", each("exact_match")),
        ("first answer correct", each("first_answer_correct")),
        ("ROUGE-L F1, mean", each("rouge_l")),
        ("BLEU, corpus (0-100)", each("bleu")),
        ("chrF, corpus (0-100)", each("chrf")),
        ("adherence score, mean", each("adherence")),
        ("every adherence check passed", each("adherence_all")),
    ]
    # Each check under the score it makes up; a check no model ran has no row at all.
    for name in dict.fromkeys(c for x in s for c in x["checks"]):
        rows.append((f"  {CHECK_NAMES.get(name, name)}", [x["checks"].get(name) for x in s]))
    rows.append(("paraphrase groups all alike", each("consistency_paraphrase", "consistent")))
    # The temperature and draws are in the label: sampling agreement means nothing without them.
    rows.append((f"samples equal to greedy (T={opts.temperature:g}, {opts.samples} draws)",
                 each("consistency_sampling")))
    # Seen styles are marked: a high score there may be recall of the tuning data's phrasing.
    styles_seen = {str(r["style"]): r["seen"] for r in report.data.rows}
    sections = [("by_kind", "exact match by task kind", None),
                ("by_phrasing_style", "exact match by phrasing style", styles_seen),
                ("by_seen", "exact match, seen vs unseen phrasing", None),
                ("by_template", "exact match by template", None)]
    for key, heading, seen in sections:
        # Groups of every model, in first-seen order; a heading only over a section with rows.
        names = list(dict.fromkeys(g for x in s for g in x.get(key, {})))
        if names:
            rows.append((heading, None))
        for g in names:
            label = g if seen is None or seen.get(g) is None else \
                f"{g} ({'seen' if seen[g] else 'unseen'})"
            # A group one model's rows lack gets "-" in its column, not a KeyError.
            rows.append((f"  {label}", [x[key][g]["exact_match"] if g in x[key] else None
                                        for x in s]))
    return rows


# What each correctness metric of the table measures, in one line under it.
METRICS_LINE = ("Exact match: the whole answer, normalised; ROUGE-L: words in order; BLEU: "
                "1-4-word runs (0 on one-word answers); chrF: character runs.")


def _footer(report: EvalReport, intervals: str = "in the JSON report") -> list[str]:
    """Where the questions came from and how to read the rates (`intervals`: where the Wilson
    intervals are); then, when any row has a reference, what each correctness metric measures."""
    data, n = report.data, report.data.without_reference
    missing = (f"; {n} row{'s' if n != 1 else ''} without a reference: scored on adherence only"
               if n else "")
    split = f" (its '{data.split}' split)" if data.split else ""
    lines = [f"{len(data.rows)} question{'s' if len(data.rows) != 1 else ''} from "
             f"{data.source}{split}, template{'s' if len(report.templates) > 1 else ''} "
             f"{', '.join(report.templates)}; rates are value (k/n), 95% Wilson intervals "
             f"{intervals}{missing}."]
    return lines + [METRICS_LINE] if n < len(data.rows) else lines


def report_table(report: EvalReport) -> str:
    """The report as aligned text: one column per model."""
    rows = table_rows(report)
    cells = [(label, [cell(v) for v in values] if values else None) for label, values in rows]
    first = max(len(label) for label, _ in cells)
    widths = [max(len(m), *(len(c[i]) for _, c in cells if c)) for i, m in
              enumerate(report.models)]
    lines = ["  ".join([" " * first, *(m.rjust(w) for m, w in zip(report.models, widths,
                                                                   strict=True))])]
    for label, values in cells:
        if values is None:
            lines.append(label)
        else:
            lines.append("  ".join([label.ljust(first),
                                    *(v.rjust(w) for v, w in zip(values, widths, strict=True))]))
    return "\n".join(lines + _footer(report))


def report_html(report: EvalReport) -> str:
    """The same table as HTML, with the Wilson interval of every rate."""
    head = "".join(f"<th>{html.escape(m)}</th>" for m in report.models)
    body = []
    for label, values in table_rows(report):
        if values is None:
            body.append(f"<tr><th colspan='{len(report.models) + 1}' style='text-align:left'>"
                        f"{html.escape(label)}</th></tr>")
            continue
        tds = "".join(f"<td>{html.escape(cell(v, interval=True))}</td>" for v in values)
        body.append(f"<tr><td style='text-align:left'>{html.escape(label.strip())}</td>{tds}</tr>")
    return (f"<table><thead><tr><th></th>{head}</tr></thead><tbody>{''.join(body)}</tbody>"
            f"</table><p><small>{'<br>'.join(map(html.escape, _footer(report, 'in brackets')))}"
            f"</small></p>")


def _bar_value(value: Any) -> tuple[float, tuple[float, float]]:
    """Height and (down, up) error of one bar on a 0-1 scale; nan when there is no value."""
    if value is None:
        return float("nan"), (0.0, 0.0)
    if isinstance(value, Rate):
        low, high = value.interval
        return value.value, (value.value - low, high - value.value)
    number = value.value if hasattr(value, "value") else float(value)
    return number, (0.0, 0.0)


def _grouped_bars(ax, labels: list[str], series: dict[str, list[Any]], title: str,
                  ylabel: str, empty: str = "") -> None:
    if not labels:  # nothing to draw: `empty` says why
        say_empty(ax, empty)
        ax.set(title=title)
        return
    width = 0.8 / max(1, len(series))
    for i, (model, values) in enumerate(series.items()):
        heights, errors = zip(*(_bar_value(v) for v in values), strict=True)
        xs = [j + (i - (len(series) - 1) / 2) * width for j in range(len(labels))]
        # Colour and hatch: models stay apart for colour-blind readers and in grey print;
        # the black edge draws a 0 as a line on the floor, not as nothing.
        ax.bar(xs, heights, width, label=model, color=PALETTE[i % len(PALETTE)],
               hatch=HATCHES[i % len(HATCHES)], edgecolor="black", linewidth=0.5,
               yerr=[[e[0] for e in errors], [e[1] for e in errors]], capsize=2,
               error_kw={"elinewidth": 0.8})
        for x, height in zip(xs, heights, strict=True):
            if height != height:  # no value (e.g. no sampling): said, not drawn as a 0
                ax.text(x, 0.02, "n/a", rotation=90, ha="center", va="bottom", fontsize=8,
                        color="0.3")
    ax.set_xticks(range(len(labels)), labels, rotation=35, ha="right", fontsize=8)
    # The whole 0-1 range, a little below 0 so a bar of 0 shows its edge above the axis;
    # every group inside, also one whose bars have no value.
    ax.set(ylim=(-0.02, 1.05), xlim=(-0.5, len(labels) - 0.5), title=title, ylabel=ylabel)
    ax.grid(axis="y", alpha=0.3)


def _no_group(report: EvalReport, label: str) -> str:
    """Why a by-`label` panel has no bar: no row has a reference, or none carries the label."""
    if report.data.without_reference == len(report.data.rows):
        return "no row has a reference answer"
    return f'no row has a "{label}" label;\nadd a "{label}" field to each row'


def report_figure(report: EvalReport) -> Figure:
    """Every metric per model (0-1; BLEU and chrF divided by 100; bars with Wilson intervals),
    then exact match by phrasing style and by task kind."""
    s = report.summaries
    metrics = {
        "exact match": lambda x: x["exact_match"],
        "first answer": lambda x: x["first_answer_correct"],
        "ROUGE-L": lambda x: x["rouge_l"],
        # Everything on one 0-1 axis: BLEU and chrF come on 0-100, so they are divided.
        "BLEU/100": lambda x: None if x["bleu"] is None else x["bleu"] / 100,
        "chrF/100": lambda x: None if x["chrf"] is None else x["chrf"] / 100,
        "adherence\n(all checks)": lambda x: x["adherence_all"],
        "paraphrase\nconsistency": lambda x: (x["consistency_paraphrase"] or {}).get("consistent"),
        "sampling\nconsistency": lambda x: x["consistency_sampling"],
    }
    # Two rows, about a notebook's width (900 px): the overview on top, the breakdowns below.
    fig = new_figure(figsize=(9, 7.2), layout="constrained")
    axes = list(fig.subplot_mosaic([["all", "all"], ["style", "kind"]],
                                   width_ratios=[1.4, 1]).values())
    # One bar per model in each metric's group, so models are compared metric by metric.
    _grouped_bars(axes[0], list(metrics), {m: [f(s[m]) for f in metrics.values()]
                                           for m in report.models}, "", "score (0-1)")
    # A star on seen styles, explained under the axis: the figure has no room for "(seen)".
    seen = {str(r["style"]): r["seen"] for r in report.data.rows}
    for ax, key, label, title in (
            (axes[1], "by_phrasing_style", "style", "Exact match by phrasing style"),
            (axes[2], "by_kind", "kind", "Exact match by task kind")):
        names = list(dict.fromkeys(g for m in report.models for g in s[m][key]))
        labels = [f"{g}*" if key == "by_phrasing_style" and seen.get(g) else g for g in names]
        # An empty panel says why (no reference, or no such label) rather than showing blank axes.
        _grouped_bars(ax, labels, {m: [s[m][key].get(g, {}).get("exact_match") for g in names]
                                   for m in report.models}, title,
                      "share of questions (0-1)", _no_group(report, label))
    if any(seen.values()):
        axes[1].set_xlabel("* a style the tuning data uses (seen)", fontsize=8)
    _title_and_legend(fig, axes[0], report)
    return fig


def _title_and_legend(fig: Figure, ax, report: EvalReport) -> None:
    """What was asked and how to read the bars, then which model is which, above the panels."""
    n = len(report.data.rows)
    fig.suptitle(f"Every metric, per model: {n} question{'s' if n != 1 else ''} from "
                 f"{report.data.source}\nwhiskers: 95% Wilson interval of a rate", fontsize=10)
    names = report.models
    # Side by side when short; one per line when a name is long, so none runs off the figure.
    columns = min(len(names), 4) if max(map(len, names)) <= 24 else 1
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=columns, fontsize=8)
