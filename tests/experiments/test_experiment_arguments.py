"""run_experiment's arguments: each mistake is one sentence in run_experiment's own names,
said before anything trains (tests/experiments/test_experiment_runner.py runs experiments)."""

from dataclasses import replace

import pandas as pd
import pytest
import torch

from course_lib.errors import CourseError
from course_lib.experiments import runner
from course_lib.experiments.catalogue import EXPERIMENTS
from course_lib.experiments.design import EXACT_MATCH, Arm
from course_lib.experiments.runner import get_experiment, run_experiment


@pytest.mark.parametrize(("given", "python", "cli"), [
    # A TypeError ('float' object is not iterable), or errors naming train()'s seed/max_steps/
    # num_threads, which run_experiment's caller never typed.
    ({"seeds": 2.0}, "seeds must be a whole number or a list of seeds, not the float 2.0.",
     "--seeds must be"),
    ({"seeds": "3"}, "seeds must be a whole number or a list of seeds, not the string '3'.",
     "--seeds must be"),
    ({"seeds": [0, -1]}, "seeds must be whole numbers from 0, not -1.", "--seeds must be"),
    ({"seeds": [1, 0.0]}, "seeds must be whole numbers from 0, not the float 0.0.", "--seeds"),
    # The same seed twice was trained once and counted twice in every median.
    ({"seeds": [0, 0]}, "seeds=[0, 0] repeats seed 0; give each seed once.", "--seeds"),
    ({"steps": "5"}, "steps must be a whole number, not the string '5'.", "--steps must be a"),
    ({"steps": 2.5}, "steps must be a whole number, not 2.5.", "--steps must be a whole"),
    ({"threads": 0}, "threads must be at least 1, not 0.", "--threads must be at least 1"),
])
def test_numbers_no_experiment_can_use_are_named_as_given(experiment, given, python, cli):
    with pytest.raises(CourseError) as err:
        run_experiment(experiment, **{"progress": False, "cache_dir": None, **given})
    assert str(err.value) == python
    assert err.value.cli.startswith(cli)


def test_a_model_object_is_refused_for_a_name(experiment):
    # An OSError: the model's printout was taken for a folder name ("File name too long").
    with pytest.raises(CourseError, match="^model must be a preset name such as 'tiny', a "
                                          "model folder or a Hub id"):
        run_experiment(experiment, model=torch.nn.Linear(2, 2), progress=False, cache_dir=None)


def test_an_unknown_name_says_the_nearest_one():
    with pytest.raises(CourseError, match="^No experiment called 'wrong-colator'; choose one "
                                          r"of: .*; the nearest is 'wrong-collator'\.$"):
        run_experiment("wrong-colator", progress=False)
    with pytest.raises(CourseError, match=r"; choose one of: .*\.$") as err:
        run_experiment("no-such-thing", progress=False)  # nothing near: the list is the help
    assert "nearest" not in str(err.value)
    # Any capitalisation is the experiment, as on the command line (it was refused here).
    assert get_experiment("Balance") is EXPERIMENTS["balance"]


@pytest.mark.parametrize(("change", "message"), [
    # Each was accepted: no arms was an IndexError after training, a string for an arm an
    # AttributeError, two arms of one name were merged into one column of 2 x seeds runs.
    (lambda e: {"arms": ()}, "Experiment 'toy' has no arms; give arms=(Arm('baseline'), "),
    (lambda e: {"arms": ("masked", "unmasked")}, "Experiment 'toy': arms[0] is the string "
                                                  "'masked'; write Arm('baseline')"),
    (lambda e: {"arms": (e.arms[0], replace(e.arms[1], name="masked"))},
     "Experiment 'toy': two arms are called 'masked', and its results keep one per name; "
     "rename one."),
    # No metrics was an empty table; a metric's key was an AttributeError once trained; one
    # metric twice was two rows in the table and one in the JSON.
    (lambda e: {"metrics": ()}, "Experiment 'toy' has no metrics; give metrics=(EXACT_MATCH"),
    (lambda e: {"metrics": ("exact_match",)}, "Experiment 'toy': metrics[0] is the string "
                                              "'exact_match'; write EXACT_MATCH"),
    (lambda e: {"metrics": (EXACT_MATCH, EXACT_MATCH)},
     "Experiment 'toy': two metrics are keyed 'exact_match'"),
    # An unknown template failed after the baseline had trained.
    (lambda e: {"templates": ("one_line", "nope")}, "Unknown template 'nope'; choose one of"),
    # An arm that changes nothing trained again and was reported "+0.00: within the spread".
    # A DataFrame was pandas' "Can only compare identically-labeled DataFrame objects".
    (lambda e: {"arms": (*e.arms, Arm("frame", "a table", data=pd.DataFrame(
        [{"instruction": "What is 2+2?", "response": "4"}])))},
     "Experiment 'toy': arm 'frame' has data=a DataFrame; give a file, a course set such as "
     "'course:train' or records as a list of dicts (a DataFrame's: df.to_dict('records'))."),
    (lambda e: {"arms": (*e.arms, Arm("same", "nothing", data=e.arms[0].data))},
     "Arm 'same' trains exactly like arm 'masked' (train() gets the same settings), so it can "
     "only measure the same numbers; change one setting of it"),
])
def test_an_experiment_of_your_own_is_checked_before_anything_trains(
        experiment, monkeypatch, change, message):
    def no_training(*args, **kwargs):
        raise AssertionError("trained before the experiment was checked")

    monkeypatch.setattr(runner, "train_and_measure", no_training)
    with pytest.raises(CourseError) as err:
        run_experiment(replace(experiment, **change(experiment)), seeds=1, steps=1,
                       cache_dir=None, progress=False)
    assert str(err.value).startswith(message)


def test_an_error_in_training_names_the_arm(experiment, toy_model_dir, monkeypatch):
    def refused(experiment, arm, *args):
        if arm.name == "unmasked":
            raise CourseError("masking must be 'response' or 'none'.", cli="the --masking")
        return real(experiment, arm, *args)

    real = runner.train_and_measure
    monkeypatch.setattr(runner, "train_and_measure", refused)
    with pytest.raises(CourseError) as err:  # which of the arms: it did not say
        run_experiment(experiment, seeds=1, steps=1, model=str(toy_model_dir), cache_dir=None,
                       progress=False)
    assert str(err.value) == "Arm 'unmasked': masking must be 'response' or 'none'."
    assert err.value.cli == "Arm 'unmasked': the --masking"
