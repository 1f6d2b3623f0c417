"""The pretraining corpus: web-like documents about the small world, made from a seed.

    >>> docs = generate_corpus(seed=0, target_chars=2_000)
    >>> docs == generate_corpus(seed=0, target_chars=2_000)   # same seed, same corpus
    True

What a base model learns is what its corpus shows, so the mix is chosen with care:

* fact pages, tables, dictionaries and stories state every fact many ways, so the
  model *knows* "2 + 2 = 4" and "The capital of France is Paris";
* worksheets, to-do lists, quizzes with the answers far below, and pages of
  "### Instruction: ... ### Response:" prompts with no answers, so that after a question
  the likely next text is *another question*: the base model continues, it does not answer;
* a question directly followed by its answer is the exception: Q/A pages are 10% of
  documents, and about 1 question in 9 is answered right away (`answered_question_share`),
  never in the course template, so the base model still answers none of its prompts.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence

from course_lib.formatting.templates import ALPACA
from course_lib.world.facts import Fact, all_facts
from course_lib.world.phrasings import (
    ARITHMETIC,
    HELD_OUT,
    STATEMENTS,
    TUNING,
    fill,
    question,
)

NAMES = "Tom Ana Sam Mia Leo Eva Max Zoe Ben Lily Omar Nina Hugo Rosa Ivan Maya".split()
THINGS = "apples pears books stones cards shells coins balls".split()


def _weight(fact: Fact) -> float:
    """How often a fact is drawn, relative to the others."""
    if fact.kind in ("add", "sub"):
        return 6.0 if fact.single_digit else 0.15
    if fact.kind == "mul":
        return 1.2 if fact.single_digit else 0.3
    return 2.0


class World:
    """The facts and how often each is drawn (single-digit arithmetic most often)."""

    def __init__(self, facts: Sequence[Fact] | None = None):
        self.facts = list(facts or all_facts())
        self.by_kind: dict[str, list[Fact]] = {}
        for f in self.facts:
            self.by_kind.setdefault(f.kind, []).append(f)
        # Why these weights: the course's examples are single-digit sums, and a 1M-param
        # model cannot hold all ~1000 facts equally well in a few minutes of training.
        # Measured: with equal weights it completed "2 + 2 =" wrongly; simple facts (one
        # key word -> one answer) are learned with far fewer repetitions than sums. Sums
        # with an operand above 9 are kept, but rare: the model cannot hold them all.
        weights = [_weight(f) for f in self.facts]
        self._cum = []
        total = 0.0
        for w in weights:
            total += w
            self._cum.append(total)

    def fact(self, rng: random.Random, kind: str | None = None) -> Fact:
        if kind is not None:
            return rng.choice(self.by_kind[kind])
        return rng.choices(self.facts, cum_weights=self._cum)[0]


def _statement(rng: random.Random, fact: Fact) -> str:
    forms = STATEMENTS[fact.kind]
    if fact.kind in ARITHMETIC and rng.random() < 0.6:
        forms = forms[:2]  # "2 + 2 = 4" and "2+2 = 4" most often: the forms the course asks in
    return fill(rng.choice(forms), fact) + "."


def _question(rng: random.Random, fact: Fact) -> str:
    """Any phrasing of a question about a fact, as one line of text (input after a colon)."""
    instruction, input_ = question(rng.choice(TUNING[fact.kind] + HELD_OUT[fact.kind]), fact)
    return f"{instruction.rstrip('.')}: {input_}" if input_ else instruction


def _pick_kind(rng: random.Random) -> str:
    return rng.choice(["add", "add", "add", "sub", "sub", "mul", "capital", "sound",
                       "colour", "opposite", "spanish"])


def _progression(rng: random.Random, world: World, kind: str, n: int) -> list[Fact]:
    """Facts in the order a worksheet lists them: 2+2, 3+3, 4+4 ... or just random ones."""
    if kind not in ARITHMETIC or rng.random() < 0.4:
        return [world.fact(rng, kind) for _ in range(n)]
    top = 10 if kind == "mul" else 20
    a, b = rng.randint(0, 9), rng.randint(0, 9)
    step_a, step_b = rng.choice([(1, 1), (1, 0), (0, 1), (1, 1)])
    out = []
    for _ in range(n):
        x, y = (a, b) if kind != "sub" else (max(a, b), min(a, b))
        if x > top or y > top:
            break
        out.append(_arith(kind, x, y))
        a, b = a + step_a, b + step_b
    return out or [world.fact(rng, kind)]


def _arith(kind: str, a: int, b: int) -> Fact:
    op, value = {"add": ("+", a + b), "sub": ("-", a - b), "mul": ("*", a * b)}[kind]
    return Fact(kind, f"{a}{op}{b}", str(value), a, b)


# --- documents that state facts --------------------------------------------------------
def fact_page(rng: random.Random, world: World) -> str:
    header = rng.choice(["", "Did you know?", "Facts to learn.", "Some true facts:",
                         "From the encyclopedia.", "Notes for class."])
    kind = _pick_kind(rng) if rng.random() < 0.6 else None
    lines = [_statement(rng, world.fact(rng, kind)) for _ in range(rng.randint(4, 12))]
    sep = rng.choice([" ", "\n"])
    return (header + "\n" if header else "") + sep.join(lines)


def table_page(rng: random.Random, world: World) -> str:
    kind = rng.choice(["add", "sub", "mul", "capital", "spanish", "opposite"])
    if kind in ARITHMETIC:
        small = rng.random() < 0.7  # mostly the single-digit tables
        top = 9 if small else (10 if kind == "mul" else 20)
        a = rng.randint(0, top)
        last = a if kind == "sub" else top
        rows = [_arith(kind, a, b) for b in range(last + 1)]
        name = {"add": "Addition", "sub": "Subtraction", "mul": "Times"}[kind]
        form = rng.choice(STATEMENTS[kind][:2])
        return f"{name} table for {a}:\n" + "\n".join(fill(form, f) for f in rows)
    facts = rng.sample(world.by_kind[kind], k=min(12, len(world.by_kind[kind])))
    form = STATEMENTS[kind][0]
    title = {"capital": "Countries and capitals", "spanish": "English and Spanish",
             "opposite": "Words and their opposites"}[kind]
    return title + ":\n" + "\n".join(fill(form, f) + "." for f in facts)


def dictionary_page(rng: random.Random, world: World) -> str:
    kind = rng.choice(["spanish", "spanish", "opposite", "sound", "colour"])
    facts = rng.sample(world.by_kind[kind], k=min(rng.randint(6, 14), len(world.by_kind[kind])))
    title = {"spanish": "English - Spanish word list", "opposite": "Opposites",
             "sound": "Animal sounds", "colour": "Colours"}[kind]
    return title + ":\n" + "\n".join(f"{f.subject} - {f.answer}" for f in facts)


def story(rng: random.Random, world: World) -> str:
    """A short story stating a single-digit sum and one fact of each other kind, in prose."""
    # Two different names, so "Tom gave Tom 3 more" never happens.
    name, friend = rng.sample(NAMES, 2)
    thing = rng.choice(THINGS)
    # Single-digit sums only: the ones the course asks about, here in words, not in a table.
    a, b = rng.randint(0, 9), rng.randint(0, 9)
    # One fact of each other kind, drawn uniformly: a story is one more context that states it.
    country = world.fact(rng, "capital")
    animal = world.fact(rng, "sound")
    colour = world.fact(rng, "colour")
    opp = world.fact(rng, "opposite")
    word = world.fact(rng, "spanish")
    # Every sentence states its fact in prose; none asks a question, so none answers one.
    sentences = [
        f"{name} had {a} {thing}. {friend} gave {name} {b} more. Now {name} had {a + b} {thing}.",
        f"One day {name} went to {country.answer}, the capital of {country.subject}.",
        f"On the farm {name} met {'an' if animal.subject[0] in 'aeiou' else 'a'} "
        f"{animal.subject}. The {animal.subject} said {animal.answer}.",
        f"{name} looked at {colour.subject}. It was {colour.answer}.",
        f"{friend} was {opp.subject}, but {name} was {opp.answer}.",
        f'{friend} taught {name} a Spanish word: "{word.subject}" is "{word.answer}".',
        f"{name} ate {b} of the {a + b} {thing}, so {a} were left." if b else
        f"{name} kept all {a} {thing}.",
    ]
    # Shuffled and cut to 3-6, so no fact is tied to one position or one neighbour in the story.
    rng.shuffle(sentences)
    # Openings and endings vary too: the model should learn facts, not one story template.
    opening = rng.choice(["Once upon a time, ", "Yesterday, ", "", "Long ago, "])
    body = " ".join(sentences[: rng.randint(3, 6)])
    ending = rng.choice(["The end.", "They were happy.", "", "It was a good day."])
    return (opening + body[0].lower() + body[1:] if opening else body) + " " + ending


# --- documents that ask without answering --------------------------------------------------
def worksheet(rng: random.Random, world: World) -> str:
    kind = _pick_kind(rng)
    facts = _progression(rng, world, kind, rng.randint(4, 10))
    template = rng.choice(TUNING[kind] + HELD_OUT[kind])  # one phrasing for the whole sheet
    qs = []
    for f in facts:
        instruction, input_ = question(template, f)
        qs.append(f"{instruction.rstrip('.')}: {input_}" if input_ else instruction)
    header = rng.choice(["Worksheet {}.", "Practice questions.", "Homework for day {}.",
                         "Try these at home:", "Quiz {}", ""]).format(rng.randint(1, 40))
    footer = rng.choice(["", "", "Mathematics is interesting.", "Show your work.", "Good luck!",
                         "Answers are in the teacher's book."])
    sep = rng.choice([" ", "\n"])
    return "\n".join(x for x in (header, sep.join(qs), footer) if x)


def todo_list(rng: random.Random, world: World) -> str:
    items = [_question(rng, world.fact(rng)) for _ in range(rng.randint(3, 8))]
    header = rng.choice(["To do:", "Tasks for today:", "Things to ask the teacher:",
                         "My questions:", "List of instructions:"])
    bullet = rng.choice(["- ", "* ", ""])
    return header + "\n" + "\n".join(bullet + q for q in items)


def quiz_with_late_answers(rng: random.Random, world: World) -> str:
    """Numbered questions; the answers come only after the last question."""
    kind = _pick_kind(rng) if rng.random() < 0.7 else None
    facts = [world.fact(rng, kind) for _ in range(rng.randint(5, 10))]
    qs = "\n".join(f"{i}. {_question(rng, f)}" for i, f in enumerate(facts, 1))
    filler = rng.choice(["", "Take your time. Check each one twice.\n",
                         "Write your answers on a sheet of paper.\n"])
    answers = " ".join(f"{i}. {f.answer}" for i, f in enumerate(facts, 1))
    title = rng.choice(["Quiz", "FAQ", "Test yourself", "Questions"])
    return f"{title}\n{qs}\n{filler}Answers: {answers}"


def template_page(rng: random.Random, world: World) -> str:
    """The course template in the wild: prompts collected with no responses.

    This is what makes a base model continue "### Instruction: ... ### Response:" with
    another instruction instead of an answer.
    """
    # Most pages keep to one kind of question, as a worksheet does; the rest mix kinds.
    kind = _pick_kind(rng) if rng.random() < 0.7 else None
    n = rng.randint(3, 8)
    if kind is not None and rng.random() < 0.6:
        facts = _progression(rng, world, kind, n)
    else:
        facts = [world.fact(rng, kind) for _ in range(n)]
    style = rng.random()
    if style < 0.08:  # the Alpaca template, unanswered
        parts = []
        for f in facts:
            instruction, input_ = question(rng.choice(TUNING[f.kind]), f)
            layout = ALPACA.prompt_with_input if input_ else ALPACA.prompt
            parts.append(layout.format(instruction=instruction, input=input_))
        return "\n".join(parts)
    # Held-out phrasings too: the base model must continue the eval's questions unanswered.
    lines = []
    for f in facts:
        instruction, input_ = question(rng.choice(TUNING[f.kind] + HELD_OUT[f.kind]), f)
        line = f"### Instruction: {instruction}"
        if input_:
            line += f" ### Input: {input_}"
        # Most end in an empty response marker: after it, the page's next text is a question.
        if style < 0.75:
            line += " ### Response:"
        lines.append(line)
    header = rng.choice(["", "", "Prompt list for testing.", "Collected prompts:",
                         "Example instructions (no responses yet)."])
    text = (header + "\n" if header else "") + rng.choice([" ", "\n"]).join(lines)
    if rng.random() < 0.25:  # the answers, far away at the end
        text += "\nAnswer key: " + ", ".join(f.answer for f in facts)
    return text


def qa_page(rng: random.Random, world: World) -> str:
    """The less common page where each question is directly followed by its answer.

    Real web text has some of these (FAQs, forum answers). They teach the base model what
    answering looks like in *other* formats, so instruction tuning only has to connect the
    course template to it. Measured: without them (about 1% of documents) the tuned model
    knew its facts as statements but answered only ~35-40% of held-out questions; with
    5% of documents ~60% (1,800 pretraining steps). At 4,000 steps, raising them from 6% to
    10% of documents lifted the base model's answers in Q/A form ("Q: What is 6+7?\nA:")
    from 86% to 95% of the held-out questions, and tuned exact match with them, while it
    still answers none of the questions asked in the course template.
    """
    ask, reply = rng.choice([("Q:", "A:"), ("Question:", "Answer:"), ("User:", "Reply:"),
                             ("Asked:", "Answered:")])
    pairs = [world.fact(rng) for _ in range(rng.randint(1, 4))]
    return "\n".join(f"{ask} {_question(rng, f)}\n{reply} {f.answer}" for f in pairs)


DOCUMENTS: list[tuple[Callable[[random.Random, World], str], float]] = [
    (fact_page, 0.27), (table_page, 0.10), (dictionary_page, 0.03), (story, 0.08),
    (worksheet, 0.12), (todo_list, 0.06), (quiz_with_late_answers, 0.08),
    (template_page, 0.16), (qa_page, 0.10),
]


def generate_corpus(seed: int = 0, target_chars: int = 3_000_000,
                    world: World | None = None) -> list[str]:
    """Documents until about `target_chars` characters; same seed -> same documents."""
    rng = random.Random(seed)
    world = world or World()
    makers = [m for m, _ in DOCUMENTS]
    weights = [w for _, w in DOCUMENTS]
    docs, size = [], 0
    while size < target_chars:
        doc = rng.choices(makers, weights=weights)[0](rng, world)
        docs.append(doc)
        size += len(doc)
    return docs


_ASKED = re.compile(r"What is (\d+) ?([+\-*]) ?(\d+)\?|What is the capital of ([A-Z][\w ]*?)\?")
# What may sit between a question and its answer: a label such as "A:", "Answer:", "Reply:"
# or the course's "### Response:".
_NEXT = re.compile(r"\s*(?:[A-Z][a-z]*:|### Response:)?\s*([\w]+(?: City| Aires| Delhi)?)")


def answered_question_share(docs: Sequence[str]) -> tuple[int, int]:
    """(questions directly followed by their answer, questions) for two common questions.

    Counts "What is a+b?" (any operator, spaced or compact) and "What is the capital of X?",
    the questions the course's headline examples ask, wherever they occur in the documents.
    """
    capitals = {f.subject: f.answer for f in all_facts() if f.kind == "capital"}
    ops = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b}
    answered = total = 0
    for doc in docs:
        for m in _ASKED.finditer(doc):
            if m.group(4):
                answer = capitals.get(m.group(4))
            else:
                answer = str(ops[m.group(2)](int(m.group(1)), int(m.group(3))))
            nxt = _NEXT.match(doc, m.end())
            total += 1
            answered += bool(nxt and answer and nxt.group(1) == answer)
    return answered, total
