"""What the lessons' first cell (`pip install` the course) does to a Colab runtime.

Colab's kernel runs on its own IPython 7, ipykernel, tornado and pyzmq, and shows widgets
only from its ipywidgets 7.7 (googlecolab/colabtools#4525). pip upgrading one of them breaks
the runtime or hides every widget, so the course must install beside them, not over them.
What Colab has and the course accepts stays as it is (transformers 5.15, peft, accelerate), so
the course must also run on those versions, not only on constraints.txt's.
"""

import importlib.metadata as metadata
import os
import re
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
# What Colab has at other versions than constraints.txt and the course imports.
COLAB_TESTED = ["ipywidgets", "transformers", "tokenizers", "peft", "accelerate"]
# The widgets, what reads the model's outputs (held-out metrics, TRL's labels), and the
# checks of every exercise on its solution (what a learner on Colab runs).
ON_COLAB = ["tests/evaluation/test_review.py", "tests/masking/test_view.py",
            "tests/test_display.py", "tests/training/test_held_out.py",
            "tests/masking/test_trl_agreement.py", "tests/training/test_with_trl.py",
            "tests/grading/test_evaluate.py"]

# Lesson 05 section 7: transformers' pipeline asks a saved run in its template (a slow test).
PIPELINE = ("tests/training/test_runner.py::"
            "test_a_saved_run_is_asked_by_transformers_pipeline_as_it_was_tuned")


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


def on_colabs_packages(*command: str) -> subprocess.CompletedProcess:
    """Run `python COMMAND` with Colab's versions in front of the venv's (make setup puts
    them in .venv/colab): its ipywidgets 7.7, transformers, peft, accelerate."""
    target = Path(sys.prefix) / "colab"
    colab = colab_versions()
    missing = [f"{name} {colab[name]}" for name in COLAB_TESTED
               if not (target / f"{name.replace('-', '_')}-{colab[name]}.dist-info").is_dir()]
    assert not missing, f"{target} lacks Colab's {', '.join(missing)}: run `make setup`"
    env = {**os.environ, "PYTHONPATH": str(target)}
    return subprocess.run([sys.executable, "-W", "ignore::DeprecationWarning", *command],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def test_the_widgets_metrics_and_checks_work_on_colabs_packages():
    which = on_colabs_packages("-c", "import ipywidgets, transformers; "
                               "print(ipywidgets.__version__, transformers.__version__)")
    colab = colab_versions()
    assert which.stdout.split() == [colab["ipywidgets"], colab["transformers"]], which.stderr
    run = on_colabs_packages("-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
                             "-m", "not slow", *ON_COLAB)
    assert run.returncode == 0 and " passed" in run.stdout, run.stdout[-3000:]


def test_a_saved_run_is_asked_through_pipeline_on_colabs_packages():
    run = on_colabs_packages("-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
                             PIPELINE)
    assert run.returncode == 0 and "1 passed" in run.stdout, run.stdout[-3000:]


def test_the_whole_path_runs_on_colabs_packages():
    # smoke_check: measure the base model, fine-tune it with the recipe, measure again.
    run = on_colabs_packages("-c", "from course_lib.colab import smoke_check; "
                             "smoke_check('tiny', steps=3, batch_size=4, limit=12)")
    printed = dict(re.findall(r"^(\w+): (.+)$", run.stdout, flags=re.M))
    assert run.returncode == 0, run.stderr[-3000:]
    assert printed["steps"] == "3" and printed["exact_match"].startswith("0/12")
    # Colab's transformers reads logits_to_keep as positions: the plain loss, said so.
    assert printed["fast_path"].startswith("not used: LlamaForCausalLM in transformers 5.15")
