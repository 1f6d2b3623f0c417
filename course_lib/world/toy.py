"""A toy tokenizer and a toy model, built offline in about a second.

Tests, benchmarks and exercises use them when the embedded tiny model is not needed: the
tokenizer is a real byte-level BPE (the same family as GPT-2, Llama 3, Qwen), so everything
the course shows about tokens and labels happens with it too.

    >>> tok = make_toy_tokenizer()
    >>> tok.convert_ids_to_tokens(tok("### Response: 4", add_special_tokens=False)["input_ids"])
    ['###', 'ĠResponse', ':', 'Ġ4']
    >>> model = make_toy_model(tok)     # world/model.py's QUICK shape, sized for `tok`
    >>> model.num_parameters(), model.config.eos_token_id, tok.eos_token_id
    (35072, 1, 1)
"""

from __future__ import annotations

from collections.abc import Sequence

from course_lib.formatting.templates import ALPACA, ONE_LINE

SPECIALS = ["<s>", "</s>", "<pad>", "<unk>"]


def toy_corpus() -> list[str]:
    """The text the toy BPE is trained on: the course's templates and some arithmetic."""
    words = (
        "what is the capital of france spain cat dog says red blue hello world hola mundo"
    ).split()
    lines = []
    for a in range(10):
        for b in range(10):
            lines.append(ONE_LINE.format_prompt(f"What is {a}+{b}?") + f" {a + b}")
            lines.append(f"{a} + {b} = {a + b}. Add {a} and {b}.")
    lines += [ALPACA.format_prompt("Translate this to Spanish", "Hello world") + "Hola mundo"]
    lines += [" ".join(words)] * 5
    return lines


def make_toy_tokenizer(pad_is_eos: bool = False, vocab_size: int = 600,
                       extra_specials: Sequence[str] = ()):
    """A small byte-level BPE with bos/eos/pad/unk that adds BOS, trained in well under a second.

    pad_is_eos=True gives the set-up of many real base models (pad token = EOS token).
    vocab_size changes how much is merged (260: bytes only, no merges at all).
    extra_specials come right after the four, so every other id moves up by their number.
    """
    # deferred: the grader imports this module at its start; these load transformers
    from transformers import PreTrainedTokenizerFast

    from course_lib.world.tokenizer import byte_level_bpe

    tok = byte_level_bpe(toy_corpus(), vocab_size, [*SPECIALS, *extra_specials])
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>",
        pad_token="</s>" if pad_is_eos else "<pad>", unk_token="<unk>",
    )


def make_toy_model(tokenizer, seed: int = 0):
    """A randomly initialised tiny Llama (QUICK, about 35k parameters) sized for `tokenizer`."""
    # deferred: the grader imports this module at its start; world.model loads torch
    from course_lib.world.model import QUICK, model_config, new_model

    config = model_config(QUICK, len(tokenizer), tokenizer.bos_token_id, tokenizer.eos_token_id,
                          tokenizer.pad_token_id)
    return new_model(config, seed)
