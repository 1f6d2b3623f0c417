"""Does the standard masked fine-tune generalise across phrasing? Exact match on eval_styles.

    python -m benchmarks.eval_styles_robustness [--seeds 0 1 2]

For each fine-tune seed: load the embedded base model, fine-tune it on course:train with
the behaviour benchmark's settings (FineTuneSettings), answer every course:eval_styles
row greedily (16 new tokens), and grade by exact match. Prints, per style and for seen vs
unseen, the median exact match over seeds with every seed's value, the share of groups
answered consistently (every paraphrase right), and the seconds the set takes to answer.
"""

from __future__ import annotations

import argparse
import os

# Before torch loads: idle OpenMP threads sleep rather than spin (shared 2-core machines).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import statistics  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402

from course_lib.evaluation.base_model import (  # noqa: E402
    FineTuneSettings,
    masked_fine_tune,
    tuned_answers,
)
from course_lib.formatting.json_files import read_json_rows  # noqa: E402
from course_lib.formatting.records import EMBEDDED_DATA_DIR, load_records  # noqa: E402
from course_lib.loading import load_model_and_tokenizer  # noqa: E402


def run(seed: int, rows: list[dict]) -> dict:
    """One fine-tune and the graded answers: {breakdown name: exact match}, plus seconds."""
    model, tokenizer = load_model_and_tokenizer("tiny")
    masked_fine_tune(model, tokenizer, load_records("course:train"), FineTuneSettings(seed=seed))
    start = time.time()
    graded = tuned_answers(model, tokenizer, rows)
    seconds = time.time() - start
    out = {"answer_seconds": seconds}
    for name, keep in [("all", lambda r: True), ("seen", lambda r: r["seen"]),
                       ("unseen", lambda r: not r["seen"])] + [
            (s, lambda r, s=s: r["style"] == s) for s in dict.fromkeys(r["style"] for r in rows)]:
        mine = [g["correct"] for g, r in zip(graded, rows, strict=True) if keep(r)]
        out[name] = sum(mine) / len(mine)
    groups: dict[str, bool] = {}
    for g, r in zip(graded, rows, strict=True):
        groups[r["group"]] = groups.get(r["group"], True) and g["correct"]
    out["groups_all_right"] = sum(groups.values()) / len(groups)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args(argv)
    torch.set_num_threads(min(2, torch.get_num_threads()))
    rows = [row for _, row in read_json_rows(EMBEDDED_DATA_DIR / "eval_styles.jsonl")]
    runs = [run(seed, rows) for seed in args.seeds]
    print(f"rows: {len(rows)}, seeds: {args.seeds}")
    for name in runs[0]:
        values = [r[name] for r in runs]
        print(f"{name}: {statistics.median(values):.3f} "
              f"(per seed {' '.join(f'{v:.3f}' for v in values)})")


if __name__ == "__main__":
    main()
