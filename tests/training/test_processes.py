"""`course train --processes 2`: two gloo processes through torchrun, one curve.

Two processes with 8 examples each per step must train like one process with 16: the Trainer
gives each process its share of the same seeded permutation, and CourseTrainer scales the
loss by the number of processes, as the Trainer does, so that DDP's average of the gradients
is the gradient of the global mean. Tolerance reached: the losses agree to 1e-6 (relative);
the test allows 1e-5 for the order in which floats are summed.
"""

import json
import os

import pytest

from course_lib import cli
from course_lib.cli import train as cli_train
from course_lib.training.history import RunHistory
from course_lib.training.settings import RECIPE

STEPS = 6


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """96 records: 6 steps of 16 are one epoch with no short last batch. (With a short one,
    the processes' shares are evened up by repeating the first examples, so it differs.)"""
    root = tmp_path_factory.mktemp("ddp-data")
    rows = [{"instruction": f"What is {a}+{b}?", "response": str(a + b)}
            for a in range(10) for b in range(10)]
    train, held_out = root / "train.jsonl", root / "eval.jsonl"
    train.write_text("".join(json.dumps(r) + "\n" for r in rows[:96]), encoding="utf-8")
    held_out.write_text("".join(json.dumps(r) + "\n" for r in rows[96:]), encoding="utf-8")
    return train, held_out


def course_train(model_dir, data, out, *extra) -> RunHistory:
    train, held_out = data
    code = cli.main([str(a) for a in (
        "train", "--model", model_dir, "--data", train, "--eval-data", held_out,
        "--steps", STEPS, "--eval-every", 3, "--quiet", "--threads", 1, "--out", out, *extra)])
    assert code == 0
    return RunHistory.load(out)


@pytest.mark.slow
def test_two_processes_of_8_train_like_one_process_of_16(toy_model_dir, data, tmp_path):
    one = course_train(toy_model_dir, data, tmp_path / "one", "--batch-size", 16)
    two = course_train(toy_model_dir, data, tmp_path / "two", "--batch-size", 8,
                       "--processes", 2)
    assert (one.world_size, two.world_size) == (1, 2)  # two processes really trained
    assert one.freeze == two.freeze == list(RECIPE.freeze)  # course train's default recipe
    assert len(two.train_loss) == STEPS
    assert two.train_loss == pytest.approx(one.train_loss, rel=1e-5)
    # The held-out curve is measured once per step, by the main process only.
    assert two.eval_steps == one.eval_steps == [0, 3, 6]
    assert two.eval_loss == pytest.approx(one.eval_loss, rel=1e-5)
    assert sorted(p.name for p in (tmp_path / "two").glob("*.json*")) == sorted(
        p.name for p in (tmp_path / "one").glob("*.json*"))


def fake_torchrun(out, world_size: int, launched: list):
    """subprocess.Popen as launch_processes uses it, without launching: it records the command
    and the COURSE_DEVICE its processes would inherit, and leaves a history saying world_size."""
    class Launch:
        def __init__(self, command, **kwargs):
            launched.append((command, os.environ.get("COURSE_DEVICE")))
            out.mkdir()
            RunHistory(world_size=world_size).save(out)
            self.stdout, self.returncode = iter(["trained\n"]), 0

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    return Launch


def test_a_launch_that_started_fewer_processes_is_an_error(
        toy_model_dir, data, tmp_path, monkeypatch, capsys):
    """What `accelerate launch --cpu --num_processes 2` does without a MULTI_CPU config: one
    process trains alone. The launcher's run is faked here; its history says world_size 1."""
    out, launched = tmp_path / "run", []
    monkeypatch.setattr(cli_train.subprocess, "Popen", fake_torchrun(out, 1, launched))
    code = cli.main(["train", "--model", str(toy_model_dir), "--processes", "2",
                     "--out", str(out)])
    (command, _), = launched
    assert command[:4] == [cli_train.sys.executable, "-m", "torch.distributed.run", "--standalone"]
    assert "--nproc_per_node=2" in command
    err = capsys.readouterr().err
    assert code == 2 and "error: --processes 2 was asked for but 1 trained together" in err


def test_more_processes_than_gpus_is_an_error_that_offers_the_cpu(
        toy_model_dir, tmp_path, monkeypatch, capsys):
    """One GPU (Colab's): torchrun would give the second process cuda:1, which is not there."""
    monkeypatch.setattr("torch.cuda.device_count", lambda: 1)
    monkeypatch.setattr(cli_train.subprocess, "Popen", lambda *a, **k: pytest.fail("launched"))
    code = cli.main(["train", "--model", str(toy_model_dir), "--processes", "2",
                     "--out", str(tmp_path / "run")])
    assert code == 2
    assert ("--processes 2 starts one process per GPU, but this machine has 1; use --processes "
            "1, or add --cpu to train 2 processes on the CPU.") in capsys.readouterr().err


def test_cpu_launches_the_processes_on_the_cpu_beside_a_gpu(toy_model_dir, tmp_path,
                                                            monkeypatch):
    monkeypatch.setattr("torch.cuda.device_count", lambda: 1)
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    out, launched = tmp_path / "run", []
    monkeypatch.setattr(cli_train.subprocess, "Popen", fake_torchrun(out, 2, launched))
    code = cli.main(["train", "--model", str(toy_model_dir), "--processes", "2", "--cpu",
                     "--out", str(out)])
    (command, device), = launched
    assert code == 0 and device == "cpu" and "--cpu" in command
    assert "COURSE_DEVICE" not in os.environ  # the caller's (a notebook's) GPU is its again


@pytest.mark.slow
def test_course_max_steps_caps_every_process(toy_model_dir, data, tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_MAX_STEPS", "2")  # inherited by the launched processes
    one = course_train(toy_model_dir, data, tmp_path / "one", "--batch-size", 16)
    two = course_train(toy_model_dir, data, tmp_path / "two", "--batch-size", 8,
                       "--processes", 2)
    assert one.steps_done == two.steps_done == 2
    assert two.train_loss == pytest.approx(one.train_loss, rel=1e-5)
