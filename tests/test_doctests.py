"""Every docstring example in course_lib runs (those marked +SKIP need a model or a notebook)."""

import doctest
import importlib
import pkgutil

import pytest

import course_lib

MODULES = sorted(
    info.name for info in pkgutil.walk_packages(course_lib.__path__, prefix="course_lib.")
)


def test_every_stage_is_collected():
    stages = {name.split(".")[1] for name in MODULES}
    assert {"formatting", "masking", "training", "evaluation", "experiments", "grading",
            "world"} <= stages


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    failures, _ = doctest.testmod(module, optionflags=flags)
    assert failures == 0, f"a docstring example of {name} is wrong (see the output above)"
