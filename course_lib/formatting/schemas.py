"""What raw instruction records look like, and one function that reads them all.

Public data sets store the same three parts under different names (Alpaca's `output`,
Dolly's `context`, TRL's `prompt`/`completion`, chat `messages`). `normalize_record` maps
every known schema to {'instruction', 'input', 'response'}:

    >>> normalize_record({"instruction": "Say hi", "input": "", "output": "hi"})
    {'instruction': 'Say hi', 'input': '', 'response': 'hi'}

Records that are already formatted text are recognised by their template
(`detect_template`) and parsed back into their parts (`parse_formatted`).
"""

from __future__ import annotations

import re
from typing import Any

from course_lib.errors import CourseError

# --- Recognising templates in text -------------------------------------------------------
# Mixing formats in one data set is a classic mistake. These patterns
# recognise the usual suspects so a data set can be checked before training.
_TEXT_PATTERNS: dict[str, re.Pattern] = {
    "alpaca": re.compile(
        r"^(?:.*?\n\n)?### Instruction:\n(?P<instruction>.*?)\n\n"
        r"(?:### Input:\n(?P<input>.*?)\n\n)?### Response:\n(?P<response>.*)$",
        re.S,
    ),
    "one_line": re.compile(
        r"^### Instruction:[ \n](?P<instruction>.*?)\s*(?:### Input:[ \n](?P<input>.*?)\s*)?"
        r"### Response:(?: |\n)?(?P<response>.*)$",
        re.S,
    ),
    "human_assistant": re.compile(
        r"^Human:\s*(?P<instruction>.*?)\s*Assistant:\s?(?P<response>.*)$", re.S
    ),
    "qa": re.compile(r"^Q:\s*(?P<instruction>.*?)\s*A:\s?(?P<response>.*)$", re.S),
}


def detect_template(text: str) -> str | None:
    """Name the template a formatted text uses ('one_line', 'alpaca', 'human_assistant', 'qa')."""
    for name, pattern in _TEXT_PATTERNS.items():
        if pattern.match(text):
            return name
    return None


def parse_formatted(text: str) -> dict[str, str] | None:
    """Split formatted text back into instruction/input/response, or None if unrecognised."""
    for pattern in _TEXT_PATTERNS.values():
        m = pattern.match(text)
        if m:
            parts = m.groupdict()
            return {
                "instruction": parts["instruction"].strip(),
                "input": (parts.get("input") or "").strip(),
                "response": parts["response"].strip(),
            }
    return None


# --- One normalising loader for the common schemas ---------------------------------------
SCHEMAS = {
    "course": "instruction / [input] / response",
    "alpaca": "instruction / input / output",
    "dolly": "instruction / context / response",
    "trl": "prompt / completion",
    "chat": "messages: [{role, content}, ...]",
    "text": "text (already formatted with a known template)",
}


def _as_text(value: Any, field: str, where: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise CourseError(
            f"{where}: field '{field}' should be text but is {type(value).__name__}; "
            f"make it a JSON string."
        )
    return value


def detect_schema(record: dict[str, Any]) -> str:
    """Which of SCHEMAS a raw record follows (raises CourseError if none)."""
    keys = set(record)
    if "messages" in keys:
        return "chat"
    if {"prompt", "completion"} <= keys:
        return "trl"
    if "instruction" in keys and "output" in keys:
        return "alpaca"
    if "instruction" in keys and "context" in keys and "response" in keys:
        return "dolly"
    if "instruction" in keys and "response" in keys:
        return "course"
    if "text" in keys:
        return "text"
    raise CourseError(
        f"record has fields {sorted(keys)} which match no known schema; "
        f"use one of: " + "; ".join(f"{k} ({v})" for k, v in SCHEMAS.items()) + "."
    )


def normalize_record(record: dict[str, Any], where: str = "record") -> dict[str, str]:
    """Map any known schema to {'instruction', 'input', 'response'}.

    `where` names the record in error messages, e.g. "data.jsonl line 7". A `{"text"}` record
    also keeps the name of the template it is written in, so it trains as written:

        >>> normalize_record({"instruction": "Say hi", "input": "", "output": "hi"})
        {'instruction': 'Say hi', 'input': '', 'response': 'hi'}
        >>> normalize_record({"text": "Q: What is 2+2? A: 4"})["template"]
        'qa'
    """
    if not isinstance(record, dict):
        raise CourseError(f"{where}: expected a JSON object, got {type(record).__name__}.")
    try:
        schema = detect_schema(record)
    except CourseError as err:
        raise CourseError(f"{where}: {err}") from None

    def text(field: str) -> str:
        return _as_text(record.get(field), field, where)

    if schema in FIELDS:
        input_field, response_field = FIELDS[schema]
        out = {"instruction": text("instruction"), "input": text(input_field),
               "response": text(response_field)}
    elif schema == "trl":
        out = _normalize_prompt_completion(record, text, where)
    elif schema == "chat":
        out = _normalize_chat(record["messages"], where)
    else:  # text: its parts, and the template it is written in (training keeps that one)
        parsed = parse_formatted(text("text"))
        if parsed is None:
            raise CourseError(
                f"{where}: 'text' uses no template the course knows, so the response cannot be "
                f"found; give instruction/response fields instead."
            )
        out = {**parsed, "template": detect_template(text("text"))}
    if not out["instruction"].strip():  # named as the user's file names it
        raise CourseError(f"{where}: {INSTRUCTION_NAMES.get(schema, repr('instruction'))} is "
                          f"empty or null; every example needs one.")
    return out


# Where each schema keeps the instruction, for the message when it is missing.
INSTRUCTION_NAMES = {"trl": "'prompt'", "chat": "the user message",
                     "text": "the instruction in 'text'"}
# Which raw field holds the input and which the response, per field-based schema.
FIELDS = {"course": ("input", "response"), "alpaca": ("input", "output"),
          "dolly": ("context", "response")}


def _normalize_prompt_completion(record: dict[str, Any], text, where: str) -> dict[str, str]:
    """TRL's prompt/completion, as text (a templated prompt is parsed back) or as messages."""
    if isinstance(record["prompt"], list):
        # TRL's conversational prompt-completion: two lists of {role, content} messages.
        if not isinstance(record["completion"], list):
            raise CourseError(
                f"{where}: 'prompt' is a list of messages, so 'completion' must be one too."
            )
        return _normalize_chat(record["prompt"] + record["completion"], where)
    prompt = text("prompt")
    parsed = parse_formatted(prompt + " ")
    if parsed is not None and parsed["response"] == "":
        out = {"instruction": parsed["instruction"], "input": parsed["input"]}
    else:
        out = {"instruction": prompt.strip(), "input": ""}
    return {**out, "response": text("completion").strip()}


def _normalize_chat(messages: Any, where: str) -> dict[str, str]:
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        raise CourseError(f"{where}: 'messages' must be a list of {{role, content}} objects.")
    turns = [(m.get("role"), _as_text(m.get("content"), "content", where)) for m in messages]
    system = [c for r, c in turns if r == "system"]
    dialog = [(r, c) for r, c in turns if r != "system"]
    if [r for r, _ in dialog] != ["user", "assistant"]:
        raise CourseError(
            f"{where}: the course's templates take one user turn then one assistant turn; "
            f"got roles {[r for r, _ in turns]}. Use TRL's chat path for multi-turn data."
        )
    return {"instruction": dialog[0][1], "input": "\n".join(system), "response": dialog[1][1]}


def is_normalized(record: Any) -> bool:
    """True for a record already in the course's {'instruction', 'input', 'response'} form."""
    return (
        isinstance(record, dict)
        and isinstance(record.get("instruction"), str)
        and isinstance(record.get("response"), str)
        and isinstance(record.get("input", ""), str | None)
        and "context" not in record  # Dolly: its context must become the input
    )
