"""Step 2 of the story: tokens and labels, with -100 on every prompt token.

The model reads the whole sequence, prompt and response. The *labels* say which next-token
predictions are graded: -100 means "not graded" (PyTorch's cross-entropy ignores it).

    >>> ex = build_example({"instruction": "What is 2+2?", "response": "4"}, tok)  # doctest: +SKIP
    >>> ex["labels"]                                                               # doctest: +SKIP
    [-100, -100, -100, -100, -100, -100, -100, -100, 23, 2]  # " 4" and EOS are trained

Prompt and response are tokenized as two segments and concatenated, so the boundary is
known exactly: we never search the token stream for "### Response:" (that search is the
classic failure, see collators.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import torch

from course_lib.formatting import DEFAULT_TEMPLATE, Template, format_example

IGNORE_INDEX = -100  # torch.nn.CrossEntropyLoss(ignore_index=-100) skips these positions

Masking = Literal["response", "none"]


@dataclass
class PreparedData:
    """Tokenized examples ready for a collator, and the ones that could not be kept.

    `skipped` lists (index, reason) for every example left with no trained token: they
    would give a 0/0 = NaN loss, so they are not trained on, but they are never dropped
    silently either.
    """

    examples: list[dict[str, list[int]]]
    skipped: list[tuple[int, str]] = field(default_factory=list)
    truncated: list[int] = field(default_factory=list)
    # kept[j] is the index, in the records given, of examples[j] (skipping shifts positions).
    kept: list[int] = field(default_factory=list)

    def report(self) -> str:
        """A sentence or two for the learner: how many examples were kept, cut or skipped."""
        total = len(self.examples) + len(self.skipped)
        lines = [f"{len(self.examples)} of {total} examples ready for training."]
        if self.truncated:
            lines.append(f"{len(self.truncated)} were truncated to max_length (examples "
                         f"{_short_list(self.truncated)}).")
        if self.skipped:
            lines.append(f"{len(self.skipped)} skipped because truncation left no response token "
                         f"to train (examples {_short_list([i for i, _ in self.skipped])}); "
                         f"raise max_length or shorten their prompts.")
        return " ".join(lines)


def _short_list(items: Sequence[int], limit: int = 8) -> str:
    shown = ", ".join(str(i) for i in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def prepare_examples(
    records: Sequence[dict[str, Any]],
    tokenizer,
    template: str | Template = DEFAULT_TEMPLATE,
    masking: Masking = "response",
    max_length: int | None = None,
) -> PreparedData:
    """Tokenize many records at once (one batched tokenizer call per segment: fast).

    masking="response": labels are -100 on the prompt; the response and its EOS are trained.
    masking="none":     every token is trained, the prompt too (plain language modelling).
    """
    if masking not in ("response", "none"):
        raise ValueError(f"masking must be 'response' or 'none', not {masking!r}")
    if tokenizer.eos_token_id is None:
        raise ValueError("the tokenizer has no eos_token; set one so the model learns to stop")
    if max_length is not None and max_length < 1:
        raise ValueError(f"max_length must be at least 1, not {max_length}")
    pairs = [format_example(r, template, where=f"example {i}") for i, r in enumerate(records)]
    if not pairs:
        return PreparedData(examples=[])
    # The prompt gets the tokenizer's special prefix (BOS) if it adds one; the response none.
    prompt_ids = tokenizer([p for p, _ in pairs])["input_ids"]
    response_ids = tokenizer([r for _, r in pairs], add_special_tokens=False)["input_ids"]

    prepared = PreparedData(examples=[])
    for i, (p_ids, r_ids) in enumerate(zip(prompt_ids, response_ids, strict=True)):
        r_ids = r_ids + [tokenizer.eos_token_id]  # EOS is part of the answer: it teaches stopping
        input_ids = p_ids + r_ids
        if masking == "response":
            labels = [IGNORE_INDEX] * len(p_ids) + r_ids
        else:
            labels = list(input_ids)
        if max_length is not None and len(input_ids) > max_length:
            input_ids, labels = input_ids[:max_length], labels[:max_length]
            prepared.truncated.append(i)
        if all(label == IGNORE_INDEX for label in labels):
            prepared.skipped.append((i, "no trained token after truncation"))
            continue
        prepared.examples.append(
            {"input_ids": input_ids, "attention_mask": [1] * len(input_ids), "labels": labels}
        )
        prepared.kept.append(i)
    return prepared


def build_example(
    record: dict[str, Any],
    tokenizer,
    template: str | Template = DEFAULT_TEMPLATE,
    masking: Masking = "response",
    max_length: int | None = None,
) -> dict[str, list[int]]:
    """One record -> input_ids, attention_mask, labels. Raises if nothing is left to train."""
    prepared = prepare_examples([record], tokenizer, template, masking, max_length)
    if prepared.skipped:
        raise ValueError(
            f"example has no trained token once truncated to max_length={max_length}: "
            f"the response was cut off; raise max_length or shorten the prompt"
        )
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
    if not examples:
        raise ValueError("pad_batch got no examples; pass at least one")
    longest = max(len(e["input_ids"]) for e in examples)
    if pad_to_multiple_of:
        longest = -(-longest // pad_to_multiple_of) * pad_to_multiple_of
    batch: dict[str, list[list[int]]] = {"input_ids": [], "attention_mask": [], "labels": []}
    for e in examples:
        gap = longest - len(e["input_ids"])
        batch["input_ids"].append(list(e["input_ids"]) + [pad_token_id] * gap)
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
