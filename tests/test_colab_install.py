"""What the lessons' first cell (`pip install` the course) does to a Colab runtime.

Colab's kernel runs on its own IPython 7, ipykernel, tornado and pyzmq, and shows widgets
only from its ipywidgets 7.7 (googlecolab/colabtools#4525). pip upgrading one of them breaks
the runtime or hides every widget, so the course must install beside them, not over them.
"""

import importlib.metadata as metadata
import os
import subprocess
import sys
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
FREEZE = Path(__file__).with_name("colab_pip_freeze.txt")
COLAB_PYTHON = {"python_version": "3.13", "python_full_version": "3.13.15", "extra": ""}
# The kernel's own packages (Colab warns that upgrading the first five "can cause your
# runtime to repeatedly crash"), and those that draw widgets.
KERNEL = ["ipython", "ipykernel", "tornado", "prompt-toolkit", "pyzmq", "jupyter-client",
          "jupyter-server", "notebook", "traitlets", "ipywidgets", "widgetsnbextension"]
WIDGET_TESTS = ["tests/evaluation/test_review.py", "tests/masking/test_view.py",
                "tests/test_display.py"]


def colab_versions() -> dict[str, str]:
    pins = (line.split("==") for line in FREEZE.read_text().splitlines() if "==" in line)
    return {canonicalize_name(name): version for name, version in pins}


def what_pip_installs(colab: dict[str, str]) -> dict[str, str]:
    """Each package pip would install or upgrade on Colab, with the requirement that asks.

    A package Colab has at a version every requirement accepts is kept, so its own
    requirements are Colab's business; the others are followed through the versions
    installed here (those of constraints.txt), which is what pip would fetch.
    """
    wanted, todo = {}, [("instruction-tuning-course", "the course")]
    while todo:
        name, why = todo.pop()
        if canonicalize_name(name) in wanted:
            continue
        wanted[canonicalize_name(name)] = why
        for req in map(Requirement, metadata.requires(name) or []):
            if req.marker and not req.marker.evaluate(COLAB_PYTHON):
                continue  # an extra (dev, lab) or another platform's
            have = colab.get(canonicalize_name(req.name))
            if have is None or not req.specifier.contains(have, prereleases=True):
                todo.append((req.name, f"{name} needs {req}, Colab has {have or 'none'}"))
    return wanted


def test_installing_the_course_on_colab_keeps_its_kernel_and_widgets():
    colab = colab_versions()
    assert all(name in colab for name in KERNEL)  # the snapshot is a whole Colab
    wanted = what_pip_installs(colab)
    upgraded = {name: wanted[name] for name in KERNEL if name in wanted}
    assert not upgraded, f"on Colab, pip would upgrade the kernel's own packages: {upgraded}"
    assert "jupyterlab" not in wanted  # Colab has its own front end: an extra, `[lab]`
    assert {"trl", "rouge-score"} <= set(wanted)  # what Colab lacks is installed


def test_a_requirement_that_would_upgrade_colabs_widgets_is_caught(monkeypatch):
    real = metadata.requires
    monkeypatch.setattr(metadata, "requires", lambda name: (
        ["ipywidgets>=8"] if name == "instruction-tuning-course" else real(name)))
    assert what_pip_installs(colab_versions())["ipywidgets"] == (
        "instruction-tuning-course needs ipywidgets>=8, Colab has 7.7.1")


def test_the_widgets_work_with_colabs_ipywidgets():
    # make setup puts Colab's ipywidgets in .venv/colab-widgets, beside the venv's own.
    target = Path(sys.prefix) / "colab-widgets"
    version = colab_versions()["ipywidgets"]
    assert (target / f"ipywidgets-{version}.dist-info").is_dir(), (
        f"{target} has no ipywidgets {version} (Colab's): run `make setup`")
    env = {**os.environ, "PYTHONPATH": str(target)}
    which = "import ipywidgets; print(ipywidgets.__version__)"
    imported = subprocess.run([sys.executable, "-c", which], env=env, capture_output=True,
                              text=True, check=True).stdout
    assert imported.strip() == version
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
         "-W", "ignore::DeprecationWarning", *WIDGET_TESTS],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:]
    assert "passed" in run.stdout
