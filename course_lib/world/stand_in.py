"""Stand-ins for the real presets, built offline: their shape, their tokenizer type, random weights.

    >>> tok = stand_in_tokenizer("qwen2.5-0.5b")
    >>> type(tok).__name__, tok.bos_token, tok.pad_token == tok.eos_token
    ('Qwen2Tokenizer', None, True)
    >>> tok = stand_in_tokenizer("smollm2-135m")
    >>> type(tok).__name__, tok.bos_token == tok.eos_token, tok.pad_token
    ('GPT2Tokenizer', True, None)

What the course does with SmolLM2-135M or Qwen2.5-0.5B can be tested with no download: the
model is a randomly initialised one of the preset's shape (its real vocabulary size, head
layout, tied embeddings and rope settings; fewer layers if asked), and the tokenizer is of
the preset's class with its special tokens and its set-up (no BOS added; SmolLM2 has no pad
token, Qwen pads with its EOS), over a small byte-level BPE trained here on the course's
text. Its answers are noise: what is tested is that no code path assumes the tiny model.

Many models learners pick tokenize SentencePiece-style instead (a "▁" for each space, byte
fallback, a BOS added): `sentencepiece_tokenizer("llama-2")` (Llama-2, TinyLlama, Mistral)
and `sentencepiece_tokenizer("gemma")`, with `save_sentencepiece_stand_in` for a model folder:

    >>> tok = sentencepiece_tokenizer("llama-2")
    >>> tok("4").tokens(), tok("### Response:\\n4").tokens()[-2:]
    (['<s>', '▁4'], ['<0x0A>', '4'])
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from tokenizers import Tokenizer, models, pre_tokenizers, trainers
from transformers import (
    AutoModelForCausalLM,
    GemmaConfig,
    GemmaForCausalLM,
    GemmaTokenizer,
    GPT2Tokenizer,
    LlamaConfig,
    LlamaForCausalLM,
    LlamaTokenizer,
    Qwen2Tokenizer,
)

from course_lib.formatting.records import load_records
from course_lib.formatting.templates import TEMPLATES
from course_lib.loading import preset_config
from course_lib.world.toy import toy_corpus

# ChatML, the format of both presets' chat templates (their own add a default system turn).
CHATML = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


def _training_text() -> list[str]:
    """The course's instruction data in its templates, and the toy arithmetic text."""
    records = load_records("course:train")[:400]
    texts = [t.format_prompt(r["instruction"], r.get("input", "")) + " " + r["response"]
             for t in TEMPLATES.values() for r in records]
    return texts + toy_corpus()


def _bpe(vocab_size: int, specials_first: bool) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """A byte-level BPE's vocabulary and merges; the special tokens first (SmolLM2: ids 0, 1,
    2) or last (Qwen: after the merges), as in the real tokenizers."""
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=SPECIALS if specials_first else [],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    bpe.train_from_iterator(_training_text(), trainer)
    vocab = bpe.get_vocab()
    if not specials_first:
        vocab.update({token: len(vocab) + i for i, token in enumerate(SPECIALS)})
    return vocab, _merges(bpe)


def _merges(bpe: Tokenizer) -> list[tuple[str, str]]:
    """A trained BPE's merges as pairs ([["Ġ", "t"], ...] or ["Ġ t", ...] in its JSON)."""
    merges = json.loads(bpe.to_str())["model"]["merges"]
    return [tuple(m.split(" ") if isinstance(m, str) else m) for m in merges]


def stand_in_tokenizer(preset: str, vocab_size: int = 2000):
    """The preset's tokenizer class and special tokens over a small BPE trained here."""
    if preset == "smollm2-135m":
        vocab, merges = _bpe(vocab_size, specials_first=True)
        tok = GPT2Tokenizer(vocab=vocab, merges=merges, bos_token="<|endoftext|>",
                            eos_token="<|endoftext|>", unk_token="<|endoftext|>")
    elif preset == "qwen2.5-0.5b":
        vocab, merges = _bpe(vocab_size, specials_first=False)
        tok = Qwen2Tokenizer(vocab=vocab, merges=merges)
    else:
        raise ValueError(f"no stand-in tokenizer for {preset!r}")
    tok.add_special_tokens({"additional_special_tokens": SPECIALS[1:]})
    tok.chat_template = CHATML
    tok.model_max_length = preset_config(preset).max_position_embeddings
    return tok


def stand_in_model(preset: str, tokenizer, seed: int = 0, **changes):
    """A randomly initialised model of the preset's shape (`changes`: e.g. num_hidden_layers=2),
    its special token ids those of `tokenizer`."""
    ids = dict(bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
               pad_token_id=tokenizer.pad_token_id)
    config = preset_config(preset, **ids, **changes)
    torch.manual_seed(seed)
    return AutoModelForCausalLM.from_config(config)


def save_stand_in(preset: str, out: str | Path, seed: int = 0, **changes) -> Path:
    """Write a stand-in model folder that `train()` and the lessons load like any other."""
    out = Path(out)
    tokenizer = stand_in_tokenizer(preset)
    stand_in_model(preset, tokenizer, seed, **changes).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


# Gemma's chat template as published (the assistant is "model"; no {% generation %} markers).
GEMMA_CHAT = (
    "{{ bos_token }}{% for message in messages %}"
    "{% set role = 'model' if message['role'] == 'assistant' else message['role'] %}"
    "{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim + '<end_of_turn>\\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<start_of_turn>model\\n' }}{% endif %}"
)
# Each style's special tokens, in the real models' order of ids (the bytes follow them).
SENTENCEPIECE_SPECIALS = {
    "llama-2": ["<unk>", "<s>", "</s>"],
    "gemma": ["<pad>", "<eos>", "<bos>", "<unk>", "<mask>", "<start_of_turn>", "<end_of_turn>"],
}


def _metaspace_bpe(specials: list[str], vocab_size: int, prepend: str):
    """A SentencePiece-like BPE's vocabulary and merges: words begin with "▁", and a newline
    is left to byte fallback (<0x0A>), as in Llama-2's vocabulary."""
    bpe = Tokenizer(models.BPE(byte_fallback=True))
    bpe.pre_tokenizer = pre_tokenizers.Metaspace(prepend_scheme=prepend, split=True)
    bytes_ = [f"<0x{i:02X}>" for i in range(256)]
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials + bytes_,
                                  show_progress=False)
    bpe.train_from_iterator([t.replace("\n", " ") for t in _training_text()], trainer)
    return bpe.get_vocab(), _merges(bpe)


def sentencepiece_tokenizer(style: str = "llama-2", vocab_size: int = 2000):
    """A SentencePiece-style tokenizer of `style`'s class and set-up, over a BPE trained here.

    "llama-2": LlamaTokenizer, adds <s>, a "▁" in front of a text ("4" alone is "▁4"), no
    chat template (a base model). "gemma": GemmaTokenizer, adds <bos>, no "▁" in front, pads
    with <pad>, Gemma's <start_of_turn> chat template.
    """
    if style not in SENTENCEPIECE_SPECIALS:
        raise ValueError(f"no SentencePiece stand-in of style {style!r}; "
                         f"choose one of {', '.join(SENTENCEPIECE_SPECIALS)}")
    specials = SENTENCEPIECE_SPECIALS[style]
    # Llama's pre-tokenizer puts a "▁" in front of a text; Gemma's normalizer does not.
    vocab, merges = _metaspace_bpe(specials, vocab_size, "first" if style == "llama-2" else "never")
    if style == "llama-2":
        tok = LlamaTokenizer(vocab=vocab, merges=merges, add_bos_token=True)
    else:
        tok = GemmaTokenizer(vocab=vocab, merges=merges, add_bos_token=True,
                             additional_special_tokens=specials[-2:])
        tok.chat_template = GEMMA_CHAT
    tok.model_max_length = 512
    return tok


def save_sentencepiece_stand_in(style: str, out: str | Path, seed: int = 0) -> Path:
    """A model folder: a tiny random Llama (or Gemma) over `sentencepiece_tokenizer(style)`
    (2 layers, hidden size 64), for `train()`, generation and the lessons."""
    out = Path(out)
    tok = sentencepiece_tokenizer(style)
    config_class, model_class = ((LlamaConfig, LlamaForCausalLM) if style == "llama-2"
                                 else (GemmaConfig, GemmaForCausalLM))
    config = config_class(
        vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, head_dim=16,
        max_position_embeddings=tok.model_max_length, bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    torch.manual_seed(seed)
    model_class(config).save_pretrained(out)
    tok.save_pretrained(out)
    return out
