"""Step 1 of the story: turn instruction records into prompt and response text.

A record has an instruction, an optional input, and a response (the seed's two-part and
three-part formats). A *template* turns it into the prompt the model reads and the
response it must learn to write:

    >>> prompt, response = format_example({"instruction": "What is 2+2?", "response": "4"})
    >>> prompt + response
    '### Instruction: What is 2+2? ### Response: 4'

Prompt and response are kept apart on purpose: the labels module tokenizes them as two
segments, so it always knows where the response starts (no searching for "### Response:").
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from course_lib.errors import CourseError


@dataclass(frozen=True)
class Template:
    """How a record becomes text. `{instruction}` and `{input}` are filled in."""

    name: str
    prompt: str  # without input
    prompt_with_input: str  # three-part records
    response_prefix: str = ""  # put before the response text, e.g. the space after "Response:"
    # What the old collator searched for to find where the response starts.
    response_marker: str = "### Response:"

    def format_prompt(self, instruction: str, input: str = "") -> str:
        layout = self.prompt_with_input if input else self.prompt
        return layout.format(instruction=instruction, input=input)

    def format_response(self, response: str) -> str:
        return self.response_prefix + response


# The seed's template: everything on one line, exactly as the seed writes it.
SEED = Template(
    name="seed",
    prompt="### Instruction: {instruction} ### Response:",
    prompt_with_input="### Instruction: {instruction} ### Input: {input} ### Response:",
    response_prefix=" ",
)

# Stanford Alpaca's multi-line template, the most copied one in the wild.
ALPACA = Template(
    name="alpaca",
    prompt=(
        "Below is an instruction that describes a task. "
        "Write a response that appropriately completes the request.\n\n"
        "### Instruction:\n{instruction}\n\n### Response:\n"
    ),
    prompt_with_input=(
        "Below is an instruction that describes a task, paired with an input that provides "
        "further context. Write a response that appropriately completes the request.\n\n"
        "### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:\n"
    ),
)

TEMPLATES: dict[str, Template] = {t.name: t for t in (SEED, ALPACA)}
DEFAULT_TEMPLATE = SEED


def get_template(template: str | Template) -> Template:
    """Look a template up by name ('seed' or 'alpaca'), or pass a Template through."""
    if isinstance(template, Template):
        return template
    try:
        return TEMPLATES[template]
    except KeyError:
        raise CourseError(
            f"Unknown template '{template}'; choose one of: {', '.join(TEMPLATES)}."
        ) from None


def format_example(
    record: dict[str, Any], template: str | Template = DEFAULT_TEMPLATE, where: str = "record"
) -> tuple[str, str]:
    """Return (prompt, response) text for a record of any known schema (see SCHEMAS).

    Records that are not already instruction/[input]/response are normalized first, so an
    Alpaca {"instruction", "input", "output"} record works as is. `where` names the record
    in error messages.

        >>> format_example({"instruction": "Say hi", "input": "", "output": "hi"}, "seed")
        ('### Instruction: Say hi ### Response:', ' hi')
    """
    t = get_template(template)
    if not _is_normalized(record):
        record = normalize_record(record, where)
    prompt = t.format_prompt(record["instruction"], record.get("input", "") or "")
    return prompt, t.format_response(record["response"])


def _is_normalized(record: Any) -> bool:
    return (
        isinstance(record, dict)
        and isinstance(record.get("instruction"), str)
        and isinstance(record.get("response"), str)
        and isinstance(record.get("input", ""), str | None)
        and "context" not in record  # Dolly: its context must become the input
    )


def format_text(record: dict[str, Any], template: str | Template = DEFAULT_TEMPLATE) -> str:
    """The whole training text, prompt then response (no EOS: the tokenizer step adds it)."""
    prompt, response = format_example(record, template)
    return prompt + response


def to_prompt_completion(
    record: dict[str, Any], template: str | Template = DEFAULT_TEMPLATE
) -> dict[str, str]:
    """The record in TRL's prompt-completion format, ready for SFTTrainer.

        >>> to_prompt_completion({"instruction": "What is 2+2?", "response": "4"})
        {'prompt': '### Instruction: What is 2+2? ### Response:', 'completion': ' 4'}
    """
    prompt, response = format_example(record, template)
    return {"prompt": prompt, "completion": response}


# --- Recognising templates in text -------------------------------------------------------
# The seed's "common mistakes" warns against mixing formats in one data set. These patterns
# recognise the usual suspects so a data set can be checked before training.
_TEXT_PATTERNS: dict[str, re.Pattern] = {
    "alpaca": re.compile(
        r"^(?:.*?\n\n)?### Instruction:\n(?P<instruction>.*?)\n\n"
        r"(?:### Input:\n(?P<input>.*?)\n\n)?### Response:\n(?P<response>.*)$",
        re.S,
    ),
    "seed": re.compile(
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
    """Name the template a formatted text uses ('seed', 'alpaca', 'human_assistant', 'qa')."""
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
    "seed": "instruction / [input] / response",
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
        return "seed"
    if "text" in keys:
        return "text"
    raise CourseError(
        f"record has fields {sorted(keys)} which match no known schema; "
        f"use one of: " + "; ".join(f"{k} ({v})" for k, v in SCHEMAS.items()) + "."
    )


def normalize_record(record: dict[str, Any], where: str = "record") -> dict[str, str]:
    """Map any known schema to {'instruction', 'input', 'response'}.

    `where` names the record in error messages, e.g. "data.jsonl line 7".

        >>> normalize_record({"instruction": "Say hi", "input": "", "output": "hi"})
        {'instruction': 'Say hi', 'input': '', 'response': 'hi'}
    """
    if not isinstance(record, dict):
        raise CourseError(f"{where}: expected a JSON object, got {type(record).__name__}.")
    try:
        schema = detect_schema(record)
    except CourseError as err:
        raise CourseError(f"{where}: {err}") from None

    def text(field: str) -> str:
        return _as_text(record.get(field), field, where)

    # Which raw field holds the input and which the response, per schema.
    fields = {"seed": ("input", "response"), "alpaca": ("input", "output"),
              "dolly": ("context", "response")}
    if schema in fields:
        input_field, response_field = fields[schema]
        out = {"instruction": text("instruction"), "input": text(input_field),
               "response": text(response_field)}
    elif schema == "trl" and isinstance(record["prompt"], list):
        # TRL's conversational prompt-completion: two lists of {role, content} messages.
        completion = record["completion"]
        if not isinstance(completion, list):
            raise CourseError(
                f"{where}: 'prompt' is a list of messages, so 'completion' must be one too."
            )
        out = _normalize_chat(record["prompt"] + completion, where)
    elif schema == "trl":
        prompt = text("prompt")
        parsed = parse_formatted(prompt + " ")  # a templated prompt is parsed back
        if parsed is not None and parsed["response"] == "":
            out = {"instruction": parsed["instruction"], "input": parsed["input"]}
        else:
            out = {"instruction": prompt.strip(), "input": ""}
        out["response"] = text("completion").strip()
    elif schema == "chat":
        out = _normalize_chat(record["messages"], where)
    else:  # text
        parsed = parse_formatted(text("text"))
        if parsed is None:
            raise CourseError(
                f"{where}: 'text' uses no template the course knows, so the response cannot be "
                f"found; give instruction/response fields instead."
            )
        out = parsed
    if not out["instruction"].strip():
        raise CourseError(f"{where}: the instruction is empty; every example needs one.")
    return out


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


def template_counts(records: list[dict[str, Any]]) -> Counter:
    """How many raw records use each template ('structured' for field-based records)."""
    counts: Counter = Counter()
    for r in records:
        if "text" in r and isinstance(r["text"], str) and len(r) == 1:
            counts[detect_template(r["text"]) or "unknown"] += 1
        else:
            counts["structured"] += 1
    return counts


def check_consistent_templates(records: list[dict[str, Any]]) -> list[str]:
    """Warnings, one per minority template, naming example indices (empty list = consistent)."""
    kinds = []
    for r in records:
        if isinstance(r.get("text"), str):
            kinds.append(detect_template(r["text"]) or "unknown")
        else:
            kinds.append("structured")
    counts = Counter(kinds)
    if len(counts) <= 1:
        return []
    majority = counts.most_common(1)[0][0]
    warnings = []
    for kind, n in counts.items():
        if kind == majority:
            continue
        idx = [i for i, k in enumerate(kinds) if k == kind]
        shown = ", ".join(map(str, idx[:5])) + (" …" if len(idx) > 5 else "")
        warnings.append(
            f"{n} example(s) use the '{kind}' format while most use '{majority}' "
            f"(examples {shown}); reformat them with one template."
        )
    return warnings


# --- The course template as a chat template (TRL's conversational path) -----------------
# Chat data is {"messages": [{"role": "user", ...}, {"role": "assistant", ...}]}. A chat
# template (Jinja) renders it to text. This one renders the seed's one-line format, so a
# chat record and an instruction record give the *same* tokens. The assistant's text and its
# EOS sit between {% generation %} and {% endgeneration %}: that is how transformers'
# `apply_chat_template(..., return_assistant_tokens_mask=True)` and TRL's
# `assistant_only_loss=True` know which tokens to train. The leading BOS matches a tokenizer
# that adds one (course_lib.sft.attach_chat_template drops it for one that does not).
CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "{% if message['role'] == 'user' %}"
    "### Instruction: {{ message['content'] }} ### Response:"
    "{% elif message['role'] == 'assistant' %}"
    "{% generation %} {{ message['content'] }}{{ eos_token }}{% endgeneration %}"
    "{% endif %}"
    "{% endfor %}"
)

# The same template without the markers: the assistant mask comes out all zeros (pitfall).
CHAT_TEMPLATE_WITHOUT_MARKERS = CHAT_TEMPLATE.replace("{% generation %}", "").replace(
    "{% endgeneration %}", ""
)


def to_messages(record: dict[str, Any]) -> dict[str, list[dict[str, str]]]:
    """The record as chat data: one user turn, one assistant turn.

    A three-part record's input goes into the user turn after the seed's " ### Input: ",
    so CHAT_TEMPLATE renders exactly the seed template's text.

        >>> to_messages({"instruction": "What is 2+2?", "response": "4"})["messages"][1]
        {'role': 'assistant', 'content': '4'}
    """
    if not _is_normalized(record):
        record = normalize_record(record)
    user = record["instruction"]
    if record.get("input"):
        user += f" ### Input: {record['input']}"
    return {"messages": [{"role": "user", "content": user},
                         {"role": "assistant", "content": record["response"]}]}
