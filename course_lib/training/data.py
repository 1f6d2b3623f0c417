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
from dataclasses import replace
from pathlib import Path
from typing import Any

from course_lib.errors import CourseError
from course_lib.formatting.records import load_raw_rows
from course_lib.formatting.schemas import normalize_record
from course_lib.formatting.stats import check_consistent_templates
from course_lib.formatting.templates import DEFAULT_TEMPLATE, Template
from course_lib.masking.labels import IGNORE_INDEX, Masking, PreparedData, prepare_examples

DataSource = str | Path | Sequence[dict[str, Any]] | PreparedData


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
) -> PreparedData:
    """Load, normalise, check and label `data` (see the module docstring for what it takes)."""
    if isinstance(data, PreparedData):
        return data
    if not isinstance(data, str | Path) and _is_tokenized(data):
        # Given as is: a lesson's own labels. Only the no-trained-token case is filtered here;
        # the trainer would skip such batches anyway, but reporting them up front is clearer.
        ready = PreparedData(examples=[], source="tokenized examples", total=len(data))
        for i, ex in enumerate(data):
            if all(label == IGNORE_INDEX for label in ex["labels"][1:]):
                ready.skipped.append((i, "no trained token"))
            else:
                ready.examples.append(ex)
                ready.kept.append(i)
        return ready
    source, rows = _raw_rows(data)
    if not rows:
        raise CourseError(f"{source} holds no examples; give at least one record to train on.")
    records = [normalize_record(row, where) for where, row in rows]
    prepared = prepare_examples(records, tokenizer, template, masking, max_length)
    mixed = check_consistent_templates([row for _, row in rows if isinstance(row, dict)])
    return replace(prepared, source=source, warnings=prepared.warnings + mixed)


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
