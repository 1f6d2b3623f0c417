"""Held-out loss and accuracy over response tokens only: the fair yardstick between runs.

A masked and an unmasked run *report* different training losses (the unmasked one also
averages over prompt tokens). To compare them we measure both the same way, on examples
they never trained on, counting only the tokens of the answer (and its EOS):

    >>> examples = prepare_examples(records, tok, masking="response").examples  # doctest: +SKIP
    >>> response_metrics(model, examples, tok.pad_token_id)                     # doctest: +SKIP
    ResponseMetrics(loss=1.93, accuracy=0.41, tokens=812)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from course_lib.env import evaluating
from course_lib.errors import CourseError, is_whole, shown
from course_lib.masking.labels import IGNORE_INDEX, pad_batch, tokenized_examples
from course_lib.training.fast_loss import why_not_fast


@dataclass(frozen=True)
class ResponseMetrics:
    """Token-weighted mean cross-entropy and next-token accuracy over response tokens."""

    loss: float
    accuracy: float
    tokens: int


def check_held_out(examples: Any, pad_token_id: Any, call: str) -> None:
    """Tokenized examples and a pad id: records were a KeyError, the tokenizer for its pad id
    "cannot be interpreted as an integer" from inside torch."""
    tokenized_examples(examples, call)
    if not is_whole(pad_token_id):
        what = shown(pad_token_id) if isinstance(pad_token_id, str | float) else \
            type(pad_token_id).__name__
        raise CourseError(f"pad_token_id must be a token id (a whole number), not {what}; "
                          f"give tokenizer.pad_token_id.")


def response_metrics(
    model, examples: Sequence[dict[str, list[int]]], pad_token_id: int, batch_size: int = 32
) -> ResponseMetrics:
    """Evaluate `examples` whose labels are -100 everywhere but on response tokens.

    The mean is over tokens, not over batches, so the batch size does not change the number.
    The model's train/eval mode is restored afterwards (this runs inside training too).
    """
    check_held_out(examples, pad_token_id, "response_metrics(model, examples, pad_token_id)")
    if not isinstance(model, torch.nn.Module):  # a tokenizer or a name: deep inside torch
        raise CourseError(f"model must be the model, not "
                          f"{shown(model) if isinstance(model, str) else type(model).__name__}; "
                          f"call response_metrics(model, examples, tokenizer.pad_token_id).")
    total_loss, correct, count = 0.0, 0, 0
    # Logits only where a response token is predicted, when the model can (fast_loss.py): a
    # real vocabulary makes full logits big (32 x 512 positions x 151,936 floats = 10 GB).
    only_kept = not why_not_fast(model)
    with evaluating(model) as device:
        for start in range(0, len(examples), batch_size):
            batch = pad_batch(examples[start : start + batch_size], pad_token_id)
            # Position t predicts token t+1, exactly like the training loss.
            targets = batch["labels"][:, 1:].to(device)
            keep = targets != IGNORE_INDEX
            # A batch with no response token adds nothing: its forward pass is skipped.
            if not keep.any():
                continue
            inputs = dict(input_ids=batch["input_ids"].to(device),
                          attention_mask=batch["attention_mask"].to(device), use_cache=False)
            # The mask is one shorter than the input: a final False, the last position predicts
            # no token.
            if only_kept:
                picked = model(**inputs, logits_to_keep=torch.nn.functional.pad(
                    keep, (0, 1), value=False)).logits.float()
            else:
                picked = model(**inputs).logits[:, :-1][keep].float()
            wanted = targets[keep]
            total_loss += torch.nn.functional.cross_entropy(picked, wanted, reduction="sum").item()
            correct += (picked.argmax(-1) == wanted).sum().item()
            count += int(keep.sum())
    # No response token at all: NaN, not a loss of 0 that would look perfect.
    if count == 0:
        return ResponseMetrics(float("nan"), float("nan"), 0)
    return ResponseMetrics(total_loss / count, correct / count, count)
