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
