"""Every choice the runner makes for transformers' TrainingArguments, in one place, with why.

    >>> default_learning_rate(1_200_000, lora=False)
    0.001
    >>> RECIPE.data, RECIPE.freeze
    ('course:train_varied', ('embed_tokens', 'mlp', 'v_proj', 'o_proj'))
    >>> default_learning_rate(1_200_000, lora=False, recipe_freeze=True)
    0.002

`RECIPE` is the default fine-tune (data, steps, what stays frozen): `train()` takes its
defaults from it, and `python -m benchmarks.recipe` measures it.

`training_arguments` is the only place the runner builds TrainingArguments; anything a caller
passes to `train(**training_args)` overrides these defaults.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import warnings
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from peft import LoraConfig
from transformers import TrainingArguments

from course_lib.env import DeviceChoice, checkpointing_field
from course_lib.errors import CourseError, is_number, is_whole, shown, with_advice
from course_lib.training.fast_loss import optimizer_name

# peft 0.21 calls transformers' deprecated `is_gradient_checkpointing` whenever it wraps a
# model: a warning about library internals that nobody using the course can act on.
warnings.filterwarnings("ignore", message="`is_gradient_checkpointing` is deprecated",
                        category=FutureWarning)

TINY_MODEL_PARAMS = 50_000_000  # below this a model is "tiny": high learning rate, fp32


@dataclass(frozen=True)
class Recipe:
    """The default fine-tune, chosen by measured experiments (benchmarks/recipe_results.md).

    Goal: answer questions in phrasing styles the tuning data never uses, and keep what the
    base model knows, in under a minute on 2 CPU cores.
    """

    # Train plus paraphrases in many styles: on the dev set, exact match on unseen styles
    # went from 0.21 (course:train, 100 steps) to 0.52 with the same steps.
    data: str = "course:train_varied"
    max_steps: int = 500
    batch_size: int = 16
    # Only where attention looks (q_proj, k_proj) and the norms train. The embeddings and
    # MLPs, and what each head writes (v_proj, o_proj), keep the pretrained facts: with
    # v and o trained too, the tuned model kept 0.93 of the base model's "6 + 3 =" -> 9
    # statements, with them frozen 0.98; a full fine-tune kept 0.80.
    freeze: tuple[str, ...] = ("embed_tokens", "mlp", "v_proj", "o_proj")
    # Few weights train, so the rate can be twice the tiny model's usual 1e-3 (4e-3 lost
    # knowledge again). Used for tiny models trained with the recipe's `freeze` only.
    tiny_learning_rate: float = 2e-3


RECIPE = Recipe()


def default_learning_rate(n_params: int, lora: bool, recipe_freeze: bool = False) -> float:
    """1e-3 for tiny models (2e-3 with the recipe's frozen parts); real ones: 2e-4 with LoRA,
    5e-5 for a full fine-tune.

    LoRA on a tiny model gets the full fine-tune's 1e-3, enough over the recipe's 500 steps.
    In short runs it learns slowly: 40 steps, seeds 0-2, held-out response accuracy 0.24-0.30
    at 1e-3 and 0.89-0.92 at 5e-3 (LoRA r 8 on q_proj and v_proj); lesson 08 gives it 5e-3.
    """
    if n_params < TINY_MODEL_PARAMS:
        if recipe_freeze and not lora:
            return RECIPE.tiny_learning_rate
        return 1e-3  # TRL's 2e-5 barely moves a model of a million parameters
    return 2e-4 if lora else 5e-5  # the usual rates for a 100M-1B model


def lora_settings(lora: bool | LoraConfig = True) -> LoraConfig:
    """The course's adapters (lora=True), or the LoraConfig you pass.

    r=8 on q_proj and v_proj, the LoRA paper's choice: the attention's query and value
    matrices, a few hundred thousand weights for a 135M model.

        >>> lora_settings().target_modules == {"q_proj", "v_proj"}
        True
    """
    if isinstance(lora, LoraConfig):
        return lora
    return LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0, target_modules=["q_proj", "v_proj"],
                      task_type="CAUSAL_LM")


def is_no_eval(eval_data: Any) -> bool:
    """eval_data="none", "off" or "" (as the CLI's --eval-data takes them): no held-out set,
    the same as None; train() and the run cache's key read it by this one rule."""
    return isinstance(eval_data, str) and eval_data.strip().lower() in ("none", "off", "")


def as_pieces(freeze: str | Iterable[str]) -> tuple[str, ...]:
    """train(freeze=...) as a tuple of name pieces: a string is one piece ("mlp" read letter
    by letter would freeze every weight)."""
    return (freeze,) if isinstance(freeze, str) else tuple(freeze)


def name_pieces(names: Iterable[str]) -> list[str]:
    """The pieces parameter names are made of, first seen first (embed_tokens, self_attn,
    q_proj, mlp...): what a freeze may name."""
    return list(dict.fromkeys(piece for name in names for piece in name.split(".")[:-1]
                              if not piece.isdigit() and piece not in ("model", "layers")))


def unmatched_pieces(freeze: Iterable[str], names: Sequence[str]) -> list[str]:
    """The pieces of a freeze that are part of no parameter name: a typo, not a choice."""
    return [piece for piece in freeze if not any(piece in name for name in names)]


def is_frozen(name: str, freeze: Iterable[str]) -> bool:
    """A parameter stays as it is when one piece of train(freeze=...) is part of its name.

        >>> pieces = ("embed_tokens", "mlp")
        >>> is_frozen("model.layers.0.mlp.up_proj.weight", pieces), is_frozen("lm_head", pieces)
        (True, False)
    """
    return any(piece in name for piece in freeze)


def step_cap() -> int | None:
    """COURSE_MAX_STEPS, if set: every run stops after that many steps. For checks that only
    need the code paths to run (benchmarks/lessons_real_shape.py), not for learning."""
    value = os.environ.get("COURSE_MAX_STEPS", "").strip()
    return int(value) if value else None


def checkpointing(on: bool) -> dict[str, Any]:
    """TrainingArguments' keywords for activation (gradient) checkpointing, under the name
    this transformers uses. The non-reentrant variant works with LoRA's frozen inputs and
    with DDP."""
    name = checkpointing_field(TrainingArguments)
    return {name: on, f"{name}_kwargs": {"use_reentrant": False} if on else None}


# Python's name, the CLI's flag, and the smallest value that makes sense.
COUNTS = (("max_steps", "--steps", 1), ("batch_size", "--batch-size", 1), ("seed", "--seed", 0),
          ("eval_every", "--eval-every", 0), ("num_threads", "--threads", 1),
          # 0: every held-out row, as on the command line; -3 dropped the last 3, silently.
          ("eval_limit", "--eval-limit", 0), ("max_length", "--max-length", 1),
          ("logging_steps", "logging_steps", 1), ("save_every", "save_every", 1))


def check_numbers(learning_rate: float | None = None, num_epochs: float | None = None,
                  **counts: int | None) -> None:
    """One-sentence errors for numbers a run cannot use. Unchecked, max_steps=-5 would train
    by epochs instead (the Trainer's meaning of max_steps <= 0), silently, and max_steps="5"
    would end in a TypeError from deep inside the comparison below."""
    for name, flag, least in COUNTS:
        check_count(counts.get(name), name, flag, least)
    if "seed" in counts and counts["seed"] is None:  # a TypeError from torch.manual_seed
        raise with_advice("{fix} must be a whole number such as 0, not None.", "seed", "--seed")
    if counts.get("seed") is not None and counts["seed"] >= 2**32:  # numpy's seeds are 32 bits
        raise with_advice(f"{{fix}} must be below 2**32, not {counts['seed']}.", "seed", "--seed")
    for name, flag, value in (("learning_rate", "--lr", learning_rate),
                              ("num_epochs", "num_epochs", num_epochs)):
        if value is not None and not is_number(value):  # "1e-3" is text, not a rate
            raise with_advice(f"{{fix}} must be a number, not {shown(value)}.", name, flag)
        if value is not None and not value > 0:
            raise with_advice(f"{{fix}} must be above 0, not {value}.", name, flag)
    check_steps_or_epochs(counts.get("max_steps"), num_epochs)


def check_count(value: Any, name: str, flag: str, least: int) -> None:
    """A whole number of at least `least`, or None (the default), said as `name` in Python
    and `flag` on the command line."""
    # The type first: "5" cannot be compared with `least`, and 2.5 steps cannot be run.
    if value is not None and not is_whole(value):
        raise with_advice(f"{{fix}} must be a whole number, not {shown(value)}.", name, flag)
    if value is not None and value < least:
        raise with_advice(f"{{fix}} must be at least {least}, not {value}.", name, flag)


def check_steps_or_epochs(max_steps: int | None, num_epochs: float | None) -> None:
    """The Trainer lets max_steps win over epochs: num_epochs=1 under the default
    max_steps=500 trained 500 steps, silently."""
    if max_steps is not None and num_epochs is not None:
        raise CourseError(f"num_epochs={num_epochs} is ignored while max_steps is set "
                          f"(max_steps={max_steps}); pass max_steps=None to train by epochs.")


# TrainingArguments' names for settings train() has its own keyword for. Given as overrides
# they were obeyed behind train()'s back: num_train_epochs lost to the default max_steps, and
# a per_device_train_batch_size trained while the history recorded batch_size.
OWN_NAMES = {"num_train_epochs": "num_epochs", "per_device_train_batch_size": "batch_size",
             "output_dir": "out_dir"}
# Short names a learner may know from elsewhere, too far from ours for difflib to match.
ALIASES = {"lr": "learning_rate", "epochs": "num_epochs", "steps": "max_steps",
           "bs": "batch_size"}


def check_overrides(overrides: Collection[str], own: Collection[str]) -> None:
    """Every keyword train() passes on to TrainingArguments must be one of its fields, and
    not one train() sets from a keyword of its own (`own`). Unchecked, a misspelt max_step=5
    was a TypeError in TrainingArguments' terms, after the data had been prepared."""
    fields = {f.name for f in dataclasses.fields(TrainingArguments) if f.init}
    for key in overrides:
        if key in OWN_NAMES:
            raise CourseError(f"{key} is TrainingArguments' name for {OWN_NAMES[key]}; give "
                              f"{OWN_NAMES[key]}=... instead.")
        if key not in fields:
            close = ALIASES.get(key) or next(iter(difflib.get_close_matches(
                key, [*own, *fields], n=1)), None)
            hint = f" (did you mean {close}?)" if close else ""
            raise CourseError(f"train() has no setting {key}{hint}; give one of its own "
                              f"keywords or a field of transformers' TrainingArguments.")


def training_arguments(
    output_dir: Path,
    device: DeviceChoice,
    *,
    max_steps: int | None,
    num_epochs: float | None,
    batch_size: int,
    learning_rate: float,
    seed: int,
    logging_steps: int,
    save_every: int | None,
    saving: bool,
    fast: bool,
    overrides: dict[str, Any],
    gradient_checkpointing: bool = False,
) -> TrainingArguments:
    """The runner's TrainingArguments; `overrides` (the caller's own keywords) win."""
    settings: dict[str, Any] = dict(
        output_dir=str(output_dir),
        # Steps or epochs: max_steps=-1 tells the Trainer to count epochs instead.
        max_steps=max_steps if max_steps is not None else -1,
        num_train_epochs=num_epochs if num_epochs is not None else 1.0,
        per_device_train_batch_size=batch_size,
        learning_rate=learning_rate,
        # One seed for the weights' randomness and the data order: same seed, same run.
        seed=seed,
        data_seed=seed,
        logging_steps=logging_steps,  # every step by default: the curves are the lesson
        # A NaN loss logged as it is: the Trainer's filter logs it as the mean of the steps
        # before it (0.000 after a logged step), and a run gone wrong looked like a fine one.
        logging_nan_inf_filter=False,
        # Checkpoints only where the learner asked for files, enough to resume, small on disk.
        save_strategy="steps" if saving else "no",
        save_steps=save_every or max(1, (max_steps or 400) // 4),
        save_total_limit=1,
        report_to="none",  # no experiment tracker
        disable_tqdm=True,  # the course's own progress bar works in notebooks and terminals
        # Gradient (activation) checkpointing only when memory needs it (runner decides): TRL
        # turns it on by default, which is ~1.5x slower for a model whose memory is no issue.
        **checkpointing(gradient_checkpointing),
        dataloader_num_workers=0,  # workers cost more than they save on small batches
        dataloader_pin_memory=device.device == "cuda",
        remove_unused_columns=False,  # our examples carry exactly what the model takes
        # Several processes (DDP): every trained weight gets a gradient at every step, so DDP
        # need not search the graph for unused ones (it warns when told to and finds none).
        ddp_find_unused_parameters=False,
        optim=optimizer_name(device.device, fast),
        **device.trainer_precision,  # fp32 on CPU, bf16 or fp16 on a GPU (env.choose_device)
    )
    settings.update(overrides)
    cap = step_cap()
    if cap is not None:  # inherited by every process of a multi-process run too
        steps = settings["max_steps"]
        settings["max_steps"] = cap if steps is None or steps <= 0 else min(steps, cap)
    return TrainingArguments(**settings)
