"""How an experiment's result shows itself: a text table, an HTML table and one figure.

Arms are columns; metrics are rows; each cell is the median over the seeds and the range:

    >>> from course_lib.evaluation.uncertainty import Spread
    >>> cell(Spread(0.62, 0.58, 0.66, 3))
    '0.62 (0.58-0.66)'

The figure uses matplotlib's object API and shows itself as a PNG in any notebook
(display.CourseFigure); `fig.savefig("experiment.png")` saves it.
"""

from __future__ import annotations

import html
from typing import Any

from course_lib.display import PALETTE, new_figure
from course_lib.evaluation.uncertainty import Spread

# What these functions show: result.ExperimentResult (not imported: result.py imports this
# module, and a module never imports back).
ExperimentResult = Any


def cell(spread: Spread) -> str:
    """Median (lowest-highest) over the seeds; one seed shows its value alone."""
    digits = 2 if max(abs(spread.low), abs(spread.high)) < 10 else 0
    if spread.n == 1:
        return f"{spread.median:.{digits}f}"
    return f"{spread.median:.{digits}f} ({spread.low:.{digits}f}-{spread.high:.{digits}f})"


def heading(result: ExperimentResult) -> str:
    seeds = ", ".join(map(str, result.seeds))
    return (f"{result.experiment.name}: {_count(len(result.seeds), 'seed')} ({seeds}), "
            f"{_count(result.steps, 'step')} each, model {result.model}; "
            "median (lowest-highest)")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def count_range(counts) -> str:
    """How many answers an arm's seeds count: '216', or '214-216' when they differ."""
    low, high = min(counts), max(counts)
    return f"{low}" if low == high else f"{low}-{high}"


def metric_label(result: ExperimentResult, metric) -> str:
    """The metric's label with the answers one value counts: '(n=298)' when every run of every
    arm counts the same; '(n per arm)' when they differ (each cell says its arm's)."""
    n = result.counted(metric)
    if n is None and result.counts(metric) is not None:
        return f"{metric.label} (n per arm)"
    return metric.label + (f" (n={n})" if n is not None else "")


def metric_cells(result: ExperimentResult, metric) -> list[str]:
    """One cell per arm; with the arm's count of answers when the arms' counts differ."""
    cells = [cell(result.spread(arm.name, metric)) for arm in result.arms]
    counts = result.counts(metric)
    if counts is None or result.counted(metric) is not None:
        return cells
    return [f"{text}, n={count_range(counts[arm.name])}"
            for text, arm in zip(cells, result.arms, strict=True)]


def table_cells(result: ExperimentResult) -> tuple[list[str], list[list[str]]]:
    """(column titles, rows): one row per metric, one column per arm."""
    titles = ["metric"] + [arm.name for arm in result.arms]
    rows = [[metric_label(result, m)] + metric_cells(result, m) for m in result.metrics]
    if result.base_knowledge is not None and any(m.key == "statement_knowledge"
                                                 for m in result.metrics):
        rows.append(["  (the base model, untuned)", f"{result.base_knowledge.value:.2f}"]
                    + [""] * (len(result.arms) - 1))
    return titles, rows


def result_table(result: ExperimentResult) -> str:
    """The heading, the table, then one verdict line per variant and metric."""
    titles, rows = table_cells(result)
    widths = [max(len(r[i]) for r in [titles, *rows]) for i in range(len(titles))]
    lines = [heading(result), ""]
    for row in [titles, *rows]:
        lines.append("  ".join(text.ljust(w) for text, w in zip(row, widths, strict=True)))
    lines += ["", *(f"- {v}" for v in result.verdicts()), *table_notes(result)]
    return "\n".join(lines)


def table_notes(result: ExperimentResult) -> list[str]:
    """What the numbers leave unsaid, under the table and in the notebook's HTML alike (a cell
    run again showed "in 0 s" and nothing of the cache)."""
    notes = []
    # An optional arm that trains exactly like another is not trained twice: said, not dropped.
    if left_out := [arm.name for arm in result.experiment.arms if arm not in result.arms]:
        notes.append(f"(left out, as optional arms that train exactly like another arm: "
                     f"{', '.join(map(repr, left_out))})")
    if result.cached_runs:
        notes.append(f"({result.cached_runs} of {sum(map(len, result.runs.values()))} runs "
                     f"read from the cache)")
    return notes


def result_html(result: ExperimentResult) -> str:
    titles, rows = table_cells(result)
    head = "".join(f"<th style='text-align:left'>{html.escape(t)}</th>" for t in titles)
    body = "".join("<tr>" + "".join(f"<td style='text-align:left'>{html.escape(c)}</td>"
                                    for c in row) + "</tr>" for row in rows)
    verdicts = "".join(f"<li>{html.escape(str(v))}</li>" for v in result.verdicts())
    notes = "".join(f"<p>{html.escape(note)}</p>" for note in table_notes(result))
    return (f"<p><b>{html.escape(heading(result))}</b></p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
            f"<ul>{verdicts}</ul>{notes}")


def result_figure(result: ExperimentResult):
    """One panel per metric: a bar to each arm's median, a dot per seed, the range as a line."""
    metrics = result.metrics
    axes = _panels(len(metrics))
    fig = axes[0].figure
    names = [arm.name for arm in result.arms]
    for ax, metric in zip(axes, metrics, strict=True):
        values = result.values(metric)
        for x, name in enumerate(names):
            spread, colour = result.spread(name, metric), PALETTE[x % len(PALETTE)]
            ax.bar(x, spread.median, width=0.6, color=colour, alpha=0.35)
            # The median as a thick line too: a median of 0 is a line on the floor, not nothing.
            ax.hlines(spread.median, x - 0.3, x + 0.3, color=colour, linewidth=3)
            ax.vlines(x, spread.low, spread.high, color=colour, linewidth=2)
            n = len(values[name])
            offsets = [(i - (n - 1) / 2) * 0.08 for i in range(n)]  # seeds side by side
            ax.scatter([x + o for o in offsets], values[name], color=colour, s=22, zorder=3,
                       edgecolor="black", linewidth=0.5, clip_on=False)
        title = _wrap(metric_label(result, metric), 30)
        if metric.key == "statement_knowledge" and result.base_knowledge is not None:
            # The untuned model's share (the table's last row): what tuning kept or lost.
            base = result.base_knowledge.value
            ax.axhline(base, color="0.3", linestyle="--", linewidth=1, label="untuned model")
            # Named in the title: a label on the plot hid the arms' medians and dots near it.
            title += "\n(dashed line: untuned model)"
        ax.set_xticks(range(len(names)), tick_labels(result, metric), fontsize=8)
        ax.set_title(title, fontsize=9)
        if result.counts(metric) is not None:  # a rate, whatever each arm counts
            ax.set_ylim(-0.04, 1.04)  # room below 0, so a rate of 0 still shows
            ax.set_ylabel("share of answers (0-1)", fontsize=8)
        else:  # a time or another number: its unit is in the metric's name
            ax.set_ylabel(metric.label, fontsize=8)
        ax.grid(axis="y", alpha=0.3)
    # One seed has no range to draw; and the title is wrapped to the figure's width (about
    # 11 characters an inch at this size), which one or two panels make narrow.
    spread = "bar = median, vertical line = range" if len(result.seeds) > 1 else \
        "no range with one seed"
    width = int(fig.get_figwidth() * 11)
    fig.suptitle("\n".join((_wrap(result.experiment.title, width), _wrap(
        f"{_count(len(result.seeds), 'seed')} per arm (dots), {_count(result.steps, 'step')}; "
        f"{spread}", width))), fontsize=10)
    return fig


def tick_labels(result: ExperimentResult, metric) -> list[str]:
    """The arms' names under a panel; with each arm's count when the counts differ (the
    title says "n per arm")."""
    names = [_wrap(arm.name) for arm in result.arms]
    counts = result.counts(metric)
    if counts is None or result.counted(metric) is not None:
        return names
    return [f"{name}\nn={count_range(counts[arm.name])}"
            for name, arm in zip(names, result.arms, strict=True)]


def _panels(count: int) -> list:
    """`count` axes in rows of at most three, so the figure stays about a notebook's width
    (900 px) and its text readable: four panels make two rows of two, five 3 + 2."""
    rows = -(-count // 3)
    columns = -(-count // rows)
    fig = new_figure(figsize=(3.1 * columns + 0.4, 3.3 * rows + 0.4), layout="constrained")
    axes = list(fig.subplots(rows, columns, squeeze=False).flat)
    for spare in axes[count:]:
        spare.remove()  # a grid of six for five panels: the sixth would be a blank square
    return axes[:count]


def _wrap(text: str, width: int = 14) -> str:
    """Break a label into lines of about `width` characters, at spaces."""
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "\n".join(lines + [line])
