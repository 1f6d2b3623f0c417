"""The training loop written out: what `train()` does at every step, in one screen.

    >>> losses = train_by_hand(model, tokenizer, records, steps=40)   # doctest: +SKIP
    >>> losses[0], losses[-1]                                         # doctest: +SKIP
    (10.9, 0.4)

This is the loop transformers' Trainer runs for `train()` (runner.py): the same labels
(masking/labels.py), the same loss (masking/loss.py), the same data order, optimizer, learning
rate schedule and gradient clipping. At the same seed the two loss curves agree (a test checks
it). Use `train()` for real runs: it adds held-out measurements, mixed precision on a GPU,
checkpoints, progress and the speed tricks of fast_loss.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from course_lib.errors import CourseError, shown
from course_lib.formatting.templates import DEFAULT_TEMPLATE, Template
from course_lib.masking.labels import (
    Masking,
    check_records,
    check_tokenizer,
    pad_batch,
    prepare_examples,
)
from course_lib.masking.loss import masked_cross_entropy
from course_lib.training.settings import check_count, check_numbers


def train_by_hand(model, tokenizer, records: Sequence[dict[str, Any]], *, steps: int = 40,
                  batch_size: int = 16, learning_rate: float = 1e-3, seed: int = 0,
                  masking: Masking = "response",
                  template: str | Template = DEFAULT_TEMPLATE) -> list[float]:
    """Fine-tune `model` in place for `steps` optimizer steps; return the loss of each step.

    The model is left in eval mode (dropout off), ready to generate, whatever mode it was in,
    as train() leaves it."""
    # 0. Arguments the loop cannot use are named now, not as an error from deep inside it.
    records = check_arguments(model, tokenizer, records, steps, batch_size, learning_rate, seed)
    # 1. Labels: the response is what follows the prompt's ids; -100 on the prompt (lesson 03).
    examples = prepare_examples(records, tokenizer, template, masking).examples
    # 2. AdamW, and a learning rate that falls linearly to 0 at the last step (the
    #    Trainer's defaults: no weight decay, no warm-up).
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=0.0)
    schedule = torch.optim.lr_scheduler.LinearLR(optimizer, 1.0, 0.0, total_iters=steps)
    device = next(model.parameters()).device
    model.train()
    losses: list[float] = []
    epoch = 0
    while len(losses) < steps:
        # 3. A new shuffle every epoch, seeded: the same seed gives the same batches.
        order = torch.randperm(len(examples), generator=torch.Generator().manual_seed(seed + epoch))
        for start in range(0, len(order), batch_size):
            batch = pad_batch([examples[i] for i in order[start:start + batch_size]],
                              tokenizer.pad_token_id)  # labels padded with -100 by position
            batch = {k: v.to(device) for k, v in batch.items()}
            # 4. Forward: the model reads every token, prompt included.
            logits = model(input_ids=batch["input_ids"],
                           attention_mask=batch["attention_mask"], use_cache=False).logits
            # 5. The loss grades only positions whose label is not -100.
            loss = masked_cross_entropy(logits, batch["labels"])
            # 6. Backward: gradients of that loss for every weight.
            loss.backward()
            # 7. Clip the gradients' total norm to 1 (the Trainer's max_grad_norm), then step.
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            # 8. Forget this step's gradients: backward() adds to whatever is there.
            optimizer.zero_grad()
            losses.append(loss.item())
            if len(losses) == steps:
                break
        epoch += 1
    model.eval()
    return losses


CALL = "train_by_hand(model, tokenizer, records)"


def check_arguments(model, tokenizer, records, steps, batch_size, learning_rate, seed) -> list:
    """The records as a list, or a one-sentence error: unchecked, a data set's name was
    "expected a JSON object, got str", the tokenizer as the model an AttributeError, steps=0
    or [] records an empty or endless loop, float16 weights NaN after one step."""
    if isinstance(model, str):
        raise CourseError(f"model must be the model object, not {shown(model)}; load it first: "
                          f"model, tokenizer = load_model_and_tokenizer({model!r}, "
                          f"dtype=torch.float32), then {CALL}.")
    if not isinstance(model, torch.nn.Module):
        what = "a tokenizer" if hasattr(model, "convert_ids_to_tokens") else type(model).__name__
        raise CourseError(f"model must be the model, not {what}; give the model first and the "
                          f"tokenizer second: {CALL}.")
    check_tokenizer(tokenizer, CALL)
    records = check_records(records, CALL)
    if not records:  # no batch to draw: the loop would never reach `steps`
        raise CourseError("records is empty; give the records to train on, e.g. "
                          "load_records('course:train').")
    check_count(steps, "steps", "steps", 1)  # steps=0 returned [] without training
    check_numbers(learning_rate, batch_size=batch_size, seed=seed)
    # float16 weights break in one step: AdamW's squared-gradient average and eps round to 0.
    if next(model.parameters()).dtype == torch.float16:
        raise CourseError("train_by_hand trains weights in their own dtype, and float16 ones turn "
                          "to inf or NaN in one step; load them in float32: "
                          "load_model_and_tokenizer(name, dtype=torch.float32).")
    return records
