"""Ctrl-C (a notebook's stop button) in the middle of train(): what is kept, what to run next,
and that the next call continues or starts over instead of reading a half-written file."""

import json
import tempfile
from pathlib import Path

import pytest
from transformers import TrainerCallback

from course_lib import cli
from course_lib.cli import main
from course_lib.errors import CourseError
from course_lib.evaluation import report
from course_lib.training import run_cache, run_folder, runner
from course_lib.training.run_folder import RunInterrupted
from course_lib.training.runner import train
from course_lib.training.trainer import CourseTrainer
from course_lib.world import tuning_data

pytestmark = pytest.mark.slow
QUIET = {"progress": False, "verbose": False, "num_threads": 1}
COMMON = dict(max_steps=8, save_every=4, eval_every=2, batch_size=16, **QUIET)


class CtrlCAt(TrainerCallback):
    """The stop button pressed once step `step` is done."""

    def __init__(self, step: int):
        self.step = step

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            raise KeyboardInterrupt


def test_after_a_checkpoint_it_says_which_and_resume_continues(toy_model_dir, records,
                                                               eval_records, tmp_path):
    out = tmp_path / "run"
    with pytest.raises(RunInterrupted) as stop:
        train(toy_model_dir, records, eval_records, out_dir=out, callbacks=[CtrlCAt(6)], **COMMON)
    assert isinstance(stop.value, KeyboardInterrupt)  # a notebook still sees its interrupt
    assert str(stop.value).startswith("Interrupted at step 6 of 8; the checkpoint of step 4 is "
                                      "kept in ")
    assert "resume=True" in str(stop.value) and "--resume" in stop.value.cli
    assert train(toy_model_dir, records, eval_records, out_dir=out, resume=True,
                 **COMMON).history.steps_done == 8


def test_before_the_first_checkpoint_the_same_call_starts_over(toy_model_dir, records, tmp_path):
    out = tmp_path / "run"
    with pytest.raises(RunInterrupted,
                       match="step 2 of 8; no checkpoint was kept, so run it again to start over"):
        train(toy_model_dir, records, None, out_dir=out, callbacks=[CtrlCAt(2)], **COMMON)
    # Nothing to resume: said so, and the call without resume may use the folder again (it
    # was refused as "not empty", while resume=True said to train without it: a dead end).
    with pytest.raises(CourseError, match="train without resume=True to start the run"):
        train(toy_model_dir, records, None, out_dir=out, resume=True, **COMMON)
    assert train(toy_model_dir, records, None, out_dir=out, **COMMON).history.steps_done == 8


def test_a_checkpoint_cut_short_is_not_resumed(toy_model_dir, records, eval_records, tmp_path,
                                               monkeypatch):
    whole = train(toy_model_dir, records, eval_records, **COMMON).history
    out = tmp_path / "run"
    save = CourseTrainer._save_optimizer_and_scheduler

    def cut_at_step_8(self, output_dir):  # the model of checkpoint-8 is written, no more
        if output_dir.endswith("checkpoint-8"):
            raise KeyboardInterrupt
        save(self, output_dir)

    monkeypatch.setattr(CourseTrainer, "_save_optimizer_and_scheduler", cut_at_step_8)
    with pytest.raises(RunInterrupted, match="the checkpoint of step 4 is kept"):
        train(toy_model_dir, records, eval_records, out_dir=out, **COMMON)
    monkeypatch.undo()
    # Resumed, the cut checkpoint was a FileNotFoundError from inside the Trainer.
    resumed = train(toy_model_dir, records, eval_records, out_dir=out, resume=True,
                    **COMMON).history
    assert resumed.train_steps == whole.train_steps
    assert resumed.train_loss == pytest.approx(whole.train_loss, rel=1e-6)


def test_a_final_save_cut_short_leaves_no_model_to_load(toy_model_dir, records, tmp_path,
                                                        monkeypatch):
    out = tmp_path / "run"

    def stop(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "plot_history", stop)  # after the model and tokenizer
    with pytest.raises(RunInterrupted, match="the checkpoint of step 8 is kept"):
        train(toy_model_dir, records, None, out_dir=out, **COMMON)
    monkeypatch.undo()
    assert sorted(p.name for p in out.iterdir()) == ["checkpoints"]  # not a model folder yet
    train(toy_model_dir, records, None, out_dir=out, resume=True, **COMMON)
    assert {"config.json", "model.safetensors", "history.json", "loss.png"} <= {
        p.name for p in out.iterdir()}
    assert not (out / ".saving").exists()


def test_without_out_dir_no_temporary_folder_is_left(toy_model_dir, records, tmp_path,
                                                     monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pytest.raises(RunInterrupted, match="no checkpoint was kept, so run it again"):
        train(toy_model_dir, records, None, callbacks=[CtrlCAt(2)], **COMMON)
    assert list(tmp_path.iterdir()) == []


def test_the_command_says_it_in_one_line(toy_model_dir, tmp_path, capsys, monkeypatch):
    step = CourseTrainer.training_step

    def ctrl_c_at_step_3(self, *args, **kwargs):
        if self.state.global_step == 2:
            raise KeyboardInterrupt
        return step(self, *args, **kwargs)

    monkeypatch.setattr(CourseTrainer, "training_step", ctrl_c_at_step_3)
    out = tmp_path / "run"
    code = main(["train", "--model", str(toy_model_dir), "--steps", "8", "--eval-data", "none",
                 "--batch-size", "4", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 130
    # On a line of its own: the progress bar's line is ended first, not written after it.
    assert err.endswith("]\nInterrupted at step 2 of 8; the checkpoint of step 2 is kept in "
                        f"'{out / 'checkpoints'}': run the same command with --resume to "
                        f"continue from it.\n"), err[-400:]


def test_an_interrupted_demo_is_not_told_to_resume(toy_model_dir, tmp_path, capsys, monkeypatch):
    def ctrl_c(self, *args, **kwargs):  # in the first fine-tune, after its first checkpoint
        if self.state.global_step == 3:
            raise KeyboardInterrupt
        return step(self, *args, **kwargs)

    step = CourseTrainer.training_step
    monkeypatch.setattr(CourseTrainer, "training_step", ctrl_c)
    code = main(["demo", "--model", str(toy_model_dir), "--steps", "8", "--prompts", "1",
                 "--quiet", "--out", str(tmp_path / "demo")])
    assert code == 130  # `course demo` has no --resume: train()'s advice is not for it
    assert capsys.readouterr().err.splitlines()[-1] == (
        "interrupted: run `course demo` again: without --out it starts in a fresh folder.")


def test_a_build_cut_short_leaves_no_file_in_out(tmp_path, capsys, monkeypatch):
    def half_then_ctrl_c(folder, seed=0):
        (folder / "train.jsonl").write_text('{"instruction": "What is 2+2?", "resp')
        raise KeyboardInterrupt

    monkeypatch.setattr(tuning_data, "write_tuning_data", half_then_ctrl_c)
    out = tmp_path / "data"
    assert main(["build-tuning-data", "--out", str(out)]) == 130
    assert not out.exists() and list(tmp_path.iterdir()) == []  # no .partial folder either
    assert capsys.readouterr().err == (f"interrupted: nothing was written to '{out}'; run the "
                                       f"same command again.\n")


def test_an_eval_cut_short_writes_no_figure_cut_short(tmp_path, capsys, monkeypatch):
    class Report:  # what evaluate() returns, with a figure whose save is interrupted
        def to_dict(self, answers=False):
            return {"models": ["tiny"]}

        def to_figure(self):
            return self

        def savefig(self, path, dpi):
            Path(path).write_bytes(b"\x89PNG cut")
            raise KeyboardInterrupt

    monkeypatch.setattr(report, "evaluate", lambda *args, **kwargs: Report())
    out = tmp_path / "eval"
    assert main(["eval", "tiny", "--limit", "1", "--out", str(out)]) == 130
    assert sorted(p.name for p in out.iterdir()) == ["report.json"]  # whole, and no eval.png
    assert json.loads((out / "report.json").read_text()) == {"models": ["tiny"]}
    assert capsys.readouterr().err.endswith("interrupted: run the same command again (with "
                                            "--force if its --out now holds files).\n")


def test_a_cached_run_killed_midway_leaves_no_folder_behind(toy_model_dir, records, tmp_path):
    settings = dict(data=records, eval_data=None, max_steps=2, progress=False, verbose=False)
    entry = run_cache._name(run_cache.run_key(str(toy_model_dir), settings))
    killed = tmp_path / f"{entry}.4242.partial"  # what a process killed while training left
    (killed / "checkpoints").mkdir(parents=True)
    folder = run_cache.trained_once(str(toy_model_dir), cache_dir=tmp_path, **settings)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".locks", Path(folder).name]


def test_a_ctrl_c_while_the_libraries_load_is_one_line(tmp_path, capsys, monkeypatch):
    def importing_transformers():  # the first second of every command
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_quiet_libraries", importing_transformers)
    assert main(["train", "--out", str(tmp_path / "run")]) == 130  # not a traceback
    assert capsys.readouterr().err.startswith("interrupted: ")


def test_every_process_of_a_run_resumes_from_the_same_checkpoint(toy_model_dir, records,
                                                                  tmp_path, monkeypatch):
    out = tmp_path / "run"
    with pytest.raises(RunInterrupted):
        train(toy_model_dir, records, None, out_dir=out, callbacks=[CtrlCAt(6)], **COMMON)

    class Started(Exception):
        pass

    def run(trainer, frozen, **kwargs):
        raise Started(kwargs["resume_from"])

    # Process 1 of `course train --processes 2 --resume`: it started again from step 0, so
    # the processes trained different steps, and process 1 failed once process 0 was done.
    for module in (runner, run_folder):  # what it prints, and the folder it prepares
        monkeypatch.setattr(module, "is_main_process", lambda: False)
    monkeypatch.setattr(runner, "run", run)
    with pytest.raises(Started) as started:
        train(toy_model_dir, records, None, out_dir=out, resume=True, **COMMON)
    assert started.value.args[0] == str(out / "checkpoints" / "checkpoint-4")


def test_your_interrupted_run_is_said_not_used(toy_model_dir, records, tmp_path, capsys):
    yours = tmp_path / "runs" / "masked"
    with pytest.raises(RunInterrupted):
        train(toy_model_dir, records, None, out_dir=yours, callbacks=[CtrlCAt(6)], **COMMON)
    run_cache.trained_once(str(toy_model_dir), cache_dir=tmp_path / "cache", yours=yours,
                           data=records, eval_data=None, max_steps=2, progress=False,
                           verbose=False)
    assert (f"{yours} is a run that did not finish (no history.json): not used here; finish it "
            f"with `course train --out {yours} --resume`") in capsys.readouterr().out
