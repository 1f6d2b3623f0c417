"""Round 10 of the recipe search: a model soup of recipe fine-tunes that differ only in seed.

    python -m benchmarks.model_soup [--on dev|eval_styles] [--seeds 0 1 2] [--offset 10]
                                    [--runs DIR] [--only-train SEED ...]

Soup s is the uniform average of the weights of two fine-tunes with `train()`'s defaults (the
recipe), seeds s and s + offset (Wortsman et al. 2022, "Model soups"). Only the trained tensors
differ (q_proj, k_proj and the norms; the rest stay the base's), so only they are averaged.
Each fine-tune's weights are kept in --runs (a second call reuses them; `--only-train` trains
some seeds and stops, so that two processes can share the work). Prints the recipe's and the
soup's figures as `benchmarks.recipe` does, the soup's exact match over the recipe's, and how
often the recipe's seeds get the same rows wrong. Results: recipe_results.md, round 10.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads, as in recipe.py

import statistics  # noqa: E402
from pathlib import Path  # noqa: E402

import torch  # noqa: E402

from benchmarks.recipe import (  # noqa: E402
    answers,
    eval_rows,
    graded,
    knowledge,
    print_medians,
)
from course_lib.evaluation.metrics import exact_match  # noqa: E402
from course_lib.loading import load_model_and_tokenizer  # noqa: E402
from course_lib.training.runner import train  # noqa: E402

REPORTED = ("unseen_style_exact_match", "statement_knowledge_ratio")


def tuned_weights(seed: int, runs: Path) -> dict[str, torch.Tensor]:
    """The recipe's fine-tune with this seed: its state dict, trained once and kept in `runs`."""
    path = runs / f"seed{seed}.pt"
    if not path.exists():
        model = train("tiny", seed=seed, eval_data=None, progress=False, verbose=False,
                      num_threads=1).model
        runs.mkdir(parents=True, exist_ok=True)
        torch.save(model.state_dict(), path)
    return torch.load(path)


def wrong_rows(said: list[str], rows: list[dict]) -> set[int]:
    """Indices of the unseen-style rows answered wrongly."""
    return {i for i, (a, r) in enumerate(zip(said, rows, strict=True))
            if not r["seen"] and not exact_match(a, r["response"])}


def overlap(wrong: list[set[int]]) -> None:
    """D10: are the recipe's errors shared by its seeds, or seed-specific?"""
    union = set().union(*wrong)
    in_all = set.intersection(*wrong)
    print(f"wrong_rows_per_seed: {' '.join(str(len(w)) for w in wrong)}; "
          f"in any seed {len(union)}, in every seed {len(in_all)}")
    print(f"wrong_in_every_seed_share_of_union: {len(in_all) / len(union):.3f}")
    for i, mine in enumerate(wrong):
        others = set().union(*(w for j, w in enumerate(wrong) if j != i))
        print(f"seed_{i}_wrong_also_wrong_in_another_seed: {len(mine & others) / len(mine):.3f}")


def report(name: str, runs: list[dict]) -> float:
    print_medians(runs, REPORTED, prefix=f"{name}_")
    return statistics.median(r["unseen_style_exact_match"] for r in runs)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--on", choices=["eval_styles", "dev"], default="dev")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--offset", type=int, default=10,
                        help="the second ingredient's seed: s + offset")
    parser.add_argument("--runs", type=Path, default=Path("runs/model_soup"))
    parser.add_argument("--only-train", type=int, nargs="+", default=None, metavar="SEED")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    if args.only_train is not None:
        for seed in args.only_train:
            tuned_weights(seed, args.runs)
        return
    rows = eval_rows(args.on)
    model, tokenizer = load_model_and_tokenizer("tiny")
    base_knowledge = knowledge(model, tokenizer)
    recipe, soup, wrong = [], [], []
    for seed in args.seeds:
        first, second = tuned_weights(seed, args.runs), tuned_weights(seed + args.offset, args.runs)
        model.load_state_dict(first)
        said = answers(model, tokenizer, rows)  # once: graded and the overlap both read them
        recipe.append(graded(model, tokenizer, rows, base_knowledge, said=said))
        wrong.append(wrong_rows(said, rows))
        model.load_state_dict({k: (first[k] + second[k]) / 2 for k in first})  # the soup
        soup.append(graded(model, tokenizer, rows, base_knowledge))
    print(f"on: {args.on} ({len(rows)} rows), soups of seeds s and s + {args.offset}, "
          f"s in {args.seeds}")
    overlap(wrong)
    em_recipe, em_soup = report("recipe", recipe), report("soup", soup)
    print(f"soup_exact_match_vs_recipe: {em_soup / em_recipe:.3f}")


if __name__ == "__main__":
    main()
