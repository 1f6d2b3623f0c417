"""Round 4 of the recipe search (benchmarks/recipe_results.md): a base model whose corpus also
names the operations in everyday words and has typos as people type. An experiment, not the
course's world: it builds a model into a folder for `benchmarks.recipe --model DIR`.

    python -m benchmarks.world_vocabulary --seed 0 --out runs/c1-seed0     # ~25 min, 1 thread
    python -m benchmarks.recipe --model runs/c1-seed0 [--on dev]

What differs from `course build-base-model` (FULL_BUILD, the given seed for corpus, weights
and data order):
* arithmetic statements not in the two symbol forms may also use EVERYDAY's words ("7 take
  away 3 is 4"). They stay out of phrasings.STATEMENTS, so the knowledge benchmark and the
  eval set's filter keep their definitions;
* each statement and question of the corpus gets one misspelt template word with chance
  WEB_TYPO_SHARE (paraphrases' swap, drop or double; words of the eval phrasings are *not*
  avoided, as web text does not avoid them);
* the committed tokenizer is reused, so every token the lessons show would stay the same.
"""

from __future__ import annotations

import argparse
import json
import random
from dataclasses import replace

import torch
from transformers import AutoTokenizer

from course_lib.loading import EMBEDDED_MODEL_DIR
from course_lib.world import build, corpus
from course_lib.world.facts import Fact
from course_lib.world.paraphrases import TYPO_WORD, _misspell
from course_lib.world.phrasings import ARITHMETIC, HELD_OUT, STATEMENTS, TUNING, fill, question

# The words a school uses for the operations, beside the corpus's own "plus", "minus", "times".
EVERYDAY = {
    "add": ["{a} add {b} is {c}", "{a} added to {b} makes {c}", "{a} more than {b} is {c}",
            "The total of {a} and {b} is {c}"],
    "sub": ["{a} take away {b} is {c}", "{a} take away {b} leaves {c}",
            "{a} subtract {b} is {c}", "{b} less than {a} is {c}"],
    "mul": ["{a} multiplied by {b} is {c}", "{a} lots of {b} make {c}",
            "{a} groups of {b} make {c}"],
}
WEB_TYPO_SHARE = 0.05


def web_typo(template: str, rng: random.Random) -> str:
    """With chance WEB_TYPO_SHARE, one word of the template's own text misspelt."""
    words = list(TYPO_WORD.finditer(template))
    if not words or rng.random() >= WEB_TYPO_SHARE:
        return template
    word = rng.choice(words)
    return template[:word.start()] + _misspell(word.group(0), rng) + template[word.end():]


def statement(rng: random.Random, fact: Fact) -> str:
    """corpus._statement, with EVERYDAY's forms among the non-symbol ones, and typos."""
    forms = STATEMENTS[fact.kind]
    if fact.kind in ARITHMETIC and rng.random() < 0.6:
        forms = forms[:2]
    elif fact.kind in ARITHMETIC:
        forms = forms + EVERYDAY[fact.kind]
    return fill(web_typo(rng.choice(forms), rng), fact) + "."


def asked(rng: random.Random, fact: Fact) -> str:
    """corpus._question, with typos."""
    template = web_typo(rng.choice(TUNING[fact.kind] + HELD_OUT[fact.kind]), rng)
    instruction, input_ = question(template, fact)
    return f"{instruction.rstrip('.')}: {input_}" if input_ else instruction


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    torch.set_num_threads(1)  # two builds side by side on 2 cores
    # The experiment swaps two of the corpus's sentence makers and the tokenizer step.
    corpus._statement, corpus._question = statement, asked
    committed = AutoTokenizer.from_pretrained(EMBEDDED_MODEL_DIR)
    build.train_tokenizer = lambda docs, vocab_size: committed
    settings = replace(build.FULL_BUILD, name=f"world-vocabulary-seed{args.seed}",
                       seed=args.seed, train=replace(build.FULL_BUILD.train, seed=args.seed))
    print(json.dumps(build.build_base_model(args.out, settings), indent=1, default=str))


if __name__ == "__main__":
    main()
