"""Optional reading: the runner's speed tricks, all behind one switch, `train(fast=True)`.

The loss the course teaches is `masking/loss.py`: run the model, shift by one, average the
cross-entropy over the positions whose label is not -100. With `fast=False` the runner
computes exactly that (`trainer.CourseTrainer`). With `fast=True`, the default, it computes
the same number with less work, and sets up the run to waste less time:

1. `logits_to_keep`: the output layer (the widest matrix) and the softmax run only at
   positions whose next token is trained; in a masked run that skips the whole prompt.
2. The last decoder layer, too, runs only at those positions (Llama models, `kept_logits`):
   its output feeds nothing but the output layer.
3. No attention mask for a right-padded batch: under a causal mask no real token sees the
   padding after it anyway, and without the mask attention takes its faster causal path.
4. `gc.freeze()` while training: Python's full collections stop walking the objects of the
   (large) imported libraries, about 0.3 s each on a laptop.
5. Fused AdamW: the same update in one kernel instead of a dozen small ops per parameter.
6. Threads: `num_threads` for this run only.

Each trick keeps the numbers (tests compare losses and gradients with the plain path). If
the fast loss fails on its first step, the run says so once, naming the exception, goes on
with the plain loss, and `history.fast_path` records it: it never falls back silently.
"""

from __future__ import annotations

import gc
import inspect
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import torch
import transformers
from torch.nn.functional import scaled_dot_product_attention
from transformers.models.llama.modeling_llama import repeat_kv, rotate_half

from course_lib.masking.labels import IGNORE_INDEX


def optimizer_name(device: str, fast: bool) -> str:
    """TrainingArguments' `optim`: fused AdamW where torch has it (trick 5), else plain AdamW."""
    return "adamw_torch_fused" if fast and device in ("cpu", "cuda") else "adamw_torch"


@contextmanager
def fast_run(fast: bool, num_threads: int | None) -> Iterator[None]:
    """Tricks 4 and 6 around `trainer.train()`; everything is restored afterwards."""
    threads_before = torch.get_num_threads()
    if fast:
        gc.freeze()
    if num_threads:
        torch.set_num_threads(num_threads)
    try:
        yield
    finally:
        if fast:
            gc.unfreeze()
        torch.set_num_threads(threads_before)


class FastLoss:
    """Tricks 1-3: the masked loss from the logits of the trained positions only.

    `status` says what happened: "on" (every step so far took the fast path), "not used:
    <why>" (the model cannot take it), or "fell back: <exception>" (it failed on the first
    step; the plain loss was used from then on).
    """

    def __init__(self):
        self.status = "not started"

    def __call__(self, model, inputs: dict, labels: torch.Tensor,
                 num_items_in_batch=None) -> torch.Tensor | None:
        """The loss, or None when the caller should compute the plain one."""
        if self.status == "not started":
            why = why_not_fast(model)
            if why:
                self.status = f"not used: {why}"
            else:
                return self._first_step(model, inputs, labels, num_items_in_batch)
        if self.status != "on":
            return None
        return kept_loss(model, inputs, labels, num_items_in_batch)

    def _first_step(self, model, inputs, labels, num_items_in_batch) -> torch.Tensor | None:
        try:
            loss = kept_loss(model, inputs, labels, num_items_in_batch)
        except Exception as err:  # noqa: BLE001 - any failure: say it, then use the plain loss
            self.status = f"fell back: {type(err).__name__}: {err}"
            warnings.warn(f"The fast loss failed on the first step ({type(err).__name__}: "
                          f"{err}); training goes on with the plain loss, the same numbers, "
                          f"more slowly. train(fast=False) skips the attempt.", stacklevel=3)
            return None
        self.status = "on"
        return loss


def why_not_fast(model) -> str:
    """'' if the model can take `logits_to_keep` as a boolean mask, else the reason."""
    base = getattr(model, "module", model)  # a DistributedDataParallel wrapper
    if hasattr(base, "get_base_model"):  # a PEFT model passes keywords through
        base = base.get_base_model()
    if "logits_to_keep" not in inspect.signature(base.forward).parameters:
        return f"{type(base).__name__}.forward takes no logits_to_keep"
    # Before transformers 5.21 (Colab has 5.15) a tensor there is read as positions, not as a
    # mask; the model's module imports slice_logits_to_keep where it takes a boolean mask.
    if not hasattr(inspect.getmodule(type(base)), "slice_logits_to_keep"):
        return (f"{type(base).__name__} in transformers {transformers.__version__} takes no "
                f"boolean logits_to_keep (from 5.21 on it does)")
    return ""


def kept_loss(model, inputs: dict, labels: torch.Tensor, num_items_in_batch=None) -> torch.Tensor:
    """masked_cross_entropy's number, computed from the trained positions' logits only."""
    targets = labels[:, 1:]  # position t predicts token t+1
    trained = targets != IGNORE_INDEX
    keep = torch.nn.functional.pad(trained, (0, 1), value=False)  # (batch, length), bool
    inputs = dict(inputs)
    mask = inputs.get("attention_mask")
    if mask is not None and bool((mask[:, 1:] <= mask[:, :-1]).all()):
        del inputs["attention_mask"]  # trick 3: right padding only, so causal attention suffices
    if set(inputs) == {"input_ids"} and can_skip_last_layer(model):
        logits = kept_logits(model, inputs["input_ids"], keep)  # trick 2
    else:
        logits = model(**inputs, logits_to_keep=keep, use_cache=False).logits  # trick 1
    kept_targets = targets[trained]
    if logits.shape[:-1] != kept_targets.shape:
        raise ValueError(f"logits_to_keep gave logits of shape {tuple(logits.shape)} for "
                         f"{kept_targets.numel()} trained positions")
    count = num_items_in_batch if num_items_in_batch is not None else trained.sum()
    return torch.nn.functional.cross_entropy(logits.float(), kept_targets, reduction="sum") / count


# --- Trick 2: the last decoder layer at the kept positions only (Llama) ---------------------
# In a masked batch few positions have a trained target (13% of the course's tokens: the
# answers are short). The *last* decoder layer's queries, attention output and MLP only
# feed the output layer, so they are computed at the kept positions too. Its keys and
# values are still computed everywhere, since the kept queries attend to them.


# Attention that is causal when given no mask. Eager attention is not: without a mask every
# position would see the tokens after it, so the short cut is off for it.
CAUSAL_WITHOUT_MASK = ("sdpa", "flash_attention_2", "flash_attention_3")


def can_skip_last_layer(model) -> bool:
    """True for a plain (unwrapped, non-PEFT) LlamaForCausalLM without attention dropout
    whose attention is causal without a mask (not "eager")."""
    config = getattr(model, "config", None)
    return (
        type(model).__name__ == "LlamaForCausalLM"
        and getattr(config, "model_type", "") == "llama"
        and getattr(config, "_attn_implementation", "eager") in CAUSAL_WITHOUT_MASK
        # kept_logits re-does the last layer without dropout. Read the layer, not the config:
        # the layers copy the config's setting, and a learner may change theirs afterwards.
        and not getattr(model.model.layers[-1].self_attn, "attention_dropout", 0.0)
        and getattr(config, "pretraining_tp", 1) == 1
    )


def kept_logits(model, input_ids: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
    """`model(input_ids).logits[keep]` for a right-padded batch (no attention mask needed).

    input_ids: (batch, length); keep: (batch, length) bool. Returns (keep.sum(), vocab), in
    the row-major order of `keep.nonzero()`, the same order as `labels[keep]`.
    """
    base = model.model
    batch, length = input_ids.shape
    hidden = base.embed_tokens(input_ids)
    positions = torch.arange(length, device=input_ids.device).expand(batch, length)
    cos, sin = base.rotary_emb(hidden, positions)  # (batch, length, head_dim) each
    for layer in base.layers[:-1]:  # every layer but the last: the model's own code
        hidden = layer(hidden, position_ids=positions, position_embeddings=(cos, sin))

    last, rows, cols = base.layers[-1], *keep.nonzero(as_tuple=True)
    attn = last.self_attn
    x = last.input_layernorm(hidden)
    # Keys and values at every position (batch, kv_heads, length, head_dim), rotated.
    keys = attn.k_proj(x).view(batch, length, -1, attn.head_dim).transpose(1, 2)
    keys = keys * cos.unsqueeze(1) + rotate_half(keys) * sin.unsqueeze(1)
    values = attn.v_proj(x).view(batch, length, -1, attn.head_dim).transpose(1, 2)
    # Queries at the kept positions only: (kept, heads, head_dim), rotated.
    queries = attn.q_proj(x[rows, cols]).view(len(rows), -1, attn.head_dim)
    q_cos, q_sin = cos[rows, cols][:, None], sin[rows, cols][:, None]
    queries = queries * q_cos + rotate_half(queries) * q_sin
    out = kept_attention(queries, keys, values, keep, rows, cols, attn)  # (kept, heads, dim)
    hidden_kept = hidden[rows, cols] + attn.o_proj(out.reshape(len(rows), -1))
    hidden_kept = hidden_kept + last.mlp(last.post_attention_layernorm(hidden_kept))
    return model.lm_head(base.norm(hidden_kept))


# A kept query with its own copy of its row's keys and values is fastest for short rows, but
# the copies are kept x length x width numbers: gigabytes for long rows of a real model. Past
# COPY_LIMIT numbers, the queries are packed to the front of their own row instead.
COPY_LIMIT = 2**25  # 128 MiB of float32; the course's rows (under 100 tokens) stay below it


def kept_attention(queries, keys, values, keep, rows, cols, attn) -> torch.Tensor:
    """Each kept query (at rows, cols = keep.nonzero()) attending to its own row's keys, up to
    and including its own position: (kept, heads, head_dim), in keep's order."""
    length, groups = keys.shape[2], attn.num_key_value_groups
    if len(rows) * length * queries.shape[1] * queries.shape[2] <= COPY_LIMIT:
        row_keys, row_values = repeat_kv(keys[rows], groups), repeat_kv(values[rows], groups)
        causal = torch.arange(length, device=keys.device) <= cols[:, None]
        return scaled_dot_product_attention(
            queries[:, :, None], row_keys, row_values, attn_mask=causal[:, None, None, :],
            scale=attn.scaling)[:, :, 0]
    # Slot j of a row: its j-th kept position. An empty slot sits at position 0 (one key).
    slots = keep.cumsum(1)[rows, cols] - 1
    packed = queries.new_zeros(keep.shape[0], int(keep.sum(1).max()), *queries.shape[1:])
    packed[rows, slots] = queries
    at = torch.zeros(packed.shape[:2], dtype=torch.long, device=keys.device)
    at[rows, slots] = cols
    causal = torch.arange(length, device=keys.device) <= at[..., None]
    out = scaled_dot_product_attention(
        packed.transpose(1, 2), repeat_kv(keys, groups), repeat_kv(values, groups),
        attn_mask=causal[:, None], scale=attn.scaling)
    return out.transpose(1, 2)[rows, slots]
