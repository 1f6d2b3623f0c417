"""The rows an evaluation asks about: instruction, input, reference, and the labels to slice by.

Any file `course train` reads works (every schema of formatting.schemas), plus questions with
no answer at all, which training refuses: an instruction or a prompt without a response or
completion, or chat messages of one user turn and no assistant turn. Those are scored on
adherence only, and counted.

    >>> data = eval_rows([{"instruction": "What is 2+2?", "response": "4", "kind": "add"},
    ...                   {"instruction": "Say hi."}])
    >>> [(r["instruction"], r["reference"], r["kind"]) for r in data.rows]
    [('What is 2+2?', '4', 'add'), ('Say hi.', None, None)]
    >>> data.without_reference
    1

The labels come from the raw row, because the loader keeps only instruction, input and
response: `kind` (task kind), `group` (paraphrases of one question share it), `style` (how it
is phrased) and `seen` (whether the tuning data uses that style). `course:eval` says
`phrasing: seen/unseen` instead of `style` and `seen`; it is read as both. Dolly's `category`
(closed_qa, brainstorming, ...) is read as `kind` when a row has no `kind`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from course_lib.errors import CourseError
from course_lib.formatting.records import (
    conversion_notes,
    load_raw_rows,
    own_held_out_split,
    refuse_non_records,
)
from course_lib.formatting.rows import HELD_OUT_SPLITS, RowErrors, is_table, table_rows
from course_lib.formatting.schemas import normalize_record

# The fields that hold an answer in the schemas the course reads; a row with none of them
# (and no text or messages to parse one from) is a question without a reference.
ANSWER_FIELDS = ("response", "output", "completion", "messages", "text")
LABELS = ("kind", "group", "style", "seen")


@dataclass(frozen=True)
class EvalData:
    """Rows ready to evaluate, where they came from, and how many have no reference."""

    rows: list[dict[str, Any]]
    source: str
    split: str | None = None  # the split of a save_to_disk DatasetDict folder the rows are from
    # What reading the rows changed or left out, as `course train` says it of its data file.
    notes: tuple[str, ...] = ()

    @property
    def without_reference(self) -> int:
        return sum(r["reference"] is None for r in self.rows)

    def has(self, label: str) -> bool:
        """Whether any row carries `label` (kind, group, style, seen)."""
        return any(r[label] is not None for r in self.rows)


def eval_rows(data: str | Path | Sequence[dict] | EvalData = "course:eval_styles",
              limit: int | None = None, skip_bad_rows: bool | None = None) -> EvalData:
    """Load `data` (a file, an embedded set, a Hub id, or rows) as EvalData.

    `limit` keeps the first rows only. An empty set is an error, not an empty report; so are
    unusable rows, every one of them named in one error, as `course train` names them, unless
    `skip_bad_rows`: then every row is checked, the unusable ones are left out (said in
    `notes`), and `limit` keeps the first usable ones (None: the error names no such choice).
    """
    if isinstance(data, EvalData):
        return data
    source, errors, raw = _given_rows(data, skip_bad_rows)
    # Only the rows asked are checked, unless bad ones are left out: then the first usable.
    usable = _usable_rows(raw if skip_bad_rows or limit is None else raw[:limit], errors)
    errors.check(len(usable))  # with skip_bad_rows, only when none is usable
    if not usable:
        raise CourseError(f"{source} holds no rows to evaluate; give a file with at least one.")
    asked = usable[:limit]
    # The notes `course train` prints on its file, on the rows asked (same code, same words).
    notes = [errors.left_out_note(len(usable))] if errors.messages else []
    notes += conversion_notes([(row["where"], raw_row) for raw_row, row in asked])
    # The split load_raw_rows took from a DatasetDict folder (a Hub set's is not known here).
    split = own_held_out_split(data) if isinstance(data, str | Path) else None
    return EvalData([row for _, row in asked], source, split, tuple(notes))


def _usable_rows(raw: list[tuple[str, Any]], errors: RowErrors) -> list[tuple[Any, dict]]:
    """(raw row, row to evaluate) for each row that reads; the others added to `errors`."""
    usable = []
    for i, (where, row) in enumerate(raw):
        try:
            usable.append((row, _eval_row(i, where, row)))
        except CourseError as err:
            errors.add(str(err))
    return usable


def _given_rows(data: Any, skip: bool | None) -> tuple[str, RowErrors, list[tuple[str, Any]]]:
    """(source, its RowErrors, its raw rows named by where they are); a list is counted from
    0, as training's load_data counts one, a file by its lines and a DataFrame from 1."""
    if isinstance(data, str | Path):
        errors = RowErrors(str(data), skip=skip)  # a DatasetDict: its held-out split, not train
        return str(data), errors, load_raw_rows(data, HELD_OUT_SPLITS, errors=errors)
    if is_table(data):  # a DataFrame or Dataset: its rows, not its column names
        raw = [(f"row {i}", r) for i, r in enumerate(table_rows(data), 1)]
        kind = type(data).__name__
        return f"a {kind}", RowErrors(f"the {kind}", skip=skip), raw
    refuse_non_records(data, ', or [{"instruction": q} for q in questions] for questions '
                             'without a reference answer')
    return "rows", RowErrors("the given rows", skip=skip), [(f"row {i}", row)
                                                           for i, row in enumerate(data)]


def _eval_row(index: int, where: str, row: Any) -> dict[str, Any]:
    record = normalize_record(_with_empty_answer(row), where)
    phrasing = row.get("phrasing") if isinstance(row, dict) else None
    labels = {label: row.get(label) if isinstance(row, dict) else None for label in LABELS}
    if labels["kind"] is None and isinstance(row, dict):
        labels["kind"] = row.get("category")  # Dolly's task kind: closed_qa, brainstorming...
    if labels["style"] is None:
        labels["style"] = phrasing
    if labels["seen"] is None and phrasing in ("seen", "unseen"):
        labels["seen"] = phrasing == "seen"
    reference = record["response"].strip() or None  # an empty answer cannot be compared
    return {"id": index, "where": where, "instruction": record["instruction"],
            "input": record["input"], "reference": reference, **labels}


def _with_empty_answer(row: Any) -> Any:
    """A question without an answer given an empty one, so that the shared normaliser (which
    training uses too, and refuses such rows there) accepts it: a bare instruction or prompt,
    or chat messages of one user turn (a system message allowed). Other rows are unchanged.

        >>> _with_empty_answer({"prompt": "What is 6+6?"})
        {'prompt': 'What is 6+6?', 'completion': ''}
    """
    if not isinstance(row, dict):
        return row
    messages = row.get("messages")
    if isinstance(messages, list) and [m.get("role") for m in messages if isinstance(m, dict)
                                       and m.get("role") != "system"] == ["user"]:
        return {**row, "messages": [*messages, {"role": "assistant", "content": ""}]}
    if any(row.get(field) is not None for field in ANSWER_FIELDS):
        return row
    # A null answer (a table's empty cell) is no reference, as a missing one is: given "".
    row = {key: value for key, value in row.items()
           if not (key in ANSWER_FIELDS and value is None)}
    if "instruction" in row:
        return {**row, "response": ""}
    if "prompt" in row:  # TRL's prompt: text, or a list of messages (conversational)
        chat = isinstance(row["prompt"], list)
        return {**row, "completion": [{"role": "assistant", "content": ""}] if chat else ""}
    return row
