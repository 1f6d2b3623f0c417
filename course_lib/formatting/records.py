"""Load instruction records from a data file or folder, the embedded sets, or a Hub id.

One call serves all of them, and every record comes back normalized to
{'instruction', 'input', 'response'} whatever schema it was written in:

    >>> load_records("course:train")[0]["instruction"]          # embedded, offline
    'Multiply 4 by 6.'
    >>> records = load_records("my_data.jsonl")         # doctest: +SKIP
    >>> records = load_records("tatsu-lab/alpaca")      # doctest: +SKIP

Files are read by what they hold, not by their extension: JSON Lines or a JSON array (a
`.json` written by `Dataset.to_json` is JSON Lines), or one object holding the records as
{"data": [...]} or by split, {"train": [...], "test": [...]} (`split` picks one), or by
column as pandas' `df.to_json(path)` writes a table (read row by row, with a note), gzipped
or not. Text is UTF-8, with or without a byte order mark, or UTF-16 (as Windows PowerShell's
`>` and Excel's "Unicode Text" write it). A workbook, a zip archive, a PDF, a pickle or an
Arrow file is named for what it is (told by its first bytes), with what to give instead. CSV
and TSV (tab-separated) files (gzipped or not) are read by the csv module, every cell as
text (a .csv separated by ';', as Excel saves it in some locales, or by tabs, as pandas'
to_csv(sep='\\t') writes it, too; the spaces after each comma skipped when the header is
written 'instruction, output'; Windows line breaks in a cell read as '\\n'); Parquet files
and `save_to_disk` folders by `datasets`. Their column names are matched to the known fields
whatever their case ('Instruction'); a column of numbers is read as their text, as JSON's
numbers are (4 as '4', counted by conversion_notes; an int column that pandas stored as
float for a missing value too, not '4.0'), and one that holds no text (true/false) is named
once, for the file.

Broken rows never end in a traceback: they are listed in one error, one line per kind of
problem (up to ten) naming its lines (counted from 1), then how many more there are. A caller
may leave such rows out instead (RowErrors' skip: `course train --skip-bad-rows`), and says
so with the count; a problem of the whole file stays an error.
"""

from __future__ import annotations

import csv
import difflib
import gzip
import io
import json
import os
import re
import sys
import zipfile
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from course_lib.env import hub_offline, hub_status
from course_lib.errors import CourseError, advice, shown, with_advice
from course_lib.formatting.schemas import (
    KNOWN_FIELDS,
    has_system_message,
    is_text_number,
    json_kind,
    known_renames,
    normalize_record,
    read_texts,
    renames_said,
    renames_to_a_schema,
    sharegpt_speakers,
    text_fields,
    unread_fields,
)
from course_lib.formatting.templates import format_text
from course_lib.loading import DATA_FILE_SUFFIXES

EMBEDDED_DATA_DIR = Path(__file__).parent.parent / "assets" / "data"
ACCEPTED = ("JSON Lines or a JSON array (any extension), .csv, .tsv or .parquet, each optionally "
            "gzipped (.gz), or a folder saved with Dataset.save_to_disk")
MAX_ROW_ERRORS = 10  # enough to see a pattern; the rest are counted
GZIP_MAGIC, PARQUET_MAGIC = b"\x1f\x8b", b"PAR1"
DELIMITERS = {"csv": ",", "tsv": "\t"}  # the tables read line by line, by the csv module
Split = str | Sequence[str]  # one split, or preferred ones in order: ("test", "validation")
# The splits a held-out score may use, never train, in the order course eval takes them: a test
# split first, made for the final score. A run in training watches WATCHED_SPLITS' first, a
# validation split, so that its test split stays unseen. 'valid', 'dev' and 'eval' are other
# sets' names for a validation split.
HELD_OUT_SPLITS = ("test", "validation", "valid", "dev", "eval")
WATCHED_SPLITS = ("validation", "valid", "dev", "eval", "test")


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


# --- JSON: JSON Lines or one array, told apart by content -----------------------------------
def read_bytes(path: Path, name: str) -> bytes:
    """A file's bytes, gunzipped if gzipped (told by content, not by the name's .gz)."""
    data = path.read_bytes()
    if data[:2] == GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as err:
            raise CourseError(f"{name}: a broken gzip file ({err}); compress it again.") from None
    return data


def text_encoding(data: bytes) -> str:
    """UTF-8 (its byte order mark dropped), or UTF-16 or -32 told by their byte order mark or,
    without one, by the zero bytes around the first character (ASCII in any data file: '{',
    '[' or a header's name), the way json reads bytes (RFC 4627).

        >>> text_encoding('{"a": 1}'.encode("utf-16-le")), text_encoding(b'{"a": 1}')
        ('utf-16-le', 'utf-8-sig')
    """
    found = json.detect_encoding(data[:4])
    return "utf-8-sig" if found == "utf-8" else found  # "-sig": a BOM is not the first letter


def read_text(path: Path, name: str | None = None, kind: str = "json") -> str:
    """A text file's content: gunzipped if gzipped, in the encoding text_encoding finds; a
    file of another kind (a workbook, a PDF) refused by what it is. `kind`: 'json', or 'csv'
    and 'tsv' (tables), for the advice on how to save text as UTF-8."""
    name = name or str(path)
    data = read_bytes(path, name)
    binary = _binary_file(data, path, name)
    if binary:  # e.g. an .xlsx: "not valid UTF-8" would send the user to iconv
        raise binary
    encoding = text_encoding(data)
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as err:
        raise _not_unicode(data, encoding, err, name, kind) from None


def _not_unicode(data: bytes, encoding: str, err: UnicodeDecodeError, name: str,
                 kind: str = "json") -> CourseError:
    """Where the text stops being UTF-8 (line and column, not a byte offset), and the likely
    cause: Excel's plain "CSV" and old Windows tools write Windows-1252; Excel's way to save
    it otherwise is told for a table only (a JSON file never came from Excel)."""
    # Line and column counted in characters, as an editor shows them.
    before = data[: err.start].decode(encoding, errors="replace")
    line, column = before.count("\n") + 1, len(before) - before.rfind("\n")
    what = encoding[:6].rstrip("-").upper()  # UTF-8, UTF-16 or UTF-32
    try:  # Windows-1252 decodes nearly every byte: text that does is most likely that
        data.decode("cp1252")
    except UnicodeDecodeError:
        return CourseError(f"{name} line {line} column {column}: not valid {what}; save the "
                           f"file as UTF-8.")
    iconv = "`iconv -f cp1252 -t utf-8 FILE > NEW`"
    how = f"Excel: Save As \"CSV UTF-8\"; or {iconv}" if kind in DELIMITERS else f"e.g. {iconv}"
    return CourseError(f"{name} line {line} column {column}: not valid {what}, and the file "
                       f"reads as Windows-1252 (Latin-1) text; re-save it as UTF-8 ({how}).")


# Files that are no text, told by their first bytes: what each is, and what to give instead.
SAVE_SHEET = "save the sheet as CSV UTF-8 (Excel: File > Save As > CSV UTF-8) and pass that file"
SAVE_ROWS = "put the examples in a CSV or JSON Lines file, one a row, and pass that file"
ZIP_MAGIC = b"PK\x03\x04"
BINARY_FILES = (  # (first bytes (or a tuple of them), what the file is, what to do)
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an Excel 97-2003 workbook (.xls) or another old "
                                        "Office file", SAVE_SHEET),
    (b"%PDF-", "a PDF document", SAVE_ROWS),
    (b"ARROW1", "an Arrow (Feather) file", "save it as Parquet (df.to_parquet(path)) and pass "
                                           "that file"),
    ((b"\x80\x04\x95", b"\x80\x05\x95"), "a Python pickle (as df.to_pickle writes one)",
     'write it with df.to_json(path, orient="records", lines=True) and pass that file'),
)


def _binary_file(data: bytes, path: Path, name: str) -> CourseError | None:
    """The error for a file that is no text but a workbook, an archive, a PDF..., told by its
    first bytes (after gzip), in one sentence naming the file; None for any other file."""
    if data.startswith(ZIP_MAGIC):  # .xlsx, .docx and .ods are zip archives too
        what, advice = _zip_file(data)
    elif data.startswith(b"\xff\xff\xff\xff"):  # an Arrow stream: a save_to_disk shard
        folder = path.parent if (path.parent / "dataset_info.json").is_file() else None
        what = "one Arrow file of a Dataset.save_to_disk folder"
        advice = f"pass the folder itself ({folder})" if folder else "pass the folder it is in"
    else:
        found = next((kind for kind in BINARY_FILES if data.startswith(kind[0])), None)
        if found is None:
            return None
        what, advice = found[1:]
    return CourseError(f"{name} is {what}, which the course does not read; {advice}.")


def _zip_file(data: bytes) -> tuple[str, str]:
    """What a zip archive is (an Excel workbook, a Word document, an OpenDocument sheet),
    told by the files inside it, and what to give instead."""
    try:
        inside = zipfile.ZipFile(io.BytesIO(data)).namelist()
    except (zipfile.BadZipFile, OSError):  # cut short: still no text
        inside = []
    if any(entry.startswith("xl/") for entry in inside):
        return "an Excel workbook (a zip archive)", SAVE_SHEET
    if any(entry.startswith("word/") for entry in inside):
        return "a Word document (a zip archive)", SAVE_ROWS
    if "content.xml" in inside:  # LibreOffice's own format
        return "an OpenDocument file (a zip archive)", ("save the sheet as CSV (File > Save As "
                                                        "> Text CSV, UTF-8) and pass that file")
    data_files = [e for e in inside if Path(e).suffix.lower() in DATA_FILE_SUFFIXES]
    hint = f" ({data_files[0]})" if data_files else ""
    return "a zip archive", f"unzip it and pass the data file inside{hint}"


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
    wrapper = isinstance(whole.get("data"), list) or _json_splits(whole)
    if wrapper and id(whole) in twice.found:  # e.g. two "train" lists: json keeps the last
        key = twice.found[id(whole)][1]
        raise CourseError(f"{name}: the key '{key}' is given twice in the object that holds "
                          f"the records, with different values; keep one '{key}' (with "
                          f"the records of both, if both hold records).")
    if isinstance(whole.get("data"), list):
        return [(f"{name} record {i}", row) for i, row in enumerate(whole["data"], start=1)]
    splits = _json_splits(whole)
    if splits:
        first = _split_names(split)[0]
        wanted = _pick_split(splits, name, split, f"add one to the file (\"{first}\": [...]), "
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
    if any(set(v) != set(index) for v in values) or not all(map(_WHOLE.fullmatch, index)) or (
            any(id(v) in twice.found for v in [whole, *values])):
        return None
    rows = []
    for k, label in enumerate(index, start=1):
        row = TableRow((column, cells[label]) for column, cells in whole.items())
        row.notes = (COLUMNS_NOTE,)  # said once for the file, by conversion_notes
        rows.append((f"{name} item {k}", row))
    return rows


def _json_splits(whole: Any) -> dict[str, list]:
    """The splits of a JSON object that holds records by split, {"train": [...], ...}: lists
    of objects under names that are no record's field (a chat record's "messages" is one)."""
    if not isinstance(whole, dict) or KNOWN_FIELDS & {key.strip().lower() for key in whole}:
        return {}
    splits = {key: rows for key, rows in whole.items() if isinstance(rows, list)}
    return splits if any(isinstance(row, dict) for rows in splits.values() for row in rows) else {}


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
    header = _LINE_END.split(text.lstrip(), maxsplit=1)[0]
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


# Only these end a line: str.splitlines() also splits at U+2028, U+2029 and U+0085, which a
# JSON string may hold as they are (json.dumps(..., ensure_ascii=False) writes them so).
_LINE_END = re.compile(r"\r\n|\r|\n")


def _looks_like_json_lines(text: str) -> bool:
    """True if several lines start a JSON object, or one of the first lines is one alone."""
    lines = [line for line in _LINE_END.split(text, maxsplit=50)[:50] if line.strip()]
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
    for lineno, line in enumerate(_LINE_END.split(text), start=1):
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


# --- Parquet and save_to_disk folders: read by `datasets` (CSV and TSV below) ---------------
@contextmanager
def quiet_datasets(bars: bool = False) -> Iterator[Any]:
    """`datasets`, its own error log lines ("Failed to read file ...") off, and its progress
    bars unless `bars`: a read that fails is said once, by our CourseError. Both restored."""
    import datasets  # deferred: about 3 s to import, and only these formats need it
    from datasets.utils import logging as datasets_logging

    quiet, level = datasets.utils.are_progress_bars_disabled(), datasets_logging.get_verbosity()
    if not bars:
        datasets.disable_progress_bars()  # "Generating train split" bars: not the course's news
    datasets_logging.set_verbosity(datasets_logging.CRITICAL)
    try:
        yield datasets
    finally:
        datasets_logging.set_verbosity(level)
        if not bars and not quiet:
            datasets.enable_progress_bars()


def _datasets_rows(path: Path, name: str, kind: str, split: Split) -> list[tuple[str, Any]]:
    try:
        with quiet_datasets() as datasets:
            if kind == "folder":
                loaded = datasets.load_from_disk(str(path), keep_in_memory=True)
                ds = _from_disk(loaded, name, split)
            else:  # Parquet, from memory, so that a gzipped one reads too
                ds = datasets.Dataset(_parquet_table(path, name))
    except CourseError:
        raise
    except Exception as err:  # datasets and pyarrow raise many types; the message matters
        raise CourseError(f"{name} could not be read as {kind} ({_root_cause(err)}); "
                          f"accepted: {ACCEPTED}.") from None
    ds = _known_columns(ds, name)  # 'Instruction' read as 'instruction'; a number column named
    return [(f"{name} row {i}", row) for i, row in enumerate(_dataset_rows(ds), start=1)]


def _root_cause(err: BaseException) -> str:
    """'ArrowInvalid: ...' from under datasets' 'An error occurred while generating the dataset'."""
    while (err.__cause__ or err.__context__) is not None:
        err = err.__cause__ or err.__context__
    why = str(err).strip().splitlines()[0][:200] if str(err).strip() else ""
    return f"{type(err).__name__}: {why}"


def _parquet_table(path: Path, name: str):
    """The file's table, gunzipped in memory first if gzipped (pyarrow reads no gzip)."""
    import pyarrow.parquet as pq

    return pq.read_table(io.BytesIO(read_bytes(path, name)))


def _csv_rows(path: Path, name: str, errors: RowErrors, kind: str) -> list[tuple[str, Any]]:
    """A CSV's or TSV's rows, every line checked first, so that every bad line is named at
    once (a reader that stops at the first one names one a run)."""
    text = read_text(path, name, kind)  # gunzipped, and bad UTF-8 named by its line
    if not text.strip():
        return []  # an empty file: the caller says it holds no rows
    form, notes = _table_form(text, kind)
    with _long_fields():
        wrong, open_quote = _csv_problems(text, name, form)
        if open_quote:  # the rest of the file is one field: no row after it can be read
            errors.add(open_quote, of_the_file=True)
        if open_quote or (wrong and not errors.skip):
            for message in wrong:
                errors.add(message)
            return []
        # Left out with skip_bad_rows: _table_rows names each line of a wrong count.
        return _table_rows(text, name, form, errors, notes)


SEMICOLON_NOTE = ("The columns are separated by ';' (as Excel saves CSV in many locales), so "
                  "the file was read that way; save it as \"CSV UTF-8 (comma delimited)\" if "
                  "that is not meant.")


TAB_NOTE = ("The columns are separated by tabs, not commas (as df.to_csv(path, sep='\\t') "
            "writes them), so the file was read as tab-separated, as a .tsv file is.")


def _table_form(text: str, kind: str) -> tuple[dict[str, Any], list[str]]:
    """How the csv module reads the file (its delimiter, and whether the spaces after one are
    skipped), and a note for each way that is not its extension's."""
    delimiter, notes = _table_delimiter(text, kind)
    if not _spaced_header(text, delimiter):
        return {"delimiter": delimiter}, notes
    mark = "semicolon" if delimiter == ";" else "comma"
    return {"delimiter": delimiter, "skipinitialspace": True}, notes + [
        f"The header puts a space after each {mark}, so the spaces after each {mark} in the "
        f"rows were skipped, not read as the start of a value; put double quotes around a "
        f"value that starts with a space you mean to keep."]


def _table_delimiter(text: str, kind: str) -> tuple[str, list[str]]:
    """The file's delimiter, and a note when it is not its extension's: a .csv whose header
    has no comma but names known columns between ';' is Excel's CSV in a ';' locale, and
    between tabs pandas' to_csv(sep='\\t')."""
    header = _LINE_END.split(text, maxsplit=1)[0]
    # Only a header that reads one way and not the other: a comma anywhere keeps ','.
    if kind != "csv" or "," in header:
        return DELIMITERS[kind], []
    columns = {column.strip().strip('"').lower() for column in header.split(";")}
    if len(columns) > 1 and KNOWN_FIELDS & columns:
        return ";", [SEMICOLON_NOTE]
    # Two named columns at least: a stray tab after a lone 'text' column keeps ','.
    columns = {column.strip().strip('"').lower() for column in header.split("\t")} - {""}
    if len(columns) > 1 and KNOWN_FIELDS & columns:
        return "\t", [TAB_NOTE]
    return ",", []


def _spaced_header(text: str, delimiter: str) -> bool:
    """True when every delimiter of the header is followed by a space ('instruction, output'):
    the rows are most likely written so too ('What is 4+4?, 8'), and their ' 8' would reach
    the model. Tabs are never followed so on purpose, so a TSV's header is not asked."""
    if delimiter == "\t":
        return False
    header = next(csv.reader([_LINE_END.split(text, maxsplit=1)[0]], delimiter=delimiter))
    return len(header) > 1 and all(column.startswith(" ") for column in header[1:])


class TableRow(dict):
    """A row of a table (a CSV or TSV, or a JSON written column by column), {column: value},
    carrying what reading its file changed (`notes`, the same for each row of a file), for
    conversion_notes to say once with the other notes."""

    notes: tuple[str, ...] = ()


@contextmanager
def _long_fields() -> Iterator[None]:
    """The csv module's limit of 131,072 characters a field lifted (a long document as an
    answer is one field), and put back."""
    before = csv.field_size_limit(2**31 - 1)  # a C long on every platform
    try:
        yield
    finally:
        csv.field_size_limit(before)


def _table_rows(text: str, name: str, form: dict[str, Any], errors: RowErrors,
                notes: list[str]) -> list[tuple[str, Any]]:
    """The checked table's rows as {column: text}, read once by the csv module: every cell
    stays text ("007", an empty cell ""), a blank line is skipped, and no copy of the file is
    written to a cache (datasets' CSV reader keeps an Arrow copy of every file it reads).
    `form`: the csv module's settings for the file, by _table_form."""
    reader = csv.reader(io.StringIO(text, newline=""), **form)
    header = next(reader)
    renames = known_renames(header)  # 'Instruction' read as 'instruction', as JSON keys are
    columns = [renames.get(column, column) for column in header]
    # Each line kept with its number first: an unnamed column is dropped only if all are empty.
    lines, start = [], reader.line_num + 1
    for fields in reader:
        if not _blank(fields):  # as _csv_problems skips it
            lines.append((start, fields))
        start = reader.line_num + 1
    keep, dropped = _named_columns(header, lines, name)
    rows = []
    for number, (line, fields) in enumerate(lines, start=1):  # row N: the file's Nth, kept or not
        # After a quirk that ended the strict check, or left out with skip_bad_rows.
        if len(fields) != len(columns):
            errors.add(_field_count_problem(fields, header, form["delimiter"], name, line))
            continue
        row = TableRow((columns[i], fields[i]) for i in keep)
        row.notes = tuple(notes + dropped)  # said once for the file, by conversion_notes
        rows.append((f"{name} row {number}", row))
    return rows


def _named_columns(header: list[str], lines: list[tuple[int, list[str]]],
                   name: str) -> tuple[list[int], list[str]]:
    """The columns to read, and a note for those left out: a column with no name is left out
    when it is empty in every row (Excel's trailing ',,'), or when it is pandas' index (see
    _pandas_index), else refused: no field to read."""
    blank = [i for i, column in enumerate(header) if not column.strip()]
    index = [0] if _pandas_index(header, lines) else []
    # Text under no name, other than the index: a field with no name to read it by.
    unread = [i for i in blank if i not in index]
    for line, fields in lines:
        held = next((i for i in unread if i < len(fields) and fields[i].strip()), None)
        if held is not None:
            raise CourseError(f"{name} line 1: column {held + 1} of the header has no name, but "
                              f"line {line} holds text in it; name every column (e.g. "
                              f"instruction,input,output), or remove that text.")
    keep = [i for i in range(len(header)) if i not in blank]
    notes = [PANDAS_INDEX_NOTE] if index else []
    if not unread:
        return keep, notes
    what = (f"{len(unread)} columns with no name in the header (columns "
            f"{', '.join(str(i + 1) for i in unread)}) are" if len(unread) > 1
            else f"1 column with no name in the header (column {unread[0] + 1}) is")
    return keep, notes + [f"{what} empty in every row, so "
                          f"{'they were' if len(unread) > 1 else 'it was'} left out."]


PANDAS_INDEX_NOTE = ("The first column has no name and a whole number in every row: pandas' "
                     "index, as df.to_csv(path) writes it, so it was left out "
                     "(df.to_csv(path, index=False) writes the file without it).")


def _pandas_index(header: list[str], lines: list[tuple[int, list[str]]]) -> bool:
    """True when the first column has no name and a whole number in every row: the row labels
    df.to_csv(path) writes first (0, 1, 2, ..., or in any order after a shuffle), never a
    field; without a name the course could read it as none anyway."""
    return bool(lines) and not header[0].strip() and all(
        fields and _WHOLE.fullmatch(fields[0]) for _, fields in lines)


_WHOLE = re.compile(r"-?\d+")


def _blank(fields: list[str]) -> bool:
    """A blank line of a table (no cell, or one of spaces): skipped, never a row."""
    return len(fields) <= 1 and not "".join(fields).strip()


def _csv_problems(text: str, name: str, form: dict[str, Any]) -> tuple[list[str], str]:
    """Each line that would not be read as meant, with what to do, and a quote left open (or
    ''); a header that cannot name the columns is one error for the file. Strict: a quote
    left open is found here, where _table_rows' reader would swallow the rest of the file into
    one field. `form`: the csv module's settings for the file, by _table_form."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True,  # strict: see the except
                        **form)
    delimiter = form["delimiter"]
    problems, open_quote, start = [], "", 1
    try:
        header = next(reader)
        _check_csv_header(header, name, delimiter)
        start = reader.line_num + 1
        for fields in reader:
            # Another count of fields than the header names: an unquoted comma (tab) or line
            # break inside a field. Read as it stands, the columns would shift, or the last
            # ones be empty: an answer cut short or lost, trained on without a word.
            if len(fields) != len(header) and not _blank(fields):
                problems.append(_field_count_problem(fields, header, delimiter, name, start))
            start = reader.line_num + 1
    except csv.Error as err:
        # A quote left open swallows the rest of the file; other quirks are read as written.
        if "unexpected end of data" in str(err):
            open_quote = (f"{name} line {start}: a double quote opens a field that never "
                          f"closes; close it, or write a quote inside a field as two (\"\").")
    return problems, open_quote


def _field_count_problem(fields: list[str], header: list[str], delimiter: str, name: str,
                         line: int) -> str:
    """The line's count of fields against the header's, and the quoting that keeps a field
    whole: one holding the delimiter (more fields), or a line break (fewer)."""
    mark = {"\t": "tab", ";": "semicolon"}.get(delimiter, "comma")
    if len(fields) > len(header):  # the delimiter inside a field
        advice = f"a {mark}." if mark != "comma" else "a comma, e.g. \"What, is 3+5?\"."
    else:  # a line break inside a field, or the empty columns left out
        advice = (f"a line break, and write every column, an empty one as nothing between "
                  f"two {mark}s.")
    count = f"{len(fields)} field{'s' if len(fields) != 1 else ''}"
    return (f"{name} line {line}: {count} but the header names {len(header)} "
            f"({', '.join(header)}); put double quotes around a field that holds {advice}")


def _check_csv_header(header: list[str], name: str, delimiter: str = ",") -> None:
    """The first line must name the columns: a known one at least, each once."""
    if not KNOWN_FIELDS & {c.strip().lower() for c in header}:
        renames = renames_to_a_schema(header)
        if renames:  # a header of other names (GSM8K's question,answer)
            raise CourseError(f"{name} line 1 names the columns {delimiter.join(header)[:80]!r}, "
                              f"which the course does not read; rename {renames_said(renames)}.")
        # No known column: most likely no header at all, the first example read as names.
        raise CourseError(
            f"{name} line 1 must be a header naming the columns (e.g. instruction,input,output "
            f"or prompt,completion), but it reads {delimiter.join(header)[:80]!r}; add a header "
            f"line, or rename the columns to ones the course reads.")
    # A repeated name: two cells under one key, one lost (a blank one: see _named_columns).
    twice = [column for column in dict.fromkeys(header)
             if column.strip() and header.count(column) > 1]
    if twice:
        raise CourseError(f"{name} line 1 names the column '{twice[0]}' twice; give each column "
                          f"its own name, or remove one of them.")


# Columns of the numbers JSON has: ints, and float64 (a float32's 0.1 reads 0.10000000149...).
_NUMBERS = re.compile(r"u?int(8|16|32|64)|float64")


def _known_columns(ds, name: str):
    """Columns named as the course reads them; one error for the file, not one per row, when
    no column is known or a text column holds what no text is (true/false, dates); a column
    of numbers is read as their text, as a JSON number is (normalize_record), and counted."""
    # 'Instruction', ' output' (after ", "): the known field, unless it is there already.
    renames = known_renames(ds.column_names)
    ds = ds.rename_columns(renames) if renames else ds
    # No column the course reads: one sentence for the file, not the same one for every row.
    if not KNOWN_FIELDS & set(ds.column_names):
        other = renames_to_a_schema(ds.column_names)  # GSM8K's question, answer
        rename = (f"rename {renames_said(other)} (datasets: ds.rename_columns({other}))" if other
                  else "rename them, e.g. to instruction, input, output or prompt, completion")
        raise CourseError(f"{name}: its columns ({', '.join(ds.column_names)}) match none the "
                          f"course reads; {rename}.")
    # A column of no text: said in a table's terms (a row's advice would be JSON's).
    for column in text_fields(ds.column_names):
        dtype = getattr(ds.features.get(column), "dtype", "string")
        if dtype not in ("string", "large_string", "null") and not _NUMBERS.fullmatch(dtype):
            raise CourseError(
                f"{name}: column '{column}' holds {dtype}, not text; convert the column to text "
                f"(e.g. df['{column}'] = df['{column}'].fillna('').astype(str)) and save again.")
    return ds


def _split_names(split: Split) -> tuple[str, ...]:
    names = (split,) if isinstance(split, str) else tuple(split)
    if not names:
        raise ValueError("split names no split; give e.g. 'train' or ('test', 'validation')")
    return names


def _from_disk(loaded, name: str, split: Split):
    """A DatasetDict folder holds splits: take the first of `split` it has, or say which it has."""
    if not hasattr(loaded, "keys"):
        return loaded
    return loaded[_pick_split(loaded, name, split, f"give the folder of one split, e.g. "
                                                   f"{name}/{next(iter(loaded))}")]


def _pick_split(held: Collection[str], name: str, split: Split, advice: str) -> str:
    """The first of `split` that `held` (a source's splits) has; else one error that says
    which splits it holds, then `advice`."""
    names = _split_names(split)
    found = next((wanted for wanted in names if wanted in held), None)
    if found is None:
        wanted = " or ".join(", ".join(f"'{n}'" for n in names).rsplit(", ", 1))
        raise CourseError(f"{name} holds the splits {', '.join(held)} but no {wanted} split; "
                          f"{advice}.")
    return found


def _file_kind(path: Path) -> str:
    """'parquet', 'csv', 'tsv' or 'json': Parquet by its magic bytes (gzipped or not), CSV and
    TSV by their extension, else JSON."""
    with path.open("rb") as f:
        head = f.read(4)
    if head[:2] == GZIP_MAGIC:  # a gzipped Parquet file under any name is Parquet too
        try:
            with gzip.open(path) as f:
                head = f.read(4)
        except (OSError, EOFError):  # broken: read_bytes says so
            pass
    suffixes = [s.lower() for s in path.suffixes]
    inner = suffixes[:-1] if suffixes[-1:] == [".gz"] else suffixes
    if head == PARQUET_MAGIC or inner[-1:] == [".parquet"]:
        return "parquet"
    return {".csv": "csv", ".tsv": "tsv"}.get("".join(inner[-1:]), "json")


def _folder_rows(path: Path, name: str, split: Split) -> list[tuple[str, Any]]:
    if (path / "dataset_info.json").is_file() or (path / "dataset_dict.json").is_file():
        return _datasets_rows(path, name, "folder", split)
    _refuse_model_folder(path, name)
    # A .txt last: a folder's notes.txt is less likely its data than a .jsonl or .csv.
    inside = sorted((p.name for p in path.iterdir() if p.suffix.lower() in DATA_FILE_SUFFIXES),
                    key=lambda name: (name.lower().endswith(".txt"), name))[:3]
    hint = f" such as {name.rstrip('/')}/{inside[0]}" if inside else ""
    raise CourseError(f"'{name}' is a folder but not one saved with save_to_disk (it has no "
                      f"dataset_info.json); give a data file{hint}.")


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


@contextmanager
def _offline_if_unanswered() -> Iterator[None]:
    """Offline mode for one load when the Hub does not answer (asked once, 3 s): a set cached
    before loads from the cache, and one that is not fails at once, not after datasets'
    retries (1+2+4+8+8 s). Both libraries read HF_HUB_OFFLINE when imported, so their copies
    are switched here and put back, as datasets' own tests do."""
    if hub_offline() or hub_status() != "unreachable":
        yield
        return
    import datasets.config
    import huggingface_hub.constants

    modules = (datasets.config, huggingface_hub.constants)
    before = [m.HF_HUB_OFFLINE for m in modules]
    for module in modules:
        module.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        for module, value in zip(modules, before, strict=True):
            module.HF_HUB_OFFLINE = value


def _hub_rows(hub_id: str, split: Split) -> list[tuple[str, Any]]:
    names = _split_names(split)
    with quiet_datasets(bars=True) as datasets, _offline_if_unanswered():
        # Download bars are news; log lines are not.
        for i, wanted in enumerate(names):
            try:
                ds = datasets.load_dataset(hub_id, split=wanted)
                break
            except Exception as err:  # datasets raises many types; the message is what matters
                # Not this split: try the next preferred one; the last one's error is said.
                if i + 1 < len(names) and "Unknown split" in str(err):
                    continue
                raise _hub_error(hub_id, err) from None
    ds = _known_columns(ds, hub_id)
    return [(f"{hub_id} row {i}", row) for i, row in enumerate(_dataset_rows(ds), start=1)]


def _hub_error(hub_id: str, err: Exception) -> CourseError:
    text = str(err)
    # datasets 5.x says "Couldn't reach 'owner/name' on the Hub" once its retries give up.
    if hub_offline() or any(word in text.lower() for word in ("offline", "connect", "reach")):
        why = ("offline mode is on (HF_HUB_OFFLINE=1)" if hub_offline()
               else "the Hub cannot be reached")
        return CourseError(
            f"Cannot load data set '{hub_id}' from the Hugging Face Hub because {why} "
            f"and it is not in the local cache; use the embedded data instead: 'course:train' "
            f"to train, 'course:eval_styles' to evaluate.")
    return CourseError(f"Could not load data set '{hub_id}': {text}")


def _file_rows(path: Path, name: str, split: Split, errors: RowErrors) -> list[tuple[str, Any]]:
    kind = _file_kind(path)
    if kind == "json":
        return json_rows(read_text(path, name), name, errors, split)
    if kind in DELIMITERS:
        return _csv_rows(path, name, errors, kind)
    return _datasets_rows(path, name, kind, split)


def _rows(name: str, split: Split, errors: RowErrors) -> list[tuple[str, Any]]:
    if not name.strip():  # Path("") is the current folder, which would be said as one
        raise CourseError(f"The data source is an empty name; give a data file ({ACCEPTED}), "
                          f"a Hub id (owner/name), or an embedded set such as course:train.")
    sets = embedded_sets()
    if name == "course":  # the first preferred split the course ships, e.g. course:eval
        names = _split_names(split)
        name = next((f"course:{n}" for n in names if f"course:{n}" in sets), f"course:{names[0]}")
    if name in sets:
        return json_rows(read_text(sets[name], name), name, errors)
    if name.startswith("course:") and not Path(name).exists():  # a file may be named so
        raise _no_such_set(name, sets)
    path = Path(name).expanduser()
    try:
        if path.is_dir():
            return _folder_rows(path, name, split)
        if path.is_file():
            return _file_rows(path, name, split, errors)
    except OSError as err:  # no permission to read it, an I/O error: said, not a traceback
        raise CourseError(f"{name} cannot be read ({err.strerror or err}); give a file you may "
                          f"read, or change its permissions (chmod u+r).") from None
    if looks_like_path(name):
        raise _no_such_path(name)
    return _hub_rows(name, split)


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
    return next((name for name in _split_names(prefer) if name in splits), None)


def source_splits(source: str | Path) -> list[str]:
    """The splits a local DatasetDict folder or JSON file of splits holds; [] for another
    source (a file of rows, a Hub id: its splits are not known without loading it)."""
    path = Path(str(source)).expanduser()
    if (path / "dataset_dict.json").is_file():
        info = json.loads((path / "dataset_dict.json").read_text(encoding="utf-8"))
        return list(info.get("splits", []))
    if path.is_file() and _file_kind(path) == "json":
        return list(_json_splits(_one_object(read_text(path))))
    return []


def _one_object(text: str) -> Any:
    """The text's one JSON object, or None when it holds another thing (JSON Lines fail fast,
    at their second line)."""
    if not text.lstrip().startswith("{"):
        return None
    try:
        return json.loads(text)
    except UNREADABLE_JSON:
        return None


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


def is_table(data: Any) -> bool:
    """True for a pandas DataFrame or a datasets.Dataset of records, not yet tokenized (neither
    library is imported here: such data brings it)."""
    pandas, hf = sys.modules.get("pandas"), sys.modules.get("datasets")
    return (pandas is not None and isinstance(data, pandas.DataFrame)) or (
        hf is not None and isinstance(data, hf.Dataset) and "input_ids" not in data.column_names)


def kind_of_records(value: Any, one_record: bool = True) -> str | None:
    """'a list of 30 records', 'a DataFrame of 30 rows' (or 'a dict', one record): what a
    value given where a model belongs is, when it is data; None when it is not."""
    if is_table(value):
        return f"a {type(value).__name__} of {len(value)} rows"
    if isinstance(value, list | tuple) and value and all(isinstance(r, dict) for r in value):
        return f"a {type(value).__name__} of {len(value)} records"
    return f"a {type(value).__name__}" if one_record and isinstance(value, dict) else None


def table_rows(table: Any) -> list[dict[str, Any]]:
    """A table's rows as records; an empty cell (NaN) as None, read as empty text as in JSON
    (`bool(df)` raises, so a DataFrame never goes where a list of records goes)."""
    if not hasattr(table, "notna"):  # a Dataset: its rows are dicts, None where empty
        return _dataset_rows(table)
    text = _text_columns(list(table.columns))
    floats = [column for column, dtype in table.dtypes.items()
              if column in text and dtype == "float64"]
    rows = table.astype(object).where(table.notna(), None).to_dict("records")
    return _whole_where_missing(rows, floats)


def _dataset_rows(ds) -> list[dict[str, Any]]:
    """A datasets.Dataset's rows as dicts, None where empty; a float column of whole numbers
    with some missing read as whole numbers, as _whole_where_missing says."""
    floats = [column for column in _text_columns(ds.column_names)
              if getattr(ds.features.get(column), "dtype", "") == "float64"]
    return _whole_where_missing(ds.to_list(), floats)


def _text_columns(columns: list[Any]) -> list[Any]:
    """The columns read as text (text_fields), as the table names them ('Output' too)."""
    renames = known_renames(columns)
    fields = text_fields([renames.get(column, column) for column in columns])
    return [column for column in columns if renames.get(column, column) in fields]


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
