"""Memory of a fine-tune, estimated before it starts: weights, gradients, optimizer, activations.

    >>> smol = preset_config("smollm2-135m")    # SmolLM2-135M's shape, nothing downloaded
    >>> print(estimate_memory(smol, batch_size=8, max_length=512, dtype=torch.float16))
    full fine-tune of 134.5M parameters (134.5M trained), float16 mixed precision, 4,096 tokens
      weights       0.81 GB
      gradients     0.54 GB
      optimizer     1.08 GB
      activations   6.55 GB
      total         8.97 GB

Where each number comes from (bytes; P parameters, T of them trained):

* weights: P x 4 in fp32. With 16-bit mixed precision a full fine-tune keeps fp32 weights and
  autocast adds a 16-bit copy of every matrix it multiplies (2 bytes each); LoRA keeps the
  frozen model in 16-bit (2 bytes) and its small adapters in fp32.
* gradients: T x 4, one fp32 number per trained weight.
* optimizer: T x 8, AdamW's two running averages per trained weight.
* activations: what the forward pass keeps for the backward pass, per token and per layer
  (layer_bytes_per_token), plus the logits (head_bytes_per_token): the part that grows with
  batch_size x max_length, and the part gradient checkpointing shrinks.

The per-layer terms are counted for Llama-style decoders (Llama, SmolLM2, Qwen2, Mistral, Gemma):
tests compare them with the tensors autograd really saves, and the total with the peak
memory measured by `measure_peak_memory` (the tolerance is stated in the tests).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import platform
import re
import subprocess
import sys
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoConfig, AutoModelForCausalLM, PretrainedConfig

from course_lib.cgroups import process_memory
from course_lib.errors import CourseError, is_number, is_whole, shown
from course_lib.loading import PRESETS, load_config, preset_config, preset_name
from course_lib.training.settings import (
    RECIPE,
    is_frozen,
    lora_settings,
    name_pieces,
    unmatched_pieces,
)
from course_lib.training.weights import freeze_pieces

GB = 1e9
# Decoders whose layer is RMSNorm -> attention (q, k, v, o) -> RMSNorm -> gated MLP. Gemma's
# (google/gemma-2b, 7b) too: the same modules and saved tensors per token (its GELU keeps its
# input as SiLU does; its norms' 1 + weight is per layer, not per token). Gemma 2 and 3 add
# norms and soft-capping: not counted.
LLAMA_STYLE = ("llama", "qwen2", "mistral", "qwen3", "gemma")
ATTENTION_INPUTS = ("q_proj", "k_proj", "v_proj")
MLP_INPUTS = ("gate_proj", "up_proj")
# A decoder layer's modules with weights, and their paths inside the layer.
LAYER_MODULES = {
    "input_layernorm": "input_layernorm", "q_proj": "self_attn.q_proj",
    "k_proj": "self_attn.k_proj", "v_proj": "self_attn.v_proj", "o_proj": "self_attn.o_proj",
    "post_attention_layernorm": "post_attention_layernorm", "gate_proj": "mlp.gate_proj",
    "up_proj": "mlp.up_proj", "down_proj": "mlp.down_proj",
}


@dataclass(frozen=True)
class Shape:
    """The sizes that decide a Llama-style model's memory."""

    layers: int
    hidden: int
    intermediate: int
    heads: int
    kv_heads: int
    head_dim: int
    vocab: int

    @property
    def q_dim(self) -> int:
        return self.heads * self.head_dim

    @property
    def kv_dim(self) -> int:
        return self.kv_heads * self.head_dim


def shape_of(config: Any) -> Shape:
    """Read the sizes from a config, or from what estimate_memory takes (a model, a preset...);
    else explain which models the estimate knows."""
    config = _config_of(config, "config")  # a model or a preset name was an AttributeError
    if config.model_type not in LLAMA_STYLE:
        raise CourseError(
            f"estimate_memory counts Llama-style decoders ({', '.join(LLAMA_STYLE)}), not "
            f"model_type '{config.model_type}'; measure that model with measure_peak_memory."
        )
    heads = config.num_attention_heads
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // heads
    return Shape(config.num_hidden_layers, config.hidden_size, config.intermediate_size, heads,
                 getattr(config, "num_key_value_heads", None) or heads, head_dim,
                 config.vocab_size)


@dataclass(frozen=True)
class ParameterCount:
    total: int  # every weight of the model (LoRA's adapters included)
    trained: int  # the weights the optimizer updates
    in_matmuls: int  # weights of nn.Linear layers (lm_head too): what autocast copies


def count_parameters(model_or_config: Any, lora: bool | LoraConfig = False,
                     freeze: Sequence[str] | None = ()) -> ParameterCount:
    """Exact counts, from a model or from a config (built on the 'meta' device: no memory).
    `freeze`: pieces of parameter names that do not train, as in train(freeze=...).

        >>> smol = preset_config("smollm2-135m")
        >>> count_parameters(smol).total, count_parameters(smol, lora=True).trained
        (134515008, 460800)
        >>> count_parameters(smol, freeze=("embed_tokens", "mlp", "v_proj", "o_proj")).trained
        13306176
    """
    if isinstance(model_or_config, str | Path):  # estimate_memory takes names; this did not
        raise CourseError(f"count_parameters counts a model or its config, not the name "
                          f"{str(model_or_config)!r}; give preset_config("
                          f"{str(model_or_config)!r}) or a loaded model.")
    # Unchecked, lora="no" counted the course's adapters, freeze="mlp" froze every weight.
    check_lora(lora)
    freeze = check_pieces(freeze, lora)
    if not isinstance(model_or_config, PretrainedConfig | torch.nn.Module):
        raise CourseError(f"count_parameters counts a model or its config, not "
                          f"{_what(model_or_config)}.")
    counted, _ = _counted_model(model_or_config, lora)
    return _count_model(counted, freeze)


def _counted_model(model_or_config: Any, lora: bool | LoraConfig) -> tuple[Any, bool]:
    """The model whose parameters are counted, and whether it carries LoRA adapters: the model
    itself, or one built on the meta device from its config (with `lora`'s adapters)."""
    peft = hasattr(model_or_config, "peft_config")  # adapters already: counted as they are
    # What a LoraConfig would train is counted on a copy built from the config: get_peft_model
    # on the model itself would leave adapters in it, and a later full fine-tune train only
    # those (a peft model's own adapters were counted in place of a LoraConfig given).
    if isinstance(model_or_config, torch.nn.Module) and not (
            isinstance(lora, LoraConfig) or (lora and not peft)):
        return model_or_config, peft
    config = _config_of(model_or_config)
    # As JSON strings, since a config is not hashable and _built caches by them.
    lora_key = json.dumps(lora_settings(lora).to_dict(), sort_keys=True, default=_plain) if (
        lora) else ""
    return _built(config.to_json_string(use_diff=False), lora_key), bool(lora)


def _count_model(model: Any, freeze: Sequence[str]) -> ParameterCount:
    """The counts of this model as it is (its adapters, if any, included)."""
    # A typo trained what it meant to keep, unsaid.
    check_pieces_match(freeze, [name for name, _ in model.named_parameters()], "this model")
    linear = {id(m.weight): m.weight.numel() for m in model.modules()
              if isinstance(m, torch.nn.Linear)}  # a tied lm_head counts once
    return ParameterCount(
        total=sum(p.numel() for p in model.parameters()),
        trained=sum(p.numel() for name, p in model.named_parameters()
                    if p.requires_grad and not is_frozen(name, freeze)),
        in_matmuls=sum(linear.values()),
    )


def adapted_modules(model: Any) -> list[str]:
    """The decoder layer's modules (q_proj, ...) that carry LoRA adapters in `model`: what
    peft made of target_modules ("all-linear", a regular expression, or None: its default)."""
    return sorted({name.rsplit(".", 1)[-1] for name, module in model.named_modules()
                   if hasattr(module, "lora_A") and name.rsplit(".", 1)[-1] in LAYER_MODULES})


def _plain(value: Any) -> Any:
    return sorted(value) if isinstance(value, set | frozenset) else str(value)


@functools.lru_cache(maxsize=16)
def _built(config_json: str, lora_json: str) -> Any:
    """A model of the config on the meta device (shapes, no memory), with LoRA's adapters."""
    config = AutoConfig.for_model(**json.loads(config_json))
    with torch.device("meta"):  # shapes only: a 0.5B model is "built" in a second
        model = AutoModelForCausalLM.from_config(config)
    if lora_json:  # the adapters put into this copy of the model, built for the count
        fields = {k: v for k, v in json.loads(lora_json).items()
                  if k in LoraConfig.__dataclass_fields__}
        try:
            model = get_peft_model(model, LoraConfig(**fields))
        except ValueError as err:  # peft's "Target modules {'qproj'} not found", or r=0
            why = str(err).splitlines()[0].rstrip(".")
            names = name_pieces(name for name, _ in model.named_parameters())
            hint = f"; target pieces of its names: {', '.join(names)}" if (
                "target modules" in why.lower()) else ""
            raise CourseError(f"lora=LoraConfig(r={fields.get('r')}, target_modules="
                              f"{fields.get('target_modules')!r}) cannot be put into this model "
                              f"({why}){hint}.") from None
    return model


def frozen_in_layer(freeze: Sequence[str], layer: int) -> frozenset[str]:
    """The modules of decoder layer `layer` whose weights a train(freeze=...) keeps as they are.

        >>> sorted(frozen_in_layer(("mlp", "v_proj"), 0))
        ['down_proj', 'gate_proj', 'up_proj', 'v_proj']
    """
    return frozenset(module for module, path in LAYER_MODULES.items()
                     if is_frozen(f"model.layers.{layer}.{path}.weight", freeze))


def layer_bytes_per_token(shape: Shape, dtype: torch.dtype = torch.float32,
                          lora: LoraConfig | None = None,
                          frozen: Collection[str] = ()) -> int:
    """Bytes one decoder layer keeps for the backward pass, for each token of the batch.

    A full fine-tune in fp32 keeps, per token: the inputs and outputs of its two norms (6H),
    the gated MLP's gate, activation, up and product (4I), and what attention needs for its
    backward: queries, keys, values, output and one number per head (2Q + 2KV + heads).
    A frozen matrix needs no saved input (its weight gets no gradient), so LoRA, and a run
    with `frozen` modules (frozen_in_layer), keep less.

        >>> smol = shape_of(preset_config("smollm2-135m"))
        >>> layer_bytes_per_token(smol), layer_bytes_per_token(smol, frozen={"down_proj"})
        (44588, 38444)
    """
    h, i, q, kv, n = shape.hidden, shape.intermediate, shape.q_dim, shape.kv_dim, shape.heads
    targets = set(lora.target_modules) if lora is not None else set()
    rank = lora.r if lora is not None else 0
    half = dtype in (torch.float16, torch.bfloat16)
    if lora is None:
        return _full_layer_bytes(shape, half, frozenset(frozen))
    if not half:  # LoRA, fp32: norms keep their input; a norm output is kept if an adapter reads it
        elements = 2 * h + 2 + 2 * q + 2 * kv + n + 3 * i
        elements += h * bool(targets & set(ATTENTION_INPUTS)) + h * bool(targets & set(MLP_INPUTS))
        elements += i * ("down_proj" in targets) + rank * len(targets)
        return 4 * elements
    # LoRA on a 16-bit model: norms upcast to fp32, 16-bit attention and MLP, and each adapter
    # keeps a 16-bit copy of its input (fitted within 12% of the saved tensors, see tests).
    inputs = {"q_proj": h, "k_proj": h, "v_proj": h, "o_proj": q, "gate_proj": h, "up_proj": h,
              "down_proj": i}
    elements = 2 * (4 * h + 4) + 4 * q + 4 * kv + 4 * n + 6 * i + 2 * i * ("down_proj" in targets)
    return elements + sum(2 * inputs.get(t, h) + 2 * rank for t in targets)


def _full_layer_bytes(shape: Shape, half: bool, frozen: frozenset[str]) -> int:
    """A full fine-tune's layer (fp32 or mixed precision), less what `frozen` modules skip."""
    h, i, q, kv, n = shape.hidden, shape.intermediate, shape.q_dim, shape.kv_dim, shape.heads
    trains = {module: module not in frozen for module in LAYER_MODULES}
    # Attention keeps queries, keys, values, output (o_proj's input) and one number per head
    # whatever trains; the MLP keeps gate, activation and up (the product's inputs).
    kept = (4 * q + 4 * kv + 4 * n + 6 * i) if half else 4 * (2 * q + 2 * kv + n + 3 * i)
    # Each norm keeps its input and 1/rms in fp32, and its normalised input if its weight trains.
    norms = ("input_layernorm", "post_attention_layernorm")
    kept += sum(4 * h + 4 + 4 * h * trains[norm] for norm in norms)
    # A trained matrix keeps its input: in mixed precision each its own 16-bit copy; in fp32
    # q, k and v share one (the norm's output), as do gate and up.
    if half:
        kept += sum(2 * h * trains[m] for m in (*ATTENTION_INPUTS, *MLP_INPUTS))
        return kept + 2 * i * trains["down_proj"]
    kept += 4 * h * any(trains[m] for m in ATTENTION_INPUTS)
    kept += 4 * h * any(trains[m] for m in MLP_INPUTS)
    return kept + 4 * i * trains["down_proj"]


def head_bytes_per_token(shape: Shape, dtype: torch.dtype = torch.float32) -> int:
    """The logits' share per token: the logits, the log-softmax kept for the backward, and
    the two gradients the backward pass makes from them, one number per vocabulary entry each.

        >>> head_bytes_per_token(shape_of(preset_config("smollm2-135m")))  # fp32
        786432
    """
    logits = 2 if dtype in (torch.float16, torch.bfloat16) else 4
    return shape.vocab * (logits + 4 + 4 + 4)


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes of each part of a training step's memory; `total` is their sum."""

    weights: int
    gradients: int
    optimizer: int
    activations: int
    parameters: int
    trained: int
    tokens: int
    dtype: str
    lora: bool
    gradient_checkpointing: bool

    @property
    def total(self) -> int:
        return self.weights + self.gradients + self.optimizer + self.activations

    def fits(self, budget_gb: float) -> bool:
        """True if the total fits in `budget_gb` gigabytes (1 GB = 10^9 bytes)."""
        # A string was a TypeError; bytes (15e9 for 15 GB) fitted anything, silently.
        if not is_number(budget_gb) or not 0 < budget_gb < 1e6:
            bytes_given = is_number(budget_gb) and budget_gb >= 1e6
            raise CourseError(f"fits takes gigabytes, a number such as 15, not "
                              f"{shown(budget_gb)}" + ("; that looks like bytes: divide it by "
                                                       "1e9." if bytes_given else "."))
        return self.total <= budget_gb * GB

    def __str__(self) -> str:
        kind = "LoRA" if self.lora else (
            "full fine-tune" if self.trained == self.parameters else "fine-tune")
        precision = "fp32" if self.dtype == "float32" else f"{self.dtype} mixed precision"
        extra = ", gradient checkpointing" if self.gradient_checkpointing else ""
        lines = [f"{kind} of {self.parameters / 1e6:.1f}M parameters ({_millions(self.trained)} "
                 f"trained), {precision}{extra}, {self.tokens:,} tokens"]
        for name in ("weights", "gradients", "optimizer", "activations", "total"):
            lines.append(f"  {name:<11} {getattr(self, name) / GB:6.2f} GB")
        return "\n".join(lines)


def _millions(n: int) -> str:
    return f"{n / 1e6:.1f}M" if n >= 1e5 else f"{n:,}"


def estimate_memory(model_or_config: Any, batch_size: int, max_length: int, *,
                    lora: bool | LoraConfig = False, dtype: torch.dtype = torch.float32,
                    gradient_checkpointing: bool = False, freeze: Sequence[str] | None = (),
                    logits_share: float = 1.0) -> MemoryEstimate:
    """The memory of one training step with AdamW, before running it (see the module docstring).

    model_or_config: a model, a config, a preset, a model folder or a Hub id (only its config
        is read; a preset's recorded sizes need no download). A model with LoRA adapters
        already (peft's get_peft_model) is counted with them.
    dtype: torch.float32 (CPU), or torch.float16 / torch.bfloat16 for a GPU's mixed precision;
        the run train() makes, whatever dtype a model object is in now (a full fine-tune keeps
        fp32 weights).
    lora: True for the course's adapters (r 8 on q_proj and v_proj) or a LoraConfig.
    gradient_checkpointing: keep only each layer's input and recompute the rest in backward.
    freeze: pieces of parameter names that do not train, as in train(freeze=...): no
        gradients or AdamW states for them, fewer activations kept (full fine-tunes only);
        None is train()'s default, the recipe's frozen parts (settings.RECIPE).
    logits_share: the share of positions whose logits are computed: 1.0 for the plain loss;
        the course's fast loss (fast_loss.py) computes them at trained positions only.
    """
    freeze = check_estimate(batch_size, max_length, lora, dtype, freeze, logits_share,
                            gradient_checkpointing)
    config = _config_of(model_or_config)
    shape = shape_of(config)
    check_freeze(freeze, shape, model_or_config)
    named = isinstance(model_or_config, str | os.PathLike)  # then only its config is known
    counts, lora_config = _what_trains(config if named else model_or_config, lora, freeze)
    half = dtype in (torch.float16, torch.bfloat16)
    # A full fine-tune keeps fp32 weights, and autocast adds a 16-bit copy of each matrix.
    if lora_config is None:
        weights = 4 * counts.total + (2 * counts.in_matmuls if half else 0)
    else:  # the frozen model in the run's dtype, the adapters in fp32
        frozen = counts.total - counts.trained
        weights = (2 if half else 4) * frozen + 4 * counts.trained
    tokens = batch_size * max_length
    # Counted layer by layer: frozen layers keep fewer activations than trained ones.
    per_layer = [layer_bytes_per_token(shape, dtype, lora_config, frozen_in_layer(freeze, layer)
                                       | _frozen_already(model_or_config, layer))
                 for layer in range(shape.layers)]
    if gradient_checkpointing:  # each layer's input, plus one layer recomputed in backward
        # The residual stream is 16-bit only when the weights are (LoRA); fp32 weights keep fp32.
        stream = 2 if (half and lora_config is not None) else 4
        layers = tokens * (shape.layers * stream * shape.hidden + max(per_layer))
    else:
        layers = tokens * sum(per_layer)
    # Gradients and AdamW's two averages exist for trained weights only, all in fp32.
    return MemoryEstimate(
        weights=weights, gradients=4 * counts.trained, optimizer=8 * counts.trained,
        activations=layers + round(tokens * logits_share) * head_bytes_per_token(shape, dtype),
        parameters=counts.total - (counts.trained if lora_config else 0), trained=counts.trained,
        tokens=tokens, dtype=str(dtype).removeprefix("torch."), lora=lora_config is not None,
        gradient_checkpointing=bool(gradient_checkpointing),
    )


def _what_trains(model_or_config: Any, lora: bool | LoraConfig,
                 freeze: Sequence[str]) -> tuple[ParameterCount, LoraConfig | None]:
    """The counts, and the LoRA adapters they include (None: no LoRA) with target_modules as
    the modules peft adapted: "all-linear" was read letter by letter, a peft model's own
    adapters counted as a full fine-tune's activations."""
    model, has_lora = _counted_model(model_or_config, lora)
    if not has_lora:
        return _count_model(model, freeze), None
    own = getattr(model, "peft_config", {}).get(getattr(model, "active_adapter", "default"))
    adapters = own if isinstance(own, LoraConfig) else lora_settings(lora)
    return _count_model(model, freeze), dataclasses.replace(
        adapters, target_modules=adapted_modules(model))


def _frozen_already(model: Any, layer: int) -> frozenset[str]:
    """The modules of `layer` whose weights a model object has frozen (requires_grad False):
    counted as not trained, so they keep no activations either."""
    if not isinstance(model, torch.nn.Module) or hasattr(model, "peft_config"):
        return frozenset()
    params = dict(model.named_parameters())
    return frozenset(module for module, path in LAYER_MODULES.items()
                     if (p := params.get(f"model.layers.{layer}.{path}.weight")) is not None
                     and not p.requires_grad)


DTYPES = (torch.float32, torch.float16, torch.bfloat16)


def check_estimate(batch_size: int, max_length: int, lora: Any, dtype: Any, freeze: Any,
                   logits_share: float, gradient_checkpointing: Any = False) -> tuple[str, ...]:
    """One-sentence errors for arguments no estimate can use; `freeze` as a tuple of pieces.
    Unchecked, batch_size=0 estimated no activations, dtype="float16" (or torch.float64) was
    counted as fp32, and gradient_checkpointing="no" as on."""
    for name, value in (("batch_size", batch_size), ("max_length", max_length)):
        if not is_whole(value):
            raise CourseError(f"{name} must be a whole number, not {shown(value)}.")
        if value < 1:
            raise CourseError(f"{name} must be at least 1, not {value}.")
    if not isinstance(dtype, torch.dtype):
        raise CourseError(f"dtype must be a torch dtype such as torch.float16, not "
                          f"{shown(dtype)}.")
    if dtype not in DTYPES:
        raise CourseError(f"dtype must be torch.float32, torch.float16 or torch.bfloat16 (what "
                          f"a training step computes in), not {dtype}.")
    if not (is_number(logits_share) and 0 <= logits_share <= 1):
        raise CourseError(f"logits_share must be a share between 0 and 1, not "
                          f"{shown(logits_share)}.")
    if not isinstance(gradient_checkpointing, bool):
        raise CourseError(f"gradient_checkpointing must be True or False, not "
                          f"{shown(gradient_checkpointing)}.")
    check_lora(lora)
    return check_pieces(freeze, lora)


def check_lora(lora: Any) -> None:
    if not isinstance(lora, bool | LoraConfig):
        raise CourseError(f"lora must be True, False or a LoraConfig, not {shown(lora)}.")


def check_pieces(freeze: Any, lora: Any) -> tuple[str, ...]:
    """`freeze` as train() reads it: a string is one piece ("mlp" read letter by letter froze
    every weight), None the recipe's frozen parts (none with LoRA), and a freeze with LoRA is
    refused, as train() refuses it."""
    pieces = freeze_pieces(freeze, lora)
    return pieces if pieces is not None else (() if lora else RECIPE.freeze)


def check_freeze(freeze: Sequence[str], shape: Shape, model: Any = None) -> None:
    """As train() does: a piece that is part of no parameter name is a typo, not a choice.
    A model's own names (a bias, say); else a Llama-style model's, from the config's shape."""
    names = [name for name, _ in model.named_parameters()] if isinstance(
        model, torch.nn.Module) else ["model.embed_tokens.weight"] + [
        f"model.layers.{layer}.{path}.weight" for layer in range(shape.layers)
        for path in LAYER_MODULES.values()] + ["model.norm.weight", "lm_head.weight"]
    check_pieces_match(freeze, names, "a Llama-style model")


def check_pieces_match(freeze: Sequence[str], names: list[str], whose: str) -> None:
    """Each piece of `freeze` is part of one of `names` (`whose` parameter names)."""
    if unmatched_pieces(freeze, names):
        raise CourseError(f"freeze={list(freeze)} matches no parameter of {whose}; use pieces "
                          f"of its parameter names: {', '.join(name_pieces(names))}.")


def _what(value: Any) -> str:
    if value is None or isinstance(value, bool | int | float):
        return shown(value)
    kind = type(value).__name__
    return f"{'an' if kind[0] in 'AEIOUaeiou' else 'a'} {kind}"


def _config_of(model_or_config: Any, name: str = "model_or_config") -> PretrainedConfig:
    if isinstance(model_or_config, PretrainedConfig):
        return model_or_config
    if isinstance(model_or_config, str | os.PathLike):
        short = preset_name(model_or_config)  # a short name, or the Hub id a preset loads
        if short is not None and PRESETS[short].shape:
            return preset_config(short)  # its recorded sizes: no download
        return load_config(model_or_config)
    base = model_or_config.get_base_model() if hasattr(model_or_config, "get_base_model") else (
        model_or_config)
    if not isinstance(getattr(base, "config", None), PretrainedConfig):  # None, a tokenizer
        raise CourseError(f"{name} must be a model, a config, a preset name, a model folder or "
                          f"a Hub id, not {_what(model_or_config)}.")
    return base.config


# --- Measuring, to check the estimate ------------------------------------------------------
def memory_budget(device: str) -> tuple[int, str]:
    """The bytes a training run may hold on `device`, and a phrase saying whose they are: a
    CUDA GPU's memory; on the CPU (and MPS, which shares it) a cgroup's limit (a JupyterHub
    pod, docker --memory=4g, a login node's user slice), else the machine's memory. Past a
    cgroup's limit the kernel kills the process without a Python error: a notebook's kernel
    just dies."""
    if device == "cuda":
        memory = torch.cuda.get_device_properties(0).total_memory
        return memory, f"this GPU's {memory / GB:.1f} GB"
    memory, limited = process_memory()
    if limited:
        return memory, f"this container's memory limit of {memory / GB:.1f} GB"
    return memory, f"this machine's {memory / GB:.1f} GB"


def still_too_big(estimate: MemoryEstimate, whose: str) -> str:
    """The warning for a run that gradient checkpointing does not bring under the budget."""
    return (f"warning: even with it, the training step needs about {estimate.total / GB:.1f} "
            f"GB (estimate_memory; Python, torch and the data hold more), more than 90% of "
            f"{whose}: if the run stops without an error (a notebook's kernel dies), train "
            f"with a smaller batch, shorter examples, or fewer trained weights (LoRA or "
            f"frozen parts).")


def is_counted(model_or_config: Any) -> bool:
    """True when estimate_memory counts this model (a Llama-style decoder)."""
    return _config_of(model_or_config).model_type in LLAMA_STYLE


def saved_bytes(forward: Callable[[], Any], exclude: Any = ()) -> int:
    """Bytes of the tensors autograd keeps for the backward pass while `forward()` runs.

    Each storage counts once (views share it); tensors in `exclude` (pass the model's
    parameters) are not counted: they are the weights, not activations.

        >>> x = torch.ones(1000, requires_grad=True)
        >>> saved_bytes(lambda: (x.sin() * 2).sum())    # sin keeps its input x: 4000 bytes
        4000
    """
    skip = {t.untyped_storage().data_ptr() for t in exclude}
    seen: dict[int, int] = {}

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in skip:
            seen[storage.data_ptr()] = storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        forward()
    return sum(seen.values())



# On CPU the measure is the process's peak resident memory (Linux's VmHWM), reset with
# /proc/self/clear_refs just before the model is built, minus the memory held at that moment:
# what the model, its gradients, AdamW and the training steps added. MALLOC_MMAP_THRESHOLD_
# makes every large tensor its own mapping, returned to the system when freed, so freed
# memory is not counted as held. On a GPU it is torch.cuda.max_memory_allocated.
# macOS and Windows have no /proc and no way to reset a process's peak: there the CPU peak
# is not measured (a CourseError says so), and the estimate is what the course gives.
CLEAR_REFS = Path("/proc/self/clear_refs")


def why_peak_unmeasurable(device: str = "cpu") -> str:
    """'' where measure_peak_memory works (a CUDA GPU, or a CPU under Linux), else why not:
    a lesson prints it and goes on with the estimate alone."""
    if device == "cuda" or CLEAR_REFS.exists():
        return ""
    return (f"Measuring the CPU peak needs Linux ({CLEAR_REFS} resets it), and this is "
            f"{platform.system()}; use estimate_memory's figure instead, or measure on a CUDA "
            f"GPU with device='cuda'.")


def measure_peak_memory(config: PretrainedConfig, batch_size: int, max_length: int, *,
                        lora: bool | LoraConfig = False, dtype: torch.dtype = torch.float32,
                        gradient_checkpointing: bool = False, freeze: Sequence[str] = (),
                        steps: int = 2, device: str = "cpu", timeout: float = 600) -> int:
    """Train a randomly initialised model of `config` for `steps` steps in a fresh process;
    return the peak memory those steps needed, in bytes (see the comment above for how)."""
    # Checked as estimate_memory checks them: a LoraConfig was measured as the course's
    # adapters, freeze="mlp" letter by letter, dtype="bf16" a traceback from the process.
    freeze = check_estimate(batch_size, max_length, lora, dtype, freeze, 1.0,
                            gradient_checkpointing)
    config = _config_of(config, "config")
    adapters = lora_settings(lora).to_dict() if lora else None
    job = dict(config=config.to_dict(), batch_size=batch_size, max_length=max_length,
               lora=json.loads(json.dumps(adapters, default=_plain)),
               dtype=str(dtype).removeprefix("torch."),
               gradient_checkpointing=gradient_checkpointing, freeze=list(freeze), steps=steps,
               device=device)
    if why := why_peak_unmeasurable(device):  # said now, not as the process's traceback
        raise CourseError(why)
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536")
    done = subprocess.run([sys.executable, "-m", __name__, json.dumps(job)], env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the measuring process failed:\n{done.stderr[-3000:]}")
    return int(json.loads(done.stdout.strip().splitlines()[-1])["peak_bytes"])


def _memory_kib(field: str) -> int:
    status = open("/proc/self/status", encoding="ascii").read()
    return int(re.search(rf"{field}:\s+(\d+)", status).group(1))


def _measure(job: dict[str, Any]) -> int:
    """Runs in the fresh process: build, train `steps` steps, return the peak bytes added."""
    config = AutoConfig.for_model(**job["config"])
    device = job["device"]
    _train_steps(config, job, batch_size=1, length=2, steps=1)  # warm-up: thread pools, code
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
    else:
        CLEAR_REFS.write_text("5", encoding="ascii")  # peak := now (Linux)
        before, files_before = _memory_kib("VmRSS") * 1024, _memory_kib("RssFile") * 1024
    _train_steps(config, job, job["batch_size"], job["max_length"], job["steps"])
    if device == "cuda":
        return torch.cuda.max_memory_allocated() - before
    # Library code mapped during the steps is not training memory, and how much of it gets
    # mapped depends on the page cache (the same run measured 171 or 188 MiB in two copies
    # of one venv): take it out.
    files_added = _memory_kib("RssFile") * 1024 - files_before
    return _memory_kib("VmHWM") * 1024 - before - files_added


def _train_steps(config: PretrainedConfig, job: dict[str, Any], batch_size: int, length: int,
                 steps: int) -> None:
    """Build the model as the job says and train it `steps` steps on random tokens."""
    dtype, device = getattr(torch, job["dtype"]), job["device"]
    half = dtype in (torch.float16, torch.bfloat16)
    torch.manual_seed(0)
    ids = torch.randint(0, config.vocab_size, (batch_size, length), device=device)
    model = AutoModelForCausalLM.from_config(config).to(device)
    if job["gradient_checkpointing"]:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    if job["lora"]:
        fields = {k: v for k, v in job["lora"].items() if k in LoraConfig.__dataclass_fields__}
        model = get_peft_model(model.to(dtype) if half else model, LoraConfig(**fields))
        if job["gradient_checkpointing"]:
            model.enable_input_require_grads()
    for name, param in model.named_parameters():  # as train(freeze=...) does
        if is_frozen(name, job["freeze"]):
            param.requires_grad_(False)
    model.train()
    trained = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trained, lr=1e-4, fused=device in ("cpu", "cuda"))
    scaler = torch.amp.GradScaler(device, enabled=dtype == torch.float16)
    for _ in range(steps):
        with torch.autocast(device, dtype=dtype, enabled=half):
            loss = model(input_ids=ids, labels=ids, use_cache=False).loss
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad(set_to_none=True)


if __name__ == "__main__":
    print(json.dumps({"peak_bytes": _measure(json.loads(sys.argv[1]))}))
