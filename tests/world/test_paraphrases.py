"""The paraphrased tuning rows (train_varied) and the dev set stay clear of every eval phrasing."""

from __future__ import annotations

import random
import re

import pytest

from course_lib.world.eval_styles import UNSEEN, make_eval_styles
from course_lib.world.paraphrases import (
    CORES,
    DEV_STYLES,
    FRAMES,
    eval_only_words,
    make_dev_styles,
    make_train_varied,
    paraphrase_pairs,
    template_words,
    typo,
)
from course_lib.world.phrasings import HELD_OUT, TUNING
from course_lib.world.tuning_data import make_splits, split_facts, train_with_facts


@pytest.fixture(scope="module")
def varied() -> list[dict]:
    return make_train_varied(train_with_facts(seed=0)[0], seed=0)


def _asked(row: dict) -> str:
    return row["instruction"] + (f"|{row['input']}" if row.get("input") else "")


def _pattern(template: str) -> re.Pattern:
    """A template as a regex: its own words literally, any text where a field goes."""
    pieces = re.split(r"\{\w+\}", template)
    return re.compile("(.+?)".join(map(re.escape, pieces)), re.IGNORECASE)


def _matching(rows: list[dict], templates: list[str]) -> list[tuple[str, str]]:
    patterns = [(t, _pattern(t)) for t in templates]
    return [(t, _asked(r)) for r in rows for t, p in patterns if p.fullmatch(_asked(r))]


def test_no_eval_styles_or_eval_template_matches_a_varied_row(varied):
    eval_templates = [t for forms in UNSEEN.values() for t in forms.values()]
    eval_templates += [t for ts in HELD_OUT.values() for t in ts]  # course:eval's unseen forms
    assert not _matching(varied, eval_templates)


def test_no_eval_question_and_no_eval_fact_is_in_the_paraphrases(varied):
    _, eval_facts = split_facts(seed=0)
    asked = {_asked(r) for r in varied}
    evals = make_eval_styles(eval_facts, seed=0) + make_splits(seed=0)[1]
    assert not [r for r in evals if _asked(r) in asked]
    # Every paraphrase asks about a train fact: eval facts stay known from pretraining only.
    facts = {f for f, _ in paraphrase_pairs(train_with_facts(seed=0)[0], seed=0)}
    assert facts and not facts & set(eval_facts)


def test_frames_and_cores_use_no_word_only_the_eval_phrasings_use():
    banned = eval_only_words()
    assert {"um", "basically", "wht", "pluss", "please", "friend"} <= banned
    texts = [f for style in FRAMES.values() for split in style.values() for f in split]
    texts += [c for shapes in CORES.values() for cs in shapes.values() for c in cs]
    used = {w for t in texts for w in template_words(t)}
    assert not used & banned


def test_typos_never_make_an_eval_misspelling():
    rng = random.Random(0)
    banned = eval_only_words()
    made = {w.lower() for _ in range(300) for t in TUNING["add"] + TUNING["spanish"]
            if re.search(r"[A-Za-z]{3}", t)
            for w in template_words(typo(t, rng))}
    assert not made & banned
    assert typo("What is {a} plus {b}?", random.Random(1)) != "What is {a} plus {b}?"


def test_dev_frames_are_never_used_for_tuning(varied):
    dev_frames = [f for style in FRAMES.values() for f in style["dev"]]
    dev_templates = [f.replace("{q}", "{x}").replace("{np}", "{x}").replace("{iq}", "{x}")
                     for f in dev_frames]
    assert not _matching(varied, dev_templates)


def test_dev_set_asks_train_facts_left_out_of_the_paraphrases(varied):
    train_facts, _ = split_facts(seed=0)
    dev = make_dev_styles(train_facts, seed=0)
    assert {r["style"] for r in dev} == set(DEV_STYLES)
    assert not {_asked(r) for r in dev} & {_asked(r) for r in varied}
    assert {r["group"] for r in dev} <= {f.key for f in train_facts}
    paraphrased = {f.key for f, _ in paraphrase_pairs(train_with_facts(seed=0)[0], seed=0)}
    assert not {r["group"] for r in dev} & paraphrased


def test_train_varied_starts_with_train_and_is_deterministic(varied):
    train = make_splits(seed=0)[0]
    assert varied[: len(train)] == train
    assert make_train_varied(train_with_facts(seed=0)[0], seed=0) == varied
    answers = {f.answer for f, _ in train_with_facts(seed=0)[0]}
    assert {r["response"] for r in varied} <= answers


def test_another_draw_asks_the_same_facts_in_other_words():
    """benchmarks/frame_diversity's control: a redraw changes the phrasings, not the facts
    (the dev set's facts stay held out)."""
    pairs = train_with_facts(seed=0)[0]
    first, second = (paraphrase_pairs(pairs, seed=0, draw=d) for d in (0, 1))
    assert {f.key for f, _ in first} == {f.key for f, _ in second}
    same = {_asked(r) for _, r in first} & {_asked(r) for _, r in second}
    assert len(same) < len(first) / 4


def test_no_paraphrase_repeats_a_train_row_or_another_paraphrase(varied):
    n_train = len(make_splits(seed=0)[0])
    train = {_asked(r) for r in varied[:n_train]}
    paraphrases = [_asked(r) for r in varied[n_train:]]
    assert len(set(paraphrases)) == len(paraphrases)
    assert not train & set(paraphrases)


def test_dev_framed_rows_are_a_dev_frame_around_a_core_without_typos():
    """Typos go on top of tuning rows only; a dev row of a framed style is written as is."""
    from course_lib.world.paraphrases import compose, shape_of, varied_template

    for seed in range(40):
        style = list(FRAMES)[seed % len(FRAMES)]
        kind = list(CORES)[seed % len(CORES)]
        exact = {compose(f, c) for f in FRAMES[style]["dev"] for c in CORES[kind][shape_of(f)]}
        assert varied_template(kind, style, random.Random(seed), "dev") in exact


def test_a_capitalised_question_slot_takes_a_question_core():
    from course_lib.world.paraphrases import compose, shape_of

    assert [shape_of(f) for f in ("{Q} Thanks.", "Hmm, {q}", "Give me {np}.", "Say {iq}.")] == [
        "q", "q", "np", "iq"]
    assert compose("{Q} Thanks.", "what's {a} + {b}?") == "What's {a} + {b}? Thanks."
