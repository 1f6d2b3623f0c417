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
    "disable_tqdm",
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


def test_from_pretrained_takes_dtype():
    # transformers 5 renamed torch_dtype to dtype; course_lib.loading passes dtype=
    source = inspect.getsource(transformers.modeling_utils.PreTrainedModel.from_pretrained)
    assert "dtype" in source
