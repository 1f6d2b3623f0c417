"""Checks for lesson 02, instruction data: formatting and normalising records."""

from __future__ import annotations

from course_lib.grading.registry import exercise

TWO_PART = {"instruction": "What is 2+2?", "response": "4"}
THREE_PART = {"instruction": "Translate this to Spanish", "input": "Hello world",
              "response": "Hola mundo"}
EMPTY_INPUT = {"instruction": "What is 5+3?", "input": "", "response": "8"}


def _first_difference(got: str, want: str) -> str:
    i = next((k for k, (a, b) in enumerate(zip(got, want, strict=False)) if a != b),
             min(len(got), len(want)))
    return (f"they differ from character {i}: yours has {got[i:i + 15]!r}, "
            f"expected {want[i:i + 15]!r}")


@exercise(
    "ex02_1",
    title="Format a record with the seed template",
    hints=[
        "A two-part record gives '### Instruction: <instruction> ### Response: <response>'.",
        "A record with a non-empty 'input' puts ' ### Input: <input>' between the two parts.",
        "Use record.get('input') so a record without an 'input' key works too; an empty "
        "string counts as no input.",
    ],
)
def check_format_record(format_record):
    from course_lib.formatting import SEED, format_text

    for name, record in [("two-part", TWO_PART), ("three-part", THREE_PART),
                         ("empty-input", EMPTY_INPUT)]:
        got = format_record(dict(record))
        want = format_text(record, SEED)
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
            f"for the {name} record {record} the seed template gives {want!r}, but you "
            f"returned {got!r}; {_first_difference(got, want)}.")


ALPACA_ROW = {"instruction": "Translate this to Spanish", "input": "Hello world",
              "output": "Hola mundo"}
ALPACA_NO_INPUT = {"instruction": "Say hi", "output": "hi"}
DOLLY_ROW = {"instruction": "Who wrote it?", "context": "Hamlet was written by Shakespeare.",
             "response": "Shakespeare", "category": "closed_qa"}
DOLLY_NO_CONTEXT = {"instruction": "Name a colour.", "context": "", "response": "red",
                    "category": "brainstorming"}


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
    cases = [
        ("an Alpaca row", ALPACA_ROW, {"instruction": "Translate this to Spanish",
                                       "input": "Hello world", "response": "Hola mundo"}),
        ("an Alpaca row without 'input'", ALPACA_NO_INPUT,
         {"instruction": "Say hi", "input": "", "response": "hi"}),
        ("a Dolly row", DOLLY_ROW, {"instruction": "Who wrote it?",
                                    "input": "Hamlet was written by Shakespeare.",
                                    "response": "Shakespeare"}),
        ("a Dolly row with an empty context", DOLLY_NO_CONTEXT,
         {"instruction": "Name a colour.", "input": "", "response": "red"}),
    ]
    for name, row, want in cases:
        got = normalize(dict(row))
        assert isinstance(got, dict), (
            f"normalize should return a dict, but returned {type(got).__name__} for {name}.")
        assert set(got) == set(want), (
            f"for {name} you returned the keys {sorted(got)}; return exactly "
            f"['input', 'instruction', 'response'] so every schema looks the same afterwards.")
        for key in ("instruction", "input", "response"):
            if got[key] == want[key]:
                continue
            if key == "input" and want["input"] and not got["input"]:
                source = "context" if "context" in row else "input"
                raise AssertionError(
                    f"for {name} the input is empty, but the row's '{source}' is "
                    f"{row[source]!r}: it must become the 'input' (dropping it loses the "
                    f"text the answer depends on).")
            raise AssertionError(
                f"for {name} {row}, '{key}' should be {want[key]!r}, not {got[key]!r}.")
