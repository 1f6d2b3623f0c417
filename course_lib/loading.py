"""Load a model and its tokenizer by preset name, local folder or Hub id, through one call.

The default everywhere is `tiny`, the base model the course builds and ships inside the
package, so nothing is downloaded. On Colab one variable switches to a real small model:

    >>> model, tokenizer = load_model_and_tokenizer("tiny")      # embedded, offline
    >>> model, tokenizer = load_model_and_tokenizer("smollm2-135m")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel
from transformers.utils import logging as hf_logging

from course_lib.env import choose_device, hub_offline
from course_lib.errors import CourseError, with_advice

EMBEDDED_MODEL_DIR = Path(__file__).parent / "assets" / "tiny-base"

# Short names a learner can type. Everything else is a local folder or a Hub id.
MODEL_PRESETS: dict[str, str] = {
    "tiny": str(EMBEDDED_MODEL_DIR),
    "smollm2-135m": "HuggingFaceTB/SmolLM2-135M",
    "qwen2.5-0.5b": "Qwen/Qwen2.5-0.5B",
}


def resolve_model_name(name: str | Path) -> str:
    """Turn a preset, folder or Hub id into what `from_pretrained` takes, or explain why not."""
    name = str(name)
    if name == "tiny" and not (EMBEDDED_MODEL_DIR / "config.json").exists():
        raise CourseError(
            f"The embedded model is missing from {EMBEDDED_MODEL_DIR}; reinstall the course, "
            f"or rebuild it with `course build-base-model --out {EMBEDDED_MODEL_DIR}`."
        )
    if name in MODEL_PRESETS:
        return MODEL_PRESETS[name]
    path = Path(name).expanduser()
    if path.exists():
        if not (path / "config.json").exists():
            raise CourseError(
                f"'{name}' is a folder but holds no config.json, so it is not a model folder; "
                f"give a folder saved with save_pretrained, or a preset: "
                f"{', '.join(MODEL_PRESETS)}."
            )
        return str(path)
    # A Hub id is owner/name; "runs/masekd" next to a local runs/ folder is a mistyped path.
    looks_like_path = (name.startswith((".", "/", "~")) or name.count("/") != 1
                       or path.parent.is_dir())
    if looks_like_path:
        raise CourseError(
            f"No model folder at '{name}' and it is not a preset or a Hub id (owner/name); "
            f"presets: {', '.join(MODEL_PRESETS)}."
        )
    return name  # a Hub id such as "HuggingFaceTB/SmolLM2-135M"


def hub_unreachable_message(what: str, hub_id: str, embedded: str) -> str:
    """The one sentence shown when a Hub id is asked for but the Hub cannot be reached."""
    why = "offline mode is on (HF_HUB_OFFLINE=1)" if hub_offline() else "the Hub cannot be reached"
    return (
        f"Cannot load {what} '{hub_id}' from the Hugging Face Hub because {why} "
        f"and it is not in the local cache; use the embedded {what} instead: {embedded}."
    )


@contextmanager
def quiet_loading() -> Iterator[None]:
    """No 'Loading weights' bar: reading a local folder takes a blink, and the bar is noise."""
    was_on = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_on:
            hf_logging.enable_progress_bar()


def _from_pretrained(loader, source: str, **kwargs):
    # A local folder loads silently; a Hub id keeps its bars (a download can take minutes).
    try:
        with quiet_loading() if Path(source).is_dir() else nullcontext():
            return loader.from_pretrained(source, **kwargs)
    except OSError as err:  # huggingface_hub's offline / not-found errors are OSErrors
        if Path(source).exists():
            raise
        message = str(err)
        offline_words = ("offline", "connect", "resolve", "Network", "cached files", "local cache")
        if hub_offline() or any(w in message for w in offline_words):
            raise with_advice(hub_unreachable_message("model", source, "{fix}"),
                              "model='tiny'", "--model tiny") from None
        raise CourseError(f"Could not load model '{source}' from the Hub: {message}") from None


def load_tokenizer(name: str | Path = "tiny"):
    """Load only the tokenizer of a preset, folder or Hub id."""
    return _from_pretrained(AutoTokenizer, resolve_model_name(name))


def load_model_and_tokenizer(
    name: str | Path = "tiny", device: str | None = None, dtype: torch.dtype | None = None
) -> tuple[PreTrainedModel, object]:
    """Load a causal LM and its tokenizer, on the chosen device, ready for generation."""
    source = resolve_model_name(name)
    choice = choose_device()
    device = device or choice.device
    # fp32 for the tiny model whatever the device: it is small, and half precision buys nothing.
    dtype = dtype or (torch.float32 if source == MODEL_PRESETS["tiny"] else choice.dtype)
    tokenizer = _from_pretrained(AutoTokenizer, source)
    model = _from_pretrained(AutoModelForCausalLM, source, dtype=dtype)
    if tokenizer.pad_token is None:  # many base models ship without one
        tokenizer.pad_token = tokenizer.eos_token
    model.to(device)
    model.eval()
    return model, tokenizer
