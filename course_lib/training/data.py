"""Turn whatever a lesson hands to `train()` into labelled examples, and say what looks odd.

`data` may be a source name ('course:train', a JSONL/JSON file, a Hub id), a list of
records ({'instruction', 'response', ...} in any schema the loader knows), or examples that
already carry `input_ids` and `labels` (e.g. built by a lesson's own, possibly wrong, code):

    >>> records = [{"instruction": "Hi", "response": "hi"}]     # doctest: +SKIP
    >>> print(prepare_training_data(records, tok).report())    # doctest: +SKIP
    1 of 1 examples ready for training.

Usable but suspicious rows (empty response, cut by max_length, a second template mixed in)
are trained on, but counted and reported *before* training starts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from course_lib.data import load_raw_rows
from course_lib.errors import CourseError
from course_lib.formatting import (
    DEFAULT_TEMPLATE,
    Template,
    check_consistent_templates,
    normalize_record,
)
from course_lib.labels import IGNORE_INDEX, Masking, PreparedData, prepare_examples

DataSource = str | Path | Sequence[dict[str, Any]] | PreparedData


@dataclass
class TrainingData:
    """Examples ready for the collator, plus what was skipped or looked suspicious."""

    examples: list[dict[str, list[int]]]
    source: str
    total: int
    skipped: list[tuple[int, str]] = field(default_factory=list)
    truncated: list[int] = field(default_factory=list)
    empty_response: list[int] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def report(self) -> str:
        """What will be trained on, one sentence per kind of problem."""
        lines = [
            f"{len(self.examples)} of {self.total} examples from {self.source} ready for training."
        ]
        if self.truncated:
            lines.append(
                f"{len(self.truncated)} cut to max_length (examples {_short(self.truncated)})."
            )
        if self.skipped:
            lines.append(
                f"{len(self.skipped)} skipped: no trained token left, which would give a NaN loss "
                f"(examples {_short([i for i, _ in self.skipped])}); "
                f"raise max_length or shorten them."
            )
        if self.empty_response:
            lines.append(
                f"{len(self.empty_response)} have an empty response (examples "
                f"{_short(self.empty_response)}): they teach the model to answer with nothing; "
                f"fill them in or remove them."
            )
        lines += self.warnings
        return "\n".join(lines)


def _short(items: Sequence[int], limit: int = 8) -> str:
    shown = ", ".join(str(i) for i in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _is_tokenized(rows: Sequence[Any]) -> bool:
    return (
        bool(rows) and isinstance(rows[0], dict) and "input_ids" in rows[0] and "labels" in rows[0]
    )


def _raw_rows(data: DataSource) -> tuple[str, list[tuple[str, Any]]]:
    if isinstance(data, str | Path):
        return str(data), load_raw_rows(data)
    return f"{len(data)} given records", [(f"record {i}", row) for i, row in enumerate(data)]


def prepare_training_data(
    data: DataSource,
    tokenizer,
    masking: Masking = "response",
    max_length: int | None = None,
    template: str | Template = DEFAULT_TEMPLATE,
) -> TrainingData:
    """Load, normalise, check and label `data` (see the module docstring for what it takes)."""
    if isinstance(data, PreparedData):
        return TrainingData(
            list(data.examples),
            "prepared examples",
            len(data.examples) + len(data.skipped),
            list(data.skipped),
            list(data.truncated),
        )
    if not isinstance(data, str | Path) and _is_tokenized(data):
        # Given as is: a lesson's own labels. Only the no-trained-token case is filtered here;
        # the trainer would skip such batches anyway, but reporting them up front is clearer.
        kept, skipped = [], []
        for i, ex in enumerate(data):
            if all(label == IGNORE_INDEX for label in ex["labels"][1:]):
                skipped.append((i, "no trained token"))
            else:
                kept.append(ex)
        return TrainingData(kept, "tokenized examples", len(data), skipped)
    source, rows = _raw_rows(data)
    if not rows:
        raise CourseError(f"{source} holds no examples; give at least one record to train on.")
    records = [normalize_record(row, where) for where, row in rows]
    prepared = prepare_examples(records, tokenizer, template, masking, max_length)
    return TrainingData(
        examples=prepared.examples,
        source=source,
        total=len(records),
        skipped=prepared.skipped,
        truncated=prepared.truncated,
        empty_response=[i for i, r in enumerate(records) if not r["response"].strip()],
        warnings=check_consistent_templates([row for _, row in rows if isinstance(row, dict)]),
    )


def prepare_eval_examples(
    data: DataSource,
    tokenizer,
    max_length: int | None = None,
    template: str | Template = DEFAULT_TEMPLATE,
    limit: int | None = None,
) -> list[dict[str, list[int]]]:
    """Held-out examples labelled on the response only, whatever masking the run trains with."""
    if isinstance(data, PreparedData):
        examples = data.examples
    elif not isinstance(data, str | Path) and _is_tokenized(data):
        examples = list(data)
    else:
        _, rows = _raw_rows(data)
        records = [normalize_record(row, where) for where, row in rows]
        examples = prepare_examples(records, tokenizer, template, "response", max_length).examples
    return examples[:limit] if limit else examples
