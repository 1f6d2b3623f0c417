"""Guard against API churn: fail loudly when a TRL / transformers API the lessons call changes.

Tutorials break on import when TRL or transformers rename things (DataCollatorForCompletionOnlyLM,
max_seq_length, torch_dtype...). Every name, parameter and SFTConfig field the course relies on is
listed here, so an upgrade that breaks a lesson fails this fast test first, with a clear message.
"""

import dataclasses
import inspect

import pytest
import transformers
import trl

# callable -> parameters the course passes to it
SIGNATURES = {
    trl.SFTTrainer.__init__: [
        "model",
        "args",
        "train_dataset",
        "eval_dataset",
        "processing_class",
        "peft_config",
        "callbacks",
        "data_collator",
    ],
    transformers.Trainer.__init__: [
        "model",
        "args",
        "train_dataset",
        "eval_dataset",
        "data_collator",
        "callbacks",
        "processing_class",
    ],
    transformers.DataCollatorForLanguageModeling.__init__: ["tokenizer", "mlm"],
    trl.trainer.sft_trainer.DataCollatorForLanguageModeling.__init__: ["pad_token_id"],
    # lesson 05: the chat template's assistant mask (what assistant_only_loss relies on)
    transformers.PreTrainedTokenizerBase.apply_chat_template: [
        "conversation",
        "chat_template",
        "tokenize",
        "return_dict",
        "return_assistant_tokens_mask",
        "add_generation_prompt",  # lesson 05, section 7: what the pipeline sends
    ],
    transformers.Trainer.remove_callback: ["callback"],
    # lesson 05, section 7: a saved run asked through transformers' pipeline
    transformers.pipeline: ["task", "model", "device"],
    # lesson 05's migration table: what replaced setup_chat_format
    trl.clone_chat_template: ["model", "tokenizer", "source_tokenizer_path"],
}

# SFTConfig field -> its default, where the lessons teach the default
SFT_FIELDS = {
    "completion_only_loss": None,  # None = completion-only for prompt/completion data
    "assistant_only_loss": False,
    "max_length": 1024,
    "packing": False,
    "gradient_checkpointing": True,  # lesson 05 turns it off for tiny models
    "learning_rate": 2e-5,  # lesson 05 explains why a tiny model needs ~1e-3
    "use_cpu": False,
    "bf16": None,
    "dataset_text_field": "text",
    "truncation_mode": "keep_start",
}

TRAINING_ARGUMENT_FIELDS = [
    "output_dir",
    "max_steps",
    "num_train_epochs",
    "per_device_train_batch_size",
    "learning_rate",
    "logging_steps",
    "save_steps",
    "seed",
    "report_to",
    "use_cpu",
    "bf16",
    "fp16",
    "gradient_checkpointing",
    "activation_checkpointing",  # transformers 5.2x's name; lesson 05 passes it
    "disable_tqdm",
    "save_strategy",  # lesson 05
    "logging_steps",
]


@pytest.mark.parametrize("func", list(SIGNATURES), ids=lambda f: f.__qualname__)
def test_signatures_still_take_what_the_course_passes(func):
    params = inspect.signature(func).parameters
    missing = [p for p in SIGNATURES[func] if p not in params]
    assert not missing, f"{func.__qualname__} no longer takes {missing}: update the lessons"


def test_sftconfig_fields_and_defaults_the_lessons_teach():
    fields = {f.name: f.default for f in dataclasses.fields(trl.SFTConfig)}
    for name, default in SFT_FIELDS.items():
        assert name in fields, f"SFTConfig.{name} is gone: update lesson 05"
        assert fields[name] == default, f"SFTConfig.{name} default changed to {fields[name]!r}"
    assert "max_seq_length" not in fields  # renamed to max_length; lessons say so


def test_training_arguments_fields():
    fields = {f.name for f in dataclasses.fields(transformers.TrainingArguments)}
    assert not [f for f in TRAINING_ARGUMENT_FIELDS if f not in fields]


def test_removed_collator_is_still_removed():
    # Lesson 05 teaches the migration away from it; if it came back the lesson would be wrong.
    with pytest.raises(ImportError):
        from trl import DataCollatorForCompletionOnlyLM  # noqa: F401


def test_setup_chat_format_is_still_removed():
    # Lesson 05's migration table sends setup_chat_format's users to clone_chat_template.
    with pytest.raises(ImportError):
        from trl import setup_chat_format  # noqa: F401


def test_from_pretrained_takes_dtype(toy_model_dir):
    # transformers 5 renamed torch_dtype to dtype; course_lib.loading passes dtype=. If the
    # keyword were ignored (or renamed again), the weights would load in float32.
    import torch

    from course_lib.loading import load_model_and_tokenizer

    model = transformers.AutoModelForCausalLM.from_pretrained(toy_model_dir, dtype=torch.float16)
    assert next(model.parameters()).dtype == torch.float16
    model, _ = load_model_and_tokenizer(str(toy_model_dir), dtype=torch.bfloat16)
    assert next(model.parameters()).dtype == torch.bfloat16


# --- Lesson 05 (SFTConfig on a CPU, the chat path) -------------------------------------------
def test_sftconfig_turns_bf16_and_checkpointing_on_by_default(tmp_path):
    # Lesson 05 says so, and sets use_cpu=True, bf16=False and checkpointing off on a CPU.
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        default = trl.SFTConfig(output_dir=str(tmp_path), use_cpu=True, report_to="none")
    assert default.bf16 is True, "SFTConfig no longer turns bf16 on by default: update lesson 05"
    assert default.gradient_checkpointing is True, "TRL's checkpointing default changed"


def test_the_lessons_sftconfig_is_accepted(tmp_path):
    from course_lib.masking.trl_labels import checkpointing_off

    config = trl.SFTConfig(
        output_dir=str(tmp_path), max_steps=40, per_device_train_batch_size=16,
        completion_only_loss=True, assistant_only_loss=False, learning_rate=1e-3,
        use_cpu=True, bf16=False, fp16=False, report_to="none", logging_steps=5,
        save_strategy="no", seed=0, disable_tqdm=True, **checkpointing_off(),
    )
    assert config.gradient_checkpointing is False and config.bf16 is False


def test_assistant_mask_comes_from_generation_markers(toy_tokenizer):
    from course_lib.formatting.chat import CHAT_TEMPLATE, CHAT_TEMPLATE_WITHOUT_MARKERS

    messages = [{"role": "user", "content": "What is 2+2?"},
                {"role": "assistant", "content": "4"}]
    out = toy_tokenizer.apply_chat_template(
        messages, chat_template=CHAT_TEMPLATE, tokenize=True, return_dict=True,
        return_assistant_tokens_mask=True)
    assert 1 in out["assistant_masks"], "transformers' assistant mask API changed: lesson 05"
    assert trl.chat_template_utils.has_generation_markers(CHAT_TEMPLATE)
    assert not trl.chat_template_utils.has_generation_markers(CHAT_TEMPLATE_WITHOUT_MARKERS)
