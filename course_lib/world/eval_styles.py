"""A held-out set for phrasing robustness: each eval fact asked 5-6 ways (`course:eval_styles`).

    >>> from course_lib.world.tuning_data import split_facts
    >>> rows = make_eval_styles(split_facts(seed=0)[1], seed=0)
    >>> {k: rows[0][k] for k in ("instruction", "response", "group", "style")}
    {'instruction': 'What is 2+2?', 'response': '4', 'group': 'add:2+2', 'style': 'bare'}
    >>> [r["style"] for r in rows if r["group"] == "add:2+2"]
    ['bare', 'tuning', 'filler', 'embedded', 'polite', 'casual']

A *group* is one fact; its rows differ only in phrasing, so a model that knows the fact
should give the same answer to every row of the group. A *style* is how a row is phrased.
`seen` styles are phrased like the tuning data ("tuning": one of its phrasings verbatim;
"bare": "What is 5+5?", arithmetic only); the UNSEEN styles are surface forms no train
record uses (tests/world/ checks that against every train fact).
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from course_lib.world.facts import Fact
from course_lib.world.phrasings import ARITHMETIC, TUNING, question

# The bare form instruction-tuning tutorials show ("What is 5+5?"), one slice of the arithmetic.
BARE = {"add": "What is {a}+{b}?", "sub": "What is {a}-{b}?", "mul": "What is {a}*{b}?"}

# Surface forms the tuning data never uses. '|' separates the instruction from the input.
# "misspelt" misspells the template's words only, never the fact (the answer stays defined).
UNSEEN: dict[str, dict[str, str]] = {
    "casual": {
        "add": "yo, {a} plus {b} makes what?", "sub": "yo, {a} take away {b} makes what?",
        "mul": "yo, {a} times {b} makes what?", "capital": "yo, which city is {s}'s capital?",
        "sound": "yo, {an} {s} goes what?", "colour": "yo, {s} is what colour?",
        "opposite": "yo, opposite of {s}?", "spanish": 'yo, "{s}" in spanish?',
    },
    "polite": {
        "add": "Would you please let me know the sum of {a} and {b}? Thank you.",
        "sub": "Would you please let me know what {a} minus {b} is? Thank you.",
        "mul": "Would you please let me know the product of {a} and {b}? Thank you.",
        "capital": "Would you please let me know the capital of {s}? Thank you.",
        "sound": "Would you please let me know what sound {an} {s} makes? Thank you.",
        "colour": "Would you please let me know what colour {s} is? Thank you.",
        "opposite": "Would you please let me know the opposite of {s}? Thank you.",
        "spanish": 'Would you please let me know how to say "{s}" in Spanish? Thank you.',
    },
    "imperative": {
        "add": "Work out {a} plus {b}.", "sub": "Work out {a} minus {b}.",
        "mul": "Work out {a} times {b}.", "capital": "Write down the capital of {s}.",
        "sound": "Write down the sound of {an} {s}.", "colour": "Write down the colour of {s}.",
        "opposite": "Write down the opposite of {s}.", "spanish": "Write this in Spanish.|{s}",
    },
    "filler": {
        "add": "Um, so, like, what is {a} plus {b}, basically?",
        "sub": "Um, so, like, what is {a} minus {b}, basically?",
        "mul": "Um, so, like, what is {a} times {b}, basically?",
        "capital": "Um, so, like, what is the capital of {s}, basically?",
        "sound": "Um, so, like, what sound does {an} {s} make, basically?",
        "colour": "Um, so, like, what colour is {s}, basically?",
        "opposite": "Um, so, like, what is the opposite of {s}, basically?",
        "spanish": 'Um, so, like, how do you say "{s}" in Spanish, basically?',
    },
    "misspelt": {
        "add": "Wht is {a} pluss {b}?", "sub": "Wht is {a} minnus {b}?",
        "mul": "Wht is {a} tims {b}?", "capital": "Wht is the captial of {s}?",
        "sound": "Wht sound dose {an} {s} mkae?", "colour": "Wht coulor is {s}?",
        "opposite": "Wht is the oposite of {s}?", "spanish": 'Hw do yuo say "{s}" in Spansih?',
    },
    "embedded": {
        "add": "My friend asked me what {a} plus {b} is, and I forgot.",
        "sub": "My friend asked me what {a} minus {b} is, and I forgot.",
        "mul": "My friend asked me what {a} times {b} is, and I forgot.",
        "capital": "My friend asked me what the capital of {s} is, and I forgot.",
        "sound": "My friend asked me what sound {an} {s} makes, and I forgot.",
        "colour": "My friend asked me what colour {s} is, and I forgot.",
        "opposite": "My friend asked me what the opposite of {s} is, and I forgot.",
        "spanish": 'My friend asked me how to say "{s}" in Spanish, and I forgot.',
    },
}
UNSEEN_PER_GROUP = 4  # of the 6 unseen styles; they rotate so each is used equally often

# Eval facts the embedded base model does not complete in *every* statement form that ends
# with the answer (phrasings.statement_prompts). Measured by tests/world/test_eval_styles.py,
# which fails if the model's answers change: those facts are left out, so a wrong answer in
# this set is about the phrasing, not about a fact the model never knew.
NOT_KNOWN_IN_STATEMENT_FORM = frozenset({"add:5+2", "mul:1*8"})


def style_facts(eval_facts: Sequence[Fact]) -> list[Fact]:
    """The eval facts (held out from train) that the base model knows in statement form."""
    return [f for f in eval_facts if f.key not in NOT_KNOWN_IN_STATEMENT_FORM]


def make_eval_styles(eval_facts: Sequence[Fact], seed: int = 0) -> list[dict]:
    """Rows grouped by fact: bare form (arithmetic), one tuning phrasing, 4 unseen styles.

    `eval_facts` are the facts held out from train (tuning_data.split_facts(seed)[1]).
    """
    rng = random.Random(f"eval_styles:{seed}")
    unseen = list(UNSEEN)
    rng.shuffle(unseen)
    rows: list[dict] = []
    for i, fact in enumerate(style_facts(eval_facts)):
        # Rotate: group i leaves out two styles, so every 3 groups use each style twice.
        left_out = {unseen[(2 * i) % 6], unseen[(2 * i + 1) % 6]}
        phrasings = [("bare", BARE[fact.kind], True)] if fact.kind in ARITHMETIC else []
        tuning = [t for t in TUNING[fact.kind] if t != BARE.get(fact.kind)]
        phrasings.append(("tuning", rng.choice(tuning), True))
        phrasings += [(s, UNSEEN[s][fact.kind], False) for s in unseen if s not in left_out]
        rows += [_row(fact, template, style, seen) for style, template, seen in phrasings]
    return rows


def _row(fact: Fact, template: str, style: str, seen: bool) -> dict:
    instruction, input_ = question(template, fact)
    row = {"instruction": instruction}
    if input_:
        row["input"] = input_
    return {**row, "response": fact.answer, "kind": fact.kind, "group": fact.key,
            "style": style, "seen": seen}


def card_section(rows: list[dict], n_eval_facts: int, seed: int) -> str:
    """The data card's section about eval_styles (counts and one example per style)."""
    lines = []
    # One real row per style, the first one: the card shows each style's shape, not a made-up one.
    for style in ["bare", "tuning", *UNSEEN]:
        mine = [r for r in rows if r["style"] == style]
        ex = mine[0]
        # The input is shown too: for some styles ("imperative" Spanish) the word to ask is there.
        asked = ex["instruction"] + (f" [input: {ex['input']}]" if ex.get("input") else "")
        seen = "seen" if ex["seen"] else "unseen"
        lines.append(f"  - `{style}` ({seen}, {len(mine)} rows): {asked}")
    # Groups, not eval facts: facts the base model does not know as statements were left out.
    groups = len({r["group"] for r in rows})
    n_facts = n_eval_facts
    return f"""## eval_styles: one fact, many phrasings

`eval_styles.jsonl` ({len(rows)} rows) asks each of {groups} held-out facts 5 or 6 ways, to
measure whether tuning generalises across phrasing. Fields: `instruction`, (`input`),
`response`, `kind`, `group` (the fact, e.g. `add:2+2`: same group, same answer), `style`
and `seen` (whether the tuning data uses that style). Every group has one phrasing taken
verbatim from the tuning data (`tuning`), arithmetic groups also the bare form tutorials show
(`bare`, "What is 5+5?"), and {UNSEEN_PER_GROUP} of the 6 unseen styles (rotating, so each
is used in two of every three groups). Unseen styles are surface forms that no train record
uses (checked against every train fact):

{chr(10).join(lines)}

* Facts: the eval facts (in no train record, like `eval.jsonl`), kept only if the embedded
  base model completes **every** statement form of the fact that ends with its answer
  ("2 + 2 =", "2 plus 2 is", "The sum of 2 and 2 is", ...; 3 to 6 forms per fact, greedy,
  8 new tokens, the answer must come first). Kept {groups} of {n_facts}; left out:
  {', '.join(sorted(NOT_KNOWN_IN_STATEMENT_FORM)) or 'none'}. With only the first statement
  form (the check `benchmarks/base_model_behaviour.py` reports) all {n_facts} pass.
  Re-measured by `python -m pytest tests/world/test_eval_styles.py -k statement`.
* No instruction (with its input) of this set appears in train.jsonl or in any variant
  below; regenerating with seed {seed} gives the same file.
"""
