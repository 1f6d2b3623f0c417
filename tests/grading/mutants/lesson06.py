"""Wrong answers to the exercises of 06_did_it_work.ipynb (exact match, a template leak,
paraphrase consistency, choosing a metric)."""

from __future__ import annotations

from scipy.stats import spearmanr

from course_lib.evaluation.metrics import bleu, chrf, rouge_l
from course_lib.evaluation.metrics import exact_match as course_exact_match
from course_lib.grading.checks.lesson06 import NUMBER_WORDS

from . import mutant

# As the notebook's setup cell defines them.
MARKERS = ["Instruction:", "Input:", "Response:", "Human:", "Assistant:"]
METRICS = {"exact_match": course_exact_match, "rouge_l": rouge_l, "bleu": bleu, "chrf": chrf}


@mutant("ex06_1", "case kept", phrase="case must not matter")
def exact_match__case_kept(prediction: str, reference: str) -> bool:
    def norm(text):
        text = " ".join(text.split()).strip(" .,!?;:\"'")
        return NUMBER_WORDS.get(text, text)

    return norm(prediction) == norm(reference)


@mutant("ex06_1", "punctuation stripped everywhere", phrase="only at the ends")
def exact_match__punctuation_everywhere(prediction: str, reference: str) -> bool:
    import re

    def norm(text):
        text = re.sub(r"[^\w\s]", "", " ".join(text.lower().split())).strip()
        return NUMBER_WORDS.get(text, text)

    return norm(prediction) == norm(reference)


@mutant("ex06_1", "contains instead of equals", phrase="compare the whole answers")
def exact_match__contains(prediction: str, reference: str) -> bool:
    def norm(text):
        text = " ".join(text.lower().split()).strip(" .,!?;:\"'")
        return NUMBER_WORDS.get(text, text)

    return norm(reference) in norm(prediction)


@mutant("ex06_1", "number words left as words", phrase="number word")
def exact_match__no_number_words(prediction: str, reference: str) -> bool:
    def norm(text):
        return " ".join(text.lower().split()).strip(" .,!?;:\"'")

    return norm(prediction) == norm(reference)


@mutant("ex06_2", "case-sensitive", phrase="whatever their case")
def no_template_leak__case_sensitive(response: str) -> bool:
    return not any(marker in response for marker in MARKERS)


@mutant("ex06_2", "only at the start", phrase="anywhere in the text")
def no_template_leak__start_only(response: str) -> bool:
    text = response.lower().lstrip("# ")
    return not any(text.startswith(marker.lower()) for marker in MARKERS)


@mutant("ex06_2", "only '###' counts", phrase="every marker of MARKERS")
def no_template_leak__hashes_only(response: str) -> bool:
    return "###" not in response


@mutant("ex06_2", "True for a leak", phrase="not the other way round")
def no_template_leak__inverted(response: str) -> bool:
    text = response.lower()
    return any(marker.lower() in text for marker in MARKERS)


@mutant("ex06_3", "answers not normalised", phrase="after `normalize`")
def group_consistency__raw(answers_by_group: dict[str, list[str]], normalize) -> dict[str, float]:
    from collections import Counter

    return {group: Counter(answers).most_common(1)[0][1] / len(answers)
            for group, answers in answers_by_group.items()}


@mutant("ex06_3", "compared with the first answer", phrase="most common")
def group_consistency__first_answer(answers_by_group: dict[str, list[str]],
                                    normalize) -> dict[str, float]:
    shares = {}
    for group, answers in answers_by_group.items():
        first = normalize(answers[0])
        shares[group] = sum(normalize(a) == first for a in answers) / len(answers)
    return shares


@mutant("ex06_3", "one over the number of distinct answers", phrase="most common one")
def group_consistency__distinct(answers_by_group: dict[str, list[str]],
                                normalize) -> dict[str, float]:
    return {group: 1 / len({normalize(a) for a in answers})
            for group, answers in answers_by_group.items()}


@mutant("ex06_4", "highest mean score", phrase="0-100 scale")
def best_metric__highest_mean(cases: list[tuple[str, str, float]]) -> str:
    means = {name: sum(float(metric(p, r)) for p, r, _ in cases) / len(cases)
             for name, metric in METRICS.items()}
    return max(means, key=means.get)


@mutant("ex06_4", "constant metric not left out", phrase="Skip metrics")
def best_metric__nan_kept(cases: list[tuple[str, str, float]]) -> str:
    humans = [rating for _, _, rating in cases]
    rhos = {name: spearmanr(humans, [float(metric(p, r)) for p, r, _ in cases]).statistic
            for name, metric in METRICS.items()}
    return max(rhos, key=rhos.get)


@mutant("ex06_4", "lowest correlation", phrase="highest Spearman rho")
def best_metric__lowest(cases: list[tuple[str, str, float]]) -> str:
    humans = [rating for _, _, rating in cases]
    rhos = {}
    for name, metric in METRICS.items():
        scores = [float(metric(p, r)) for p, r, _ in cases]
        if len(set(scores)) > 1:
            rhos[name] = spearmanr(humans, scores).statistic
    return min(rhos, key=rhos.get)
