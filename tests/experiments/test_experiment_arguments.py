"""run_experiment's arguments: each mistake is one sentence in run_experiment's own names,
said before anything trains (tests/experiments/test_experiment_runner.py runs experiments)."""

import pytest
import torch

from course_lib.errors import CourseError
from course_lib.experiments.catalogue import EXPERIMENTS
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
