import os

# Tests never reach a hub: everything they need is embedded in the package.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("MPLBACKEND", "Agg")

import pytest  # noqa: E402

SPECIALS = ["<s>", "</s>", "<pad>", "<unk>"]


def _toy_corpus() -> list[str]:
    from course_lib.formatting import ALPACA, SEED

    words = "what is the capital of france spain cat dog says red blue hello world hola mundo".split()
    lines = []
    for a in range(10):
        for b in range(10):
            lines.append(SEED.format_prompt(f"What is {a}+{b}?") + f" {a + b}")
            lines.append(f"{a} + {b} = {a + b}. Add {a} and {b}.")
    lines += [ALPACA.format_prompt("Translate this to Spanish", "Hello world") + "Hola mundo"]
    lines += [" ".join(words)] * 5
    return lines


def make_toy_tokenizer(pad_is_eos: bool = False):
    """A small byte-level BPE with bos/eos/pad/unk, trained in well under a second."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=600, special_tokens=SPECIALS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tok.train_from_iterator(_toy_corpus(), trainer)
    bos = tok.token_to_id("<s>")
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", bos)])
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>",
        pad_token="</s>" if pad_is_eos else "<pad>", unk_token="<unk>",
    )


@pytest.fixture(scope="session")
def toy_tokenizer():
    """Byte-level BPE with a distinct pad token (like the embedded model's)."""
    return make_toy_tokenizer()


@pytest.fixture(scope="session")
def toy_tokenizer_pad_is_eos():
    """The same tokenizer with pad == eos, as many real base models are set up."""
    return make_toy_tokenizer(pad_is_eos=True)


@pytest.fixture(scope="session")
def toy_model_dir(tmp_path_factory, toy_tokenizer):
    """A randomly initialised tiny Llama saved with the toy tokenizer: fast for mechanics tests."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(toy_tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=256,
        bos_token_id=toy_tokenizer.bos_token_id, eos_token_id=toy_tokenizer.eos_token_id,
        pad_token_id=toy_tokenizer.pad_token_id, tie_word_embeddings=True,
    )
    out = tmp_path_factory.mktemp("toy-model")
    LlamaForCausalLM(config).save_pretrained(out)
    toy_tokenizer.save_pretrained(out)
    return out
