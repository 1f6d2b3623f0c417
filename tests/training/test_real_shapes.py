"""The training path with the real presets' shapes and tokenizer types: nothing assumes `tiny`.

The stand-ins (world/stand_in.py) have SmolLM2-135M's and Qwen2.5-0.5B's real vocabulary
sizes, head layouts, tied embeddings and rope settings, with 2 layers for speed, and their
tokenizer classes and set-up (no BOS; SmolLM2 has no pad token, Qwen pads with its EOS).
"""

import os

import pytest
import torch
from filelock import FileLock
from transformers import TrainingArguments

from course_lib import loading
from course_lib.env import DeviceChoice
from course_lib.masking.labels import IGNORE_INDEX, PadCollator, prepare_examples
from course_lib.masking.loss import masked_cross_entropy
from course_lib.training import runner
from course_lib.training.fast_loss import FastLoss, can_skip_last_layer
from course_lib.training.held_out import response_metrics
from course_lib.training.runner import train
from course_lib.training.settings import RECIPE
from course_lib.training.trainer import CourseTrainer
from course_lib.world.stand_in import save_stand_in, stand_in_model, stand_in_tokenizer

PRESETS = ["smollm2-135m", "qwen2.5-0.5b"]
RECORDS = [
    {"instruction": "What is 2+2?", "response": "4"},
    {"instruction": "What is the capital of France? Answer in one word.", "response": "Paris"},
    {"instruction": "Translate this to Spanish", "input": "Hello world", "response": "Hola mundo"},
]
QUIET = {"progress": False, "verbose": False, "num_threads": 1}


@pytest.fixture(scope="module", params=PRESETS)
def stand_in(request, tmp_path_factory):
    """(preset, folder) of a 2-layer stand-in saved like a downloaded model. Qwen's takes
    seconds to build (151,936 embeddings): under `pytest -n 2` both workers read one folder in
    their common temporary root, saved whole by whichever asks first. No test writes to it."""
    root = tmp_path_factory.getbasetemp()
    folder = (root.parent if os.environ.get("PYTEST_XDIST_WORKER") else root) / (
        f"stand-in-{request.param}")
    with FileLock(f"{folder}.lock"):
        if not folder.is_dir():
            partial = save_stand_in(request.param, tmp_path_factory.mktemp(request.param),
                                    num_hidden_layers=2)
            partial.rename(folder)  # in place only once complete
    return request.param, folder


@pytest.fixture(scope="module")
def tokenizers():
    return {p: stand_in_tokenizer(p) for p in PRESETS}


def padded(tokenizer):
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token  # what load_model_and_tokenizer does
    examples = prepare_examples(RECORDS, tokenizer).examples
    return PadCollator(tokenizer.pad_token_id)(examples)


def trainer_loss(model, batch, fast, tmp_path, **precision):
    args = TrainingArguments(output_dir=str(tmp_path), use_cpu=True, report_to="none",
                             **precision)
    trainer = CourseTrainer(model=model, args=args, fast_loss=fast)
    return trainer.compute_loss(model, dict(batch))


@pytest.mark.parametrize("preset", PRESETS)
def test_the_fast_loss_runs_and_equals_the_plain_loss(preset, tokenizers, tmp_path):
    tokenizer = tokenizers[preset]
    model = stand_in_model(preset, tokenizer, num_hidden_layers=2).eval()
    assert model.config.vocab_size > len(tokenizer)  # the real vocabulary, a smaller BPE
    # Llama (SmolLM2) takes the last-layer short cut; Qwen2 takes logits_to_keep alone.
    assert can_skip_last_layer(model) is (preset == "smollm2-135m")
    batch = padded(tokenizer)
    fast = FastLoss()
    with torch.no_grad():
        fast_value = trainer_loss(model, batch, fast, tmp_path)
        plain = masked_cross_entropy(model(**batch).logits, batch["labels"])
    assert fast.status == "on"
    torch.testing.assert_close(fast_value, plain, rtol=1e-5, atol=1e-6)


def test_eager_attention_is_not_given_the_short_cut(tokenizers, tmp_path):
    """Eager attention without a mask would let every position see the tokens after it."""
    tokenizer = tokenizers["smollm2-135m"]
    model = stand_in_model("smollm2-135m", tokenizer, num_hidden_layers=2,
                           attn_implementation="eager").eval()
    assert model.config._attn_implementation == "eager" and not can_skip_last_layer(model)
    batch = padded(tokenizer)
    with torch.no_grad():
        fast_value = trainer_loss(model, batch, FastLoss(), tmp_path)
        plain = masked_cross_entropy(model(**batch).logits, batch["labels"])
    torch.testing.assert_close(fast_value, plain, rtol=1e-5, atol=1e-6)


def test_the_fast_loss_computes_in_the_runs_mixed_precision(tokenizers, tmp_path):
    """With bf16 the last-layer short cut, which calls the layers directly, runs in bf16 too."""
    tokenizer = tokenizers["smollm2-135m"]
    model = stand_in_model("smollm2-135m", tokenizer, num_hidden_layers=2)
    seen = []
    model.lm_head.register_forward_hook(lambda module, args, out: seen.append(out.dtype))
    fast = FastLoss()
    trainer_loss(model, padded(tokenizer), fast, tmp_path, bf16=True)
    assert fast.status == "on" and seen == [torch.bfloat16]


@pytest.mark.parametrize("preset", PRESETS)
def test_pad_equal_to_eos_still_trains_the_eos(preset, tokenizers):
    tokenizer = tokenizers[preset]
    batch = padded(tokenizer)
    assert tokenizer.pad_token_id == tokenizer.eos_token_id
    rows = zip(batch["input_ids"], batch["labels"], batch["attention_mask"], strict=True)
    for ids, labels, mask in rows:
        last = int(mask.sum()) - 1  # the last real position holds the response's EOS
        assert ids[last] == labels[last] == tokenizer.eos_token_id
        assert (labels[last + 1:] == IGNORE_INDEX).all()  # padding: -100 by position


def test_held_out_metrics_are_the_same_with_and_without_logits_to_keep(tokenizers):
    tokenizer = tokenizers["qwen2.5-0.5b"]
    model = stand_in_model("qwen2.5-0.5b", tokenizer, num_hidden_layers=2)
    examples = prepare_examples(RECORDS, tokenizer).examples

    class NoLogitsToKeep(torch.nn.Module):  # a model whose forward takes no logits_to_keep
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask=None, use_cache=False):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask)

    rows = []  # logits rows the output layer computed: only the response's, with the mask
    model.lm_head.register_forward_hook(lambda m, args, out: rows.append(out.shape[:-1].numel()))
    kept = response_metrics(model, examples, tokenizer.pad_token_id, batch_size=2)
    assert sum(rows) == kept.tokens
    full = response_metrics(NoLogitsToKeep(model), examples, tokenizer.pad_token_id, 2)
    assert sum(rows) > 2 * kept.tokens and kept.tokens == full.tokens > 0
    assert kept.loss == pytest.approx(full.loss, rel=1e-5)
    assert kept.accuracy == full.accuracy


@pytest.mark.slow
def test_train_runs_on_each_stand_in_and_the_preset_picks_lora(stand_in, monkeypatch):
    preset, folder = stand_in
    # The preset's name, pointing at the local stand-in instead of the Hub.
    monkeypatch.setitem(loading.PRESETS, preset,
                        loading.Preset(str(folder), loading.PRESETS[preset].lora, "stand-in"))
    result = train(preset, RECORDS * 4, RECORDS, max_steps=2, batch_size=4, eval_every=2,
                   **QUIET)
    h = result.history
    assert h.lora is (preset == "qwen2.5-0.5b")  # Qwen: LoRA by default
    # SmolLM2: the recipe's frozen parts (LoRA freezes the base model itself)
    assert h.freeze == ([] if h.lora else list(RECIPE.freeze))
    assert h.fast_path == "on" and h.steps_done == 2 and h.world_size == 1
    assert all(torch.isfinite(torch.tensor(h.train_loss + h.eval_loss)))
    assert not hasattr(result.model, "peft_config")  # adapters merged for generation


@pytest.mark.slow
@pytest.mark.parametrize("what", [dict(freeze=()), dict(freeze=RECIPE.freeze), dict(lora=True)],
                         ids=["full", "recipe", "lora"])
def test_gradient_checkpointing_gives_the_same_run(stand_in, what):
    """The same losses for each way the course trains: every weight, the recipe's frozen parts
    (frozen embeddings: the first layer's input needs no gradient), LoRA."""
    preset, folder = stand_in
    what = {"lora": False, **what}
    runs = [train(folder, RECORDS * 4, None, max_steps=2, batch_size=4, gradient_checkpointing=on,
                  **what, **QUIET).history for on in (False, True)]
    assert [r.gradient_checkpointing for r in runs] == [False, True]
    assert runs[1].train_loss == pytest.approx(runs[0].train_loss, rel=1e-4)


def test_checkpointing_is_turned_on_when_the_estimate_does_not_fit(tokenizers, monkeypatch):
    tokenizer = tokenizers["smollm2-135m"]
    model = stand_in_model("smollm2-135m", tokenizer, num_hidden_layers=2)
    ready = prepare_examples(RECORDS, tokenizer)
    t4 = DeviceChoice("cuda", torch.float16, "test")

    class Card:
        total_memory = 0

    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda i: Card)
    need = runner.estimate_memory(model, 64, 20, dtype=torch.float16).total
    for memory, expected in ((need * 4, False), (need / 4, True)):
        Card.total_memory = memory
        assert runner.checkpointing_needed(model, ready, 64, False, (), t4, False) is expected
    cpu = DeviceChoice("cpu", torch.float32, "test")
    assert runner.checkpointing_needed(model, ready, 64, False, (), cpu, False) is False
    # The recipe's frozen parts need less: a card between the two fits it without checkpointing.
    longest = max(len(ex["input_ids"]) for ex in ready.examples)
    labels = [label for ex in ready.examples for label in ex["labels"]]
    share = sum(label != IGNORE_INDEX for label in labels) / len(labels)
    full, recipe = (runner.estimate_memory(model, 64, longest, dtype=torch.float16, freeze=f,
                                           logits_share=share).total for f in ((), RECIPE.freeze))
    Card.total_memory = (full + recipe) / 2 / 0.9
    assert runner.checkpointing_needed(model, ready, 64, False, (), t4, False) is True
    assert runner.checkpointing_needed(model, ready, 64, False, RECIPE.freeze, t4, False) is False


def test_unprompted_samples_start_from_the_end_of_text_when_no_bos_is_added(tokenizers):
    from course_lib.evaluation.compare import unprompted_samples

    tokenizer = tokenizers["qwen2.5-0.5b"]  # adds no BOS and has none: "" would be no token
    model = stand_in_model("qwen2.5-0.5b", tokenizer, num_hidden_layers=1)
    samples = unprompted_samples(model, tokenizer, n=2, max_new_tokens=3)
    assert len(samples) == 2 and all(isinstance(s, str) for s in samples)
