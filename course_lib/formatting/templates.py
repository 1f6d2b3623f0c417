"""Step 1 of the story: turn instruction records into prompt and response text.

A record has an instruction, an optional input, and a response (two-part and three-part
records). A *template* turns it into the prompt the model reads and the response it must
learn to write:

    >>> prompt, response = format_example({"instruction": "What is 2+2?", "response": "4"})
    >>> prompt + response
    '### Instruction: What is 2+2? ### Response: 4'

Prompt and response are kept apart on purpose: the masking stage tokenizes the prompt alone
and the whole text, so it always knows where the response starts (no searching for
"### Response:")."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from course_lib.errors import CourseError, shown
from course_lib.formatting.schemas import is_normalized, kept_template, normalize_record


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


# The one-line template, the one instruction-tuning guides show; note the space that
# glues "### Response:" to the text before it (lesson 03 shows why that matters).
ONE_LINE = Template(
    name="one_line",
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

# Two layouts found in data sets glued together from several sources (lesson 07 trains on a
# mix of all three). They have no input slot: the input follows the instruction after a space.
HUMAN_ASSISTANT = Template(
    name="human_assistant",
    prompt="Human: {instruction} Assistant:",
    prompt_with_input="Human: {instruction} {input} Assistant:",
    response_prefix=" ",
    response_marker="Assistant:",
)
QA = Template(
    name="qa",
    prompt="Q: {instruction} A:",
    prompt_with_input="Q: {instruction} {input} A:",
    response_prefix=" ",
    response_marker="A:",
)

TEMPLATES: dict[str, Template] = {t.name: t for t in (ONE_LINE, ALPACA, HUMAN_ASSISTANT, QA)}
DEFAULT_TEMPLATE = ONE_LINE


def get_template(template: str | Template) -> Template:
    """Look a template up by name (one of TEMPLATES), or pass a Template through.

    >>> list(TEMPLATES), get_template("qa").format_prompt("What is 2+2?")
    (['one_line', 'alpaca', 'human_assistant', 'qa'], 'Q: What is 2+2? A:')
    """
    if isinstance(template, Template):
        return template
    # A record where the template goes (format_text(ONE_LINE, record)) was "unhashable type".
    if isinstance(template, Mapping):
        raise CourseError("template is a record (a dict); give the record first, then the "
                          "template: format_text(record, ONE_LINE).")
    if not isinstance(template, str):
        raise CourseError(f"template must be a template name ({', '.join(TEMPLATES)}) or a "
                          f"Template such as ONE_LINE, not {shown(template)}.")
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

        >>> format_example({"instruction": "Say hi", "input": "", "output": "hi"}, "one_line")
        ('### Instruction: Say hi ### Response:', ' hi')
    """
    t = get_template(template)
    if not is_normalized(record):
        record = normalize_record(record, where)
    prompt = t.format_prompt(record["instruction"], record.get("input", "") or "")
    return prompt, t.format_response(record["response"])


def format_as_trained(record: dict[str, Any], template: str | Template = DEFAULT_TEMPLATE,
                      where: str = "record") -> tuple[str, str]:
    """format_example in the template training uses for this record: a {"text"} row's own (the
    text as written, which any trainer that reads the text sees), any other in `template`.
    Every way of labelling goes through it, so they differ in their labels, not their text."""
    if not is_normalized(record):
        record = normalize_record(record, where)
    return format_example(record, kept_template(record) or template, where)


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
