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
from course_lib.formatting.rows import listed, row_names, table_rows
from course_lib.formatting.schemas import (
    as_its_own_format,
    detect_schema,
    detect_template,
    is_normalized,
    kept_template,
    normalize_record,
)

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
    punctuation), 'question' (ends with '?') or 'command'; a row of any schema (as_read)."""
    check_one_record(record, "instruction_style")
    record = as_read(record)
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
    """The first of TASKS whose pattern matches the instruction (as_read), or 'other'."""
    check_one_record(record, "task_kind")
    text = str(as_read(record).get("instruction", "")).lower()
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


def as_read(record: Any) -> Mapping[str, Any]:
    """A record's instruction and input as training reads them: a text, chat or TRL row's
    (read by a missing 'instruction', every such row was a 'command' of task 'other'), and a
    table's row with its empty cells (NaN, which is true: 'with input') empty. A row that no
    schema reads (a bare {'instruction'}) is read by the fields it has."""
    if hasattr(record, "to_frame"):  # a DataFrame's row (df.apply): read as its table is
        [record] = table_rows(record.to_frame().T)
    elif isinstance(record, dict):  # a Dataset's row: every column, None where it had none
        record = as_its_own_format(record)
    if is_normalized(record):
        return record
    try:
        return normalize_record(record)
    except CourseError:
        return record


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
    if isinstance(record, dict) and (kept := kept_template(record)):
        return kept  # a text row read already (load_records'), as normalize_record keeps it
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        return "structured"
    if detect_schema(record) != "text":  # a text column beside the fields that train
        return "structured"
    return detect_template(record["text"]) or "unknown"


def check_consistent_templates(records: list[dict[str, Any]],
                               where: Sequence[str] = ()) -> list[str]:
    """Warnings, one per minority template, naming the examples (empty list = consistent).
    `where[i]` is record i's place in its file ('line 3'); without it, indices from 0."""
    where = listed(where)  # a generator, a Series: read once, by position
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
        warnings.append(
            f"{n} {'example uses' if n == 1 else 'examples use'} the {_kind_name(kind)} format "
            f"while most use {_kind_name(majority)} ({row_names(idx, where)}); reformat "
            f"{'it' if n == 1 else 'them'} with one template."
        )
    return warnings


def _kind_name(kind: str) -> str:
    return "'structured' (instruction/response fields)" if kind == "structured" else f"'{kind}'"


# --- Rows that look poor, by their form ---------------------------------------------------
FORM_ONLY = ("These checks see form only: a wrong answer such as 3+4 -> 8 needs a person to "
             "catch it.")


def find_poor_rows(records: list[dict[str, Any]]) -> dict[str, list[int]]:
    """The rows each rule of form flags, by the rule's name (record indices, from 0).

    Three rules, each silent on the course's own data (measured in
    tests/formatting/test_poor_rows.py): a prompt given with different responses, a response
    that asks questions instead of answering, a response that says the same words over again.

        >>> find_poor_rows([{"instruction": "help", "response": "sure"},
        ...                 {"instruction": "help", "response": "ok"},
        ...                 {"instruction": "What is 4*3?", "response": "12 12 12 12 12"},
        ...                 {"instruction": "20+4=?", "response": "24"}])
        {'conflicting': [0, 1], 'asks questions': [], 'repeats itself': [2]}
    """
    records = _normalized(records, "find_poor_rows")
    return {"conflicting": _conflicting(records),
            "asks questions": [i for i, r in enumerate(records) if _asks_instead(r)],
            "repeats itself": [i for i, r in enumerate(records)
                               if _repeats_itself(r["response"])]}


def check_poor_rows(records: list[dict[str, Any]], where: Sequence[str] = ()) -> list[str]:
    """Warnings, one per rule of find_poor_rows that flags rows, naming them (empty list = none
    seen). `where[i]` is record i's place in its file ('line 3'); without it, indices from 0.

        >>> rows = [{"instruction": "help", "response": "sure"},
        ...         {"instruction": "help", "response": "ok"},
        ...         {"instruction": "What is 2+2?", "response": "What is 3+3? What is 4+4?"}]
        >>> for warning in check_poor_rows(rows, ["line 1", "line 2", "line 3"]):
        ...     print(warning[:60])
        2 rows answer 1 prompt in more than one way (lines 1, 2): wh
        1 response asks questions instead of answering (line 3): two
    """
    where = listed(where)  # a generator, a Series: read once, by position
    records = _normalized(records, "check_poor_rows", where)
    found = find_poor_rows(records)
    prompts = len({_prompt(records[i]) for i in found["conflicting"]})  # one per torn prompt
    # What each rule saw, with the number of rows first: in the singular, then the plural.
    said = {"conflicting": [f"rows answer {prompts} prompt{'s' if prompts > 1 else ''} in more "
                            f"than one way ({{}}): where a prompt has one right answer, the model "
                            f"cannot learn which it is"] * 2,
            "asks questions": [
                "response asks questions instead of answering ({}): two or more questions, more "
                "than its prompt gives, the last at its end, as if it continued the prompt; the "
                "model learns to reply with questions", "responses ask questions instead of "
                "answering ({}): two or more questions each, more than their prompt gives, the "
                "last at the end, as if they continued the prompt; the model learns to reply "
                "with questions"],
            "repeats itself": [
                "response repeats itself ({}): fewer than half of its runs of three words "
                "differ, so the model learns to loop", "responses repeat themselves ({}): fewer "
                "than half of their runs of three words differ, so the model learns to loop"]}
    # Named as the other notes name rows; the last says what no rule of form can see.
    notes = [f"{len(rows)} {said[rule][len(rows) > 1].format(row_names(rows, where))}; read "
             f"{'it' if len(rows) == 1 else 'them'}; fix or remove "
             f"{'it' if len(rows) == 1 else 'them'}" for rule, rows in found.items() if rows]
    return [note + ("." if n < len(notes) - 1 else f". {FORM_ONLY}")
            for n, note in enumerate(notes)]


def _normalized(records: Any, call: str, where: Sequence[str] = ()) -> list[dict[str, str]]:
    """Records in any schema the loader reads, as {'instruction', 'input', 'response'}: the
    rules read those three fields; a row of none is named by its place."""
    return [r if is_normalized(r) else normalize_record(r, where[i] if where else f"record {i}")
            for i, r in enumerate(as_records(records, call))]


def _prompt(record: Mapping[str, str]) -> tuple[str, str]:
    """A record's prompt, instruction and input, spaces aside."""
    return record["instruction"].strip(), (record.get("input") or "").strip()


def _conflicting(records: Sequence[Mapping[str, str]]) -> list[int]:
    """Rows whose prompt comes with two or more different responses: each row teaches another
    answer to it."""
    answers: dict[tuple[str, str], set[str]] = {}
    prompts = [_prompt(r) for r in records]
    for prompt, r in zip(prompts, records, strict=True):
        answers.setdefault(prompt, set()).add(r["response"].strip())
    torn = {prompt for prompt, said in answers.items() if len(said) > 1}
    return [i for i, prompt in enumerate(prompts) if prompt in torn]


def _asks_instead(record: Mapping[str, str]) -> bool:
    """A response of two or more questions, the last one at its end, more than its prompt
    gives: one question can be an answer ('Como estas?' translates 'How are you?'), and so can
    as many as the prompt gives (a translation of two questions); a run of them continues the
    prompt instead."""
    response = record["response"].strip()
    asked = response.count("?")
    given = sum(part.count("?") for part in _prompt(record))
    return asked >= 2 and response.endswith("?") and asked > given


def _repeats_itself(response: str) -> bool:
    """Fewer than half of the response's runs of three words are different (lower case): a
    loop such as 'I am fine. I am fine. I am fine.'. Runs, not single words: a long answer
    uses 'the' often, but seldom the same three words in a row."""
    words = response.lower().split()
    runs = list(zip(words, words[1:], words[2:], strict=False))  # shorter tails
    return len(runs) >= 3 and len(set(runs)) < len(runs) / 2
