"""Wrong answers to the exercises of 06_did_it_work.ipynb (exact match, a template leak,
paraphrase consistency, choosing a metric)."""

from __future__ import annotations

from scipy.stats import spearmanr

from course_lib.evaluation.metrics import bleu, chrf, rouge_l
from course_lib.evaluation.metrics import exact_match as course_exact_match
from course_lib.grading.checks.lesson06 import NUMBER_WORDS

from . import mutant, right

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


@mutant("ex06_1", "number words replaced inside the answer", phrase="whole answer")
def exact_match__number_words_inside(prediction: str, reference: str) -> bool:
    def norm(text):
        text = " ".join(text.lower().split()).strip(" .,!?;:\"'")
        return " ".join(NUMBER_WORDS.get(word, word) for word in text.split())

    return norm(prediction) == norm(reference)


@mutant("ex06_1", "every punctuation mark stripped at the ends", phrase="'-' and '%'")
def exact_match__all_punctuation_at_ends(prediction: str, reference: str) -> bool:
    import string

    def norm(text):
        text = " ".join(text.lower().split()).strip(string.punctuation + " ")
        return NUMBER_WORDS.get(text, text)

    return norm(prediction) == norm(reference)


@mutant("ex06_1", "only runs of spaces collapsed", phrase="newlines and tabs too")
def exact_match__spaces_only(prediction: str, reference: str) -> bool:
    import re

    def norm(text):
        text = re.sub(" +", " ", text.lower()).strip(" .,!?;:\"'")
        return NUMBER_WORDS.get(text, text)

    return norm(prediction) == norm(reference)


@mutant("ex06_1", "quote, ';' and ':' not stripped", phrase="single quotes and colons too")
def exact_match__some_marks_kept(prediction: str, reference: str) -> bool:
    def norm(text):
        text = " ".join(text.lower().split()).strip(' .,!?"')
        return NUMBER_WORDS.get(text, text)

    return norm(prediction) == norm(reference)


@right("ex06_1", "casefold and regular expressions")
def exact_match__regex(prediction: str, reference: str) -> bool:
    import re

    normalised = []
    for text in (prediction, reference):
        text = re.sub(r"\s+", " ", text.casefold()).strip()
        text = re.sub(r"^[.,!?;:\"' ]+|[.,!?;:\"' ]+$", "", text)
        normalised.append(NUMBER_WORDS.get(text, text))
    return normalised[0] == normalised[1]


@mutant("ex06_2", "own marker list without 'Input:'", phrase="'Input:' too")
def no_template_leak__own_markers(response: str) -> bool:
    markers = ["instruction:", "response:", "human:", "assistant:"]
    return not any(marker in response.lower() for marker in markers)


@mutant("ex06_2", "markers matched as whole words", phrase="not as a whole word")
def no_template_leak__whole_words(response: str) -> bool:
    words = response.lower().split()
    return not any(marker.lower() in words for marker in MARKERS)


@right("ex06_2", "a regular expression, case ignored")
def no_template_leak__regex(response: str) -> bool:
    import re

    pattern = "|".join(re.escape(marker) for marker in MARKERS)
    return re.search(pattern, response, flags=re.IGNORECASE) is None


@right("ex06_3", "Counter, rounded to 3 places as the task shows")
def group_consistency__rounded(answers_by_group: dict[str, list[str]],
                               normalize) -> dict[str, float]:
    from collections import Counter

    shares = {}
    for group, answers in answers_by_group.items():
        counts = Counter(normalize(answer) for answer in answers)
        shares[group] = round(counts.most_common(1)[0][1] / len(answers), 3)
    return shares


@right("ex06_3", "max over list.count")
def group_consistency__count(answers_by_group: dict[str, list[str]],
                             normalize) -> dict[str, float]:
    def share(answers):
        normalised = [normalize(answer) for answer in answers]
        return max(normalised.count(a) for a in normalised) / len(normalised)

    return {group: share(answers) for group, answers in answers_by_group.items()}


@mutant("ex06_4", "Pearson instead of Spearman", phrase="Pearson")
def best_metric__pearson(cases: list[tuple[str, str, float]]) -> str:
    from scipy.stats import pearsonr

    humans = [rating for _, _, rating in cases]
    rhos = {}
    for name, metric in METRICS.items():
        scores = [float(metric(p, r)) for p, r, _ in cases]
        if len(set(scores)) > 1:
            rhos[name] = pearsonr(humans, scores).statistic
    return max(rhos, key=rhos.get)


@mutant("ex06_4", "largest absolute correlation", phrase="not the largest abs(rho)")
def best_metric__abs(cases: list[tuple[str, str, float]]) -> str:
    humans = [rating for _, _, rating in cases]
    rhos = {}
    for name, metric in METRICS.items():
        scores = [float(metric(p, r)) for p, r, _ in cases]
        if len(set(scores)) > 1:
            rhos[name] = abs(spearmanr(humans, scores).statistic)
    return max(rhos, key=rhos.get)


@right("ex06_4", "nan dropped after computing rho, sorted")
def best_metric__nan_dropped(cases: list[tuple[str, str, float]]) -> str:
    import math

    humans = [rating for _, _, rating in cases]
    rhos = []
    for name, metric in METRICS.items():
        rho = spearmanr(humans, [float(metric(p, r)) for p, r, _ in cases]).statistic
        if not math.isnan(rho):
            rhos.append((rho, name))
    return sorted(rhos)[-1][1]


@mutant("ex06_1", "punctuation stripped before whitespace is collapsed",
        phrase="in the task's order")
def exact_match__steps_swapped(prediction: str, reference: str) -> bool:
    def norm(text):
        text = text.lower().strip(" .,!?;:\"'")
        text = " ".join(text.split())
        return NUMBER_WORDS.get(text, text)

    return norm(prediction) == norm(reference)


@mutant("ex06_1", "number words turned into digits in the prediction only",
        phrase="both answers")
def exact_match__number_words_one_side(prediction: str, reference: str) -> bool:
    def norm(text):
        return " ".join(text.lower().split()).strip(" .,!?;:\"'")

    predicted = norm(prediction)
    return NUMBER_WORDS.get(predicted, predicted) == norm(reference)


@mutant("ex06_1", "spaces not in the set stripped at the ends", phrase="spaces too")
def exact_match__space_not_stripped(prediction: str, reference: str) -> bool:
    def norm(text):
        text = " ".join(text.lower().split()).strip(".,!?;:\"'")
        return NUMBER_WORDS.get(text, text)

    return norm(prediction) == norm(reference)


@mutant("ex06_2", "markers matched after a word boundary", phrase="glued to other text")
def no_template_leak__word_boundary(response: str) -> bool:
    import re

    return not any(re.search(r"\b" + re.escape(marker), response, re.IGNORECASE)
                   for marker in MARKERS)


@mutant("ex06_3", "share of agreeing pairs", phrase="most common one")
def group_consistency__pairs(answers_by_group: dict[str, list[str]],
                             normalize) -> dict[str, float]:
    from itertools import combinations

    shares = {}
    for group, answers in answers_by_group.items():
        pairs = list(combinations([normalize(a) for a in answers], 2))
        shares[group] = sum(a == b for a, b in pairs) / len(pairs) if pairs else 1.0
    return shares


@mutant("ex06_4", "Kendall's tau instead of Spearman's rho", phrase="Kendall")
def best_metric__kendall(cases: list[tuple[str, str, float]]) -> str:
    from scipy.stats import kendalltau

    humans = [rating for _, _, rating in cases]
    taus = {}
    for name, metric in METRICS.items():
        scores = [float(metric(p, r)) for p, r, _ in cases]
        if len(set(scores)) > 1:
            taus[name] = kendalltau(humans, scores).statistic
    return max(taus, key=taus.get)


@mutant("ex06_3", "shares rounded to 2 places", phrase="do not round")
def group_consistency__rounded_to_2(answers_by_group: dict[str, list[str]],
                                    normalize) -> dict[str, float]:
    from collections import Counter

    shares = {}
    for group, answers in answers_by_group.items():
        counts = Counter(normalize(answer) for answer in answers)
        shares[group] = round(counts.most_common(1)[0][1] / len(answers), 2)
    return shares


@mutant("ex06_1", "whitespace removed, not collapsed", phrase="do not remove it")
def exact_match__whitespace_removed(prediction: str, reference: str) -> bool:
    def norm(text):
        text = "".join(text.lower().split()).strip(" .,!?;:\"'")
        return NUMBER_WORDS.get(text, text)

    return norm(prediction) == norm(reference)


@mutant("ex06_2", "the response lower-cased, the markers not", phrase="lower-case each marker too")
def no_template_leak__markers_not_lowered(response: str) -> bool:
    text = response.lower()
    return not any(marker in text for marker in MARKERS)


@mutant("ex06_2", "return inside the loop: the first marker only", phrase="or the first")
def no_template_leak__first_marker_only(response: str) -> bool:
    for marker in MARKERS:
        return marker.lower() not in response.lower()


@mutant("ex06_3", "shares written into the dict given, and it returned",
        phrase="changed the answers_by_group it was given")
def group_consistency__in_place(answers_by_group: dict[str, list[str]],
                                normalize) -> dict[str, float]:
    from collections import Counter

    for group, answers in answers_by_group.items():
        top = Counter(map(normalize, answers)).most_common(1)[0][1]
        answers_by_group[group] = top / len(answers)
    return answers_by_group


@mutant("ex06_4", "max(rhos): the largest name, not the largest rho",
        phrase="max(rhos, key=rhos.get)")
def best_metric__max_of_keys(cases: list[tuple[str, str, float]]) -> str:
    humans = [rating for _, _, rating in cases]
    rhos = {}
    for name, metric in METRICS.items():
        scores = [float(metric(p, r)) for p, r, _ in cases]
        if len(set(scores)) > 1:
            rhos[name] = spearmanr(humans, scores).statistic
    return max(rhos)


@mutant("ex06_3", "normalize ignored: answers compared with the notebook's exact_match",
        phrase="with `normalize`, the function given")
def group_consistency__exact_match_instead(
    answers_by_group: dict[str, list[str]], normalize
) -> dict[str, float]:
    shares = {}
    for group, answers in answers_by_group.items():
        agree = max(sum(bool(course_exact_match(a, b)) for b in answers) for a in answers)
        shares[group] = agree / len(answers)
    return shares


@mutant("ex06_4", "each metric called as metric(reference, prediction)",
        phrase="is 'chrf' (highest Spearman rho), not 'rouge_l'.")
def best_metric__arguments_swapped(cases: list[tuple[str, str, float]]) -> str:
    humans = [rating for _, _, rating in cases]
    rhos = {}
    for name, metric in METRICS.items():
        scores = [float(metric(reference, prediction)) for prediction, reference, _ in cases]
        if len(set(scores)) > 1:
            rhos[name] = spearmanr(humans, scores).statistic
    return max(rhos, key=rhos.get)


@mutant("ex06_2", "the markers lower-cased, the response not", phrase="not only one of them")
def no_template_leak__markers_lowered_only(response: str) -> bool:
    return not any(marker.lower() in response for marker in MARKERS)


@mutant("ex06_1", "compared as numbers (float()) when both parse", phrase="not as numbers")
def exact_match__as_numbers(prediction: str, reference: str) -> bool:
    def norm(text: str) -> str:
        text = " ".join(text.lower().split()).strip(" .,!?;:\"'")
        return NUMBER_WORDS.get(text, text)

    a, b = norm(prediction), norm(reference)
    try:
        return float(a) == float(b)
    except ValueError:
        return a == b


@mutant("ex06_4", "a nan rho counted as 0, not left out", phrase="nan is not 0")
def best_metric__nan_as_zero(cases: list[tuple[str, str, float]]) -> str:
    import math

    humans = [rating for _, _, rating in cases]
    rhos = {}
    for name, metric in METRICS.items():
        scores = [float(metric(p, r)) for p, r, _ in cases]
        rho = spearmanr(humans, scores).statistic
        rhos[name] = 0.0 if math.isnan(rho) else rho
    return max(rhos, key=rhos.get)


@right("ex06_4", "pandas: corrwith(method='spearman'), idxmax skips the nan")
def best_metric__pandas(cases: list[tuple[str, str, float]]) -> str:
    import pandas as pd

    scores = pd.DataFrame({name: [float(metric(p, r)) for p, r, _ in cases]
                           for name, metric in METRICS.items()})
    humans = pd.Series([rating for _, _, rating in cases], dtype=float)
    return scores.corrwith(humans, method="spearman").idxmax()
