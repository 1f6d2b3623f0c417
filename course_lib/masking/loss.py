"""The loss the model actually computes, written out by hand.

A causal LM predicts token t+1 from tokens 0..t. So the logits at position t are graded
against the label at position t+1 ("shift"), and positions whose label is -100 are left out
of the average. That is all "loss masking" is:

    >>> logits = torch.zeros(1, 3, 5)              # uniform guesses over 5 tokens
    >>> labels = torch.tensor([[-100, -100, 4]])   # only the last token is graded
    >>> round(masked_cross_entropy(logits, labels).item(), 4)   # = ln(5)
    1.6094

With no graded position at all the mean is 0/0 = NaN: the classic "loss is nan" of a
response that truncation cut away (see audit.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F

from course_lib.env import evaluating
from course_lib.errors import CourseError
from course_lib.masking.labels import IGNORE_INDEX


def check_logits_labels(logits: Any, labels: Any, call: str) -> None:
    """Logits and labels as `call` (the learner's spelling) takes them: the model's whole
    output, a batch dict, a list, or the two swapped were AttributeErrors from inside or a
    complaint about shapes."""
    if hasattr(logits, "logits") and not isinstance(logits, torch.Tensor):
        raise CourseError(f"logits must be the logits tensor, not the model's whole output; "
                          f"give its .logits: {call}.")
    for name, value in (("logits", logits), ("labels", labels)):
        if not isinstance(value, torch.Tensor):
            what = "a batch (a dict)" if isinstance(value, Mapping) else type(value).__name__
            raise CourseError(f"{name} must be a tensor, not {what}; {call}.")
    if not logits.is_floating_point() and labels.is_floating_point():
        raise CourseError(f"the logits come first and the labels second: {call}.")
    one = logits.dim() == 2  # one example without a batch dimension
    if logits.shape[:2 - one] != labels.shape or logits.dim() not in (2, 3):
        raise CourseError(f"logits {tuple(logits.shape)} and labels {tuple(labels.shape)} "
                          f"disagree on (batch, sequence); give the logits of the batch the "
                          f"labels belong to: {call}.")


def _shifted(logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    if logits.dim() == 2:  # one example without a batch dimension
        logits, labels = logits.unsqueeze(0), labels.unsqueeze(0)
    # Logits at t predict the token at t+1: drop the last logit and the first label.
    return logits[:, :-1, :].float(), labels[:, 1:]


def masked_cross_entropy(
    logits: torch.Tensor, labels: torch.Tensor, num_items: int | torch.Tensor | None = None
) -> torch.Tensor:
    """Mean next-token cross-entropy over the positions whose label is not -100.

    logits: (batch, seq, vocab) or (seq, vocab); labels: (batch, seq) or (seq,).
    Equals `model(input_ids, attention_mask, labels=labels).loss` of a Hugging Face causal
    LM. Returns NaN when no position is trained (mean over zero tokens). `num_items` replaces
    the count when the mean runs over more than this batch (the Trainer passes the trained
    tokens of all accumulated batches and processes, so that every token weighs the same).
    """
    check_logits_labels(logits, labels, "masked_cross_entropy(out.logits, batch['labels'])")
    shift_logits, shift_labels = _shifted(logits, labels)
    trained = shift_labels != IGNORE_INDEX
    losses = F.cross_entropy(
        shift_logits.reshape(-1, shift_logits.size(-1)),
        shift_labels.reshape(-1),
        ignore_index=IGNORE_INDEX,
        reduction="none",
    )
    # sum / count written out, so the 0/0 case is visible rather than hidden by a library.
    count = trained.sum() if num_items is None else num_items
    return losses.sum() / count


def per_token_losses(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """The loss of each token, aligned with the tokens: shape like `labels`.

    Entry [b, t] is the cross-entropy of predicting token t (from tokens before it). It is
    NaN where the token is not trained (label -100) and at t = 0 (nothing predicts it).
    The mean of the non-NaN entries is `masked_cross_entropy(logits, labels)`.
    """
    check_logits_labels(logits, labels, "per_token_losses(out.logits, batch['labels'])")
    squeeze = logits.dim() == 2
    shift_logits, shift_labels = _shifted(logits, labels)
    losses = F.cross_entropy(
        shift_logits.transpose(1, 2), shift_labels, ignore_index=IGNORE_INDEX, reduction="none"
    )
    losses = losses.masked_fill(shift_labels == IGNORE_INDEX, float("nan"))
    nan_first = torch.full((losses.size(0), 1), float("nan"), dtype=losses.dtype,
                           device=losses.device)  # on the CPU, cat failed for a GPU's logits
    out = torch.cat([nan_first, losses], dim=1)
    return out[0] if squeeze else out


def example_token_losses(model, example: dict) -> list[float]:
    """Run `model` on one example (input_ids, labels) and return each token's loss.

    NaN marks tokens that are not trained; feed the list to the mask view's loss overlay:

        >>> losses = example_token_losses(model, ex)                 # doctest: +SKIP
        >>> show_mask(ex, tokenizer, losses=losses)                  # doctest: +SKIP
    """
    labels = torch.as_tensor(example["labels"]).reshape(1, -1)
    mask = example.get("attention_mask")
    with evaluating(model) as device:
        input_ids = torch.as_tensor(example["input_ids"], device=device).reshape(1, -1)
        attention_mask = (None if mask is None
                          else torch.as_tensor(mask, device=device).reshape(1, -1))
        logits = model(input_ids=input_ids, attention_mask=attention_mask).logits.cpu()
    return per_token_losses(logits, labels)[0].tolist()
