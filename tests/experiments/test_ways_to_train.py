"""Lesson 08's experiment: every arm names what it trains, and its rate only for the tiny model."""

import pytest

from course_lib.errors import CourseError
from course_lib.experiments.runner import resolved
from course_lib.experiments.ways_to_train import ways_to_train
from course_lib.training.settings import RECIPE


def test_every_arm_says_what_it_trains():
    for arm in ways_to_train().arms:
        settings = resolved(arm)
        # Nothing left to the recipe's defaults: freeze and lora are the arm's own.
        assert settings["freeze"] is not None and arm.train_settings()["freeze"] == arm.freeze
        assert settings["lora"] is arm.lora
    every, lora, recipe = ways_to_train().arms
    assert (every.freeze, every.lora) == ((), False)
    assert (lora.freeze, lora.lora) == ((), True)
    assert (recipe.freeze, recipe.lora) == (RECIPE.freeze, False)
    assert [a.learning_rate for a in ways_to_train().arms] == [1e-3, 5e-3,
                                                              RECIPE.tiny_learning_rate]


def test_a_real_model_takes_train_s_default_rates():
    assert [a.learning_rate for a in ways_to_train(tiny=False).arms] == [None, None, None]
    assert "learning_rate" not in resolved(ways_to_train(tiny=False).arms[1]) or (
        resolved(ways_to_train(tiny=False).arms[1])["learning_rate"] is None)


def test_tiny_is_true_or_false_not_a_model_name():
    # ways_to_train("smollm2-135m") gave a real model the embedded model's rates.
    with pytest.raises(CourseError, match=r"^tiny must be True or False .* not the string "
                                          r"'smollm2-135m'; for a model by name: "):
        ways_to_train("smollm2-135m")
