"""normalize_record on rows as practitioners' files hold them: odd text, other chat formats."""

import pytest

from course_lib.errors import CourseError
from course_lib.formatting.schemas import detect_schema, normalize_record


def test_a_lone_surrogate_is_named_with_its_field():
    # JSON may escape half of an emoji ("\ud83d"); the tokenizer then raised a TypeError.
    row = {"instruction": "Smile \ud83d", "output": "ok"}
    with pytest.raises(CourseError, match=r"^d.jsonl line 3: field 'instruction' holds half of "
                                          r"a character"):
        normalize_record(row, "d.jsonl line 3")
    chat = {"messages": [{"role": "user", "content": "Hi"},
                         {"role": "assistant", "content": "\udc00"}]}
    with pytest.raises(CourseError, match=r"field 'content' holds half of a character"):
        normalize_record(chat, "d.jsonl line 1")


def test_sharegpt_conversations_are_read_as_chat():
    # Was refused with the renames to make; the rename is unambiguous, so it is made (and
    # counted by conversion_notes). Other keys are still told what to rename.
    row = {"conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello"}]}
    assert normalize_record(row) == {"instruction": "Hi", "input": "", "response": "Hello"}
    row = {"conversations": [{"speaker": "human", "text": "Hi"}]}
    with pytest.raises(CourseError, match=r"^d.jsonl line 2: this looks like ShareGPT "
                                          r"\('conversations'\): rename it to 'messages'"):
        normalize_record(row, "d.jsonl line 2")


def test_openai_content_parts_of_text_are_read_as_the_text():
    # OpenAI's (and transformers') list of content parts: was "'content' should be text".
    def parts(*texts):
        return [{"type": "text", "text": t} for t in texts]

    row = {"messages": [{"role": "user", "content": parts("What is ", "2+2?")},
                        {"role": "assistant", "content": parts("4")}]}
    assert normalize_record(row) == {"instruction": "What is 2+2?", "input": "", "response": "4"}
    row["messages"][0]["content"].append({"type": "image_url", "image_url": {"url": "x"}})
    with pytest.raises(CourseError, match=r"^d.jsonl line 1: a message holds a part of type "
                                          r"'image_url'; the course trains on text only"):
        normalize_record(row, "d.jsonl line 1")


def test_two_different_answers_in_one_row_are_refused():
    row = {"instruction": "What is 2+2?", "output": "4", "response": "four"}
    with pytest.raises(CourseError) as info:  # was: 'response' dropped without a word
        normalize_record(row, "d.jsonl line 3")
    assert str(info.value) == ("d.jsonl line 3: 'output' and 'response' hold different answers; "
                               "keep the right one and remove the other.")  # eval reads it too
    same = normalize_record({**row, "response": " 4"})  # one answer written twice is fine
    assert same["response"] == "4"


def chat_problem(*roles: str) -> str:
    messages = [{"role": r, "content": "x"} for r in roles]
    with pytest.raises(CourseError) as info:
        normalize_record({"messages": messages}, "line 1")
    return str(info.value)


def test_chat_roles_are_told_the_rename_that_fits():
    # Capitalised roles are the course's own, renamed in lower case (was "'User' to 'user' or
    # 'assistant'"); a tool message cannot be renamed at all (was "'tool' to 'user' or ...").
    assert chat_problem("User", "Assistant").endswith(
        "rename 'User' to 'user' and 'Assistant' to 'assistant'.")
    assert chat_problem("human", "gpt").endswith("rename 'human' to 'user' and 'gpt' to "
                                                 "'assistant'.")
    assert chat_problem("user", "assistant", "tool", "assistant") == (
        "line 1: the row has 'tool' messages (tool calls), which the course's templates do not "
        "take; leave such rows out, or train them with TRL's SFTTrainer (lesson 05).")
    assert chat_problem("user", "speaker").endswith("rename 'speaker' to 'user' or 'assistant'.")


def test_field_names_are_read_whatever_their_case_as_table_columns_are():
    # A CSV's 'Instruction' column was read, the same key in JSON refused.
    row = {"Instruction": "What is 2+2?", "output ": "4", "Source": "web"}
    assert normalize_record(row) == {"instruction": "What is 2+2?", "input": "", "response": "4"}
    both = {"instruction": "lower wins", "Instruction": "ignored", "output": "4"}
    assert normalize_record(both)["instruction"] == "lower wins"  # the exact name comes first


def test_a_table_row_with_its_answer_in_response_uses_it_beside_an_empty_output():
    # A DataFrame with both columns gives every row both keys: this row's answer is in
    # 'response' (it was read as alpaca with an empty 'output': an empty answer, silently).
    row = {"instruction": "What is 3+3?", "response": "6", "output": None}
    assert normalize_record(row)["response"] == "6"


@pytest.mark.parametrize("row, field", [
    ({"instruction": "What is 8+8?", "output": None}, "output"),  # a pandas NaN, read as null
    ({"instruction": "What is 8+8?", "response": None, "output": None}, "output"),
    ({"prompt": "What is 8+8?", "completion": None}, "completion"),
])
def test_a_null_answer_is_refused_as_missing_not_trained_as_nothing(row, field):
    # It was read as "": the row trained the answer 'nothing', said only as an empty response.
    with pytest.raises(CourseError) as caught:
        normalize_record(row, "d.jsonl line 3")
    assert str(caught.value) == (f"d.jsonl line 3: '{field}' is null, a missing answer; fill it "
                                 f"in, or give \"\" to train the answer 'nothing' on purpose.")
    assert normalize_record({**row, field: ""}, "d.jsonl line 3")["response"] == ""


def test_detect_schema_refuses_a_list_or_a_text():
    # A list was "TypeError: unhashable type: 'dict'"; a text's letters read as its fields.
    with pytest.raises(CourseError, match=r"not a list; for a list, \[detect_schema\(r\) for r"):
        detect_schema([{"instruction": "What is 2+2?", "response": "4"}])
    with pytest.raises(CourseError, match=r"not the string 'What'; load a file's records first"):
        detect_schema("What")


def test_a_list_given_to_a_one_record_call_is_told_to_give_one():
    from course_lib.formatting.templates import ONE_LINE, format_text

    records = [{"instruction": "Hi", "response": "hello"}]
    with pytest.raises(CourseError, match=r"^record: expected a JSON object, got a list; give one "
                                          r"record, or call it on each record of the list\.$"):
        format_text(records, ONE_LINE)
    with pytest.raises(CourseError, match=r"^data.jsonl line 3: expected a JSON object, got "
                                          r"a list\.$"):  # a file's row: no such hint
        normalize_record(records, where="data.jsonl line 3")


def test_a_dataframe_row_given_as_a_record_is_told_to_give_its_dict():
    import pandas as pd

    from course_lib.formatting.templates import ONE_LINE, format_text

    # The first row's 'input' is an empty cell (NaN): row.to_dict() was refused as "NaN".
    table = pd.DataFrame([{"instruction": "Hi", "response": "hello"},
                          {"instruction": "Say", "input": "yes", "response": "yes"}])
    row = table.iloc[0]
    with pytest.raises(CourseError) as err:  # said only "got Series", with no way out
        format_text(row, ONE_LINE)
    assert str(err.value).endswith("; give the row as a dict: row.dropna().to_dict().")
    assert format_text(row.dropna().to_dict(), ONE_LINE) == format_text(
        {"instruction": "Hi", "response": "hello"}, ONE_LINE)


def test_a_normalized_text_row_keeps_its_template_when_read_again():
    """load_records' rows handed back (train(load_records(path))) trained every text row in
    the default template: reading a normalized record again dropped its 'template'."""
    once = normalize_record({"text": "Q: What is 2+2? A: 4"})
    assert normalize_record(once) == once == {"instruction": "What is 2+2?", "input": "",
                                              "response": "4", "template": "qa"}
    # A raw row's own 'template' column that names no template of a text row stays unread.
    assert "template" not in normalize_record({"instruction": "a", "response": "b",
                                               "template": "v2"})
