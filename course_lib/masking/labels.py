"""Step 2 of the story: tokens and labels, with -100 on every prompt token.

The model reads the whole sequence, prompt and response. The *labels* say which next-token
predictions are graded: -100 means "not graded" (PyTorch's cross-entropy ignores it).

    >>> ex = build_example({"instruction": "What is 2+2?", "response": "4"}, tok)  # doctest: +SKIP
    >>> ex["labels"]                                                               # doctest: +SKIP
    [-100, -100, -100, -100, -100, -100, -100, -100, 23, 2]  # " 4" and EOS are trained

The prompt is tokenized alone and with its response: the prompt's ids start the whole
text's, so the boundary is known exactly and we never search the token stream for
"### Response:" (that search is the classic failure, see template_search.py). The response's
ids are the whole text's after the prompt's, as the model reads them: tokenized on its own, a
SentencePiece tokenizer (Llama-2, Mistral) would give it a space in front (see response_ids).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import torch
from tqdm.auto import tqdm

from course_lib.errors import CourseError, is_whole, shown
from course_lib.formatting.records import records_given
from course_lib.formatting.rows import is_table, row_names, table_rows
from course_lib.formatting.schemas import is_normalized, normalize_record
from course_lib.formatting.templates import DEFAULT_TEMPLATE, Template, format_as_trained

IGNORE_INDEX = -100  # torch.nn.CrossEntropyLoss(ignore_index=-100) skips these positions

Masking = Literal["response", "none"]


@dataclass
class PreparedData:
    """Examples ready for a collator, and every record that was left out or looks suspicious.

    One report for every way examples are prepared: the course's labels, TRL's preparation
    and a training run's data. Nothing is dropped silently: `skipped` lists (index, reason)
    for each record left out (e.g. no trained token: its loss would be 0/0 = NaN), and
    `report()` says so in one sentence per kind of problem.
    """

    examples: list[dict[str, list[int]]]
    source: str = "the records"
    total: int | None = None  # records given; None means len(examples) + len(skipped)
    kept: list[int] = field(default_factory=list)  # kept[j]: the record index of examples[j]
    skipped: list[tuple[int, str]] = field(default_factory=list)
    truncated: list[int] = field(default_factory=list)  # cut to max_length: their EOS is gone
    prompt_only: list[int] = field(default_factory=list)  # masking "none", whole response cut
    empty_response: list[int] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    max_length: int | None = None
    context: int | None = None  # the model's context: max_length cannot be raised past it
    where: list[str] = field(default_factory=list)  # where[i]: record i's place, e.g. "line 3"
    left_out: list[str] = field(default_factory=list)  # rows left out first (skip_bad_rows)

    @property
    def rows_left_out(self) -> int:
        return len(self.left_out)

    def report(self) -> str:
        """What will be trained on, one sentence per kind of problem."""
        # "n of total" first: a learner sees at once whether records went missing.
        total = self.total if self.total is not None else len(self.examples) + len(self.skipped)
        each = f", at most {self.max_length} tokens each" if self.max_length else ""
        # Rows of the file left out (skip_bad_rows) are not in the total: said here, named below.
        n = self.rows_left_out
        left = (f"; {n} {'row' if n == 1 else 'rows'} of it that could not be used left out "
                f"(named below; the run's history lists every one, rows_left_out_named)"
                if n else "")
        lines = [f"{len(self.examples)} of {total} example{'s' if total != 1 else ''} from "
                 f"{self.source} ready for training{each}{left}."]
        # Cutting is silent in the tokens: only this line says those examples end without EOS.
        if self.truncated:
            limit = f"max_length={self.max_length} tokens" if self.max_length else "max_length"
            lines.append(
                f"{_count(self.truncated, 'was', 'were')} cut to {limit} "
                f"({self.names(self.truncated)}) and lost the EOS at the end, so "
                f"{_agree(self.truncated, 'it never teaches', 'they never teach')} the model to "
                f"stop; {self.raise_or()}shorten {_agree(self.truncated, 'it', 'them')}.")
        # With masking "none" these still train, on the prompt alone: worth knowing, not an error.
        if self.prompt_only:
            lines.append(
                f"{_count(self.prompt_only, 'of them lost its', 'of them lost their')} whole "
                f"response, so with masking 'none' "
                f"{_agree(self.prompt_only, 'it trains', 'they train')} on the prompt alone "
                f"({self.names(self.prompt_only)}).")
        # Skipped ones are named, since a record that vanishes silently looks like a data bug later.
        if self.skipped:
            lines.append(f"{_count(self.skipped, 'was', 'were')} skipped: no trained token left, "
                         f"which would give a NaN loss ({self.names([i for i, _ in self.skipped])}"
                         f"); {self.raise_or()}shorten "
                         f"{_agree(self.skipped, 'its prompt', 'their prompts')}.")
        # Kept (it still trains the EOS), but it teaches empty answers: most likely a data mistake.
        if self.empty_response:
            lines.append(f"{_count(self.empty_response, 'has', 'have')} an empty response "
                         f"({self.names(self.empty_response)}): "
                         f"{_agree(self.empty_response, 'it teaches', 'they teach')} the model "
                         f"to answer with nothing; fill "
                         f"{_agree(self.empty_response, 'it', 'them')} in or remove "
                         f"{_agree(self.empty_response, 'it', 'them')}.")
        # The preparer's own warnings last, after the counts they qualify.
        return "\n".join(lines + self.warnings)

    def raise_or(self, setting: str = "max_length (--max-length)") -> str:
        """'raise max_length (--max-length) or ' before 'shorten ...', unless the examples are
        cut at the model's context already: a longer limit is cut back to it."""
        if self.context and self.max_length and self.max_length >= self.context:
            return f"the model reads at most {self.context} tokens, so "
        return f"raise {setting} or "

    def names(self, indices: Sequence[int]) -> str:
        """'lines 3, 9' when the records' places are known, else 'examples 2, 8' (indices)."""
        return row_names(indices, self.where)


def _count(items: Sequence[Any], one: str, many: str) -> str:
    """'1 was' / '3 were': the number and the verb that agrees with it."""
    return f"{len(items)} {one if len(items) == 1 else many}"


def _agree(items: Sequence[Any], one: str, many: str) -> str:
    return one if len(items) == 1 else many


def as_rows(data: Any, tokenizer=None) -> list[dict[str, list[int]]]:
    """Texts, token id lists, one example, a list of examples or a padded batch -> plain rows.

    Every row is a dict of plain int lists with the keys present among input_ids, labels and
    attention_mask. Texts need the tokenizer. The one conversion the collators, the audit and
    the view all use:

        >>> as_rows({"input_ids": [[1, 2], [3, 4]], "labels": [[-100, 2], [-100, 4]]})
        [{'input_ids': [1, 2], 'labels': [-100, 2]}, {'input_ids': [3, 4], 'labels': [-100, 4]}]
    """
    if isinstance(data, Mapping):
        ids = data["input_ids"]
        # A tensor or a numpy array says it by its shape (a 2-D array's rows were read as one
        # row's ids); a list by its first item (a 1-D tensor's is 0-d).
        batched = ids.ndim == 2 if hasattr(ids, "ndim") else (
            len(ids) > 0 and (isinstance(ids[0], Sequence) or getattr(ids[0], "ndim", 0) == 1))
        if not batched:
            return [_plain(data)]
        # Only the per-token keys are split into rows; any other key of a batch is dropped.
        return [_plain({k: v[i] for k, v in data.items() if k in ROW_KEYS})
                for i in range(len(ids))]
    # A DataFrame of examples, row by row: iterated, its column names were tokenized as texts.
    if is_table(data):
        data = table_rows(data)
    # A list may mix kinds of item: each is turned into a row on its own.
    rows = []
    for item in data:
        if isinstance(item, str):
            if tokenizer is None:  # audit_labels and mask_view read token ids, not text
                raise CourseError(f"the examples hold text ({item[:30]!r}), not token ids; "
                                  f"tokenize them first, e.g. tokenize_texts(records, "
                                  f"tokenizer), or give records to show_mask(records, "
                                  f"tokenizer).")
            rows.append({"input_ids": list(tokenizer(item)["input_ids"])})
        elif isinstance(item, Mapping):
            rows.append(_plain(item))
        else:  # a list or tensor of token ids
            rows.append({"input_ids": _ints(item)})
    return rows


ROW_KEYS = ("input_ids", "labels", "attention_mask")


def check_tokenizer(tokenizer: Any, call: str) -> None:
    """A tokenizer where `call` (as the learner writes it) takes one: the model, a name or the
    records there were AttributeErrors or TypeErrors from inside."""
    if not hasattr(tokenizer, "convert_ids_to_tokens"):
        what = shown(tokenizer) if isinstance(tokenizer, str) else type(tokenizer).__name__
        raise CourseError(f"tokenizer must be the tokenizer, not {what}; call {call}.")


def check_records(records: Any, call: str) -> list:
    """Records where `call` takes them, as a list (see records_given): a data set's name was
    "example 0: expected a JSON object, got str", one record or bare strings likewise."""
    return records_given(records, f"records must be a list of records, not {{name}}; load them "
                                  f"first, e.g. records = load_records('course:train'), then "
                                  f"{call}.")


def tokenized_examples(examples: Any, call: str, name: str = "examples") -> list:
    """`examples` as a list of tokenized examples (dicts with input_ids), or one sentence:
    records, one example, or prepare_examples' result were a KeyError or a TypeError inside
    `call` (given as the learner writes it, e.g. "pack(examples)")."""
    if isinstance(examples, PreparedData):
        raise CourseError(f"{name} is what prepare_examples returned; give its examples: "
                          f"{call} with {name}=prepare_examples(records, tokenizer).examples.")
    if isinstance(examples, Mapping) and _is_batch(examples.get("input_ids")):
        raise CourseError(f"{name} is a padded batch, not a list of examples; give the list "
                          f"of examples it was made from, e.g. prepare_examples(records, "
                          f"tokenizer).examples.")
    if isinstance(examples, str | Mapping):
        what = shown(examples) if isinstance(examples, str) else "one example (a dict)"
        raise CourseError(f"{name} must be a list of tokenized examples, not {what}; wrap "
                          f"one example in a list: [example].")
    # A DataFrame of examples, row by row (iterated, it gave its column names).
    rows = table_rows(examples) if is_table(examples) else list(examples)
    if any(not isinstance(row, Mapping) or "input_ids" not in row for row in rows):
        raise CourseError(f"{name} holds records, not tokenized examples (input_ids and "
                          f"labels); make them first: prepare_examples(records, "
                          f"tokenizer).examples, then {call}.")
    return rows


def _is_batch(ids: Any) -> bool:
    """Rows of ids (a 2-D tensor or a list of lists), not one example's."""
    if hasattr(ids, "dim"):
        return ids.dim() == 2
    return isinstance(ids, list) and bool(ids) and isinstance(ids[0], list)


def _ints(values: Any) -> list[int]:
    return [int(v) for v in (values.tolist() if hasattr(values, "tolist") else values)]


def _plain(example: Mapping[str, Any]) -> dict[str, list[int]]:
    return {k: _ints(example[k]) for k in ROW_KEYS if k in example}


PROGRESS_ABOVE = 5000  # records; 52k records take about 15 s to tokenize on a laptop CPU
CHUNK = 1000  # records tokenized per call: big enough to stay fast, small enough for a bar


def prepare_examples(
    records: Sequence[dict[str, Any]],
    tokenizer,
    template: str | Template = DEFAULT_TEMPLATE,
    masking: Masking = "response",
    max_length: int | None = None,
    progress: bool = True,
) -> PreparedData:
    """Tokenize many records at once (batched tokenizer calls: fast).

    masking="response": labels are -100 on the prompt; the response and its EOS are trained.
    masking="none":     every token is trained, the prompt too (plain language modelling).
    progress:           a progress bar when there are more than PROGRESS_ABOVE records.

    A record that names its own `template` (a `{"text"}` row keeps the one it is written in)
    is formatted with it, not with `template`: mixed data trains in each row's own template, as in
    any trainer that reads the text (the data report warns about the mix).
    """
    records = check_preparing(records, tokenizer, masking, max_length,
                              "prepare_examples(records, tokenizer)")
    # Any schema becomes instruction/input/response first; the examples are named by position.
    records = [r if is_normalized(r) else normalize_record(r, f"example {i}")
               for i, r in enumerate(records)]
    # Formatted once, up front, so a record that cannot be formatted fails before any tokenizing.
    pairs = [format_as_trained(r, template, where=f"example {i}")
             for i, r in enumerate(records)]
    prepared = PreparedData(examples=[], total=len(records), max_length=max_length)
    bar = tqdm(total=len(pairs), desc="preparing examples", unit="ex", leave=False,
               disable=not progress or len(pairs) <= PROGRESS_ABOVE)
    seen: dict[int, int] = {}  # one int object per token id, shared by every example
    # In chunks: one batched tokenizer call each is fast, and the bar moves between them.
    with collector_paused():
        for start in range(0, len(pairs), CHUNK):
            chunk = pairs[start:start + CHUNK]
            # The prompt as the model is asked it (BOS too, if the tokenizer adds one), and the
            # response as it follows the prompt in the whole text (see response_ids).
            # verbose=False: no "longer than the maximum" warning; truncation is ours, reported.
            prompts = tokenizer([p for p, _ in chunk], verbose=False)["input_ids"]
            wholes = tokenizer([p + r for p, r in chunk], verbose=False)["input_ids"]
            responses = response_ids(tokenizer, chunk, prompts, wholes)
            pairs_ids = zip(shared_ints(prompts, seen), shared_ints(responses, seen), strict=True)
            # Whitespace-only responses count as empty: they teach the model to answer nothing.
            for i, (p_ids, r_ids) in enumerate(pairs_ids, start):
                _add_example(prepared, i, p_ids, r_ids, tokenizer.eos_token_id, masking,
                             empty=not pairs[i][1].strip())
            bar.update(len(chunk))
    bar.close()
    return prepared


def response_ids(tokenizer, pairs: Sequence[tuple[str, str]], prompts: list[list[int]],
                 wholes: list[list[int]]) -> list[list[int]]:
    """Each response's ids as they follow its prompt: the whole text's ids after the prompt's.

    A SentencePiece tokenizer of Llama-2's kind (TinyLlama, Mistral) reads a text on its own
    as the start of a text: the response "4" alone is "▁4", a space in front, where after
    "### Response:\\n" it is "4". Cut from the whole text, the response is what the model
    reads and will write (and what TRL labels). Where the prompt's ids do not start the
    whole's (its last token merges with the response's first, e.g. a prompt that ends in a
    space), the response is tokenized on its own, after an EOS: the prompt stays as asked,
    and Llama-2's tokenizer puts no "▁" after a special token ("A: " + "4": "▁", "4").
    """
    # The boundary is exact only where the prompt's own ids start the whole text's.
    out = [whole[len(p):] if whole[:len(p)] == p else None
           for p, whole in zip(prompts, wholes, strict=True)]
    alone = [i for i, ids in enumerate(out) if ids is None]
    if not alone:
        return out
    # No BOS in front (it starts the prompt only); the EOS only where it is one token.
    eos = tokenizer.eos_token
    after = eos if tokenizer(eos, add_special_tokens=False)["input_ids"] == [
        tokenizer.eos_token_id] else ""
    ids = tokenizer([after + pairs[i][1] for i in alone], add_special_tokens=False,
                    verbose=False)["input_ids"]
    for i, row in zip(alone, ids, strict=True):
        out[i] = row[1:] if after else row
    return out


def check_preparing(records: Any, tokenizer: Any, masking: Any, max_length: Any,
                    call: str) -> list:
    """The arguments of `call` (as the learner writes it) that label records, checked before
    any tokenizing: a model as the tokenizer, a data set's name, masking="template" or
    max_length="64" were AttributeErrors, TypeErrors or plain ValueErrors from inside."""
    check_tokenizer(tokenizer, call)
    records = check_records(records, call)
    if masking not in ("response", "none"):  # "template" and "trl" only label_examples shows
        raise CourseError(f"masking must be 'response' (the prompt masked) or 'none' (every "
                          f"token trained), not {shown(masking)}.")
    if tokenizer.eos_token_id is None:  # every response ends in EOS: it teaches stopping
        raise CourseError("the tokenizer has no eos_token; set one so the model learns to "
                          "stop, e.g. tokenizer.eos_token = '</s>' (a token it knows).",
                          cli="the model's tokenizer has no eos_token, which ends every "
                              "response; give --model a model whose tokenizer names one (its "
                              "tokenizer_config.json, eos_token).")
    check_max_length(max_length)
    return records


def check_max_length(max_length: Any) -> None:
    """None, or a whole number of tokens of at least 1 ("64" and 2.5 were TypeErrors, 0 an
    empty example)."""
    if max_length is not None and (not is_whole(max_length) or max_length < 1):
        raise CourseError(f"max_length must be a whole number of tokens, at least 1, or None "
                          f"for no limit, not {shown(max_length)}.")


def shared_ints(rows: list[list[int]], seen: dict[int, int]) -> list[list[int]]:
    """The rows with each id as the one int object `seen` holds for it: a tokenizer makes a
    new object per token (Python shares only 0..256), 32 bytes of the 56 a token took."""
    return [list(map(seen.setdefault, row, row)) for row in rows]


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector off while examples are built, and back on after (unless it
    was off): they hold no cycles, yet each of its full passes walks every list built so far
    (a quarter of the time to prepare 50k records, 12 s against 9 s)."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def _add_example(prepared: PreparedData, i: int, p_ids: list[int], r_ids: list[int],
                 eos_id: int, masking: Masking, empty: bool) -> None:
    """Label one record, cut it to max_length, and note what is odd about it."""
    if empty:
        prepared.empty_response.append(i)  # trained all the same: it teaches "say nothing"
    r_ids = r_ids + [eos_id]  # EOS is part of the answer: it teaches stopping
    input_ids = p_ids + r_ids
    labels = [IGNORE_INDEX] * len(p_ids) + r_ids if masking == "response" else list(input_ids)
    limit = prepared.max_length
    cut = limit is not None and len(input_ids) > limit
    if cut:
        input_ids, labels = input_ids[:limit], labels[:limit]
    if all(label == IGNORE_INDEX for label in labels):
        # Said once, as skipped: "cut and lost its EOS" would suggest it still trains.
        prepared.skipped.append((i, "no trained token after truncation"))
        return
    if cut:
        prepared.truncated.append(i)  # its EOS is cut off: it never teaches stopping
        if len(p_ids) >= limit and masking == "none":
            prepared.prompt_only.append(i)  # the whole response is gone; the prompt trains
    prepared.examples.append(
        {"input_ids": input_ids, "attention_mask": [1] * len(input_ids), "labels": labels})
    prepared.kept.append(i)


def build_example(
    record: dict[str, Any],
    tokenizer,
    template: str | Template = DEFAULT_TEMPLATE,
    masking: Masking = "response",
    max_length: int | None = None,
) -> dict[str, list[int]]:
    """One record -> input_ids, attention_mask, labels. Raises if nothing is left to train."""
    # A list or a data set's name would be read as one record: "expected a JSON object".
    if not isinstance(record, Mapping):
        what = shown(record) if isinstance(record, str) else f"a {type(record).__name__}"
        raise CourseError(f"record must be one record (a dict), not {what}; for many, call "
                          f"prepare_examples(records, tokenizer).examples.")
    check_tokenizer(tokenizer, "build_example(record, tokenizer)")
    prepared = prepare_examples([record], tokenizer, template, masking, max_length)
    if prepared.skipped:  # an example without a trained token would be a NaN loss
        raise CourseError(f"the record has no trained token once cut to "
                          f"max_length={max_length}: its response was cut off; raise "
                          f"max_length or shorten the prompt.")
    return prepared.examples[0]


def pad_batch(
    examples: Sequence[dict[str, list[int]]],
    pad_token_id: int,
    pad_to_multiple_of: int | None = None,
) -> dict[str, torch.Tensor]:
    """Right-pad a batch. Labels are padded with -100 *by position*, never by token id.

    Masking by id (labels[input_ids == pad_id] = -100) would also mask a real EOS whenever
    pad == eos, and the model would never learn to stop. Padding by position cannot.
    """
    examples = tokenized_examples(examples, "pad_batch(examples, tokenizer.pad_token_id)")
    if not examples:
        raise CourseError("pad_batch got no examples; give it at least one, e.g. "
                          "prepare_examples(records, tokenizer).examples.")
    if not is_whole(pad_token_id):  # the tokenizer itself, or None when it has no pad token
        what = ("the tokenizer" if hasattr(pad_token_id, "convert_ids_to_tokens")
                else shown(pad_token_id))
        raise CourseError(f"pad_token_id must be a token id such as tokenizer.pad_token_id, "
                          f"not {what}; a tokenizer without one needs tokenizer.pad_token set "
                          f"first.")
    longest = max(len(e["input_ids"]) for e in examples)
    # Rounded up to a multiple (ceiling division), for hardware that is faster on such lengths.
    if pad_to_multiple_of:
        longest = -(-longest // pad_to_multiple_of) * pad_to_multiple_of
    batch: dict[str, list[list[int]]] = {"input_ids": [], "attention_mask": [], "labels": []}
    # Right padding: every example's real tokens keep their positions from 0.
    for e in examples:
        gap = longest - len(e["input_ids"])
        batch["input_ids"].append(list(e["input_ids"]) + [pad_token_id] * gap)
        # An example's own mask is kept; without one, every real token is attended to.
        mask = e.get("attention_mask", [1] * len(e["input_ids"]))
        batch["attention_mask"].append(list(mask) + [0] * gap)
        batch["labels"].append(list(e["labels"]) + [IGNORE_INDEX] * gap)
    return {k: torch.tensor(v, dtype=torch.long) for k, v in batch.items()}


@dataclass
class PadCollator:
    """A Trainer data_collator: pads examples that already carry their labels (see pad_batch)."""

    pad_token_id: int
    pad_to_multiple_of: int | None = None

    def __call__(self, examples: Sequence[dict[str, Any]]) -> dict[str, torch.Tensor]:
        return pad_batch(examples, self.pad_token_id, self.pad_to_multiple_of)
