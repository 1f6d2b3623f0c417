"""Which weights a run trains, and how fast: step 2 of train().

By default the recipe's (settings.RECIPE): the embeddings, MLPs, v_proj and o_proj of a small
model stay as they are, which keeps what the base model knows (lesson 07's forgetting
experiment), with the learning rate measured for it. Or every weight (freeze=()), the parts a
caller names (freeze=["mlp"]), or LoRA's adapters only (lora=True), each with its own rate.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from peft import get_peft_model
from peft.tuners.tuners_utils import BaseTunerLayer

from course_lib.errors import CourseError, shown, with_advice
from course_lib.training.settings import (
    RECIPE,
    as_pieces,
    default_learning_rate,
    is_frozen,
    lora_settings,
    name_pieces,
    unmatched_pieces,
)


@dataclass
class Weights:
    """What trains and how fast: the model (with LoRA adapters if asked), the parameters kept
    frozen while the Trainer runs, the name pieces that chose them, and the learning rate."""

    model: Any
    frozen: list
    freeze: list[str]
    learning_rate: float
    n_params: int
    default_rate: float  # the one the recipe gives this model (the same, unless one was given)


def choose_weights(model: Any, lora: bool | Any, freeze: Sequence[str] | None,
                   learning_rate: float | None, seed: int) -> Weights:
    """Step 2: the recipe's frozen parts and rate, unless told otherwise; LoRA adapters last."""
    # Checked now (a typo fails before any slow work), frozen only while the Trainer runs.
    recipe_freeze = freeze is None and not lora  # the recipe's frozen parts, and its rate
    if freeze is None:
        freeze = default_freeze(model, bool(lora))
    frozen = parameters_to_freeze(model, freeze) if freeze else []
    n_params = sum(p.numel() for p in model.parameters())  # before adapters: the base model
    default_rate = default_learning_rate(n_params, bool(lora), recipe_freeze)
    learning_rate = default_rate if learning_rate is None else learning_rate
    if lora:  # peft turns every base weight's requires_grad off: run() turns it back on after
        frozen = [p for p in model.parameters() if p.requires_grad]
        model = add_lora(model, lora, seed)
    return Weights(model, frozen, list(freeze), learning_rate, n_params, default_rate)


def default_freeze(model, lora: bool) -> tuple[str, ...]:
    """The recipe's frozen parts that this model trains; none with LoRA (it trains adapters only).

    A piece no trainable parameter's name contains is left out, so the default works for any
    model, and for one whose parts the caller froze already.
    """
    if lora:
        return ()
    # Only what still trains: weights the caller froze stay frozen, and a piece that matches
    # only those would be refused by parameters_to_freeze as matching nothing.
    names = [name for name, p in model.named_parameters() if p.requires_grad]
    return tuple(piece for piece in RECIPE.freeze if any(piece in name for name in names))


def freeze_pieces(freeze: str | Sequence[str] | None, lora: Any) -> tuple[str, ...] | None:
    """`freeze` as a tuple of name pieces, checked against `lora` (None stays None: the recipe).

    A string is one piece: "mlp" read letter by letter would freeze every weight. Checked
    here only, for train() and the memory estimates alike: a generator was read once by a
    check before, and froze nothing; a dict froze its keys.
    """
    if freeze is None:
        return None
    if isinstance(freeze, Iterable) and not isinstance(freeze, str | Mapping):
        freeze = tuple(freeze)  # read once: a generator is empty the second time
    if not (isinstance(freeze, str) or (
            isinstance(freeze, tuple) and all(isinstance(piece, str) for piece in freeze))):
        raise CourseError(f"freeze must be pieces of parameter names such as ['mlp'], not "
                          f"{shown(freeze)}.")
    pieces = as_pieces(freeze)
    # LoRA keeps every base weight as it is already: a freeze would change nothing, yet be
    # recorded in the history as applied.
    if lora and pieces:
        lora_given = "lora=True" if lora is True else "lora=LoraConfig(...)"
        raise with_advice(
            "LoRA trains only its adapters and keeps every base weight as it is, so {fix} "
            "would change nothing; leave out the freeze, or train without LoRA to freeze "
            "parts of a full fine-tune.",
            f"freeze={list(pieces)} with {lora_given}", f"--freeze {' '.join(pieces)} with --lora")
    return pieces


def check_adapters(model: Any, lora: Any, freeze: Sequence[str] | None) -> None:
    """A model object that carries LoRA adapters already (get_peft_model; a cell run twice
    wraps it twice, and the model it was given changes too): lora=True failed inside peft
    ("property 'peft_config' ... has no deleter"), the recipe's frozen parts at the first
    backward() ("element 0 of tensors does not require grad"). Its adapters train with
    freeze=()."""
    if (isinstance(model, str | Path) or (not lora and freeze is not None)
            or not any(isinstance(m, BaseTunerLayer) for m in model.modules())):
        return
    why = (f"{'lora=True' if lora is True else 'lora=LoraConfig(...)'} would add a second set"
           if lora else "the recipe's frozen parts are those of a model without them")
    raise CourseError(f"This model carries LoRA adapters already (get_peft_model adds them to "
                      f"the model it is given too), and {why}; give train() a fresh model "
                      f"(load_model_and_tokenizer) with lora=True, which adds the adapters, "
                      f"trains them and merges them, or train these adapters as they are with "
                      f"lora=False, freeze=().")


def parameters_to_freeze(model, names: Sequence[str]) -> list[torch.nn.Parameter]:
    """The trainable parameters whose names contain one of `names` (an error if a piece of
    `names` matches none: a typo would otherwise train what it meant to keep).

    >>> len(parameters_to_freeze(model, ["embed_tokens", "mlp"]))  # doctest: +SKIP
    13
    """
    trainable = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
    unmatched = unmatched_pieces(names, [name for name, _ in trainable])
    if unmatched:
        pieces = name_pieces(name for name, _ in model.named_parameters())
        # The whole setting when it is one piece; else which of its pieces are wrong.
        which = "" if len(names) == 1 else " and ".join(map(repr, unmatched)) + " of "
        verb = "matches" if len(unmatched) == 1 else "match"
        raise with_advice(
            f"{which}{{fix}} {verb} no trainable parameter of this model; use pieces "
            f"of its parameter names: {', '.join(pieces)}.",
            f"freeze={list(names)}", "--freeze " + " ".join(names))
    frozen = [p for name, p in trainable if is_frozen(name, names)]
    if len(frozen) == len(trainable):  # else the first backward() fails: "does not require grad"
        raise with_advice(
            "{fix} freezes every weight of this model, which leaves none to train; freeze fewer "
            f"parts (the recipe freezes {', '.join(RECIPE.freeze)}).",
            f"freeze={list(names)}", "--freeze " + " ".join(names))
    return frozen


def add_lora(model, lora, seed: int):
    """Wrap `model` with LoRA adapters (lora=True: r 8 on q_proj and v_proj, or a LoraConfig)."""
    torch.manual_seed(seed)  # LoRA's A matrices are random: same seed, same run
    return get_peft_model(model, lora_settings(lora))
