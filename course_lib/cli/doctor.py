"""`course doctor`: what the course will run on (versions, device, cores, memory, Hub, the
embedded model), asked before the first lesson or to report a problem."""

from __future__ import annotations

import argparse
import platform
from collections.abc import Iterator
from importlib.metadata import PackageNotFoundError, version

import course_lib


def cmd_doctor(args: argparse.Namespace) -> int:
    """Print versions, the chosen device and dtype, Hub status and the embedded model's place."""
    width = len("embedded model")  # the longest name
    for key, value in _doctor_rows():  # each as soon as known: a silent terminal looks stuck
        print(f"{key:<{width}}  {value}", flush=True)
    return 0


def _doctor_rows() -> Iterator[tuple[str, str]]:
    """`course doctor`'s rows, slowest last: torch's import takes a second or two, and the Hub
    up to 3 s without a connection."""
    yield "course", course_lib.__version__  # which course a teacher handed out
    yield "python", platform.python_version()
    from course_lib.env import choose_device, cpus_line, hub_status, measured_versions, memory_line
    from course_lib.loading import EMBEDDED_MODEL_DIR

    pins = measured_versions()
    for pkg in ("torch", "transformers", "trl", "datasets", "peft"):
        try:
            found = version(pkg)
        except PackageNotFoundError:
            found = "not installed"
        # Another release moves float rounding: a lesson's quoted number may move by a point.
        if pkg in pins and found.split("+")[0] != pins[pkg]:
            found = f"{found} (the lessons' numbers were measured with {pins[pkg]})"
        yield pkg, found
    choice = choose_device()
    yield "device", choice.device
    yield "dtype", str(choice.dtype).removeprefix("torch.")
    yield "why", choice.reason
    yield "cpus", cpus_line()  # a container's quota and limit, not the host's
    yield "memory", memory_line()
    yield "hub", _hub_line(hub_status())
    model_state = "present" if (EMBEDDED_MODEL_DIR / "config.json").exists() else "MISSING"
    yield "embedded model", f"{EMBEDDED_MODEL_DIR} ({model_state})"


def _hub_line(status: str) -> str:
    """The Hub's status and what it means for the course: it needs the Hub for nothing."""
    if status == "reachable":
        return "reachable (Hub ids such as HuggingFaceTB/SmolLM2-135M can be downloaded)"
    why = "HF_HUB_OFFLINE=1 is set" if status == "offline mode" else "no connection"
    return (f"{status} ({why}): the embedded model and data work; a Hub id loads only if it is "
            f"in the local cache")
