"""A data file's bytes become text: gzip, UTF-16 with or without a byte order mark,
Windows-1252 named by line and column with the fix, and files that are no text (a workbook,
a zip, a PDF, an Arrow file) named for what they are."""

import gzip
import io
import json
import zipfile

import pandas as pd
import pytest
from datasets import Dataset
from records_support import EXPECTED, TWO_EXPECTED, TWO_ROWS

from course_lib.errors import CourseError
from course_lib.formatting.records import load_records


def zipped(*entries: str) -> bytes:
    """A zip archive holding `entries` (an .xlsx is one, with xl/workbook.xml in it)."""
    with zipfile.ZipFile(buffer := io.BytesIO(), "w") as archive:
        for entry in entries:  # a fixed date: the same bytes in every pytest worker
            archive.writestr(zipfile.ZipInfo(entry, (2026, 1, 1, 0, 0, 0)),
                             "instruction,output\nSay hi,hi\n")
    return buffer.getvalue()


SHEET = "save the sheet as CSV UTF-8 (Excel: File > Save As > CSV UTF-8) and pass that file"


def test_gzipped_json_lines_and_csv_load(tmp_path, dataset):
    dataset.to_json(str(tmp_path / "x.jsonl"))
    dataset.to_csv(str(tmp_path / "x.csv"))
    for name in ("x.jsonl", "x.csv"):
        gz = tmp_path / f"{name}.gz"
        gz.write_bytes(gzip.compress((tmp_path / name).read_bytes()))
        assert load_records(gz) == EXPECTED, name


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_files_read_with_or_without_a_byte_order_mark(tmp_path, encoding):
    # Windows PowerShell 5's `python make.py > d.jsonl` writes UTF-16 with a byte order mark;
    # Excel's "Unicode Text" a UTF-16 TSV with one.
    jsonl = tmp_path / "d.jsonl"
    jsonl.write_bytes("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in TWO_ROWS)
                      .encode(encoding))
    assert load_records(jsonl) == TWO_EXPECTED
    tsv = tmp_path / "d.tsv"
    tsv.write_bytes(pd.DataFrame(TWO_ROWS).to_csv(sep="\t", index=False).encode(encoding))
    assert load_records(tsv) == TWO_EXPECTED
    gz = tmp_path / "d.csv.gz"
    gz.write_bytes(gzip.compress(pd.DataFrame(TWO_ROWS).to_csv(index=False).encode(encoding)))
    assert load_records(gz) == TWO_EXPECTED


def test_windows_1252_text_is_named_by_line_and_column_with_the_fix(tmp_path):
    # Was "line 2: not valid UTF-8 (byte 36)": a file offset that reads like a column.
    path = tmp_path / "latin1.csv"
    path.write_bytes("instruction,output\r\nWhat is 2+2? café,4\r\n".encode("cp1252"))
    with pytest.raises(CourseError) as caught:
        load_records(path)
    assert str(caught.value) == (
        f"{path} line 2 column 17: not valid UTF-8, and the file reads as Windows-1252 "
        f"(Latin-1) text; re-save it as UTF-8 (Excel: Save As \"CSV UTF-8\"; or `iconv -f "
        f"cp1252 -t utf-8 FILE > NEW`).")


def test_windows_1252_json_is_told_a_fix_for_json_not_excels(tmp_path):
    # Was Excel's Save As "CSV UTF-8", of a file that never came from Excel.
    path = tmp_path / "latin1.jsonl"
    path.write_bytes('{"instruction": "What is 2+2? café", "output": "4"}\n'.encode("cp1252"))
    with pytest.raises(CourseError) as caught:
        load_records(path)
    assert str(caught.value) == (
        f"{path} line 1 column 34: not valid UTF-8, and the file reads as Windows-1252 "
        f"(Latin-1) text; re-save it as UTF-8 (e.g. `iconv -f cp1252 -t utf-8 FILE > NEW`).")


@pytest.mark.parametrize("name, data, said", [
    # Was "not valid UTF-8, and the file reads as Windows-1252 ...; iconv -f cp1252".
    ("data.xlsx", zipped("[Content_Types].xml", "xl/workbook.xml"),
     f"is an Excel workbook (a zip archive), which the course does not read; {SHEET}."),
    ("data.zip", zipped("notes/readme.md", "data/train.csv"),  # was "save the file as UTF-8"
     "is a zip archive, which the course does not read; unzip it and pass the data file inside "
     "(data/train.csv)."),
    ("data.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504),
     f"is an Excel 97-2003 workbook (.xls) or another old Office file, which the course does "
     f"not read; {SHEET}."),
    ("data.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n",
     "is a PDF document, which the course does not read; put the examples in a CSV or JSON "
     "Lines file, one a row, and pass that file."),
    ("data.pkl", pd.DataFrame({"instruction": ["Say hi"], "output": ["hi"]}).to_pickle,
     "is a Python pickle (as df.to_pickle writes one), which the course does not read; write it "
     "with df.to_json(path, orient=\"records\", lines=True) and pass that file."),
    ("data.jsonl.gz", gzip.compress(zipped("xl/workbook.xml"), mtime=0),  # gzipped too
     f"is an Excel workbook (a zip archive), which the course does not read; {SHEET}."),
], ids=["xlsx", "zip", "xls", "pdf", "pickle", "gzipped-xlsx"])  # bytes make no good name
def test_a_file_that_is_no_text_is_named_for_what_it_is(tmp_path, name, data, said):
    path = tmp_path / name
    data(path) if callable(data) else path.write_bytes(data)
    with pytest.raises(CourseError) as caught:
        load_records(path)
    assert str(caught.value) == f"{path} {said}"


def test_an_arrow_file_of_a_saved_folder_is_told_the_folder(tmp_path):
    # A data-00000-of-00001.arrow given on its own was told to re-save it with iconv.
    Dataset.from_list([{"instruction": "Say hi", "output": "hi"}]).save_to_disk(tmp_path / "ds")
    shard = next((tmp_path / "ds").glob("*.arrow"))
    with pytest.raises(CourseError) as caught:
        load_records(shard)
    assert str(caught.value) == (f"{shard} is one Arrow file of a Dataset.save_to_disk folder, "
                                 f"which the course does not read; pass the folder itself "
                                 f"({tmp_path / 'ds'}).")


def test_parquet_under_any_name_is_read_gzipped_or_not(tmp_path):
    frame = pd.DataFrame({"instruction": ["Say hi"], "output": ["hi"]})
    (tmp_path / "data.jsonl").write_bytes(frame.to_parquet())
    (tmp_path / "data.gz").write_bytes(gzip.compress(frame.to_parquet()))
    for name in ("data.jsonl", "data.gz"):  # the gzipped one was "not valid UTF-8"
        assert load_records(tmp_path / name) == [
            {"instruction": "Say hi", "input": "", "response": "hi"}]
