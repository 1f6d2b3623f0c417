"""More ways to ask: paraphrased questions for tuning (`train_varied`) and a dev set.

A paraphrase is a *frame* (how the question is wrapped: casual, polite, imperative, with
filler words, embedded in a sentence) around a *core* (what is asked, in one of three
grammatical shapes), sometimes with typos:

    >>> fact = Fact("add", "3+4", "7", 3, 4)
    >>> fill_frame("Hmm, {q}", "what's {a} + {b}?", fact)
    "Hmm, what's 3 + 4?"
    >>> fill_frame("Give me {np}.", "the total of {a} and {b}", fact)
    'Give me the total of 3 and 4.'

Frames and cores are written independently of the eval sets: other wordings, other
filler words, other typos. No word that only the eval phrasings use (`eval_only_words`)
appears in a frame or a core, and tests/world/test_paraphrases.py checks that no eval
instruction and no eval template occurs in the generated rows. Some frames are kept for
the DEV set only, so the dev set measures frames the tuning data never uses.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

from course_lib.world.eval_styles import UNSEEN
from course_lib.world.facts import Fact
from course_lib.world.phrasings import ARITHMETIC, HELD_OUT, TUNING, fill, question

# What is asked, per kind, in three shapes a frame can take:
# q = a direct question, np = a noun phrase, iq = an indirect question (a clause).
CORES: dict[str, dict[str, list[str]]] = {
    "add": {
        "q": ["what's {a} + {b}?", "{a} plus {b} equals what?", "what does {a} plus {b} give?",
              "what do {a} and {b} add up to?", "what's the total of {a} and {b}?",
              "{a} + {b} is?"],
        "np": ["the sum of {a} and {b}", "the total of {a} and {b}", "{a} plus {b}",
               "{a} + {b}", "the result of adding {a} and {b}", "{aw} plus {bw}"],
        "iq": ["what {a} plus {b} equals", "what {a} and {b} add up to",
               "what you get by adding {a} to {b}", "what the total of {a} and {b} is"],
    },
    "sub": {
        "q": ["what's {a} - {b}?", "{a} minus {b} equals what?", "what does {a} minus {b} give?",
              "what's left if you take {b} from {a}?", "{a} - {b} is?"],
        "np": ["{a} minus {b}", "{a} - {b}", "the difference between {a} and {b}",
               "the result of taking {b} from {a}", "{aw} minus {bw}"],
        "iq": ["what {a} minus {b} equals", "what is left when {b} is taken from {a}",
               "what the difference between {a} and {b} is"],
    },
    "mul": {
        "q": ["what's {a} * {b}?", "{a} times {b} equals what?", "what does {a} times {b} give?",
              "what do you get if you multiply {a} by {b}?", "{a} * {b} is?"],
        "np": ["the product of {a} and {b}", "{a} times {b}", "{a} multiplied by {b}",
               "{a} * {b}", "{aw} times {bw}"],
        "iq": ["what {a} times {b} equals", "what {a} multiplied by {b} gives",
               "what the product of {a} and {b} is"],
    },
    "capital": {
        "q": ["what city is the capital of {s}?", "{s} has which capital?",
              "what's the capital city of {s}?", "the capital of {s} is what?"],
        "np": ["the capital of {s}", "the capital city of {s}", "the name of {s}'s capital"],
        "iq": ["what the capital of {s} is", "which city is the capital of {s}",
               "what the capital city of {s} is called"],
    },
    "sound": {
        "q": ["{an} {s} says what?", "what's the sound of {an} {s}?",
              "which noise does {an} {s} make?", "what noise is made by {an} {s}?"],
        "np": ["the sound {an} {s} makes", "the noise of {an} {s}", "the sound of {an} {s}"],
        "iq": ["what sound {an} {s} makes", "what {an} {s} says", "which noise {an} {s} makes"],
    },
    "colour": {
        "q": ["what's the colour of {s}?", "{s} is which colour?", "what color does {s} have?",
              "what's the color of {s}?"],
        "np": ["the colour of {s}", "the color of {s}"],
        "iq": ["what colour {s} is", "which color {s} has", "what the colour of {s} is"],
    },
    "opposite": {
        "q": ["what's the opposite of {s}?", "what word is the opposite of {s}?",
              "{s} is the opposite of what?", "what's the reverse of {s}?"],
        "np": ["the opposite of {s}", "the opposite of the word {s}", "the antonym of {s}"],
        "iq": ["what the opposite of {s} is", "which word is the opposite of {s}"],
    },
    "spanish": {
        "q": ['how is "{s}" said in Spanish?', 'what\'s the Spanish word for "{s}"?',
              'in Spanish, "{s}" is what?', 'what is the Spanish version of "{s}"?'],
        "np": ['the Spanish for "{s}"', 'the Spanish translation of "{s}"',
               '"{s}" in Spanish'],
        "iq": ['how to say "{s}" in Spanish', 'what "{s}" is in Spanish',
               'how "{s}" is said in Spanish'],
    },
}

# Frames by style. {q}/{Q}: the direct question (lower case / capitalised), {np}, {iq}.
# "dev" frames are never used for tuning: the dev set asks with them only.
FRAMES: dict[str, dict[str, list[str]]] = {
    "casual": {
        "train": ["hey {q}", "ok, {q}", "quick one: {q}", "hiya! {q}", "{q} anyone?"],
        "dev": ["oi, {q}", "sup, {q} thx"],
    },
    "polite": {
        "train": ["Can you tell me {np}? Cheers.", "May I ask {iq}? Many thanks.",
                  "Sorry to bother you, but {q}", "If you don't mind, {q}",
                  "I'd be grateful to learn {np}."],
        "dev": ["Excuse me, can I ask {iq}? Appreciated!",
                "Hello! I wonder if you can tell me {np}. Thanks a lot."],
    },
    "imperative": {
        "train": ["Give me {np}.", "Find {np}.", "State {np}.", "Say {np}, now.",
                  "Answer this: {q}"],
        "dev": ["Go on, tell us {np}.", "Report {np}."],
    },
    "filler": {
        "train": ["Hmm, {q}", "Uh, well, {q}", "Er, okay, {q} right?", "Well, you see, {q}",
                  "Right, anyway, {q}"],
        "dev": ["Erm, okay then, {q} I mean, honestly.", "Ah, hm, just wondering, {q}"],
    },
    "embedded": {
        "train": ["I was wondering {iq}.", "Our teacher wants us to find {iq}.",
                  "I'm trying to remember {iq}.", "A quiz question asks {iq}.",
                  "Someone at school wondered {iq}. What is it?"],
        "dev": ["We had a bet on {iq}. Who wins?", "Grandpa can't recall {iq}; help him."],
    },
}
TYPO_SHARE = 0.25  # share of varied rows that also get typos
TYPO_RATE = 0.3  # chance that a word of a template gets one typo
PER_FACT = 8  # paraphrases per train fact in train_varied (2 and 4 gave less: recipe_results.md)
# Held out of train_varied and asked by the dev set (train facts, so eval facts stay unseen).
DEV_FACTS = {"add": 16, "sub": 10, "mul": 4, "capital": 6, "sound": 4, "colour": 4,
             "opposite": 6, "spanish": 6}
DEV_STYLES = (*FRAMES, "typos")
WORD = re.compile(r"[A-Za-z][A-Za-z']*")  # "what's" is one word
PLACEHOLDER = re.compile(r"\{\w+\}(?:'s)?")  # a field, with its possessive ("{s}'s")


def eval_only_words() -> frozenset[str]:
    """Words the eval phrasings use and the tuning phrasings do not ("um", "wht", "please")."""
    def words(templates) -> set[str]:
        return {w for t in templates for w in template_words(t)}
    tuning = words(t for ts in TUNING.values() for t in ts)
    asked = [t for forms in UNSEEN.values() for t in forms.values()]
    asked += [t for ts in HELD_OUT.values() for t in ts]
    return frozenset(words(asked) - tuning)


def template_words(template: str) -> set[str]:
    """The template's own words, lower case, fields left out.

    >>> sorted(template_words("Hmm, what's {s}'s capital?"))
    ['capital', 'hmm', "what's"]
    """
    return {w.lower() for w in WORD.findall(PLACEHOLDER.sub(" ", template))}


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def compose(frame: str, core: str) -> str:
    """A question template: the core put into the frame, first letter capitalised."""
    shape = shape_of(frame)
    text = frame.replace("{Q}", _cap(core)).replace("{" + shape + "}", core)
    return _cap(text)


def fill_frame(frame: str, core: str, fact: Fact) -> str:
    """The frame around the core, filled with the fact's fields (see the module example)."""
    return fill(compose(frame, core), fact)


def shape_of(frame: str) -> str:
    """Which core shape a frame takes: 'q', 'np' or 'iq'."""
    return "q" if "{q}" in frame or "{Q}" in frame else ("np" if "{np}" in frame else "iq")


def typo(template: str, rng: random.Random) -> str:
    """Typos in some words of a template's own text (at least one); placeholders stay whole.

    A typo swaps, drops or doubles one letter (never the first); one that would give a
    word of the eval phrasings (eval_only_words) is not made.

    >>> typo("What's the capital of {s}?", random.Random(3))
    "Wat's the capital of {s}?"
    """
    banned = eval_only_words()
    words = list(TYPO_WORD.finditer(template))
    if not words:
        raise ValueError(f"no word of 3+ letters to misspell in {template!r}")
    misspelt = template
    while misspelt == template:  # a typo that would be an eval word is not made: try again
        # Each word gets a typo with chance TYPO_RATE; one chosen word gets one for sure.
        sure = rng.randrange(len(words))
        out, end = [], 0
        for n, match in enumerate(words):
            word = match.group(0)
            if n == sure or rng.random() < TYPO_RATE:
                new = _misspell(word, rng)
                word = word if new.lower() in banned else new
            out += [template[end:match.start()], word]
            end = match.end()
        misspelt = "".join(out) + template[end:]
    return misspelt


# Words of 3+ letters outside {...} (the lookahead rules out placeholder names).
TYPO_WORD = re.compile(r"\b[A-Za-z]{3,}\b(?![^{]*\})")


def _misspell(word: str, rng: random.Random) -> str:
    """Swap, drop or double one letter, never the first (people rarely get that wrong)."""
    i = rng.randrange(1, len(word) - 1)
    if word[i] == word[i + 1]:
        return word[:i] + word[i + 1:]  # a double letter: drop one ("apple" -> "aple")
    return rng.choice((word[:i] + word[i + 1] + word[i] + word[i + 2:],  # swap
                       word[:i] + word[i + 1:],  # drop
                       word[:i] + word[i] + word[i:]))  # double


def varied_template(kind: str, style: str, rng: random.Random, split: str = "train") -> str:
    """One paraphrase template of `kind` in `style` ('typos': a tuning phrasing misspelt)."""
    if style == "typos":  # only phrasings with a word to misspell ("{a}+{b}=?" has none)
        template = rng.choice([t for t in TUNING[kind] if TYPO_WORD.search(t)])
        misspelt = typo(template, rng)
        while misspelt in TUNING[kind]:  # "colour" -> "color" is no typo, only another spelling
            misspelt = typo(template, rng)
        return misspelt
    frame = rng.choice(FRAMES[style][split])
    template = compose(frame, rng.choice(CORES[kind][shape_of(frame)]))
    if split == "train" and rng.random() < TYPO_SHARE and TYPO_WORD.search(template):
        template = typo(template, rng)  # typos on top of any style, as people type
    return template


def dev_facts(train_facts: Sequence[Fact], seed: int = 0) -> list[Fact]:
    """Train facts the dev set asks about (single-digit arithmetic, like the eval facts)."""
    rng = random.Random(f"dev-facts:{seed}")
    out = []
    for kind, n in DEV_FACTS.items():
        pool = sorted({f for f in train_facts if f.kind == kind  # sorted: any order, same pick
                       and (f.single_digit or kind not in ARITHMETIC)}, key=lambda f: f.key)
        out += rng.sample(pool, n)
    return out


def paraphrase_pairs(pairs: Sequence[tuple[Fact, dict]], seed: int = 0,
                     per_fact: int = PER_FACT, draw: int = 0) -> list[tuple[Fact, dict]]:
    """`per_fact` paraphrases of each train fact but the dev facts, with the fact asked.

    Styles rotate over the frames' styles and 'typos', so each is used about equally; a
    paraphrase equal to a train row (or to an earlier paraphrase) is dropped. `draw` > 0:
    another random pick of frames and cores, with the same facts held out for dev.
    """
    rng = random.Random(f"varied:{seed}" + (f":draw{draw}" if draw else ""))
    facts = list(dict.fromkeys(f for f, _ in pairs))
    held = set(dev_facts(facts, seed))
    seen = {(r["instruction"], r.get("input", "")) for _, r in pairs}
    out, n = [], 0
    for fact in (f for f in facts if f not in held):
        for _ in range(per_fact):
            style = DEV_STYLES[n % len(DEV_STYLES)]
            n += 1
            instruction, input_ = question(varied_template(fact.kind, style, rng), fact)
            if (instruction, input_) not in seen:
                seen.add((instruction, input_))
                row = {"instruction": instruction, **({"input": input_} if input_ else {})}
                out.append((fact, {**row, "response": fact.answer}))
    return out


def make_train_varied(pairs: Sequence[tuple[Fact, dict]], seed: int = 0,
                      per_fact: int = PER_FACT, draw: int = 0) -> list[dict]:
    """The train records as they are, then the paraphrases (paraphrase_pairs) after them."""
    rows = [dict(r) for _, r in pairs] + [r for _, r in paraphrase_pairs(pairs, seed, per_fact,
                                                                         draw)]
    return rows


def make_dev_styles(train_facts: Sequence[Fact], seed: int = 0) -> list[dict]:
    """Dev rows: each dev fact asked once per style, with frames and typos tuning never uses."""
    rng = random.Random(f"dev:{seed}")
    rows = []
    for fact in dev_facts(train_facts, seed):
        for style in DEV_STYLES:
            instruction, input_ = question(varied_template(fact.kind, style, rng, "dev"), fact)
            row = {"instruction": instruction, **({"input": input_} if input_ else {})}
            rows.append({**row, "response": fact.answer, "kind": fact.kind,
                         "group": fact.key, "style": style})
    return rows


def card_section(varied: list[dict], n_train: int, dev: list[dict]) -> str:
    """The data card's section about train_varied and dev_styles (counts, examples)."""
    extra = varied[n_train:]
    first = {style: next(r for r in dev if r["style"] == style) for style in DEV_STYLES}
    examples = "\n".join(f"  - `{style}`: {r['instruction']}" for style, r in first.items())
    frames = ", ".join(f"{s} {len(f['train'])}+{len(f['dev'])}" for s, f in FRAMES.items())
    return f"""## train_varied and dev_styles: more ways to ask

`train_varied.jsonl` ({len(varied)} rows) is `train.jsonl` ({n_train} rows, first, unchanged)
followed by {len(extra)} paraphrases: about {PER_FACT} per train fact, each a *frame*
(casual, polite, imperative, filler words, embedded in a sentence) around a *core* (the
question as a direct question, a noun phrase or an indirect clause), or a tuning phrasing
with typos (swapped, dropped or doubled letters; {TYPO_SHARE:.0%} of framed rows get typos
too). Same facts, same answers; the eval facts are in no row. Frames per style (tuning +
dev only): {frames}.

The paraphrases are written independently of the eval sets: no word that only the eval
phrasings use (e.g. {", ".join(sorted(eval_only_words())[:8])}, ...) appears in a frame, a
core or a typo, and no eval_styles or eval template matches any row (tests/world/
test_paraphrases.py). So the unseen styles of eval_styles stay unseen word for word.

`dev_styles.jsonl` ({len(dev)} rows) is for choosing settings without looking at the eval
sets: {len({r['group'] for r in dev})} train facts (left out of the paraphrases, asked in
train.jsonl's phrasings only) asked once per style, with frames and typos no tuning set
uses. Fields as in eval_styles (`kind`, `group`, `style`). One example per style:

{examples}
"""
