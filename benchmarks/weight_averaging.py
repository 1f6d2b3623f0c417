"""Round 8 of the recipe search: average the weights along the run (EMA, SWA).

    python -m benchmarks.weight_averaging [--on dev|eval_styles] [--seeds 0 1 2]
                                          [--arms recipe ema constant swa ...]

Each arm is the recipe (`train()`'s defaults) with one change. The averages are kept by
`torch.optim.swa_utils.AveragedModel` after every optimizer step, and swapped into the model
at the end; then the model is graded as `benchmarks.recipe` grades it. Prints, per arm, the
median over seeds with every seed's value. Results: recipe_results.md, round 8.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads, as in recipe.py


import torch  # noqa: E402
from torch.optim.swa_utils import (  # noqa: E402
    AveragedModel,
    get_ema_multi_avg_fn,
    get_swa_multi_avg_fn,
)
from transformers import TrainerCallback  # noqa: E402

from benchmarks.recipe import eval_rows, graded, knowledge, print_medians  # noqa: E402
from course_lib.loading import load_model_and_tokenizer  # noqa: E402
from course_lib.training.runner import train  # noqa: E402

REPORTED = ("unseen_style_exact_match", "statement_knowledge_ratio")
CONSTANT = {"lr_scheduler_type": "constant"}
# arm: (train() keywords that differ from the recipe, the average kept, its first step)
ARMS = {
    "recipe": ({}, None, 0),
    "ema": ({}, "ema", 0),  # decay 0.99: about the last 100 of 500 steps
    "constant": (CONSTANT, None, 0),  # the recipe's peak rate, 2e-3, held
    "swa": (CONSTANT, "swa", 250),  # SWA: a held rate, the second half averaged
    "constant_mean": ({**CONSTANT, "learning_rate": 1e-3}, None, 0),  # the linear decay's mean
    "swa_mean": ({**CONSTANT, "learning_rate": 1e-3}, "swa", 250),
}


class WeightAverage(TrainerCallback):
    """Average the weights after every step from `start`; the model gets the average at the end."""

    def __init__(self, kind: str, start: int = 0, decay: float = 0.99):
        self.start, self.averaged = start, None
        self.update = get_ema_multi_avg_fn(decay) if kind == "ema" else get_swa_multi_avg_fn()

    def on_step_end(self, args, state, control, model=None, **kwargs):
        if state.global_step < self.start:
            return
        if self.averaged is None:  # a copy of the model; its first update copies the weights
            self.averaged = AveragedModel(model, multi_avg_fn=self.update)
        self.averaged.update_parameters(model)

    def on_train_end(self, args, state, control, model=None, **kwargs):
        with torch.no_grad():  # frozen weights are the same in both; copy only the trained ones
            for p, mean in zip(model.parameters(), self.averaged.module.parameters(), strict=True):
                if p.requires_grad:
                    p.copy_(mean)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--on", choices=["eval_styles", "dev"], default="dev")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--arms", nargs="+", choices=list(ARMS), default=list(ARMS))
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    rows = eval_rows(args.on)
    base_knowledge = knowledge(*load_model_and_tokenizer("tiny"))
    print(f"on: {args.on} ({len(rows)} rows), seeds: {args.seeds}")
    for arm in args.arms:
        settings, kind, start = ARMS[arm]
        runs = []
        for seed in args.seeds:
            callbacks = [WeightAverage(kind, start)] if kind else []
            result = train("tiny", seed=seed, eval_data=None, progress=False, verbose=False,
                           logging_steps=50, callbacks=callbacks, **settings)
            runs.append(graded(result.model, result.tokenizer, rows, base_knowledge))
        print_medians(runs, REPORTED, prefix=f"{arm}_")


if __name__ == "__main__":
    main()
