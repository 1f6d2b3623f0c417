"""Checks for lesson 07, common mistakes measured: build a variant data set, decide from
seed results whether a difference is real, a data check that flags one style everywhere, and
every task measured before and after (what specialising cost)."""

from __future__ import annotations

import random

from course_lib.formatting.schemas import detect_template
from course_lib.formatting.templates import format_text
from course_lib.grading.registry import exercise
from course_lib.world.variants import TEMPLATE_NAMES


def _records(name: str, n: int | None = None) -> list[dict]:
    # deferred: the loader imports torch (via env), and every grading process imports this
    from course_lib.formatting.records import load_records

    return load_records(name)[:n]


@exercise(
    "ex07_1",
    title="Build the variant: a share of the records in mixed templates",
    hints=[
        "k = round(share * len(records)); chosen = random.Random(seed).sample(range(len(records)),"
        " k).",
        "The n-th chosen position gets TEMPLATE_NAMES[n % 3]: a third each.",
        "Build a new list: {'text': format_text(record, template)} at a chosen position, the "
        "record itself everywhere else. Never change `records` in place.",
    ],
)
def check_mix_templates(mix_templates):
    records = _records("course:train", 30)
    before = [dict(r) for r in records]
    mixed = mix_templates(records, 0.5, 0)
    assert records == before, "mix_templates changed the records it was given: build a new list."
    assert isinstance(mixed, list) and len(mixed) == len(records), (
        f"return one row per record ({len(records)}), in the same order; got "
        f"{len(mixed) if isinstance(mixed, list) else type(mixed).__name__}.")
    odd = next((i for i, row in enumerate(mixed) if not isinstance(row, dict)), None)
    assert odd is None, (
        f"row {odd} is a {type(mixed[odd]).__name__}: a chosen record becomes the dict "
        f"{{'text': format_text(record, template)}}, the others stay the records as they are.")
    texts = [i for i, row in enumerate(mixed) if "text" in row]
    assert len(texts) == 15, (
        f"share=0.5 of 30 records should give 15 text rows, got {len(texts)}: choose 15 "
        f"different positions with random.Random(seed).sample (choices may pick one twice).")
    for n in (27, 25):  # halves: int() gives 13 and 12, ceil and + 0.5 give 14 and 13
        got = sum("text" in row for row in mix_templates(_records("course:train", n), 0.5, 0))
        assert got == round(0.5 * n) or got != 15, (
            f"share=0.5 of {n} records gave 15 text rows, as many as of the notebook's 30: "
            f"use round(share * len(records)), the records given, not 30.")
        assert got == round(0.5 * n), (
            f"share=0.5 of {n} records should give round({0.5 * n:g}) = {round(0.5 * n)} text "
            f"rows (round() takes a half to the even number), got {got}: use round(share * "
            f"len(records)), not int(...), ceil or + 0.5.")
    _check_equal_records(mix_templates, records)
    _check_rows(mixed, records)
    assert mix_templates(records, 0.5, 0) == mixed, "the same seed must give the same rows."
    other = [i for i, row in enumerate(mix_templates(records, 0.5, 1)) if "text" in row]
    assert other != texts, (
        "seeds 0 and 1 chose the same rows: pick them at random with random.Random(seed).sample.")
    assert mix_templates(records, 0.0, 0) == records, "share=0 should change no row."
    assert all("text" in row for row in mix_templates(records, 1.0, 0)), (
        "share=1 should write every row as text.")
    for share, seed in ((0.5, 0), (0.4, 3)):
        _check_as_stated(mix_templates(records, share, seed), records, share, seed)


def _check_equal_records(mix_templates, records: list[dict]) -> None:
    """Two equal records are two positions: both are chosen when share=1."""
    twins = [records[0], records[1], dict(records[0]), records[2]]
    got = [i for i, row in enumerate(mix_templates(twins, 1.0, 0)) if "text" in row]
    assert got == [0, 1, 2, 3], (
        f"with records 0 and 2 equal, share=1 should write rows [0, 1, 2, 3] as text, not {got}: "
        f"choose positions with random.Random(seed).sample(range(len(records)), k), not the "
        f"records themselves (records.index finds only the first copy).")


def _check_rows(mixed: list[dict], records: list[dict]) -> None:
    """Each row is its record as is, or that record written in one of the three templates."""
    texts = [i for i, row in enumerate(mixed) if "text" in row]
    for i, row in enumerate(mixed):
        if "text" not in row:
            assert row == records[i], f"row {i} is not chosen, so it should be the record as is."
            continue
        name = detect_template(row["text"])
        assert name in TEMPLATE_NAMES, f"row {i}: {row['text']!r} is in no template of " \
                                       f"TEMPLATE_NAMES."
        assert row["text"] == format_text(records[i], name), (
            f"row {i} should be record {i} written with format_text(record, {name!r}): "
            f"{format_text(records[i], name)!r}, not {row['text']!r} (keep the input too).")
    counts = [sum(detect_template(mixed[i]["text"]) == t for i in texts) for t in TEMPLATE_NAMES]
    assert max(counts) - min(counts) <= 1, (
        f"the text rows should use the three templates a third each, got "
        f"{dict(zip(TEMPLATE_NAMES, counts, strict=True))}: cycle through TEMPLATE_NAMES.")


def _check_as_stated(mixed: list[dict], records: list[dict], share: float, seed: int) -> None:
    """The rows are exactly those the task's three steps give for this seed."""
    call = f"mix_templates(records, {share}, {seed})"
    k = round(share * len(records))
    chosen = random.Random(seed).sample(range(len(records)), k)
    got = [i for i, row in enumerate(mixed) if "text" in row]
    assert got == sorted(chosen), (
        f"{call} should write rows {sorted(chosen)} as text, the positions "
        f"random.Random({seed}).sample(range({len(records)}), {k}) returns, not rows {got}.")
    from_one = chosen and all(
        mixed[i].get("text") == format_text(records[i], TEMPLATE_NAMES[(n + 1) % 3])
        for n, i in enumerate(chosen))
    assert not from_one, (
        f"{call}: the first position `sample` returns gets TEMPLATE_NAMES[0] = "
        f"{TEMPLATE_NAMES[0]!r}, but yours gets TEMPLATE_NAMES[1]: n starts at 0 "
        f"(enumerate(chosen), not enumerate(chosen, 1)).")
    # The three templates, but in an order of the learner's own (a list typed anew).
    order = [detect_template(mixed[i].get("text", "")) for i in chosen[:3]]
    own_order = (len(chosen) >= 3 and order != list(TEMPLATE_NAMES)
                 and sorted(order) == sorted(TEMPLATE_NAMES)
                 and all(mixed[i].get("text") == format_text(records[i], order[n % 3])
                         for n, i in enumerate(chosen)))
    assert not own_order, (
        f"{call}: your rows cycle through the templates in the order {order}; use "
        f"TEMPLATE_NAMES[n % 3], whose order is {list(TEMPLATE_NAMES)}.")
    for n, i in enumerate(chosen):
        template = TEMPLATE_NAMES[n % 3]
        assert set(mixed[i]) == {"text"}, (
            f"{call}: row {i} should become {{'text': ...}} with no other key, not keep "
            f"{sorted(set(mixed[i]) - {'text'})}: a chosen record is replaced by its text.")
        assert mixed[i]["text"] == format_text(records[i], template), (
            f"{call}: row {i} comes at n={n} in the order `sample` returns them, so its "
            f"template is TEMPLATE_NAMES[{n} % 3] = {template!r}, not "
            f"{detect_template(mixed[i]['text'])!r}: count in sample's order, not record order.")


# (baseline values, variant values, higher_is_better, the answer, why)
COMPARE_CASES = [
    ([0.40, 0.45, 0.50], [0.60, 0.62, 0.70], True, "better",
     "the variant's lowest seed is above the baseline's highest"),
    ([0.40, 0.45, 0.50], [0.60, 0.62, 0.70], False, "worse",
     "for a metric where lower is better (template leaks), higher is worse"),
    ([0.60, 0.70, 0.65], [0.20, 0.30, 0.25], True, "worse", "every variant seed is lower"),
    ([0.60, 0.70, 0.65], [0.20, 0.30, 0.25], False, "better",
     "every variant seed is lower, and for a metric where lower is better (template leaks) "
     "that is better"),
    ([0.40, 0.45, 0.60], [0.55, 0.62, 0.70], True, "no difference",
     "the medians differ by 0.17 but the ranges overlap (0.55-0.60): compare ranges, not "
     "medians"),
    ([0.10, 0.20, 0.90], [0.30, 0.31, 0.32], True, "no difference",
     "the variant lies inside the baseline's range"),
    ([0.10, 0.50], [0.55, 0.60], True, "better",
     "the ranges 0.10-0.50 and 0.55-0.60 do not overlap, however widely the baseline's seeds "
     "spread: compare min and max, not mean and spread"),
    ([0.40, 0.50], [0.50, 0.60], True, "no difference",
     "ranges that touch (both reach 0.50) overlap"),
    ([0.40, 0.45], [0.30, 0.60], True, "no difference",
     "the baseline lies inside the variant's range, so the ranges overlap: check "
     "min(variant) <= max(baseline) and min(baseline) <= max(variant)"),
    ([0.50, 0.50], [0.90, 0.95], True, "better",
     "the variant's lowest seed is above the baseline's highest"),
    ([0.50], [0.90], True, "need more seeds", "one seed has no spread to compare with"),
    ([0.50, 0.55], [0.90], True, "need more seeds", "one seed has no spread to compare with"),
    ([0.50, 0.40], [0.60, 0.45], True, "no difference",
     "the seeds come in any order: the ranges are min to max (0.40-0.50 and 0.45-0.60), not "
     "from the first value to the last, and they overlap"),
]


@exercise(
    "ex07_2",
    title="Is the difference real? Decide from the seeds",
    hints=[
        "First: if len(baseline) < 2 or len(variant) < 2, return 'need more seeds'.",
        "The ranges overlap when min(variant) <= max(baseline) and min(baseline) <= "
        "max(variant): then return 'no difference'.",
        "Otherwise the variant is higher or lower everywhere; 'better' if that is the good "
        "direction (higher_is_better), else 'worse'.",
    ],
)
def check_compare_arms(compare_arms):
    for base, variant, higher, want, why in COMPARE_CASES:
        given = (list(base), list(variant))
        got = compare_arms(*given, higher)
        assert given == (base, variant), (
            f"compare_arms changed the lists it was given ({base} became {given[0]}, {variant} "
            f"became {given[1]}): use min() and max(), or sorted(...), which makes a new list.")
        if got == "need more seeds" and min(len(base), len(variant)) >= 2:
            why = ("two seeds per arm are enough, and 'need more seeds' is only for an arm with "
                   "fewer than 2 values" + (", so equal values count too"
                                            if len(set(base)) < 2 or len(set(variant)) < 2
                                            else ""))
        assert got == want, (
            f"compare_arms({base}, {variant}, higher_is_better={higher}) should be {want!r}, "
            f"not {got!r}: {why}.")


# (responses, words, threshold, the answer, why)
OPENING_CASES = [
    (["The answer is 4", "the answer is 5", "THE ANSWER IS 6"], 3, 0.5,
     {"the answer is": 1.0}, "lower-case the responses first: 'The' and 'THE' are one opening, "
     "and its share is 3 of 3 = 1.0"),
    (["a b c", "a b c", "x y z", "q r s", "t u v"], 3, 0.3, {"a b c": 0.4},
     "2 of 5 responses open with 'a b c', a share of 0.4, over threshold=0.3: compare the "
     "shares with the threshold given"),
    (["the answer is 4", "the answer is 5", "4", "5"], 3, 0.4, {"the answer is": 0.5},
     "a response shorter than `words` has no opening but still counts in the share "
     "(2 of 4 = 0.5)"),
    (["The answer is 4.", "The answer is perro.", "the answer is moo.", "4"], 3, 0.5,
     {"the answer is": 0.75}, "three of the four responses open with 'the answer is'"),
    (["4", "2 + 2 = 4.", "perro", "The capital of France is Paris."], 3, 0.5, {},
     "no opening is shared by more than half of the responses"),
    (["a b c", "a b c", "x y z", "q r s"], 3, 0.5, {},
     "the share must be *greater* than the threshold: 0.5 is not"),
    (["yes it is", "yes it is", "yes", "no it is"], 1, 0.5, {"yes": 0.75},
     "with words=1 the opening is the first word"),
    (["4", "4", "4", "the answer is 5"], 3, 0.5, {},
     "a response with fewer than `words` words has no opening, however often it repeats"),
    (["The answer is 4", "the  answer is 5", "The answer\nis 6"], 3, 0.5,
     {"the answer is": 1.0}, "use split() with no argument: any run of whitespace, a double "
     "space or a newline too, separates two words"),
    (["a b c", "a b c", "x y z", "x y z", "q"], 3, 0.3, {"a b c": 0.4, "x y z": 0.4},
     "both openings have 2 of 5 = 0.4 > 0.3: return every opening over the threshold, not only "
     "the most common"),
    (["Yes, it is.", "yes it is", "Yes! It is", "no"], 3, 0.5, {},
     "with split(), punctuation stays part of its word, so 'yes, it is.', 'yes it is' and "
     "'yes! it is' are three different openings"),
    (["a b c", "a b c", "x"], 3, 0.5, {"a b c": 2 / 3},
     "the share is 2 of 3 = 0.666..., as n / len(responses) gives it: do not round it"),
    (["", "", "a b c"], 3, 0.5, {},
     "blank responses have no opening but count in the total: 1 of 3 is not over 0.5"),
    ([], 3, 0.5, {}, "no responses, no opening (and no division by zero)"),
]


@exercise(
    "ex07_3",
    title="A data check: one style in every response",
    hints=[
        "For each response: w = response.lower().split(); if len(w) >= words, its opening is "
        "' '.join(w[:words]).",
        "Count openings with collections.Counter, then divide each count by len(responses): "
        "short responses count in the total too.",
        "Keep the openings whose share is > threshold (strictly); return {} for no responses.",
    ],
)
def check_repeated_openings(repeated_openings):
    for responses, words, threshold, want, why in OPENING_CASES:
        given = list(responses)
        got = repeated_openings(given, words, threshold)
        assert given == responses, (
            f"repeated_openings changed the responses it was given ({responses} became "
            f"{given}): lower-case each one as you read it (response.lower() makes a new "
            f"string), and leave the list as it is.")
        assert isinstance(got, dict), (
            f"repeated_openings should return a dict {{opening: share}}, not "
            f"{type(got).__name__}.")
        odd = next((k for k in got if not isinstance(k, str)), None)
        assert odd is None, (
            f"repeated_openings({responses}, words={words}, threshold={threshold}) has the key "
            f"{odd!r}: each opening should be its words joined by one space, a string such as "
            f"'the answer is'.")
        rounded = {k: round(v, 6) for k, v in got.items()}
        assert rounded == {k: round(v, 6) for k, v in want.items()}, (
            f"repeated_openings({responses}, words={words}, threshold={threshold}) should be "
            f"{want}, not {got}: {why}.")
    fixed = [r["response"] for r in _records("course:variant_style_fixed")]
    varied = [r["response"] for r in _records("course:variant_style_varied")]
    assert repeated_openings(fixed, 3, 0.5) == {"the answer is": 1.0}, (
        "on course:variant_style_fixed every response opens with 'the answer is': expected "
        "{'the answer is': 1.0}.")
    assert repeated_openings(varied, 3, 0.5) == {}, (
        "course:variant_style_varied has no opening in more than half of its responses.")


def _rows(kind: str, right: int, wrong: int) -> list[dict]:
    """`right` rows answered correctly then `wrong` ones, for one task kind."""
    return [{"kind": kind, "correct": True}] * right + [{"kind": kind, "correct": False}] * wrong


# (before, after, min_drop, the answer, why)
TASK_CASES = [
    (_rows("add", 5, 5) + _rows("capital", 3, 1), _rows("add", 10, 0) + _rows("capital", 1, 3),
     0.1, ["capital"], "the share right over every question rose (8 of 14 -> 11 of 14) while "
     "capitals fell from 0.75 to 0.25: compare task by task, an overall share hides it"),
    (_rows("add", 19, 1) + _rows("sound", 2, 0), _rows("add", 18, 2) + _rows("sound", 1, 1),
     0.1, ["sound"], "add fell from 19 of 20 to 18 of 20, a share of 0.95 to 0.9: a drop of "
     "0.05, not more than 0.1. Compare shares (right / rows of the kind), not counts"),
    (_rows("capital", 2, 2), _rows("capital", 1, 3), 0.3, [],
     "capital fell from 0.5 to 0.25, by 0.25, less than min_drop=0.3: keep a kind only when "
     "its share before minus its share after (not their ratio) is more than the min_drop given"),
    (_rows("spanish", 3, 1), _rows("spanish", 2, 2), 0.25, [],
     "spanish fell from 0.75 to 0.5, by exactly min_drop=0.25, which is not *more than* it"),
    (_rows("sound", 1, 3) + _rows("capital", 4, 0), _rows("sound", 4, 0) + _rows("capital", 2, 2),
     0.1, ["capital"], "sound got better (0.25 -> 1.0) and capital fell (1.0 -> 0.5)"),
    (_rows("spanish", 2, 0) + _rows("add", 2, 0) + _rows("capital", 2, 0) + _rows("sound", 2, 0),
     _rows("spanish", 0, 2) + _rows("add", 0, 2) + _rows("capital", 0, 2) + _rows("sound", 2, 0),
     0.1, ["add", "capital", "spanish"], "three kinds fell; return them sorted by name"),
    (_rows("capital", 2, 2) + _rows("add", 3, 1), _rows("capital", 0, 2) + _rows("capital", 2, 0)
     + _rows("add", 3, 1), 0.1, [],
     "capitals are right in 2 of 4 before and after (other questions right, as many): compare "
     "each kind's share, not question by question"),
    (_rows("add", 29, 0), _rows("add", 26, 3), 0.1, ["add"],
     "add fell from 1 to 26 of 29, by 3/29 = 0.103, more than min_drop=0.1: compare the "
     "drop as it is, not rounded (rounded to 2 places it reads 0.1)"),
    ([], [], 0.1, [], "no rows, no task"),
]


def _shares(rows: list[dict]) -> dict[str, float]:
    kinds = sorted({row["kind"] for row in rows})  # sorted: the same message every run
    return {k: sum(r["correct"] for r in rows if r["kind"] == k)
            / sum(r["kind"] == k for r in rows) for k in kinds}


def _why_wrong(got: list, before: list[dict], after: list[dict], min_drop: float) -> str | None:
    """What is wrong with the kinds returned, whatever the case was about; None if nothing."""
    old, new = _shares(before), _shares(after)
    for kind in got:
        if kind not in old:
            return f"{kind!r} is not a task kind of these rows ({sorted(old)})"
        if new[kind] > old[kind]:
            return (f"{kind} got better ({old[kind]:g} -> {new[kind]:g}): only falls count, "
                    f"not changes either way")
        if old[kind] - new[kind] == min_drop:
            return (f"{kind} fell from {old[kind]:g} to {new[kind]:g}, by exactly "
                    f"min_drop={min_drop:g}, which is not *more than* it")
    return None


def _missing(got: list, before: list[dict], after: list[dict], min_drop: float) -> str:
    """The first kind that fell by more than min_drop and is not returned, said; else ''."""
    old, new = _shares(before), _shares(after)
    for kind in old:
        if kind not in got and kind in new and old[kind] - new[kind] > min_drop:
            return (f"{kind} fell from {old[kind]:g} to {new[kind]:g} (its right rows / its "
                    f"rows), by more than min_drop={min_drop:g}, and is missing; ")
    return ""


@exercise(
    "ex07_4",
    title="Every task, before and after: what specialising cost",
    hints=[
        "Per kind, count its rows and its correct rows (two dicts, or collections.Counter); "
        "the share is correct / rows.",
        "Compute the shares of `before` and of `after` separately, then compare them kind by "
        "kind, not row by row.",
        "Keep a kind when share_before - share_after > min_drop (strictly); return "
        "sorted(kinds).",
    ],
)
def check_tasks_that_got_worse(tasks_that_got_worse):
    for before, after, min_drop, want, why in TASK_CASES:
        call = (f"tasks_that_got_worse(before, after, min_drop={min_drop}) with before = "
                f"{_shares(before)} and after = {_shares(after)} (share right per kind)")
        got = tasks_that_got_worse([dict(r) for r in before], [dict(r) for r in after],
                                   min_drop)
        assert isinstance(got, list), (
            f"{call} should return a list of kinds, not {type(got).__name__}.")
        wrong = _why_wrong(got, before, after, min_drop)
        if wrong is None and sorted(got) == want and got != want:
            wrong = "return them sorted by name"
        # A kind left out is named first: the case's own reason may be about another kind.
        said = wrong or _missing(got, before, after, min_drop) + why
        assert got == want, f"{call} should be {want}, not {got}: {said}."
    rows = _rows("add", 6, 4) + _rows("capital", 4, 2)
    fell = _rows("add", 10, 0) + _rows("capital", 1, 5)
    assert tasks_that_got_worse(rows, fell) == ["capital"], (
        "with the default min_drop=0.1, capitals falling from 0.67 to 0.17 should be "
        "['capital'].")


def _asked(*rows: tuple[str, str]) -> list[dict]:
    """Records from (instruction, input) pairs; the response plays no part in the check."""
    return [{"instruction": text, "input": given, "response": "x"} for text, given in rows]


# Arithmetic asked three ways (question, command, casual), capitals one way in many wordings,
# translation two ways (with input, question), sounds once: each min_styles draws its own line.
STYLE_RECORDS = _asked(
    ("What is 2+2?", ""), ("Add 3 and 4.", ""), ("what is 5 plus 1", ""), ("What is 6+1?", ""),
    ("What is the capital of Peru?", ""), ("Which city is the capital of Chile?", ""),
    ("Name the capital of Japan?", ""),
    ("Translate to Spanish.", "water"), ("How do you say 'dog' in Spanish?", ""),
    ("What does a cow say?", ""),
)


@exercise(
    "ex07_5",
    title="A data check: tasks asked in one way only",
    hints=[
        "Build a dict from each task, task_kind(record), to the set of styles its records use, "
        "instruction_style(record): styles.setdefault(task, set()).add(style).",
        "Count the *different* styles of a task, len(its set): ten questions are one style.",
        "Keep a task when it has fewer than min_styles styles (strictly), and give its styles "
        "as sorted(the set): {task: sorted(styles) for ... if len(styles) < min_styles}.",
    ],
)
def check_tasks_asked_one_way(tasks_asked_one_way):
    # deferred: formatting.stats imports matplotlib, and every grading process imports this
    from course_lib.formatting.stats import instruction_style, task_kind

    styles: dict[str, set[str]] = {}
    for record in STYLE_RECORDS:
        styles.setdefault(task_kind(record), set()).add(instruction_style(record))
    for min_styles in (2, 3, 1):
        want = {t: sorted(s) for t, s in styles.items() if len(s) < min_styles}
        given = [dict(r) for r in STYLE_RECORDS]
        got = tasks_asked_one_way(given, min_styles)
        assert given == STYLE_RECORDS, (
            f"tasks_asked_one_way changed the records it was given (record 0 is now "
            f"{given[0]}): keep each task's styles in a dict of your own, not in the records.")
        call = f"tasks_asked_one_way(records, min_styles={min_styles})"
        assert isinstance(got, dict), (
            f"{call} should return a dict {{task: sorted list of its styles}}, not "
            f"{type(got).__name__}.")
        if got != want:
            _diagnose_styles(got, want, styles, min_styles, call)
    assert tasks_asked_one_way([], 2) == {}, "with no records, no task is flagged: return {}."


def _diagnose_styles(got: dict, want: dict, styles: dict[str, set[str]], min_styles: int,
                     call: str) -> None:
    """Name the mistake: sets or unsorted lists, <= for <, the varied tasks, texts not styles."""
    shown_want = f"{call} should be {want}, not {got}"
    as_lists = {t: sorted(v) if isinstance(v, set | frozenset | tuple | list) else v
                for t, v in got.items()}
    if as_lists == want:
        raise AssertionError(f"{shown_want}: give each task's styles as a sorted list, "
                             f"sorted(styles).")
    at_most = {t: sorted(s) for t, s in styles.items() if len(s) <= min_styles}
    if as_lists == at_most:
        raise AssertionError(f"{shown_want}: a task with exactly min_styles={min_styles} styles "
                             f"is varied enough; keep only those with fewer (<, not <=).")
    enough = {t: sorted(s) for t, s in styles.items() if len(s) >= min_styles}
    if as_lists == enough and enough != want:
        raise AssertionError(f"{shown_want}: you kept the varied tasks; keep those with fewer "
                             f"than min_styles styles.")
    if set(got) <= set(styles) and any(len(v) > len(styles[t]) for t, v in as_lists.items()
                                       if isinstance(v, list)):
        raise AssertionError(f"{shown_want}: list each different style once (a set of "
                             f"instruction_style(record) per task): ten questions are one "
                             f"style, not ten.")
    one = {t: sorted(s) for t, s in styles.items() if len(s) == 1}
    if as_lists == one:
        raise AssertionError(f"{shown_want}: you flagged the tasks asked in one style; flag "
                             f"those with fewer than min_styles={min_styles} styles.")
    extra = sorted(set(got) - set(styles))
    assert not extra, (
        f"{shown_want}: {extra} are not tasks of these records; group them by "
        f"task_kind(record).")
    raise AssertionError(f"{shown_want}: group the records by task_kind(record) and count the "
                         f"different instruction_style(record) values of each task.")
