"""The shape of the embedded base model: a very small Llama.

    >>> config = model_config(BASE, vocab_size=2048)
    >>> config.hidden_size, config.num_hidden_layers, config.tie_word_embeddings
    (128, 4, True)

BASE was chosen by measurement on 2 CPU cores (see the model card): hidden 128 and 4
layers train at a few thousand tokens/s, enough to learn ~1000 facts in about 10 minutes.
QUICK is a toy of the same family, for the seconds-long CI build.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from transformers import LlamaConfig, LlamaForCausalLM


@dataclass(frozen=True)
class ModelShape:
    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    intermediate_size: int
    max_position_embeddings: int = 256


BASE = ModelShape(hidden_size=128, num_hidden_layers=4, num_attention_heads=4,
                  intermediate_size=384)
QUICK = ModelShape(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64)


def model_config(shape: ModelShape, vocab_size: int, bos_token_id: int = 1,
                 eos_token_id: int = 2, pad_token_id: int = 3) -> LlamaConfig:
    """A LlamaConfig with tied input/output embeddings (saves vocab x hidden parameters)."""
    return LlamaConfig(
        vocab_size=vocab_size,
        **asdict(shape),
        num_key_value_heads=shape.num_attention_heads,
        tie_word_embeddings=True,
        bos_token_id=bos_token_id,
        eos_token_id=eos_token_id,
        pad_token_id=pad_token_id,
    )


def new_model(config: LlamaConfig, seed: int = 0) -> LlamaForCausalLM:
    """A freshly initialised model; the seed fixes the initial weights."""
    import torch

    torch.manual_seed(seed)
    return LlamaForCausalLM(config)
