"""The fast path computes the plain masked loss (and its gradients), and it really runs.

Every comparison here first asserts that FastLoss took its fast path (`status == "on"`):
a silent fallback would compare the plain loss with itself and prove nothing.
"""

import pytest
import torch
from torch.nn.functional import scaled_dot_product_attention
from transformers import LlamaConfig, LlamaForCausalLM, TrainingArguments
from transformers.models.llama import modeling_llama

from course_lib.masking.labels import IGNORE_INDEX, PadCollator, prepare_examples
from course_lib.masking.loss import masked_cross_entropy
from course_lib.training import fast_loss
from course_lib.training.fast_loss import FastLoss, can_skip_last_layer, kept_logits
from course_lib.training.runner import train
from course_lib.training.trainer import CourseTrainer

RECORDS = [
    {"instruction": "What is 2+2?", "response": "4"},
    {"instruction": "Translate this to Spanish", "input": "Hello world", "response": "Hola mundo"},
    {"instruction": "What is the capital of France? Answer in one word.", "response": "Paris"},
]


def llama(tokenizer, kv_heads: int = 4, **extra) -> LlamaForCausalLM:
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=3,
        num_attention_heads=4, num_key_value_heads=kv_heads, max_position_embeddings=128,
        pad_token_id=tokenizer.pad_token_id, tie_word_embeddings=True, **extra,
    )
    return LlamaForCausalLM(config)


def padded_batch(tokenizer, masking):
    examples = prepare_examples(RECORDS, tokenizer, masking=masking).examples
    batch = PadCollator(tokenizer.pad_token_id)(examples)
    assert (batch["attention_mask"] == 0).any()  # the batch really is padded
    return batch


def loss_and_grads(model, batch, fast: FastLoss | None, tmp_path):
    args = TrainingArguments(output_dir=str(tmp_path), use_cpu=True, report_to="none")
    trainer = CourseTrainer(model=model, args=args, fast_loss=fast)
    model.zero_grad()
    loss = trainer.compute_loss(model, dict(batch))
    loss.backward()
    return loss.detach(), {n: p.grad.clone() for n, p in model.named_parameters()
                           if p.grad is not None}


@pytest.mark.parametrize("masking", ["response", "none"])
@pytest.mark.parametrize("kind", ["llama", "llama-gqa", "logits-to-keep-only", "lora"])
def test_fast_loss_equals_the_plain_loss_and_its_gradients(toy_tokenizer, tmp_path, masking, kind):
    """Each kind takes another path: the last-layer short cut (llama, with and without grouped
    keys), `logits_to_keep` alone (attention dropout rules the short cut out), and LoRA."""
    from peft import LoraConfig, get_peft_model

    extra = {"attention_dropout": 0.1} if kind == "logits-to-keep-only" else {}
    model = llama(toy_tokenizer, kv_heads=2 if kind == "llama-gqa" else 4, **extra)
    if kind == "lora":
        lora = LoraConfig(r=2, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM",
                          init_lora_weights=False)  # non-zero B, so the adapters matter
        model = get_peft_model(model, lora)
    model.eval()  # no dropout: both paths must see the same network
    batch = padded_batch(toy_tokenizer, masking)
    fast = FastLoss()
    fast_value, fast_grads = loss_and_grads(model, batch, fast, tmp_path)
    assert fast.status == "on", f"the fast path did not run: {fast.status}"
    plain_value, plain_grads = loss_and_grads(model, batch, None, tmp_path)

    with torch.no_grad():
        own = model(**batch).loss  # the model's own loss: the independent reference
        by_hand = masked_cross_entropy(model(**batch).logits, batch["labels"])
    torch.testing.assert_close(plain_value, own, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(plain_value, by_hand, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(fast_value, plain_value, rtol=1e-5, atol=1e-6)
    assert plain_grads and plain_grads.keys() == fast_grads.keys()
    for name, grad in plain_grads.items():
        torch.testing.assert_close(fast_grads[name], grad, rtol=1e-4, atol=1e-6, msg=name)


@pytest.mark.slow
def test_a_run_records_that_the_fast_path_ran(toy_model_dir, records):
    result = train(toy_model_dir, records, None, max_steps=2, progress=False, verbose=False)
    assert result.history.fast_path == "on"
    plain = train(toy_model_dir, records, None, max_steps=2, progress=False, verbose=False,
                  fast=False)
    assert plain.history.fast_path == "off (fast=False)"
    assert plain.history.train_loss == pytest.approx(result.history.train_loss, rel=1e-4)


@pytest.mark.slow
def test_a_fallback_warns_once_names_the_exception_and_is_recorded(
    toy_model_dir, records, monkeypatch
):
    def broken(*args, **kwargs):
        raise RuntimeError("shapes do not fit")

    monkeypatch.setattr(fast_loss, "kept_loss", broken)
    with pytest.warns(UserWarning, match="RuntimeError: shapes do not fit") as caught:
        result = train(toy_model_dir, records, None, max_steps=3, progress=False,
                       verbose=False)
    assert sum("fast loss failed" in str(w.message) for w in caught) == 1
    assert result.history.fast_path == "fell back: RuntimeError: shapes do not fit"
    assert len(result.history.train_loss) == 3  # the run went on with the plain loss


def test_a_transformers_that_reads_logits_to_keep_as_positions_is_not_used(monkeypatch):
    # Before 5.21 (Colab had 5.15) a boolean mask there is read as positions and fails; the
    # held-out metrics, which take no fallback, use the full logits there instead.
    model = LlamaForCausalLM(LlamaConfig(vocab_size=32, hidden_size=16, intermediate_size=32,
                                         num_hidden_layers=1, num_attention_heads=2))
    assert fast_loss.why_not_fast(model) == ""
    monkeypatch.delattr(modeling_llama, "slice_logits_to_keep")
    assert "takes no boolean logits_to_keep (from 5.21 on it does)" in (
        fast_loss.why_not_fast(model))


@pytest.mark.parametrize("kv_heads", [4, 2])  # plain attention and grouped-query attention
@pytest.mark.parametrize("masking", ["response", "none"])
@pytest.mark.parametrize("copy_limit", [fast_loss.COPY_LIMIT, 0])  # both ways to attend
def test_kept_logits_are_the_full_forwards_logits_and_gradients(toy_tokenizer, kv_heads, masking,
                                                                 copy_limit, monkeypatch):
    monkeypatch.setattr(fast_loss, "COPY_LIMIT", copy_limit)
    model = llama(toy_tokenizer, kv_heads)
    batch = padded_batch(toy_tokenizer, masking)
    keep = torch.nn.functional.pad(batch["labels"][:, 1:] != IGNORE_INDEX, (0, 1), value=False)
    assert 0 < keep.sum() < keep.numel()

    reference = model(input_ids=batch["input_ids"]).logits[keep]
    reference.logsumexp(-1).sum().backward()
    expected = {name: p.grad.clone() for name, p in model.named_parameters()}
    model.zero_grad()
    ours = kept_logits(model, batch["input_ids"], keep)
    ours.logsumexp(-1).sum().backward()

    torch.testing.assert_close(ours, reference, rtol=1e-5, atol=1e-5)
    for name, p in model.named_parameters():
        torch.testing.assert_close(p.grad, expected[name], rtol=1e-4, atol=1e-6, msg=name)


def test_past_the_copy_limit_each_rows_keys_are_used_once_not_copied_per_query(
        toy_tokenizer, monkeypatch):
    """A copy of its row's keys per kept query is kept x length x width numbers (gigabytes for
    1,024-token rows of a real model): past COPY_LIMIT, one attention call over the batch's
    own keys, with the same logits, also when a row has nothing kept (an empty slot)."""
    model = llama(toy_tokenizer, 2)
    batch = padded_batch(toy_tokenizer, "none")
    keep = torch.nn.functional.pad(batch["labels"][:, 1:] != IGNORE_INDEX, (0, 1), value=False)
    keep[1] = False  # a row with nothing kept
    seen = []

    def attention(query, key, value, **kwargs):
        seen.append(key.shape[0])
        return scaled_dot_product_attention(query, key, value, **kwargs)

    monkeypatch.setattr(fast_loss, "scaled_dot_product_attention", attention)
    with torch.no_grad():
        reference = model(input_ids=batch["input_ids"]).logits[keep]
        copied = kept_logits(model, batch["input_ids"], keep)
        monkeypatch.setattr(fast_loss, "COPY_LIMIT", 0)
        packed = kept_logits(model, batch["input_ids"], keep)
    assert seen == [int(keep.sum()), len(batch["input_ids"])]  # per query, then per row
    torch.testing.assert_close(copied, reference, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(packed, reference, rtol=1e-5, atol=1e-5)


def test_only_plain_llama_models_take_the_last_layer_short_cut(toy_tokenizer):
    from peft import LoraConfig, get_peft_model

    assert can_skip_last_layer(llama(toy_tokenizer))
    assert not can_skip_last_layer(llama(toy_tokenizer, attention_dropout=0.1))
    dropout_set_on_the_layers = llama(toy_tokenizer)  # as a learner might, config left at 0
    for layer in dropout_set_on_the_layers.model.layers:
        layer.self_attn.attention_dropout = 0.1
    assert not can_skip_last_layer(dropout_set_on_the_layers)
    lora = LoraConfig(r=2, target_modules=["q_proj"], task_type="CAUSAL_LM")
    assert not can_skip_last_layer(get_peft_model(llama(toy_tokenizer), lora))


def test_kept_loss_divides_by_the_trainers_token_count(toy_tokenizer):
    """num_items_in_batch (the trained tokens of all accumulated batches) replaces the count."""
    model = llama(toy_tokenizer).eval()
    batch = padded_batch(toy_tokenizer, "response")
    trained = int((batch["labels"][:, 1:] != IGNORE_INDEX).sum())
    inputs = {k: v for k, v in batch.items() if k != "labels"}
    with torch.no_grad():
        mean = masked_cross_entropy(model(**inputs).logits, batch["labels"])
        loss = fast_loss.kept_loss(model, inputs, batch["labels"], num_items_in_batch=4 * trained)
    torch.testing.assert_close(loss, mean / 4, rtol=1e-5, atol=1e-6)


def test_kept_loss_keeps_the_attention_mask_of_a_left_padded_batch(toy_tokenizer):
    """Only right padding may drop the mask: with pads on the left, real tokens come after
    them and would attend to them."""
    model = llama(toy_tokenizer).eval()
    batch = padded_batch(toy_tokenizer, "response")
    gaps = (batch["attention_mask"] == 0).sum(dim=1).tolist()
    left = {k: torch.stack([row.roll(gap) for row, gap in zip(v, gaps, strict=True)])
            for k, v in batch.items()}
    assert (left["attention_mask"][:, 0] == 0).any() and (left["attention_mask"][:, -1] == 1).all()
    inputs = {k: v for k, v in left.items() if k != "labels"}
    with torch.no_grad():
        want = masked_cross_entropy(model(**inputs).logits, left["labels"])
        loss = fast_loss.kept_loss(model, inputs, left["labels"])
    torch.testing.assert_close(loss, want, rtol=1e-5, atol=1e-6)


def test_fused_adamw_only_on_the_fast_path_where_torch_has_it():
    assert fast_loss.optimizer_name("cpu", fast=True) == "adamw_torch_fused"
    assert fast_loss.optimizer_name("cuda", fast=True) == "adamw_torch_fused"
    assert fast_loss.optimizer_name("cpu", fast=False) == "adamw_torch"  # fast=False: plain
    assert fast_loss.optimizer_name("mps", fast=True) == "adamw_torch"


def test_fast_run_restores_threads_and_the_collector():
    import gc

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with fast_loss.fast_run(fast=True, num_threads=1):
            assert torch.get_num_threads() == 1 and gc.get_freeze_count() > 0
        assert torch.get_num_threads() == 2 and gc.get_freeze_count() == 0
    finally:
        torch.set_num_threads(before)
