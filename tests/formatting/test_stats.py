"""Rough phrasing and task labels for lesson 02's look at the training data."""

from collections import Counter

import datasets
import pandas as pd
import pytest

from course_lib.errors import CourseError
from course_lib.formatting.records import load_raw_rows, load_records
from course_lib.formatting.stats import (
    check_consistent_templates,
    data_mix,
    instruction_style,
    plot_data_mix,
    record_template,
    task_kind,
    template_counts,
)


@pytest.mark.parametrize("instruction, given, style", [
    ("What is 2+2?", "", "question"),
    ("Add 2 and 2.", "", "command"),
    ("Kindly compute the sum of 2 and 2.", "", "formal"),
    ("hey what's 2 plus 2", "", "casual"),
    ("what is 2+2?", "", "question"),  # lower case, but punctuated: not casual
    ("add 2 and 2.", "", "command"),
    ("Translate this to Spanish", "Hello world", "with input"),
])
def test_styles(instruction, given, style):
    assert instruction_style({"instruction": instruction, "input": given}) == style


@pytest.mark.parametrize("instruction, kind", [
    ("What is 2+2?", "arithmetic"), ("Multiply 4 by 6.", "arithmetic"),
    ('Translate "water" to Spanish.', "translation"), ("Name the capital of Japan.", "capital"),
    ("What does a cow say?", "sound"), ("what noise does a pig make", "sound"),
    ("what colour's a banana", "colour"),
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



def test_no_records_to_plot_is_said_not_drawn_as_blank_panels():
    with pytest.raises(CourseError, match=r"plot_data_mix needs at least one record"):
        plot_data_mix([])

@pytest.mark.parametrize("call", [data_mix, plot_data_mix, template_counts,
                                  check_consistent_templates])
def test_a_name_or_one_record_is_not_counted_letter_by_letter(call):
    # Each counted the letters of 'course:train' (or the keys of one record) without a word.
    with pytest.raises(CourseError, match=rf"^{call.__name__} counts records, not the string "
                                          r"'course:train'; load them first"):
        call("course:train")
    with pytest.raises(CourseError, match=r"^records is one record \(a dict"):
        call({"instruction": "What is 2+2?", "response": "4"})


def test_a_dataframe_is_counted_row_by_row():
    import pandas as pd

    frame = pd.DataFrame([{"instruction": "What is 2+2?", "response": "4"},
                          {"instruction": "Add 3 and 3.", "response": "6"},
                          {"instruction": "help", "response": "yes"}])
    assert template_counts(frame) == {"structured": 3}  # was 2: its columns were counted
    assert data_mix(frame)["style"]["question"] == 1
    assert len(plot_data_mix(frame).axes) == 2  # was "truth value of a DataFrame is ambiguous"


def test_template_counts_reads_only_text_that_is_text():
    """A row with a null 'text' next to its fields is structured, not a crash."""
    from course_lib.formatting.stats import template_counts

    rows = [{"instruction": "Hi", "response": "hi", "text": None}, {"text": "Q: What is 2+2? A: 4"}]
    assert template_counts(rows) == {"structured": 1, "qa": 1}


def test_a_long_minority_is_shown_in_part_and_says_how_many_more():
    """Eight places are shown, then how many more, as the other data notes name rows."""
    from course_lib.formatting.stats import check_consistent_templates

    rows = [{"text": "Q: What is 2+2? A: 4"}] * 10 + [{"instruction": "Hi", "response": "hi"}] * 12
    [warning] = check_consistent_templates(rows)
    assert warning.startswith("10 examples use the 'qa' format while most use 'structured' ")
    assert "(examples 0, 1, 2, 3, 4, 5, 6, 7 and 2 more)" in warning
    assert "(examples 0, 1, 2, 3, 4, 5, 6, 7); reformat them" in check_consistent_templates(
        rows[2:])[0]


def test_a_text_row_counts_in_its_template_whatever_other_fields_it_has():
    # template_counts called {"text", "id"} 'structured' while the template check and training
    # read it as Q/A; a text column beside instruction/response fields is not what trains.
    rows = [{"text": "Q: What is 2+2? A: 4", "id": 1}, {"text": "Q: What is 3+3? A: 6"},
            {"text": "### Instruction: Hi ### Response: Hello", "instruction": "Hi",
             "response": "Hello"}]
    assert template_counts(rows) == Counter({"qa": 2, "structured": 1})
    assert [record_template(r) for r in rows] == ["qa", "qa", "structured"]
    assert len(check_consistent_templates(rows)) == 1  # the structured row is the odd one


@pytest.mark.parametrize("call", [instruction_style, task_kind])
def test_one_record_counters_refuse_a_text_or_a_list(call):
    import pandas as pd  # deferred, as elsewhere in the tests: only this test needs a table

    # A string or a list was "AttributeError: 'str' object has no attribute 'get'".
    name = call.__name__
    with pytest.raises(CourseError, match=rf"{name} reads a record, not the string 'What is "
                                          rf"2\+2\?'; give the text as its instruction, "
                                          rf"a record such as \{{'instruction': "):
        call("What is 2+2?")
    with pytest.raises(CourseError, match=r"not a list; for a list, call it on each record, "
                                          r"or count them all with data_mix\(records\)\.$"):
        call([{"instruction": "What is 2+2?", "response": "4"}])
    # A table's row has .get too: still read (df.apply(instruction_style, axis=1)).
    row = pd.DataFrame([{"instruction": "What is 2+2?", "response": "4"}]).iloc[0]
    assert call(row) == {"instruction_style": "question", "task_kind": "arithmetic"}[name]


def test_where_in_any_container_names_the_rows_by_position():
    # A generator had no where[i] (a TypeError), a Series or an array raised "truth value is
    # ambiguous"; a Series is read by position, not by its index labels.
    import numpy as np
    import pandas as pd

    from course_lib.formatting.stats import check_poor_rows

    rows = [{"instruction": "help", "response": "sure"}, {"instruction": "help", "response": "ok"},
            {"text": "Q: What is 2+2? A: 4"}]
    where = ["line 4", "line 7", "line 9"]
    given = [lambda: (w for w in where), lambda: iter(where), lambda: tuple(where),
             lambda: np.array(where), lambda: pd.Series(where, index=[2, 1, 0])]
    for call in (check_poor_rows, check_consistent_templates):
        want = call(rows, where)
        assert want and all(call(rows, make()) == want for make in given)
    assert "(lines 4, 7)" in check_poor_rows(rows, where)[0]


def test_template_counts_of_records_read_already_count_each_rows_own_template():
    """load_records' text rows keep the template they were written in: counted as
    'structured' they hid the mix that the raw rows show."""
    raw = [row for _, row in load_raw_rows("course:mixed_format")]
    assert template_counts(load_records("course:mixed_format")) == template_counts(raw)
    assert len(template_counts(raw)) == 3


def test_phrasing_and_task_are_read_from_each_row_as_training_reads_it():
    """data_mix of course:mixed_format's raw rows counted 40 'command' rows of task 'other'
    (a text, chat or TRL row has no 'instruction' field), where load_records' records showed
    the mix; a table's empty 'input' (NaN, df.apply(instruction_style, axis=1)) was 'with
    input'."""
    raw = [row for _, row in load_raw_rows("course:mixed_format")]
    assert data_mix(raw) == data_mix(load_records("course:mixed_format"))
    chat = {"messages": [{"role": "user", "content": "What does a cow say?"},
                         {"role": "assistant", "content": "moo"}]}
    rows = [chat, {"prompt": "Multiply 4 by 6.", "completion": "24"}]
    read = [("question", "sound"), ("command", "arithmetic")]
    assert [(instruction_style(r), task_kind(r)) for r in rows] == read
    # A Dataset's row of a table of both formats holds the other's columns too, as None.
    table = datasets.Dataset.from_pandas(pd.DataFrame(rows))
    assert [(instruction_style(r), task_kind(r)) for r in table] == read
    frame = pd.DataFrame([{"instruction": "What is 2+2?", "response": "4"},
                          {"instruction": "Translate", "input": "cat", "response": "gato"}])
    assert list(frame.apply(instruction_style, axis=1)) == ["question", "with input"]
