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
                       extra_specials: Sequence[str] = (), add_bos: bool = True,
                       eos_token: str = "</s>"):
    """A small byte-level BPE with bos/eos/pad/unk that adds BOS (unless add_bos=False), trained
    in well under a second.

    pad_is_eos=True gives the set-up of many real base models (pad token = EOS token).
    vocab_size changes how much is merged (260: bytes only, no merges at all).
    extra_specials come right after the four, so every other id moves up by their number.
    add_bos=False and eos_token="<|endoftext|>" (with it in extra_specials) give SmolLM2's
    set-up: nothing put in front of a text, and an EOS that is neither '</s>' nor id 1.
    """
    # deferred: the grader imports this module at its start; these load transformers
    from transformers import PreTrainedTokenizerFast

    from course_lib.world.tokenizer import byte_level_bpe

    tok = byte_level_bpe(toy_corpus(), vocab_size, [*SPECIALS, *extra_specials])
    if not add_bos:  # GPT-2's and SmolLM2's tokenizers put no BOS in front
        tok.post_processor = None
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token=eos_token,
        pad_token=eos_token if pad_is_eos else "<pad>", unk_token="<unk>",
    )


def make_smollm2_like_tokenizer(pad_is_eos: bool = False):
    """The toy tokenizer set up as SmolLM2's: no BOS in front, EOS '<|endoftext|>' (id 4, not 1).

    Checks grade with it too, so that an answer true only of the tiny world (a BOS typed in,
    '</s>' or id 1 for the EOS) fails here, not on Colab with a real model.

        >>> tok = make_smollm2_like_tokenizer()
        >>> tok("2+2")["input_ids"] == tok("2+2", add_special_tokens=False)["input_ids"]
        True
        >>> tok.eos_token, tok.eos_token_id, make_smollm2_like_tokenizer(True).pad_token_id
        ('<|endoftext|>', 4, 4)
    """
    return make_toy_tokenizer(pad_is_eos, extra_specials=["<|endoftext|>"], add_bos=False,
                              eos_token="<|endoftext|>")


def make_toy_model(tokenizer, seed: int = 0):
    """A randomly initialised tiny Llama (QUICK, about 35k parameters) sized for `tokenizer`."""
    # deferred: the grader imports this module at its start; world.model loads torch
    from course_lib.world.model import QUICK, model_config, new_model

    config = model_config(QUICK, len(tokenizer), tokenizer.bos_token_id, tokenizer.eos_token_id,
                          tokenizer.pad_token_id)
    return new_model(config, seed)
