"""Labels exactly as TRL 1.x builds them: prompt/completion data and chat data.

* `trl_prepare` runs SFTTrainer's own dataset preparation (no training), so the course's
  labels can be compared with TRL's, token for token;
* `chat_example` builds a chat record's labels from the chat template's assistant mask,
  what `assistant_only_loss=True` does;
* `checkpointing_off` gives the SFTConfig keyword that turns TRL's default gradient
  checkpointing off (transformers 5.2x renamed it `activation_checkpointing`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from course_lib.env import checkpointing_field, no_usage_ping
from course_lib.errors import CourseError
from course_lib.formatting.chat import fitted_chat_template, to_messages
from course_lib.formatting.templates import DEFAULT_TEMPLATE, Template, format_as_trained
from course_lib.formatting.via_datasets import quiet_datasets
from course_lib.masking.labels import (
    IGNORE_INDEX,
    PreparedData,
    check_records,
    check_tokenizer,
)
from course_lib.world.toy import make_toy_model


def checkpointing_off(config_class: Any = None) -> dict[str, bool]:
    """The keyword that turns gradient (activation) checkpointing off in an SFTConfig.

    TRL defaults it to on. It saves memory by recomputing activations, so a tiny model that
    fits easily only gets slower (about 1.5x on a CPU).
    """
    if config_class is None:
        from trl import SFTConfig as config_class  # deferred, as in trl_prepare
    return {checkpointing_field(config_class): False}


def trl_prepare(
    records: Sequence[dict[str, Any]],
    tokenizer,
    template: str | Template = DEFAULT_TEMPLATE,
    max_length: int | None = 1024,
    completion_only_loss: bool = True,
    model=None,
) -> PreparedData:
    """Build labels exactly as TRL's SFTTrainer does, by running its dataset preparation.

    Records become {"prompt", "completion"}; SFTTrainer (TRL >= 1.7) appends EOS, tokenizes
    prompt and prompt+completion, masks the prompt (completion_only_loss=True), truncates to
    max_length and drops rows left with no trained token. No training happens. `model`
    defaults to a throwaway toy model sized to the tokenizer (the model plays no part in
    label building). The tokenizer and model are left as they were given: SFTTrainer gives
    a tokenizer with no pad token its EOS and copies the pad id into the model's configs.
    """
    # Deferred: importing TRL and datasets takes seconds, and only this function needs them.
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    check_tokenizer(tokenizer, "trl_prepare(records, tokenizer)")
    records = check_records(records, "trl_prepare(records, tokenizer)")
    model = model if model is not None else make_toy_model(tokenizer)
    # Each row carries its record's index through TRL, which drops rows without saying which.
    rows = []
    for i, r in enumerate(records):
        prompt, completion = format_as_trained(r, template, where=f"example {i}")
        rows.append({"prompt": prompt, "completion": completion, "course_index": i})
    if not rows:
        return PreparedData(examples=[], source="TRL's preparation")
    # Nothing is trained or saved: a throwaway output folder, the CPU, and no shuffling, so
    # the examples come back in record order.
    with (tempfile.TemporaryDirectory() as tmp, quiet_datasets(), no_usage_ping(),
          pads_kept(tokenizer, model)):
        config = SFTConfig(
            output_dir=tmp, completion_only_loss=completion_only_loss, max_length=max_length,
            use_cpu=True, bf16=False, report_to="none", shuffle_dataset=False,
            **checkpointing_off(SFTConfig),
        )
        trainer = SFTTrainer(model=model, args=config, processing_class=tokenizer,
                             train_dataset=Dataset.from_list(rows))
        prepared = trainer.train_dataset
    kept = list(prepared["course_index"])
    examples = [{"input_ids": list(ids), "labels": list(lab)}
                for ids, lab in zip(prepared["input_ids"], prepared["labels"], strict=True)]
    # TRL (>= 1.9) drops rows left with no trained token without saying which: find them.
    dropped = sorted(set(range(len(rows))) - set(kept))
    skipped = [(i, "dropped by TRL: no trained token") for i in dropped]
    return PreparedData(examples=examples, source="TRL's preparation", total=len(rows),
                        kept=kept, skipped=skipped)


@contextmanager
def pads_kept(tokenizer, model) -> Iterator[None]:
    """Run a block that may set the pad token (SFTTrainer does, on the tokenizer and the
    model's configs), then put back what the caller's tokenizer and model had."""
    config = getattr(model, "config", None)
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    configs = [c for c in (text, getattr(model, "generation_config", None)) if c is not None]
    before = tokenizer.pad_token, [c.pad_token_id for c in configs]
    try:
        yield
    finally:
        tokenizer.pad_token = before[0]
        for config, pad_id in zip(configs, before[1], strict=True):
            config.pad_token_id = pad_id


def chat_example(record_or_messages: Any, tokenizer, chat_template: str | None = None
                 ) -> dict[str, list[int]]:
    """input_ids, attention_mask, labels of a chat record, labels from the assistant mask.

    This is what TRL does with `assistant_only_loss=True`: render with the chat template,
    ask for the assistant mask (the tokens between `{% generation %}` markers) and set -100
    everywhere else. A template without markers gives an all-zero mask: every label -100.
    A `chat_template` given here renders as attach_chat_template would give it to the
    tokenizer: with the BOS plain text has (none, or followed by a space where Llama's needs it).
    """
    check_tokenizer(tokenizer, "chat_example(chat, tokenizer)")
    if chat_template is None and not tokenizer.chat_template:  # transformers' ValueError
        raise CourseError("the tokenizer has no chat template; give it the course's first: "
                          "attach_chat_template(tokenizer).")
    if chat_template is not None:
        # As the tokenizer would hold it: Llama's "<s>###" was "<s>", "##", "#", not "▁###".
        chat_template = fitted_chat_template(tokenizer, chat_template)
    if isinstance(record_or_messages, dict) and "messages" in record_or_messages:
        messages = record_or_messages["messages"]
    elif isinstance(record_or_messages, list | tuple | Iterator):  # the messages themselves
        messages = list(record_or_messages)
    else:
        messages = to_messages(record_or_messages)["messages"]
    # Without the markers transformers logs "chat template does not contain `{% generation
    # %}`" (a log line, not a warning): left to show, since it names the pitfall (lesson 05).
    out = tokenizer.apply_chat_template(
        messages, chat_template=chat_template, tokenize=True, return_dict=True,
        return_assistant_tokens_mask=True,
    )
    ids = list(out["input_ids"])
    mask = list(out["assistant_masks"])
    labels = [t if m else IGNORE_INDEX for t, m in zip(ids, mask, strict=True)]
    return {"input_ids": ids, "attention_mask": [1] * len(ids), "labels": labels}
