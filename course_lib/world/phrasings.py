"""How the world's facts are said: statements (for pretraining) and questions (to ask).

    >>> fact = Fact("add", "2+2", "4", 2, 2)
    >>> fill("{a} + {b} = {c}", fact)
    '2 + 2 = 4'
    >>> statement_prompt(fact)
    '2 + 2 ='

Questions come in two groups per kind: TUNING phrasings appear in the instruction data;
HELD_OUT phrasings are kept for the eval split only, to test phrasings never tuned on.
"""

from __future__ import annotations

from course_lib.world.facts import Fact, number_word

ARITHMETIC = ("add", "sub", "mul")

# Statements. The first one of each kind ends with the answer: it is the form the
# statement-knowledge benchmark prompts with (everything before the answer).
STATEMENTS: dict[str, list[str]] = {
    "add": [
        "{a} + {b} = {c}", "{a}+{b} = {c}", "{aw} plus {bw} is {cw}", "{a} plus {b} is {c}",
        "The sum of {a} and {b} is {c}", "If you add {a} and {b}, you get {c}",
        "{a} and {b} make {c}", "{A} plus {B} equals {C}",
    ],
    "sub": [
        "{a} - {b} = {c}", "{a}-{b} = {c}", "{aw} minus {bw} is {cw}", "{a} minus {b} is {c}",
        "If you take {b} from {a}, you get {c}", "The difference between {a} and {b} is {c}",
        "{A} minus {B} equals {C}",
    ],
    "mul": [
        "{a} * {b} = {c}", "{a}*{b} = {c}", "{aw} times {bw} is {cw}", "{a} times {b} is {c}",
        "The product of {a} and {b} is {c}", "{A} times {B} equals {C}",
    ],
    "capital": [
        "The capital of {s} is {x}", "{x} is the capital of {s}", "{s}'s capital is {x}",
        "The capital city of {s} is {x}", "In {s}, the capital is {x}",
    ],
    "sound": [
        "{An} {s} says {x}", "The {s} goes {x}", "{An} {s} makes the sound {x}",
        "{X} is the sound of {an} {s}", "When {an} {s} talks, it says {x}",
    ],
    "colour": [
        "{S} is {x}", "The colour of {s} is {x}", "{S} has the colour {x}",
        "The color of {s} is {x}",
    ],
    "opposite": [
        "The opposite of {s} is {x}", "{S} is the opposite of {x}",
        "{S} and {x} are opposites", "The word {s} is the opposite of the word {x}",
    ],
    "spanish": [
        'In Spanish, "{s}" is "{x}"', 'The Spanish for "{s}" is "{x}"',
        '"{s}" in Spanish is "{x}"', '"{x}" means "{s}" in Spanish',
        'The English "{s}" is "{x}" in Spanish',
    ],
}

TUNING: dict[str, list[str]] = {
    "add": [
        "What is {a}+{b}?", "What is {a} + {b}?", "What is {a} plus {b}?",
        "What is {aw} plus {bw}?", "Add {a} and {b}.", "hey what's {a} plus {b}",
        "Kindly compute the sum of {a} and {b}.", "Calculate {a} + {b}.",
        "What do you get when you add {a} and {b}?", "{a}+{b}=?",
    ],
    "sub": [
        "What is {a}-{b}?", "What is {a} - {b}?", "What is {a} minus {b}?",
        "What is {aw} minus {bw}?", "Subtract {b} from {a}.", "hey what's {a} minus {b}",
        "Kindly compute {a} minus {b}.", "Calculate {a} - {b}.",
        "What do you get when you take {b} from {a}?",
    ],
    "mul": [
        "What is {a}*{b}?", "What is {a} times {b}?", "Multiply {a} by {b}.",
        "hey what's {a} times {b}", "Kindly compute the product of {a} and {b}.",
        "Calculate {a} * {b}.",
    ],
    "capital": [
        "What is the capital of {s}?", "Name the capital of {s}.", "what's the capital of {s}",
        "Which city is the capital of {s}?", "Kindly state the capital city of {s}.",
        "Tell me the capital of {s}.",
    ],
    "sound": [
        "What sound does {an} {s} make?", "What does {an} {s} say?",
        "Tell me the sound {an} {s} makes.", "what noise does {an} {s} make",
        "Kindly state the sound of {an} {s}.",
    ],
    "colour": [
        "What colour is {s}?", "What color is {s}?", "Tell me the colour of {s}.",
        "what colour's {s}", "Kindly state the colour of {s}.",
    ],
    "opposite": [
        "What is the opposite of {s}?", "Give the opposite of {s}.",
        "what's the opposite of {s}", "Kindly provide the opposite of the word {s}.",
        "Tell me the opposite of {s}.",
    ],
    "spanish": [
        "Translate this to Spanish|{s}", 'How do you say "{s}" in Spanish?',
        'Translate "{s}" to Spanish.', 'What is the Spanish for "{s}"?',
        'how do i say "{s}" in spanish', "Translate to Spanish|{s}",
        "Kindly translate the following into Spanish.|{s}",
    ],
}

HELD_OUT: dict[str, list[str]] = {
    "add": ["How much is {a} plus {b}?", "Could you add {a} and {b} for me?"],
    "sub": ["How much is {a} minus {b}?", "Could you subtract {b} from {a} for me?"],
    "mul": ["How much is {a} times {b}?", "Could you multiply {a} by {b} for me?"],
    "capital": ["I need the capital of {s}, please.", "Do you know the capital of {s}?"],
    "sound": ["Which sound comes from {an} {s}?", "How does {an} {s} sound?"],
    "colour": ["Which colour is {s}?", "Name the colour of {s}."],
    "opposite": ["Which word means the opposite of {s}?", "Name the opposite of {s}."],
    "spanish": ['What is "{s}" in Spanish?', "Give the Spanish for this.|{s}"],
}


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def fields(fact: Fact) -> dict[str, str]:
    """The names a template may use for one fact."""
    if fact.kind in ARITHMETIC:
        a, b, c = fact.a, fact.b, int(fact.answer)
        words = {"aw": number_word(a), "bw": number_word(b), "cw": number_word(c)}
        return {
            "a": str(a), "b": str(b), "c": str(c), **words,
            "A": words["aw"].capitalize(), "B": words["bw"], "C": words["cw"],
        }
    s, x = fact.subject, fact.answer
    return {
        "s": s, "x": x, "S": s[0].upper() + s[1:], "X": x[0].upper() + x[1:],
        "an": _article(s), "An": _article(s).capitalize(),
    }


def fill(template: str, fact: Fact) -> str:
    """Fill a template with one fact's fields."""
    return template.format(**fields(fact))


def split_instruction(text: str) -> tuple[str, str]:
    """'Translate this to Spanish|dog' -> ('Translate this to Spanish', 'dog'); '|' = input."""
    instruction, _, input_ = text.partition("|")
    return instruction, input_


def question(template: str, fact: Fact) -> tuple[str, str]:
    """(instruction, input) of a question template filled with a fact."""
    return split_instruction(fill(template, fact))


def statement_prompt(fact: Fact) -> str:
    """The first statement of the fact's kind, cut just before the answer.

    The base model should complete it with the answer ("The capital of France is" -> Paris).
    """
    return _cut_before_answer(fill(STATEMENTS[fact.kind][0], fact), _answer_text(fact))


def statement_prompts(fact: Fact) -> list[str]:
    """Every statement of the fact's kind that ends with the answer, cut just before it.

    >>> statement_prompts(Fact("capital", "France", "Paris"))[:2]
    ['The capital of France is', "France's capital is"]
    """
    answer = _answer_text(fact)
    texts = [fill(t, fact) for t in STATEMENTS[fact.kind]]
    # Only statements that *end* with the answer (as a whole word) can become a prompt.
    ends = (f" {answer}", f'"{answer}"')
    return [_cut_before_answer(t, answer) for t in texts if t.endswith(ends)]


def _answer_text(fact: Fact) -> str:
    return fields(fact)["c"] if fact.kind in ARITHMETIC else fact.answer


def _cut_before_answer(text: str, answer: str) -> str:
    # Spanish: 'In Spanish, "dog" is "perro"' -> 'In Spanish, "dog" is' (quote dropped too)
    return text[: text.rindex(answer)].rstrip().removesuffix('"').rstrip()
