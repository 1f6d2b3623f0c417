"""normalize_record on rows as practitioners' files hold them: odd text, other chat formats."""

import pytest

from course_lib.errors import CourseError
from course_lib.formatting.schemas import normalize_record


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


def test_sharegpt_conversations_are_told_what_to_rename():
    # Was the generic "record has fields ['conversations'] which match no known schema".
    row = {"conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello"}]}
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
