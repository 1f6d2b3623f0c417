"""Parquet files, save_to_disk folders and Hub ids, read by `datasets`: gzipped Parquet, a
folder's splits, a run folder given as data, a column of no text, and the Hub offline."""

import gzip

import datasets
import pandas as pd
import pytest
from records_support import EXPECTED, TWO_EXPECTED, TWO_ROWS, show_mask_error

from course_lib.cli import main
from course_lib.errors import CourseError
from course_lib.formatting.records import load_records


def test_save_to_disk_folders_load_their_split(tmp_path, dataset):
    dataset.save_to_disk(str(tmp_path / "one"))
    assert load_records(tmp_path / "one") == EXPECTED
    datasets.DatasetDict({"train": dataset, "test": dataset.select([0])}).save_to_disk(
        str(tmp_path / "dict"))
    assert load_records(tmp_path / "dict") == EXPECTED
    assert load_records(tmp_path / "dict", split="test") == EXPECTED[:1]
    with pytest.raises(CourseError, match=r"splits train, test but no 'eval' split"):
        load_records(tmp_path / "dict", split="eval")
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "rows.jsonl").write_text("{}")
    (tmp_path / "plain" / "notes.txt").write_text("mine")  # was the file suggested
    with pytest.raises(CourseError, match=r"not one saved with save_to_disk.*plain/rows.jsonl"):
        load_records(tmp_path / "plain")


def test_a_run_or_model_folder_given_as_data_is_called_a_model(tmp_path):
    run, model = tmp_path / "runA", tmp_path / "model"  # `course eval runA --data runA`
    for folder, held in ((run, "history.json"), (model, "config.json")):
        folder.mkdir()
        (folder / held).write_text("{}")
        (folder / "tokenizer.json").write_text("{}")
        with pytest.raises(CourseError) as info:
            load_records(folder)
        kind = "run" if folder is run else "model"
        assert str(info.value) == (f"'{folder}' is a {kind} folder (it holds {held}): a model, "
                                   f"not data; give it as the model, and a data file with "
                                   f"data='my_data.jsonl'.")
        assert info.value.cli.endswith("with --data my_data.jsonl.")


def test_hub_dataset_offline_is_one_sentence(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(CourseError, match=r"instead: 'course:train' to train, "
                                          r"'course:eval_styles' to evaluate\."):
        load_records("some-owner/some-dataset-not-cached")


def test_gzipped_parquet_loads_and_a_broken_one_is_said_once(tmp_path, capfd, caplog):
    plain = tmp_path / "p.parquet"
    pd.DataFrame(TWO_ROWS).to_parquet(plain)
    gz = tmp_path / "p.parquet.gz"
    gz.write_bytes(gzip.compress(plain.read_bytes()))
    assert load_records(gz) == TWO_EXPECTED
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(plain.read_bytes()[:-20])  # cut short: no footer
    err = show_mask_error(capfd, caplog, broken)
    assert len(err) == 1 and err[0].startswith(f"error: {broken} could not be read as parquet")


@pytest.mark.parametrize("answers, dtype", [([True, False], "bool"), ([0.5, 2.0], "float32")])
def test_a_column_of_no_text_is_still_named_in_column_terms(tmp_path, answers, dtype):
    # float32: its 0.1 would read as 0.10000000149011612, a spelling no JSON file gives.
    rows = [{**r, "output": a} for r, a in zip(TWO_ROWS, answers, strict=True)]
    path = tmp_path / "n.parquet"
    pd.DataFrame(rows).astype({"output": dtype}).to_parquet(path)
    with pytest.raises(CourseError) as caught:
        load_records(path)
    assert str(caught.value) == (
        f"{path}: column 'output' holds {dtype}, not text; convert the column to text "
        f"(e.g. df['output'] = df['output'].fillna('').astype(str)) and save again.")


def test_a_split_saved_with_no_rows_holds_none_as_an_empty_file_does(tmp_path, dataset, capfd):
    # Was "could not be read as folder (IndexError: list index out of range)": datasets writes
    # no data file for an empty set, then cannot load it, nor any DatasetDict that holds one.
    empty = dataset.select([])
    empty.save_to_disk(str(tmp_path / "one"))
    assert load_records(tmp_path / "one") == []
    datasets.DatasetDict({"train": dataset, "test": empty}).save_to_disk(str(tmp_path / "dict"))
    assert load_records(tmp_path / "dict") == EXPECTED
    assert load_records(tmp_path / "dict", split="test") == []
    capfd.readouterr()
    assert main(["show-mask", "--data", str(tmp_path / "one")]) == 2
    assert capfd.readouterr().err == (f"error: {tmp_path / 'one'} holds no rows; give a file "
                                      f"with at least one record.\n")


def test_a_folder_without_a_held_out_split_suggests_no_train_split_as_one(tmp_path, dataset):
    # Was "give the folder of one split, e.g. .../dict/train": its training rows, held out.
    datasets.DatasetDict({"train": dataset, "extra": dataset}).save_to_disk(str(tmp_path / "d"))
    with pytest.raises(CourseError) as caught:
        load_records(tmp_path / "d", split=("test", "validation"))
    assert str(caught.value) == (f"{tmp_path / 'd'} holds the splits train, extra but no 'test' "
                                 f"or 'validation' split; give the folder of one split, e.g. "
                                 f"{tmp_path / 'd'}/extra.")


def test_an_empty_parquet_file_holds_no_rows_as_an_empty_jsonl_does(tmp_path):
    # Was "could not be read as parquet (ArrowInvalid: ... Parquet file size is 0 bytes)".
    (tmp_path / "d.parquet").write_bytes(b"")
    (tmp_path / "d.parquet.gz").write_bytes(gzip.compress(b""))
    assert load_records(tmp_path / "d.parquet") == load_records(tmp_path / "d.parquet.gz") == []
