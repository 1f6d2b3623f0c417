"""The SentencePiece-style stand-ins: Llama-2's and Gemma's set-up, built offline, and a model
folder that train() runs on."""

import time

import pytest
from transformers import AutoModelForCausalLM, AutoTokenizer

from course_lib.training.runner import train
from course_lib.world.stand_in import save_sentencepiece_stand_in, sentencepiece_tokenizer


def test_llama_2_style_adds_bos_and_a_space_in_front_of_a_text():
    start = time.perf_counter()
    tok = sentencepiece_tokenizer("llama-2")
    assert time.perf_counter() - start < 10  # cheap enough for any test to build
    assert type(tok).__name__ == "LlamaTokenizer"
    assert (tok.bos_token, tok.eos_token, tok.pad_token) == ("<s>", "</s>", None)
    # The pitfall it is for: "4" alone gets a "▁", after a newline it does not.
    assert tok("4").tokens() == ["<s>", "▁4"]
    assert tok("### Response:\n4").tokens()[-3:] == ["▁Response:", "<0x0A>", "4"]
    assert tok.decode(tok("Hello world")["input_ids"], skip_special_tokens=True) == "Hello world"


def test_gemma_style_adds_bos_no_space_and_has_its_chat_template():
    tok = sentencepiece_tokenizer("gemma")
    assert type(tok).__name__ == "GemmaTokenizer"
    assert (tok.bos_token, tok.eos_token, tok.pad_token) == ("<bos>", "<eos>", "<pad>")
    assert tok("4").tokens() == ["<bos>", "4"]
    chat = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]
    assert tok.apply_chat_template(chat, tokenize=False) == (
        "<bos><start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\nHello<end_of_turn>\n")
    with pytest.raises(ValueError, match="choose one of llama-2, gemma"):
        sentencepiece_tokenizer("mistral")


@pytest.mark.slow
@pytest.mark.parametrize("style", ["llama-2", "gemma"])
def test_a_saved_stand_in_loads_as_its_class_and_trains(style, tmp_path):
    folder = save_sentencepiece_stand_in(style, tmp_path / style)
    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder)
    assert tok("4").tokens() == sentencepiece_tokenizer(style)("4").tokens()  # set-up kept
    assert model.config.vocab_size == len(tok)
    assert model.config.eos_token_id == tok.eos_token_id
    result = train(folder, max_steps=2, eval_data=None, progress=False, verbose=False,
                   out_dir=tmp_path / "run")
    assert len(result.history.train_loss) == 2
