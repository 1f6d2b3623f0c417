"""Where the course runs: device, precision, CPU threads, whether the Hub can be reached, and
which names the installed packages use.

The course runs on a laptop CPU, on Apple silicon and on a Colab GPU with the same code.
`choose_device()` makes the one decision every other module relies on, and says why:

    >>> choice = choose_device()
    >>> choice.device, choice.dtype          # doctest: +SKIP
    ('cpu', torch.float32)

`choose_threads()` makes the other one, how many CPU threads torch computes with:

    >>> choose_threads(small_model=True).count
    1
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import huggingface_hub.constants as hub_constants
import psutil
import torch
from huggingface_hub import get_session

from course_lib.cgroups import cgroup_cpu_limit, cpu_cores, process_memory


@dataclass(frozen=True)
class DeviceChoice:
    """The device and dtype the course uses, and a sentence saying why."""

    device: str  # "cuda", "mps" or "cpu"
    dtype: torch.dtype
    reason: str

    @property
    def trainer_precision(self) -> dict[str, bool]:
        """The precision flags for transformers' TrainingArguments / TRL's SFTConfig."""
        return {
            "bf16": self.dtype == torch.bfloat16,
            "fp16": self.dtype == torch.float16,
            "use_cpu": self.device == "cpu",
        }


# `course train --cpu` sets it, so that the processes torchrun starts for it choose alike.
CPU_ONLY_VARIABLE = "COURSE_DEVICE"


def choose_device() -> DeviceChoice:
    """Pick CUDA (bf16 if supported, else fp16), then Apple MPS, then CPU (fp32); COURSE_DEVICE=cpu
    picks the CPU whatever else is there."""
    if os.environ.get(CPU_ONLY_VARIABLE, "").strip().lower() == "cpu":
        return DeviceChoice("cpu", torch.float32, f"{CPU_ONLY_VARIABLE}=cpu (course train --cpu).")
    if torch.cuda.is_available():
        name = torch.cuda.get_device_name(0)
        if torch.cuda.is_bf16_supported():
            return DeviceChoice("cuda", torch.bfloat16, f"CUDA GPU {name} supports bf16.")
        # A T4 (Colab's free GPU) has no bf16: fp16 with loss scaling is the fast choice.
        return DeviceChoice("cuda", torch.float16, f"CUDA GPU {name} has no bf16, so fp16.")
    if torch.backends.mps.is_available():
        return DeviceChoice(
            "mps", torch.float32, "Apple MPS GPU; fp32 is the reliable dtype there."
        )
    return DeviceChoice(
        "cpu", torch.float32, "No GPU found; CPU with fp32 (CPU half precision is slow)."
    )


SMALL_MODEL_PARAMS = 20_000_000  # below this, one thread is as fast (benchmarks/threads.py)
LARGE_MODEL_THREADS = 4  # at most: past ~4 threads, a laptop-sized run gains little


@dataclass(frozen=True)
class ThreadChoice:
    """How many CPU threads torch uses, and a sentence saying why."""

    count: int
    reason: str


@contextmanager
def cpu_only(on: bool = True) -> Iterator[None]:
    """choose_device() picks the CPU inside the block (`course train --cpu`), and so do the
    processes started in it; then COURSE_DEVICE is as it was (a notebook's later cells too)."""
    before = os.environ.get(CPU_ONLY_VARIABLE)
    if on:
        os.environ[CPU_ONLY_VARIABLE] = "cpu"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(CPU_ONLY_VARIABLE, None)
        else:
            os.environ[CPU_ONLY_VARIABLE] = before


LESSON_CORES = 2  # the lessons' timings were measured on 2 cores
# A lesson's kernel with the tiny model peaked at 0.69 GB (lesson 04, headless), a training
# process at 0.57 GB (course train --steps 2): with Jupyter and a helper process, 1.5 GB.
LESSON_MEMORY = 1.5e9


def cpus_line() -> str:
    """What `course doctor` says about the CPU: the cores the course counts, the quota that
    lowered them, and a warning below the cores the lessons were timed on."""
    return ": ".join(filter(None, _cpus()))


def _cpus() -> tuple[str, str]:
    cores, quota = cpu_cores(), cgroup_cpu_limit()
    fact = str(cores) + (f" (a cgroup CPU quota of {quota:g}; the machine has "
                         f"{os.cpu_count()} cores)" if quota else "")
    short = cores < LESSON_CORES
    return fact, (f"the lessons were timed on {LESSON_CORES} cores; expect them to take longer"
                  if short else "")


def memory_line() -> str:
    """What `course doctor` says about memory: a cgroup's limit (the kernel kills a process
    past it) or the machine's memory, and a warning below what the lessons need."""
    return ": ".join(filter(None, _memory()))


def _memory() -> tuple[str, str]:
    memory, limited = process_memory()
    fact = f"{memory / 1e9:.1f} GB" + (f" (a cgroup limit; the machine has "
                                       f"{psutil.virtual_memory().total / 1e9:.1f} GB)"
                                       if limited else "")
    short = memory < LESSON_MEMORY
    return fact, (f"the tiny model's lessons need about {LESSON_MEMORY / 1e9:.1f} GB; ask for "
                  f"more, and set COURSE_WORKERS=1 (no helper processes)" if short else "")


def short_of_lessons() -> list[str]:
    """The lines of cpus_line() and memory_line() that warn, for a lesson's first cell."""
    return [f"{name}: {fact}: {warning}" for name, (fact, warning)
            in (("cpus", _cpus()), ("memory", _memory())) if warning]


def choose_threads(small_model: bool, device: str = "cpu", asked: int | None = None,
                   ) -> ThreadChoice:
    """The thread count for training: 1 for a small model, else up to 4 of the cores.

    Measured with benchmarks/threads.py: lesson 04's 40-step run of the 1.1M-parameter tiny
    model, median seconds, on a 2-core machine shared with other jobs (load average 4-10
    even without our contender; "contended" adds a torch process multiplying in a loop):

                                          quiet            contended
        idle threads spin (default), 1 thread   8.5 | 5.5 s     24.2 | 7.0 s
        idle threads spin (default), 2 threads 82.4 | -       131.9 | -
        OMP_WAIT_POLICY=PASSIVE,     1 thread   6.3 | 5.1 s     24.2 | 8.6 s
        OMP_WAIT_POLICY=PASSIVE,     2 threads  5.7 | 7.7 s      5.9 | 5.1 s
        (first run: n=3, conditions one after another | second run: n=5, interleaved)

    Two threads collapse (10-20x) whenever idle OpenMP threads spin, which is the default
    in a notebook; with PASSIVE they are no faster than one (the spread between runs is
    larger than the difference). One thread never collapses, so small models get one. A
    larger model has enough work per step to use more cores; 4 at most, because it was not
    measured here (no larger machine) and a shared laptop should keep cores for others.
    """
    cores = cpu_cores()
    if asked:
        return ThreadChoice(asked, f"as asked, on a machine with {cores} cores")
    if device != "cpu":
        return ThreadChoice(torch.get_num_threads(),
                            f"torch's default: the {device} GPU computes, the CPU only feeds it")
    if small_model:
        return ThreadChoice(1, f"one of {cores} cores: a model this small gains little from more "
                               f"threads, and one thread stays fast when other programs compete")
    count = max(1, min(LARGE_MODEL_THREADS, cores))
    return ThreadChoice(count, f"{count} of {cores} cores (at most {LARGE_MODEL_THREADS})")


TELEMETRY_VARIABLE = "HF_HUB_DISABLE_TELEMETRY"
TRUE_WORDS = {"1", "true", "yes", "on"}  # what huggingface_hub reads as a variable set


def hub_offline() -> bool:
    """True when the user asked huggingface_hub to stay offline (HF_HUB_OFFLINE=1)."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in TRUE_WORDS


def keep_usage_private() -> None:
    """Turn off the Hub's usage pings (TRL sends one for every trainer made, even on the embedded
    model) unless the learner set HF_HUB_DISABLE_TELEMETRY themselves; Hub ids still load."""
    os.environ.setdefault(TELEMETRY_VARIABLE, "1")  # for the processes the course starts
    # huggingface_hub reads the variable once, on import, and a kernel has imported it already.
    if os.environ[TELEMETRY_VARIABLE].strip().lower() in TRUE_WORDS:
        hub_constants.HF_HUB_DISABLE_TELEMETRY = True


@contextmanager
def no_usage_ping() -> Iterator[None]:
    """No usage ping inside the block, then as before: for a trainer the course makes only to
    prepare data (trl_prepare), which is no use of TRL to count, whoever calls it."""
    before = hub_constants.HF_HUB_DISABLE_TELEMETRY
    hub_constants.HF_HUB_DISABLE_TELEMETRY = True
    try:
        yield
    finally:
        hub_constants.HF_HUB_DISABLE_TELEMETRY = before


def hub_status(timeout: float = 3.0) -> str:
    """One of 'offline mode', 'reachable' or 'unreachable', without downloading anything."""
    if hub_offline():
        return "offline mode"
    # Asked the way downloads ask: huggingface_hub's client, with its proxies and HF_ENDPOINT.
    try:
        get_session().head(hub_constants.ENDPOINT, timeout=timeout)
    except Exception:  # its client's own error types (httpx's, or requests' in older releases)
        return "unreachable"
    return "reachable"


@contextmanager
def evaluating(model) -> Iterator[torch.device]:
    """Run a block with `model` in eval mode and without gradients; yield the model's device.

    The model's train/eval mode is restored afterwards, so measuring in the middle of a
    training run (or of a lesson) leaves it as it was:

        >>> with evaluating(model) as device:                            # doctest: +SKIP
        ...     logits = model(input_ids=ids.to(device)).logits
    """
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield next(model.parameters()).device
    finally:
        model.train(was_training)


PACKAGE = Path(__file__).resolve().parent


def find_constraints(package: Path = PACKAGE) -> Path:
    """constraints.txt inside the package (a wheel ships it there: pyproject.toml's
    force-include) or beside it (a checkout, which make setup installs with)."""
    inside, beside = package / "constraints.txt", package.parent / "constraints.txt"
    return inside if inside.is_file() else beside


CONSTRAINTS = find_constraints()


def measured_versions(path: Path | None = None) -> dict[str, str]:
    """The package versions the lessons' numbers were measured with (default: CONSTRAINTS), by
    normalised name.

        >>> measured_versions(Path("no-such-file"))
        {}
    """
    path = path or CONSTRAINTS
    if not path.is_file():
        return {}
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        name, pinned, version = line.split("#")[0].strip().partition("==")
        if pinned:  # PEP 503 names: huggingface_hub and huggingface-hub are one package
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version.strip()
    return pins


def checkpointing_field(config_class: type) -> str:
    """The name of the activation (gradient) checkpointing field in TrainingArguments or
    TRL's SFTConfig: transformers 5.2x renamed gradient_checkpointing to
    activation_checkpointing.

        >>> from transformers import TrainingArguments
        >>> checkpointing_field(TrainingArguments) in ("activation_checkpointing",
        ...                                            "gradient_checkpointing")
        True
    """
    fields = {field.name for field in dataclasses.fields(config_class)}
    return "activation_checkpointing" if "activation_checkpointing" in fields else (
        "gradient_checkpointing")
