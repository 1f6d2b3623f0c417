"""Ask a model: raw completion (lesson 01), templated answers, and answer tables.

    >>> complete(model, tok, "What is 2+2?")                 # doctest: +SKIP
    ' What is 3+3? What is 4+4?'                            # a base model just continues
    >>> generate(model, tok, "What is 2+2?")                 # doctest: +SKIP
    '4'                                                     # response only, stops at EOS
    >>> answer_table(["What is 2+2?"], {"base": base, "tuned": tuned}, tok)   # doctest: +SKIP

Every call takes one `GenerationSettings` (greedy by default), so a comparison generates
the same way for every model. Prompts are batched with left padding, and each row stops at
the tokenizer's EOS, the token the labels train the model to emit.
"""

from __future__ import annotations

import dataclasses
import difflib
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import torch

from course_lib.env import evaluating
from course_lib.errors import CourseError, is_number, is_whole, shown
from course_lib.evaluation.metrics import exact_match
from course_lib.formatting.rows import listed
from course_lib.formatting.templates import DEFAULT_TEMPLATE, Template, get_template


@dataclass(frozen=True)
class GenerationSettings:
    """How to generate, in one object: greedy unless do_sample=True (then temperature, top_p).

        >>> GenerationSettings(max_new_tokens=8).do_sample
        False
    """

    max_new_tokens: int = 32
    do_sample: bool = False
    temperature: float = 0.8
    top_p: float = 0.95
    seed: int | None = None  # fixes the draw when sampling

    def __post_init__(self) -> None:
        # In the course's words: transformers said "`max_new_tokens` must be greater than 0"
        # or raised a TypeError, only once the model was generating.
        if not is_whole(self.max_new_tokens):
            raise CourseError(f"max_new_tokens must be a whole number, not "
                              f"{shown(self.max_new_tokens)}.")
        if self.max_new_tokens < 1:
            raise CourseError(f"max_new_tokens must be at least 1, not {self.max_new_tokens}.")
        if self.do_sample and not (is_number(self.temperature) and self.temperature > 0):
            raise CourseError(f"temperature must be a number above 0 when sampling, not "
                              f"{shown(self.temperature)}; do_sample=False answers greedily.")

    def generate_kwargs(self) -> dict:
        """The keywords for `model.generate` (greedy turns the sampling knobs off explicitly)."""
        if self.do_sample:
            return {"do_sample": True, "temperature": self.temperature, "top_p": self.top_p}
        return {"do_sample": False, "temperature": None, "top_p": None, "top_k": None}


GREEDY = GenerationSettings()


def settings_from(settings: GenerationSettings | None, **fields) -> GenerationSettings:
    """`settings` (default greedy) with any fields given by name replaced."""
    known = [f.name for f in dataclasses.fields(GenerationSettings)]
    for key in fields:  # a misspelt keyword was a TypeError about GenerationSettings.__init__
        if key not in known:
            near = difflib.get_close_matches(key, known, n=1)
            hint = f" (did you mean {near[0]}?)" if near else ""
            raise CourseError(f"{key} is not a generation setting{hint}; use one of: "
                              f"{', '.join(known)}.")
    return replace(settings or GREEDY, **fields)


# --- Arguments, checked before generating: each was an error from deep inside, or silent ---
def check_pair(model, tokenizer, call: str) -> None:
    """The model, then its tokenizer (swapped, or a name for the tokenizer: AttributeErrors
    or TypeErrors from inside torch); `call` shows the order."""
    if hasattr(model, "history") and hasattr(model, "model"):  # what train() returned
        raise CourseError(f"model is a train() result; give its model: {call} with "
                          f"model=result.model (e.g. masked.model).")
    if not hasattr(model, "generate") or hasattr(model, "decode") or \
            not hasattr(tokenizer, "decode"):
        raise CourseError(f"Give the model, then its tokenizer: {call}; got "
                          f"{type(model).__name__} and {type(tokenizer).__name__}.")


def _check_texts(name: str, texts, one: str) -> list[str]:
    """A list of strings: one string was answered letter by letter."""
    if isinstance(texts, str):
        raise CourseError(f"{name} must be a list of strings; for one, {one}.")
    return listed(texts)  # any container, read once (a Series by position, not its index)


def _check_one(name: str, text, several: str) -> None:
    """One string: a list was answered for its first text only, or formatted as "['a']"."""
    if not isinstance(text, str):
        raise CourseError(f"{name} must be one string, not a {type(text).__name__}; for "
                          f"several, call {several}.")


def _entries(name: str, given: Any) -> list[str] | None:
    """inputs= or expected= in any container, as a list read once (a generator had no len(),
    `if given` of a Series or an array was ambiguous); one string (an entry per letter) is
    refused."""
    if given is None:
        return None
    if isinstance(given, str):
        raise CourseError(f"{name} must be a list of strings, one per prompt, not one string; "
                          f"put it in a list: {name}=[{given[:30]!r}].")
    return listed(given)


def _check_count(name: str, given: Sequence | None, n: int, per: str, advice: str) -> None:
    """One entry per prompt: zip() said 'argument 2 is shorter than argument 1'."""
    if given and len(given) != n:
        entries = "entry" if len(given) == 1 else "entries"
        raise CourseError(f"{name} has {len(given)} {entries} for {n} {per}; {advice}.")


def generate_ids(model, tokenizer, texts: Sequence[str],
                 settings: GenerationSettings = GREEDY) -> list[list[int]]:
    """New token ids for each text, batched with left padding (the way decoders need it).

    Each row ends just after its first EOS when the model stopped, so `row[-1] == eos` tells
    whether it stopped by itself; decoding with skip_special_tokens=True drops the EOS.
    """
    if not texts:
        return []  # nothing to answer (the tokenizer raised an IndexError)
    # Seeded just before generating, so a sampled answer is the same on every rerun.
    if settings.seed is not None:
        torch.manual_seed(settings.seed)
    pad_id = (
        tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    )
    # A prompt past the model's context, less room for the answer, is cut from the left: its
    # end (the question and the response marker) stays, and a 10,000-token prompt does not
    # cost minutes for an answer that means little (report.too_long says so).
    context = getattr(getattr(model, "config", None), "max_position_embeddings", None)
    room = context - settings.max_new_tokens if context else 0
    cut = {"truncation": True, "max_length": room} if room > 0 else {}
    # Restored afterwards: the tokenizer is the learner's, and training pads it on the right.
    sides = tokenizer.padding_side, tokenizer.truncation_side, tokenizer.pad_token
    tokenizer.padding_side = tokenizer.truncation_side = "left"  # answers follow the prompt
    if tokenizer.pad_token is None:  # padding needs one (a ValueError); EOS, as pad_id above
        tokenizer.pad_token = tokenizer.eos_token  # for this call: the masked positions
    try:
        enc = tokenizer(list(texts), return_tensors="pt", padding=True, **cut)
    finally:
        tokenizer.padding_side, tokenizer.truncation_side, tokenizer.pad_token = sides
    with evaluating(model) as device:
        out = model.generate(
            input_ids=enc["input_ids"].to(device),
            attention_mask=enc["attention_mask"].to(device),
            max_new_tokens=settings.max_new_tokens,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=pad_id,
            **settings.generate_kwargs(),
        )
    # Only the new tokens: with left padding every prompt ends at the same column.
    new = out[:, enc["input_ids"].shape[1] :].tolist()
    # Cut after the first EOS: finished rows are padded while the others keep generating.
    return [
        row[: row.index(tokenizer.eos_token_id) + 1] if tokenizer.eos_token_id in row else row
        for row in new
    ]


def complete_batch(model, tokenizer, texts: Sequence[str],
                   settings: GenerationSettings = GREEDY) -> list[str]:
    """Raw continuation of each text, no template: what a base model does with a question."""
    check_pair(model, tokenizer, "complete_batch(model, tokenizer, texts)")
    texts = _check_texts("texts", texts, "call complete(model, tokenizer, text)")
    ids = generate_ids(model, tokenizer, texts, settings)
    return [continuation(tokenizer, text, row) for text, row in zip(texts, ids, strict=True)]


def continuation(tokenizer, text: str, new_ids: list[int]) -> str:
    """The text `new_ids` add after `text`, decoded after the text's own ids: decoded alone, a
    SentencePiece tokenizer's (Llama's) first token loses its space ("▁Paris" is "Paris"),
    which would glue the continuation to the text ("The capital is" + "Paris")."""
    prompt_ids = list(tokenizer(text)["input_ids"])
    before = tokenizer.decode(prompt_ids, skip_special_tokens=True)
    whole = tokenizer.decode(prompt_ids + list(new_ids), skip_special_tokens=True)
    # A text that does not decode back to itself as a prefix (rare): the new ids alone.
    if not whole.startswith(before):
        return tokenizer.decode(new_ids, skip_special_tokens=True)
    return whole[len(before):]


def complete(model, tokenizer, text: str, max_new_tokens: int = 32, **fields) -> str:
    """Raw continuation of one text (`fields` are GenerationSettings fields).

    >>> complete(base_model, tok, "What is 2+2?")   # doctest: +SKIP
    """
    settings = settings_from(None, max_new_tokens=max_new_tokens, **fields)
    check_pair(model, tokenizer, "complete(model, tokenizer, text)")  # said in this call's words
    _check_one("text", text, "complete_batch(model, tokenizer, texts)")
    return complete_batch(model, tokenizer, [text], settings)[0]


def prompts_for(instructions: Sequence[str], inputs: Sequence[str] | None = None,
                template: str | Template = DEFAULT_TEMPLATE) -> list[str]:
    """Each instruction (with its input, if any) formatted as the template's prompt."""
    t = get_template(template)
    instructions = _check_texts("instructions", instructions, "put it in a list: [instruction]")
    inputs = _entries("inputs", inputs)
    _check_count("inputs", inputs, len(instructions), "instructions", "give one per instruction "
                 "('' for none)")
    inputs = inputs or [""] * len(instructions)
    return [t.format_prompt(i, x or "") for i, x in zip(instructions, inputs, strict=True)]


def generate_batch(
    model,
    tokenizer,
    instructions: Sequence[str],
    inputs: Sequence[str] | None = None,
    template: str | Template = DEFAULT_TEMPLATE,
    settings: GenerationSettings = GREEDY,
) -> list[str]:
    """Format each instruction with `template` and return only the responses, stripped."""
    check_pair(model, tokenizer, "generate_batch(model, tokenizer, instructions)")
    instructions = _check_texts("instructions", instructions,
                                "call generate(model, tokenizer, instruction)")
    ids = generate_ids(model, tokenizer, prompts_for(instructions, inputs, template), settings)
    return [tokenizer.decode(row, skip_special_tokens=True).strip() for row in ids]


def generate(model, tokenizer, instruction: str, input: str = "",
             template: str | Template = DEFAULT_TEMPLATE, max_new_tokens: int = 32,
             **fields) -> str:
    """The model's response to one instruction (greedy unless do_sample=True), stopping at EOS.

    >>> generate(model, tok, "What is 2+2?")   # doctest: +SKIP
    '4'
    """
    settings = settings_from(None, max_new_tokens=max_new_tokens, **fields)
    _check_one("instruction", instruction, "generate_batch(model, tokenizer, instructions)")
    return generate_batch(model, tokenizer, [instruction], [input], template, settings)[0]


EMPTY_ANSWER = "(empty)"


def chosen_rows(rows: Sequence[dict], keep: Any, template: str, limit: int | None) -> list[int]:
    """The indices of the rows in `template` that `keep(row)` selects, at most `limit`, for
    the answers() of an evaluation and of an experiment. A keep that is no function or asks
    for a field no row has, and a template no row is in, are said in one sentence: they were
    a TypeError, a KeyError from the learner's lambda, or an empty table."""
    if keep is not None and not callable(keep):
        raise CourseError(f"keep must be a function of a row, such as keep=lambda r: "
                          f"r['kind'] == 'spanish', not {shown(keep)}.")
    templates = sorted({r["template"] for r in rows})
    if template not in templates:
        raise CourseError(f"No answer is in the template {template!r}; these answers are in "
                          f"{', '.join(map(repr, templates))}.")
    chosen = []
    for i, row in enumerate(rows):
        try:
            if row["template"] == template and (keep is None or keep(row)):
                chosen.append(i)
        except KeyError as err:  # raised in the learner's keep, on a misspelt field
            raise CourseError(f"keep looked up {err}, which a row does not have; a row has "
                              f"{', '.join(row)}.") from None
    return chosen[:limit]


@dataclass
class AnswerTable:
    """Instructions with the answers of one or more models (and optional references).

    Shows as an HTML table in a notebook and as aligned text with print().
    """

    prompts: list[str]
    answers: dict[str, list[str]]  # column title -> one answer per prompt
    expected: list[str] | None = None
    inputs: list[str] | None = None  # shown as a column when any record has one

    @property
    def columns(self) -> list[str]:
        return (["instruction"] + (["input"] if self.inputs else []) + [*self.answers]
                + (["expected"] if self.expected else []))

    def rows(self, shown: bool = False) -> list[list[str]]:
        """One row per instruction, in `columns` order; `shown`: as the table shows them, where
        an empty answer says so, not a blank cell that looks like a missing value."""
        answers = [[EMPTY_ANSWER if shown and not a.strip() else a for a in col]
                   for col in self.answers.values()]
        cols = ([self.prompts] + ([self.inputs] if self.inputs else []) + answers
                + ([self.expected] if self.expected else []))
        return [list(r) for r in zip(*cols, strict=True)]

    def exact_match(self) -> dict[str, float] | None:
        """Share of answers equal to the reference after metrics.normalize_answer, per column."""
        if not self.expected:
            return None
        return {
            title: sum(exact_match(a, e) for a, e in zip(col, self.expected, strict=True))
            / len(self.expected)
            for title, col in self.answers.items()
        }

    def _em_line(self) -> str:
        em = self.exact_match()
        return "exact match: " + ", ".join(f"{t} {v:.0%}" for t, v in em.items()) if em else ""

    def to_text(self, width: int = 32) -> str:
        def cut(s: str) -> str:
            s = s.replace("\n", " ")
            return s if len(s) <= width else s[: width - 1] + "…"

        lines = [" | ".join(f"{c:<{width}}" for c in self.columns)]
        lines.append("-+-".join("-" * width for _ in self.columns))
        lines += [" | ".join(f"{cut(v):<{width}}" for v in row) for row in self.rows(shown=True)]
        if self.expected:
            lines.append(self._em_line())
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        cell = "<{0} style='text-align:left'>{1}</{0}>"
        head = "".join(cell.format("th", html.escape(c)) for c in self.columns)
        body = "".join(
            "<tr>" + "".join(cell.format("td", html.escape(v)) for v in row) + "</tr>"
            for row in self.rows(shown=True)
        )
        foot = f"<p>{html.escape(self._em_line())}</p>" if self.expected else ""
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{foot}"


def answer_table(
    prompts: Sequence[str],
    models: dict[str, object],
    tokenizer,
    expected: Sequence[str] | None = None,
    *,
    inputs: Sequence[str] | None = None,
    raw: Sequence[str] = (),
    template: str | Template = DEFAULT_TEMPLATE,
    settings: GenerationSettings | None = None,
    **fields,
) -> AnswerTable:
    """Answers of several models to the same instructions, one column per model.

    Models named in `raw` get the bare instruction (and input, on the next line): raw
    completion, as lesson 01 shows a base model. The others get the course template.
    `fields` (e.g. max_new_tokens=24) adjust `settings`, which default to greedy.
    """
    settings = settings_from(settings, **fields)
    expected, inputs = _entries("expected", expected), _entries("inputs", inputs)
    prompts, raw = check_table(prompts, models, tokenizer, expected, inputs, raw)
    inputs = inputs or [""] * len(prompts)
    # A raw model has no template to place the input in: it follows on the next line.
    raw_texts = [f"{p}\n{x}" if x else p for p, x in zip(prompts, inputs, strict=True)]
    answers = {}
    for title, model in models.items():
        if title in raw:
            texts = complete_batch(model, tokenizer, raw_texts, settings)
            # A raw continuation starts with the space or newline after the prompt: trimmed.
            answers[title] = [t.strip() for t in texts]
        else:
            answers[title] = generate_batch(model, tokenizer, prompts, inputs, template, settings)
    # No input column when no prompt has an input: it would be a column of blanks.
    return AnswerTable(list(prompts), answers, expected or None,
                       inputs if any(inputs) else None)


def check_table(prompts, models, tokenizer, expected, inputs, raw) -> tuple[list[str], tuple]:
    """answer_table's arguments, before any model answers: (prompts, raw) as lists."""
    prompts = _check_texts("prompts", prompts, "put it in a list: [prompt]")
    if not prompts:
        raise CourseError("answer_table needs at least one prompt.")
    if not isinstance(models, Mapping):  # 'list' object has no attribute 'items'
        raise CourseError("models must be a dict of column titles and models, e.g. "
                          "{'base': model}.")
    for model in models.values():
        check_pair(model, tokenizer, "answer_table(prompts, {'base': model}, tokenizer)")
    _check_count("expected", expected, len(prompts), "prompts", "give one reference per prompt")
    _check_count("inputs", inputs, len(prompts), "prompts", "give one per prompt ('' for none)")
    raw = (raw,) if isinstance(raw, str) else tuple(raw)  # "b" in "base" was a column match
    if unknown := [title for title in raw if title not in models]:
        raise CourseError(f"raw names {', '.join(map(repr, unknown))}, which is not a column of "
                          f"models; use one of: {', '.join(map(repr, models))}.")
    return prompts, raw
