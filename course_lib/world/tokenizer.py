"""A byte-level BPE tokenizer trained on the world's corpus plus the course templates.

    >>> tok = train_tokenizer(["2 + 2 = 4."], vocab_size=300)
    >>> tok("2+2")["input_ids"][0] == tok.bos_token_id     # BOS is added, Llama-style
    True
    >>> tok("2+2", add_special_tokens=False)["input_ids"][0] == tok.bos_token_id
    False

Choices, and why:

* Byte-level: any text can be encoded (no <unk> in practice), like GPT-2 and Llama 3.
* The ByteLevel pre-tokenizer splits text before BPE runs, so " 4" after "Response:" is
  its own piece. Merges never cross that split, so tokenizing prompt and response
  separately gives exactly the tokens of the whole text (a SentencePiece tokenizer's do not:
  labels.py cuts the response from the whole text).
* `tokenizer(text)` adds `<s>` (BOS) in front, as Llama does; it never adds `</s>` (EOS):
  the labels step appends EOS to the response. `add_special_tokens=False` adds nothing.
* `<pad>` is its own token, distinct from `</s>`, so padding can never hide a real EOS.
* The course templates (seed and Alpaca) are in the training text, so "### Instruction:"
  and "### Response:" become three tokens each instead of being shredded into bytes.
"""

from __future__ import annotations

from collections.abc import Iterable

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import PreTrainedTokenizerFast

from course_lib.formatting.templates import ALPACA, ONE_LINE

SPECIAL_TOKENS = ["<unk>", "<s>", "</s>", "<pad>"]  # ids 0, 1, 2, 3


def template_texts() -> list[str]:
    """The course templates as plain text, so BPE learns their pieces as whole words."""
    texts = []
    for t in (ONE_LINE, ALPACA):
        texts.append(t.format_prompt("Say hello.") + t.format_response("Hello."))
        texts.append(t.format_prompt("Translate this.", "Hello world") + t.format_response("Hola"))
    texts.append("Human: Say hello. Assistant: Hello.\nQ: Say hello. A: Hello.")
    return texts


def byte_level_bpe(texts: Iterable[str], vocab_size: int, special_tokens: list[str],
                   min_frequency: int = 0, pair: str | None = None) -> Tokenizer:
    """BPE trained on the bytes of `texts` that puts <s> (BOS) in front; `pair`: for two texts."""
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, min_frequency=min_frequency, special_tokens=special_tokens,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),  # all 256 bytes: nothing is unknown
        show_progress=False)
    tok.train_from_iterator(texts, trainer=trainer)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair=pair, special_tokens=[("<s>", tok.token_to_id("<s>"))])
    return tok


def train_tokenizer(texts: Iterable[str], vocab_size: int = 2048) -> PreTrainedTokenizerFast:
    """Train BPE on `texts` (plus the templates, repeated) and wrap it for transformers."""
    # Templates are repeated so their words are frequent enough to be merged whole.
    tok = byte_level_bpe(list(texts) + template_texts() * 50, vocab_size, SPECIAL_TOKENS,
                         min_frequency=2, pair="<s> $A <s> $B")
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>",
        unk_token="<unk>", model_max_length=256, padding_side="right")
