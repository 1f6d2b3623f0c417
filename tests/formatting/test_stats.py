"""Rough phrasing and task labels for lesson 02's look at the training data."""

import pytest

from course_lib.formatting.stats import data_mix, instruction_style, plot_data_mix, task_kind


@pytest.mark.parametrize("instruction, given, style", [
    ("What is 2+2?", "", "question"),
    ("Add 2 and 2.", "", "command"),
    ("Kindly compute the sum of 2 and 2.", "", "formal"),
    ("hey what's 2 plus 2", "", "casual"),
    ("Translate this to Spanish", "Hello world", "with input"),
])
def test_styles(instruction, given, style):
    assert instruction_style({"instruction": instruction, "input": given}) == style


@pytest.mark.parametrize("instruction, kind", [
    ("What is 2+2?", "arithmetic"), ("Multiply 4 by 6.", "arithmetic"),
    ('Translate "water" to Spanish.', "translation"), ("Name the capital of Japan.", "capital"),
    ("What does a cow say?", "sound"), ("what colour's a banana", "colour"),
    ("Give the opposite of rich.", "opposite"), ("help", "other"),
])
def test_tasks(instruction, kind):
    assert task_kind({"instruction": instruction}) == kind


def test_mix_counts_and_plot():
    records = [{"instruction": "What is 2+2?"}, {"instruction": "help"}]
    mix = data_mix(records)
    assert mix["style"]["question"] == 1 and mix["task"]["other"] == 1
    assert sum(mix["task"].values()) == 2
    assert len(plot_data_mix(records).axes) == 2
