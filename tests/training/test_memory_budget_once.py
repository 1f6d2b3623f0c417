"""One memory budget: what `course doctor` says this process may hold is the figure training
plans by (memory_budget on a CPU: gradient checkpointing, the experiments' worker count),
with a container's limit and without one. env._memory worked it out on its own."""

from types import SimpleNamespace

import psutil
import pytest

from course_lib import cgroups, env
from course_lib.training.memory import memory_budget

MACHINE = SimpleNamespace(total=16 * 10**9, available=5 * 10**9)  # 16 GB, 5 GB of it free


@pytest.mark.parametrize("limit", [3 * 2**30, None], ids=["a pod's 3 GiB", "no limit"])
def test_doctor_says_the_memory_training_plans_by(tmp_path, monkeypatch, limit):
    (tmp_path / "own").write_text("0::/\n")  # a cgroup v2 mount of our own
    (tmp_path / "memory.max").write_text(f"{limit}\n" if limit else "max\n")
    monkeypatch.setattr(cgroups, "CGROUP_ROOT", tmp_path)
    monkeypatch.setattr(cgroups, "OWN_CGROUPS", tmp_path / "own")
    monkeypatch.setattr(psutil, "virtual_memory", lambda: MACHINE)
    budget, whose = memory_budget("cpu")
    said = env.memory_line()
    assert said.startswith(f"{budget / 1e9:.1f} GB"), f"doctor: {said!r}; training: {whose!r}"
    assert budget == (limit or MACHINE.total)  # 3.2 GB, 16.0 GB
