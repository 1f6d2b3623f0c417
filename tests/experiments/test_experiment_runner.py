"""run_experiment: every arm and seed trained once, then read from the cache; the cache key."""

import inspect
import json
import os
import shutil
import time
from dataclasses import replace

import pytest
import transformers

from course_lib.errors import CourseError
from course_lib.evaluation.base_model import greedy_generate, statement_knowledge
from course_lib.experiments import runner
from course_lib.experiments.design import EXACT_MATCH, Arm, Experiment
from course_lib.experiments.runner import (
    arms_to_run,
    resolved,
    run_experiment,
    run_settings,
    statement_answers,
)
from course_lib.formatting import records as records_module
from course_lib.loading import load_model_and_tokenizer
from course_lib.training.data import load_data
from course_lib.training.run_cache import cache_path
from course_lib.world.tuning_data import split_facts


def test_every_arm_and_seed_runs_once_then_comes_from_the_cache(
        experiment, toy_model_dir, tmp_path, monkeypatch):
    first = run_experiment(experiment, seeds=2, steps=2, model=str(toy_model_dir),
                           cache_dir=tmp_path, workers=1, progress=False)
    assert [len(first.runs[a.name]) for a in experiment.arms] == [2, 2]
    assert first.cached_runs == 0 and len(first.runs["masked"][0].rows) == 20
    assert len(list(tmp_path.glob("*.json"))) == 5  # 4 runs and the base model's statements

    def no_training(*args, **kwargs):
        raise AssertionError("a cached run was trained again")

    no_training.__signature__ = inspect.signature(runner.train)  # the same recipe
    monkeypatch.setattr(runner, "train", no_training)
    again = run_experiment(experiment, seeds=2, steps=2, model=str(toy_model_dir),
                           cache_dir=tmp_path, progress=False)
    assert again.cached_runs == 4
    assert again.values(EXACT_MATCH) == first.values(EXACT_MATCH)
    assert [r.rows for r in again.runs["unmasked"]] == [r.rows for r in first.runs["unmasked"]]


def test_the_cache_key_changes_with_everything_that_decides_the_numbers(
        experiment, toy_model_dir, data_files, tmp_path, monkeypatch):
    base, unmasked = experiment.arms
    model = str(toy_model_dir)

    def key(exp=experiment, arm=base, seed=0, steps=2, model=model):
        return cache_path(tmp_path, run_settings(exp, arm, seed, steps, model))

    assert key() == key()
    assert len({key(), key(seed=1), key(steps=3), key(arm=unmasked)}) == 4
    # COURSE_MAX_STEPS (benchmarks/lessons_real_shape.py) stops runs early: another key.
    uncapped = key()
    monkeypatch.setenv("COURSE_MAX_STEPS", "1")
    assert key() != uncapped
    monkeypatch.delenv("COURSE_MAX_STEPS")
    # The same records under another file name are the same data; changed records are not.
    same, changed = tmp_path / "same.jsonl", tmp_path / "changed.jsonl"
    shutil.copy(data_files[0], same)
    changed.write_text(data_files[0].read_text().replace('"2"', '"3"', 1))
    assert key(arm=Arm("masked", data=str(same))) == key()
    assert key(arm=Arm("masked", data=str(changed))) != key()
    # Another model's weights: another key.
    other = tmp_path / "other-model"
    shutil.copytree(toy_model_dir, other)
    (other / "config.json").write_text((other / "config.json").read_text() + " ")
    assert key(model=str(other)) != key()


def test_arms_follow_whatever_defaults_train_has(monkeypatch):
    def train(model="tiny", data="course:recipe_data", masking="response", max_steps=300,
              learning_rate=None, batch_size=16, lora=False, freeze=("mlp",), template="x"):
        pass

    monkeypatch.setattr(runner, "train", train)
    assert resolved(Arm("baseline"))["data"] == "course:recipe_data"
    assert resolved(Arm("baseline"))["freeze"] == ("mlp",)
    assert resolved(Arm("full", freeze=()))["freeze"] == ()
    assert runner.recipe_defaults()["max_steps"] == 300

    def train_that_decides_at_run_time(data="course:train", masking="response",
                                       max_steps=100, learning_rate=None, batch_size=16,
                                       lora=False, freeze=None, template="x"):
        pass

    monkeypatch.setattr(runner, "train", train_that_decides_at_run_time)
    # "The recipe's frozen parts" is not "nothing frozen": two settings, two cache keys.
    assert resolved(Arm("baseline"))["freeze"] is None
    assert resolved(Arm("full", freeze=()))["freeze"] == ()


def test_an_optional_arm_that_trains_like_another_is_left_out():
    default_data = inspect.signature(runner.train).parameters["data"].default
    arms = (Arm("a", data=default_data), Arm("recipe", "the recipe's data", optional=True))
    exp = Experiment("e", "e", "c", "h", arms, (EXACT_MATCH,))
    assert [a.name for a in arms_to_run(exp)] == ["a"]
    arms = (Arm("a", data="course:variant_one_phrasing"), arms[1])
    exp = Experiment("e", "e", "c", "h", arms, (EXACT_MATCH,))
    assert [a.name for a in arms_to_run(exp)] == ["a", "recipe"]


def test_statements_in_batches_agree_with_one_prompt_at_a_time():
    model, tokenizer = load_model_and_tokenizer("tiny")
    rows = statement_knowledge(model, tokenizer, split_facts()[1])
    one_by_one = [greedy_generate(model, tokenizer, r["prompt"], max_new_tokens=8)[0].strip()
                  for r in rows]
    assert [r["output"] for r in rows] == one_by_one
    assert statement_answers(model, tokenizer) == [r["correct"] for r in rows]
    assert sum(r["correct"] for r in rows) >= 50  # the base model knows (almost) every fact


def test_no_seed_and_unknown_names_are_one_sentence_errors(experiment):
    with pytest.raises(CourseError, match="at least one training seed; pass seeds=3") as err:
        run_experiment(experiment, seeds=0, progress=False)
    assert err.value.cli.endswith("pass --seeds 3.")
    with pytest.raises(CourseError, match=r"^steps must be at least 1, not -1\.$") as err:
        run_experiment(experiment, steps=-1, progress=False)  # the Trainer: "by epochs"
    assert err.value.cli == "--steps must be at least 1, not -1."
    with pytest.raises(CourseError, match="No experiment called 'colator'; choose one of"):
        run_experiment("colator", progress=False)


def test_edited_questions_and_other_held_out_facts_are_another_key(
        experiment, toy_model_dir, data_files, tmp_path, monkeypatch):
    """The questions file edited in the same kernel, or world/ holding out other facts: the
    scored answers kept under the old key would be for other questions (they were reused)."""
    questions = tmp_path / "questions.jsonl"
    shutil.copy(data_files[1], questions)
    mine = replace(experiment, eval_data=str(questions))
    base, _ = mine.arms

    def key():
        return cache_path(tmp_path, run_settings(mine, base, 0, 2, str(toy_model_dir)))

    before = key()
    questions.write_text(questions.read_text().replace('"8"', '"9"', 1))
    os.utime(questions, ns=(time.time_ns() + 10**9,) * 2)  # as an edit a moment later
    assert key() != before
    edited = key()
    monkeypatch.setattr(runner, "split_facts", lambda: (split_facts()[0], split_facts()[1][1:]))
    assert key() != edited
    # Not course:eval: an experiment's runs train without a held-out set (a course update
    # that fixed that set retrained every run of lesson 07 for nothing).
    shown = key()
    embedded = tmp_path / "embedded"
    shutil.copytree(records_module.EMBEDDED_DATA_DIR, embedded)
    monkeypatch.setattr(records_module, "EMBEDDED_DATA_DIR", embedded)
    assert key() == shown
    (embedded / "eval.jsonl").write_text(data_files[1].read_text())
    assert key() == shown


def test_more_seeds_reuse_the_seeds_run_before(experiment, toy_model_dir, tmp_path, monkeypatch):
    """`--seeds 2` then `--seeds 3`: only seed 2 is trained, for each arm; `--steps 3` after
    `--steps 2` is another run."""
    run_experiment(experiment, seeds=2, steps=2, model=str(toy_model_dir), cache_dir=tmp_path,
                   workers=1, progress=False)
    trained = []

    def counting(*args, **kwargs):
        trained.append((kwargs["seed"], kwargs["max_steps"]))
        return train(*args, **kwargs)

    train = runner.train
    counting.__signature__ = inspect.signature(train)  # the same recipe
    monkeypatch.setattr(runner, "train", counting)
    more = run_experiment(experiment, seeds=3, steps=2, model=str(toy_model_dir),
                          cache_dir=tmp_path, workers=1, progress=False)
    assert trained == [(2, 2), (2, 2)] and more.cached_runs == 4
    run_experiment(experiment, seeds=[0], steps=3, model=str(toy_model_dir),
                   cache_dir=tmp_path, workers=1, progress=False)
    assert trained[2:] == [(0, 3), (0, 3)]


def test_runs_read_from_the_cache_under_other_package_versions_are_said(
        experiment, toy_model_dir, tmp_path, capsys):
    """After `pip install -U`, lesson 07's kept runs are still read (not all retrained), in one
    line naming the versions they were trained with and the folder to delete."""
    settings = dict(seeds=1, steps=2, model=str(toy_model_dir), cache_dir=tmp_path, workers=1)
    run_experiment(experiment, progress=False, **settings)
    now = transformers.__version__
    for path in tmp_path.glob("*.json"):
        entry = json.loads(path.read_text(encoding="utf-8"))
        assert entry["versions"]["transformers"] == now
        entry["versions"]["transformers"] = "4.57.1"
        path.write_text(json.dumps(entry), encoding="utf-8")
    result = run_experiment(experiment, progress=True, **settings)
    out = capsys.readouterr().out
    said = [line for line in out.splitlines() if "4.57.1" in line]
    assert result.cached_runs == 2
    assert f"{experiment.name}: 2 arms x 1 seed in " in out  # one seed, in the singular
    assert said == [f"{experiment.name}: 2 of 2 runs read from {tmp_path} were trained with "
                    f"transformers 4.57.1 (now {now}); delete that folder to train them again "
                    f"with these versions."]


def test_an_arm_on_records_in_memory_is_told_which_questions_it_trained_on(
        toy_model_dir, data_files, records, eval_records, tmp_path, capsys):
    """As an arm trained on a file is told; records given in Python got no note."""
    mine = records + eval_records[:3]  # the first three questions are training rows too
    path = tmp_path / "mine.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in mine), encoding="utf-8")
    exp = Experiment("toy", "toy", "c", "h", (Arm("file", data=str(path)),
                                              Arm("memory", "in memory", data=mine)),
                     (EXACT_MATCH,), eval_data=str(data_files[1]))
    settings = dict(seeds=1, steps=1, model=str(toy_model_dir), cache_dir=tmp_path / "cache",
                    workers=1, progress=False)
    run_experiment(exp, **settings)
    said = ("3 of the 20 questions (lines 1, 2, 3) are prompts it was trained on ({}), so its "
            "score on them partly measures what it memorised.")
    notes = [line for line in capsys.readouterr().out.splitlines() if line.startswith("note:")]
    assert notes == [f"note: file: {said.format(path)}",
                     f"note: memory: {said.format('83 given records')}"]
    # Said before training, so also when the arm's runs are read back from the cache.
    assert run_experiment(exp, **settings).cached_runs == 2
    assert f"note: memory: {said.format('83 given records')}" in capsys.readouterr().out
    # Records with no question among them: nothing to say.
    clean = replace(exp, arms=(exp.arms[0], Arm("memory", "in memory", data=records)))
    run_experiment(clean, **settings)
    assert "note: memory:" not in capsys.readouterr().out


def test_an_arm_on_a_file_is_told_once_whether_trained_now_or_read_from_the_cache(
        toy_model_dir, data_files, records, eval_records, tmp_path, capsys):
    """The note was evaluate()'s as each run trained here: a cached run said nothing."""
    path = tmp_path / "mine.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records + eval_records[:2]),
                    encoding="utf-8")
    exp = Experiment("toy", "toy", "c", "h", (Arm("file", data=str(path)),), (EXACT_MATCH,),
                     eval_data=str(data_files[1]))
    settings = dict(seeds=1, steps=1, model=str(toy_model_dir), cache_dir=tmp_path / "cache",
                    workers=1, progress=False)
    said = (f"note: file: 2 of the 20 questions (lines 1, 2) are prompts it was trained on "
            f"({path}), so its score on them partly measures what it memorised.")
    for cached in (0, 1):  # trained in this process, then read back: once each time
        assert run_experiment(exp, **settings).cached_runs == cached
        assert [line for line in capsys.readouterr().out.splitlines()
                if line.startswith("note:")] == [said]


def test_the_recipes_course_set_is_told_too_but_not_rows_it_leaves_out(tmp_path, capsys):
    """An arm on the recipe's data (data=None) is checked as a file is; a row that cannot be
    used never trains, so a question with its prompt is not called trained on."""
    recipe = load_data(resolved(Arm("a"))["data"]).records
    questions = tmp_path / "questions.jsonl"
    questions.write_text("".join(json.dumps(r) + "\n" for r in recipe[:2]), encoding="utf-8")
    bad = tmp_path / "bad.jsonl"  # the second question, in a row with no response
    bad.write_text(json.dumps(recipe[0]) + "\n" + json.dumps(
        {"instruction": recipe[1]["instruction"]}) + "\n", encoding="utf-8")
    exp = Experiment("toy", "toy", "c", "h", (Arm("recipe"), Arm("bad", data=str(bad))),
                     (EXACT_MATCH,), eval_data=str(questions))
    runner.say_trained_on(exp, list(exp.arms))
    notes = capsys.readouterr().out.splitlines()
    assert [n.split(" (")[0] for n in notes] == ["note: recipe: 2 of the 2 questions",
                                                  "note: bad: 1 of the 2 questions"]
