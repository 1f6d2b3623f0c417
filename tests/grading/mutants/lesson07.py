"""Wrong answers to the exercises of 07_mistakes_measured.ipynb (a variant data set, is a
difference real, a data check for one style everywhere, every task before and after, a data
check for tasks asked in one way only)."""

from __future__ import annotations

import random

from course_lib.formatting.stats import instruction_style, task_kind
from course_lib.formatting.templates import format_text

from . import mutant, right

# As the notebook's setup cell defines it.
TEMPLATE_NAMES = ("one_line", "human_assistant", "qa")


@mutant("ex07_1", "int() instead of round()", phrase="not int(...)")
def mix_templates__floor(records: list[dict], share: float, seed: int = 0) -> list[dict]:
    chosen = random.Random(seed).sample(range(len(records)), int(share * len(records)))
    template_at = {i: TEMPLATE_NAMES[n % 3] for n, i in enumerate(chosen)}
    return [{"text": format_text(record, template_at[i])} if i in template_at else record
            for i, record in enumerate(records)]


@mutant("ex07_1", "the first rows, not random ones", phrase="at random")
def mix_templates__first_rows(records: list[dict], share: float, seed: int = 0) -> list[dict]:
    k = round(share * len(records))
    return [{"text": format_text(record, TEMPLATE_NAMES[i % 3])} if i < k else record
            for i, record in enumerate(records)]


@mutant("ex07_1", "one template only", phrase="a third each")
def mix_templates__one_template(records: list[dict], share: float,
                                seed: int = 0) -> list[dict]:
    chosen = set(random.Random(seed).sample(range(len(records)), round(share * len(records))))
    return [{"text": format_text(record, "one_line")} if i in chosen else record
            for i, record in enumerate(records)]


@mutant("ex07_1", "input dropped", phrase="keep the input too")
def mix_templates__input_dropped(records: list[dict], share: float,
                                 seed: int = 0) -> list[dict]:
    chosen = random.Random(seed).sample(range(len(records)), round(share * len(records)))
    template_at = {i: TEMPLATE_NAMES[n % 3] for n, i in enumerate(chosen)}
    return [{"text": format_text({"instruction": record["instruction"],
                                  "response": record["response"]}, template_at[i])}
            if i in template_at else record for i, record in enumerate(records)]


@mutant("ex07_1", "records changed in place", phrase="changed the records")
def mix_templates__in_place(records: list[dict], share: float, seed: int = 0) -> list[dict]:
    chosen = random.Random(seed).sample(range(len(records)), round(share * len(records)))
    for n, i in enumerate(chosen):
        records[i] = {"text": format_text(records[i], TEMPLATE_NAMES[n % 3])}
    return records


@mutant("ex07_2", "medians compared, ranges ignored", phrase="compare ranges, not medians")
def compare_arms__medians(baseline: list[float], variant: list[float],
                          higher_is_better: bool = True) -> str:
    import statistics

    if len(baseline) < 2 or len(variant) < 2:
        return "need more seeds"
    diff = statistics.median(variant) - statistics.median(baseline)
    if diff == 0:
        return "no difference"
    return "better" if (diff > 0) == higher_is_better else "worse"


@mutant("ex07_2", "touching ranges called different", phrase="ranges that touch")
def compare_arms__strict(baseline: list[float], variant: list[float],
                         higher_is_better: bool = True) -> str:
    if len(baseline) < 2 or len(variant) < 2:
        return "need more seeds"
    if min(variant) < max(baseline) and min(baseline) < max(variant):
        return "no difference"
    higher = min(variant) >= max(baseline)
    return "better" if higher == higher_is_better else "worse"


@mutant("ex07_2", "direction of the metric ignored", phrase="lower is better")
def compare_arms__higher_always_better(baseline: list[float], variant: list[float],
                                       higher_is_better: bool = True) -> str:
    if len(baseline) < 2 or len(variant) < 2:
        return "need more seeds"
    if min(variant) <= max(baseline) and min(baseline) <= max(variant):
        return "no difference"
    return "better" if min(variant) > max(baseline) else "worse"


@mutant("ex07_2", "one seed judged like many", phrase="one seed has no spread")
def compare_arms__one_seed(baseline: list[float], variant: list[float],
                           higher_is_better: bool = True) -> str:
    if min(variant) <= max(baseline) and min(baseline) <= max(variant):
        return "no difference"
    higher = min(variant) > max(baseline)
    return "better" if higher == higher_is_better else "worse"


@mutant("ex07_3", "case kept", phrase="lower-case the responses")
def repeated_openings__case_kept(responses: list[str], words: int = 3,
                                 threshold: float = 0.5) -> dict[str, float]:
    from collections import Counter

    if not responses:
        return {}
    openings = Counter(" ".join(r.split()[:words]) for r in responses
                       if len(r.split()) >= words)
    return {o: n / len(responses) for o, n in openings.items() if n / len(responses) > threshold}


@mutant("ex07_3", "short responses left out of the total", phrase="still counts in the share")
def repeated_openings__short_dropped(responses: list[str], words: int = 3,
                                     threshold: float = 0.5) -> dict[str, float]:
    from collections import Counter

    long_enough = [r.lower().split() for r in responses if len(r.split()) >= words]
    if not long_enough:
        return {}
    openings = Counter(" ".join(w[:words]) for w in long_enough)
    return {o: n / len(long_enough) for o, n in openings.items()
            if n / len(long_enough) > threshold}


@mutant("ex07_3", ">= instead of >", phrase="*greater* than the threshold")
def repeated_openings__at_threshold(responses: list[str], words: int = 3,
                                    threshold: float = 0.5) -> dict[str, float]:
    from collections import Counter

    if not responses:
        return {}
    openings = Counter(" ".join(r.lower().split()[:words]) for r in responses
                       if len(r.split()) >= words)
    return {o: n / len(responses) for o, n in openings.items()
            if n / len(responses) >= threshold}


@mutant("ex07_3", "counts instead of shares", phrase="its share is 3 of 3 = 1.0")
def repeated_openings__counts(responses: list[str], words: int = 3,
                              threshold: float = 0.5) -> dict[str, float]:
    from collections import Counter

    openings = Counter(" ".join(r.lower().split()[:words]) for r in responses
                       if len(r.split()) >= words)
    return {o: n for o, n in openings.items() if n / max(1, len(responses)) > threshold}


@mutant("ex07_1", "templates in record order", phrase="in the order `sample` returns them")
def mix_templates__record_order(records: list[dict], share: float,
                                seed: int = 0) -> list[dict]:
    chosen = set(random.Random(seed).sample(range(len(records)), round(share * len(records))))
    rows, n = [], 0
    for i, record in enumerate(records):
        if i in chosen:
            rows.append({"text": format_text(record, TEMPLATE_NAMES[n % 3])})
            n += 1
        else:
            rows.append(record)
    return rows


@mutant("ex07_1", "positions from shuffle()[:k]", phrase="sample(range(30), 15) returns")
def mix_templates__shuffled(records: list[dict], share: float, seed: int = 0) -> list[dict]:
    positions = list(range(len(records)))
    random.Random(seed).shuffle(positions)
    rows = list(records)
    for n, i in enumerate(positions[:round(share * len(records))]):
        rows[i] = {"text": format_text(records[i], TEMPLATE_NAMES[n % 3])}
    return rows


@mutant("ex07_1", "chosen rows keep their fields", phrase="with no other key")
def mix_templates__fields_kept(records: list[dict], share: float, seed: int = 0) -> list[dict]:
    rows = [dict(record) for record in records]
    chosen = random.Random(seed).sample(range(len(records)), round(share * len(records)))
    for n, i in enumerate(chosen):
        rows[i] = {**records[i], "text": format_text(records[i], TEMPLATE_NAMES[n % 3])}
    return rows


@right("ex07_1", "a copy, then the chosen rows replaced")
def mix_templates__copy(records: list[dict], share: float, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    rows = list(records)
    for n, i in enumerate(rng.sample(list(range(len(records))), round(share * len(records)))):
        rows[i] = {"text": format_text(records[i], TEMPLATE_NAMES[n % 3])}
    return rows


@mutant("ex07_2", "mean +- standard deviation instead of ranges", phrase="not mean and spread")
def compare_arms__mean_and_stdev(baseline: list[float], variant: list[float],
                                 higher_is_better: bool = True) -> str:
    import statistics

    if len(baseline) < 2 or len(variant) < 2:
        return "need more seeds"
    gap = statistics.mean(variant) - statistics.mean(baseline)
    if abs(gap) <= statistics.stdev(baseline) + statistics.stdev(variant):
        return "no difference"
    return "better" if (gap > 0) == higher_is_better else "worse"


@right("ex07_2", "sorted arms, the separating gap")
def compare_arms__sorted(baseline: list[float], variant: list[float],
                         higher_is_better: bool = True) -> str:
    if min(len(baseline), len(variant)) < 2:
        return "need more seeds"
    base, var = sorted(baseline), sorted(variant)
    if var[0] > base[-1]:
        higher = True
    elif base[0] > var[-1]:
        higher = False
    else:
        return "no difference"
    return "better" if higher is higher_is_better else "worse"


@mutant("ex07_3", "short responses given an opening", phrase="has no opening")
def repeated_openings__short_openings(responses: list[str], words: int = 3,
                                      threshold: float = 0.5) -> dict[str, float]:
    from collections import Counter

    if not responses:
        return {}
    openings = Counter(" ".join(r.lower().split()[:words]) for r in responses)
    return {o: n / len(responses) for o, n in openings.items() if n / len(responses) > threshold}


@mutant("ex07_3", "split on one space only", phrase="split() with no argument")
def repeated_openings__split_on_space(responses: list[str], words: int = 3,
                                      threshold: float = 0.5) -> dict[str, float]:
    from collections import Counter

    if not responses:
        return {}
    openings = Counter(" ".join(r.lower().split(" ")[:words]) for r in responses
                       if len(r.lower().split(" ")) >= words)
    return {o: n / len(responses) for o, n in openings.items() if n / len(responses) > threshold}


@right("ex07_3", "a regular expression for the words")
def repeated_openings__regex(responses: list[str], words: int = 3,
                             threshold: float = 0.5) -> dict[str, float]:
    import re

    counts: dict[str, int] = {}
    for response in responses:
        found = re.findall(r"\S+", response.lower())
        if len(found) >= words:
            opening = " ".join(found[:words])
            counts[opening] = counts.get(opening, 0) + 1
    return {o: n / len(responses) for o, n in counts.items() if n / len(responses) > threshold}


@mutant("ex07_1", "math.ceil instead of round()", phrase="round(12.5) = 12")
def mix_templates__ceil(records: list[dict], share: float, seed: int = 0) -> list[dict]:
    import math

    chosen = random.Random(seed).sample(range(len(records)), math.ceil(share * len(records)))
    template_at = {i: TEMPLATE_NAMES[n % 3] for n, i in enumerate(chosen)}
    return [{"text": format_text(record, template_at[i])} if i in template_at else record
            for i, record in enumerate(records)]


@mutant("ex07_1", "halves rounded up with int(x + 0.5)", phrase="round(12.5) = 12")
def mix_templates__half_up(records: list[dict], share: float, seed: int = 0) -> list[dict]:
    chosen = random.Random(seed).sample(range(len(records)), int(share * len(records) + 0.5))
    template_at = {i: TEMPLATE_NAMES[n % 3] for n, i in enumerate(chosen)}
    return [{"text": format_text(record, template_at[i])} if i in template_at else record
            for i, record in enumerate(records)]


@mutant("ex07_1", "records sampled, then found with records.index",
        phrase="sample(range(len(records)), k)")
def mix_templates__records_index(records: list[dict], share: float,
                                 seed: int = 0) -> list[dict]:
    picked = random.Random(seed).sample(records, round(share * len(records)))
    template_at = {records.index(r): TEMPLATE_NAMES[n % 3] for n, r in enumerate(picked)}
    return [{"text": format_text(record, template_at[i])} if i in template_at else record
            for i, record in enumerate(records)]


@mutant("ex07_1", "templates counted from n=1", phrase="n starts at 0")
def mix_templates__from_one(records: list[dict], share: float, seed: int = 0) -> list[dict]:
    chosen = random.Random(seed).sample(range(len(records)), round(share * len(records)))
    template_at = {i: TEMPLATE_NAMES[n % 3] for n, i in enumerate(chosen, 1)}
    return [{"text": format_text(record, template_at[i])} if i in template_at else record
            for i, record in enumerate(records)]


@mutant("ex07_2", "overlap judged by the variant's ends only",
        phrase="the baseline lies inside the variant's range")
def compare_arms__variant_ends(baseline: list[float], variant: list[float],
                               higher_is_better: bool = True) -> str:
    if len(baseline) < 2 or len(variant) < 2:
        return "need more seeds"
    low, high = min(baseline), max(baseline)
    if low <= min(variant) <= high or low <= max(variant) <= high:
        return "no difference"
    higher = min(variant) > max(baseline)
    return "better" if higher == higher_is_better else "worse"


@mutant("ex07_2", "distinct values counted as seeds", phrase="equal values count too")
def compare_arms__distinct(baseline: list[float], variant: list[float],
                           higher_is_better: bool = True) -> str:
    if len(set(baseline)) < 2 or len(set(variant)) < 2:
        return "need more seeds"
    if min(variant) <= max(baseline) and min(baseline) <= max(variant):
        return "no difference"
    higher = min(variant) > max(baseline)
    return "better" if higher == higher_is_better else "worse"


@mutant("ex07_2", "three seeds required", phrase="only for an arm with fewer than 2 values")
def compare_arms__three_seeds(baseline: list[float], variant: list[float],
                              higher_is_better: bool = True) -> str:
    if len(baseline) < 3 or len(variant) < 3:
        return "need more seeds"
    if min(variant) <= max(baseline) and min(baseline) <= max(variant):
        return "no difference"
    higher = min(variant) > max(baseline)
    return "better" if higher == higher_is_better else "worse"


@mutant("ex07_3", "the most common opening only", phrase="not only the most common")
def repeated_openings__most_common(responses: list[str], words: int = 3,
                                   threshold: float = 0.5) -> dict[str, float]:
    from collections import Counter

    openings = Counter(" ".join(w[:words]) for w in (r.lower().split() for r in responses)
                       if len(w) >= words)
    if not openings:
        return {}
    opening, n = openings.most_common(1)[0]
    return {opening: n / len(responses)} if n / len(responses) > threshold else {}


@mutant("ex07_3", "words found with \\w+ (punctuation dropped)", phrase="punctuation stays")
def repeated_openings__word_regex(responses: list[str], words: int = 3,
                                  threshold: float = 0.5) -> dict[str, float]:
    import re
    from collections import Counter

    openings = Counter()
    for response in responses:
        w = re.findall(r"\w+", response.lower())
        if len(w) >= words:
            openings[" ".join(w[:words])] += 1
    return {o: n / len(responses) for o, n in openings.items() if n / len(responses) > threshold}


@mutant("ex07_3", "punctuation stripped from the words", phrase="punctuation stays")
def repeated_openings__punctuation_stripped(responses: list[str], words: int = 3,
                                            threshold: float = 0.5) -> dict[str, float]:
    import string
    from collections import Counter

    openings = Counter()
    for response in responses:
        w = [word.strip(string.punctuation) for word in response.lower().split()]
        if len(w) >= words:
            openings[" ".join(w[:words])] += 1
    return {o: n / len(responses) for o, n in openings.items() if n / len(responses) > threshold}


@mutant("ex07_3", "shares rounded to 2 places", phrase="do not round it")
def repeated_openings__rounded(responses: list[str], words: int = 3,
                               threshold: float = 0.5) -> dict[str, float]:
    from collections import Counter

    openings = Counter(" ".join(w[:words]) for w in (r.lower().split() for r in responses)
                       if len(w) >= words)
    return {o: round(n / len(responses), 2) for o, n in openings.items()
            if n / len(responses) > threshold}


@mutant("ex07_3", "blank responses left out of the total", phrase="blank responses")
def repeated_openings__blanks_dropped(responses: list[str], words: int = 3,
                                      threshold: float = 0.5) -> dict[str, float]:
    from collections import Counter

    responses = [r for r in responses if r.strip()]
    openings = Counter(" ".join(w[:words]) for w in (r.lower().split() for r in responses)
                       if len(w) >= words)
    return {o: n / len(responses) for o, n in openings.items() if n / len(responses) > threshold}


@mutant("ex07_4", "the overall share compared, not each task", phrase="compare task by task")
def tasks_that_got_worse__overall(before: list[dict], after: list[dict],
                                  min_drop: float = 0.1) -> list[str]:
    if not before:
        return []
    old = sum(r["correct"] for r in before) / len(before)
    new = sum(r["correct"] for r in after) / len(after)
    return sorted({r["kind"] for r in before}) if old - new > min_drop else []


@mutant("ex07_4", "counts of right answers compared, not shares", phrase="Compare shares")
def tasks_that_got_worse__counts(before: list[dict], after: list[dict],
                                 min_drop: float = 0.1) -> list[str]:
    from collections import Counter

    old = Counter(r["kind"] for r in before if r["correct"])
    new = Counter(r["kind"] for r in after if r["correct"])
    return sorted(k for k in {r["kind"] for r in before} if old[k] - new[k] > min_drop)


@mutant("ex07_4", ">= instead of >", phrase="not *more than* it")
def tasks_that_got_worse__at_min_drop(before: list[dict], after: list[dict],
                                      min_drop: float = 0.1) -> list[str]:
    def shares(rows):
        kinds = {r["kind"] for r in rows}
        return {k: sum(r["correct"] for r in rows if r["kind"] == k)
                / sum(r["kind"] == k for r in rows) for k in kinds}

    old, new = shares(before), shares(after)
    return sorted(k for k in old if old[k] - new[k] >= min_drop)


@mutant("ex07_4", "any change counted (abs)", phrase="only falls count")
def tasks_that_got_worse__either_way(before: list[dict], after: list[dict],
                                     min_drop: float = 0.1) -> list[str]:
    def shares(rows):
        kinds = {r["kind"] for r in rows}
        return {k: sum(r["correct"] for r in rows if r["kind"] == k)
                / sum(r["kind"] == k for r in rows) for k in kinds}

    old, new = shares(before), shares(after)
    return sorted(k for k in old if abs(old[k] - new[k]) > min_drop)


@mutant("ex07_4", "kinds in the order the rows give them", phrase="sorted by name")
def tasks_that_got_worse__unsorted(before: list[dict], after: list[dict],
                                   min_drop: float = 0.1) -> list[str]:
    def shares(rows):
        kinds = dict.fromkeys(r["kind"] for r in rows)  # first seen first
        return {k: sum(r["correct"] for r in rows if r["kind"] == k)
                / sum(r["kind"] == k for r in rows) for k in kinds}

    old, new = shares(before), shares(after)
    return [k for k in old if old[k] - new[k] > min_drop]


@mutant("ex07_4", "questions paired by position: right turned wrong", phrase="question by question")
def tasks_that_got_worse__paired(before: list[dict], after: list[dict],
                                 min_drop: float = 0.1) -> list[str]:
    from collections import Counter

    rows = Counter(r["kind"] for r in before)
    lost = Counter(b["kind"] for b, a in zip(before, after, strict=True)
                   if b["correct"] and not a["correct"])
    return sorted(k for k in rows if lost[k] / rows[k] > min_drop)


@mutant("ex07_4", "each kind's right rows over every row, not its own rows",
        phrase="sound fell from 1 to 0.5 (its right rows / its rows)")
def tasks_that_got_worse__every_row(before: list[dict], after: list[dict],
                                    min_drop: float = 0.1) -> list[str]:
    from collections import Counter

    old = Counter(r["kind"] for r in before if r["correct"])
    new = Counter(r["kind"] for r in after if r["correct"])
    return sorted(k for k in {r["kind"] for r in before}
                  if (old[k] - new[k]) / len(before) > min_drop)


@right("ex07_4", "pandas: groupby and mean")
def tasks_that_got_worse__pandas(before: list[dict], after: list[dict],
                                 min_drop: float = 0.1) -> list[str]:
    import pandas as pd

    if not before:
        return []
    old = pd.DataFrame(before).groupby("kind")["correct"].mean()
    new = pd.DataFrame(after).groupby("kind")["correct"].mean()
    drop = old - new.reindex(old.index)
    return sorted(drop[drop > min_drop].index)


@right("ex07_4", "statistics.fmean per kind, from a defaultdict of lists")
def tasks_that_got_worse__fmean(before: list[dict], after: list[dict],
                                min_drop: float = 0.1) -> list[str]:
    from collections import defaultdict
    from statistics import fmean

    def shares(rows):
        by_kind = defaultdict(list)
        for row in rows:
            by_kind[row["kind"]].append(1.0 if row["correct"] else 0.0)
        return {kind: fmean(values) for kind, values in by_kind.items()}

    old, new = shares(before), shares(after)
    worse = [kind for kind, share in old.items() if share - new[kind] > min_drop]
    return sorted(worse)


@mutant("ex07_1", "the templates typed anew, in another order", phrase="whose order is")
def mix_templates__own_order(records: list[dict], share: float, seed: int = 0) -> list[dict]:
    names = ["one_line", "qa", "human_assistant"]
    chosen = random.Random(seed).sample(range(len(records)), round(share * len(records)))
    out = list(records)
    for n, i in enumerate(chosen):
        out[i] = {"text": format_text(records[i], names[n % 3])}
    return out


@mutant("ex07_2", "higher_is_better=False turns only 'better' around",
        phrase="where lower is better (template leaks) that is better")
def compare_arms__lower_never_better(baseline: list[float], variant: list[float],
                                     higher_is_better: bool = True) -> str:
    if len(baseline) < 2 or len(variant) < 2:
        return "need more seeds"
    if min(variant) <= max(baseline) and min(baseline) <= max(variant):
        return "no difference"
    if min(variant) > max(baseline):
        return "better" if higher_is_better else "worse"
    return "worse"


@mutant("ex07_3", "threshold ignored: the notebook's 0.5 typed in", phrase="the threshold given")
def repeated_openings__threshold_typed_in(responses: list[str], words: int = 3,
                                          threshold: float = 0.5) -> dict[str, float]:
    from collections import Counter

    if not responses:
        return {}
    firsts = Counter(" ".join(r.lower().split()[:words]) for r in responses
                     if len(r.split()) >= words)
    return {o: n / len(responses) for o, n in firsts.items() if n / len(responses) > 0.5}


@mutant("ex07_4", "min_drop ignored: 0.1 typed in", phrase="more than the min_drop given")
def tasks_that_got_worse__min_drop_typed_in(before: list[dict], after: list[dict],
                                            min_drop: float = 0.1) -> list[str]:
    def shares(rows):
        kinds = {row["kind"] for row in rows}
        return {k: sum(r["correct"] for r in rows if r["kind"] == k)
                / sum(r["kind"] == k for r in rows) for k in kinds}

    old, new = shares(before), shares(after)
    return sorted(k for k in old if old[k] - new[k] > 0.1)


@mutant("ex07_4", "the relative drop (before - after) / before", phrase="(not their ratio)")
def tasks_that_got_worse__relative(before: list[dict], after: list[dict],
                                   min_drop: float = 0.1) -> list[str]:
    def shares(rows):
        kinds = {row["kind"] for row in rows}
        return {k: sum(r["correct"] for r in rows if r["kind"] == k)
                / sum(r["kind"] == k for r in rows) for k in kinds}

    old, new = shares(before), shares(after)
    return sorted(k for k in old if old[k] and (old[k] - new[k]) / old[k] > min_drop)


@mutant("ex07_2", "each range taken from the first to the last value (seeds assumed sorted)",
        phrase="the seeds come in any order")
def compare_arms__first_to_last(baseline: list[float], variant: list[float],
                                higher_is_better: bool = True) -> str:
    if len(baseline) < 2 or len(variant) < 2:
        return "need more seeds"
    if variant[0] <= baseline[-1] and baseline[0] <= variant[-1]:
        return "no difference"
    higher = variant[0] > baseline[-1]
    return "better" if higher == higher_is_better else "worse"


@mutant("ex07_2", "the seed lists sorted in place", phrase="changed the lists it was given")
def compare_arms__sorted_in_place(baseline: list[float], variant: list[float],
                                  higher_is_better: bool = True) -> str:
    if len(baseline) < 2 or len(variant) < 2:
        return "need more seeds"
    baseline.sort()
    variant.sort()
    if variant[0] <= baseline[-1] and baseline[0] <= variant[-1]:
        return "no difference"
    higher = variant[0] > baseline[-1]
    return "better" if higher == higher_is_better else "worse"


@mutant("ex07_3", "openings kept as tuples of words", phrase="a string such as 'the answer is'")
def repeated_openings__tuples(responses: list[str], words: int = 3,
                              threshold: float = 0.5) -> dict[str, float]:
    from collections import Counter

    if not responses:
        return {}
    openings = Counter(tuple(r.lower().split()[:words]) for r in responses
                       if len(r.split()) >= words)
    return {o: n / len(responses) for o, n in openings.items() if n / len(responses) > threshold}


@mutant("ex07_1", "positions from choices(), which may pick one twice",
        phrase="choices may pick one twice")
def mix_templates__choices(records: list[dict], share: float, seed: int = 0) -> list[dict]:
    chosen = random.Random(seed).choices(range(len(records)), k=round(share * len(records)))
    mixed = list(records)
    for n, i in enumerate(chosen):
        mixed[i] = {"text": format_text(records[i], TEMPLATE_NAMES[n % 3])}
    return mixed


@mutant("ex07_4", "the drop rounded to 2 places before the comparison", phrase="not rounded")
def tasks_that_got_worse__drop_rounded(before: list[dict], after: list[dict],
                                       min_drop: float = 0.1) -> list[str]:
    def shares(rows):
        right, total = {}, {}
        for row in rows:
            total[row["kind"]] = total.get(row["kind"], 0) + 1
            right[row["kind"]] = right.get(row["kind"], 0) + bool(row["correct"])
        return {kind: right[kind] / total[kind] for kind in total}

    old, new = shares(before), shares(after)
    return sorted(kind for kind in old if round(old[kind] - new[kind], 2) > min_drop)


@mutant("ex07_1", "the notebook's 30 records typed in: round(share * 30)",
        phrase="as many as of the notebook's 30")
def mix_templates__thirty_typed_in(records: list[dict], share: float, seed: int = 0) -> list[dict]:
    chosen = random.Random(seed).sample(range(len(records)), round(share * 30))
    template_at = {i: TEMPLATE_NAMES[n % 3] for n, i in enumerate(chosen)}
    return [{"text": format_text(record, template_at[i])} if i in template_at else record
            for i, record in enumerate(records)]


@mutant("ex07_5", "<= min_styles: a task with exactly min_styles styles flagged too",
        phrase="(<, not <=)")
def tasks_asked_one_way__at_most(records: list[dict], min_styles: int = 2) -> dict[str, list[str]]:
    styles = {}
    for record in records:
        styles.setdefault(task_kind(record), set()).add(instruction_style(record))
    return {task: sorted(found) for task, found in styles.items() if len(found) <= min_styles}


@mutant("ex07_5", "the styles as a set, not a sorted list", phrase="as a sorted list")
def tasks_asked_one_way__sets(records: list[dict], min_styles: int = 2) -> dict[str, list[str]]:
    styles = {}
    for record in records:
        styles.setdefault(task_kind(record), set()).add(instruction_style(record))
    return {task: found for task, found in styles.items() if len(found) < min_styles}


@mutant("ex07_5", "every record's style listed, not each style once",
        phrase="list each different style once")
def tasks_asked_one_way__every_record(records: list[dict],
                                      min_styles: int = 2) -> dict[str, list[str]]:
    styles = {}
    for record in records:
        styles.setdefault(task_kind(record), []).append(instruction_style(record))
    return {task: sorted(found) for task, found in styles.items()
            if len(set(found)) < min_styles}


@mutant("ex07_5", "one style means one task flagged: min_styles ignored (len == 1)",
        phrase="flag those with fewer than min_styles=3")
def tasks_asked_one_way__only_one_style(records: list[dict],
                                        min_styles: int = 2) -> dict[str, list[str]]:
    styles = {}
    for record in records:
        styles.setdefault(task_kind(record), set()).add(instruction_style(record))
    return {task: sorted(found) for task, found in styles.items() if len(found) == 1}


@mutant("ex07_5", "different instructions counted, not different styles",
        phrase="count the different instruction_style(record) values")
def tasks_asked_one_way__texts(records: list[dict], min_styles: int = 2) -> dict[str, list[str]]:
    texts, styles = {}, {}
    for record in records:
        texts.setdefault(task_kind(record), set()).add(record["instruction"])
        styles.setdefault(task_kind(record), set()).add(instruction_style(record))
    return {task: sorted(styles[task]) for task in texts if len(texts[task]) < min_styles}


@right("ex07_5", "collections: a defaultdict of sets, then a comprehension over its items")
def tasks_asked_one_way__defaultdict(records: list[dict],
                                     min_styles: int = 2) -> dict[str, list[str]]:
    from collections import defaultdict

    by_task = defaultdict(set)
    for r in records:
        by_task[task_kind(r)] |= {instruction_style(r)}
    flagged = [(t, s) for t, s in by_task.items() if len(s) < min_styles]
    return {t: sorted(s) for t, s in sorted(flagged)}


@mutant("ex07_3", "the caller's responses lower-cased in place",
        phrase="repeated_openings changed the responses it was given")
def repeated_openings__lowered_in_place(responses: list[str], words: int = 3,
                                        threshold: float = 0.5) -> dict[str, float]:
    from collections import Counter

    for i, response in enumerate(responses):
        responses[i] = response.lower()
    openings = Counter(" ".join(r.split()[:words]) for r in responses if len(r.split()) >= words)
    return {o: n / len(responses) for o, n in openings.items() if n / len(responses) > threshold}


@mutant("ex07_5", "each record tagged with its task and style",
        phrase="tasks_asked_one_way changed the records it was given")
def tasks_asked_one_way__records_tagged(records: list[dict],
                                        min_styles: int = 2) -> dict[str, list[str]]:
    for record in records:
        record["task"], record["style"] = task_kind(record), instruction_style(record)
    styles = {}
    for record in records:
        styles.setdefault(record["task"], set()).add(record["style"])
    return {task: sorted(found) for task, found in styles.items() if len(found) < min_styles}
