"""A data file's bytes become text: gunzipped, decoded, or named for what it is instead.

Told by content, not by the name: gzip by its magic bytes, UTF-8 or UTF-16 or -32 by the byte
order mark or the zero bytes around the first character, and a file that is no text at all
(a workbook, a zip archive, a PDF, a pickle, an Arrow file) by its first bytes, with what to
give instead: "not valid UTF-8" would send an Excel user to iconv. file_kind() says which
reader a file goes to.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import zipfile
from pathlib import Path

from course_lib.errors import CourseError
from course_lib.loading import DATA_FILE_SUFFIXES

GZIP_MAGIC, PARQUET_MAGIC = b"\x1f\x8b", b"PAR1"
DELIMITERS = {"csv": ",", "tsv": "\t"}  # the tables read line by line, by the csv module



# Only these end a line: str.splitlines() also splits at U+2028, U+2029 and U+0085, which a
# JSON string may hold as they are (json.dumps(..., ensure_ascii=False) writes them so).
LINE_END = re.compile(r"\r\n|\r|\n")



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



def file_kind(path: Path) -> str:
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
