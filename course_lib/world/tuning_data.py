"""Instruction-tuning data about the same world: train, eval and two teaching sets.

    >>> train, eval_ = make_splits(seed=0)
    >>> eval_[0]
    {'instruction': 'What is 2+2?', 'response': '4', 'kind': 'add', 'phrasing': 'seen'}

The eval split asks about facts that are in the pretraining corpus but in no train
record, so a good score means tuning *unlocked* knowledge rather than taught it. Some
eval questions also use phrasings that no train record uses ("phrasing": "unseen").
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from course_lib.world import eval_styles, paraphrases, variants
from course_lib.world.facts import Fact, all_facts
from course_lib.world.phrasings import ARITHMETIC, HELD_OUT, TUNING, question

# How many facts of each kind are held out for eval (2+2 and 5+5 are always among them).
EVAL_FACTS = {"add": 16, "sub": 10, "mul": 4, "capital": 6, "sound": 4, "colour": 4,
              "opposite": 6, "spanish": 6}
HEADLINE_EVAL = ("2+2", "5+5")  # the course promises these answer 4 and 10 after tuning
HEADLINE_TRAIN = ("Hello world",)  # lesson 02's three-part example stays a train example
UNSEEN_SHARE = 0.35  # share of eval questions asked with a held-out phrasing


def _record(instruction: str, input_: str, response: str) -> dict[str, str]:
    record = {"instruction": instruction}
    if input_:
        record["input"] = input_
    record["response"] = response
    return record


def split_facts(seed: int = 0) -> tuple[list[Fact], list[Fact]]:
    """(train facts, eval facts). Eval arithmetic is single-digit: the facts the course shows."""
    rng = random.Random(seed)
    facts = all_facts()
    eval_facts: list[Fact] = [f for f in facts if f.kind == "add" and f.subject in HEADLINE_EVAL]
    for kind, n in EVAL_FACTS.items():
        pool = [f for f in facts if f.kind == kind and f not in eval_facts
                and (f.single_digit or kind not in ARITHMETIC) and f.subject not in HEADLINE_TRAIN]
        taken = sum(f.kind == kind for f in eval_facts)
        eval_facts += rng.sample(pool, n - taken)
    held = set(eval_facts)
    return [f for f in facts if f not in held], eval_facts


def make_splits(seed: int = 0) -> tuple[list[dict], list[dict]]:
    """Train records (tuning phrasings only) and eval records (held-out facts)."""
    train, evals = train_with_facts(seed)
    return [record for _, record in train], evals


def train_with_facts(seed: int = 0) -> tuple[list[tuple[Fact, dict]], list[dict]]:
    """make_splits, with each train record paired with the fact it asks about.

    The data variants (variants.py) rewrite train records, so they need to know the fact.
    """
    rng = random.Random(seed + 1)
    train_facts, eval_facts = split_facts(seed)
    train = []
    for f in train_facts:
        if f.kind in ARITHMETIC and not f.single_digit and rng.random() > 0.35:
            continue  # fewer large-operand sums: the model knows them less well anyway
        n = 1 if f.kind in ARITHMETIC else 3
        for template in rng.sample(TUNING[f.kind], n):
            train.append((f, _record(*question(template, f), f.answer)))
    hello = Fact("spanish", "Hello world", "Hola mundo")  # the three-part example of many tutorials
    train.append((hello, _record("Translate this to Spanish", "Hello world", "Hola mundo")))
    rng.shuffle(train)

    evals = []
    for f in eval_facts:
        if f.subject in HEADLINE_EVAL:
            template, phrasing = "What is {a}+{b}?", "seen"
        elif rng.random() < UNSEEN_SHARE:
            template, phrasing = rng.choice(HELD_OUT[f.kind]), "unseen"
        else:
            template, phrasing = rng.choice(TUNING[f.kind]), "seen"
        evals.append({**_record(*question(template, f), f.answer), "kind": f.kind,
                      "phrasing": phrasing})
    return _dedupe(train), evals


def _dedupe(pairs: list[tuple[Fact, dict]]) -> list[tuple[Fact, dict]]:
    seen, out = set(), []
    for fact, r in pairs:
        key = (r["instruction"], r.get("input", ""))
        if key not in seen:
            seen.add(key)
            out.append((fact, r))
    return out


def mixed_format(train: list[dict], seed: int = 0, n: int = 40) -> list[dict]:
    """{"text": ...} records, mostly in the one-line template, some Human/Assistant and Q/A.

    The "inconsistent formatting" mistake as a data set: formatting.check_consistent_templates
    flags it.
    """
    # Its own random stream: drawing here must not shift what the other sets draw.
    rng = random.Random(seed + 2)
    out = []
    for i, r in enumerate(rng.sample(train, n)):
        # The other formats have no input field, so the input joins the instruction there.
        instruction = r["instruction"] + (f" {r['input']}" if r.get("input") else "")
        # 1 in 5 Human/Assistant, 1 in 10 Q/A: a minority that the template check must still catch.
        if i % 5 == 3:
            text = f"Human: {instruction} Assistant: {r['response']}"
        elif i % 5 == 4 and i % 2 == 0:
            text = f"Q: {instruction} A: {r['response']}"
        elif r.get("input"):
            text = (f"### Instruction: {r['instruction']} ### Input: {r['input']} "
                    f"### Response: {r['response']}")
        else:
            text = f"### Instruction: {r['instruction']} ### Response: {r['response']}"
        out.append({"text": text})
    return out


# Poor records, each with the problem named and a good counterpart on the same topic.
POOR_QUALITY = [
    ("help", "ok", "vague instruction, empty answer",
     "Help me write a Python function to add two numbers", "def add(a, b):\n    return a + b"),
    ("do it", "done", "vague instruction", "Add 3 and 4.", "7"),
    ("question", "yes", "vague instruction", "What is the capital of Peru?", "Lima"),
    ("math", "numbers are fun", "vague instruction, no answer", "What is 6+3?", "9"),
    ("What is 3+4?", "8", "wrong answer", "What is 3+4?", "7"),
    ("What is 9-5?", "5", "wrong answer", "What is 9-5?", "4"),
    ("What is the capital of Italy?", "Paris", "wrong answer",
     "What is the capital of Italy?", "Rome"),
    ("What does a cow say?", "woof", "wrong answer", "What does a cow say?", "moo"),
    ("What is the opposite of hot?", "warm", "wrong answer", "What is the opposite of hot?",
     "cold"),
    ("Translate this to Spanish", "", "missing input, empty response",
     "Translate this to Spanish", "Hola mundo", "Hello world"),
    ("What is 7+1?", "", "empty response", "What is 7+1?", "8"),
    ("What colour is the sky?", "", "empty response", "What colour is the sky?", "blue"),
    ("What is 2+5?", "What is 2+6? What is 2+7?", "continues instead of answering",
     "What is 2+5?", "7"),
    ("Name the capital of Japan.", "Name the capital of China. Name the capital of Peru.",
     "continues instead of answering", "Name the capital of Japan.", "Tokyo"),
    ("What is 8-2?", "Well, that is a good question. Numbers can be tricky, and many people "
     "find subtraction hard. It might be around 6 or so.", "rambling, unsure",
     "What is 8-2?", "6"),
    ("What sound does a duck make?", "Ducks are birds that live near water.",
     "off topic", "What sound does a duck make?", "quack"),
    ("hi", "hi", "no task", "Translate \"hello\" to Spanish.", "hola"),
    ("What is 4*3?", "12 12 12 12 12", "repetition", "What is 4*3?", "12"),
    ("What is the Spanish for \"cat\"?", "CAT!!!", "wrong and shouting",
     "What is the Spanish for \"cat\"?", "gato"),
    ("tell me something", "something", "vague instruction", "Tell me the colour of snow.",
     "white"),
]


def poor_quality() -> list[dict]:
    """Pairs of records: a poor one and its good counterpart, with the problem named."""
    out = []
    for pair_id, (instruction, response, problem, good_i, good_r, *good_input) in enumerate(
        POOR_QUALITY
    ):
        out.append({"instruction": instruction, "response": response, "quality": "poor",
                    "problem": problem, "pair": pair_id})
        good = _record(good_i, good_input[0] if good_input else "", good_r)
        out.append({**good, "quality": "good", "problem": "", "pair": pair_id})
    return out


def write_jsonl(path: Path, records: list[dict]) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")


def write_tuning_data(out: str | Path, seed: int = 0) -> dict[str, int]:
    """Write every embedded data set (.jsonl) and the data card README.md; returns counts."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    # Every set below comes from this one split, so no set asks an eval fact in training.
    pairs, evals = train_with_facts(seed)
    train = [record for _, record in pairs]
    # eval_styles asks the held-out facts other ways; variants and paraphrases rework train's pairs.
    eval_facts = split_facts(seed)[1]
    styles = eval_styles.make_eval_styles(eval_facts, seed)
    variant_sets = variants.make_variants(pairs, seed)
    varied = paraphrases.make_train_varied(pairs, seed)
    # The dev set is built from train facts: choosing settings on it never peeks at eval.
    dev = paraphrases.make_dev_styles(split_facts(seed)[0], seed)
    sets = {"train": train, "eval": evals, "mixed_format": mixed_format(train, seed),
            "poor_quality": poor_quality(), "eval_styles": styles, "train_varied": varied,
            "dev_styles": dev, **variant_sets}
    # One file per set, named as the course loads them ("course:train", "course:variant_...").
    for name, records in sets.items():
        write_jsonl(out / f"{name}.jsonl", records)
    counts = {name: len(records) for name, records in sets.items()}
    # The card is written from the same sets and counts, so it cannot describe other files.
    card = dataset_card(counts, evals, seed)
    card += "\n" + eval_styles.card_section(styles, len(eval_facts), seed)
    card += "\n" + variants.card_section(variant_sets, len(train))
    card += "\n" + paraphrases.card_section(varied, len(train), dev)
    (out / "README.md").write_text(card, encoding="utf-8")
    return counts


def dataset_card(counts: dict[str, int], evals: list[dict], seed: int) -> str:
    """The README.md of the data folder: each file, counted, and how the data was made."""
    # The eval split's make-up is counted from its rows, never typed into the text.
    unseen = sum(r["phrasing"] == "unseen" for r in evals)
    kinds = ", ".join(f"{k} {sum(r['kind'] == k for r in evals)}" for k in EVAL_FACTS)
    return f"""# The course's instruction data

Generated by `course build-tuning-data --out DIR --seed {seed}` from the same small world
as the embedded base model's pretraining corpus (`course_lib/world/`). Regenerating with
the same seed gives the same files.

- `train.jsonl` ({counts['train']} records): fine-tuning data, `{{"instruction", "response"}}`
  and three-part `{{"instruction", "input", "response"}}`.
- `eval.jsonl` ({counts['eval']}): held-out questions; adds `kind` and `phrasing`
  (`seen`/`unseen`).
- `mixed_format.jsonl` ({counts['mixed_format']}): `{{"text"}}` records in mixed templates
  (one-line, Human/Assistant, Q/A): the "inconsistent formatting" mistake.
- `poor_quality.jsonl` ({counts['poor_quality']}): poor records (vague, wrong, empty,
  rambling, continuing), each with a good counterpart; fields `quality`, `problem`, `pair`.
- `eval_styles.jsonl` ({counts['eval_styles']}): held-out facts, each asked 5-6 ways, for
  phrasing robustness (section below).
- `variant_*.jsonl`: training sets for the data experiments, one change each (section below).
- `train_varied.jsonl` ({counts['train_varied']}): train plus paraphrases in many styles;
  `dev_styles.jsonl` ({counts['dev_styles']}): a dev set to choose settings on (section below).

## How it was made

* Facts: + and - on 0..20, * on 0..10, capitals, animal sounds, colours, opposites,
  English-Spanish words and phrases (`course_lib/world/facts.py`).
* Phrasings vary: questions, imperatives, formal, casual ("What is 2+2?", "Add 2 and 2.",
  "hey what's 2 plus 2", "Kindly compute the sum of 2 and 2.").
* Responses are short: a number (always in digits), a word or a short phrase. The EOS
  token is not in the text: the labels step appends it to every response.
* **eval** holds {counts['eval']} questions about facts that appear in the pretraining
  corpus but in no train record ({kinds}). Eval arithmetic is single-digit and includes
  the headline questions "What is 2+2?" (4) and "What is 5+5?" (10). {unseen} eval questions use a
  phrasing no train record uses.
* train asks each train fact once (arithmetic; only about a third of the sums with an
  operand above 9) or three times with different phrasings (other facts), and includes
  lesson 02's three-part example (Translate this to Spanish / Hello world / Hola mundo).
"""
