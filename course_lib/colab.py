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
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, metadata

import torch

from course_lib.env import DeviceChoice, ThreadChoice, choose_device, choose_threads
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
    import tomllib
    from pathlib import Path

    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    return tomllib.loads(pyproject.read_text())["project"]["urls"]["Repository"]


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
    choice = choose_device()
    print(f"device: {choice.device} ({str(choice.dtype).removeprefix('torch.')}) - {choice.reason}")
    # The whole kernel computes with this many threads, not only train() (which picks the same).
    threads = choose_threads(small_model=model == "tiny", device=choice.device)
    torch.set_num_threads(threads.count)
    print(f"threads: {threads.count} - {threads.reason}")
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
