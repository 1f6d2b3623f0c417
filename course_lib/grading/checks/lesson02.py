"""Checks for lesson 02, instruction data: formatting and normalising records."""

from __future__ import annotations

from course_lib.formatting.templates import ONE_LINE, format_text
from course_lib.grading.checks import int_list
from course_lib.grading.registry import exercise

TWO_PART = {"instruction": "What is 2+2?", "response": "4"}
THREE_PART = {"instruction": "Translate this to Spanish", "input": "Hello world",
              "response": "Hola mundo"}
EMPTY_INPUT = {"instruction": "What is 5+3?", "input": "", "response": "8"}
NONE_INPUT = {"instruction": "Say hi", "input": None, "response": "hi"}  # as ex02_2: None is ''
# Keys in another order than the template's: the text follows the template, not the record.
REORDERED = {"response": "Hola mundo", "input": "Hello world",
             "instruction": "Translate this to Spanish"}


def _first_difference(got: str, want: str) -> str:
    i = next((k for k, (a, b) in enumerate(zip(got, want, strict=False)) if a != b),
             min(len(got), len(want)))
    return (f"they differ from character {i}: yours has {got[i:i + 15]!r}, "
            f"expected {want[i:i + 15]!r}")


@exercise(
    "ex02_1",
    title="Format a record with the one-line template",
    hints=[
        "A two-part record gives '### Instruction: <instruction> ### Response: <response>'.",
        "A record with a non-empty 'input' puts ' ### Input: <input>' between the two parts.",
        "Use record.get('input') so a record without an 'input' key works too; an empty "
        "string or None counts as no input.",
    ],
)
def check_format_record(format_record):
    for name, record in [("two-part", TWO_PART), ("three-part", THREE_PART),
                         ("empty-input", EMPTY_INPUT), ("None-input", NONE_INPUT),
                         ("response-first", REORDERED)]:
        given = dict(record)
        got = format_record(given)
        assert given == record, (
            f"format_record changed the record it was given (the {name} record {record} became "
            f"{given}): read `record` without changing it.")
        want = format_text(record, ONE_LINE)
        assert isinstance(got, str), (
            f"format_record should return the text (a str), but returned {type(got).__name__} "
            f"for the {name} record {record}.")
        if got == want:
            continue
        if record.get("input") and record["input"] not in got:
            raise AssertionError(
                f"the input {record['input']!r} is missing from {got!r}: a three-part record "
                f"puts ' ### Input: {record['input']}' between instruction and response.")
        if not record.get("input") and "### Input:" in got:
            raise AssertionError(
                f"the {name} record {record} has no input, so its text has no '### Input:' "
                f"part; you returned {got!r}.")
        if "".join(got.split()) == "".join(want.split()):
            raise AssertionError(
                f"almost: only the spaces differ for the {name} record. Expected {want!r}, "
                f"got {got!r}; {_first_difference(got, want)}.")
        raise AssertionError(
            f"for the {name} record {record} the one-line template gives {want!r}, but you "
            f"returned {got!r}; {_first_difference(got, want)}.")


ALPACA_ROW = {"instruction": "Translate this to Spanish", "input": "Hello world",
              "output": "Hola mundo"}
ALPACA_NO_INPUT = {"instruction": "Say hi", "output": "hi"}
DOLLY_ROW = {"instruction": "Who wrote it?", "context": "Hamlet was written by Shakespeare.",
             "response": "Shakespeare", "category": "closed_qa"}
DOLLY_NO_CONTEXT = {"instruction": "Name a colour.", "context": "", "response": "red",
                    "category": "brainstorming"}
ALPACA_NONE_INPUT = {"instruction": "Say hi", "input": None, "output": "hi"}
DOLLY_WITHOUT_CONTEXT = {"instruction": "Name a colour.", "response": "red",
                         "category": "brainstorming"}
ALPACA_EMPTY_OUTPUT = {"instruction": "Say hi", "input": "", "output": ""}
DOLLY_WITHOUT_CATEGORY = {"instruction": "Who wrote it?", "response": "Shakespeare",
                          "context": "Hamlet was written by Shakespeare."}
DOLLY_NONE_CONTEXT = {"instruction": "Name a colour.", "context": None, "response": "red",
                      "category": "brainstorming"}

NORMALIZE_CASES = [  # (what the row is, the row, what normalize returns)
    ("an Alpaca row", ALPACA_ROW, {"instruction": "Translate this to Spanish",
                                   "input": "Hello world", "response": "Hola mundo"}),
    ("an Alpaca row without 'input'", ALPACA_NO_INPUT,
     {"instruction": "Say hi", "input": "", "response": "hi"}),
    ("a Dolly row", DOLLY_ROW, {"instruction": "Who wrote it?",
                                "input": "Hamlet was written by Shakespeare.",
                                "response": "Shakespeare"}),
    ("a Dolly row with an empty context", DOLLY_NO_CONTEXT,
     {"instruction": "Name a colour.", "input": "", "response": "red"}),
    ("an Alpaca row whose input is None", ALPACA_NONE_INPUT,
     {"instruction": "Say hi", "input": "", "response": "hi"}),
    ("a Dolly row whose context is None", DOLLY_NONE_CONTEXT,
     {"instruction": "Name a colour.", "input": "", "response": "red"}),
    ("a Dolly row without 'context'", DOLLY_WITHOUT_CONTEXT,
     {"instruction": "Name a colour.", "input": "", "response": "red"}),
    # A poor row (ex02_3 finds it): its empty answer stays '', whatever the schema.
    ("an Alpaca row whose output is empty", ALPACA_EMPTY_OUTPUT,
     {"instruction": "Say hi", "input": "", "response": ""}),
    # category is an extra field: a Dolly row is one without it too.
    ("a Dolly row without 'category'", DOLLY_WITHOUT_CATEGORY,
     {"instruction": "Who wrote it?", "input": "Hamlet was written by Shakespeare.",
      "response": "Shakespeare"}),
]


def _normalized(normalize, name: str, row: dict):
    """normalize(row), with a KeyError told as a schema told apart by the wrong key, and a
    row the function changed (record.pop empties the caller's dataset row) refused."""
    given = dict(row)
    try:
        got = normalize(given)
    except KeyError as error:
        raise AssertionError(
            f"for {name} {row} normalize raised KeyError {error}: tell the schemas apart by a "
            f"key every row of one has ('output' only exists in Alpaca), since 'input', "
            f"'context' and 'category' may be missing.") from None
    assert given == row, (
        f"normalize changed the record it was given ({name} {row} became {given}): read "
        f"`record` without changing it, and build a new dict.")
    return got


@exercise(
    "ex02_2",
    title="Normalise Alpaca and Dolly records",
    hints=[
        "Alpaca rows have instruction / input / output; Dolly rows have instruction / "
        "context / response. Tell them apart by their keys ('output' only exists in Alpaca).",
        "Return exactly three keys: instruction, input, response. Dolly's context is the input.",
        "A missing or None input becomes '' so later code can test `if record['input']:`.",
    ],
)
def check_normalize(normalize):
    for name, row, want in NORMALIZE_CASES:
        got = _normalized(normalize, name, row)
        assert isinstance(got, dict), (
            f"normalize should return a dict, but returned {type(got).__name__} for {name}.")
        assert set(got) == set(want), (
            f"for {name} you returned the keys {sorted(got)}; return exactly "
            f"['input', 'instruction', 'response'] so every schema looks the same afterwards.")
        source = "input" if "output" in row else "context"
        for key in ("instruction", "input", "response"):
            if got[key] == want[key]:
                continue
            if key == "input" and want["input"] and not got["input"]:
                raise AssertionError(
                    f"for {name} the input is empty, but the row's '{source}' is "
                    f"{row[source]!r}: it must become the 'input' (dropping it loses the "
                    f"text the answer depends on).")
            if key == "response" and want["response"] == "" and got["response"] is None:
                raise AssertionError(
                    f"for {name} {row}, 'response' should be '' (its 'output'), not None: take "
                    f"the answer from the schema's own key, record['output'] for Alpaca, since "
                    f"record.get('output') or record.get('response') passes an empty '' over.")
            if key == "input" and got["input"] is None:
                how = (f"record.get({source!r}, '') keeps an explicit None" if source in row
                       else f"record.get({source!r}) gives None for a missing key")
                raise AssertionError(
                    f"for {name} {row}, 'input' should be '', not None: a missing or None input "
                    f"becomes '' ({how}; record.get({source!r}) or '' turns both into '').")
            raise AssertionError(
                f"for {name} {row}, '{key}' should be {want[key]!r}, not {got[key]!r}.")


# --- ex02_3: rules that catch poor records --------------------------------------------------
QUALITY_CASES = [
    {"instruction": "help", "input": "", "response": "ok"},                        # vague
    {"instruction": "Help me write a Python function to add two numbers", "input": "",
     "response": "def add(a, b):\n    return a + b"},
    {"instruction": "What is 7+1?", "input": "", "response": ""},                  # empty
    {"instruction": "What colour is the sky?", "input": "", "response": "   "},    # blank
    {"instruction": "What is 4*3?", "input": "", "response": "12 12 12 12 12"},    # repeats
    {"instruction": "What is 2+5?", "input": "", "response": "What is 2+6? What is 2+7?"},
    {"instruction": "Name the capital of Japan.", "input": "",
     "response": "name the capital of China."},                                   # continues
    {"instruction": "Translate this to Spanish", "input": "Hello world",
     "response": "Hola mundo"},
    {"instruction": "tell me something", "input": "", "response": "something"},    # 3 words: ok
    {"instruction": "What is 3+4?", "input": "", "response": "8"},                 # wrong, unseen
    {"instruction": "Say it three times.", "input": "", "response": "yes yes yes"},  # 3 words
    {"instruction": "List four colours.", "input": "", "response": "red blue green yellow"},
    {"instruction": "do it", "input": "", "response": "done"},                     # vague
    {"instruction": "Say no four times", "input": "", "response": "no no no no"},  # 4 words
    {"instruction": "Give three short answers", "input": "",
     "response": "yes yes yes maybe maybe no"},                     # exactly half: not poor
    {"instruction": "Reply with five words", "input": "",
     "response": "no yes no yes no"},                               # 2 of 5 different: poor
    {"instruction": "Say it loudly please", "input": "", "response": "No no NO no nO"},
    {"instruction": "Name a primary colour", "input": "",
     "response": "Named colours: red."},                            # 'named' is not 'name'
    {"instruction": "do  it", "input": "", "response": "done"},    # vague: 2 words, 2 spaces
    {"instruction": "Say yes four times", "input": "", "response": "yes\nyes\nyes\nyes"},
    {"instruction": "Hello there, how are you?", "input": "", "response": "Hello"},  # continues
    {"instruction": "What is 9+1?", "input": "", "response": "What\nis 9+2?"},     # continues
    {"instruction": "hi", "input": "", "response": "hi hi hi hi"},  # 3 rules broken: one index
    {"instruction": "Hello, how are you?", "input": "", "response": "Hello! I am fine."},  # ok
]
EMPTY_INSTRUCTION = [{"instruction": "", "input": "", "response": "4"}]  # vague: no words


def _quality_reasons(record) -> list[str]:
    """Which of the exercise's four rules a record breaks (the reference answer)."""
    instruction, response = record["instruction"], record["response"]
    reasons = []
    if not response.strip():
        reasons.append("its response is empty (only spaces count as empty too: use .strip())")
    if len(instruction.split()) < 3:
        reasons.append("its instruction has fewer than 3 words (count words with .split(), "
                       "not characters or split(' '))")
    words = response.lower().split()
    if len(words) >= 4 and len(set(words)) < len(words) / 2:
        reasons.append(f"its response repeats itself: {len(words)} words, {len(set(words))} "
                       f"different in lower case (the rule: at least 4 words and fewer than half "
                       f"of them different, {len(set(words))} < {len(words) / 2:g}"
                       f"{'; .split() splits at newlines too' if chr(10) in response else ''})")
    first = instruction.lower().split()[:1]
    if words and first and words[0] == first[0]:
        reasons.append("its response starts with the instruction's first word (compare in "
                       "lower case): it continues instead of answering")
    return reasons


def _why_not_poor(record) -> str:
    """Why a record that may look poor breaks none of the rules: the boundary it sits on."""
    words = record["response"].lower().split()
    first = record["instruction"].lower().split()[:1]
    different = len(set(words))
    if len(words) >= 4 and different == len(words) / 2:
        return (f"its response has {len(words)} words and {different} different ones, exactly "
                f"half, and the rule asks for fewer than half")
    if 1 < len(words) < 4 and different < len(words) / 2:
        return (f"its response repeats a word, but has only {len(words)} words: the repetition "
                f"rule needs at least 4")
    if words and first and words[0] != first[0] and words[0].startswith(first[0]):
        return (f"its response's first word is {words[0]!r}, not the instruction's first word "
                f"{first[0]!r} (compare whole words, not a prefix)")
    marks = ".,!?:;"
    if words and first and words[0] != first[0] and words[0].strip(marks) == first[0].strip(marks):
        return (f"its response's first word is {words[0]!r}, not the instruction's first word "
                f"{first[0]!r}: words are what split() gives, punctuation included")
    if record["instruction"] == "What is 3+4?":
        return ("rules only see form: a wrong answer such as 3+4 -> 8 needs a person or a "
                "checker to catch it")
    return (f"its response is not empty, its instruction has {len(record['instruction'].split())} "
            f"words, its response does not repeat itself and its first word "
            f"{words[0] if words else ''!r} is not the instruction's first word "
            f"{first[0] if first else ''!r}")


def _indices(got) -> list[int]:
    """The learner's indices as a list of ints (numpy ints too), or an AssertionError."""
    assert not isinstance(got, set | frozenset), (
        "find_poor_quality should return a list of the indices, in increasing order, not a "
        "set: sorted(...) of it gives one.")
    shown = list(got)[:5] if isinstance(got, list | tuple) else type(got).__name__
    return int_list(got, f"find_poor_quality should return the *indices* (ints) of the poor "
                         f"records, e.g. [0, 2, 3], not {shown}.")


@exercise(
    "ex02_3",
    title="Find poor-quality records by simple rules",
    hints=[
        "Loop with enumerate(records) and collect the index of every record that breaks at "
        "least one rule; return the indices in increasing order.",
        "Words: text.split(). Empty: response.strip() == ''. Repetition: words = "
        "response.lower().split(); len(words) >= 4 and len(set(words)) < len(words) / 2.",
        "Continuing: the first word of response.lower() equals the first word of "
        "instruction.lower(). Guard against an empty response or instruction before taking "
        "its first word.",
    ],
)
def check_find_poor_quality(find_poor_quality):
    records = [dict(r) for r in QUALITY_CASES]
    got = find_poor_quality(records)
    assert records == QUALITY_CASES, "find_poor_quality must not change the records it is given."
    got = _indices(got)
    want = [i for i, r in enumerate(records) if _quality_reasons(r)]
    assert not got or got != [i + 1 for i in want], (
        f"your indices count from 1, but the first record is index 0, as records[0] and "
        f"enumerate(records) count: expected {want}, not {got}.")
    missed = [i for i in want if i not in got]
    if missed:
        i = missed[0]
        raise AssertionError(f"record {i} {records[i]} is poor: {_quality_reasons(records[i])[0]}; "
                             f"your function kept it.")
    extra = [i for i in got if i not in want]
    if extra:
        i = extra[0]
        raise AssertionError(f"record {i} {records[i]} breaks none of the four rules, but you "
                             f"flagged it: {_why_not_poor(records[i])}.")
    assert got == sorted(set(got)), (
        f"return each index once, in increasing order: {want}, not {got}.")
    _check_empty_instruction(find_poor_quality)
    _check_copies(find_poor_quality)


def _check_copies(find_poor_quality) -> None:
    """Two equal poor records: each has its own index (records.index finds the first one)."""
    copies = [dict(QUALITY_CASES[0]), {"instruction": "Name three colours", "input": "",
                                       "response": "red, green, blue"}, dict(QUALITY_CASES[0])]
    got = _indices(find_poor_quality(copies))
    assert got == [0, 2], (
        f"records 0 and 2 of {copies} are equal and both poor, so the answer is [0, 2], not "
        f"{got}: take each index from enumerate(records), since records.index(record) finds "
        f"the first equal record.")


def _check_empty_instruction(find_poor_quality) -> None:
    """An empty instruction breaks rule 2 (no words), and has no first word for rule 4."""
    try:
        got = _indices(find_poor_quality([dict(r) for r in EMPTY_INSTRUCTION]))
    except IndexError:
        raise AssertionError(
            f"find_poor_quality({EMPTY_INSTRUCTION}) raised IndexError: an empty instruction has "
            f"no first word, so guard it as you do the response's "
            f"(instruction.lower().split()[:1]).") from None
    assert got == [0], (f"find_poor_quality({EMPTY_INSTRUCTION}) should be [0], not {got}: "
                        f"an empty instruction has fewer than 3 words (none).")
