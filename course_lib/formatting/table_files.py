"""CSV and TSV files, read by the csv module with every cell as text ("007" stays "007").

Every line is checked before any row is read, so that every bad line is named at once: a
count of fields other than the header's (an unquoted comma or line break inside a field) or
a quote left open. The quirks of the programs that write tables are read as meant, each with
a note: Excel's ';' separator, pandas' tab-separated .csv and its index column, a header
written 'instruction, output', and the empty columns Excel leaves at the end.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from course_lib.errors import CourseError
from course_lib.formatting.file_bytes import DELIMITERS, LINE_END, read_text
from course_lib.formatting.rows import WHOLE_NUMBER, RowErrors, table_row
from course_lib.formatting.schemas import (
    KNOWN_FIELDS,
    known_renames,
    renames_said,
    renames_to_a_schema,
)


def csv_rows(path: Path, name: str, errors: RowErrors, kind: str) -> list[tuple[str, Any]]:
    """A CSV's or TSV's rows, every line checked first, so that every bad line is named at
    once (a reader that stops at the first one names one a run)."""
    text = read_text(path, name, kind)  # gunzipped, and bad UTF-8 named by its line
    if not text.strip():
        return []  # an empty file: the caller says it holds no rows
    _refuse_json(text, name)
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



def _refuse_json(text: str, name: str) -> None:
    """JSON under a table's extension, told by its first line (an object, or an array's
    opening): read as a table, its JSON was split at each comma into columns no format reads
    ("rows 1, 2: record has fields ['input: \"\"', ...]"), its first row taken as the header."""
    first = LINE_END.split(text.lstrip(), maxsplit=1)[0].strip()
    try:
        value = json.loads(first) if first != "[" else []
    except ValueError:
        return
    if not isinstance(value, dict | list):
        return
    kind = "JSON Lines" if isinstance(value, dict) else "a JSON array"
    stem = re.sub(r"(\.(csv|tsv))?(\.gz)?$", "", name, flags=re.IGNORECASE)
    suffix = ".jsonl" if isinstance(value, dict) else ".json"
    raise CourseError(f"{name} is not a table but {kind}; rename it to end in {suffix} (e.g. "
                      f"{Path(stem).name}{suffix}{'.gz' if name.endswith('.gz') else ''}).")


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
    header = LINE_END.split(text, maxsplit=1)[0]
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
    header = next(csv.reader([LINE_END.split(text, maxsplit=1)[0]], delimiter=delimiter))
    return len(header) > 1 and all(column.startswith(" ") for column in header[1:])



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
        row = table_row(((columns[i], fields[i]) for i in keep), tuple(notes + dropped))
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
        fields and WHOLE_NUMBER.fullmatch(fields[0]) for _, fields in lines)



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
