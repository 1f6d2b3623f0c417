"""The rows an evaluation reads: every schema, labels from the raw row, missing references."""

import json

import pytest

from course_lib.errors import CourseError
from course_lib.evaluation.eval_data import eval_rows
from course_lib.formatting.schemas import normalize_record


def test_eval_styles_rows_keep_their_labels():
    data = eval_rows("course:eval_styles")
    assert len(data.rows) == 298 and data.without_reference == 0
    first = data.rows[0]
    assert (first["instruction"], first["reference"]) == ("What is 2+2?", "4")
    assert (first["kind"], first["group"], first["style"], first["seen"]) == (
        "add", "add:2+2", "bare", True)
    assert {r["style"] for r in data.rows if r["seen"] is False} >= {"casual", "misspelt"}


def test_course_eval_phrasing_is_read_as_style_and_seen():
    rows = eval_rows("course:eval").rows
    assert {r["style"] for r in rows} == {"seen", "unseen"}
    assert all(r["seen"] == (r["style"] == "seen") for r in rows)
    assert all(r["group"] is None for r in rows)


def test_every_schema_and_rows_without_a_reference(tmp_path):
    path = tmp_path / "mixed.jsonl"
    rows = [
        {"instruction": "Say hi.", "input": "", "output": "hi"},          # Alpaca
        {"prompt": "What is 2+2?", "completion": " 4"},                   # TRL
        {"text": "### Instruction: What is 3+3? ### Response: 6"},        # formatted text
        {"instruction": "Tell me a joke."},                               # no answer at all
        {"instruction": "Name a colour.", "response": "   "},             # an empty answer
        {"prompt": "Name a fruit.", "completion": None},                  # a table's empty cell
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    data = eval_rows(path)  # a null answer is no reference here (training refuses it)
    assert [r["reference"] for r in data.rows] == ["hi", "4", "6", None, None, None]
    assert data.without_reference == 3
    assert data.rows[3]["where"] == f"{path} line 4"
    assert not data.has("kind")
    assert len(eval_rows(path, limit=2).rows) == 2


def test_bad_files_are_one_sentence_errors(tmp_path):
    with pytest.raises(CourseError, match="No such file or folder"):
        eval_rows(tmp_path / "missing.jsonl")
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"instruction": "a", "response": "b"}\n{"instruction": [4]}\n')
    with pytest.raises(CourseError, match="line 2"):
        eval_rows(broken)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    with pytest.raises(CourseError, match="no rows"):
        eval_rows(empty)


def test_a_dataframe_is_evaluated_by_its_rows_not_its_column_names():
    import pandas as pd

    table = pd.DataFrame({"instruction": ["What is 2+2?", "What is 3+3?"], "response": ["4", None]})
    data = eval_rows(table)  # it iterated over the column names: 'instruction', 'response'
    assert data.source == "a DataFrame" and len(data.rows) == 2
    assert data.rows[0]["instruction"] == "What is 2+2?" and data.rows[0]["reference"] == "4"


def test_every_unusable_row_is_named_in_one_error(tmp_path):
    import pandas as pd

    path = tmp_path / "typos.jsonl"
    rows = [{"instruction": "What is 2+2?", "response": "4"},
            {"instruction": "What is 3+3?", "response": "6"},
            {"instrction": "What is 4+4?", "output": "8"},
            {"instrction": "What is 5+5?", "output": "10"}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n{broken\n", encoding="utf-8")
    with pytest.raises(CourseError) as err:
        eval_rows(path)  # it stopped at line 3, saying nothing of line 4 or the bad JSON
    lines = str(err.value).splitlines()
    assert lines[0] == f"{path}: 3 rows cannot be used; fix them and run again:"
    assert [line.split(":")[0] for line in lines[1:]] == ["  lines 3, 4", "  line 5"]
    with pytest.raises(CourseError, match=r"2 rows cannot be used.*\n  rows 2, 3: "):
        eval_rows(pd.DataFrame(rows[1:]))


def test_skip_bad_rows_leaves_them_out_and_limit_keeps_the_first_usable(tmp_path):
    path = tmp_path / "typos.jsonl"
    good = [json.dumps({"instruction": f"What is {i}+{i}?", "response": i + i}) for i in (1, 2, 3)]
    path.write_text("\n".join([good[0], "{broken", json.dumps({"instrction": "What is 4+4?"}),
                               *good[1:]]) + "\n", encoding="utf-8")
    data = eval_rows(path, limit=2, skip_bad_rows=True)  # every row checked, 2 usable asked
    assert [r["where"] for r in data.rows] == [f"{path} line 1", f"{path} line 4"]
    assert data.notes[0].splitlines()[0] == f"{path}: 2 of 5 rows left out (skip_bad_rows=True):"
    assert [line.split(":")[0] for line in data.notes[0].splitlines()[1:]] == ["  line 2",
                                                                             "  line 3"]
    # The notes course train gives its file, on the rows asked (line 5 holds one too).
    assert data.notes[1:] == ("2 rows hold a number where text belongs (lines 1, 4); it was "
                              "read as its text (2 as '2').",)
    with pytest.raises(CourseError) as err:
        eval_rows(path, skip_bad_rows=False)  # as `course eval` calls it without the flag
    assert str(err.value).splitlines()[0] == (
        f"{path}: 2 rows cannot be used; fix them and run again, or pass skip_bad_rows=True to "
        f"leave them out:")


def test_a_question_without_an_answer_works_in_every_schema_that_can_ask_one():
    user = {"role": "user", "content": "What is 7+7?"}
    rows = [{"instruction": "What is 5+5?"},
            {"prompt": "What is 6+6?"},                                      # TRL, no completion
            {"messages": [user]},                                            # chat, no answer
            {"messages": [{"role": "system", "content": "Be brief."}, user]},
            {"prompt": [user]}]                                              # TRL conversational
    data = eval_rows(rows)  # the prompt and the chat rows matched no schema / asked for an answer
    assert [r["instruction"] for r in data.rows] == [
        "What is 5+5?", "What is 6+6?", "What is 7+7?", "What is 7+7?", "What is 7+7?"]
    assert data.without_reference == 5 and data.rows[3]["input"] == "Be brief."
    # A conversation is still refused, with its own roles named, not an answer made up for it.
    turns = [user, {"role": "assistant", "content": "14"}, user]
    with pytest.raises(CourseError, match=r"got roles \['user', 'assistant', 'user'\]: a conv"):
        eval_rows([{"messages": turns}])
    # Training's normaliser still refuses a question without an answer: nothing to learn.
    with pytest.raises(CourseError, match="add the assistant's answer"):
        normalize_record(rows[2])
    with pytest.raises(CourseError, match="has 'prompt' but no 'completion'; add the answer"):
        normalize_record(rows[1])


def test_one_record_or_a_list_of_strings_is_named_with_what_to_give_instead():
    # Both said "row 0: expected a JSON object, got str", naming neither mistake.
    with pytest.raises(CourseError, match=r"one record \(a dict .*; wrap it in a list"):
        eval_rows({"instruction": "What is 2+2?", "output": "4"})
    with pytest.raises(CourseError, match=r"list of strings \('What is 2\+2\?', \.\.\.\).*"
                                          r"\[\{\"instruction\": q\} for q in questions\]"):
        eval_rows(["What is 2+2?"])
    # A list is counted from 0, as training's load_data counts a list of records.
    with pytest.raises(CourseError, match=r"^row 1: expected a JSON object, got a string"):
        eval_rows([{"instruction": "What is 2+2?"}, "What is 3+3?"])


def test_dollys_category_is_read_as_the_task_kind():
    dolly = {"instruction": "Who wrote Hamlet?", "context": "", "response": "Shakespeare",
             "category": "closed_qa"}
    rows = eval_rows([dolly, {**dolly, "kind": "author"}]).rows
    assert [r["kind"] for r in rows] == ["closed_qa", "author"]  # a row's own kind comes first
