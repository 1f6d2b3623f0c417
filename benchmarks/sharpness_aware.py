"""Round 13 of the recipe search: sharpness-aware minimisation (SAM) while tuning.

    python -m benchmarks.sharpness_aware --on dev --rho 0 0.05     # --on heldout: round 14

SAM (Foret et al. 2021, "Sharpness-aware minimization for efficiently improving
generalization") takes each step with the gradient at the worst point near the weights,
w + rho * g / |g|, so that training settles where the loss is flat; Bahri et al. (2022,
"Sharpness-aware minimization improves language model generalization") report that it helps
fine-tuned language models, most with little data. Each step costs two forward and backward
passes. Only the weights the recipe trains (q_proj, k_proj, the norms) are moved.

Everything else is the recipe (`train()`'s defaults) and benchmarks/recipe.py's grading. The
SAM step replaces the Trainer's training_step in this process only; rho = 0 is the plain step
(the recipe's figures must come back exactly). Results: recipe_results.md, round 13.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads, as in recipe.py

import torch  # noqa: E402

from benchmarks.recipe import (  # noqa: E402
    GRADED_ON,
    eval_rows,
    knowledge,
    print_medians,
    run,
    tuning_for,
    without_random_rows,
)
from course_lib.loading import load_model_and_tokenizer  # noqa: E402
from course_lib.training.trainer import CourseTrainer  # noqa: E402

PLAIN_STEP = CourseTrainer.training_step


def sam_step(rho: float):
    """A CourseTrainer.training_step that leaves the gradient taken at w + rho * g / |g|."""

    def training_step(self, model, inputs, num_items_in_batch=None):
        loss = PLAIN_STEP(self, model, inputs, num_items_in_batch)  # the gradient g at w
        trained = [p for p in model.parameters() if p.requires_grad and p.grad is not None]
        if not rho or not trained:
            return loss
        kept = [p.detach().clone() for p in trained]  # w itself, to come back to exactly
        with torch.no_grad():  # climb to the worst point within rho, in g's direction
            norm = torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in trained]))
            for p in trained:
                p.add_(p.grad * (rho / (norm + 1e-12)))
        model.zero_grad()
        PLAIN_STEP(self, model, inputs, num_items_in_batch)  # the gradient there
        with torch.no_grad():  # back to w: the optimizer steps from w with that gradient
            for p, w in zip(trained, kept, strict=True):
                p.copy_(w)
        return loss

    return training_step


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--on", choices=GRADED_ON, default="dev")
    parser.add_argument("--rho", type=float, nargs="+", default=[0.0, 0.05])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--drop-random", type=int, nargs=2, default=None, metavar=("N", "DRAW"),
                        help="as in benchmarks.recipe: tune without N random rows (round 15)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    rows = eval_rows(args.on)
    base = knowledge(*load_model_and_tokenizer("tiny"))
    print(f"on: {args.on} ({len(rows)} rows), seeds: {args.seeds}", flush=True)
    data = tuning_for(args.on) or (without_random_rows(*args.drop_random)
                                   if args.drop_random else {})
    for rho in args.rho:
        CourseTrainer.training_step = sam_step(rho)
        runs = [run(seed, rows, base, data, threads=args.threads) for seed in args.seeds]
        print_medians(runs, ["unseen_style_exact_match", "statement_knowledge_ratio",
                             "tune_seconds"], prefix=f"rho={rho} ")


if __name__ == "__main__":
    main()
