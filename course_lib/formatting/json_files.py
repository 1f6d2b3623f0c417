"""JSON data files: JSON Lines or one array, told apart by content, every row named by its line.

Also read: objects one after another (as `jq .` writes them), one object holding the records
as {"data": [...]} or by split ({"train": [...], "test": [...]}), and a table written column
by column, as pandas' `df.to_json(path)` writes one. A key given twice with different values
is a row's problem (json would keep the last one without a word), and JSON that breaks off
names its line: nothing after it can be read.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from course_lib.errors import CourseError
from course_lib.formatting.file_bytes import DELIMITERS, LINE_END, read_text
from course_lib.formatting.rows import (
    ACCEPTED,
    HELD_OUT_SPLITS,
    WHOLE_NUMBER,
    RowErrors,
    Split,
    pick_split,
    split_names,
    table_row,
)
from course_lib.formatting.schemas import (
    KNOWN_FIELDS,
    json_kind,
)


def json_rows(text: str, name: str, errors: RowErrors,
              split: Split = "train") -> list[tuple[str, Any]]:
    """Rows of JSON Lines or of a JSON array, each labelled with its line (counted from 1);
    a row that gives one key twice, with different values, goes to `errors`.

        >>> json_rows('{"a": 1}\\n\\n{"a": 2}\\n', "x.json", RowErrors("x.json"))
        [('x.json line 1', {'a': 1}), ('x.json line 3', {'a': 2})]
        >>> json_rows('[{"a": 1},\\n {"a": 2}]', "x.jsonl", RowErrors("x.jsonl"))
        [('x.jsonl line 1', {'a': 1}), ('x.jsonl line 2', {'a': 2})]
    """
    twice = _KeysTwice()
    return twice.drop(_decoded_rows(text, name, errors, split, twice), errors)


def _decoded_rows(text: str, name: str, errors: RowErrors, split: Split,
                  twice: _KeysTwice) -> list[tuple[str, Any]]:
    """json_rows' rows, each read with `twice` watching for keys given twice: JSON Lines, an
    array, objects one after another, or one object (see _one_object_rows)."""
    decoder = json.JSONDecoder(object_pairs_hook=twice)
    start = text.lstrip()[:1]
    if not start:
        return []  # an empty file: the caller says it holds no rows
    if start == "[":
        return _json_array_rows(text, name, errors, decoder)
    if start != "{":
        raise _not_json(text, name)
    try:
        whole = decoder.decode(text)
    except UNREADABLE_JSON as err:
        # Objects one after another, as `jq .` writes them.
        stream = _object_stream_rows(text, name, decoder)
        if stream:
            return stream
        if _looks_like_json_lines(text):
            return _json_lines_rows(text, name, errors, decoder)
        why = err.msg if isinstance(err, json.JSONDecodeError) else _json_problem(err)
        line = getattr(err, "lineno", 1)
        raise CourseError(f"{name} line {line}: invalid JSON ({why}).") from None
    return _one_object_rows(whole, text, name, split, twice)


def _one_object_rows(whole: dict[str, Any], text: str, name: str, split: Split,
                     twice: _KeysTwice) -> list[tuple[str, Any]]:
    """A file of one JSON object: its records wrapped as {"data": [...]}, or by split as
    {"train": [...], "test": [...]} (the first of `split` it holds), or a single record."""
    wrapper = isinstance(whole.get("data"), list) or json_splits(whole)
    if wrapper and id(whole) in twice.found:  # e.g. two "train" lists: json keeps the last
        key = twice.found[id(whole)][1]
        raise CourseError(f"{name}: the key '{key}' is given twice in the object that holds "
                          f"the records, with different values; keep one '{key}' (with "
                          f"the records of both, if both hold records).")
    if isinstance(whole.get("data"), list):
        return [(f"{name} record {i}", row) for i, row in enumerate(whole["data"], start=1)]
    splits = json_splits(whole)
    if splits:
        first = split_names(split)[0]
        wanted = pick_split(splits, name, split, f"add one to the file (\"{first}\": [...]), "
                                                  f"or give a file holding only the records to use")
        return [(f"{name} {wanted} record {i}", row)
                for i, row in enumerate(splits[wanted], start=1)]
    columns = _column_rows(whole, name, twice)
    if columns:  # pandas' df.to_json(path): one object of columns, not one record
        return columns
    first = len(text) - len(text.lstrip("\n\r\t \ufeff"))
    return [(f"{name} line {text.count(chr(10), 0, first) + 1}", whole)]


COLUMNS_NOTE = ("The file holds a table written column by column, as pandas' df.to_json(path) "
                "writes it, so it was read row by row, by its index; df.to_json(path, "
                "orient=\"records\", lines=True) writes one row a line.")


def _column_rows(whole: dict[str, Any], name: str,
                 twice: _KeysTwice) -> list[tuple[str, Any]] | None:
    """The rows of a table written column by column ({"instruction": {"0": ..., "1": ...},
    "output": {"0": ..., "1": ...}}), each named 'item K' (from 1) as a one-line export's
    are; None unless the object is one: a column the course reads, every value an object
    with the same keys, whole numbers (pandas' index), and no key given twice."""
    values = list(whole.values())
    # A record's fields are text, never objects: objects under every name are columns.
    if not (values and all(isinstance(v, dict) and v for v in values)
            and KNOWN_FIELDS & {key.strip().lower() for key in whole}):
        return None
    index = list(values[0])
    # The same index in every column, and nothing json dropped (a key given twice) unsaid.
    if any(set(v) != set(index) for v in values) or not all(map(WHOLE_NUMBER.fullmatch, index)) or (
            any(id(v) in twice.found for v in [whole, *values])):
        return None
    rows = []
    for k, label in enumerate(index, start=1):
        row = table_row(((column, cells[label]) for column, cells in whole.items()),
                        (COLUMNS_NOTE,))
        rows.append((f"{name} item {k}", row))
    return rows


def json_splits(whole: Any) -> dict[str, list]:
    """The splits of a JSON object that holds records by split, {"train": [...], ...}: lists
    of objects under names that are no record's field (a chat record's "messages" is one)."""
    if not isinstance(whole, dict) or KNOWN_FIELDS & {key.strip().lower() for key in whole}:
        return {}
    splits = {key: rows for key, rows in whole.items() if isinstance(rows, list)}
    # Splits saved with no rows ({"train": [], "test": []}) are splits too, as such a
    # DatasetDict folder's are: the split asked for holds no rows, not "no known schema".
    empty = bool({"train", *HELD_OUT_SPLITS} & set(whole)) and all(
        value == [] for value in whole.values())
    return splits if empty or any(isinstance(row, dict) for rows in splits.values()
                                  for row in rows) else {}


class _KeysTwice:
    """An object_pairs_hook for json: builds each object as json does, keeping the last value
    of a key given twice, and keeps aside the objects where the values differ (json would
    drop the first silently), for `drop` to name the rows that hold them."""

    def __init__(self) -> None:
        self.found: dict[int, tuple[dict, str]] = {}  # by id; the object kept, so ids stay

    def __call__(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(pairs)
        if len(obj) < len(pairs):  # a key given twice: a row error unless both values agree
            key = next((key for key, value in pairs if obj[key] != value), None)
            if key is not None:
                self.found[id(obj)] = (obj, key)
        return obj

    def drop(self, rows: list[tuple[str, Any]], errors: RowErrors) -> list[tuple[str, Any]]:
        """The rows that hold no such object; each one that does goes to `errors`, by key."""
        if not self.found:  # nearly always: nothing to look for
            return rows
        kept = []
        for where, row in rows:
            key = self._key_in(row)
            if key is None:
                kept.append((where, row))
            else:
                errors.add(f"{where}: the key '{key}' is given twice, with different values; "
                           f"keep the one you mean and remove the other.")
        return kept

    def _key_in(self, value: Any) -> str | None:
        """The key given twice in `value` or in an object inside it, or None."""
        if id(value) in self.found:
            return self.found[id(value)][1]
        if not isinstance(value, dict | list):
            return None
        inside = value.values() if isinstance(value, dict) else value
        return next((key for key in map(self._key_in, inside) if key is not None), None)


def _not_json(text: str, name: str) -> CourseError:
    """What the file is instead: a table under another extension (Excel's "Unicode Text" is a
    .txt of tab-separated columns) is told the one to give it; else the accepted formats."""
    header = LINE_END.split(text.lstrip(), maxsplit=1)[0]
    for kind, delimiter in DELIMITERS.items():
        columns = {column.strip().lower() for column in header.split(delimiter)}
        if len(columns) > 1 and KNOWN_FIELDS & columns:
            what = "tab-separated" if kind == "tsv" else "comma-separated"
            return CourseError(f"{name} is not JSON but a table of {what} columns; rename it "
                               f"to end in .{kind} (e.g. {Path(name).stem}.{kind}).")
    try:  # JSON, but one value: 42, "hello", null
        value = json.loads(text)
    except (ValueError, RecursionError):
        shown = text.lstrip()[:20]
        return CourseError(f"{name} is not JSON (it starts with {shown!r}); accepted: {ACCEPTED}.")
    return CourseError(f"{name} holds one JSON value, {json_kind(value)}, not records; give one "
                       f"JSON object per line, or a JSON array of them.")


# What json raises on text it cannot read: besides JSONDecodeError, a RecursionError for
# arrays nested past Python's recursion limit, and a ValueError for a number of over 4300 digits.
UNREADABLE_JSON = (ValueError, RecursionError)  # JSONDecodeError is a ValueError


def _json_problem(err: Exception) -> str:
    if isinstance(err, json.JSONDecodeError):
        return f"{err.msg} at column {err.colno}"
    if isinstance(err, RecursionError):
        return "nested too deeply to read"
    return "a number too long to read (over 4300 digits); make it a JSON string"



def _looks_like_json_lines(text: str) -> bool:
    """True if several lines start a JSON object, or one of the first lines is one alone."""
    lines = [line for line in LINE_END.split(text, maxsplit=50)[:50] if line.strip()]
    if sum(line.startswith("{") for line in lines) > 1:  # a pretty-printed object has one
        return True
    for line in lines[:5]:
        try:
            if isinstance(json.loads(line), dict):
                return True
        except UNREADABLE_JSON:
            pass
    return False


def _json_lines_rows(text: str, name: str, errors: RowErrors,
                     decoder: json.JSONDecoder) -> list[tuple[str, Any]]:
    rows = []
    for lineno, line in enumerate(LINE_END.split(text), start=1):
        if not line.strip():
            continue
        try:
            rows.append((f"{name} line {lineno}", decoder.decode(line)))
        except UNREADABLE_JSON as err:
            # A BOM inside the file: two files that each start with one, joined with cat.
            if line.startswith("\ufeff"):
                errors.add(f"{name} line {lineno} starts with a byte order mark (U+FEFF), "
                           f"probably from joining files; remove it.")
                continue
            errors.add(f"{name} line {lineno}: invalid JSON ({_json_problem(err)}); "
                       f"each line must be one JSON object.")
    return rows


def _object_stream_rows(text: str, name: str,
                        decoder: json.JSONDecoder) -> list[tuple[str, Any]] | None:
    """Two or more JSON objects one after another, each over several lines (pretty-printed),
    each named by the line it starts on; None unless the whole text reads so."""
    ws = json.decoder.WHITESPACE
    pos = ws.match(text, 1 if text.startswith("\ufeff") else 0).end()
    rows: list[tuple[str, Any]] = []
    line, counted = 1, 0  # lines counted as we go: one pass over the text
    while pos < len(text):
        if not text.startswith("{", pos):
            return None
        try:
            row, end = decoder.raw_decode(text, pos)
        except UNREADABLE_JSON:
            return None
        if not rows and "\n" not in text[pos:end]:  # JSON Lines: read, and named, line by line
            return None
        line, counted = line + text.count("\n", counted, pos), pos
        rows.append((f"{name} line {line}", row))
        pos = ws.match(text, end).end()
    return rows if len(rows) > 1 else None


def _json_array_rows(text: str, name: str, errors: RowErrors,
                     decoder: json.JSONDecoder) -> list[tuple[str, Any]]:
    """Decode the array one element at a time, so that each row knows the line it starts on."""
    ws = json.decoder.WHITESPACE
    pos = ws.match(text, text.index("[") + 1).end()
    rows: list[tuple[str, Any]] = []
    line, counted = 1, 0  # lines are counted as we go: one pass over the text in all
    while not (text.startswith("]", pos) and not rows):
        try:
            row, end = decoder.raw_decode(text, pos)
        except UNREADABLE_JSON as err:
            lineno = getattr(err, "lineno", None) or text.count("\n", 0, pos) + 1
            errors.add(f"{name} line {lineno}: invalid JSON ({_json_problem(err)}); nothing "
                       f"after it can be read.", of_the_file=True)
            return _label_items(rows, name)
        line, counted = line + text.count("\n", counted, pos), pos
        rows.append((line, row))
        pos = ws.match(text, end).end()
        if not text.startswith(",", pos):
            break
        pos = ws.match(text, pos + 1).end()
    if not text.startswith("]", pos):
        lineno = text.count("\n", 0, pos) + 1
        errors.add(f"{name} line {lineno}: invalid JSON (expected ',' or the closing ']' of "
                   f"the array).", of_the_file=True)
    elif text[pos + 1:].strip():  # e.g. a second array appended with >>: named where it starts
        after = ws.match(text, pos + 1).end()
        errors.add(f"{name} line {text.count(chr(10), 0, after) + 1}: invalid JSON (text after "
                   f"the closing ']' of the array); put every record inside the one array.",
                   of_the_file=True)
    return _label_items(rows, name)


def _label_items(rows: list[tuple[int, Any]], name: str) -> list[tuple[str, Any]]:
    """'file line N' for each row; 'file item K' (counted from 1) when rows share lines, as in
    a one-line export (pandas' `to_json(orient="records")`), where a line names no one row.

        >>> _label_items([(1, "a"), (1, "b")], "x.json")
        [('x.json item 1', 'a'), ('x.json item 2', 'b')]
    """
    shared = len({line for line, _ in rows}) < len(rows)
    return [(f"{name} item {k}" if shared else f"{name} line {line}", row)
            for k, (line, row) in enumerate(rows, start=1)]


def read_json_rows(path: Path, name: str | None = None) -> list[tuple[str, Any]]:
    """Raw rows of a JSON Lines or JSON file, each labelled 'file line N'; errors raised."""
    name = name or str(path)
    errors = RowErrors(name)
    rows = json_rows(read_text(path, name), name, errors)
    errors.check()
    return rows



def one_object(text: str) -> Any:
    """The text's one JSON object, or None when it holds another thing (JSON Lines fail fast,
    at their second line)."""
    if not text.lstrip().startswith("{"):
        return None
    try:
        return json.loads(text)
    except UNREADABLE_JSON:
        return None
