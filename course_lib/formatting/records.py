"""Load instruction records from a local JSONL/JSON file, the embedded sets, or a Hub id.

One call serves all three, and every record comes back normalized to
{'instruction', 'input', 'response'} whatever schema it was written in:

    >>> records = load_records("course:train")          # embedded, offline
    >>> records = load_records("my_data.jsonl")         # doctest: +SKIP
    >>> records = load_records("tatsu-lab/alpaca")      # doctest: +SKIP

A broken line never ends in a traceback: the error names the file and the line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from course_lib.env import hub_offline
from course_lib.errors import CourseError
from course_lib.formatting.schemas import normalize_record

EMBEDDED_DATA_DIR = Path(__file__).parent.parent / "assets" / "data"


def embedded_sets() -> dict[str, Path]:
    """The data sets shipped with the course, by name: 'course:train', 'course:eval', ..."""
    return {f"course:{p.stem}": p for p in sorted(EMBEDDED_DATA_DIR.glob("*.jsonl"))}


def read_json_rows(path: Path) -> list[tuple[str, Any]]:
    """Raw rows of a .jsonl or .json file, each with a 'file line N' label for messages."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as err:
        line = path.read_bytes()[: err.start].count(b"\n") + 1
        raise CourseError(
            f"{path} line {line}: not valid UTF-8 (byte {err.start}); save the file as UTF-8."
        ) from None
    if path.suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise CourseError(f"{path} line {err.lineno}: invalid JSON ({err.msg}).") from None
        if isinstance(data, dict) and isinstance(data.get("data"), list):
            data = data["data"]
        if not isinstance(data, list):
            raise CourseError(f"{path}: a .json data file must hold a list of records.")
        return [(f"{path} record {i}", row) for i, row in enumerate(data)]
    rows = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append((f"{path} line {lineno}", json.loads(line)))
        except json.JSONDecodeError as err:
            raise CourseError(
                f"{path} line {lineno}: invalid JSON ({err.msg} at column {err.colno}); "
                f"each line must be one JSON object."
            ) from None
    return rows


def _hub_rows(hub_id: str, split: str) -> list[tuple[str, Any]]:
    import datasets  # imported lazily: it is slow to import and only needed here

    try:
        ds = datasets.load_dataset(hub_id, split=split)
    except Exception as err:  # datasets raises many types; the message is what matters
        text = str(err)
        if hub_offline() or "offline" in text.lower() or "connect" in text.lower():
            why = ("offline mode is on (HF_HUB_OFFLINE=1)" if hub_offline()
                   else "the Hub cannot be reached")
            raise CourseError(
                f"Cannot load data set '{hub_id}' from the Hugging Face Hub because {why} "
                f"and it is not in the local cache; use the embedded data instead: 'course:train'."
            ) from None
        raise CourseError(f"Could not load data set '{hub_id}': {text}") from None
    return [(f"{hub_id} row {i}", row) for i, row in enumerate(ds)]


def load_raw_rows(source: str | Path, split: str = "train") -> list[tuple[str, Any]]:
    """Rows exactly as stored, each with where it came from, before normalizing."""
    name = str(source)
    sets = embedded_sets()
    if name in sets:
        return read_json_rows(sets[name])
    if name == "course":
        return read_json_rows(sets[f"course:{split}"])
    path = Path(name).expanduser()
    if path.is_file():
        return read_json_rows(path)
    if path.exists() or name.endswith((".json", ".jsonl")) or name.count("/") != 1:
        raise CourseError(
            f"No data file at '{name}'; give a .jsonl/.json file, a Hub id (owner/name), "
            f"or an embedded set: {', '.join(sets) or 'course:train'}."
        )
    return _hub_rows(name, split)


def load_records(source: str | Path = "course:train", split: str = "train") -> list[dict[str, str]]:
    """Load and normalize every record; the first unusable one raises a CourseError naming it."""
    return [normalize_record(row, where) for where, row in load_raw_rows(source, split)]
