"""Lesson 05's helpers: TRL 1.x's SFTTrainer next to the course's own labels.

    >>> config = SFTConfig(output_dir="run", completion_only_loss=True,     # doctest: +SKIP
    ...                    **checkpointing_off(), use_cpu=True, bf16=False)
    >>> print(config_report(config))                                        # doctest: +SKIP
    >>> compare_labels(ours, trainer_examples(trainer))                      # doctest: +SKIP

* `config_report(config)`: the SFTConfig fields the lesson sets, next to TRL's defaults.
* `trainer_examples(trainer)` and `compare_labels(...)`: TRL's prepared labels next to ours.

The chat template lives in formatting/chat.py, TRL's label building in masking/trl_labels.py
(with `checkpointing_off`, the keyword that turns TRL's default checkpointing off).
"""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from course_lib.errors import CourseError
from course_lib.masking.labels import tokenized_examples

# field -> why the lesson sets it (shown next to TRL's default)
CONFIG_NOTES: dict[str, str] = {
    "completion_only_loss": "True: loss on the completion only (None means the same for "
                            "prompt/completion data, full sequence for plain text)",
    "assistant_only_loss": "True for chat data: loss on the assistant's tokens only",
    "use_cpu": "True on a machine without a GPU",
    "bf16": "False on a CPU (TRL turns it on unless fp16 is set)",
    "fp16": "True on a GPU without bf16 (Colab's T4)",
    "activation_checkpointing": "off for a small model: on it only costs time",
    "gradient_checkpointing": "off for a small model: on it only costs time",
    "learning_rate": "about 1e-3 for the tiny model; TRL's 2e-5 barely moves it",
    "max_steps": "a few dozen steps are enough to see the effect",
    "report_to": "'none': no experiment tracker",
    "max_length": "longer examples are truncated (keep_start)",
}


@dataclass
class ConfigReport:
    """Rows of (field, value set, TRL's default, why)."""

    rows: list[tuple[str, Any, Any, str]]

    def __str__(self) -> str:
        lines = [f"{'field':<26}{'set to':<14}{'TRL default':<14}why"]
        lines += [f"{f:<26}{v!r:<14}{d!r:<14}{why}" for f, v, d, why in self.rows]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        head = "".join(f"<th style='text-align:left'>{h}</th>"
                       for h in ("field", "set to", "TRL default", "why"))
        body = "".join(
            "<tr>" + "".join(f"<td style='text-align:left'>{html.escape(str(x))}</td>"
                             for x in (f, repr(v), repr(d), why)) + "</tr>"
            for f, v, d, why in self.rows)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def config_report(config: Any, fields: Sequence[str] | None = None) -> ConfigReport:
    """The fields a lesson cares about: the value in `config` and the class's default."""
    if not dataclasses.is_dataclass(config) or isinstance(config, type):  # a dict, the class
        what = f"the class {config.__name__}" if isinstance(config, type) else \
            "None" if config is None else f"a {type(config).__name__}"
        raise CourseError(f"config_report reads a config object such as SFTConfig(output_dir="
                          f"...), not {what}; for a dict of settings, "
                          f"config_report(SFTConfig(**settings)).")
    defaults = {f.name: f.default for f in dataclasses.fields(type(config))}
    names = list(fields) if fields is not None else [n for n in CONFIG_NOTES if n in defaults]
    if "activation_checkpointing" in names and "gradient_checkpointing" in names:
        names.remove("gradient_checkpointing")  # one name is an alias of the other
    rows = []
    for name in names:
        default = defaults.get(name)
        if name == "activation_checkpointing" and default is None:
            default = defaults.get("gradient_checkpointing")  # what None resolves to in TRL
        value = getattr(config, name)
        if name == "report_to" and value == []:
            value = "none"  # transformers stores report_to="none" as []: show what was written
        rows.append((name, value, default, CONFIG_NOTES.get(name, "")))
    return ConfigReport(rows)


def _labelled(examples: Any, name: str) -> list:
    """One side of compare_labels as a list of examples with input_ids and labels."""
    if hasattr(examples, "train_dataset"):  # a trainer: its prepared examples are meant
        raise CourseError(f"{name} is a trainer; give the examples it prepared: "
                          f"trainer_examples(trainer).")
    rows = tokenized_examples(examples, "compare_labels(ours, theirs)", name)
    if any("labels" not in row for row in rows):
        raise CourseError(f"{name} holds examples without labels; give examples with labels, "
                          f"e.g. prepare_examples(records, tokenizer).examples.")
    return rows


# --- TRL's labels next to ours --------------------------------------------------------------
def trainer_examples(trainer) -> list[dict[str, list[int]]]:
    """The examples an SFTTrainer prepared (input_ids and labels), as plain lists."""
    if not hasattr(trainer, "train_dataset"):  # records, a config: an AttributeError
        raise CourseError(f"trainer must be an SFTTrainer (trainer_examples(trainer)), not "
                          f"{'None' if trainer is None else 'a ' + type(trainer).__name__}.")
    ds = trainer.train_dataset
    return [{"input_ids": list(i), "labels": list(lab)}
            for i, lab in zip(ds["input_ids"], ds["labels"], strict=True)]


@dataclass
class LabelComparison:
    """How many examples got identical input_ids and labels from two label builders."""

    total: int
    same: int
    first_difference: int | None
    counts: tuple[int, int] | None = None  # (ours, theirs) when the lists differ in length

    @property
    def identical(self) -> bool:
        return self.total > 0 and self.same == self.total

    def __str__(self) -> str:
        if self.counts is not None:  # "0 of 20 identical" hid that one side dropped examples
            ours, theirs = self.counts
            return (f"not comparable one by one: ours has {ours} examples and theirs {theirs}; "
                    f"compare the same records on both sides (TRL drops a record with no "
                    f"trained token: trl_prepare(...).skipped names them).")
        if self.identical:
            return f"identical: all {self.total} examples have the same input_ids and labels"
        return (f"{self.same} of {self.total} examples identical; first difference at "
                f"example {self.first_difference}")


def compare_labels(ours: Sequence[dict[str, list[int]]],
                   theirs: Sequence[dict[str, list[int]]]) -> LabelComparison:
    """Compare two lists of examples position by position (input_ids and labels)."""
    # Records (no input_ids) were a KeyError; a trainer, a TypeError about iterating it.
    ours, theirs = (_labelled(given, name) for given, name in ((ours, "ours"),
                                                               (theirs, "theirs")))
    if len(ours) != len(theirs):
        return LabelComparison(max(len(ours), len(theirs)), 0, 0, (len(ours), len(theirs)))
    same, first = 0, None
    for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        if list(a["input_ids"]) == list(b["input_ids"]) and list(a["labels"]) == list(b["labels"]):
            same += 1
        elif first is None:
            first = i
    return LabelComparison(len(ours), same, first)
