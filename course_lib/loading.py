"""Load a model and its tokenizer by preset name, local folder or Hub id, through one call.

The default everywhere is `tiny`, the base model the course builds and ships inside the
package, so nothing is downloaded. On Colab one variable switches to a real small model:

    >>> model, tokenizer = load_model_and_tokenizer("tiny")      # embedded, offline
    >>> model, tokenizer = load_model_and_tokenizer("smollm2-135m")  # doctest: +SKIP

Each preset also knows how it is usually tuned (a full fine-tune or LoRA) and its shape, so
its memory can be estimated, or a randomly initialised stand-in built, without a download:

    >>> PRESETS["qwen2.5-0.5b"].lora, preset_config("smollm2-135m").num_hidden_layers
    (True, 30)
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from huggingface_hub.errors import StrictDataclassError
from safetensors import SafetensorError, safe_open
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer, PreTrainedModel
from transformers.utils import logging as hf_logging

from course_lib.env import choose_device, hub_offline, hub_status, no_usage_ping
from course_lib.errors import CourseError, shown, with_advice
from course_lib.files import stopped_run_check

EMBEDDED_MODEL_DIR = Path(__file__).parent / "assets" / "tiny-base"


@dataclass(frozen=True)
class Preset:
    """A model a learner can name in one word, and how the course tunes it."""

    source: str  # a folder or a Hub id
    lora: bool  # LoRA by default (the model is too big to fine-tune whole on a free GPU)
    about: str
    # The config's sizes (copied from the model's config.json): enough to estimate memory or
    # to build a randomly initialised model of the same shape, with no download.
    shape: dict[str, Any] = field(default_factory=dict)

    @property
    def where(self) -> str:
        """The source as a table shows it: a Hub id, or a folder inside the course by its place
        there (`course_lib/assets/tiny-base`, not a long path that differs on every machine)."""
        package_parent = Path(__file__).parents[1]
        path = Path(self.source)
        return str(path.relative_to(package_parent)) if path.is_relative_to(package_parent) \
            else self.source


SMOLLM2_135M_SHAPE = dict(
    model_type="llama", hidden_size=576, intermediate_size=1536, num_hidden_layers=30,
    num_attention_heads=9, num_key_value_heads=3, head_dim=64, vocab_size=49152,
    max_position_embeddings=8192, rope_theta=100000.0, rms_norm_eps=1e-5,
    tie_word_embeddings=True, bos_token_id=0, eos_token_id=0,
)
QWEN25_05B_SHAPE = dict(
    model_type="qwen2", hidden_size=896, intermediate_size=4864, num_hidden_layers=24,
    num_attention_heads=14, num_key_value_heads=2, vocab_size=151936,
    max_position_embeddings=32768, rope_theta=1000000.0, rms_norm_eps=1e-6,
    tie_word_embeddings=True, bos_token_id=151643, eos_token_id=151643,
    use_sliding_window=False, sliding_window=32768, max_window_layers=24,
)

PRESETS: dict[str, Preset] = {
    "tiny": Preset(str(EMBEDDED_MODEL_DIR), lora=False,
                   about="the course's embedded base model, no download"),
    "smollm2-135m": Preset("HuggingFaceTB/SmolLM2-135M", lora=False,
                           about="135M parameters: a full fine-tune fits a free T4",
                           shape=SMOLLM2_135M_SHAPE),
    "qwen2.5-0.5b": Preset("Qwen/Qwen2.5-0.5B", lora=True,
                           about="494M parameters: LoRA by default on a free T4",
                           shape=QWEN25_05B_SHAPE),
}
# Short names a learner can type. Everything else is a local folder or a Hub id.
MODEL_PRESETS: dict[str, str] = {name: p.source for name, p in PRESETS.items()}


def preset_config(name: str, **changes: Any):
    """The config of a preset's shape, built locally (no download); `changes` override sizes,
    e.g. num_hidden_layers=2 for a fast stand-in with the real vocabulary and heads."""
    preset = PRESETS.get(name) if isinstance(name, str) else None
    if preset is None or not preset.shape:
        raise CourseError(_no_shape(name))
    sizes = {**preset.shape, **changes}
    model_type = sizes.pop("model_type")
    try:
        config = AutoConfig.for_model(model_type, **sizes)
    except (ValueError, TypeError, StrictDataclassError) as err:  # "hidden size (100) is not..."
        why = str(err).strip().splitlines()[-1].strip().rstrip(".")
        raise CourseError(f"preset_config({name!r}, {_keywords(changes)}) makes no valid config "
                          f"({why}); give whole numbers that agree with the preset's other sizes "
                          f"(PRESETS[{name!r}].shape lists them).") from None
    # A misspelt size (num_layers=2) became an unused attribute: 30 layers, unsaid.
    # attn_implementation is read by the config's __init__, kept as _attn_implementation.
    known = set(AutoConfig.for_model(model_type).to_dict()) | set(config.attribute_map) | {
        "attn_implementation"}
    for key in changes:
        if key not in known:
            near = difflib.get_close_matches(key, known, n=1)
            raise CourseError(f"preset_config({name!r}) got {key}={changes[key]!r}, which a "
                              f"{type(config).__name__} does not have, so it would change "
                              f"nothing" + (f"; did you mean {near[0]}?" if near else "."))
    return config


def _keywords(changes: dict[str, Any]) -> str:
    return ", ".join(f"{key}={value!r}" for key, value in changes.items())


def _no_shape(name: Any) -> str:
    """Why preset_config cannot build `name`, and what to give instead."""
    shaped = [n for n, p in PRESETS.items() if p.shape]
    if name in PRESETS:  # the embedded model: its config ships with the course
        return (f"No shape is recorded for '{name}': its config is in the course; read it "
                f"with load_config({name!r}).")
    near = difflib.get_close_matches(str(name).strip().lower(), shaped, n=1)
    return (f"No shape is recorded for {name!r}; presets with one: {', '.join(shaped)}" + (
        f"; did you mean '{near[0]}'?" if near else "."))


def preset_name(name: str | Path) -> str | None:
    """The preset a name means, by its short name: the name itself, or the Hub id or folder a
    preset loads (the same model, as big, with the same recorded sizes); None for others."""
    return str(name) if str(name) in PRESETS else next(
        (short for short, preset in PRESETS.items() if preset.source == str(name)), None)


def default_lora(name: str | Path) -> bool:
    """Whether a model is tuned with LoRA unless told otherwise: its preset's choice, else no."""
    short = preset_name(name)
    return PRESETS[short].lora if short is not None else False


def resolve_model_name(name: str | Path) -> str:
    """Turn a preset, folder or Hub id into what `from_pretrained` takes, or explain why not."""
    if not isinstance(name, str | Path):  # a model object's printout was taken for a path
        what = name if name is None or isinstance(name, int | float) else (
            f"a {type(name).__name__}")
        raise CourseError(f"A model is given by name: a preset ({', '.join(MODEL_PRESETS)}), a "
                          f"model folder or a Hub id, not {what}; a model object is loaded "
                          f"already.")
    name = str(name)
    # The embedded model ships with the course: missing, the install is broken, not the name.
    if name == "tiny" and not (EMBEDDED_MODEL_DIR / "config.json").exists():
        raise CourseError(
            f"The embedded model is missing from {EMBEDDED_MODEL_DIR}; reinstall the course, "
            f"or rebuild it with `course build-base-model --out {EMBEDDED_MODEL_DIR} --force`."
        )
    if name in PRESETS:
        return PRESETS[name].source
    # A local folder wins over a Hub id of the same spelling: it is what the learner has.
    path = Path(name).expanduser()
    if path.exists():
        _check_model_folder(path, name)
        return str(path)
    # A Hub id is owner/name; "runs/masekd" next to a local runs/ folder is a mistyped path.
    looks_like_path = (name.startswith((".", "/", "~")) or name.count("/") != 1
                       or path.parent.is_dir())
    if looks_like_path:
        near = _nearest(name, path)
        raise CourseError(
            f"No model folder at '{name}' and it is not a preset or a Hub id (owner/name); "
            f"presets: {', '.join(MODEL_PRESETS)}" + (f"; did you mean '{near}'?" if near else ".")
        )
    return name  # a Hub id such as "HuggingFaceTB/SmolLM2-135M"


def _nearest(name: str, path: Path) -> str | None:
    """The preset, or else the folder beside `path`, that `name` is a slip of ('Tiny',
    'smolm2-135m', 'runs/maskd'): the list alone left the learner to spot the difference."""
    preset = difflib.get_close_matches(name.strip().lower(), PRESETS, n=1)
    if preset:
        return preset[0]
    if "/" not in name or not path.parent.is_dir():
        return None
    folders = [p.name for p in path.parent.iterdir() if p.is_dir()]
    near = difflib.get_close_matches(path.name, folders, n=1)
    return f"{name.rsplit('/', 1)[0]}/{near[0]}" if near else None


TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "tokenizer.model", "vocab.json")
WEIGHT_FILES = ("*.safetensors", "pytorch_model*.bin")


# The endings of data files, written once here for formatting.records (a later stage, which
# reads them): such a file given where a model goes is data passed in the model's place.
DATA_FILE_SUFFIXES = (".json", ".jsonl", ".csv", ".tsv", ".parquet", ".txt", ".gz", ".arrow")
MODEL_CHOICES = ("a model folder (a run folder of {fix}, or one saved with save_pretrained), "
                 f"a preset ({', '.join(MODEL_PRESETS)}) or a Hub id (owner/name)")


def _refuse_file(path: Path, name: str) -> None:
    """A model is a folder: a file given as one is a file of a model folder, or data."""
    if (path.parent / "config.json").is_file():
        raise CourseError(f"'{name}' is a file inside the model folder '{path.parent}'; give "
                          f"the folder itself.")
    what = "a data file" if path.name.lower().endswith(DATA_FILE_SUFFIXES) else "a file"
    raise with_advice(f"'{name}' is {what}, not a model; give {MODEL_CHOICES}.",
                      "train(..., out_dir=...)", "`course train --out`")


def _check_model_folder(path: Path, name: str) -> None:
    """A local folder must hold a model's config: else say what the folder is instead."""
    if not path.is_dir():
        _refuse_file(path, name)
    stopped_run_check(path, name)  # only checkpoints: training was stopped
    if not (path / "config.json").exists():
        raise CourseError(f"'{name}' is a folder but holds no config.json, so it is not a model "
                          f"folder; give a folder saved with save_pretrained, or a preset: "
                          f"{', '.join(MODEL_PRESETS)}.")


def _require_files(source: str, weights: bool) -> None:
    """A local folder about to be loaded holds a tokenizer (and weights, for a model): said
    by name, not as a traceback about sentencepiece or a missing model.safetensors."""
    path = Path(source)
    if not path.is_dir():
        return  # a Hub id: from_pretrained says what is missing
    missing = [what for what, found in (
        ("no tokenizer", any((path / f).exists() for f in TOKENIZER_FILES)),
        ("no weights", not weights or any(any(path.glob(g)) for g in WEIGHT_FILES)))
        if not found]
    if missing:
        inside_run = path.parent.name == "checkpoints"  # a Trainer checkpoint of a course run
        raise CourseError(
            f"'{source}' has a config.json but {' and '.join(missing)}; " + (
                f"it is a training checkpoint: use the run's folder, {path.parent.parent}, "
                f"once the run has finished." if inside_run else
                "save the model and its tokenizer with save_pretrained into one folder."))


def damaged_file_check(folder: Path) -> None:
    """Name the file of a model folder that cannot be read whole (a copy or save cut short):
    from_pretrained said "invalid header length" or a JSON position, without the file."""
    for path in sorted(folder.glob("*.json")) + sorted(folder.glob("*.safetensors")):
        try:
            if path.suffix == ".json":
                json.loads(path.read_text(encoding="utf-8"))
            else:
                with safe_open(path, "pt"):  # reads the header, checks the file's length
                    pass
        except (ValueError, SafetensorError) as err:  # JSONDecodeError and bad UTF-8 included
            raise CourseError(f"'{path}' is cut short or damaged ({str(err).splitlines()[0]}), "
                              f"so the model in '{folder}' cannot be loaded; copy or save the "
                              f"folder again.") from None


def hub_unreachable_message(what: str, hub_id: str, embedded: str, aside: str = "") -> str:
    """The one sentence shown when a Hub id is asked for but the Hub cannot be reached."""
    why = "offline mode is on (HF_HUB_OFFLINE=1)" if hub_offline() else "the Hub cannot be reached"
    return (
        f"Cannot load {what} '{hub_id}' from the Hugging Face Hub because {why} "
        f"and it is not in the local cache{aside}; use the embedded {what} instead: {embedded}."
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


def hub_id_options(source: str) -> dict[str, bool]:
    """from_pretrained's options for `source`: the local cache only when it is a Hub id and the
    Hub does not answer, else huggingface_hub retries each file for about 20 s (a minute for
    a model) before the same error; a model cached before still loads."""
    if Path(source).exists() or hub_offline():  # offline mode: the libraries skip the network
        return {}
    return {"local_files_only": True} if hub_status() == "unreachable" else {}


def _from_pretrained(loader, source: str, **kwargs):
    # A local folder loads silently; a Hub id keeps its bars (a download can take minutes).
    # A Hub that did not answer is not asked again: huggingface_hub's user-agent header fetches
    # a list from it (3 s) unless usage pings are off.
    unanswered = kwargs.get("local_files_only")
    try:
        with quiet_loading() if Path(source).is_dir() else nullcontext(), (
                no_usage_ping() if unanswered else nullcontext()):
            return loader.from_pretrained(source, **kwargs)
    except (OSError, ValueError, SafetensorError) as err:  # OSError: the Hub's errors too
        if Path(source).exists():
            damaged_file_check(Path(source))  # a copy cut short: a traceback from deep inside
            raise
        if not isinstance(err, OSError):
            raise
        message = str(err)
        offline_words = ("offline", "connect", "resolve", "Network", "cached files", "local cache")
        if hub_offline() or any(w in message for w in offline_words):
            # 'runs/masked' before that run was trained reads as a Hub id: say both.
            here = f" (nor is '{source}' a folder here)"
            raise with_advice(hub_unreachable_message("model", source, "{fix}", here),
                              "model='tiny'", "--model tiny") from None
        raise CourseError(f"Could not load model '{source}' from the Hub: {message}") from None


def load_config(name: str | Path):
    """Only the config of a preset, folder or Hub id (its sizes, no weights), asked of the Hub
    as the model is: once, briefly, when the Hub does not answer."""
    source = resolve_model_name(name)
    return _from_pretrained(AutoConfig, source, **hub_id_options(source))


def load_tokenizer(name: str | Path = "tiny"):
    """Load only the tokenizer of a preset, folder or Hub id."""
    source = resolve_model_name(name)
    _require_files(source, weights=False)
    return _from_pretrained(AutoTokenizer, source, **hub_id_options(source))


def _check_device_and_dtype(device: Any, dtype: Any) -> None:
    """device="gpu" was a RuntimeError listing torch's twenty device types, dtype="fp16" an
    AttributeError about torch; both after nothing was loaded, so said first."""
    if device is not None:
        try:
            torch.device(device)
        except (RuntimeError, TypeError):
            raise CourseError(f"device must be 'cpu', 'cuda' or 'mps' (or None: the best there "
                              f"is), not {shown(device)}.") from None
        kind = torch.device(device).type  # else "Torch not compiled with CUDA enabled"
        if (kind == "cuda" and not torch.cuda.is_available()) or (
                kind == "mps" and not torch.backends.mps.is_available()):
            raise CourseError(f"device={device!r}, but torch finds no such device here; leave "
                              f"device out (the best there is) or give device='cpu'.")
    named = isinstance(dtype, str) and isinstance(getattr(torch, dtype, None), torch.dtype)
    if not (dtype is None or isinstance(dtype, torch.dtype) or named or dtype == "auto"):
        raise CourseError(f"dtype must be a torch dtype such as torch.float16, not "
                          f"{shown(dtype)}.")


def load_model_and_tokenizer(
    name: str | Path = "tiny", device: str | None = None, dtype: torch.dtype | None = None
) -> tuple[PreTrainedModel, object]:
    """Load a causal LM and its tokenizer, on the chosen device, ready for generation."""
    _check_device_and_dtype(device, dtype)
    source = resolve_model_name(name)
    choice = choose_device()
    device = device or choice.device
    # fp32 for the tiny model whatever the device: it is small, and half precision buys nothing.
    dtype = dtype or (torch.float32 if source == PRESETS["tiny"].source else choice.dtype)
    _require_files(source, weights=True)
    options = hub_id_options(source)  # asked once: the Hub can take seconds not to answer
    tokenizer = _from_pretrained(AutoTokenizer, source, **options)
    # adapter_kwargs too: transformers 5.24 looks for a LoRA adapter on the Hub in any case.
    model = _from_pretrained(AutoModelForCausalLM, source, dtype=dtype,
                             adapter_kwargs=dict(options), **options)
    if tokenizer.pad_token is None:  # many base models (SmolLM2 too) ship without one
        # pad == eos is safe here: the course pads labels with -100 by position, never by
        # token id, so the real EOS at the end of each response is still trained.
        tokenizer.pad_token = tokenizer.eos_token
    model.to(device)
    model.eval()
    return model, tokenizer
