"""Helper processes train an experiment's runs side by side: the same runs, named the same,
with the same numbers; how many; and a failing helper is reported, never costs a result."""

import json
import time
from contextlib import contextmanager

import pytest

from course_lib import cgroups, env
from course_lib.errors import CourseError
from course_lib.experiments import helper, runner, side_by_side
from course_lib.experiments.runner import run_experiment, run_job
from course_lib.experiments.side_by_side import choose_workers, helper_spec, helpers
from course_lib.loading import preset_config

STEPS = 2


def _spec(experiment, model_dir, cache_dir, seeds=(0, 1)):
    return helper_spec(experiment, list(experiment.arms), list(seeds), STEPS, str(model_dir),
                       cache_dir, None)


def _paths(experiment, model_dir, cache_dir, seeds=(0, 1)):
    return [run_job(experiment, arm, seed, STEPS, str(model_dir), cache_dir, None, False)[0]
            for arm in experiment.arms for seed in seeds]


def test_a_helper_trains_the_runs_the_caller_would_under_the_same_names(
        experiment, toy_model_dir, tmp_path):
    shared, alone = tmp_path / "shared", tmp_path / "alone"
    spec = _spec(experiment, toy_model_dir, shared)
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    assert helper.main([str(tmp_path / "spec.json")]) == 0  # in this process: deterministic
    assert all(p.is_file() for p in _paths(experiment, toy_model_dir, shared))
    read = run_experiment(experiment, seeds=2, steps=STEPS, model=str(toy_model_dir),
                          cache_dir=shared, workers=1, progress=False)
    assert read.cached_runs == 4  # every run found under the name the caller gives it
    trained = run_experiment(experiment, seeds=2, steps=STEPS, model=str(toy_model_dir),
                             cache_dir=alone, workers=1, progress=False)
    for arm in experiment.arms:
        assert ([(r.rows, r.statements) for r in read.runs[arm.name]]
                == [(r.rows, r.statements) for r in trained.runs[arm.name]])


def test_a_helper_leaves_a_problem_to_the_caller_to_say_once(
        experiment, toy_model_dir, tmp_path, capsys):
    (tmp_path / "spec.json").write_text(json.dumps(_spec(experiment, toy_model_dir, tmp_path)))
    _paths(experiment, toy_model_dir, tmp_path)[0].write_text("{cut short")  # a damaged entry
    # The caller meets the same entry and says it in one sentence; a helper printed its
    # traceback first, once per helper.
    assert helper.main([str(tmp_path / "spec.json")]) == 2
    assert capsys.readouterr().err == ""
    with pytest.raises(CourseError, match="cannot be read .* delete it to compute it again"):
        run_experiment(experiment, seeds=2, steps=STEPS, model=str(toy_model_dir),
                       cache_dir=tmp_path, workers=1, progress=False)


@pytest.mark.slow
def test_helper_processes_fill_the_cache_while_the_caller_waits(
        experiment, toy_model_dir, tmp_path):
    paths = _paths(experiment, toy_model_dir, tmp_path)
    with helpers(_spec(experiment, toy_model_dir, tmp_path), count=2):
        deadline = time.monotonic() + 240  # a fresh Python imports torch first
        while not all(p.is_file() for p in paths) and time.monotonic() < deadline:
            time.sleep(0.5)
    assert all(p.is_file() for p in paths), "the helper process wrote no results"


def test_a_helper_that_fails_is_reported_and_its_runs_trained_here(
        experiment, toy_model_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(side_by_side, "HELPER", "course_lib.no_such_module")
    result = run_experiment(experiment, seeds=2, steps=STEPS, model=str(toy_model_dir),
                            cache_dir=tmp_path, workers=2, progress=True)
    out = capsys.readouterr().out
    assert "toy: 4 runs to train, 2 processes side by side (as asked" in out
    assert "1 of 1 helper processes stopped early (exit code 1)" in out
    assert out.count("toy: training ") == 4 and result.cached_runs == 0
    assert out.count(" (this process)") == 4 and "toy: done 4/4: " in out
    assert "(2 processes)" in out


@pytest.fixture()
def no_setting(monkeypatch):
    monkeypatch.delenv("COURSE_WORKERS", raising=False)  # `make test` sets 1


def test_one_process_per_core_for_a_small_model_on_a_cpu_else_one(
        toy_model_dir, tmp_path, monkeypatch, no_setting):
    monkeypatch.setattr(side_by_side, "cpu_cores", lambda: 8)
    assert choose_workers(str(toy_model_dir)).count == 4  # at most MAX_WORKERS
    monkeypatch.setattr(side_by_side, "cpu_cores", lambda: 2)
    assert choose_workers(str(toy_model_dir)).count == 2
    assert choose_workers(str(toy_model_dir), asked=3).count == 3
    assert choose_workers(str(toy_model_dir), threads=2).count == 1
    preset_config("smollm2-135m").save_pretrained(tmp_path / "smol")  # the config only
    large = choose_workers(str(tmp_path / "smol"))
    assert large.count == 1 and "several threads" in large.reason


def test_a_cpu_quota_lowers_the_processes_started(toy_model_dir, tmp_path, monkeypatch,
                                                  no_setting):
    # A pod limited to 2 CPUs (cgroup v2's cpu.max) on a 64-core node: 2 processes, not 4.
    monkeypatch.setattr(env.os, "sched_getaffinity", lambda pid: set(range(64)), raising=False)
    (tmp_path / "cpu.max").write_text("200000 100000\n")
    (tmp_path / "own").write_text("0::/\n")
    monkeypatch.setattr(cgroups, "CGROUP_ROOT", tmp_path)
    monkeypatch.setattr(cgroups, "OWN_CGROUPS", tmp_path / "own")
    choice = choose_workers(str(toy_model_dir))
    assert choice.count == 2 and "of 2" in choice.reason


def test_a_memory_limit_lowers_the_processes_started(toy_model_dir, tmp_path, monkeypatch,
                                                     no_setting):
    # 8 CPUs but 2 GiB: four processes of 0.6-0.7 GB each and a kernel would be killed.
    monkeypatch.setattr(side_by_side, "cpu_cores", lambda: 8)
    (tmp_path / "memory.max").write_text(f"{2 * 2**30}\n")
    (tmp_path / "own").write_text("0::/\n")
    monkeypatch.setattr(cgroups, "CGROUP_ROOT", tmp_path)
    monkeypatch.setattr(cgroups, "OWN_CGROUPS", tmp_path / "own")
    choice = choose_workers(str(toy_model_dir))
    assert choice.count == 2 and "this container's memory limit of 2.1 GB" in choice.reason
    (tmp_path / "memory.max").write_text(f"{2**30}\n")
    assert choose_workers(str(toy_model_dir)).count == 1
    (tmp_path / "memory.max").write_text("max\n")
    assert choose_workers(str(toy_model_dir)).count == 4


def test_a_gpu_trains_one_run_at_a_time(toy_model_dir, monkeypatch, no_setting):
    class Gpu:
        device = "cuda"

    monkeypatch.setattr(side_by_side, "choose_device", lambda: Gpu())
    assert choose_workers(str(toy_model_dir)).count == 1


def test_helpers_only_for_two_runs_or_more_and_only_with_a_cache(toy_model_dir, tmp_path):
    count = runner.worker_count
    assert count("toy", 1, str(toy_model_dir), tmp_path, None, 4, False) == 1
    assert count("toy", 3, str(toy_model_dir), tmp_path, None, 4, False) == 3
    assert count("toy", 9, str(toy_model_dir), None, None, None, False) == 1
    with pytest.raises(CourseError, match="pass a cache_dir with workers > 1"):
        count("toy", 9, str(toy_model_dir), None, None, 2, False)
    with pytest.raises(CourseError, match="give 1 or more") as err:
        count("toy", 9, str(toy_model_dir), tmp_path, None, 0, False)
    assert err.value.cli.startswith("--workers 0 asks for 0 processes")


def helper_first(monkeypatch, folder, seeds=None):
    """Stand in for the helper processes: one helper, in this process, trains every run of
    `seeds` (default: all) before the caller looks at any, as a quick helper would."""
    @contextmanager
    def run_first(spec, count):
        assert count == 2
        (folder / "spec.json").write_text(json.dumps({**spec, "seeds": seeds or spec["seeds"]}))
        helper.main([str(folder / "spec.json")])
        yield

    monkeypatch.setattr(runner, "helpers", run_first)


def test_runs_a_helper_trained_during_the_call_are_not_called_cached(
        experiment, toy_model_dir, tmp_path, monkeypatch):
    helper_first(monkeypatch, tmp_path)
    result = run_experiment(experiment, seeds=2, steps=STEPS, model=str(toy_model_dir),
                            cache_dir=tmp_path / "cache", workers=2, progress=False)
    assert result.cached_runs == 0  # trained for this call, so not "read from the cache"


def test_the_caller_says_every_run_as_it_comes_back_a_helper_s_too(
        experiment, toy_model_dir, tmp_path, monkeypatch, capsys):
    helper_first(monkeypatch, tmp_path, seeds=[0])  # the helper trains seed 0, the caller 1
    run_experiment(experiment, seeds=2, steps=STEPS, model=str(toy_model_dir),
                   cache_dir=tmp_path / "cache", workers=2, progress=True)
    said = [line for line in capsys.readouterr().out.splitlines() if ": done " in line
            or ": training " in line]
    assert said == [  # helpers print nothing: their runs were missing from this list
        "toy: done 1/4: masked, seed 0 (helper)",
        "toy: training masked, seed 1",
        "toy: done 2/4: masked, seed 1 (this process)",
        "toy: done 3/4: unmasked, seed 0 (helper)",
        "toy: training unmasked, seed 1",
        "toy: done 4/4: unmasked, seed 1 (this process)",
    ]


def test_course_workers_sets_the_default_and_a_bad_value_says_what_to_set(
        toy_model_dir, monkeypatch):
    monkeypatch.setenv("COURSE_WORKERS", "3")
    assert choose_workers(str(toy_model_dir)) == side_by_side.WorkerChoice(3, "COURSE_WORKERS=3")
    assert choose_workers(str(toy_model_dir), asked=2).count == 2  # the argument wins
    monkeypatch.setenv("COURSE_WORKERS", "two")
    with pytest.raises(CourseError, match="COURSE_WORKERS='two' is not a number of processes"):
        choose_workers(str(toy_model_dir))
