"""Checks for lesson 06, measuring a tuned model: exact match, a template leak, consistency,
and choosing the metric that agrees with people."""

from __future__ import annotations

import numbers

from course_lib.grading.checks import rounded_places
from course_lib.grading.registry import exercise

NUMBER_WORDS = {w: str(i) for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty".split())}

# (prediction, reference, equal after the stated normalisation, what to say when wrong)
CASE = "case must not matter: lower-case both answers"
NUMBER = "a whole answer that is a number word counts as its digits (NUMBER_WORDS)"
INSIDE = "strip punctuation only at the ends, never inside the answer"
WHOLE = "compare the whole answers, not whether one contains or starts with the other"
ENDS = ("strip only . , ! ? ; : \" ' and spaces at the ends ('-' and '%' are part of "
        "the answer)")
QUOTES = "strip every one of . , ! ? ; : \" ' at the ends, single quotes and colons too"
MATCH_CASES = [
    ("4", "4", True, "the same text is a match"),
    ("  PARIS ", "Paris", True, CASE),
    ('"Buenos   dias!"', "buenos dias", True,
     "collapse inner spaces and strip quotes and '!' at the ends"),
    ("Four.", "4", True, NUMBER),
    ("twelve", "12", True, NUMBER),
    ("4.5", "4.5.", True, "a full stop at the end is stripped"),
    ("4.5", "45", False, INSIDE),
    ("2+2", "22", False, INSIDE),
    ("42", "4", False, WHOLE),
    ("4. What is 3+3?", "4", False, WHOLE),
    ("The answer is 4", "4", False, WHOLE),
    ("", "4", False, "an empty answer matches nothing"),
    ("two apples", "2 apples", False,
     "only a whole answer that is a number word becomes digits, so 'two apples' keeps its words"),
    ("-4", "4", False, ENDS),
    ("50%", "50", False, ENDS),
    ("buenos\ndias", "buenos  dias", True,
     "every run of whitespace (newlines and tabs too) becomes one space, as split() does"),
    ("'4'", "4", True, QUOTES),
    ("Paris:", "Paris", True, QUOTES),
    ("4.\n", "4", True, "do the steps in the task's order: collapse whitespace first, then "
     "strip the ends, so '4.\\n' becomes '4'"),
    ("4", "four", True, "normalise both answers the same way: a number word in the reference "
     "becomes digits too"),
    ("4 .", "4", True, "strip spaces too at the ends, with the marks, so '4 .' becomes '4'"),
    ("ice cream", "icecream", False, "collapse each run of whitespace into one space, do not "
     "remove it: 'ice cream' and 'icecream' differ"),
    ("4.0", "4", False, "compare the normalised answers as text, not as numbers (float()): the "
     "stated steps leave '4.0' as it is, and it is not '4'"),
]


@exercise(
    "ex06_1",
    title="Exact match after a stated normalisation",
    hints=[
        "Write a helper norm(text) and compare norm(prediction) == norm(reference).",
        "norm: text.lower(); ' '.join(text.split()) collapses whitespace; "
        "text.strip(' .,!?;:\"\'') strips those characters from both ends only.",
        "Last step: NUMBER_WORDS.get(text, text) turns a whole-answer number word into digits.",
    ],
)
def check_exact_match(exact_match):
    for prediction, reference, want, why in MATCH_CASES:
        got = exact_match(prediction, reference)
        assert isinstance(got, bool), (
            f"exact_match should return True or False, not {type(got).__name__}.")
        assert got == want, f"exact_match({prediction!r}, {reference!r}) should be {want}: {why}."


# (response, no marker in it?, what to say when wrong)
ANYWHERE = "the marker comes after the answer: look anywhere in the text, not just at the start"
ANY_CASE = "markers count whatever their case: compare in lower case"
GLUED = ("a marker glued to other text counts, so look for it as text "
         "(marker.lower() in text), not as a whole word")
LEAK_CASES = [
    ("4", True, "a clean answer gives True (and a leak False, not the other way round)"),
    ("Paris", True, "a clean answer gives True"),
    ("", True, "an empty response holds no marker"),
    ("The input was long.", True, "'input' without a colon is not a marker"),
    ("### Instruction: 4", False, "it holds 'Instruction:' exactly as MARKERS writes it: "
     "lower-case the response, and lower-case each marker too, not only one of them"),
    ("4 ### Instruction: What is 3+3?", False, ANYWHERE),
    ("Human: hi", False, "check every marker of MARKERS, not only the '###' ones or the first"),
    ("### response: 4", False, ANY_CASE),
    ("4\n\n### Instruction:\nWhat is", False, ANYWHERE),
    ("ASSISTANT: 4", False, ANY_CASE),
    ("4 ### Input: Hello", False, "check every marker of MARKERS, 'Input:' too, by looping over "
     "the list rather than typing your own"),
    ("4 ###Response:5", False, GLUED),
    ("4Response: 5", False, GLUED),
]


@exercise(
    "ex06_2",
    title="An adherence check: no template marker in the response",
    hints=[
        "Return True when none of MARKERS appears anywhere in the response.",
        "Compare in lower case: marker.lower() in response.lower(), so '### response:' counts.",
        "Use `not any(...)` over all markers; a marker in the middle of the text counts too.",
    ],
)
def check_no_template_leak(no_template_leak):
    for response, want, why in LEAK_CASES:
        got = no_template_leak(response)
        assert isinstance(got, bool), (
            f"no_template_leak should return True or False, not {type(got).__name__}.")
        assert got == want, f"no_template_leak({response!r}) should be {want}: {why}."


def _normalize(text: str) -> str:
    text = " ".join(text.lower().split()).strip(" .,!?")
    return NUMBER_WORDS.get(text, text)


GROUPS = {"2+2": ["4", "four", "5"], "France": ["Paris", "paris.", "Paris"],
          "cow": ["woof", "moo", "Moo!", "baa"], "one": ["x"]}
WANT_SHARES = {"2+2": 2 / 3, "France": 1.0, "cow": 0.5, "one": 1.0}


@exercise(
    "ex06_3",
    title="Consistency across paraphrases",
    hints=[
        "For each group: normalise every answer with `normalize`, then count them "
        "(collections.Counter).",
        "The share is (count of the most common answer) / (number of answers in the group): "
        "Counter(...).most_common(1)[0][1] / len(answers).",
        "Return a dict with the same keys as answers_by_group.",
    ],
)
def check_group_consistency(group_consistency):
    given = {k: list(v) for k, v in GROUPS.items()}
    got = group_consistency(given, _normalize)
    assert given == GROUPS, (
        "group_consistency changed the answers_by_group it was given: build a new dict of "
        "shares.")
    assert isinstance(got, dict) and set(got) == set(GROUPS), (
        f"group_consistency should return one share per group ({sorted(GROUPS)}), got {got!r}.")
    if _near(got["France"], 2 / 3):  # 'Paris' and 'paris.' told apart: not normalised
        raise AssertionError(f"France: {GROUPS['France']} gives 0.667, expected 1.000: compare "
                             f"the answers after `normalize` ('Paris' and 'paris.' agree).")
    places = rounded_places([got[g] for g in WANT_SHARES], WANT_SHARES.values())
    for group, want in WANT_SHARES.items():
        share = got[group]
        if _near(share, want):  # 0.667 for 2/3 counts: the task's own example is rounded
            continue
        assert not places, (f"{group}: your share {share} is the share of {GROUPS[group]} "
                            f"rounded to {places} decimal places: do not round it, return "
                            f"the division's result as it is.")
        if group == "cow" and _near(share, 0.25):
            raise AssertionError(f"cow: {GROUPS['cow']} gives {share:.3f}, expected 0.500: "
                                 f"compare with the group's *most common* answer ('moo'), "
                                 f"not with the first one.")
        raise AssertionError(f"{group}: the answers {GROUPS[group]} should give {want:.3f} "
                             f"(share of answers equal to the most common one), "
                             f"not {_show(share)}.")
    _check_normalize_used(group_consistency)


def _first_letter(text: str) -> str:
    """A normalize of another kind than the notebook's: the answer's first letter."""
    return text[:1]


def _check_normalize_used(group_consistency) -> None:
    """Another normalize than the notebook's: the shares follow the function given."""
    answers = ["cat", "cow", "dog"]  # 'cat' and 'cow' agree by their first letter
    got = group_consistency({"animals": list(answers)}, _first_letter)
    share = got.get("animals") if isinstance(got, dict) else got
    assert _near(share, 2 / 3), (
        f"with a normalize that keeps only the first letter, the answers {answers} should give "
        f"0.667 ('cat' and 'cow' agree after it), not {_show(share)}: normalise each answer "
        f"with `normalize`, the function given, not with a rule of your own.")


def _show(share) -> str:
    """A share as the learner would print it: 3 places for a number, else its repr."""
    return f"{share:.3f}" if isinstance(share, numbers.Real) else repr(share)


def _near(share, want: float) -> bool:
    """Equal up to rounding to 3 places (the task's own example shows 2/3 as 0.667)."""
    return isinstance(share, numbers.Real) and abs(share - want) <= 5e-4 + 1e-12


# (prediction, reference, human rating 1-5): short answers, long free text, then two sets
# where a plausible wrong rule (Pearson's r, the largest abs(rho)) picks another metric.
SHORT_ANSWERS = [("4", "4", 5), ("four", "4", 5), ("12", "21", 1),
                 ("The answer is 12", "The answer is 21", 1), ("Paris", "Paris", 5),
                 ("paris.", "Paris", 5), ("5", "4", 1), ("Lima", "Paris", 1),
                 ("Buenos dias", "buenos días", 5)]
LONG_ANSWERS = [
    ("The cat sat on the mat all day.", "A cat sat on the mat the whole day.", 4),
    ("The cat slept.", "A cat sat on the mat the whole day.", 2),
    ("Dogs bark at night.", "A cat sat on the mat the whole day.", 1),
    ("The meeting moved to Friday at noon.", "The meeting was moved to Friday, at noon.", 5),
    ("The meeting is on Monday.", "The meeting was moved to Friday, at noon.", 2),
    ("Prices rose by five percent last year.", "Last year prices went up five percent.", 4),
    ("Prices fell.", "Last year prices went up five percent.", 1),
]
# Paraphrases, graded 1-5: BLEU ranks them most like people do (rho 0.89, ROUGE-L 0.67), but
# ROUGE-L's scores lie closer to a straight line (Pearson's r 0.87, BLEU's 0.64).
PARAPHRASES = [
    ("The meeting moved to Friday at noon.", "The meeting was moved to Friday, at noon.", 5),
    ("The meeting was moved to Friday, at noon.", "The meeting was moved to Friday, at noon.", 5),
    ("Meeting moved to Friday.", "The meeting was moved to Friday, at noon.", 3),
    ("Dogs bark at night.", "A cat sat on the mat the whole day.", 1),
    ("It is 21.", "The answer is 21", 5),
]
# Wrong facts in the reference's own words next to right paraphrases: BLEU's rho is -0.95
# (it ranks the cases backwards), ROUGE-L's +0.32 is the highest.
WRONG_IN_ITS_WORDS = [
    ("The meeting moved to Friday at noon.", "The meeting was moved to Friday, at noon.", 5),
    ("A cat sat on the mat.", "A cat sat on the mat the whole day.", 3),
    ("Last year prices went up 5%.", "Last year prices went up five percent.", 5),
    ("The answer is 12", "The answer is 21", 1),
    ("The capital of France is Lyon.", "The capital of France is Paris.", 1),
]
# Short and long answers together: exact_match has the highest Kendall's tau (0.53, ROUGE-L's
# 0.45), ROUGE-L the highest Spearman's rho (0.63, exact match's 0.56).
MIXED = [
    ("The cat slept.", "A cat sat on the mat the whole day.", 2),
    ("The meeting is on Monday.", "The meeting was moved to Friday, at noon.", 2),
    ("Paris", "Paris", 5),
    ("Last year prices went up 5%.", "Last year prices went up five percent.", 5),
    ("The answer is 12", "The answer is 21", 1),
]
# Wrong answers in the reference's words, right ones in others: every rankable metric ranks
# them backwards (rho: BLEU -0.77, ROUGE-L -0.80, chrF -0.95); exact match scores every case 0.
BACKWARDS = [
    ("The answer is 12", "The answer is 21", 1),
    ("The capital of France is Lyon.", "The capital of France is Paris.", 1),
    ("It is 21.", "The answer is 21", 5),
    ("Paris, of course.", "The capital of France is Paris.", 5),
    ("The meeting was moved to Monday, at noon.", "The meeting was moved to Friday, at noon.", 1),
    ("Friday, at twelve.", "The meeting was moved to Friday, at noon.", 4),
    ("Prices went up by 5% last year.", "Last year prices went up five percent.", 3),
]
SCALE = ("it has the highest scores, but BLEU and chrF are on a 0-100 scale. Compare how each "
         "metric *ranks* the cases with the human ratings (Spearman's rho), not the size of its "
         "scores")
CONSTANT = ("it gives every case 0, so its rho is nan and cannot be compared. Skip metrics "
            "whose scores are all the same")
PEARSON = ("its scores have the highest Pearson (straight-line) correlation with the ratings, "
           "but the task asks for Spearman's rank correlation, spearmanr(...).statistic")
NAN_AS_ZERO = ("it gives every case 0, so its rho is nan, and nan is not 0: counted as 0 it "
               "beats the others' negative rhos. Leave out metrics whose scores are all the same")
SIGN = ("its rho is negative (it ranks the cases the *opposite* way from people): take the "
        "highest rho, not the largest abs(rho)")
KENDALL = ("its Kendall's tau is the highest, but the task asks for Spearman's rank "
           "correlation, spearmanr(...).statistic, and by that 'rouge_l' agrees best")
LARGEST_NAME = max(["exact_match", "rouge_l", "bleu", "chrf"])  # the notebook's METRICS
# (cases, the metric with the highest rho, what they are, {a wrong choice: why it is wrong})
METRIC_CASES = [
    (SHORT_ANSWERS, "exact_match", "short answers", {"chrf": SCALE}),
    (LONG_ANSWERS, "chrf", "long free-text answers", {"exact_match": CONSTANT}),
    (PARAPHRASES, "bleu", "a mix of paraphrases graded 1-5", {"rouge_l": PEARSON}),
    (WRONG_IN_ITS_WORDS, "rouge_l", "wrong answers in the reference's own words",
     {"bleu": SIGN, "chrf": SIGN}),
    (MIXED, "rouge_l", "a mix of short and long answers", {"exact_match": KENDALL}),
    (BACKWARDS, "bleu", "answers that every metric ranks backwards (each rho is negative)",
     {"exact_match": NAN_AS_ZERO}),
]


@exercise(
    "ex06_4",
    title="Choose the metric that agrees with people",
    hints=[
        "For each metric in METRICS, score every case: [metric(p, r) for p, r, _ in cases].",
        "Compare rankings, not values (BLEU and chrF are 0-100, the others 0-1): "
        "spearmanr(human_scores, metric_scores).statistic.",
        "A metric that gives every case the same score has rho nan: skip it (check "
        "len(set(scores)) > 1), then return the name with the highest rho.",
    ],
)
def check_best_metric(best_metric):
    for cases, want, what, traps in METRIC_CASES:
        got = best_metric(list(cases))
        if got == want:
            continue
        if got in traps:
            raise AssertionError(f"for {what} you chose {got!r}: {traps[got]}.")
        # max() of a dict compares its keys: the largest name for every set of cases.
        names = got == LARGEST_NAME and all(best_metric(list(other)) == LARGEST_NAME
                                            for other, *_ in METRIC_CASES)
        keys = (" (if you wrote max(rhos), it compares the names: max(rhos, key=rhos.get) "
                "compares the rhos)" if names else "")
        raise AssertionError(f"for {what} the metric whose ranking agrees best with the "
                             f"ratings is {want!r} (highest Spearman rho), not {got!r}{keys}.")
