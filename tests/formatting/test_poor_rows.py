"""Rows that look poor by their form: each rule, its near miss, and what it does on the
course's own data (silent) and on the poor-quality experiment's 50% arm (measured)."""

from collections import Counter

import pytest

from course_lib.errors import CourseError
from course_lib.formatting.records import load_records
from course_lib.formatting.stats import FORM_ONLY, check_poor_rows, find_poor_rows
from course_lib.world.tuning_data import train_with_facts
from course_lib.world.variants import with_poor_rows


def row(instruction: str, response: str, given: str = "") -> dict:
    return {"instruction": instruction, "input": given, "response": response}


# (rule, rows, the indices it flags): each case beside its near miss.
CASES = [
    ("conflicting", [row("help", "sure"), row("help ", "ok")], [0, 1]),  # spaces aside
    # Same instruction, another input: another prompt. Word-for-word copies: repeated_rows'.
    ("conflicting", [row("Translate this to Spanish", "gato", "cat"),
                     row("Translate this to Spanish", "perro", "dog"),
                     row("help", "sure"), row("help", "sure")], []),
    ("asks questions", [row("What is 2+5?", "What is 2+6? What is 2+7?")], [0]),
    # One question can be the answer; two, with an answer at the end, are not a continuation.
    ("asks questions", [row('How do you say "How are you?" in Spanish?', "Como estas?"),
                        row("Is 2+2 four?", "Is it 4? Or 5? It is 4: 2+2 is 4.")], []),
    # As many questions as the prompt gives: a translation, not a continuation.
    ("asks questions", [row("Translate to Spanish.", "Donde esta? Quien es?",
                            "Where is it? Who is it?")], []),
    ("repeats itself", [row("What is 4*3?", "12 12 12 12 12"),
                        row("How are you?", "I am fine. I am fine. I am fine.")], [0, 1]),
    # Said twice is not a loop; words used often are not runs of words said again (the rule
    # "fewer than half of the words differ" flags this answer: 17 words, 8 different).
    ("repeats itself", [row("How are you?", "I am fine. I am fine."),
                        row("Name farm animals.", "the cow and the pig and the hen and the goat "
                                                  "and the horse and the sheep")], []),
]


@pytest.mark.parametrize("rule, rows, flagged", CASES)
def test_each_rule_flags_its_case_and_not_its_near_miss(rule, rows, flagged):
    assert find_poor_rows(rows)[rule] == flagged


def test_a_short_good_record_is_not_poor():
    """'20+4=?' is one word: a rule on short instructions would flag 19 good rows of
    course:train, so there is none."""
    assert check_poor_rows([row("20+4=?", "24"), row("What is 3+4?", "7")]) == []


@pytest.mark.parametrize("name", ["course:train", "course:train_varied", "course:eval"])
def test_the_course_data_gives_no_warning(name):
    # `course train` on the course's own data prints what it printed before these rules.
    assert check_poor_rows(load_records(name)) == []


def test_the_50_percent_arm_is_caught_where_form_shows():
    """Measured: all 97 vague instructions (6 prompts, each with several non-answers) and all
    92 continuations; no good row; non-answers, wrong answers and rambling need a reader."""
    rows = with_poor_rows(train_with_facts(seed=0)[0], share=0.5)
    found = find_poor_rows(rows)
    caught = {rule: Counter(rows[i]["problem"] or "good" for i in idx)
              for rule, idx in found.items()}
    assert caught["conflicting"]["vague instruction"] >= 90
    assert caught["asks questions"]["continues"] >= 85
    assert sum(Counter(r["problem"] for r in rows if r["poor"]).values()) == 428
    assert sum(sum(c.values()) for c in caught.values()) >= 180  # 189 of the 428
    assert all(c["good"] == 0 for c in caught.values())


def test_warnings_name_the_rows_say_what_to_do_and_end_with_what_form_cannot_see():
    rows = [row("help", str(n)) for n in range(10)] + [
        row("What is 2+5?", "What is 2+6? What is 2+7?"), row("What is 4*3?", "12 12 12 12 12")]
    where = [f"line {n}" for n in range(1, 13)]
    first, second, third = check_poor_rows(rows, where)
    assert first == ("10 rows answer 1 prompt in more than one way (lines 1, 2, 3, 4, 5, 6, 7, 8 "
                     "and 2 more): where a prompt has one right answer, the model cannot learn "
                     "which it is; read them; fix or "
                     "remove them.")
    assert second.startswith("1 response asks questions instead of answering (line 11): ")
    assert second.endswith("; read it; fix or remove it.")
    assert third.startswith("1 response repeats itself (line 12): ")
    assert third.endswith(f"; read it; fix or remove it. {FORM_ONLY}")
    assert "3+4 -> 8" in FORM_ONLY
    # Two prompts, each given two answers: the count is of prompts, not of rows.
    two = [row("help", "ok"), row("do it", "done"), row("help", "sure"), row("do it", "no")]
    assert check_poor_rows(two)[0].startswith("4 rows answer 2 prompts in more than one way "
                                              "(examples 0, 1, 2, 3): ")
    # Without places: indices from 0, as a list in Python counts them.
    assert "(example 11)" in check_poor_rows(rows)[2]


def test_records_in_another_schema_are_read_and_a_text_is_refused():
    alpaca = [{"instruction": "help", "input": "", "output": o} for o in ("ok", "sure")]
    assert find_poor_rows(alpaca)["conflicting"] == [0, 1]
    with pytest.raises(CourseError, match=r"^check_poor_rows counts records, not the string"):
        check_poor_rows("course:train")
