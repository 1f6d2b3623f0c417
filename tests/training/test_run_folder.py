"""A run's folder: saved whole and never written over, and a resumed run that draws the same
curve as one never interrupted."""

import pytest
import torch
from transformers import AutoModelForCausalLM, TrainerCallback

from course_lib.errors import CourseError
from course_lib.training import runner
from course_lib.training.history import RunHistory
from course_lib.training.runner import train

pytestmark = pytest.mark.slow
# One thread: as fast for the toy model, and immune to other programs keeping cores busy.
QUIET = {"progress": False, "verbose": False, "num_threads": 1}


class StopAt(TrainerCallback):
    """Simulates an interrupted run: stop after `step` steps."""

    def __init__(self, step):
        self.step = step

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step >= self.step:
            control.should_training_stop = True


def test_interrupted_run_resumes_to_the_same_curve(toy_model_dir, records, eval_records, tmp_path,
                                                   monkeypatch):
    common = dict(max_steps=8, save_every=4, eval_every=2, batch_size=16, **QUIET)
    whole = train(toy_model_dir, records, eval_records, out_dir=tmp_path / "a", **common).history
    part = train(
        toy_model_dir,
        records,
        eval_records,
        out_dir=tmp_path / "b",
        callbacks=[StopAt(4)],
        **common,
    ).history
    assert part.steps_done == 4
    with monkeypatch.context() as m, pytest.raises(CourseError) as other:
        # Half one recipe, half another: refused, before the model and data load (was after).
        m.setattr(runner, "_load", lambda *_: pytest.fail("loaded before the refusal"))
        train(toy_model_dir, records, eval_records, out_dir=tmp_path / "b", resume=True,
              **{**common, "masking": "none", "learning_rate": 0.1})
    assert "which trained with masking='response', learning_rate=0.002; give the same" in str(
        other.value)
    assert "which trained with --masking response --lr 0.002; give the same" in other.value.cli
    # Other steps: the rate falls to 0 over the steps, so 16 would change the rest of its curve.
    with pytest.raises(CourseError) as longer:
        train(toy_model_dir, records, eval_records, out_dir=tmp_path / "b", resume=True,
              **{**common, "max_steps": 16})
    assert "which trained with --steps 8; give the same" in longer.value.cli
    with pytest.raises(CourseError, match=r"which trained with data='.*'; give the same"):
        train(toy_model_dir, records[:-1], eval_records, out_dir=tmp_path / "b", resume=True,
              **common)  # known only once the data is read: refused then
    resumed = train(
        toy_model_dir, records, eval_records, out_dir=tmp_path / "b", resume=True, **common
    ).history
    assert resumed.steps_done == 8
    # A finished run resumed, with fewer steps or more: refused, its record left as it was. More
    # steps restarted the rate's fall part way (0 at step 8, then up again), unrecorded.
    record = (tmp_path / "b" / "history.json").read_text()
    for steps in (4, 16):
        with pytest.raises(CourseError) as finished:
            train(toy_model_dir, records, eval_records, out_dir=tmp_path / "b", resume=True,
                  **{**common, "max_steps": steps})
        assert finished.value.cli == (
            f"The run in '{tmp_path / 'b'}' finished its 8 steps, and --resume only continues an "
            f"interrupted run; to train it further, start a new run from it: course train "
            f"--model {tmp_path / 'b'} --out NEW_FOLDER (and your other flags).")
        assert (tmp_path / "b" / "history.json").read_text() == record
    assert resumed.train_steps == whole.train_steps
    assert resumed.train_loss == pytest.approx(whole.train_loss, rel=1e-6)
    assert resumed.eval_steps == whole.eval_steps
    assert resumed.eval_loss == pytest.approx(whole.eval_loss, rel=1e-6)


def test_run_folder_is_saved_and_never_overwritten(toy_model_dir, records, tmp_path, capfd):
    out = tmp_path / "run"
    result = train(toy_model_dir, records, None, max_steps=2, out_dir=out, **QUIET)
    # A quiet run draws no bar of its own for saving (a notebook showed one per run).
    assert "Writing model shards" not in capfd.readouterr().err
    for name in ("config.json", "history.json", "loss.png", "tokenizer.json"):
        assert (out / name).is_file(), name
    assert RunHistory.load(out).train_loss == result.history.train_loss
    # A cell ending in train(...) shows one line, not the model's whole repr.
    assert repr(result) == (f"TrainResult({result.history.summary()}, saved in {out}; see "
                            f".model, .tokenizer, .history)") and "\n" not in repr(result)
    reloaded = AutoModelForCausalLM.from_pretrained(out)
    assert torch.equal(reloaded.model.embed_tokens.weight, result.model.model.embed_tokens.weight)
    with pytest.raises(CourseError, match="never overwrites"):
        train(toy_model_dir, records, None, max_steps=2, out_dir=out, **QUIET)
    (tmp_path / "afile").write_text("")
    for under_a_file in (tmp_path / "afile", tmp_path / "afile" / "sub"):  # before any work
        with pytest.raises(CourseError, match=r"'.*afile' is a file, so the output folder"):
            train(toy_model_dir, records, None, max_steps=2, out_dir=under_a_file, **QUIET)
    with pytest.raises(CourseError, match="No checkpoint to resume"):
        train(
            toy_model_dir,
            records,
            None,
            max_steps=2,
            out_dir=tmp_path / "new",
            resume=True,
            **QUIET,
        )
    (tmp_path / "mine").mkdir()  # a folder of someone's files: "train without --resume" was
    (tmp_path / "mine" / "notes.txt").write_text("")  # advised, then refused as not empty
    with pytest.raises(CourseError) as err:
        train(toy_model_dir, records, None, max_steps=2, out_dir=tmp_path / "mine", resume=True,
              **QUIET)
    assert err.value.cli == (f"'{tmp_path / 'mine'}' holds no checkpoint to resume but other "
                             f"files, so no run can start there either; give the interrupted "
                             f"run's folder with --resume, or a new folder without it.")
