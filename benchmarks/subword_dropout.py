"""Round 11 of the recipe search: the recipe with BPE-dropout on its training prompts.

    python -m benchmarks.subword_dropout --on dev --p 0.1 --copies 2 --draw DRAW.json

BPE-dropout (Provilkov et al. 2020, "BPE-Dropout: simple and effective subword
regularization") tokenizes training inputs with a share `p` of the tokenizer's merges skipped,
so that words are also seen in pieces ("Ġm in us" as well as "Ġminus"), as a typo splits them
("Ġm i u ns"); it is reported to make models more robust to misspelt input. Here the prompts
(template and instruction) of the recipe's data get it, the responses never do: what the model
learns to answer stays one spelling. Each row is tokenized `copies` times, each a new draw.

The tokenizers library draws with its own random state, which cannot be seeded, so the
examples are written to `--draw` the first time and read back from there afterwards: a run can
be repeated exactly. Everything else is benchmarks/recipe.py: seeds, grading, printed lines.
`--p 0 --copies 1` is the recipe itself (its figures must come back exactly).
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
from pathlib import Path

import torch

from benchmarks.recipe import eval_rows, graded, knowledge, print_medians
from course_lib.formatting.records import load_records
from course_lib.loading import load_model_and_tokenizer
from course_lib.masking.labels import IGNORE_INDEX, prepare_examples
from course_lib.training.runner import train
from course_lib.training.settings import RECIPE


class DroppedPrompts:
    """The tokenizer, but prompts go through a copy with BPE-dropout p.

    prepare_examples tokenizes the prompts, then each prompt with its response (the whole
    texts, which start with the prompts just asked for), then, without special tokens, any
    response it cannot cut from its whole text: only the first of these get the dropout."""

    def __init__(self, tokenizer, p: float):
        self.tokenizer = tokenizer
        self.dropped = copy.deepcopy(tokenizer)
        self.dropped.backend_tokenizer.model.dropout = p or None  # 0: no dropout at all
        self.prompts: list[str] = []  # the last prompts tokenized with dropout

    def __call__(self, texts, add_special_tokens: bool = True, **kwargs):
        wholes = len(texts) == len(self.prompts) and all(
            text.startswith(prompt) for text, prompt in zip(texts, self.prompts, strict=True))
        # The whole texts plain: their prompts' ids rarely start them, so each response is
        # then tokenized on its own, plain too, and follows its prompt's dropped ids.
        prompts = add_special_tokens and not wholes
        self.prompts = list(texts) if prompts else []
        which = self.dropped if prompts else self.tokenizer
        return which(texts, add_special_tokens=add_special_tokens, **kwargs)

    def __getattr__(self, name):  # eos_token_id and the rest: the tokenizer's own
        return getattr(self.tokenizer, name)


def draw_examples(tokenizer, p: float, copies: int, path: Path | None) -> list[dict]:
    """The recipe's data, tokenized `copies` times with dropout p on the prompts; read from
    `path` if it holds a draw for the same p and copies, else drawn and written there."""
    if path and path.is_file():
        saved = json.loads(path.read_text())
        if (saved["p"], saved["copies"]) == (p, copies):
            return saved["examples"]
        raise SystemExit(f"{path} holds a draw for p={saved['p']}, copies={saved['copies']}; "
                         f"pass another --draw file for p={p}, copies={copies}")
    records = load_records(RECIPE.data)
    proxy = DroppedPrompts(tokenizer, p)
    examples = []
    for _ in range(copies):  # each call draws anew
        examples += prepare_examples(records, proxy, progress=False).examples
    if path:
        path.write_text(json.dumps({"p": p, "copies": copies, "examples": examples}))
    return examples


def pieces_per_prompt(examples: list[dict]) -> float:
    """Mean prompt length in tokens (the masked labels): how much the dropout split."""
    return statistics.mean(sum(label == IGNORE_INDEX for label in e["labels"]) for e in examples)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--on", choices=["eval_styles", "dev"], default="dev")
    parser.add_argument("--p", type=float, default=0.1, help="share of merges skipped")
    parser.add_argument("--copies", type=int, default=2, help="segmentations of each row")
    parser.add_argument("--draw", type=Path, default=None, help="the examples, kept here")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    rows = eval_rows(args.on)
    base_model, tokenizer = load_model_and_tokenizer("tiny")
    base = knowledge(base_model, tokenizer)
    examples = draw_examples(tokenizer, args.p, args.copies, args.draw)
    runs = []
    for seed in args.seeds:
        result = train("tiny", data=examples, seed=seed, eval_data=None, progress=False,
                       verbose=False, num_threads=args.threads, logging_steps=50)
        runs.append({"tune_seconds": result.history.wall_time_s,
                     **graded(result.model, result.tokenizer, rows, base)})
    print(f"on: {args.on} ({len(rows)} rows), seeds: {args.seeds}, BPE-dropout p={args.p} on "
          f"the prompts, {args.copies} segmentation(s) of each row ({len(examples)} examples, "
          f"{pieces_per_prompt(examples):.2f} prompt tokens on average)")
    print_medians(runs)
    if args.json:
        args.json.write_text(json.dumps({"p": args.p, "copies": args.copies, "on": args.on,
                                         "seeds": args.seeds, "runs": runs}, indent=1))


if __name__ == "__main__":
    main()
