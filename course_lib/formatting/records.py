"""Load instruction records from a data file or folder, the embedded sets, or a Hub id.

One call serves all of them, and every record comes back normalized to
{'instruction', 'input', 'response'} whatever schema it was written in:

    >>> load_records("course:train")[0]["instruction"]          # embedded, offline
    'Multiply 4 by 6.'
    >>> records = load_records("my_data.jsonl")         # doctest: +SKIP
    >>> records = load_records("tatsu-lab/alpaca")      # doctest: +SKIP

This module says which source a name means and hands it to its reader; files are read by
what they hold, not by their extension:

    file_bytes     bytes to text: gzip, UTF-8/16/32, and files that are no text named as what
                   they are (a workbook, a zip archive, a PDF, a pickle, an Arrow file)
    json_files     JSON Lines, a JSON array, one object of records or of splits, a table
                   written column by column (pandas' df.to_json)
    table_files    CSV and TSV, every cell as text, Excel's and pandas' quirks read with a note
    via_datasets   Parquet files, save_to_disk folders and Hub ids, by `datasets`
    rows           what they share: rows named by their place, RowErrors, splits

Column names are matched to the known fields whatever their case ('Instruction'); a number
where text belongs is read as its text (4 as '4'), and conversion_notes says so, with every
other change reading made, once per kind: nothing is changed silently.

Broken rows never end in a traceback: they are listed in one error, one line per kind of
problem (up to ten) naming its lines (counted from 1), then how many more there are. A caller
may leave such rows out instead (RowErrors' skip: `course train --skip-bad-rows`), and says
so with the count; a problem of the whole file stays an error.
"""

from __future__ import annotations

import difflib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from course_lib.errors import CourseError, shown, with_advice
from course_lib.formatting.file_bytes import DELIMITERS, file_kind, read_text
from course_lib.formatting.json_files import json_rows, json_splits, one_object
from course_lib.formatting.rows import (
    ACCEPTED,
    HELD_OUT_SPLITS,
    RowErrors,
    Split,
    TableRow,
    is_table,
    places,
    split_names,
    table_rows,
)
from course_lib.formatting.schemas import (
    has_system_message,
    is_text_number,
    normalize_record,
    read_texts,
    sharegpt_speakers,
    unread_fields,
)
from course_lib.formatting.table_files import csv_rows
from course_lib.formatting.templates import format_text
from course_lib.formatting.via_datasets import (
    datasets_rows,
    folder_rows,
    hub_rows,
    is_saved_dataset,
)
from course_lib.loading import DATA_FILE_SUFFIXES

EMBEDDED_DATA_DIR = Path(__file__).parent.parent / "assets" / "data"



def embedded_sets() -> dict[str, Path]:
    """The data sets shipped with the course, by name: 'course:train', 'course:eval', ..."""
    return {f"course:{p.stem}": p for p in sorted(EMBEDDED_DATA_DIR.glob("*.jsonl"))}



# --- Which source a name means ----------------------------------------------------------------
def looks_like_path(name: str) -> bool:
    """Hub ids are `owner/name`; anything else that looks local is a (mistyped) path."""
    path = Path(name).expanduser()
    return (name.startswith((".", "/", "~", "\\")) or "\\" in name or name.count("/") != 1
            or path.suffix.lower() in DATA_FILE_SUFFIXES or path.parent.is_dir())


def _no_such_path(name: str) -> CourseError:
    path = Path(name).expanduser()
    # There, but not a file to read: a link whose target is gone, a pipe, a device.
    if path.is_symlink() and not path.exists():
        return CourseError(f"'{name}' is a link to '{path.readlink()}', which does not exist; "
                           f"give the data file itself.")
    if path.exists():
        return CourseError(f"'{name}' is not a regular file (a pipe or a device); save the data "
                           f"in a file and give that.")
    hint = ""
    if path.parent.is_dir():  # a typo in the file name: offer the nearest one in that folder
        near = difflib.get_close_matches(path.name, [p.name for p in path.parent.iterdir()], n=1)
        hint = f" (did you mean '{path.parent / near[0]}'?)" if near else ""
    return CourseError(f"No such file or folder: '{name}'{hint}; give a data file ({ACCEPTED}), "
                       f"a Hub id (owner/name), or an embedded set such as course:train.")


def _no_such_set(name: str, sets: dict[str, Path]) -> CourseError:
    """'course:' names an embedded set: say which exist, and the nearest when one is close."""
    # Compared without the shared "course:", which would make every name look close.
    stems = [s.removeprefix("course:") for s in sets]
    near = difflib.get_close_matches(name.removeprefix("course:"), stems, n=1)
    hint = f" (did you mean 'course:{near[0]}'?)" if near else ""
    return CourseError(f"There is no embedded data set '{name}'{hint}; the course has: "
                       f"{', '.join(sets)}.")



def _file_rows(path: Path, name: str, split: Split, errors: RowErrors) -> list[tuple[str, Any]]:
    kind = file_kind(path)
    if kind == "json":
        return json_rows(read_text(path, name), name, errors, split)
    if kind in DELIMITERS:
        return csv_rows(path, name, errors, kind)
    return datasets_rows(path, name, kind, split)


def _rows(name: str, split: Split, errors: RowErrors) -> list[tuple[str, Any]]:
    if not name.strip():  # Path("") is the current folder, which would be said as one
        raise CourseError(f"The data source is an empty name; give a data file ({ACCEPTED}), "
                          f"a Hub id (owner/name), or an embedded set such as course:train.")
    sets = embedded_sets()
    if name == "course":  # the first preferred split the course ships, e.g. course:eval
        names = split_names(split)
        name = next((f"course:{n}" for n in names if f"course:{n}" in sets), f"course:{names[0]}")
    if name in sets:
        return json_rows(read_text(sets[name], name), name, errors)
    if name.startswith("course:") and not Path(name).exists():  # a file may be named so
        raise _no_such_set(name, sets)
    path = Path(name).expanduser()
    try:
        if path.is_dir():
            if not is_saved_dataset(path):
                _refuse_model_folder(path, name)
            return folder_rows(path, name, split)
        if path.is_file():
            return _file_rows(path, name, split, errors)
    except OSError as err:  # no permission to read it, an I/O error: said, not a traceback
        raise CourseError(f"{name} cannot be read ({err.strerror or err}); give a file you may "
                          f"read, or change its permissions (chmod u+r).") from None
    if looks_like_path(name):
        raise _no_such_path(name)
    return hub_rows(name, split)


def _refuse_model_folder(path: Path, name: str) -> None:
    """A run or model folder given as data (`course eval RUN --data RUN`): said so, with where
    it goes, not as a folder of data files such as its config.json."""
    held = next((f for f in ("history.json", "checkpoints", "config.json")
                 if (path / f).exists()), None)
    if held is None:
        return
    what = "a model folder" if held == "config.json" else "a run folder"
    raise with_advice(f"'{name}' is {what} (it holds {held}): a model, not data; give it as "
                      f"the model, and a data file with {{fix}}.", "data='my_data.jsonl'",
                      "--data my_data.jsonl")


def load_raw_rows(source: str | Path, split: Split = "train",
                  errors: RowErrors | None = None) -> list[tuple[str, Any]]:
    """Rows exactly as stored, each with where it came from ('data.jsonl line 3').

    `split` is one split name or several in order of preference, e.g. ("test", "validation"):
    a save_to_disk DatasetDict folder or a JSON file of splits ({"train": [...], ...}) gives
    the first of them it holds, a Hub id the first it has; another data file or a one-split
    folder has no splits, so `split` does not apply.

    Unreadable rows raise one CourseError listing them, unless `errors` is given: then they
    are added to it and the caller raises (after adding problems of its own).
    """
    # Records already loaded (a list, a DataFrame) were "No such file or folder: '[{...'".
    if not isinstance(source, str | Path):
        raise CourseError(f"source must name data to load (a file, a folder, a Hub id or a "
                          f"set such as 'course:train'), not a {type(source).__name__}: data "
                          f"already in memory needs no loading; pass it on as it is.")
    own = errors is None
    errors = RowErrors(str(source)) if errors is None else errors
    rows = _rows(str(source), split, errors)
    if own:
        errors.check()
    return rows


def normalize_rows(rows: list[tuple[str, Any]],
                   errors: RowErrors) -> list[tuple[str, Any, dict[str, str]]]:
    """normalize_record on every row: the usable ones as (where, row, record), and the others
    added to `errors` instead of raising."""
    usable = []
    for where, row in rows:
        try:
            usable.append((where, row, normalize_record(row, where)))
        except CourseError as err:
            errors.add(str(err))
    return usable


def load_records(source: str | Path = "course:train",
                 split: Split = "train") -> list[dict[str, str]]:
    """Load and normalize every record; unusable rows raise one CourseError listing them.

    `split`: one name, or preferred ones in order (see load_raw_rows).
    """
    errors = RowErrors(str(source))
    usable = normalize_rows(load_raw_rows(source, split, errors), errors)
    errors.check()
    return [record for _, _, record in usable]


def own_held_out_split(source: str | Path, prefer: Split = HELD_OUT_SPLITS) -> str | None:
    """The held-out split a save_to_disk DatasetDict folder or a JSON file of splits brings
    (the first of `prefer` it holds), or None: a data set that comes split is scored on its own
    held-out part."""
    splits = source_splits(source)
    return next((name for name in split_names(prefer) if name in splits), None)


def source_splits(source: str | Path) -> list[str]:
    """The splits a local DatasetDict folder or JSON file of splits holds; [] for another
    source (a file of rows, a Hub id: its splits are not known without loading it)."""
    path = Path(str(source)).expanduser()
    if (path / "dataset_dict.json").is_file():
        info = json.loads((path / "dataset_dict.json").read_text(encoding="utf-8"))
        return list(info.get("splits", []))
    if path.is_file() and file_kind(path) == "json":
        return list(json_splits(one_object(read_text(path))))
    return []



def refuse_non_records(data: Any, advice: str = "", what: str = "data") -> None:
    """One record, columns, or bare strings, given as `what` where a list of records belongs:
    one sentence that says what to give, instead of "record 0: expected a JSON object" per key."""
    # A chat record ({"messages": [...]}) holds lists too, but it is one record, not columns.
    chat = isinstance(data, dict) and set(data) <= {"messages", "conversations"}
    if isinstance(data, dict) and data and not chat and all(
            isinstance(v, list) for v in data.values()):
        raise CourseError(f"{what} is a dict of columns ({', '.join(map(str, data))}), not a "
                          f"list of records; give pandas.DataFrame({what}) instead.")
    hf = sys.modules.get("datasets")  # a DatasetDict is a dict of splits: wrapping it fails
    if hf is not None and isinstance(data, hf.DatasetDict):
        split = "train" if "train" in data else next(iter(data), "train")
        raise CourseError(f"{what} is a DatasetDict of splits ({', '.join(map(repr, data))}), "
                          f"not one set of records; give one split, e.g. "
                          f"{what}=dataset_dict[{split!r}].")
    if isinstance(data, dict):
        raise CourseError(f"{what} is one record (a dict with fields {list(data)}), not a list "
                          f"of records; wrap it in a list: [record].")
    pandas = sys.modules.get("pandas")  # one row of a table (df.iloc[0]) gave its cells' text
    if pandas is not None and isinstance(data, pandas.Series):
        raise CourseError(f"{what} is one row of a table (a pandas Series), not a list of "
                          f"records; give a table of that row instead: df.iloc[[0]].")
    if isinstance(data, Sequence) and data and all(isinstance(row, str) for row in data):
        raise CourseError(f"{what} is a list of strings ({data[0]!r}, ...), not of records; "
                          f"give records like {{\"instruction\": ..., \"response\": ...}}"
                          f"{advice}.")


def records_given(data: Any, named: str) -> list[Any]:
    """Records handed over in Python, as a list: a DataFrame or a Dataset row by row, as
    train() reads it. A data set's name (a string or a path) is refused with the caller's
    sentence `named`, where {name} stands for it as shown; one record, columns or bare strings
    as refuse_non_records says. Iterated as they were, a name gave its letters ("example 0:
    expected a JSON object, got str") and a table its column names."""
    if isinstance(data, str | os.PathLike):
        raise CourseError(named.format(name=shown(str(data))))
    if is_table(data):
        return table_rows(data)
    refuse_non_records(data, what="records")
    return list(data)



def kind_of_records(value: Any, one_record: bool = True) -> str | None:
    """'a list of 30 records', 'a DataFrame of 30 rows' (or 'a dict', one record): what a
    value given where a model belongs is, when it is data; None when it is not."""
    if is_table(value):
        return f"a {type(value).__name__} of {len(value)} rows"
    if isinstance(value, list | tuple) and value and all(isinstance(r, dict) for r in value):
        return f"a {type(value).__name__} of {len(value)} records"
    return f"a {type(value).__name__}" if one_record and isinstance(value, dict) else None



def conversion_notes(rows: list[tuple[str, Any]]) -> list[str]:
    """What normalizing does to rows that their author may not expect, one sentence per kind,
    for callers to print with the data's other warnings (nothing is changed silently).

        >>> system = {"role": "system", "content": "Be brief."}
        >>> row = {"messages": [system, {"role": "user", "content": "Hi"},
        ...                     {"role": "assistant", "content": "Hello."}]}
        >>> conversion_notes([("d.jsonl line 1", row), ("d.jsonl line 4", row)])[0][:61]
        '2 chat rows have a system message (lines 1, 4); the templates'
    """
    # What reading the file changed (a ';' separator, empty columns left out): once a file.
    notes = list(dict.fromkeys(note for _, row in rows if isinstance(row, TableRow)
                               for note in row.notes))
    notes += _sharegpt_note(rows) + _text_notes(rows) + _unread_note(rows)
    # A system message: the templates have no place for one, so it is trained as the input.
    folded = [where for where, row in rows if has_system_message(row)]
    if not folded:
        return notes
    one = len(folded) == 1
    return notes + [
        f"{len(folded)} chat {'row has' if one else 'rows have'} a system message "
        f"({places(folded)}); the templates have no system part, so it became the "
        f"'input' ('### Input:' in one_line and alpaca) and is part of the "
        f"prompt; put it in the user message, or remove it, if that is not what you want."]


def _unread_note(rows: list[tuple[str, Any]]) -> list[str]:
    """Fields a row holds that its format does not read (a misspelt 'inputs', alpaca's row
    with dolly's 'context'): they were left out of training, so each is named with its rows."""
    found: dict[str, list[str]] = {}
    for where, row in rows:
        for key in unread_fields(row):
            found.setdefault(key, []).append(where)
    if not found:
        return []
    rows_with = list(dict.fromkeys(where for wheres in found.values() for where in wheres))
    fields = ", ".join(f"'{key}' ({places(wheres)})" for key, wheres in found.items())
    return [f"{_rows_hold(rows_with)} a field its format does not read, so it was left out of "
            f"training: {fields}; rename it to a field the row's format reads, or remove it."]


def _sharegpt_note(rows: list[tuple[str, Any]]) -> list[str]:
    """ShareGPT rows, read as chat by renaming their keys and speakers: the renames, counted."""
    found = [(where, sharegpt_speakers(row)) for where, row in rows]
    read = [(where, speakers) for where, speakers in found if speakers is not None]
    if not read:
        return []
    named = {name: role for _, speakers in read for name, role in speakers.items()}
    renames = " and ".join(f"'{name}' to '{role}'" for name, role in named.items())
    return [f"{len(read)} {'row' if len(read) == 1 else 'rows'} read as ShareGPT "
            f"({places([where for where, _ in read])}): from/value renamed to role/content"
            f"{', ' + renames if renames else ''}."]


def _text_notes(rows: list[tuple[str, Any]]) -> list[str]:
    """Text read otherwise than stored: a number as its text ("output": 4 as '4'), Windows
    line breaks as '\\n' (Excel writes one inside a cell as '\\r\\n'), and a formatted text
    laid out otherwise than its template writes it."""
    texts = [(where, read_texts(row)) for where, row in rows]
    numbers = [where for where, values in texts if any(map(is_text_number, values))]
    # The example is the first number the rows hold, so the note shows what was read.
    example = next((v for _, values in texts for v in values if is_text_number(v)), None)
    breaks = [where for where, values in texts
              if any(isinstance(v, str) and "\r" in v for v in values)]
    notes = []
    if numbers:
        notes.append(f"{_rows_hold(numbers)} a number where text belongs ({places(numbers)}); "
                     f"it was read as its text ({example} as '{example}').")
    if breaks:
        notes.append(f"{_rows_hold(breaks)} Windows line breaks, \\r\\n or \\r "
                     f"({places(breaks)}); they were read as \\n, so no '\\r' reaches the model.")
    relaid = [where for where, row in rows if _relaid(row)]
    if relaid:
        notes.append(f"{_rows_hold(relaid)} a formatted text laid out otherwise than its "
                     f"template writes it ({places(relaid)}), e.g. '### Response:' on a line of "
                     f"its own; it was read into its parts and trains as the template writes "
                     f"them, so ask the tuned model that way too (course ask does).")
    return notes


def _relaid(row: Any) -> bool:
    """A {"text"} row whose template writes its parts otherwise: the one-line template's
    regular expression also reads '### Response:' on a line of its own (the layout of many
    guides), Alpaca's any preamble; training writes them as the template does."""
    if not isinstance(row, dict) or not isinstance(row.get("text"), str):
        return False
    try:
        record = normalize_record(row)
    except CourseError:  # refused elsewhere, with its own message
        return False
    if not record.get("template"):  # fields beside the text: they train, not the text
        return False
    written = row["text"].replace("\r\n", "\n").replace("\r", "\n").strip()
    return format_text(record, record["template"]).strip() != written


def _rows_hold(wheres: list[str]) -> str:
    return f"{len(wheres)} {'row holds' if len(wheres) == 1 else 'rows hold'}"
