"""Load instruction records from a data file or folder, the embedded sets, or a Hub id.

One call serves all of them, and every record comes back normalized to
{'instruction', 'input', 'response'} whatever schema it was written in:

    >>> load_records("course:train")[0]["instruction"]          # embedded, offline
    'Multiply 4 by 6.'
    >>> records = load_records("my_data.jsonl")         # doctest: +SKIP
    >>> records = load_records("tatsu-lab/alpaca")      # doctest: +SKIP

Files are read by what they hold, not by their extension: JSON Lines or a JSON array (a
`.json` written by `Dataset.to_json` is JSON Lines), gzipped or not, with or without a UTF-8
byte order mark. CSV and Parquet files and `save_to_disk` folders are read by `datasets`.

Broken rows never end in a traceback: up to ten of them are listed in one error, each with
its line (counted from 1), then how many more there are.
"""

from __future__ import annotations

import csv
import difflib
import gzip
import json
import re
from pathlib import Path
from typing import Any

from course_lib.env import hub_offline
from course_lib.errors import CourseError
from course_lib.formatting.schemas import normalize_record

EMBEDDED_DATA_DIR = Path(__file__).parent.parent / "assets" / "data"
ACCEPTED = ("JSON Lines or a JSON array (any extension), .csv or .parquet, each optionally "
            "gzipped (.gz), or a folder saved with Dataset.save_to_disk")
MAX_ROW_ERRORS = 10  # enough to see a pattern; the rest are counted
GZIP_MAGIC, PARQUET_MAGIC = b"\x1f\x8b", b"PAR1"
DATA_SUFFIXES = {".json", ".jsonl", ".csv", ".parquet", ".gz", ".txt", ".arrow", ".tsv"}


def embedded_sets() -> dict[str, Path]:
    """The data sets shipped with the course, by name: 'course:train', 'course:eval', ..."""
    return {f"course:{p.stem}": p for p in sorted(EMBEDDED_DATA_DIR.glob("*.jsonl"))}


class RowErrors:
    """The unusable rows of one source, collected so that a user sees them all at once.

        >>> errors = RowErrors("d.jsonl")
        >>> errors.add("d.jsonl line 2: invalid JSON"); errors.add("d.jsonl line 5: no response")
        >>> errors.check()
        Traceback (most recent call last):
        course_lib.errors.CourseError: d.jsonl: 2 rows cannot be used; fix them and run again:
          line 2: invalid JSON
          line 5: no response
    """

    def __init__(self, source: str, limit: int = MAX_ROW_ERRORS):
        self.source, self.limit = source, limit
        self.messages: list[str] = []  # each "<source> line N: what is wrong"

    def add(self, message: str) -> None:
        self.messages.append(message)

    def check(self) -> None:
        """Raise one CourseError naming the first `limit` problems in file order, if any."""
        if len(self.messages) == 1:
            raise CourseError(self.messages[0])
        if self.messages:
            # Bad JSON is found while reading, bad fields later: sort them back into file order.
            ordered = sorted(self.messages, key=_row_number)
            shown = [m.removeprefix(self.source).lstrip(" :") for m in ordered[: self.limit]]
            lines = [f"{self.source}: {len(ordered)} rows cannot be used; fix them and run again:"]
            lines += [f"  {m}" for m in shown]  # the source is named once, above
            if len(ordered) > len(shown):
                lines.append(f"  and {len(ordered) - len(shown)} more.")
            raise CourseError("\n".join(lines))


def _row_number(message: str) -> int:
    found = re.search(r" (?:line|row|record) (\d+)", message)
    return int(found.group(1)) if found else 0


# --- JSON: JSON Lines or one array, told apart by content -----------------------------------
def read_text(path: Path, name: str | None = None) -> str:
    """A text file's content: gunzipped if gzipped, UTF-8 with an optional byte order mark."""
    name = name or str(path)
    data = path.read_bytes()
    if data[:2] == GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as err:
            raise CourseError(f"{name}: a broken gzip file ({err}); compress it again.") from None
    try:
        return data.decode("utf-8-sig")  # the "-sig" drops a byte order mark (Windows editors)
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise CourseError(
            f"{name} line {line}: not valid UTF-8 (byte {err.start}); save the file as UTF-8."
        ) from None


def json_rows(text: str, name: str, errors: RowErrors) -> list[tuple[str, Any]]:
    """Rows of JSON Lines or of a JSON array, each labelled with its line (counted from 1).

        >>> json_rows('{"a": 1}\\n\\n{"a": 2}\\n', "x.json", RowErrors("x.json"))
        [('x.json line 1', {'a': 1}), ('x.json line 3', {'a': 2})]
        >>> json_rows('[{"a": 1},\\n {"a": 2}]', "x.jsonl", RowErrors("x.jsonl"))
        [('x.jsonl line 1', {'a': 1}), ('x.jsonl line 2', {'a': 2})]
    """
    start = text.lstrip()[:1]
    if not start:
        return []  # an empty file: the caller says it holds no rows
    if start == "[":
        return _json_array_rows(text, name, errors)
    if start != "{":
        shown = text.lstrip()[:20]
        raise CourseError(f"{name} is not JSON (it starts with {shown!r}); accepted: {ACCEPTED}.")
    try:
        whole = json.loads(text)
    except json.JSONDecodeError as err:
        if _looks_like_json_lines(text):
            return _json_lines_rows(text, name, errors)
        raise CourseError(f"{name} line {err.lineno}: invalid JSON ({err.msg}).") from None
    # One object: a {"data": [...]} wrapper, or a file holding a single record.
    if isinstance(whole.get("data"), list):
        return [(f"{name} record {i}", row) for i, row in enumerate(whole["data"], start=1)]
    first = len(text) - len(text.lstrip("\n\r\t \ufeff"))
    return [(f"{name} line {text.count(chr(10), 0, first) + 1}", whole)]


def _looks_like_json_lines(text: str) -> bool:
    """True if several lines start a JSON object, or one of the first lines is one alone."""
    lines = [line for line in text.splitlines()[:50] if line.strip()]
    if sum(line.startswith("{") for line in lines) > 1:  # a pretty-printed object has one
        return True
    for line in lines[:5]:
        try:
            if isinstance(json.loads(line), dict):
                return True
        except json.JSONDecodeError:
            pass
    return False


def _json_lines_rows(text: str, name: str, errors: RowErrors) -> list[tuple[str, Any]]:
    rows = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append((f"{name} line {lineno}", json.loads(line)))
        except json.JSONDecodeError as err:
            errors.add(f"{name} line {lineno}: invalid JSON ({err.msg} at column {err.colno}); "
                       f"each line must be one JSON object.")
    return rows


def _json_array_rows(text: str, name: str, errors: RowErrors) -> list[tuple[str, Any]]:
    """Decode the array one element at a time, so that each row knows the line it starts on."""
    decoder, ws = json.JSONDecoder(), json.decoder.WHITESPACE
    pos = ws.match(text, text.index("[") + 1).end()
    rows: list[tuple[str, Any]] = []
    line, counted = 1, 0  # lines are counted as we go: one pass over the text in all
    while not (text.startswith("]", pos) and not rows):
        try:
            row, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as err:
            errors.add(f"{name} line {err.lineno}: invalid JSON ({err.msg} at column "
                       f"{err.colno}); nothing after it can be read.")
            return _label_items(rows, name)
        line, counted = line + text.count("\n", counted, pos), pos
        rows.append((line, row))
        pos = ws.match(text, end).end()
        if not text.startswith(",", pos):
            break
        pos = ws.match(text, pos + 1).end()
    if not text.startswith("]", pos) or text[pos + 1:].strip():
        lineno = text.count("\n", 0, pos) + 1
        errors.add(f"{name} line {lineno}: invalid JSON (expected ',' or the closing ']' of "
                   f"the array).")
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


# --- CSV, Parquet and save_to_disk folders: read by `datasets` ------------------------------
def _datasets_rows(path: Path, name: str, kind: str, split: str) -> list[tuple[str, Any]]:
    import datasets  # deferred: about 3 s to import, and only these formats need it

    quiet = datasets.utils.are_progress_bars_disabled()
    datasets.disable_progress_bars()  # "Generating train split" bars are not the course's news
    try:
        if kind == "folder":
            ds = _from_disk(datasets.load_from_disk(str(path), keep_in_memory=True), name, split)
        elif kind == "parquet":
            ds = datasets.Dataset.from_parquet(str(path), keep_in_memory=True)
        else:  # every column as text: "007" stays "007", an empty cell stays ""
            features = datasets.Features({c: datasets.Value("string") for c in _csv_header(path)})
            ds = datasets.Dataset.from_csv(str(path), features=features, keep_default_na=False,
                                           keep_in_memory=True)
    except CourseError:
        raise
    except Exception as err:  # datasets and pyarrow raise many types; the message matters
        why = str(err).strip().splitlines()[0][:200] if str(err).strip() else ""
        raise CourseError(f"{name} could not be read as {kind} ({type(err).__name__}: {why}); "
                          f"accepted: {ACCEPTED}.") from None
    finally:
        if not quiet:
            datasets.enable_progress_bars()
    return [(f"{name} row {i}", row) for i, row in enumerate(ds.to_list(), start=1)]


def _csv_header(path: Path) -> list[str]:
    opener = gzip.open if path.read_bytes()[:2] == GZIP_MAGIC else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as f:
        return next(csv.reader(f), [])


def _from_disk(loaded, name: str, split: str):
    """A DatasetDict folder holds splits: take `split`, or say which ones there are."""
    if not hasattr(loaded, "keys"):
        return loaded
    if split in loaded:
        return loaded[split]
    raise CourseError(f"{name} holds the splits {', '.join(loaded)} but no '{split}' split; "
                      f"give the folder of one split, e.g. {name}/{next(iter(loaded))}.")


def _file_kind(path: Path) -> str:
    """'parquet', 'csv' or 'json': Parquet by its magic bytes, CSV by extension, else JSON."""
    with path.open("rb") as f:
        head = f.read(4)
    suffixes = [s.lower() for s in path.suffixes]
    inner = suffixes[:-1] if suffixes[-1:] == [".gz"] else suffixes
    if head == PARQUET_MAGIC or inner[-1:] == [".parquet"]:
        return "parquet"
    return "csv" if inner[-1:] == [".csv"] else "json"


def _folder_rows(path: Path, name: str, split: str) -> list[tuple[str, Any]]:
    if (path / "dataset_info.json").is_file() or (path / "dataset_dict.json").is_file():
        return _datasets_rows(path, name, "folder", split)
    inside = sorted(p.name for p in path.iterdir() if p.suffix.lower() in DATA_SUFFIXES)[:3]
    hint = f" such as {name.rstrip('/')}/{inside[0]}" if inside else ""
    raise CourseError(f"'{name}' is a folder but not one saved with save_to_disk (it has no "
                      f"dataset_info.json); give a data file{hint}.")


# --- Which source a name means ----------------------------------------------------------------
def _looks_like_path(name: str) -> bool:
    """Hub ids are `owner/name`; anything else that looks local is a (mistyped) path."""
    path = Path(name).expanduser()
    return (name.startswith((".", "/", "~", "\\")) or "\\" in name or name.count("/") != 1
            or path.suffix.lower() in DATA_SUFFIXES or path.parent.is_dir())


def _no_such_path(name: str) -> CourseError:
    path = Path(name).expanduser()
    hint = ""
    if path.parent.is_dir():  # a typo in the file name: offer the nearest one in that folder
        near = difflib.get_close_matches(path.name, [p.name for p in path.parent.iterdir()], n=1)
        hint = f" (did you mean '{path.parent / near[0]}'?)" if near else ""
    return CourseError(f"No such file or folder: '{name}'{hint}; give a data file ({ACCEPTED}), "
                       f"a Hub id (owner/name), or an embedded set such as course:train.")


def _hub_rows(hub_id: str, split: str) -> list[tuple[str, Any]]:
    import datasets  # deferred: slow to import, and only needed here

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
    return [(f"{hub_id} row {i}", row) for i, row in enumerate(ds, start=1)]


def _rows(name: str, split: str, errors: RowErrors) -> list[tuple[str, Any]]:
    sets = embedded_sets()
    if name == "course":
        name = f"course:{split}"
    if name in sets:
        return json_rows(read_text(sets[name], name), name, errors)
    path = Path(name).expanduser()
    if path.is_dir():
        return _folder_rows(path, name, split)
    if path.is_file():
        kind = _file_kind(path)
        if kind == "json":
            return json_rows(read_text(path, name), name, errors)
        return _datasets_rows(path, name, kind, split)
    if _looks_like_path(name):
        raise _no_such_path(name)
    return _hub_rows(name, split)


def load_raw_rows(source: str | Path, split: str = "train",
                  errors: RowErrors | None = None) -> list[tuple[str, Any]]:
    """Rows exactly as stored, each with where it came from ('data.jsonl line 3').

    Unreadable rows raise one CourseError listing them, unless `errors` is given: then they
    are added to it and the caller raises (after adding problems of its own).
    """
    own = errors is None
    errors = RowErrors(str(source)) if errors is None else errors
    rows = _rows(str(source), split, errors)
    if own:
        errors.check()
    return rows


def normalize_rows(rows: list[tuple[str, Any]], errors: RowErrors) -> list[dict[str, str]]:
    """normalize_record on every row; the unusable ones go to `errors` instead of raising."""
    records = []
    for where, row in rows:
        try:
            records.append(normalize_record(row, where))
        except CourseError as err:
            errors.add(str(err))
    return records


def load_records(source: str | Path = "course:train", split: str = "train") -> list[dict[str, str]]:
    """Load and normalize every record; unusable rows raise one CourseError listing them."""
    errors = RowErrors(str(source))
    records = normalize_rows(load_raw_rows(source, split, errors), errors)
    errors.check()
    return records
