"""Answer metrics: the stated normalisation, the first answer, and agreement with the libraries."""

from __future__ import annotations

import doctest
import importlib

import pytest
import sacrebleu
from rouge_score import rouge_scorer

from course_lib.evaluation.metrics import (
    PITFALL_CASES,
    bleu,
    chrf,
    corpus_bleu,
    corpus_chrf,
    exact_match,
    first_answer,
    first_answer_correct,
    metric_pitfalls,
    normalize_answer,
    rouge_l,
    rouge_n,
    split_pieces,
    template_markers_in,
)
from course_lib.formatting.records import load_records


@pytest.mark.parametrize("text, expected", [
    ("4", "4"), ("four", "4"), ("Four.", "4"), ("ten", "10"), ("zero", "0"),
    ("nineteen", "19"), ("twenty-one", "21"), ("twenty one", "21"), ("Ninety-nine!", "99"),
    ("one hundred", "100"), ("one hundred and five", "105"), ("three hundred twelve", "312"),
    ("seventeen", "17"), ("seventy", "70"), ("five plus two", "5 plus 2"),
    ('  "Paris."  ', "paris"), ("PARIS", "paris"), ("Mexico   City", "mexico city"),
    ("The sky", "sky"), ("an apple", "apple"), ("a cat", "cat"), ("theatre", "theatre"),
    ("¿Como estas?", "como estas"), ("Buenos Días", "buenos dias"), ("niño", "nino"),
    ("2+2", "2+2"), ("hee-haw", "hee-haw"), ("3.5", "3.5"), ("someone", "someone"),
])
def test_normalize_answer_does_what_its_docstring_says(text, expected):
    assert normalize_answer(text) == expected


def test_exact_match_compares_normalised_whole_answers():
    assert exact_match(" Twenty-one.", "21") and exact_match("The Paris", "paris")
    assert not exact_match("42", "4") and not exact_match("4. What is 3+3?", "4")


@pytest.mark.parametrize("prediction, first", [
    ("4. What is 3+3? 6", "4."),
    ("  Paris\nWhat is the capital of Peru?", "Paris"),
    ("Lima ### Instruction: What is 2+2?", "Lima"),
    ("meow Human: and a dog?", "meow"),
    ("Como estas? Bien", "Como estas?"),
    ("3.5 is the answer", "3.5 is the answer"),
    ("### Response: 4", ""),
    ("hola", "hola"),
])
def test_first_answer_stops_at_sentence_end_newline_or_marker(prediction, first):
    assert first_answer(prediction) == first


def test_first_answer_correct_forgives_the_ramble_but_not_a_wrong_start():
    assert first_answer_correct("4. What is 3+3? 6", "4")
    assert first_answer_correct("four\nfive", "4")
    assert not first_answer_correct("What is 2+2? 4", "4")
    assert not first_answer_correct("44. yes", "4")


def test_split_pieces_keeps_each_marker_with_its_text():
    assert split_pieces("4. ### Instruction: What is 3+3? ### Response: 6") == [
        "4.", "### Instruction: What is 3+3?", "### Response: 6"]
    assert template_markers_in("x ### Response: y Human: z") == ["### Response:", "Human:"]
    assert template_markers_in("The answer is 4. Ask me another.") == []


# Different lengths and partial overlaps, so that swapping prediction and reference, or
# taking precision instead of F1, would change the numbers.
CASES = [
    ("The answer is 12", "The answer is 21"),
    ("mundo Hola", "Hola mundo"),
    ("the cat sat on the mat today", "the cat is on the mat"),
    ("El coche rojo", "El perro rojo grande"),
    ("4", "4"),
    ("Paris", "Lima"),
]


@pytest.mark.parametrize("prediction, reference", CASES)
def test_rouge_equals_rouge_score(prediction, reference):
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"])
    expected = scorer.score(reference, prediction)  # rouge_score: target first
    assert rouge_n(prediction, reference, n=1) == expected["rouge1"].fmeasure
    assert rouge_n(prediction, reference, n=2) == expected["rouge2"].fmeasure
    assert rouge_l(prediction, reference) == expected["rougeL"].fmeasure


@pytest.mark.parametrize("prediction, reference, expected", [
    ("東京", "東京", 1.0), ("Москва", "Москва", 1.0), ("मुंबई", "मुंबई", 1.0),
    ("столица Франции Париж", "Париж", 0.5), ("東京は日本の首都です", "東京", 1 / 3),
    ("Москва", "Париж", 0.0),
])
def test_rouge_counts_words_of_every_script(prediction, reference, expected):
    # rouge-score's own tokenizer keeps a-z and 0-9 only: each of these was 0.
    assert rouge_l(prediction, reference) == pytest.approx(expected)
    assert rouge_n(prediction, reference, n=1) == pytest.approx(expected)


@pytest.mark.parametrize("name", ["course:eval", "course:eval_styles"])
def test_rouge_on_ascii_text_is_rouge_scores_own(name):
    # The lessons quote ROUGE numbers on these sets: the tokenizer must change none of them.
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"])
    answers = [r["response"] for r in load_records(name)]
    assert all(a.isascii() for a in answers)
    for i, answer in enumerate(answers):
        other = answers[(i + 7) % len(answers)]
        for prediction in (answer, answer[: len(answer) // 2 + 1], other, f"{other} {answer}"):
            expected = scorer.score(answer, prediction)
            assert rouge_n(prediction, answer, n=1) == expected["rouge1"].fmeasure
            assert rouge_n(prediction, answer, n=2) == expected["rouge2"].fmeasure
            assert rouge_l(prediction, answer) == expected["rougeL"].fmeasure


@pytest.mark.parametrize("prediction, reference", CASES)
def test_sentence_bleu_and_chrf_equal_sacrebleu(prediction, reference):
    assert bleu(prediction, reference) == sacrebleu.sentence_bleu(prediction, [reference]).score
    assert chrf(prediction, reference) == sacrebleu.sentence_chrf(prediction, [reference]).score


def test_corpus_bleu_and_chrf_equal_sacrebleu():
    predictions = [p for p, _ in CASES]
    references = [r for _, r in CASES]
    assert corpus_bleu(predictions, references) == sacrebleu.corpus_bleu(
        predictions, [references]).score
    assert corpus_chrf(predictions, references) == sacrebleu.corpus_chrf(
        predictions, [references]).score
    assert 0 < corpus_bleu(predictions, references) < 100


def test_metric_pitfalls_show_what_the_lesson_says():
    rows = {row["case"]: row for row in metric_pitfalls()}
    assert len(rows) == len(PITFALL_CASES)
    # BLEU on one word is exact match; over a corpus of right one-word answers it is 0.
    assert round(rows["one word, right"]["bleu"]) == 100 and rows["one word, wrong"]["bleu"] == 0
    assert rows["3 right one-word"]["exact_match"] == 1 and rows["3 right one-word"]["bleu"] == 0
    # A wrong number in a sentence keeps most of the overlap credit.
    wrong = rows["wrong number"]
    assert wrong["exact_match"] == 0 and wrong["rouge_l"] >= 0.75 and wrong["chrf"] > 80
    # Word order: ROUGE-1 cannot see it, ROUGE-L can.
    assert rows["words swapped"]["rouge_1"] == 1.0 and rows["words swapped"]["rouge_l"] == 0.5
    # An accent makes another word for ROUGE and BLEU, not for the normalised exact match.
    accent = rows["accent only"]
    assert accent["exact_match"] == 1 and accent["rouge_l"] == 0.5 and round(accent["bleu"]) == 50
    assert rows["right, then rambles"]["rouge_l"] < 0.3
    assert first_answer_correct(rows["right, then rambles"]["prediction"], "4")


@pytest.mark.parametrize("name", ["metrics", "adherence", "uncertainty", "agreement"])
def test_docstring_examples_run(name):
    module = importlib.import_module(f"course_lib.evaluation.{name}")
    failures, tried = doctest.testmod(module)
    assert tried > 0 and failures == 0, f"a docstring example of evaluation.{name} is wrong"


def test_first_answer_correct_compares_with_the_whole_reference():
    """Only the prediction is cut: a reference 'St. Louis' is not read as 'St.'."""
    assert not first_answer_correct("St. Paul is the one.", "St. Louis")
    assert first_answer_correct("Paris. It is in France.", "Paris")
