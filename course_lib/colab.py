"""The first cell of every lesson: the same on a laptop and on Colab.

Only the few lines that install the package live in the notebook (they must run before
`course_lib` exists). Everything after that is here, written once:

    >>> ctx = lesson_setup("tiny")       # doctest: +SKIP
    device: cpu (float32) - No GPU found; CPU with fp32 ...
    threads: 1 - one of 2 cores: a model this small gains little from more threads, ...
    model:  tiny (the course's embedded base model)
"""

from __future__ import annotations

import sys
import tomllib
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, metadata
from pathlib import Path
from typing import Any

import torch

from course_lib.env import (
    DeviceChoice,
    ThreadChoice,
    choose_device,
    choose_threads,
    keep_usage_private,
    short_of_lessons,
)
from course_lib.loading import MODEL_PRESETS

DISTRIBUTION = "instruction-tuning-course"


def repository_url() -> str:
    """The course repository, as written once in pyproject.toml's [project.urls]."""
    try:
        urls = metadata(DISTRIBUTION).get_all("Project-URL") or []
    except PackageNotFoundError:  # running from a source tree that was never installed
        urls = []
    for entry in urls:
        label, _, url = entry.partition(",")
        if label.strip().lower() == "repository":
            return url.strip()
    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    return tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["urls"]["Repository"]


def colab_url(notebook: str, branch: str = "main") -> str:
    """The 'Open in Colab' link for a notebook path inside the repository."""
    owner_repo = repository_url().removeprefix("https://github.com/")
    return f"https://colab.research.google.com/github/{owner_repo}/blob/{branch}/{notebook}"


def install_line() -> str:
    """What the first cell runs on Colab to install the course with its model and data."""
    return f'pip install -q "git+{repository_url()}"'


def on_colab() -> bool:
    return "google.colab" in sys.modules


@dataclass(frozen=True)
class LessonContext:
    """What a lesson runs with: the model name to load and the device choice."""

    model: str
    device: DeviceChoice
    threads: ThreadChoice


def lesson_setup(model: str = "tiny") -> LessonContext:
    """Print where the lesson runs and which model it uses; suggest a real model on a GPU."""
    keep_usage_private()  # lesson 05's SFTTrainer would ping the Hub, even on the tiny model
    choice = choose_device()
    print(f"device: {choice.device} ({str(choice.dtype).removeprefix('torch.')}) - {choice.reason}")
    # The whole kernel computes with this many threads, not only train() (which picks the same).
    threads = choose_threads(small_model=model == "tiny", device=choice.device)
    torch.set_num_threads(threads.count)
    print(f"threads: {threads.count} - {threads.reason}")
    for line in short_of_lessons():  # a container's quota or limit below the lessons' needs
        print(f"note:   {line}")
    if model == "tiny":
        print("model:  tiny (the course's embedded base model, no download)")
        if choice.device == "cuda":
            print("tip:    a GPU is here: set MODEL = 'smollm2-135m' to use a real small model.")
    else:
        source = MODEL_PRESETS.get(model, model)
        print(f"model:  {model} ({source})")
    if on_colab() and choice.device == "cpu":
        print("tip:    Runtime > Change runtime type > T4 GPU makes the real models fast.")
    return LessonContext(model=model, device=choice, threads=threads)


def smoke_check(model: str = "smollm2-135m", steps: int = 60, batch_size: int = 16,
                limit: int | None = None) -> dict[str, Any]:
    """The course's whole path on `model` in a few minutes: measure the base model, fine-tune
    it (masked), measure again. Prints `name: value` lines to paste into an issue. On a
    Colab T4:

        >>> figures = smoke_check("smollm2-135m")  # doctest: +SKIP
        device: cuda (float16) Tesla T4
        ...
    """
    # deferred: every lesson's first cell imports this module; these take seconds to import.
    from course_lib.evaluation.report import evaluate
    from course_lib.training.memory import estimate_memory
    from course_lib.training.runner import train

    choice = choose_device()
    name = torch.cuda.get_device_name(0) if choice.device == "cuda" else choice.device
    figures: dict[str, Any] = {"device": f"{choice.device} ({str(choice.dtype)[6:]}) {name}",
                               "model": f"{model} ({MODEL_PRESETS.get(model, model)})"}
    # No samples: greedy answers are enough to compare before and after, and sampling is slow.
    before = evaluate({"base": model}, samples=0, limit=limit).summaries["base"]
    # Reset after the base model's evaluation, so the peak below is the fine-tune's.
    if choice.device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    # The course's recipe (train()'s defaults: its data, frozen parts or the preset's LoRA).
    run = train(model, max_steps=steps, batch_size=batch_size, eval_every=steps, progress=False,
                verbose=False)
    after = evaluate({"tuned": (run.model, run.tokenizer)}, samples=0,
                     limit=limit).summaries["tuned"]
    # Read from the run's history: what train() chose (LoRA, frozen parts) is what ran.
    h = run.history
    figures.update({
        "lora": h.lora, "frozen": " ".join(h.freeze) or "none",
        "gradient_checkpointing": h.gradient_checkpointing,
        "steps": h.steps_done, "train_seconds": round(h.wall_time_s, 1),
        "steps_per_s": round(h.steps_done / h.wall_time_s, 2),
        # The estimate beside the measured peak, so an issue shows how far apart the two are.
        "estimate_gb": round(estimate_memory(run.model, batch_size, 64, lora=h.lora,
                                             dtype=choice.dtype, freeze=h.freeze).total / 1e9,
                             2),
        "peak_memory_gb": round(torch.cuda.max_memory_allocated() / 1e9, 2)
        if choice.device == "cuda" else "n/a (CPU)",
        "held_out_accuracy": f"{h.eval_accuracy[0]:.3f} -> {h.eval_accuracy[-1]:.3f}",
        "exact_match": f"{before['exact_match']} -> {after['exact_match']}",
        "fast_path": h.fast_path,
    })
    for key, value in figures.items():
        print(f"{key}: {value}")
    return figures
