"""benchmarks/lessons_real_shape.py: the injected cell sets MODEL, caps training and generation."""

import json
import os
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from lessons_real_shape import run_lesson  # noqa: E402

FIRST = 'MODEL = "tiny"\nfrom course_lib.colab import lesson_setup\nlesson = lesson_setup(MODEL)'
CHECKS = '''
import tempfile
from trl import SFTConfig
from course_lib.training.loop_by_hand import train_by_hand
from course_lib.training.runner import train
from course_lib.loading import load_model_and_tokenizer
assert MODEL == {model!r}, MODEL
cpu = dict(use_cpu=True, bf16=False)
assert SFTConfig(output_dir=tempfile.mkdtemp(), max_steps=40, **cpu).max_steps == 2
assert train(MODEL, max_steps=50, eval_data=None, progress=False).history.steps_done == 2
model, tokenizer = load_model_and_tokenizer(MODEL)
records = [{{"instruction": "What is 2+2?", "response": "4"}}] * 4
assert len(train_by_hand(model, tokenizer, records, steps=40, batch_size=2)) == 2
ids = tokenizer("What is", return_tensors="pt")
out = model.generate(**ids, max_new_tokens=20, min_new_tokens=20)
assert out.shape[1] - ids["input_ids"].shape[1] == 3, out.shape
'''


def test_the_injected_cell_sets_model_and_caps_training(tmp_path, toy_model_dir, monkeypatch):
    monkeypatch.setenv("COURSE_MAX_STEPS", "2")
    monkeypatch.setenv("COURSE_MAX_NEW_TOKENS", "3")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(FIRST),
                nbformat.v4.new_code_cell(CHECKS.format(model=str(toy_model_dir)))]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path = tmp_path / "01_check.ipynb"
    nbformat.write(nb, path)
    saved = tmp_path / "executed"
    assert run_lesson(path, str(toy_model_dir), timeout=300, save=saved) > 0  # raises on failure
    # --save: the executed notebook with its outputs, to read what each cell showed.
    cells = nbformat.read(saved / path.name, as_version=4).cells
    assert "every training run stops after 2 steps" in cells[1].outputs[-1]["text"]


def test_keep_going_reports_a_failed_lesson_and_runs_the_next(toy_model_dir, monkeypatch, capsys):
    import lessons_real_shape

    def fake_run(path, model, timeout, save=None):
        if path.name.startswith("01"):
            raise RuntimeError("\x1b[31mCourseError\x1b[39m: no such thing")
        return 1.5

    monkeypatch.setattr(lessons_real_shape, "run_lesson", fake_run)
    # main() sets COURSE_MAX_STEPS and others for the lessons' kernels: not for later tests.
    monkeypatch.setattr(os, "environ", os.environ.copy())
    args = ["--lesson", "01", "--lesson", "02", "--model", str(toy_model_dir), "--layers", "7"]
    assert lessons_real_shape.main([*args, "--keep-going"]) == 1
    out = capsys.readouterr().out
    assert "lesson_01_failed: CourseError: no such thing" in out  # colours taken out
    assert "lesson_02_seconds: 1.5" in out and "lessons_failed: 01" in out
    layers = json.loads((toy_model_dir / "config.json").read_text())["num_hidden_layers"]
    assert layers != 7 and f"settings: {layers} layers" in out  # the folder's, not --layers
    with pytest.raises(RuntimeError):  # without it, the first failure stops the run
        lessons_real_shape.main(args)
