"""transformers' Trainer with the course's loss, and a safety net for batches with nothing to learn.

    >>> trainer = CourseTrainer(model=model, args=args, train_dataset=examples,   # doctest: +SKIP
    ...                         data_collator=PadCollator(tok.pad_token_id))
    >>> trainer.train()                                                          # doctest: +SKIP

The Trainer runs the loop (loop_by_hand.py shows the same loop written out). Two changes:

1. `compute_loss` is `masking/loss.masked_cross_entropy`, the loss lesson 03 writes by hand,
   or the same number computed faster by `fast_loss.FastLoss` when one is given.
2. A batch with no trained token is skipped and counted instead of giving a NaN loss.
"""

from __future__ import annotations

import warnings

import torch
from transformers import Trainer

from course_lib.masking.labels import IGNORE_INDEX
from course_lib.masking.loss import masked_cross_entropy
from course_lib.training.fast_loss import FastLoss


class CourseTrainer(Trainer):
    """A Trainer whose loss is the course's masked cross-entropy (see the module docstring)."""

    def __init__(self, *args, fast_loss: FastLoss | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fast_loss = fast_loss
        self.skipped_batches = 0

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs["labels"]
        model_inputs = {k: v for k, v in inputs.items() if k != "labels"}
        loss, outputs = None, None
        if self.fast_loss is not None and not return_outputs:
            # The fast loss may call the model's layers directly, past the forward that
            # accelerate wraps in autocast: enter the run's mixed precision here too.
            with self.accelerator.autocast():
                loss = self.fast_loss(model, model_inputs, labels, num_items_in_batch)
        if loss is None:  # the plain path: the whole forward, then the loss of lesson 03
            outputs = model(**model_inputs, use_cache=False)
            loss = masked_cross_entropy(outputs.logits, labels, num_items=num_items_in_batch)
        if self.args.average_tokens_across_devices and num_items_in_batch is not None:
            # num_items_in_batch counts every process's tokens, and DDP averages gradients
            # over processes: scale back up, as the Trainer's own compute_loss does.
            loss = loss * self.accelerator.num_processes
        return (loss, outputs) if return_outputs else loss

    def training_step(self, model, inputs, num_items_in_batch=None):
        labels = inputs.get("labels")
        # Causal LMs shift labels by one: position 0's label is never a target.
        if labels is not None and not bool((labels[..., 1:] != IGNORE_INDEX).any()):
            return self._skip(model)
        return super().training_step(model, inputs, num_items_in_batch)

    def _skip(self, model) -> torch.Tensor:
        """Mean cross-entropy over zero targets is 0/0: return a zero loss with no gradient,
        so the optimizer leaves every weight alone, and record the step as skipped."""
        self.skipped_batches += 1
        step = self.state.global_step + 1
        self.state.log_history.append({"step": step, "skipped_batch": 1})
        warnings.warn(
            f"step {step}: batch has no trained token (all labels -100); skipped instead of a "
            f"NaN loss. Check the data report for examples cut by max_length.",
            stacklevel=3,
        )
        if self.args.fp16:
            # fp16's GradScaler insists on finite-checked gradients: give it zeros.
            trainable = [p for p in model.parameters() if p.requires_grad]
            zero = sum(p.sum() for p in trainable) * 0.0
            self.accelerator.backward(zero)
            return zero.detach()
        return torch.zeros((), device=self.args.device)
