"""Logits at the trained positions only, with the last decoder layer run only where needed.

    >>> logits = kept_logits(model, batch["input_ids"], keep)   # doctest: +SKIP
    >>> torch.allclose(logits, model(**batch).logits[keep])     # doctest: +SKIP
    True

In a masked batch few positions have a trained target (13% of the course's tokens: the
answers are short). `logits_to_keep` already skips the output layer everywhere else. This
goes one step further for Llama models: the *last* decoder layer's queries, attention output
and MLP only feed the output layer, so they are computed only at the kept positions too.
Its keys and values are still computed everywhere, since the kept queries attend to them.
The numbers are the model's own, up to float rounding; training runs measurably faster,
because one layer in four now does a fraction of its work.
"""

from __future__ import annotations

import torch
from torch.nn.functional import scaled_dot_product_attention


def can_skip_last_layer(model) -> bool:
    """True for a plain (unwrapped, non-PEFT) LlamaForCausalLM without attention dropout."""
    config = getattr(model, "config", None)
    return (
        type(model).__name__ == "LlamaForCausalLM"
        and getattr(config, "model_type", "") == "llama"
        and not getattr(config, "attention_dropout", 0.0)
        and getattr(config, "pretraining_tp", 1) == 1
    )


def kept_logits(model, input_ids: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
    """`model(input_ids).logits[keep]` for a right-padded batch (no attention mask needed).

    input_ids: (batch, length); keep: (batch, length) bool. Returns (keep.sum(), vocab), in
    the row-major order of `keep.nonzero()`, the same order as `labels[keep]`.
    """
    from transformers.models.llama.modeling_llama import repeat_kv, rotate_half

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
    # Queries at the kept positions only: (kept, heads, 1, head_dim), rotated.
    queries = attn.q_proj(x[rows, cols]).view(len(rows), -1, 1, attn.head_dim)
    q_cos, q_sin = cos[rows, cols][:, None, None], sin[rows, cols][:, None, None]
    queries = queries * q_cos + rotate_half(queries) * q_sin
    # Each kept query attends to its own row, up to and including its own position.
    row_keys = repeat_kv(keys[rows], attn.num_key_value_groups)
    row_values = repeat_kv(values[rows], attn.num_key_value_groups)
    causal = torch.arange(length, device=input_ids.device) <= cols[:, None]
    out = scaled_dot_product_attention(
        queries, row_keys, row_values, attn_mask=causal[:, None, None, :], scale=attn.scaling
    )
    hidden_kept = hidden[rows, cols] + attn.o_proj(out.reshape(len(rows), -1))
    hidden_kept = hidden_kept + last.mlp(last.post_attention_layernorm(hidden_kept))
    return model.lm_head(base.norm(hidden_kept))
