"""The standard collator, `DataCollatorForLanguageModeling(tokenizer, mlm=False)`: the wrong one.

It is what plain language modelling uses: labels = input_ids, with -100 only where the token
id equals the pad id. For instruction tuning that is wrong twice: the prompt is trained, and
when pad == eos the real EOS is masked too, so the model never learns to stop.
`mlm_collator_batch` shows what `mlm=True` would do instead (BERT-style masking).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import torch
from transformers import DataCollatorForLanguageModeling

from course_lib.errors import CourseError
from course_lib.masking.labels import as_rows, check_tokenizer


def lm_collator_batch(examples: Sequence[Any], tokenizer) -> dict[str, torch.Tensor]:
    """Run `transformers.DataCollatorForLanguageModeling(tokenizer, mlm=False)` on examples.

    Examples are texts, id lists or dicts with input_ids (their labels, if any, are ignored:
    this collator makes its own). The returned labels are input_ids with -100 only where the
    token id equals the pad id: the prompt is trained, and with pad == eos the real EOS is
    masked too, so the model never learns to stop.
    """
    rows = _id_rows(examples, tokenizer, "lm_collator_batch(tokenize_texts(records, tokenizer), "
                                         "tokenizer)")
    check_pad_token(tokenizer)
    collator = DataCollatorForLanguageModeling(tokenizer, mlm=False)
    return collator([{"input_ids": r} for r in rows])


def mlm_collator_batch(
    examples: Sequence[Any], tokenizer, mlm_probability: float = 0.15, seed: int | None = 0,
):
    """What `mlm=True` would do: transformers' DataCollatorForLanguageModeling in masked-LM mode.

    BERT-style training picks about `mlm_probability` of the (non-special) tokens at random,
    hides most of them behind a mask token in the *input*, and grades only those positions:
    every other label is -100. Causal instruction tuning wants none of this, hence the
    `mlm=False` every tutorial passes (`mlm=True` is the collator's default). A causal tokenizer
    has no mask token, and the collator refuses to start without one, so a copy gets one
    ("<mask>", a new id the model has never seen). Returns (batch, tokenizer used); `seed`
    makes the draw repeatable.
    """
    rows = _id_rows(examples, tokenizer, "mlm_collator_batch(tokenize_texts(records, "
                                         "tokenizer), tokenizer)")
    check_pad_token(tokenizer)
    if tokenizer.mask_token is None:
        tokenizer = copy.deepcopy(tokenizer)
        tokenizer.add_special_tokens({"mask_token": "<mask>"})
    collator = DataCollatorForLanguageModeling(tokenizer, mlm=True,
                                               mlm_probability=mlm_probability)
    if seed is not None:
        torch.manual_seed(seed)
    return collator([{"input_ids": r} for r in rows]), tokenizer


def check_pad_token(tokenizer) -> None:
    """A tokenizer with no pad token, in one sentence for every collator of the course:
    transformers' collator pads every batch, even of one row, and raised a ValueError from
    inside `tokenizer.pad` (label_examples' "none" runs it too)."""
    if tokenizer.pad_token_id is None:
        raise CourseError("the tokenizer has no pad token; set one first, e.g. "
                          "tokenizer.pad_token = tokenizer.eos_token.")


def _id_rows(examples: Sequence[Any], tokenizer, call: str) -> list[list[int]]:
    """Each example's input_ids, or one sentence naming `call` as the learner would write it:
    records, no examples, or the model as the tokenizer were a KeyError, an IndexError or an
    AttributeError from inside the collator."""
    check_tokenizer(tokenizer, call)
    rows = as_rows(examples, tokenizer)
    if not rows or any("input_ids" not in row for row in rows):
        raise CourseError(f"the collator takes tokenized examples (input_ids), not records "
                          f"or nothing; make them first: {call}.")
    return [row["input_ids"] for row in rows]
