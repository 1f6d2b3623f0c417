"""How many CPU threads training uses: chosen in one place (env.choose_threads) and said."""

import pytest
import torch

from course_lib import cgroups, env
from course_lib.colab import lesson_setup
from course_lib.env import choose_threads


@pytest.fixture
def restore_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("cores, expected", [(1, 1), (2, 2), (16, 4)])
def test_a_large_model_takes_up_to_four_cores(monkeypatch, cores, expected):
    monkeypatch.setattr(env, "cpu_cores", lambda: cores)
    choice = choose_threads(small_model=False)
    assert choice.count == expected and f"of {cores} cores" in choice.reason


def test_a_small_model_takes_one_thread_and_asking_wins(monkeypatch):
    monkeypatch.setattr(env, "cpu_cores", lambda: 16)
    assert choose_threads(small_model=True).count == 1
    assert choose_threads(small_model=True, asked=3).count == 3
    assert choose_threads(small_model=False, device="cuda").count == torch.get_num_threads()


def test_lesson_setup_says_and_applies_its_choice(capsys, restore_threads, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    torch.set_num_threads(2)
    context = lesson_setup("tiny")
    out = capsys.readouterr().out
    assert context.threads.count == 1 == torch.get_num_threads()
    assert "threads: 1 - one of" in out.splitlines()[1]  # right under the device line


def test_lesson_setup_notes_a_pod_s_quota_and_limit_below_the_lessons(
        capsys, restore_threads, monkeypatch, tmp_path):
    # A JupyterHub pod limited to 1 CPU and 1 GiB on a 64-core node: said in the first cell.
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    monkeypatch.setattr(env.os, "sched_getaffinity", lambda pid: set(range(64)), raising=False)
    (tmp_path / "cpu.max").write_text("100000 100000\n")
    (tmp_path / "memory.max").write_text(f"{2**30}\n")
    (tmp_path / "own").write_text("0::/\n")
    monkeypatch.setattr(cgroups, "CGROUP_ROOT", tmp_path)
    monkeypatch.setattr(cgroups, "OWN_CGROUPS", tmp_path / "own")
    lesson_setup("smollm2-135m")
    notes = [line for line in capsys.readouterr().out.splitlines() if line.startswith("note:")]
    assert len(notes) == 2 and "timed on 2 cores" in notes[0] and "1.1 GB" in notes[1]
    assert torch.get_num_threads() == 1  # a larger model: one thread per CPU of the quota
    for name in ("cpu.max", "memory.max"):
        (tmp_path / name).write_text("max\n")
    lesson_setup("tiny")
    assert "note:" not in capsys.readouterr().out  # no quota, no limit: as before
