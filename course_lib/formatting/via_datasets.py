"""Parquet files, save_to_disk folders and Hub ids: read by the `datasets` library.

`datasets` is imported only when one of these is read (about 3 s). Its own log lines and
progress bars are kept quiet, so that a read that fails is said once, by a CourseError; its
columns are matched to the fields the course reads, and a split is picked as
rows.pick_split says. A Hub id that cannot be reached fails at once, not after retries.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from course_lib.env import hub_offline, hub_status
from course_lib.errors import CourseError
from course_lib.formatting.file_bytes import read_bytes
from course_lib.formatting.rows import ACCEPTED, Split, dataset_rows, pick_split, split_names
from course_lib.formatting.schemas import (
    KNOWN_FIELDS,
    known_renames,
    renames_said,
    renames_to_a_schema,
    text_fields,
)
from course_lib.loading import DATA_FILE_SUFFIXES


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


def datasets_rows(path: Path, name: str, kind: str, split: Split) -> list[tuple[str, Any]]:
    try:
        with quiet_datasets() as datasets:
            if kind == "folder":
                ds = _from_disk(datasets, path, name, split)
                if ds is None:  # saved with no rows: the caller says it holds none
                    return []
            else:  # Parquet, from memory, so that a gzipped one reads too
                table = _parquet_table(path, name)
                if table is None:  # an empty file, as an empty .jsonl: it holds no rows
                    return []
                ds = datasets.Dataset(table)
    except CourseError:
        raise
    except Exception as err:  # datasets and pyarrow raise many types; the message matters
        raise CourseError(f"{name} could not be read as {kind} ({_root_cause(err)}); "
                          f"accepted: {ACCEPTED}.") from None
    ds = _known_columns(ds, name)  # 'Instruction' read as 'instruction'; a number column named
    return [(f"{name} row {i}", row) for i, row in enumerate(dataset_rows(ds), start=1)]


def _root_cause(err: BaseException) -> str:
    """'ArrowInvalid: ...' from under datasets' 'An error occurred while generating the dataset'."""
    while (err.__cause__ or err.__context__) is not None:
        err = err.__cause__ or err.__context__
    why = str(err).strip().splitlines()[0][:200] if str(err).strip() else ""
    return f"{type(err).__name__}: {why}"


def _parquet_table(path: Path, name: str):
    """The file's table, gunzipped in memory first if gzipped (pyarrow reads no gzip); None
    for a file of no bytes."""
    import pyarrow.parquet as pq

    data = read_bytes(path, name)
    return pq.read_table(io.BytesIO(data)) if data else None


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


def _from_disk(datasets, path: Path, name: str, split: Split):
    """The folder's Dataset, or None when it was saved with no rows. A DatasetDict folder
    holds splits: the first of `split` it has is loaded on its own, or the error says which
    it has (datasets cannot load a split saved empty, nor a dict that holds one)."""
    if (path / "dataset_dict.json").is_file():
        held = json.loads((path / "dataset_dict.json").read_text(encoding="utf-8"))["splits"]
        # The folder suggested is no train split when a held-out one was asked for.
        other = next((s for s in held if s != "train" or "train" in split_names(split)),
                     held[0])
        path = path / pick_split(held, name, split, f"give the folder of one split, e.g. "
                                                    f"{name.rstrip('/')}/{other}")
    # An empty Dataset is saved with no data file, which datasets then cannot load.
    state = path / "state.json"
    if state.is_file() and json.loads(state.read_text(encoding="utf-8")).get(
            "_data_files") == []:
        return None
    return datasets.load_from_disk(str(path), keep_in_memory=True)


def is_saved_dataset(path: Path) -> bool:
    """A folder written by Dataset.save_to_disk (one split) or DatasetDict.save_to_disk."""
    return (path / "dataset_info.json").is_file() or (path / "dataset_dict.json").is_file()


def folder_rows(path: Path, name: str, split: Split) -> list[tuple[str, Any]]:
    if is_saved_dataset(path):
        return datasets_rows(path, name, "folder", split)
    # A .txt last: a folder's notes.txt is less likely its data than a .jsonl or .csv.
    inside = sorted((p.name for p in path.iterdir() if p.suffix.lower() in DATA_FILE_SUFFIXES),
                    key=lambda name: (name.lower().endswith(".txt"), name))[:3]
    hint = f" such as {name.rstrip('/')}/{inside[0]}" if inside else ""
    raise CourseError(f"'{name}' is a folder but not one saved with save_to_disk (it has no "
                      f"dataset_info.json); give a data file{hint}.")


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


def hub_rows(hub_id: str, split: Split) -> list[tuple[str, Any]]:
    names = split_names(split)
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
    return [(f"{hub_id} row {i}", row) for i, row in enumerate(dataset_rows(ds), start=1)]


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
