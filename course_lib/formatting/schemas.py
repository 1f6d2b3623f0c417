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

import difflib
import functools
import json
import math
import re
from collections.abc import Collection
from typing import Any

from course_lib.errors import CourseError, is_number, shown

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
    "sharegpt": "conversations: [{from, value}, ...]",
    "text": "text, already formatted with a known template",
}


def _as_text(value: Any, field: str, where: str) -> str:
    if value is None:
        return ""
    # A number where text belongs ("output": 4) is its text; conversion_notes counts such rows.
    if is_text_number(value):
        return str(value)
    if not isinstance(value, str):
        raise CourseError(
            f"{where}: field '{field}' should be text but is {json_kind(value)}; "
            f"make it a JSON string."
        )
    # Half of a surrogate pair ("\ud83d" escaped alone in JSON) is not UTF-8 text: the
    # tokenizer would raise a TypeError naming no row.
    half = _SURROGATE.search(value)
    if half:
        raise CourseError(
            f"{where}: field '{field}' holds half of a character (a lone \\u"
            f"{ord(half.group()):x} escape, e.g. a cut emoji); remove it or write the whole "
            f"character."
        )
    # Windows line breaks (Excel's, inside a cell) would be trained as a '\r' token; counted too.
    return _WINDOWS_BREAK.sub("\n", value)


_SURROGATE = re.compile("[\ud800-\udfff]")
_WINDOWS_BREAK = re.compile("\r\n?")


def json_kind(value: Any) -> str:
    """A value named as a data file writes it, not as Python's type ('NoneType', 'bool').

        >>> json_kind(None), json_kind(True), json_kind({"a": 1}), json_kind(float("nan"))
        ('null', 'true', 'an object', 'NaN')
    """
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if is_number(value) and not math.isfinite(value):
        return json.dumps(float(value))  # NaN, Infinity: Python's json writes them so
    kinds = {dict: "an object", list: "a list", tuple: "a list", str: "a string"}
    kind = next((k for t, k in kinds.items() if isinstance(value, t)), None)
    return kind or ("a number" if is_number(value) else type(value).__name__)


def is_text_number(value: Any) -> bool:
    """An int or a finite float, read as its text; a bool (JSON's true) or NaN is no text."""
    return is_number(value) and math.isfinite(value)


def detect_schema(record: dict[str, Any]) -> str:
    """Which of SCHEMAS a raw record follows (raises CourseError if none)."""
    if isinstance(record, str):  # its letters were read as fields
        raise CourseError(f"detect_schema reads one record (a dict), not {shown(record)}; "
                          f"load a file's records first: load_records(path).")
    if not hasattr(record, "keys"):  # a list was "unhashable type: 'dict'"
        raise CourseError(f"detect_schema reads one record (a dict), not a "
                          f"{type(record).__name__}; for a list, [detect_schema(r) for r in "
                          f"records].")
    keys = set(_known_keys(record))
    # Most specific first: a chat or TRL record may carry other keys alongside.
    if "messages" in keys:
        return "chat"
    if {"prompt", "completion"} <= keys:
        return "trl"
    if "instruction" in keys and "output" in keys:
        return "alpaca"
    # Dolly before the course's schema: it has instruction and response too, plus context.
    if "instruction" in keys and "context" in keys and "response" in keys:
        return "dolly"
    if "instruction" in keys and "response" in keys:
        return "course"
    # "text" last: rows of other schemas often keep a text column next to their fields.
    if "text" in keys:
        return "text"
    # ShareGPT keeps its messages under another name, as {from, value}: read by _sharegpt.
    if "conversations" in keys:
        return "sharegpt"
    # Other names for the question and the answer (GSM8K's question/answer): say which to rename.
    renames = renames_to_a_schema(keys)
    if renames:
        raise CourseError(f"record has fields {sorted(keys)}, which no schema the course reads "
                          f"uses; rename {renames_said(renames)}.")
    # Half of a schema: the missing field is named, not every schema the course reads.
    for has, lacks, add in _HALVES:
        if has in keys and not keys & set(lacks):
            raise CourseError(f"record has '{has}' but no {' or '.join(map(repr, lacks))}; add "
                              f"{add}.")
    # Every schema's fields are listed, so the learner sees which key to rename.
    raise CourseError(
        f"record has fields {sorted(keys)} which match no known schema; "
        f"use one of: " + "; ".join(f"{k} ({v})" for k, v in SCHEMAS.items()) + "."
    )


# A field of a schema, the fields that would complete a row holding it, and what to add.
_HALVES = (("instruction", ("response", "output"), "the answer under 'response'"),
           ("prompt", ("completion",), "the answer under 'completion'"),
           ("completion", ("prompt",), "the question under 'prompt'"),
           ("response", ("instruction",), "the question under 'instruction'"),
           ("output", ("instruction",), "the question under 'instruction'"))


# What public data sets call the question and the answer, in the order a rename prefers them
# ('input' is alpaca's context, so a 'question' beside it is the instruction).
QUESTION_NAMES = ("instruction", "question", "query", "prompt", "inputs", "input")
ANSWER_NAMES = ("response", "output", "answer", "completion", "target", "targets", "outputs",
                "solution")


def renames_to_a_schema(keys: Collection[Any]) -> dict[str, str]:
    """The fewest renames that make keys of other names a record of the course's schema
    (instruction / response, or alpaca's output), or {} if there is no question and answer.

        >>> renames_to_a_schema(["question", "answer"])
        {'question': 'instruction', 'answer': 'response'}
        >>> renames_to_a_schema(["input", "output"])
        {'input': 'instruction'}
    """
    named = {k.strip().lower(): k for k in keys if isinstance(k, str)}  # 'Question' too
    question = next((k for k in QUESTION_NAMES if k in named), None)
    answer = next((k for k in ANSWER_NAMES if k in named and k != question), None)
    if question is None or answer is None:
        return {}
    # 'output' stays: instruction / output is alpaca's schema.
    renames = {question: "instruction", answer: "output" if answer == "output" else "response"}
    return {named[old]: new for old, new in renames.items() if named[old] != new}


def renames_said(renames: dict[str, str]) -> str:
    return " and ".join(f"'{old}' to '{new}'" for old, new in renames.items())


def _refuse_null_answer(record: dict[str, Any], field: str, where: str) -> None:
    """A null answer is a missing value (a pandas NaN, an empty cell of a Parquet file), not
    the answer "nothing": refused, as a null instruction is; "" still trains an empty answer.
    A table's row holds 'output' and 'response' both: null only when both are."""
    answers = [record[f] for f in dict.fromkeys((field, "response")) if f in record]
    if answers and all(answer is None for answer in answers):
        raise CourseError(f"{where}: '{field}' is null, a missing answer; fill it in, or give "
                          f"\"\" to train the answer 'nothing' on purpose.")


def _one_answer(output: str, response: str, where: str) -> str:
    """The answer of a row with both 'output' and 'response': the one that is filled in (a
    table's row has every column, empty where unused); two different ones are refused."""
    if not output.strip():
        return response
    if response.strip() and response.strip() != output.strip():
        raise CourseError(f"{where}: 'output' and 'response' hold different answers; keep the "
                          f"right one and remove the other.")
    return output


def known_renames(keys: Collection[Any]) -> dict[str, str]:
    """Keys or columns to read as the field they name ('Instruction', 'output '), unless that
    field is there already; the first of two that name one field wins."""
    return dict(_renames(tuple(keys)))


# Once per set of keys, not per row: reading a file asks it of every row several times.
@functools.lru_cache(maxsize=1024)
def _renames(keys: tuple[Any, ...]) -> dict[str, str]:
    present, renames = set(keys), {}
    for key in keys:
        known = key.strip().lower() if isinstance(key, str) else key
        if known != key and known in KNOWN_FIELDS and known not in present:
            renames[key] = known
            present.add(known)
    return renames


def _known_keys(record: dict[str, Any]) -> dict[str, Any]:
    """A record with its keys read as known_renames says, as a table's columns are."""
    renames = known_renames(record)
    return {renames.get(k, k): v for k, v in record.items()} if renames else record


def normalize_record(record: dict[str, Any], where: str = "record") -> dict[str, str]:
    """Map any known schema to {'instruction', 'input', 'response'}.

    `where` names the record in error messages, e.g. "data.jsonl line 7". A `{"text"}` record
    also keeps the name of the template it is written in, so it trains in that template:

        >>> normalize_record({"instruction": "Say hi", "input": "", "output": "hi"})
        {'instruction': 'Say hi', 'input': '', 'response': 'hi'}
        >>> normalize_record({"text": "Q: What is 2+2? A: 4"})["template"]
        'qa'
    """
    if not isinstance(record, dict):
        # A list given to a one-record call (format_text, to_messages): say what to do.
        hint = ("; give one record, or call it on each record of the list"
                if where == "record" and isinstance(record, list | tuple) else
                # A DataFrame's row (df.iloc[0]): its dict is the record, without the empty
                # cells (NaN), which are no text.
                "; give the row as a dict: row.dropna().to_dict()" if hasattr(record, "to_dict")
                else "")
        raise CourseError(f"{where}: expected a JSON object, got {json_kind(record)}{hint}.")
    record = _known_keys(record)
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
        if schema == "alpaca" and "response" in record:  # both fields (a table has every column)
            out["response"] = _one_answer(out["response"], text("response"), where)
        if schema == "course" and (kept := kept_template(record)):
            # A record normalized already (load_records' rows): a text row's template goes on
            # with it, so train(load_records(path)) formats each row as train(path) does.
            out["template"] = kept
    elif schema == "trl":
        out = _normalize_prompt_completion(record, text, where)
    elif schema == "chat":
        out = _normalize_chat(record["messages"], where)
    elif schema == "sharegpt":
        out = _normalize_chat(_sharegpt_messages(record["conversations"], where), where)
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
    if schema in FIELDS or schema == "trl":
        _refuse_null_answer(record, FIELDS.get(schema, ("", "completion"))[1], where)
    return out


# Where each schema keeps the instruction, for the message when it is missing.
INSTRUCTION_NAMES = {"trl": "'prompt'", "chat": "the user message", "sharegpt": "the user message",
                     "text": "the instruction in 'text'"}
# Which raw field holds the input and which the response, per field-based schema.
FIELDS = {"course": ("input", "response"), "alpaca": ("input", "output"),
          "dolly": ("context", "response")}
# The fields each schema reads as text (chat keeps its text inside 'messages'), and every
# field any schema reads: a table column is checked against these once, not row by row.
TEXT_FIELDS = {**{schema: ("instruction", *fields) for schema, fields in FIELDS.items()},
               "trl": ("prompt", "completion"), "chat": (), "sharegpt": (), "text": ("text",)}
KNOWN_FIELDS = frozenset({"messages", "conversations",
                          *(f for fields in TEXT_FIELDS.values() for f in fields)})


# The fields that make a row one of a schema's: a row with none of them filled is not one.
OWN_FIELDS = {**TEXT_FIELDS, "chat": ("messages",), "sharegpt": ("conversations",)}


def as_its_own_format(row: dict[str, Any]) -> dict[str, Any]:
    """A table's row as the record it was. A table gives every row every column, empty where a
    row had no such field (None from pandas or datasets reading a JSON Lines file of several
    formats, "" in a CSV file): a row that fills none of the fields of the schema its columns
    make is read by the fields it fills, so a 'text' row beside alpaca rows is no alpaca row
    with an empty 'instruction'. A row that fills any of them stays whole: its missing answer
    is refused as before."""
    schema = _schema_or_none(row)
    if schema is None or any(_filled(value) for field, value in _known_keys(row).items()
                             if field in OWN_FIELDS[schema]):
        return row
    filled = {key: value for key, value in row.items() if _filled(value)}
    return filled if _schema_or_none(filled) not in (None, schema) else row


def _filled(value: Any) -> bool:
    """A table's cell that holds something: not None (pandas, datasets) and not "" (CSV)."""
    return value is not None and value != ""


def text_fields(fields: Any) -> tuple[str, ...]:
    """The fields that records with these keys are read from as text; () if no schema fits.

        >>> text_fields(["instruction", "input", "output", "id"])
        ('instruction', 'input', 'output')
    """
    try:
        return TEXT_FIELDS[detect_schema(dict.fromkeys(fields))]
    except CourseError:
        return ()


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
    if isinstance(messages, str):  # a table's cell: what df.to_csv wrote of a list
        raise CourseError(f"{where}: 'messages' is text, not a list of {{role, content}} "
                          f"objects, as a CSV or TSV cell holds text only; write chat rows to "
                          f"a JSON Lines or Parquet file instead.")
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        raise CourseError(f"{where}: 'messages' must be a list of {{role, content}} objects.")
    # A message without 'role' (ShareGPT's 'from'/'value'): name the keys, not "roles [None]".
    if not all("role" in m for m in messages):
        raise CourseError(f"{where}: {_chat_keys_problem(messages)}")
    turns = [(m["role"], _as_text(_parts_text(m.get("content"), where), "content", where))
             for m in messages]
    # Roles the templates do not take, or not one user turn then one assistant turn: say which.
    problem = _roles_problem([r for r, _ in turns])
    if problem:
        raise CourseError(f"{where}: {problem}")
    system = [c for r, c in turns if r == "system"]
    dialog = [(r, c) for r, c in turns if r != "system"]
    return {"instruction": dialog[0][1], "input": "\n".join(system), "response": dialog[1][1]}


def _parts_text(content: Any, where: str) -> Any:
    """OpenAI's content parts, [{"type": "text", "text": ...}, ...], as their text joined (as
    chat templates join them); any other content is returned as it is, for _as_text to check."""
    if not isinstance(content, list) or not all(isinstance(p, dict) for p in content):
        return content
    other = next((p.get("type") for p in content if p.get("type") != "text"), None)
    if other is not None:
        raise CourseError(f"{where}: a message holds a part of type {other!r}; the course trains "
                          f"on text only, so keep its {{\"type\": \"text\"}} parts.")
    return "".join(_as_text(p.get("text"), "text", where) for p in content)


# Speaker names other chat formats use (ShareGPT's human/gpt, Gemini's model), as roles.
ROLE_RENAMES = {"human": "user", "gpt": "assistant", "bot": "assistant", "model": "assistant",
                "ai": "assistant", "chatgpt": "assistant"}


def _chat_keys_problem(messages: list[dict[str, Any]]) -> str:
    """What to rename when messages are not {role, content}: ShareGPT's, or any other keys."""
    keys = sorted({k for m in messages for k in m})
    if not {"from", "value"} & set(keys):
        return (f"messages need 'role' and 'content' keys, but they have {keys}; rename "
                f"them.")
    speakers = [m.get("from") for m in messages if isinstance(m.get("from"), str)]
    renames = [f"'{s}' to '{ROLE_RENAMES[s.lower()]}'" for s in dict.fromkeys(speakers)
               if s.lower() in ROLE_RENAMES]
    also = f", and {' and '.join(renames)}" if renames else ""
    return (f"messages need 'role' and 'content' keys; this looks like ShareGPT "
            f"('from'/'value'): rename them to 'role'/'content'{also}.")


# OpenAI's, its older name, Llama 3's, and ShareGPT's (LLaMA-Factory's call and its result).
TOOL_ROLES = ("tool", "function", "ipython", "function_call", "observation")


def _sharegpt_messages(turns: Any, where: str) -> list[dict[str, Any]]:
    """ShareGPT's [{from, value}, ...] as {role, content} messages ('human' as 'user', a
    speaker the course does not know kept, for _roles_problem to name); other keys refused."""
    # Only the exact rename is made: any other shape is told what to rename, as before.
    if not isinstance(turns, list) or not turns or not all(
            isinstance(t, dict) and {"from", "value"} <= set(t) and not {"role", "content"} & set(t)
            for t in turns):
        raise CourseError(f"{where}: this looks like ShareGPT ('conversations'): rename it to "
                          f"'messages', and in each message 'from'/'value' to 'role'/'content' "
                          f"('human' to 'user', 'gpt' to 'assistant').")
    return [{"role": _role_for(t["from"]) or t["from"], "content": t["value"]} for t in turns]


def sharegpt_speakers(record: Any) -> dict[str, str] | None:
    """The speakers a ShareGPT row renames, {'human': 'user', 'gpt': 'assistant'}; None for
    a row of another schema: what records.conversion_notes says was renamed."""
    if not isinstance(record, dict) or _schema_or_none(record) != "sharegpt":
        return None
    turns = _list(_known_keys(record)["conversations"])
    speakers = [t.get("from") for t in turns if isinstance(t, dict)]
    return {s: _role_for(s) for s in speakers if _role_for(s) not in (None, s)}


def unread_fields(record: Any) -> list[str]:
    """The fields of a row that its schema leaves unread though they look meant to train:
    another schema's ('context' beside alpaca's 'input', 'response' beside 'completion'),
    another name for a question or answer ('answer') or a near-miss of a field ('inputs').
    An 'id' or 'category' is not named, nor a 'text' beside the fields (many sets keep the
    formatted row too), for records.conversion_notes to name.

        >>> unread_fields({"instruction": "Sum up", "inputs": "A long text", "response": "Short"})
        ['inputs']
    """
    if not isinstance(record, dict):
        return []
    # An empty cell (a table gives every row every column) holds nothing left out.
    known = _known_keys(record)
    return [key for key in _unread_of_keys(tuple(record)) if _filled(known[key])]


@functools.lru_cache(maxsize=1024)  # once per set of keys, as the schema
def _unread_of_keys(keys: tuple[Any, ...]) -> tuple[str, ...]:
    schema = _schema_of_keys(keys)
    if schema is None:
        return ()
    read = {*TEXT_FIELDS[schema], "messages", "conversations", "text"}
    if schema == "alpaca":
        read.add("response")  # _one_answer reads it
    return tuple(key for key in _known_keys(dict.fromkeys(keys))
                 if isinstance(key, str) and key not in read and _looks_like_a_field(key))


def _looks_like_a_field(key: str) -> bool:
    """A schema's field, another name for a question or answer ('answer'), or a near miss."""
    return (key in KNOWN_FIELDS or key in QUESTION_NAMES + ANSWER_NAMES
            or bool(difflib.get_close_matches(key, KNOWN_FIELDS, n=1, cutoff=0.8)))


def _schema_or_none(record: dict[str, Any]) -> str | None:
    return _schema_of_keys(tuple(record))


@functools.lru_cache(maxsize=1024)  # a schema is its keys': once per set of them
def _schema_of_keys(keys: tuple[Any, ...]) -> str | None:
    try:
        return detect_schema(dict.fromkeys(keys))
    except CourseError:
        return None


def read_texts(record: Any) -> list[Any]:
    """The raw values a record's text is read from (its schema's fields, and each message's
    content), for records.conversion_notes to count the numbers and Windows line breaks."""
    schema = _schema_or_none(record) if isinstance(record, dict) else None
    if schema is None:
        return []
    record = _known_keys(record)
    messages = {"chat": record.get("messages"), "sharegpt": record.get("conversations"),
                "trl": [*_list(record.get("prompt")), *_list(record.get("completion"))]}
    key = "value" if schema == "sharegpt" else "content"
    inside = [m.get(key) for m in _list(messages.get(schema)) if isinstance(m, dict)]
    return [record.get(field) for field in TEXT_FIELDS[schema]] + inside


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _role_for(role: Any) -> str | None:
    """The course's name for another tool's speaker name ('User', 'human', 'gpt'), if any."""
    if not isinstance(role, str):
        return None
    name = role.strip().lower()
    return name if name in ("system", "user", "assistant") else ROLE_RENAMES.get(name)


def _roles_problem(roles: list[Any]) -> str | None:
    """Why these roles do not make one example (None if they do), with what to change."""
    unknown = [r for i, r in enumerate(roles)  # each once, in order (a role may be a list)
               if r not in ("system", "user", "assistant") and r not in roles[:i]]
    tools = [r for r in unknown if r in TOOL_ROLES]
    if tools:  # function calling: no rename makes it one question and its answer
        return (f"the row has {' and '.join(map(repr, tools))} messages (tool calls), which "
                f"the course's templates do not take; leave such rows out, or train them with "
                f"TRL's SFTTrainer (lesson 05).")
    if unknown:  # e.g. 'human'/'gpt': a rename, not multi-turn data
        renames = [f"{r!r} to '{_role_for(r)}'" if _role_for(r)
                   else f"{r!r} to 'user' or 'assistant'" for r in unknown]
        return (f"roles must be user and assistant (system allowed), but the row has {unknown}; "
                f"rename {' and '.join(renames)}.")
    dialog = [r for r in roles if r != "system"]
    if dialog == ["user", "assistant"]:
        return None
    got = f"the course's templates take one user turn then one assistant turn; got roles {roles}"
    if dialog.count("user") > 1:  # really a conversation: TRL trains those as chat
        return (f"{got}: a conversation. Split it into rows of one user turn and its answer, "
                f"or train it with TRL's SFTTrainer and assistant_only_loss=True (lesson 05).")
    if "assistant" not in dialog:
        return f"{got}; add the assistant's answer after the user turn."
    if "user" not in dialog:
        return f"{got}; add the user's question before the assistant turn."
    return f"{got}; give exactly one user turn, then one assistant turn."


def has_system_message(record: Any) -> bool:
    """Whether a chat row carries a system message, which normalize_record makes its 'input'
    (the templates have no system part); records.conversion_notes counts such rows.

        >>> has_system_message({"messages": [{"role": "system", "content": "Be brief."}]})
        True
    """
    if not isinstance(record, dict):
        return False
    # Chat, TRL's conversational prompt, and ShareGPT (whose speaker is its 'from').
    lists = [record.get("messages"), record.get("prompt"), record.get("conversations")]
    return any(isinstance(m, dict) and "system" in (m.get("role"), m.get("from"))
               for messages in lists if isinstance(messages, list) for m in messages)


def kept_template(record: dict[str, Any]) -> str | None:
    """The template a record normalized already keeps from the text row it was ('qa'); None
    for any other record (a raw row's own 'template' column is not one of these)."""
    template = record.get("template")
    return template if template in _TEXT_PATTERNS and is_normalized(record) else None


def is_normalized(record: Any) -> bool:
    """True for a record already in the course's {'instruction', 'input', 'response'} form."""
    return (
        isinstance(record, dict)
        and isinstance(record.get("instruction"), str)
        and isinstance(record.get("response"), str)
        and isinstance(record.get("input", ""), str | None)
        and "context" not in record  # Dolly: its context must become the input
    )
