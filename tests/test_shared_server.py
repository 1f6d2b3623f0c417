"""A class on a shared server or in containers: a JupyterHub pod or `docker --cpus=2
--memory=4g` limits a learner by cgroup quotas that the host's core count and memory do not
show. The course reads them (cgroups.cgroup_cpu_limit, cgroups.cgroup_memory_limit) and chooses and
reports by them."""

import errno
import os
from pathlib import Path

import pytest

from course_lib import cgroups, cli, env
from course_lib.errors import CourseError
from course_lib.training.runner import train


@pytest.fixture
def pod(tmp_path, monkeypatch):
    """A cgroup v2 mount of our own: write cpu.max or memory.max in the folder it gives."""
    (tmp_path / "own").write_text("0::/\n")
    monkeypatch.setattr(cgroups, "CGROUP_ROOT", tmp_path)
    monkeypatch.setattr(cgroups, "OWN_CGROUPS", tmp_path / "own")
    return tmp_path


def test_a_cpu_run_past_the_container_s_memory_limit_turns_checkpointing_on(pod, capsys):
    # Past a cgroup's limit the kernel kills the process: no error, the notebook's kernel dies.
    (pod / "memory.max").write_text("1000000\n")  # 1 MB: less than any run needs
    run = train("tiny", max_steps=1, eval_data=None, progress=False, num_threads=1)
    assert run.history.gradient_checkpointing
    out = capsys.readouterr().out
    assert "more than 90% of this container's memory limit of 0.0 GB" in out
    # Even with checkpointing it does not fit: said before the kernel kills it.
    assert "warning: even with it, the training step needs" in out and "a smaller batch" in out
    (pod / "memory.max").write_text("max\n")
    assert not train("tiny", max_steps=1, eval_data=None, progress=False, verbose=False,
                     num_threads=1).history.gradient_checkpointing


def doctor_rows(capsys) -> dict[str, str]:
    assert cli.main(["doctor"]) == 0
    return dict(line.split(None, 1) for line in capsys.readouterr().out.splitlines())


def test_doctor_reports_the_quota_and_limit_a_learner_has_and_warns_below_the_lessons(
        pod, capsys, monkeypatch):
    monkeypatch.setattr(env.os, "sched_getaffinity", lambda pid: set(range(64)), raising=False)
    (pod / "cpu.max").write_text("100000 100000\n")  # a pod's limits: cpu 1, memory 1 GiB
    (pod / "memory.max").write_text(f"{2**30}\n")
    rows = doctor_rows(capsys)
    assert rows["cpus"].startswith("1 (a cgroup CPU quota of 1;")
    assert "timed on 2 cores" in rows["cpus"]
    assert rows["memory"].startswith("1.1 GB (a cgroup limit;") and "COURSE_WORKERS=1" in (
        rows["memory"])
    (pod / "cpu.max").write_text("400000 100000\n")  # 4 CPUs and 4 GiB: enough, no warning
    (pod / "memory.max").write_text(f"{4 * 2**30}\n")
    rows = doctor_rows(capsys)
    assert rows["cpus"].startswith("4 (a cgroup") and ":" not in rows["cpus"].split(")")[-1]
    assert rows["memory"].endswith("GB)")


def test_a_run_into_a_folder_that_cannot_be_written_says_where_to_point_it(tmp_path,
                                                                            monkeypatch):
    # A teacher's read-only course folder: `course train --out` there ended in a traceback
    # (OSError: [Errno 30] Read-only file system, from keep_settings).
    out = tmp_path / "course" / "runs" / "mine"
    mkdir = Path.mkdir

    def read_only(path, *args, **kwargs):
        if path.is_relative_to(tmp_path / "course"):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return mkdir(path, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", read_only)
    with pytest.raises(CourseError, match="out_dir=") as caught:
        train("tiny", max_steps=1, eval_data=None, out_dir=out, verbose=False, progress=False)
    assert str(out) in str(caught.value) and "Read-only file system" in str(caught.value)
    assert "--out" in caught.value.cli


def test_the_cli_keeps_torch_s_default_threads_within_a_cpu_quota(pod, monkeypatch, capsys):
    # Torch counts the host's cores: eval and ask computed with 64 threads in a 2-CPU pod.
    monkeypatch.setattr(env.os, "sched_getaffinity", lambda pid: set(range(64)), raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    (pod / "cpu.max").write_text("200000 100000\n")
    assert cli.main(["doctor"]) == 0
    assert os.environ["OMP_NUM_THREADS"] == "2"
    monkeypatch.setenv("OMP_NUM_THREADS", "3")  # the user's own setting stays
    assert cli.main(["doctor"]) == 0 and os.environ["OMP_NUM_THREADS"] == "3"
    monkeypatch.delenv("OMP_NUM_THREADS")
    (pod / "cpu.max").write_text("max 100000\n")  # no quota (a laptop): torch's own default
    assert cli.main(["doctor"]) == 0 and "OMP_NUM_THREADS" not in os.environ
