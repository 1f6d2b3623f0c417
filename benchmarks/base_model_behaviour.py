"""How the embedded base model behaves before and after a masked fine-tune.

    python -m benchmarks.base_model_behaviour [--model DIR] [--data DIR] [--show N] [--seeds 0 1 2]

Prints `name: value` lines:

    raw_completion_rate   share of held-out course-template prompts the base model continues
                          (another question, an instruction, other text) instead of answering
    statement_knowledge   base model correct on the same facts said as statements ("2 + 2 =")
    tuned_exact_match     after a masked fine-tune on train.jsonl, exact match on eval.jsonl
    tuned_eos_rate        share of those tuned answers that end with EOS
    tune_seconds          wall time of that fine-tune

The fine-tune's seed (data order) moves exact match by a few eval questions, so it is run
once per `--seeds` value: the tuned numbers printed are medians, with every seed's value
on a `_per_seed` line. The rows shown come from the first seed.
"""

from __future__ import annotations

import argparse
import os

# Before torch loads: idle OpenMP threads sleep rather than spin (shared 2-core machines).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import statistics  # noqa: E402

from course_lib.evaluation.base_model import FineTuneSettings, measure  # noqa: E402

PER_SEED = ("tuned_exact_match", "tuned_eos_rate", "tune_seconds",
            "tuned_exact_match_unseen_phrasing")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model folder (default: embedded tiny-base)")
    parser.add_argument("--data", default=None, help="data folder (default: embedded data)")
    parser.add_argument("--show", type=int, default=5, help="example rows to print per part")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2],
                        help="fine-tune seeds; tuned numbers are medians over them")
    args = parser.parse_args(argv)

    runs = [measure(args.model, args.data, FineTuneSettings(seed=seed))
            for seed in args.seeds]
    result = runs[0]
    for name in PER_SEED:
        values = [run[name] for run in runs]
        result[name] = statistics.median(values)
        result[f"{name}_per_seed"] = " ".join(f"{v:.3f}" for v in values)
    rows = result.pop("rows")
    for name in ("raw", "statements", "tuned"):
        for r in rows[name][: args.show]:
            print(f"# {name}: {r['prompt']!r} -> {r['output']!r} (answer {r['answer']!r})")
    for r in rows["headline_before"] + rows["headline_after"]:
        print(f"# headline: {r['prompt']!r} -> {r['output']!r}")
    for name, value in result.items():
        print(f"{name}: {value:.3f}" if isinstance(value, float) else f"{name}: {value}")


if __name__ == "__main__":
    main()
