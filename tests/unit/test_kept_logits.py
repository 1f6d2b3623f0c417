"""kept_logits gives the model's own logits (and gradients) at the kept positions."""

import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM

from course_lib.masking.labels import IGNORE_INDEX, PadCollator, prepare_examples
from course_lib.training.fast_loss import can_skip_last_layer, kept_logits

RECORDS = [
    {"instruction": "What is 2+2?", "response": "4"},
    {"instruction": "Translate this to Spanish", "input": "Hello world", "response": "Hola mundo"},
    {"instruction": "What is the capital of France? Answer in one word.", "response": "Paris"},
]


def llama(tokenizer, kv_heads: int, **extra) -> LlamaForCausalLM:
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=3,
        num_attention_heads=4, num_key_value_heads=kv_heads, max_position_embeddings=128,
        pad_token_id=tokenizer.pad_token_id, tie_word_embeddings=True, **extra,
    )
    return LlamaForCausalLM(config)


def batch_and_keep(tokenizer, masking):
    examples = prepare_examples(RECORDS, tokenizer, masking=masking).examples
    batch = PadCollator(tokenizer.pad_token_id)(examples)
    trained = batch["labels"][:, 1:] != IGNORE_INDEX
    return batch, torch.nn.functional.pad(trained, (0, 1), value=False)


@pytest.mark.parametrize("kv_heads", [4, 2])  # plain attention and grouped-query attention
@pytest.mark.parametrize("masking", ["response", "none"])
def test_same_logits_and_gradients_as_the_full_forward(toy_tokenizer, kv_heads, masking):
    model = llama(toy_tokenizer, kv_heads)
    batch, keep = batch_and_keep(toy_tokenizer, masking)
    assert (batch["attention_mask"] == 0).any() and 0 < keep.sum() < keep.numel()

    reference = model(input_ids=batch["input_ids"]).logits[keep]
    reference.logsumexp(-1).sum().backward()
    expected = {name: p.grad.clone() for name, p in model.named_parameters()}
    model.zero_grad()
    ours = kept_logits(model, batch["input_ids"], keep)
    ours.logsumexp(-1).sum().backward()

    torch.testing.assert_close(ours, reference, rtol=1e-5, atol=1e-5)
    for name, p in model.named_parameters():
        torch.testing.assert_close(p.grad, expected[name], rtol=1e-4, atol=1e-6, msg=name)


def test_only_plain_llama_models_take_the_short_cut(toy_tokenizer):
    from peft import LoraConfig, get_peft_model

    assert can_skip_last_layer(llama(toy_tokenizer, 4))
    assert not can_skip_last_layer(llama(toy_tokenizer, 4, attention_dropout=0.1))
    lora = LoraConfig(r=2, target_modules=["q_proj"], task_type="CAUSAL_LM")
    assert not can_skip_last_layer(get_peft_model(llama(toy_tokenizer, 4), lora))
