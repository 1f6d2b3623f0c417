"""A template as a chat template: for TRL's conversational path (lesson 05), and saved with
every run so that transformers asks a tuned model the way it was tuned (chat_template).

    >>> to_messages({"instruction": "What is 2+2?", "response": "4"})["messages"][1]
    {'role': 'assistant', 'content': '4'}
    >>> attach_chat_template(tokenizer)     # doctest: +SKIP
"""

from __future__ import annotations

import json
import string
from typing import Any

from course_lib.errors import CourseError, shown
from course_lib.formatting.schemas import is_normalized, normalize_record
from course_lib.formatting.templates import (
    DEFAULT_TEMPLATE,
    TEMPLATES,
    Template,
    get_template,
)

# --- The course template as a chat template (TRL's conversational path) -----------------
# Chat data is {"messages": [{"role": "user", ...}, {"role": "assistant", ...}]}. A chat
# template (Jinja) renders it to text. This one renders the one-line template, so a
# chat record and an instruction record give the *same* tokens. The assistant's text and its
# EOS sit between {% generation %} and {% endgeneration %}: that is how transformers'
# `apply_chat_template(..., return_assistant_tokens_mask=True)` and TRL's
# `assistant_only_loss=True` know which tokens to train. The leading BOS matches a tokenizer
# that adds one (attach_chat_template below drops it for one that does not).
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

    A three-part record's input goes into the user turn after " ### Input: ",
    so CHAT_TEMPLATE renders exactly the one-line template's text.

        >>> to_messages({"instruction": "What is 2+2?", "response": "4"})["messages"][1]
        {'role': 'assistant', 'content': '4'}
    """
    if not is_normalized(record):
        record = normalize_record(record)
    user = record["instruction"]
    if record.get("input"):
        user += f" ### Input: {record['input']}"
    return {"messages": [{"role": "user", "content": user},
                         {"role": "assistant", "content": record["response"]}]}


def adds_bos(tokenizer) -> bool:
    """Whether `tokenizer(text)` puts a BOS token in front (the tiny model's does)."""
    bos = tokenizer.bos_token_id
    ids = tokenizer("a")["input_ids"]
    return bos is not None and bool(ids) and ids[0] == bos


def attach_chat_template(tokenizer, template: str = CHAT_TEMPLATE):
    """Give `tokenizer` the course's chat template (in place) and return it.

    The template's leading `{{ bos_token }}` is kept only if the tokenizer adds a BOS to
    plain text too, and followed by a space where its text needs one (fitted_chat_template),
    so chat data and prompt/completion data tokenize to the same ids.
    """
    # The model, a name or the template first were AttributeErrors about bos_token_id.
    if not hasattr(tokenizer, "apply_chat_template") or not hasattr(tokenizer, "decode"):
        what = shown(tokenizer) if isinstance(tokenizer, str) else type(tokenizer).__name__
        raise CourseError(f"attach_chat_template takes the tokenizer (and then a chat "
                          f"template), not {what}; e.g. attach_chat_template(tokenizer).")
    # A course template's name ("qa") would be the chat template's literal text: silent.
    if isinstance(template, Template) or template in TEMPLATES:
        name = template.name if isinstance(template, Template) else template
        raise CourseError(f"template must be a chat template (Jinja text), not the course "
                          f"template {name!r}; give attach_chat_template(tokenizer, "
                          f"chat_template({name!r})).")
    tokenizer.chat_template = fitted_chat_template(tokenizer, template)
    return tokenizer


def fitted_chat_template(tokenizer, template: str) -> str:
    """`template` with the BOS that `tokenizer` puts in front of plain text: none if it adds
    none, followed by a space where its text needs one (see space_after_bos)."""
    if not adds_bos(tokenizer):
        return template.replace("{{ bos_token }}", "", 1)
    if space_after_bos(tokenizer):
        return template.replace("{{ bos_token }}", "{{ bos_token + ' ' }}", 1)
    return template


def space_after_bos(tokenizer) -> bool:
    """Whether the rendered text needs a space after the BOS to tokenize as plain text does.

    Llama-2's tokenizer (TinyLlama's; transformers 5 builds it so) puts a "▁" in front of a
    text, but not after a special token: "<s>###" is "<s>", "###", where "###" alone is
    "<s>", "▁###". "<s> ###" is "<s>", "▁###" again, as the prompt was trained.
    """
    plain = tokenizer("a")["input_ids"]
    glued = tokenizer(tokenizer.bos_token + "a", add_special_tokens=False)["input_ids"]
    spaced = tokenizer(tokenizer.bos_token + " a", add_special_tokens=False)["input_ids"]
    return glued != plain and spaced == plain


# --- A run's own template as its chat template (saved with every run) -----------------------
def chat_template(template: str | Template = DEFAULT_TEMPLATE) -> str:
    """A chat template that renders messages as `template` renders a record, so that
    transformers' `apply_chat_template` and `pipeline` ask a tuned model the way it was tuned
    (every run is saved with its own; attach_chat_template drops the BOS where it must).

    System messages are the record's input, the user's message its instruction, and the
    assistant's its response and EOS (marked for `return_assistant_tokens_mask`). The prompt
    already ends where the answer starts, so the generation prompt adds nothing. The model
    learnt one question and its answer, so a conversation is refused rather than guessed at.

        >>> attach_chat_template(tokenizer, chat_template("qa"))            # doctest: +SKIP
        >>> tokenizer.apply_chat_template([{"role": "user", "content": "What is 2+2?"}],
        ...                               tokenize=False)                   # doctest: +SKIP
        '<s>Q: What is 2+2? A:'
    """
    t = get_template(template)

    def text(layout: str) -> str:  # the layout's text as Jinja strings, its slots as variables
        slots = {"instruction": "{{ dialog[0].content }}", "input": "{{ system }}", None: ""}
        return "".join(f"{{{{ {json.dumps(literal)} }}}}" + slots[field]
                       for literal, field, _, _ in string.Formatter().parse(layout))

    refusal = (f"This model was tuned on one user message and its answer, in the {t.name} "
               f"template; ask one question at a time (system messages are its input).")
    return (
        "{%- set system = messages | selectattr('role', 'equalto', 'system')"
        " | map(attribute='content') | join('\\n') -%}"
        "{%- set dialog = messages | rejectattr('role', 'equalto', 'system') | list -%}"
        "{%- if not (dialog | length in (1, 2) and dialog[0].role == 'user'"
        " and (dialog | length == 1 or dialog[1].role == 'assistant')) -%}"
        f"{{{{ raise_exception({json.dumps(refusal)}) }}}}"
        "{%- endif -%}"
        + "{{ bos_token }}"
        + "{%- if system -%}" + text(t.prompt_with_input) + "{%- else -%}" + text(t.prompt)
        + "{%- endif -%}{%- if dialog | length == 2 -%}{% generation %}"
        + f"{{{{ {json.dumps(t.response_prefix)} }}}}"
        + "{{ dialog[1].content }}{{ eos_token }}{% endgeneration %}{%- endif -%}"
    )
