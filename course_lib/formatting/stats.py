"""What is in an instruction data set: phrasing styles and task kinds, counted and plotted.

Good instruction data is diverse: questions *and* commands, formal *and*
casual, several kinds of task. These rough, rule-based labels make the mix visible:

    >>> instruction_style({"instruction": "Kindly compute 14 minus 6.", "response": "8"})
    'formal'
    >>> task_kind({"instruction": "What is the capital of Peru?", "response": "Lima"})
    'capital'
    >>> fig = plot_data_mix(load_records("course:train"))     # doctest: +SKIP

They are heuristics for a quick look (an unknown task is 'other'), not a classifier.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from course_lib.display import CourseFigure, new_figure
from course_lib.errors import CourseError, shown
from course_lib.formatting.records import records_given
from course_lib.formatting.schemas import detect_schema, detect_template

# Task kinds, first match wins; each is a regular expression on the lower-cased instruction.
TASKS: dict[str, str] = {
    "translation": r"spanish|translate",
    "arithmetic": r"\d|\b(plus|minus|times|sum|product|add|subtract|multiply|difference)\b",
    "capital": r"\bcapital\b",
    "sound": r"\b(say|says|sound|goes|noise)\b",
    "colour": r"\b(colou?r|colou?r's)\b",
    "opposite": r"\bopposite\b",
}


def instruction_style(record: Mapping[str, Any]) -> str:
    """'with input' (three-part), 'formal' (Kindly/Please), 'casual' (lower case, no final
    punctuation), 'question' (ends with '?') or 'command'."""
    check_one_record(record, "instruction_style")
    text = str(record.get("instruction", "")).strip()
    if record.get("input"):
        return "with input"
    if re.match(r"(kindly|please)\b", text, re.I):
        return "formal"
    if text[:1].islower() and not text.endswith((".", "?", "!")):
        return "casual"
    if text.endswith("?"):
        return "question"
    return "command"


def task_kind(record: Mapping[str, Any]) -> str:
    """The first of TASKS whose pattern matches the instruction, or 'other'."""
    check_one_record(record, "task_kind")
    text = str(record.get("instruction", "")).lower()
    for kind, pattern in TASKS.items():
        if re.search(pattern, text):
            return kind
    return "other"


def check_one_record(record: Any, call: str) -> None:
    """One record (a dict, or a table's row): a text or a list was an AttributeError about
    .get from inside."""
    if isinstance(record, str):
        raise CourseError(f"{call} reads a record, not {shown(record)}; give the text as its "
                          f"instruction, a record such as {{'instruction': {record!r}}}.")
    if not hasattr(record, "get"):
        raise CourseError(f"{call} reads one record (a dict), not a {type(record).__name__}; "
                          f"for a list, call it on each record, or count them all with "
                          f"data_mix(records).")


def as_records(records: Any, call: str) -> list:
    """The records a counting function was given, as a list (see records_given): a name or
    one record were counted letter by letter, key by key, a table column by column."""
    return records_given(records, f"{call} counts records, not {{name}}; load them first, e.g. "
                                  f"with load_records('course:train').")


def data_mix(records: Sequence[Mapping[str, Any]]) -> dict[str, Counter]:
    """{'style': Counter of instruction_style, 'task': Counter of task_kind}."""
    records = as_records(records, "data_mix")
    return {"style": Counter(instruction_style(r) for r in records),
            "task": Counter(task_kind(r) for r in records)}


def plot_data_mix(records: Sequence[Mapping[str, Any]],
                  title: str = "training data") -> CourseFigure:
    """Two bar charts: how instructions are phrased, and what they ask for (an image)."""
    records = as_records(records, "plot_data_mix")
    if not records:  # two blank panels with made-up ticks would say nothing
        raise CourseError("plot_data_mix needs at least one record; give it the records of a "
                          "data set, e.g. plot_data_mix(train).")
    mix = data_mix(records)
    fig = new_figure(figsize=(10, 3.2))
    axes = fig.subplots(1, 2)
    for ax, (name, counts) in zip(axes, mix.items(), strict=True):
        labels, values = zip(*counts.most_common(), strict=True) if counts else ((), ())
        ax.bar(labels, values, color="#60a5fa" if name == "style" else "#34d399")
        ax.set_title(f"{title}: {'phrasing' if name == 'style' else 'task'} "
                     f"({len(records)} records)", fontsize=10)
        ax.set_ylabel("records")
        ax.tick_params(axis="x", rotation=30)
    fig.tight_layout()
    return fig


# --- Consistent formatting: one template for every record --------------------------------
def template_counts(records: list[dict[str, Any]]) -> Counter:
    """How many raw records use each template ('structured' for field-based records)."""
    return Counter(record_template(r) for r in as_records(records, "template_counts"))


def record_template(record: Any) -> str:
    """The template a raw record is written in: its text's, or 'structured' when fields hold
    it (the template is added in training), as normalize_record reads the record.

        >>> record_template({"text": "Q: What is 2+2? A: 4", "id": 7})
        'qa'
    """
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        return "structured"
    if detect_schema(record) != "text":  # a text column beside the fields that train
        return "structured"
    return detect_template(record["text"]) or "unknown"


def check_consistent_templates(records: list[dict[str, Any]],
                               where: Sequence[str] = ()) -> list[str]:
    """Warnings, one per minority template, naming the examples (empty list = consistent).
    `where[i]` is record i's place in its file ('line 3'); without it, indices from 0."""
    kinds = [record_template(r) for r in as_records(records, "check_consistent_templates")]
    counts = Counter(kinds)
    if len(counts) <= 1:
        return []
    majority = counts.most_common(1)[0][0]
    warnings = []
    for kind, n in counts.items():
        if kind == majority:
            continue
        idx = [i for i, k in enumerate(kinds) if k == kind]
        shown = ", ".join(where[i] if where else str(i) for i in idx[:5]) + (
            " …" if len(idx) > 5 else "")
        warnings.append(
            f"{n} {'example uses' if n == 1 else 'examples use'} the {_kind_name(kind)} format "
            f"while most use {_kind_name(majority)} ({'' if where else 'examples '}{shown}); "
            f"reformat them with one template."
        )
    return warnings


def _kind_name(kind: str) -> str:
    return "'structured' (instruction/response fields)" if kind == "structured" else f"'{kind}'"
