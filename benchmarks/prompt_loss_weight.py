"""Round 12 of the recipe search: a small loss on the prompt tokens (prompt-loss weight).

    python -m benchmarks.prompt_loss_weight --on dev --weights 0 0.1 1

The recipe trains on the response only (labels -100 on the prompt), which is what the course
teaches. Between that and training on every token there is a dial: the prompt's tokens count
with weight w, the response's with 1, and the loss of a batch is

    (sum of the response tokens' cross-entropy + w * sum of the prompt tokens') /
    (number of response tokens + w * number of prompt tokens)

so w = 0 is the recipe and w = 1 is the unmasked loss of lesson 04. Huerta-Enochian and Ko
(2024, "Instruction fine-tuning: does prompt loss matter?") report that for data with short
answers, like the course's, a small w (0.01-0.1) does better than either end.

Everything else is the recipe (`train()`'s defaults) and benchmarks/recipe.py's grading. The
weighted loss replaces the course's in this process only; w = 0 through it must give the
recipe's figures back. Results: recipe_results.md, round 12.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads, as in recipe.py

import torch  # noqa: E402

from benchmarks.recipe import eval_rows, knowledge, print_medians, run  # noqa: E402
from course_lib.formatting.records import load_records  # noqa: E402
from course_lib.loading import load_model_and_tokenizer  # noqa: E402
from course_lib.masking.labels import IGNORE_INDEX, prepare_examples  # noqa: E402
from course_lib.training.settings import RECIPE  # noqa: E402
from course_lib.training.trainer import CourseTrainer  # noqa: E402

# A prompt token's label is PROMPT - its id: below -100, so the course's code reads it as
# "not a response token", and the weighted loss below can still recover the id.
PROMPT = -1000


def weighted_examples(tokenizer, records: list[dict] | None = None) -> list[dict]:
    """`records` (default: the recipe's data) labelled as usual on the response, and with
    the prompt's labels coded as PROMPT - id."""
    records = records if records is not None else load_records(RECIPE.data)
    masked = prepare_examples(records, tokenizer, progress=False).examples
    whole = prepare_examples(records, tokenizer, masking="none", progress=False).examples
    out = []
    for m, w in zip(masked, whole, strict=True):
        assert m["input_ids"] == w["input_ids"]  # the same tokens, labelled two ways
        labels = [lm if lm != IGNORE_INDEX else (PROMPT - lw if lw != IGNORE_INDEX else lm)
                  for lm, lw in zip(m["labels"], w["labels"], strict=True)]
        out.append({**m, "labels": labels})
    return out


def weighted_loss(weight: float):
    """A CourseTrainer.compute_loss with the prompt's tokens counted `weight` times."""

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs["labels"][:, 1:]  # position t predicts token t + 1
        outputs = model(**{k: v for k, v in inputs.items() if k != "labels"}, use_cache=False)
        response, prompt = labels >= 0, labels <= PROMPT
        targets = torch.where(response, labels, torch.where(prompt, PROMPT - labels, 0))
        each = torch.nn.functional.cross_entropy(
            outputs.logits[:, :-1].float().transpose(1, 2), targets, reduction="none")
        w = response.float() + weight * prompt.float()
        loss = (each * w).sum() / w.sum()
        return (loss, outputs) if return_outputs else loss

    return compute_loss


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--on", choices=["eval_styles", "dev"], default="dev")
    parser.add_argument("--weights", type=float, nargs="+", default=[0.0, 0.1, 1.0])
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    rows = eval_rows(args.on)
    base_model, tokenizer = load_model_and_tokenizer("tiny")
    base = knowledge(base_model, tokenizer)
    examples = weighted_examples(tokenizer)
    prompt_share = sum(sum(x <= PROMPT for x in e["labels"][1:]) for e in examples) / sum(
        len(e["labels"]) - 1 for e in examples)
    print(f"on: {args.on} ({len(rows)} rows), seeds: {args.seeds}, {len(examples)} examples, "
          f"prompt tokens {prompt_share:.2f} of the targets", flush=True)
    for weight in args.weights:
        CourseTrainer.compute_loss = weighted_loss(weight)
        # fast=False, as measured: the plain path (its optimizer too); compute_loss is ours
        runs = [run(seed, rows, base, {"data": examples, "fast": False}, threads=args.threads)
                for seed in args.seeds]
        print_medians(runs, ["unseen_style_exact_match", "statement_knowledge_ratio",
                             "tune_seconds"], prefix=f"w={weight} ")


if __name__ == "__main__":
    main()
