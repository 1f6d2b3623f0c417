"""How many CPU threads training uses: chosen in one place (env.choose_threads) and said."""

import pytest
import torch

from course_lib import env
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
