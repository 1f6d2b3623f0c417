"""Does the default recipe generalise to phrasings it never saw? (issue 14, section 3)

    python -m benchmarks.recipe [--seeds 0 1 2] [--on eval_styles|dev] [--data SET]
                                [--steps N] [--lr X] [--freeze NAME ...] [--lora] [--json FILE]
                                [--set FIELD=VALUE ...] [--model tiny|DIR] [--attention-dropout P]
                                [--drop-random N DRAW] [--replay SHARE [--replay-block TOKENS]]

Without options it measures `train()`'s own defaults (what `course train` runs): for each
seed, fine-tune the embedded model, answer every row of `course:eval_styles` greedily (16
new tokens) and grade by exact match (evaluation.metrics). Prints `name: median` lines with
every seed's value:

    unseen_style_exact_match   rows in styles the tuning data never uses (seen == False)
    seen_style_exact_match     rows phrased like the tuning data
    statement_knowledge_ratio  tuned / base share of eval facts completed as statements
    tune_seconds               the Trainer's wall time (--threads, default 1)

`--on dev` grades on the dev set instead (world/paraphrases.make_dev_styles: train facts in
frames and typos no tuning set uses): settings are chosen there, eval_styles is for the
final choice only. `--on heldout` (round 14) grades the same dev rows but tunes without the
dev facts' own rows, so that, as in eval_styles, the answers can come from pretraining only.
The options override one default each, for the experiments.
"""

from __future__ import annotations

import argparse
import os

# Before torch loads: idle OpenMP threads sleep rather than spin (shared 2-core machines).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import json  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
from collections.abc import Sequence  # noqa: E402

import torch  # noqa: E402

from course_lib.evaluation.base_model import statement_knowledge  # noqa: E402
from course_lib.evaluation.generation import (  # noqa: E402
    GenerationSettings,
    generate_ids,
    prompts_for,
)
from course_lib.evaluation.metrics import exact_match  # noqa: E402
from course_lib.formatting.json_files import read_json_rows  # noqa: E402
from course_lib.formatting.records import EMBEDDED_DATA_DIR  # noqa: E402
from course_lib.loading import load_model_and_tokenizer  # noqa: E402
from course_lib.training.data import prepare_training_data  # noqa: E402
from course_lib.training.runner import train  # noqa: E402
from course_lib.training.settings import RECIPE  # noqa: E402
from course_lib.world.build import FULL_BUILD  # noqa: E402
from course_lib.world.corpus import generate_corpus  # noqa: E402
from course_lib.world.paraphrases import dev_facts, make_dev_styles  # noqa: E402
from course_lib.world.pretrain import pack_documents  # noqa: E402
from course_lib.world.tuning_data import split_facts, train_with_facts  # noqa: E402

GRADED_ON = ("eval_styles", "dev", "heldout")  # the choices of every round's --on


def eval_rows(on: str) -> list[dict]:
    """The graded rows, each with `style` and `seen` (dev rows: every style is unseen)."""
    if on == "eval_styles":
        return [row for _, row in read_json_rows(EMBEDDED_DATA_DIR / "eval_styles.jsonl")]
    rows = [{**r, "seen": False} for r in make_dev_styles(split_facts()[0])]
    if on == "heldout":  # like eval_styles: only facts the base model states correctly
        facts = held_facts()
        said = statement_knowledge(*load_model_and_tokenizer("tiny"), facts)
        known = {f.key for f, r in zip(facts, said, strict=True) if r["correct"]}
        rows = [r for r in rows if r["group"] in known]
    return rows


def held_facts() -> list:
    """The dev set's facts: train facts, asked by dev_styles, with no paraphrase in tuning."""
    return dev_facts(split_facts()[0])


def row_key(row: dict) -> tuple:
    """A tuning row as a set member: the same fields and values, the same key."""
    return tuple(sorted(row.items()))


def varied_rows() -> list[dict]:
    """course:train_varied, the recipe's tuning data, as rows."""
    return [row for _, row in read_json_rows(EMBEDDED_DATA_DIR / "train_varied.jsonl")]


def dev_fact_rows() -> set[tuple]:
    """The train rows of the dev facts (their only rows: they have no paraphrases)."""
    held = set(held_facts())
    return {row_key(r) for f, r in train_with_facts()[0] if f in held}


def tuning_for(on: str) -> dict:
    """train() keywords that grading `on` needs: `heldout` tunes on course:train_varied
    without the dev facts' own train rows."""
    if on != "heldout":
        return {}
    dropped = dev_fact_rows()
    rows = varied_rows()
    kept = [r for r in rows if row_key(r) not in dropped]
    if len(rows) - len(kept) != len(dropped):  # the world changed: say so, do not guess
        raise ValueError(f"{len(dropped)} dev-fact rows to drop, {len(rows) - len(kept)} found")
    return {"data": kept}


def without_random_rows(n: int, draw: int, rows: list[dict] | None = None) -> dict:
    """train() keywords for `rows` (default course:train_varied) less `n` rows of other facts
    than the dev set's, drawn at random (seeded by `draw`): a null arm, to see how far dropping
    as many rows as `heldout` does moves the figures by chance alone (round 14), or another
    draw of the heldout data (round 16)."""
    rows, dev = rows or varied_rows(), dev_fact_rows()
    pool = [i for i, r in enumerate(rows) if row_key(r) not in dev]
    gone = set(random.Random(f"null:{draw}").sample(pool, n))
    return {"data": [r for i, r in enumerate(rows) if i not in gone]}


def with_replay(tuning: dict, share: float, block: int, tokenizer) -> dict:
    """train() keywords whose data is the tuning rows (default course:train_varied), tokenized
    as train() labels them, plus `share` x as many `block`-token pieces of the pretraining
    corpus with every token trained: replaying general data to keep knowledge (round 17)."""
    ready = prepare_training_data(tuning.get("data", RECIPE.data), tokenizer, progress=False)
    # The corpus the embedded model was pretrained on, packed as the build packed it.
    docs = generate_corpus(FULL_BUILD.seed, FULL_BUILD.corpus_chars)
    blocks = pack_documents(docs, tokenizer, block).blocks.tolist()
    drawn = random.Random(f"replay:{block}").sample(blocks, round(share * len(ready.examples)))
    return {"data": ready.examples + [{"input_ids": b, "attention_mask": [1] * block,
                                       "labels": b} for b in drawn]}


def answers(model, tokenizer, rows: Sequence[dict], batch: int = 64) -> list[str]:
    """Greedy responses (16 new tokens) to each row, in the course template, batched."""
    prompts = prompts_for([r["instruction"] for r in rows], [r.get("input", "") for r in rows])
    settings = GenerationSettings(max_new_tokens=16)
    out = []
    for i in range(0, len(prompts), batch):
        ids = generate_ids(model, tokenizer, prompts[i:i + batch], settings)
        out += [tokenizer.decode(row, skip_special_tokens=True) for row in ids]
    return out


def knowledge(model, tokenizer, show: bool = False) -> float:
    """Share of eval facts the model completes as statements ("2 + 2 =" -> 4)."""
    rows = statement_knowledge(model, tokenizer, split_facts()[1])
    for r in rows if show else ():
        if not r["correct"]:
            print(f"  [statement] {r['prompt']!r} -> {r['output']!r} (want {r['answer']!r})")
    return sum(r["correct"] for r in rows) / len(rows)


def run(seed: int, rows: list[dict], base_knowledge: float, settings: dict,
        show: int = 0, threads: int = 1, base: str = "tiny", dropout: float = 0.0) -> dict:
    """One fine-tune of the `base` model with `settings` (train() keywords), graded.
    dropout: on the attention probabilities while tuning (the models have none; round 9)."""
    model, tokenizer = base, None
    if dropout:
        model, tokenizer = load_model_and_tokenizer(base)
        model.config.attention_dropout = dropout  # so that the config says what it trains with
        for module in model.modules():  # every attention layer reads its own copy
            if hasattr(module, "attention_dropout"):
                module.attention_dropout = dropout
    result = train(model, tokenizer=tokenizer, seed=seed, eval_data=None, progress=False,
                   verbose=False, num_threads=threads, logging_steps=50, **settings)
    result.model.eval()  # no dropout while answering
    return {"tune_seconds": result.history.wall_time_s,
            **graded(result.model, result.tokenizer, rows, base_knowledge, show)}


def graded(model, tokenizer, rows: list[dict], base_knowledge: float, show: int = 0,
           said: list[str] | None = None) -> dict:
    """The statement ratio, and exact match on unseen styles, seen styles and each style.
    said: the model's answers to `rows`, when the caller has them already."""
    said = said if said is not None else answers(model, tokenizer, rows)
    right = [exact_match(a, r["response"]) for a, r in zip(said, rows, strict=True)]
    for style in dict.fromkeys(r["style"] for r in rows) if show else ():
        wrong = [(r, a) for r, a, g in zip(rows, said, right, strict=True)
                 if r["style"] == style and not g]
        for r, a in wrong[:show]:  # what the errors look like, to read, not to tune on
            print(f"  [{style}] {r['instruction']} {r.get('input', '')!r} -> {a!r} "
                  f"(want {r['response']!r})")
    out = {"statement_knowledge_ratio": knowledge(model, tokenizer, bool(show)) / base_knowledge}
    for name, keep in [("unseen_style_exact_match", lambda r: not r["seen"]),
                       ("seen_style_exact_match", lambda r: r["seen"])] + [
            (f"style_{s}", lambda r, s=s: r["style"] == s)
            for s in dict.fromkeys(r["style"] for r in rows)]:
        mine = [g for g, r in zip(right, rows, strict=True) if keep(r)]
        if mine:
            out[name] = sum(mine) / len(mine)
    return out


def settings_from(args: argparse.Namespace) -> dict:
    """train() keywords for the options given; none given means train()'s defaults."""
    settings = {"data": args.data} if args.data else {}
    if args.steps is not None:
        settings["max_steps"] = args.steps
    if args.lr is not None:
        settings["learning_rate"] = args.lr
    if args.batch_size is not None:
        settings["batch_size"] = args.batch_size
    if args.freeze:  # "--freeze none": train every weight
        settings["freeze"] = () if args.freeze == ["none"] else tuple(args.freeze)
    if args.lora:
        settings["lora"] = True
    for pair in args.set:  # any other TrainingArguments field, e.g. --set neftune_noise_alpha=5
        name, value = pair.split("=", 1)
        try:  # numbers, true/false, lists as JSON; anything else is a string
            settings[name] = json.loads(value)
        except json.JSONDecodeError:
            settings[name] = value
    return settings


def print_medians(runs: list[dict], names: Sequence[str] | None = None, prefix: str = "") -> None:
    """`prefix + name: median (per seed ...)` for each figure of `runs` (one dict a seed)."""
    for name in names or runs[0]:
        values = [r[name] for r in runs]
        print(f"{prefix}{name}: {statistics.median(values):.3f} "
              f"(per seed {' '.join(f'{v:.3f}' for v in values)})", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--on", choices=GRADED_ON, default="eval_styles")
    parser.add_argument("--data", default=None, help="tuning set (default: train()'s)")
    parser.add_argument("--model", default="tiny",
                        help="base model: 'tiny' or a folder (e.g. a `course build-base-model`)")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--lr", type=float, default=None)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--freeze", nargs="+", default=[], metavar="NAME",
                        help="pieces of parameter names to keep frozen; 'none': train all")
    parser.add_argument("--lora", action="store_true")
    parser.add_argument("--attention-dropout", type=float, default=0.0, metavar="P",
                        help="dropout on attention probabilities while tuning (default none)")
    parser.add_argument("--set", nargs="+", default=[], metavar="FIELD=VALUE",
                        help="other TrainingArguments fields, e.g. neftune_noise_alpha=5")
    parser.add_argument("--drop-random", type=int, nargs=2, default=None, metavar=("N", "DRAW"),
                        help="tune without N more rows, drawn at random with seed DRAW from the "
                             "tuning data (a null arm: chance alone; rounds 14 and 16)")
    parser.add_argument("--replay", type=float, default=None, metavar="SHARE",
                        help="add SHARE x the tuning rows of pretraining-corpus pieces, every "
                             "token trained (round 17; 0: the tuning rows alone, tokenized)")
    parser.add_argument("--replay-block", type=int, default=16, metavar="TOKENS")
    parser.add_argument("--json", default=None, help="also write every seed's numbers here")
    parser.add_argument("--show", type=int, default=0, help="wrong answers to print per style")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads while training (1: shared machines; 2: the budget)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    rows = eval_rows(args.on)
    base_model, base_tokenizer = load_model_and_tokenizer(args.model)
    base = knowledge(base_model, base_tokenizer)
    settings = settings_from(args)
    if args.on == "heldout" and "data" in settings:
        parser.error("--on heldout chooses the tuning data itself; leave out --data")
    tuning = tuning_for(args.on)
    if args.drop_random:  # on heldout: a draw of its data; elsewhere: of course:train_varied
        tuning = without_random_rows(*args.drop_random, tuning.get("data"))
    if args.replay is not None:
        tuning = with_replay({**tuning, **settings}, args.replay, args.replay_block,
                             base_tokenizer)
        settings.pop("data", None)
    runs = [run(seed, rows, base, {**tuning, **settings}, args.show if i == 0 else 0,
                args.threads, args.model, args.attention_dropout)
            for i, seed in enumerate(args.seeds)]
    dropout = f", attention dropout {args.attention_dropout}" if args.attention_dropout else ""
    held = f", tuned on {len(tuning['data'])} rows" if tuning else ""
    if args.replay is not None:
        held += f" (replay {args.replay} of {args.replay_block}-token pieces)"
    print(f"model: {args.model}, on: {args.on} ({len(rows)} rows{held}), seeds: {args.seeds}, "
          f"settings: {settings or 'defaults'}{dropout}")
    print(f"base_statement_knowledge: {base:.3f}")
    print_medians(runs)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"settings": settings, "on": args.on, "seeds": args.seeds,
                       "runs": runs}, fh, indent=1)


if __name__ == "__main__":
    main()
