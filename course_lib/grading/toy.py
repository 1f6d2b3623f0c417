"""A toy tokenizer for exercises and checks: a small byte-level BPE trained in under a second.

It behaves like any Hugging Face tokenizer (BOS added to text, EOS and PAD ids), so code
written against it works unchanged on a real model's tokenizer.

    >>> tok = toy_tokenizer()                                   # doctest: +SKIP
    >>> tok("What is 2+2?")["input_ids"][0] == tok.bos_token_id  # doctest: +SKIP
    True

`toy_tokenizer(pad_is_eos=True)` has pad == eos, as many real base models are set up.
(The same recipe as the test suite's fixture, so exercises and tests see the same ids.)
"""

from __future__ import annotations

from functools import lru_cache

SPECIALS = ["<s>", "</s>", "<pad>", "<unk>"]


def _corpus() -> list[str]:
    from course_lib.formatting import ALPACA, SEED

    words = ("what is the capital of france spain cat dog says red blue hello world hola "
             "mundo").split()
    lines = []
    for a in range(10):
        for b in range(10):
            lines.append(SEED.format_prompt(f"What is {a}+{b}?") + f" {a + b}")
            lines.append(f"{a} + {b} = {a + b}. Add {a} and {b}.")
    lines += [ALPACA.format_prompt("Translate this to Spanish", "Hello world") + "Hola mundo"]
    lines += [" ".join(words)] * 5
    return lines


@lru_cache(maxsize=1)
def _trained_json() -> str:
    """The trained tokenizer as JSON (training once per process, whatever is asked after)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=600, special_tokens=SPECIALS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False,
    )
    tok.train_from_iterator(_corpus(), trainer)
    bos = tok.token_to_id("<s>")
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A", special_tokens=[("<s>", bos)])
    return tok.to_str()


@lru_cache(maxsize=2)
def toy_tokenizer(pad_is_eos: bool = False):
    """A PreTrainedTokenizerFast with <s> (BOS, added to every text), </s> (EOS), <pad>, <unk>."""
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer.from_str(_trained_json()), bos_token="<s>", eos_token="</s>",
        pad_token="</s>" if pad_is_eos else "<pad>", unk_token="<unk>",
    )
