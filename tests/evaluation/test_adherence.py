"""Adherence: every check passes on good answers and fails, alone, on a crafted bad one."""

from __future__ import annotations

import pytest

from course_lib.errors import CourseError
from course_lib.evaluation.adherence import LENGTH_BOUNDS, Adherence, adherence, in_language
from course_lib.formatting.json_files import read_json_rows
from course_lib.formatting.records import EMBEDDED_DATA_DIR
from course_lib.world.facts import SPANISH_PHRASES, SPANISH_WORDS

CHECKS = ("answered", "stopped", "no_template_leak", "length_ok", "language_ok")


# (response, stopped, kind, the one check that must fail)
BAD = [
    ("4. What is 3+3?", True, None, "answered"),
    ("What is 2+2?", True, "add", "answered"),
    ("4 what is 3+3?", True, None, "answered"),
    ("Paris, and what is the capital of Peru?", True, None, "answered"),
    ("Paris. Kindly name the capital of Peru.", True, None, "answered"),
    ("...", True, "add", "answered"),
    ("4", False, "add", "stopped"),
    ("4\n### Response:", True, "add", "no_template_leak"),
    ("Paris ### Instruction:", True, "capital", "no_template_leak"),
    ("woof Human:", True, "sound", "no_template_leak"),
    ("cold\nQ:", True, "opposite", "no_template_leak"),
    ("4 4 4 4", True, "add", "length_ok"),
    (" ".join(["word"] * 101), True, "an unknown kind", "length_ok"),
    ("cat", True, "spanish", "language_ok"),
    ("The red car", True, "spanish", "language_ok"),
    ("hola world", True, "spanish", "language_ok"),
]


@pytest.mark.parametrize("response, stopped, kind, failing", BAD)
def test_each_check_fails_alone_on_a_crafted_response(response, stopped, kind, failing):
    result = adherence(response, stopped=stopped, kind=kind)
    assert result.failed() == [failing]
    assert result.score == pytest.approx(1 - 1 / len(result.checks()))


@pytest.mark.parametrize("response, kind", [
    ("4", "add"), (" 10", "add"), ("It is 4.", "add"), ("Buenos Aires", "capital"),
    ("cock-a-doodle-doo", "sound"), ("gato", "spanish"), ("Buenos días", "spanish"),
    ("Como estas?", "spanish"), ("Donde esta la casa?", "spanish"), ("A short reply.", None),
])
def test_good_responses_pass_every_check(response, kind):
    result = adherence(response, stopped=True, kind=kind)
    assert result.failed() == [] and result.score == 1.0


def test_every_reference_answer_of_the_embedded_data_adheres():
    records = [row for _, row in read_json_rows(EMBEDDED_DATA_DIR / "eval.jsonl")]
    assert {r["kind"] for r in records} == set(LENGTH_BOUNDS)
    for r in records:
        assert adherence(r["response"], stopped=True, kind=r["kind"]).score == 1.0, r


def test_language_is_checked_only_when_asked_for():
    assert adherence("cat", stopped=True, kind="opposite").language_ok is None
    assert adherence("4", stopped=True, kind="add").checks().keys() == set(CHECKS) - {
        "language_ok"}
    assert adherence("cat", stopped=True, kind="opposite", language="es").language_ok is False
    with pytest.raises(CourseError, match="language 'fr'"):
        adherence("chat", stopped=True, language="fr")


def test_the_lexicon_tells_the_course_answers_from_their_english_inputs():
    # In-sample (the word list holds these answers); "no" is the same word in both.
    assert all(in_language(s, "es") for s in [*SPANISH_WORDS.values(), *SPANISH_PHRASES.values()])
    english = [e for e in [*SPANISH_WORDS, *SPANISH_PHRASES] if in_language(e, "es")]
    assert english == ["no"]


def test_score_is_the_share_of_applicable_checks():
    assert Adherence(True, False, True, False, None).score == 0.5
    assert Adherence(True, False, True, False, True).score == 0.6
    assert Adherence(False, False, False, False, False).failed() == list(CHECKS)


def test_a_later_piece_that_ends_with_a_question_mark_is_not_an_answer():
    """'4. Right?' goes on to ask, though 'Right' is no question word."""
    from course_lib.evaluation.adherence import answered

    assert answered("4. Right.")
    assert not answered("4. Right?")
    assert adherence("4. Right?", stopped=True, kind="add").failed() == ["answered"]


def test_a_spanish_answer_may_have_six_words():
    """The longest Spanish reference has 4 words, plus two of slack: 6 pass, 7 do not."""
    from course_lib.evaluation.adherence import length_ok

    assert LENGTH_BOUNDS["spanish"] == (1, 6)
    assert length_ok("si si si si si si", "spanish")
    assert not length_ok("si si si si si si si", "spanish")
