"""Round 5 of the recipe search: mix the tuned weights with the base model's (WiSE-FT).

    python -m benchmarks.weight_mixing [--on dev|heldout|eval_styles] [--seeds 0 1 2]
                                       [--mix 1 0.85 0.7]

For each seed: fine-tune with `train()`'s defaults (the recipe), then for each mix `a` set every
trained weight to (1 - a) * base + a * tuned (a = 1: the recipe itself; a > 1 pushes past it)
and grade as `benchmarks.recipe` does. Prints, per mix, the median over seeds with every seed's
value, and the ratio of its median to the recipe's (a = 1). Results: recipe_results.md, round 5.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads, as in recipe.py

import statistics  # noqa: E402

import torch  # noqa: E402

from benchmarks.recipe import (  # noqa: E402
    GRADED_ON,
    eval_rows,
    graded,
    knowledge,
    print_medians,
    tuning_for,
)
from course_lib.loading import load_model_and_tokenizer  # noqa: E402
from course_lib.training.runner import train  # noqa: E402

REPORTED = ("unseen_style_exact_match", "statement_knowledge_ratio")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--on", choices=GRADED_ON, default="dev")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--mix", type=float, nargs="+", default=[1.0, 0.85, 0.7, 0.5])
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    rows = eval_rows(args.on)
    base_model, tokenizer = load_model_and_tokenizer("tiny")
    base = {k: v.clone() for k, v in base_model.state_dict().items()}
    base_knowledge = knowledge(base_model, tokenizer)
    by_mix: dict[float, list[dict[str, float]]] = {a: [] for a in args.mix}
    for seed in args.seeds:
        model = train("tiny", seed=seed, eval_data=None, progress=False, verbose=False,
                      **tuning_for(args.on)).model
        tuned = {k: v.clone() for k, v in model.state_dict().items()}
        for a in args.mix:  # only the trained tensors move; frozen ones equal the base's
            model.load_state_dict({k: base[k] + a * (tuned[k] - base[k]) for k in tuned})
            scores = graded(model, tokenizer, rows, base_knowledge)
            by_mix[a].append({name: scores[name] for name in REPORTED})
    # The reference is the recipe itself (a = 1), measured in the same run.
    recipe = (statistics.median(r["unseen_style_exact_match"] for r in by_mix[1.0])
              if 1.0 in by_mix else None)
    print(f"on: {args.on} ({len(rows)} rows), seeds: {args.seeds}")
    for a, runs in by_mix.items():
        print_medians(runs, prefix=f"mix_{a:g}_")
        if recipe:
            em = statistics.median(r["unseen_style_exact_match"] for r in runs)
            print(f"mix_{a:g}_exact_match_vs_recipe: {em / recipe:.3f}")


if __name__ == "__main__":
    main()
