"""Training-set variants for the data experiments: each changes one thing against a baseline.

    >>> from course_lib.world.tuning_data import train_with_facts
    >>> sets = make_variants(train_with_facts(seed=0)[0], seed=0)
    >>> sorted(sets)[:3]
    ['variant_balance_arithmetic', 'variant_balance_mixed', 'variant_format_mixed']
    >>> sets["variant_style_fixed"][0]["response"]
    'The answer is 24.'

Every variant is built from the train records (and the facts they ask about), so no
variant holds an eval question. Each function is a deterministic function of its
arguments: the same seed and parameters give the same rows.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence

from course_lib.formatting.templates import ONE_LINE, format_text
from course_lib.world.facts import Fact
from course_lib.world.phrasings import ARITHMETIC, STATEMENTS, TUNING, fill, question

# (fact, train record) in train order, as tuning_data.train_with_facts(seed)[0] gives them
Pairs = Sequence[tuple[Fact, dict]]

POOR_SHARES = (0.0, 0.2, 0.5)  # the poor-quality experiment's three arms
QUALITY_N = 200  # clean rows of the quality-vs-quantity baseline (its variant has 4N rows)
FORMAT_SHARE = 0.5  # share of rows rewritten as text in another template
TEMPLATE_NAMES = ("one_line", "human_assistant", "qa")  # ... in these, a third each
ANSWER_IS = "The answer is {x}."


def _plain(record: dict) -> dict:
    """instruction / [input] / response only, in that order."""
    keep = ("instruction", "input", "response")
    return {k: record[k] for k in keep if k in record}


# --- inconsistent formatting ---------------------------------------------------------------
def _as_text(record: dict, template: str) -> dict:
    """One record as {"text"} in the one-line, Human/Assistant or Q/A template."""
    if template == "one_line":
        return {"text": format_text(record, ONE_LINE)}
    # Human/Assistant and Q/A have no input slot: the input follows the instruction.
    asked = record["instruction"] + (f" {record['input']}" if record.get("input") else "")
    user, bot = ("Human:", "Assistant:") if template == "human_assistant" else ("Q:", "A:")
    return {"text": f"{user} {asked} {bot} {record['response']}"}


def inconsistent_formatting(pairs: Pairs, share: float = FORMAT_SHARE, seed: int = 0) -> list:
    """The train records, `share` of them rewritten as text in 3 templates (a third each)."""
    rng = random.Random(f"format:{seed}")
    chosen = rng.sample(range(len(pairs)), round(share * len(pairs)))
    as_text = {i: TEMPLATE_NAMES[n % 3] for n, i in enumerate(chosen)}
    return [_as_text(r, as_text[i]) if i in as_text else _plain(r)
            for i, (_, r) in enumerate(pairs)]


# --- poor-quality rows -----------------------------------------------------------------------
VAGUE = ("help", "do it", "question", "math", "tell me something", "answer this")
NON_ANSWERS = ("ok", "sure", "done", "maybe", "dunno")  # no fact has one of these as answer
RAMBLE = "Well, that is a good question. Many people find this hard. It might be {x} or so."
POOR_PROBLEMS = ("vague instruction", "non-answer", "wrong answer", "rambling", "continues")


def _wrong_answer(fact: Fact, pairs: Pairs, rng: random.Random) -> str:
    if fact.kind in ARITHMETIC:  # a near miss, never negative
        answer = int(fact.answer)
        return str(rng.choice([answer + d for d in (-2, -1, 1, 2) if answer + d >= 0]))
    others = sorted({f.answer for f, _ in pairs if f.kind == fact.kind} - {fact.answer})
    return rng.choice(others)


def _continuation(fact: Fact, pairs: Pairs, rng: random.Random) -> str:
    """Two more questions of the same kind (about train facts), instead of an answer."""
    # Only forms that end with '?': a continuation then always holds two question marks.
    forms = [t for t in TUNING[fact.kind] if t.endswith("?")]
    facts = sorted({f for f, _ in pairs if f.kind == fact.kind and f != fact},
                   key=lambda f: f.key)
    return " ".join(question(rng.choice(forms), f)[0] for f in rng.sample(facts, 2))


def poor_version(fact: Fact, record: dict, pairs: Pairs, rng: random.Random) -> dict:
    """A poor row made from a train row: one of POOR_PROBLEMS, named in `problem`."""
    problem = rng.choice(POOR_PROBLEMS)
    row = _plain(record)
    if problem == "vague instruction":
        row = {"instruction": rng.choice(VAGUE), "response": rng.choice(NON_ANSWERS)}
    elif problem == "non-answer":
        row["response"] = rng.choice(NON_ANSWERS)
    elif problem == "wrong answer":
        row["response"] = _wrong_answer(fact, pairs, rng)
    elif problem == "rambling":
        row["response"] = RAMBLE.format(x=fact.answer)
    else:
        row["response"] = _continuation(fact, pairs, rng)
    return {**row, "kind": fact.kind, "poor": True, "problem": problem}


def _clean(fact: Fact, record: dict) -> dict:
    return {**_plain(record), "kind": fact.kind, "poor": False, "problem": ""}


def poor_versions(pairs: Pairs, seed: int = 0) -> list[dict]:
    """One poor version per train row, fixed once so every share reuses the same ones."""
    rng = random.Random(f"poor:{seed}")
    return [poor_version(f, r, pairs, rng) for f, r in pairs]


def with_poor_rows(pairs: Pairs, share: float, seed: int = 0) -> list[dict]:
    """The train rows with `share` of them replaced by poor ones (marked `poor`).

    The replaced rows of a smaller share are among those of a larger one, replaced the same
    way: between arms only the number of poor rows changes.
    """
    order = random.Random(f"poor-order:{seed}").sample(range(len(pairs)), len(pairs))
    replaced = set(order[: round(share * len(pairs))])
    poor = poor_versions(pairs, seed)
    return [poor[i] if i in replaced else _clean(f, r) for i, (f, r) in enumerate(pairs)]


def copies_poor_style(response: str) -> str | None:
    """Which poor style a model's response copies, or None (for 'how often it copies them').

    Wrong answers are not a *style*: grade those by exact match. A continuation is two
    or more question marks (one can be an answer: "Como estas?").

    >>> [copies_poor_style(t) for t in (" ok", "Well, it is 4.", "What is 1+2? What is 3+1?")]
    ['non-answer', 'rambling', 'continues']
    >>> copies_poor_style("4"), copies_poor_style("Como estas?")
    (None, None)
    """
    text = response.strip()
    if text.lower().rstrip(".!") in NON_ANSWERS:
        return "non-answer"
    if text.startswith("Well,"):
        return "rambling"
    if text.count("?") >= 2:
        return "continues"
    return None


# --- quality vs quantity -----------------------------------------------------------------
def quality_vs_quantity(pairs: Pairs, n: int = QUALITY_N, seed: int = 0) -> tuple[list, list]:
    """(N clean rows, 4N rows: those N, N more clean ones and 2N poor ones), both shuffled."""
    rng = random.Random(f"quality:{seed}")
    picked = rng.sample(range(len(pairs)), 4 * n)
    poor = poor_versions(pairs, seed)
    clean = [_clean(*pairs[i]) for i in picked[:n]]
    big = clean + [_clean(*pairs[i]) for i in picked[n:2 * n]]
    big += [poor[i] for i in picked[2 * n:]]  # poor rows come from rows not used clean
    rng.shuffle(big)
    return clean, big


# --- prompt variability, response style, balance --------------------------------------------
def one_phrasing(pairs: Pairs) -> list[dict]:
    """The train rows, every instruction rewritten in its kind's first tuning phrasing."""
    out = []
    for fact, record in pairs:
        instruction, input_ = question(TUNING[fact.kind][0], fact)
        row = {"instruction": instruction, **({"input": input_} if input_ else {})}
        out.append({**row, "response": record["response"], "kind": fact.kind})
    return out


def _sentence(fact: Fact) -> str:
    """The fact stated in its kind's first statement form: '2 + 2 = 4.'"""
    return fill(STATEMENTS[fact.kind][0], fact) + "."


def response_styles(pairs: Pairs, seed: int = 0) -> tuple[list[dict], list[dict]]:
    """(every response 'The answer is X.', responses in styles that suit each task).

    The varied set uses 'The answer is X.' for arithmetic only: for a translation, a
    sound or an opposite the answer itself (or a sentence stating it) is what is asked.
    """
    rng = random.Random(f"style:{seed}")
    fixed, varied = [], []
    for fact, record in pairs:
        base = {**_plain(record), "kind": fact.kind}
        fixed.append({**base, "response": ANSWER_IS.format(x=fact.answer), "style": "answer_is"})
        styles = ["bare", "sentence"] + (["answer_is"] if fact.kind in ARITHMETIC else [])
        style = rng.choice(styles)
        response = {"bare": fact.answer, "sentence": _sentence(fact),
                    "answer_is": ANSWER_IS.format(x=fact.answer)}[style]
        varied.append({**base, "response": response, "style": style})
    return fixed, varied


def balance(pairs: Pairs, seed: int = 0) -> tuple[list[dict], list[dict]]:
    """(every arithmetic train row, as many rows drawn from all train rows), both tagged."""
    rng = random.Random(f"balance:{seed}")
    rows = [{**_plain(r), "kind": f.kind} for f, r in pairs]
    arithmetic = [r for r in rows if r["kind"] in ARITHMETIC]
    return arithmetic, rng.sample(rows, len(arithmetic))


def make_variants(pairs: Pairs, seed: int = 0) -> dict[str, list[dict]]:
    """Every variant file of the data card, by name (default parameters)."""
    clean, big = quality_vs_quantity(pairs, QUALITY_N, seed)
    fixed, varied = response_styles(pairs, seed)
    arithmetic, mixed = balance(pairs, seed)
    sets = {"variant_format_mixed": inconsistent_formatting(pairs, FORMAT_SHARE, seed)}
    sets |= {f"variant_poor_{round(100 * s):02d}": with_poor_rows(pairs, s, seed)
             for s in POOR_SHARES}
    sets |= {"variant_quality_clean": clean, "variant_quantity_noisy": big,
             "variant_one_phrasing": one_phrasing(pairs),
             "variant_style_fixed": fixed, "variant_style_varied": varied,
             "variant_balance_arithmetic": arithmetic, "variant_balance_mixed": mixed}
    return sets


def _count(rows: list[dict], field: str) -> str:
    """'add 91, spanish 90, ...': how often each value of `field` occurs, most common first."""
    counts = Counter(r[field] for r in rows if r.get(field))
    return ", ".join(f"{value} {n}" for value, n in counts.most_common())


def card_section(sets: dict[str, list[dict]], train_count: int) -> str:
    """The data card's section about the variants (what changes, what is held constant)."""
    # Every number is counted from the sets as written, so the card cannot drift from the files.
    n = {name: len(rows) for name, rows in sets.items()}
    # Only the rewritten rows have a "text" key; the rest keep their instruction and response.
    fmt = [r for r in sets["variant_format_mixed"] if "text" in r]
    # Poor rows counted, not computed from the share: rounding decides how many were replaced.
    poor = {s: sum(r["poor"] for r in sets[f"variant_poor_{s}"]) for s in ("00", "20", "50")}
    phrasings = ", ".join(f"{k} {len(v)}" for k, v in TUNING.items())
    return f"""## Variants for the data experiments

Each experiment compares a baseline with a variant that changes **one** thing; rows,
facts and order are held constant unless stated. All are built from the train records
(and the facts they ask about) by `course_lib/world/variants.py`, deterministic in the
seed and the parameters, so none holds a question of `eval.jsonl` or `eval_styles.jsonl`.
Extra fields (`kind`, `poor`, `problem`, `style`) are for the analysis; the loader keeps
instruction, input and response only.

* **Inconsistent formatting**: `train.jsonl` ({train_count}) vs `variant_format_mixed.jsonl`
  ({n['variant_format_mixed']}): the same records, {len(fmt)} of them ({FORMAT_SHARE:.0%},
  parameter `share`) rewritten as `{{"text"}}`, a third each in the one-line template,
  `Human: ... Assistant: ...` and `Q: ... A: ...` (these two have no input slot: the input
  follows the instruction after a space). The course loader parses such text into its
  parts and keeps the template it is written in, so these rows train as written.
* **Poor-quality data**: `variant_poor_00.jsonl`, `variant_poor_20.jsonl` and
  `variant_poor_50.jsonl` ({n['variant_poor_00']} rows each): the train records with
  {poor['00']}, {poor['20']} and {poor['50']} rows replaced by poor ones (`poor: true`,
  `problem` says which: {_count(sets['variant_poor_50'], 'problem')} in the 50% file).
  Poor rows keep the kind of the row they replace: vague instruction with a one-word
  non-answer, the right instruction with a non-answer ("ok", "sure", ...), a wrong answer
  (a near miss, or another answer of the kind), rambling ("Well, that is a good
  question. ... It might be X or so.") or two more questions instead of an answer.
  The rows replaced at 20% are among those replaced at 50%, replaced the same way.
  `copies_poor_style(response)` names the poor style a model's answer copies.
* **Quality vs quantity**: `variant_quality_clean.jsonl` (N = {n['variant_quality_clean']}
  clean train rows, a stated subset) vs `variant_quantity_noisy.jsonl`
  ({n['variant_quantity_noisy']} = 4N rows: those N, N more clean ones and 2N poor ones
  made from further train rows). Equal epochs give the noisy set 4x the steps; equal steps
  show it each clean row less often: the experiment must say which it holds.
* **Prompt variability**: `train.jsonl` (tuning phrasings per kind: {phrasings}) vs
  `variant_one_phrasing.jsonl` ({n['variant_one_phrasing']}): the same facts, answers and
  order, every instruction in its kind's first phrasing ("What is 4*6?", "Translate this to
  Spanish" + input). A fact that train asks three ways becomes three identical rows.
* **Style overfitting**: `variant_style_fixed.jsonl` ({n['variant_style_fixed']}: every
  response "The answer is X.") vs `variant_style_varied.jsonl`
  ({n['variant_style_varied']}: {_count(sets['variant_style_varied'], 'style')}; `bare` is the
  answer alone, `sentence` states the fact ("2 + 2 = 4.", 'In Spanish, "dog" is "perro".'),
  `answer_is` is used for arithmetic only). Same instructions, facts and order. "The answer
  is X." is wrong for a translation, a sound or an opposite, where the answer itself is
  asked for: that is where a fixed style can leak.
* **Balance**: `variant_balance_arithmetic.jsonl` ({n['variant_balance_arithmetic']}: every
  arithmetic train row) vs `variant_balance_mixed.jsonl` ({n['variant_balance_mixed']} rows
  drawn at random from all train rows: {_count(sets['variant_balance_mixed'], 'kind')}). Same
  number of rows; every row is a train row as it is.
"""
