"""What every reader of data shares: the rows' places, the problems found in them, and splits.

A reader (json_files, table_files, via_datasets) returns rows as (where, row) pairs, where
`where` names the row as a user finds it in their file: 'data.jsonl line 3', 'd.csv row 2'.
The problems it finds go to one RowErrors, so that a user sees them all at once, one line per
kind of problem, instead of one a run; places() names rows so in every message and note.
A DataFrame or a Dataset handed over in Python is read into rows here too (table_rows).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Collection, Sequence
from typing import Any

from course_lib.errors import CourseError, advice
from course_lib.formatting.schemas import (
    KNOWN_FIELDS,
    as_its_own_format,
    known_renames,
)

ACCEPTED = (".csv, .tsv or .parquet, JSON Lines or a JSON array (any other extension), each "
            "optionally gzipped (.gz), or a folder saved with save_to_disk (a Dataset or a "
            "DatasetDict)")
MAX_ROW_ERRORS = 10  # enough to see a pattern; the rest are counted



Split = str | Sequence[str]  # one split, or preferred ones in order: ("test", "validation")
# The splits a held-out score may use, never train, in the order course eval takes them: a test
# split first, made for the final score. A run in training watches WATCHED_SPLITS' first, a
# validation split, so that its test split stays unseen. 'valid', 'dev' and 'eval' are other
# sets' names for a validation split.
HELD_OUT_SPLITS = ("test", "validation", "valid", "dev", "eval")
WATCHED_SPLITS = ("validation", "valid", "dev", "eval", "test")



def split_names(split: Split) -> tuple[str, ...]:
    names = (split,) if isinstance(split, str) else tuple(split)
    if not names:
        raise ValueError("split names no split; give e.g. 'train' or ('test', 'validation')")
    return names



def pick_split(held: Collection[str], name: str, split: Split, advice: str) -> str:
    """The first of `split` that `held` (a source's splits) has; else one error that says
    which splits it holds, then `advice`."""
    names = split_names(split)
    found = next((wanted for wanted in names if wanted in held), None)
    if found is None:
        wanted = " or ".join(", ".join(f"'{n}'" for n in names).rsplit(", ", 1))
        raise CourseError(f"{name} holds the splits {', '.join(held)} but no {wanted} split; "
                          f"{advice}.")
    return found



class RowErrors:
    """The unusable rows of one source, collected so that a user sees them all at once.

        >>> errors = RowErrors("d.jsonl")
        >>> errors.add("d.jsonl line 2: invalid JSON"); errors.add("d.jsonl line 5: no response")
        >>> errors.check()
        Traceback (most recent call last):
        course_lib.errors.CourseError: d.jsonl: 2 rows cannot be used; fix them and run again:
          line 2: invalid JSON
          line 5: no response

    `skip` is the caller's skip_bad_rows (--skip-bad-rows): True leaves such rows out, said by
    left_out_note(); False refuses them, the error naming that choice where it would help;
    None (a caller that offers no such choice) refuses them without naming it.
    """

    def __init__(self, source: str, limit: int = MAX_ROW_ERRORS, skip: bool | None = None):
        self.source, self.limit, self.skip = source, limit, skip
        self.messages: list[str] = []  # each "<source> line N: what is wrong"
        self.of_the_file = False  # a problem that no row can be left out for (rest unread)

    def add(self, message: str, of_the_file: bool = False) -> None:
        """One row's problem; `of_the_file`: the file's, e.g. JSON that breaks off, after which
        nothing can be read, so skip never leaves it out."""
        self.messages.append(message)
        self.of_the_file = self.of_the_file or of_the_file

    def check(self, usable: int = 0) -> None:
        """Raise one CourseError naming the first `limit` problems in file order, if any; with
        `skip`, only for a problem of the file, or when no row is `usable` (read fine)."""
        if not self.messages or (self.skip and usable and not self.of_the_file):
            return
        # The flag named only where it would help: rows of their own, and some usable.
        offer = self.skip is False and usable and not self.of_the_file
        if len(self.messages) == 1:  # the row's own sentence, and the other way out if any
            one = self.messages[0]
            raise (_offering(one.removesuffix("."), "; or pass {} to leave this row out.")
                   if offer else CourseError(one))
        n, problems = len(self.messages), "\n".join(self._problems(self.limit))
        if offer:
            raise _offering(f"{self.source}: {n} rows cannot be used; fix them and run again",
                            ", or pass {} to leave them out:", "\n" + problems)
        if self.skip and not self.of_the_file:  # every row is bad: the flag leaves nothing
            raise _offering(f"{self.source}: none of its {n} rows can be used, so ",
                            "{} leaves nothing; fix them and run again:", "\n" + problems)
        raise CourseError(f"{self.source}: {n} rows cannot be used; fix them and run again:\n"
                          f"{problems}")

    def left_out_note(self, usable: int) -> str:
        """What `skip` left out, as a note for the data's other notes: the rows counted against
        the `usable` ones and grouped by problem (the first few), or '' when none was."""
        if not self.messages:
            return ""
        n = len(self.messages)
        head = (f"{self.source}: {n:,} of {n + usable:,} rows left out "
                f"({advice(*SKIP_FLAG)}):")
        return "\n".join([head, *self._problems(NOTE_PROBLEMS)])

    def _problems(self, most: int) -> list[str]:
        """One line per kind of problem naming its rows, in file order, the first `most` of
        them; then how many more rows there are."""
        # Bad JSON is found while reading, bad fields later: sort them back into file order.
        ordered = sorted(self.messages, key=_row_number)
        # 30 rows of one wrong shape are one fix, said once (the source is named once, above).
        groups: dict[str, list[str]] = {}
        for message in ordered:
            place, _, what = message.removeprefix(self.source).lstrip(" :").partition(": ")
            groups.setdefault(what, []).append(place)
        # One problem more is shown, not hidden behind a line that counts it.
        shown = most if len(groups) > most + 1 else most + 1
        lines = [f"  {_rows_named(rows)}: {what}" for what, rows in list(groups.items())[:shown]]
        if len(groups) > shown:
            rest = sum(len(p) for p in list(groups.values())[shown:])
            lines.append(f"  and {rest} more rows, with {len(groups) - shown} other problems.")
        return lines


SKIP_FLAG = ("skip_bad_rows=True", "--skip-bad-rows")  # in Python, and on the command line
NOTE_PROBLEMS = 3  # kinds of problem a note on rows left out names; the rest are counted


def _offering(before: str, offer: str, after: str = "") -> CourseError:
    """A CourseError whose `offer` names the flag ({}) as the reader spells it."""
    python, cli = (before + offer.replace("{}", flag) + after for flag in SKIP_FLAG)
    return CourseError(python, cli=cli)


def _rows_named(rows: list[str]) -> str:
    """'line 2' (as it was said), or 'lines 2, 5, 9' by places()."""
    return rows[0] if len(rows) == 1 else places(rows)


def _row_number(message: str) -> int:
    found = re.search(r" (?:line|row|record) (\d+)", message)
    return int(found.group(1)) if found else 0



class TableRow(dict):
    """A row of a table (a CSV or TSV, or a JSON written column by column), {column: value},
    carrying what reading its file changed (`notes`, the same for each row of a file), for
    conversion_notes to say once with the other notes."""

    notes: tuple[str, ...] = ()


def table_row(cells: Any, notes: tuple[str, ...]) -> TableRow:
    """A file's table row, {column: value} with the notes of its file, read as its own format
    (as_its_own_format: a text row beside alpaca rows fills only 'text')."""
    row = TableRow(as_its_own_format(dict(cells)))
    row.notes = notes  # said once for the file, by conversion_notes
    return row



WHOLE_NUMBER = re.compile(r"-?\d+")



def is_table(data: Any) -> bool:
    """True for a pandas DataFrame or a datasets.Dataset of records, not yet tokenized (neither
    library is imported here: such data brings it)."""
    pandas, hf = sys.modules.get("pandas"), sys.modules.get("datasets")
    return (pandas is not None and isinstance(data, pandas.DataFrame)) or (
        hf is not None and isinstance(data, hf.Dataset) and "input_ids" not in data.column_names)



def table_rows(table: Any) -> list[dict[str, Any]]:
    """A table's rows as records; an empty cell (NaN) as None, read as empty text as in JSON
    (`bool(df)` raises, so a DataFrame never goes where a list of records goes)."""
    if not hasattr(table, "notna"):  # a Dataset: its rows are dicts, None where empty
        return dataset_rows(table)
    text = _text_columns(list(table.columns))
    floats = [column for column, dtype in table.dtypes.items()
              if column in text and dtype == "float64"]
    rows = table.astype(object).where(table.notna(), None).to_dict("records")
    # pandas reads a Parquet file's list column (chat messages) as numpy arrays: as lists, as
    # datasets and JSON give them ("'messages' must be a list" of a list, otherwise).
    arrays = [column for column in table.columns if table[column].dtype == object]
    for row in rows:
        for column in arrays:
            row[column] = _as_lists(row[column])
    return [as_its_own_format(row) for row in _whole_where_missing(rows, floats)]


def _as_lists(value: Any) -> Any:
    """A cell with every numpy array in it (inside dicts too: a message's parts) as a list."""
    if hasattr(value, "ndim") and hasattr(value, "tolist") and getattr(value, "ndim", 0) > 0:
        return [_as_lists(item) for item in value]
    if isinstance(value, dict):
        return {key: _as_lists(item) for key, item in value.items()}
    return value


def listed(values: Any) -> list[Any]:
    """Values given in any container (a tuple, a generator, a dict's values, a pandas Series,
    a numpy array or a tensor) as one list of plain values, read once: a generator read twice
    was empty the second time, a Series was read by its index labels, and `if values:` of an
    array or a Series raised "truth value is ambiguous"."""
    if hasattr(values, "tolist") and not isinstance(values, list):  # numpy, pandas, torch
        values = values.tolist()
        return values if isinstance(values, list) else [values]  # a 0-d array: one value
    return list(values)


def dataset_rows(ds) -> list[dict[str, Any]]:
    """A datasets.Dataset's rows as dicts, None where empty; a float column of whole numbers
    with some missing read as whole numbers, as _whole_where_missing says."""
    floats = [column for column in _text_columns(ds.column_names)
              if getattr(ds.features.get(column), "dtype", "") == "float64"]
    # Each row as the format it was, where a table of several gave it other formats' columns.
    return [as_its_own_format(row) for row in _whole_where_missing(ds.to_list(), floats)]


def _text_columns(columns: list[Any]) -> list[Any]:
    """The columns any format reads as text (KNOWN_FIELDS), as the table names them ('Output'
    too): in a table of rows in several formats, each row reads its own format's fields."""
    renames = known_renames(columns)
    return [column for column in columns if renames.get(column, column) in KNOWN_FIELDS]


def _whole_where_missing(rows: list[dict[str, Any]], floats: list[Any]) -> list[dict[str, Any]]:
    """`rows`, with the values of each float column in `floats` as whole numbers where the
    column misses a value and every value it has is whole: pandas stores an int column with a
    missing value as float, so 4 would read '4.0'. A column with none missing, or with 2.5 in
    it, keeps its values as written; a missing value stays None (read as empty text)."""
    for column in floats:
        present = [row[column] for row in rows if row.get(column) is not None]
        if len(present) < len(rows) and all(
                isinstance(v, float) and v.is_integer() and abs(v) <= 2**53 for v in present):
            for row in rows:  # the rows are the caller's own copies, made for this read
                if row.get(column) is not None:
                    row[column] = int(row[column])
    return rows



def places(wheres: Sequence[str], most: int = 8) -> str:
    """Rows named as every note names them: 'lines 1, 4' from ['d.jsonl line 1', 'd.jsonl
    line 4'] (the source is named elsewhere); the places as they are when their kinds differ;
    past `most`, how many more.

        >>> places(["d.jsonl line 1", "d.jsonl line 4"]), places(["row 2"])
        ('lines 1, 4', 'row 2')
        >>> places([f"line {n}" for n in range(1, 11)])
        'lines 1, 2, 3, 4, 5, 6, 7, 8 and 2 more'
    """
    found = [re.search(r"(line|row|item|record|example) (\d+)$", w) for w in wheres]
    if not all(found) or len({m.group(1) for m in found}) > 1:
        return _short_list(wheres, most)
    plural = found[0].group(1) + ("s" if len(found) > 1 else "")
    return f"{plural} {_short_list([m.group(2) for m in found], most)}"


def row_names(indices: Sequence[int], where: Sequence[str] = ()) -> str:
    """places() for rows given by index: `where[i]` says where row i came from ('line 3');
    without it, 'example i' (indices from 0, as a list in Python counts them).

        >>> row_names([0, 2], ["line 1", "line 2", "line 3"]), row_names([4])
        ('lines 1, 3', 'example 4')
    """
    return places([where[i] if where else f"example {i}" for i in indices])


def _short_list(items: Sequence[Any], most: int) -> str:
    shown = ", ".join(str(i) for i in items[:most])
    return shown + (f" and {len(items) - most} more" if len(items) > most else "")
