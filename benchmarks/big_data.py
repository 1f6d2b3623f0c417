"""What a practitioner's big file costs before the first training step, phase by phase.

    python benchmarks/big_data.py [--rows 10000] [--kind alpaca|chat|csv] [--repeats 3]

Writes an Alpaca-style file of `--rows` rows in a temporary folder (instruction 8-40 words,
an input of 10-100 words in 40% of rows, an output of 20-300 words, mostly short: about 1 KB
a row, as Dolly and Alpaca), or the same rows as chat messages or as a CSV, then times each
phase that `course train --data FILE` and a notebook's `train(data=FILE)` run before the
first step, with the embedded tiny model's tokenizer (max_length 256, as `course train`):

    json_parse            the file's plain `json.loads` per line: the reference
    load_records          load_records(FILE): read, parse, normalise
    hold_out              the seeded held-out slice of the user's own data
    prepare_training      prepare_training_data: tokenize, label, the data report's checks
    far_from_world        tokens per word and the base loss of the tiny model
    prepare_held_out      the held-out rows, tokenized for the score
    also_in_training      the held-out rows that are training rows too
    eval_rows             `course eval --data FILE --limit 100`'s reading of the file
    mask_explorer         a notebook's mask_explorer(records, tokenizer), opened

Prints `name_seconds: X` (median of `--repeats`) and `name_vs_json: X` (that time over the
plain parse) per phase, `load_records_first_seconds` (the first read: a cache a reader keeps
helps only the repeats), then `peak_rss_mb` (this process, all phases) and the file's size.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

# Import course_lib from this checkout, also when run as `python benchmarks/big_data.py`.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

from benchmarks.prepare_speed import WORDS as COMMON_WORDS  # noqa: E402 (after the path)

# The benchmark of prepare_examples' speed draws from the same words; more kinds here.
WORDS = COMMON_WORDS + (
    "however because although therefore climate economy village market bridge music painting "
    "engine garden winter summer ocean mountain forest doctor lawyer writer recipe kitchen"
).split()


def big_records(n: int, seed: int = 0) -> list[dict[str, str]]:
    """Alpaca-shaped rows of English-like text, lengths drawn mostly short, up to 300 words."""
    rng = random.Random(seed)

    def text(low: int, high: int) -> str:
        words = [rng.choice(WORDS) for _ in range(int(rng.triangular(low, high, low)))]
        parts = [" ".join(words[i:i + 12]).capitalize() + rng.choice(".?.,")
                 for i in range(0, len(words), 12)]
        return " ".join(parts)

    return [{"instruction": text(8, 40), "input": text(10, 100) if rng.random() < 0.4 else "",
             "output": text(20, 300)} for _ in range(n)]


def write_file(records: list[dict[str, str]], kind: str, folder: Path) -> Path:
    """The rows as Alpaca JSON Lines, as chat {"messages": [...]} JSON Lines, or as a CSV."""
    path = folder / f"big.{'csv' if kind == 'csv' else 'jsonl'}"
    with path.open("w", encoding="utf-8", newline="") as f:
        if kind == "csv":
            writer = csv.DictWriter(f, ["instruction", "input", "output"])
            writer.writeheader()
            writer.writerows(records)
            return path
        for r in records:
            if kind == "chat":
                user = r["instruction"] + (f"\n\n{r['input']}" if r["input"] else "")
                r = {"messages": [{"role": "user", "content": user},
                                  {"role": "assistant", "content": r["output"]}]}
            f.write(json.dumps(r) + "\n")
    return path


def json_parse(path: Path) -> list:
    """The reference: what reading the file costs with nothing but the standard library."""
    if path.suffix == ".csv":
        with path.open(encoding="utf-8", newline="") as f:
            return list(csv.DictReader(f))
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def phases(path: Path):
    """(name, thunk) for each phase, in the order a training run meets them."""
    from course_lib.formatting.records import load_records
    from course_lib.loading import load_model_and_tokenizer
    from course_lib.training.data import (
        also_in_training,
        far_from_world,
        hold_out,
        load_data,
        prepare_eval_examples,
        prepare_training_data,
    )

    model, tokenizer = load_model_and_tokenizer("tiny")
    loaded = load_data(str(path))
    train_part, held = hold_out(loaded)
    ready = prepare_training_data(train_part, tokenizer, max_length=256, progress=False)
    return [
        ("json_parse", lambda: json_parse(path)),
        ("load_records", lambda: load_records(str(path))),
        ("hold_out", lambda: hold_out(loaded)),
        ("prepare_training", lambda: prepare_training_data(train_part, tokenizer,
                                                           max_length=256, progress=False)),
        ("far_from_world", lambda: far_from_world(train_part.records, ready, tokenizer, model)),
        ("prepare_held_out", lambda: prepare_eval_examples(held, tokenizer, 256)),
        ("also_in_training", lambda: also_in_training(train_part, held)),
        ("eval_rows", lambda: _eval_rows(path)),
        ("mask_explorer", lambda: _mask_explorer(loaded.records, tokenizer)),
    ]


def _eval_rows(path: Path):
    from course_lib.evaluation.eval_data import eval_rows

    return eval_rows(str(path), limit=100)


def _mask_explorer(records, tokenizer):
    from course_lib.masking.view import mask_explorer

    return mask_explorer(records, tokenizer)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--kind", choices=("alpaca", "chat", "csv"), default="alpaca")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = write_file(big_records(args.rows), args.kind, Path(tmp))
        size_mb = path.stat().st_size / 1e6
        times: dict[str, list[float]] = {}
        for name, thunk in phases(path):
            for _ in range(args.repeats):
                start = time.perf_counter()
                thunk()
                times.setdefault(name, []).append(time.perf_counter() - start)
    print(f"rows: {args.rows}  kind: {args.kind}  repeats: {args.repeats} (median)")
    print(f"file_mb: {size_mb:.1f}")
    print(f"load_records_first_seconds: {times['load_records'][0]:.3f}")
    reference = statistics.median(times["json_parse"])
    for name, values in times.items():
        print(f"{name}_seconds: {statistics.median(values):.3f}")
        if name != "json_parse":
            print(f"{name}_vs_json: {statistics.median(values) / reference:.2f}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux
    print(f"peak_rss_mb: {peak:.0f}")


if __name__ == "__main__":
    main()
