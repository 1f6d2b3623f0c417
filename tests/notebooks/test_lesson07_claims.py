"""Lesson 07's prose, re-measured: each experiment at the lesson's settings (tiny, 40 steps,
seeds 0-2, the default recipe for what an arm leaves alone), and each sentence the lesson
states about its result.

The runs are cached where the lesson keeps them (lessons/runs/experiments): after a headless
run of the lesson these tests read them back in seconds; alone, they train the lesson's 54
short runs, plus the 6 of the style experiment with every weight trained, which the lesson
quotes without running. The lesson's 500-step figures come from `course experiment NAME` (about
20 minutes for all of them) and are not re-measured here.
When a rebuild of the model, the data or the recipe changes a result, the test quoting the
sentence fails and the lesson's prose must change with it.
"""

import json
from dataclasses import replace
from pathlib import Path

import pytest

from course_lib.experiments.catalogue import EXPERIMENTS
from course_lib.experiments.runner import run_experiment
from course_lib.world.phrasings import ARITHMETIC

CACHE = Path(__file__).resolve().parents[2] / "lessons" / "runs" / "experiments"
STEPS = 40
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def results():
    return {}


def measured(results, name):
    if name not in results:
        results[name] = run_experiment(name, seeds=3, steps=STEPS, model="tiny",
                                       cache_dir=CACHE, progress=False)
    return results[name]


def metric(name, key):
    return next(m for m in EXPERIMENTS[name].metrics if m.key == key)


def median(result, arm, key):
    return round(result.spread(arm, metric(result.experiment.name, key)).median, 2)


def low_high(result, arm, key):
    spread = result.spread(arm, metric(result.experiment.name, key))
    return round(spread.low, 2), round(spread.high, 2)


def verdict(result, arm, key):
    return result.verdict(arm, metric(result.experiment.name, key))


def test_l07_lesson_runs_the_steps_these_tests_measure():
    lesson = json.loads((CACHE.parents[1] / "07_mistakes_measured.ipynb").read_text("utf-8"))
    code = "".join("".join(c["source"]) for c in lesson["cells"] if c["cell_type"] == "code")
    assert f'STEPS = {STEPS} if MODEL == "tiny"' in code


def test_l07_collator_masking_helps_on_every_metric(results):
    """L07 §1: "exact match 0.43 (response only, seeds 0.41-0.45) against 0.28 (every token,
    0.21-0.34); answers passing every adherence check 0.84 against 0.63; template markers in
    0.31 of the unmasked model's answers against 0.04"."""
    r = measured(results, "wrong-collator")
    assert (median(r, "response only", "exact_match"),
            median(r, "every token", "exact_match")) == (0.43, 0.28)
    assert low_high(r, "response only", "exact_match") == (0.41, 0.45)
    assert low_high(r, "every token", "exact_match") == (0.21, 0.34)
    assert (median(r, "response only", "adherence_all"),
            median(r, "every token", "adherence_all")) == (0.84, 0.63)
    assert (median(r, "response only", "template_leak"),
            median(r, "every token", "template_leak")) == (0.04, 0.31)
    assert all(v.better is False for v in r.verdicts())


def test_l07_formatting_hurts_only_in_an_unseen_template(results):
    """L07 §2: "exact match 0.43 against 0.30, a lower median but overlapping ranges (0.33-0.44
    and 0.26-0.37) ... the one-template baseline answers 0.02 of the questions asked with
    `Human: ... Assistant:` ... and 0.17 of those asked as `Q: ... A:`, while the mixed arm ...
    answers 0.07 and 0.41, ranges apart"."""
    r = measured(results, "inconsistent-formatting")
    assert (median(r, "one template", "exact_match_one_line"),
            median(r, "mixed templates", "exact_match_one_line")) == (0.43, 0.30)
    assert low_high(r, "one template", "exact_match_one_line") == (0.33, 0.44)
    assert low_high(r, "mixed templates", "exact_match_one_line") == (0.26, 0.37)
    assert verdict(r, "mixed templates", "exact_match_one_line").within_spread
    for key, medians in (("exact_match_human_assistant", (0.02, 0.07)),
                         ("exact_match_qa", (0.17, 0.41))):
        assert (median(r, "one template", key), median(r, "mixed templates", key)) == medians
        assert verdict(r, "mixed templates", key).better is True


def test_l07_poor_data_hurts_with_the_dose(results):
    """L07 §3: "With 20% poor rows exact match fell from 0.43 to 0.32, but the ranges overlap
    (0.33-0.44 and 0.22-0.36), and at most 9 of the 298 answers copied a poor style; with 50%,
    exact match fell to 0.21 (0.20-0.26), 0.06 of the answers copied a poor style ..., and the
    share passing every adherence check fell from 0.87 to 0.65, ranges apart"."""
    r = measured(results, "poor-quality")
    assert (median(r, "0% poor", "exact_match"), median(r, "20% poor", "exact_match"),
            median(r, "50% poor", "exact_match")) == (0.43, 0.32, 0.21)
    assert low_high(r, "20% poor", "exact_match") == (0.22, 0.36)
    assert verdict(r, "20% poor", "exact_match").within_spread
    poor_20 = [metric("poor-quality", "poor_style").measure(run) for run in r.runs["20% poor"]]
    assert max(rate.k for rate in poor_20) == 9
    assert low_high(r, "50% poor", "exact_match") == (0.20, 0.26)
    assert median(r, "50% poor", "poor_style") == 0.06
    assert (median(r, "0% poor", "adherence_all"), median(r, "50% poor", "adherence_all")) == (
        0.87, 0.65)
    assert all(verdict(r, "50% poor", key).better is False
               for key in ("exact_match", "poor_style", "adherence_all"))


def test_l07_quality_beats_quantity(results):
    """L07 §4: "200 clean rows gave 0.36 exact match (0.36-0.38), 800 rows with half of them poor
    0.27 (0.25-0.29), ranges apart, and the noisy arm's answers copy poor styles (0.04) where the
    clean arm's almost never do (at most 3 of 298)"."""
    r = measured(results, "quality-vs-quantity")
    assert (median(r, "200 clean", "exact_match"), median(r, "800, half poor", "exact_match")) \
        == (0.36, 0.27)
    assert low_high(r, "200 clean", "exact_match") == (0.36, 0.38)
    assert low_high(r, "800, half poor", "exact_match") == (0.25, 0.29)
    assert verdict(r, "800, half poor", "exact_match").better is False
    assert median(r, "800, half poor", "poor_style") == 0.04
    clean = [metric("quality-vs-quantity", "poor_style").measure(run)
             for run in r.runs["200 clean"]]
    assert max(rate.k for rate in clean) == 3


def test_l07_many_styles_not_a_few_phrasings_lift_unseen_styles(results):
    """L07 §5: "0.30 (several phrasings, 0.23-0.30) against 0.25 (one phrasing, 0.25-0.29),
    ranges overlapping ... The many-styles arm answered 0.42 of the unseen-style questions
    (0.36-0.44), beyond the spread of the baseline's 0.30 ... answers the tidy seen styles worse
    than the baseline (0.48 against 0.79, ranges apart)"."""
    r = measured(results, "prompt-variability")
    assert [median(r, arm, "unseen_exact_match")
            for arm in ("several phrasings", "one phrasing", "many styles")] == [0.30, 0.25, 0.42]
    assert low_high(r, "several phrasings", "unseen_exact_match") == (0.23, 0.30)
    assert low_high(r, "one phrasing", "unseen_exact_match") == (0.25, 0.29)
    assert low_high(r, "many styles", "unseen_exact_match") == (0.36, 0.44)
    assert verdict(r, "one phrasing", "unseen_exact_match").within_spread
    assert verdict(r, "many styles", "unseen_exact_match").better is True
    assert (median(r, "several phrasings", "seen_exact_match"),
            median(r, "many styles", "seen_exact_match")) == (0.79, 0.48)
    assert verdict(r, "many styles", "seen_exact_match").better is False


def starts_with(run, prefix):
    """Share of the answers outside arithmetic that begin with `prefix` (case ignored)."""
    rows = [r for r in run.rows if r["kind"] not in ARITHMETIC]
    return sum(r["response"].strip().lower().startswith(prefix) for r in rows) / len(rows)


def test_l07_style_leak_not_testable_with_the_recipe(results):
    """L07 §6: "Neither arm's answers begin 'The answer is' outside arithmetic (0.00 in both,
    every seed) ... right answers in any trained style were 0.06 (styles by task) and 0.01 (one
    fixed style), and half or more of the answers (medians 0.50 and 0.60) contain a template
    marker ... (at most 0.14)"."""
    r = measured(results, "style-overfitting")
    leaks = r.values(metric("style-overfitting", "style_leak"))
    assert leaks == {"styles by task": [0.0] * 3, "one fixed style": [0.0] * 3}
    assert all(starts_with(run, "the answer is") == 0 for runs in r.runs.values()
               for run in runs)
    assert (median(r, "styles by task", "right_any_style"),
            median(r, "one fixed style", "right_any_style")) == (0.06, 0.01)
    assert round(max(r.values(metric("style-overfitting", "right_any_style"))
                     ["styles by task"]), 2) == 0.14
    marker = [[round(sum(not row["checks"]["no_template_leak"] for row in run.rows)
                     / len(run.rows), 2) for run in runs] for runs in r.runs.values()]
    assert [sorted(m)[1] for m in marker] == [0.50, 0.60]


def test_l07_style_leak_shows_with_every_weight_trained(results):
    """L07 §6: "With every weight trained, the same 40 steps show the claim: 0.95 (0.90-0.99) of
    the fixed-style model's answers outside arithmetic begin 'The answer is', against none with
    styles by task ... (at most 0.10 ...)"."""
    style = EXPERIMENTS["style-overfitting"]
    every_weight = replace(style, name="style-overfitting-every-weight",
                           arms=tuple(replace(arm, freeze=()) for arm in style.arms))
    r = run_experiment(every_weight, seeds=3, steps=STEPS, model="tiny", cache_dir=CACHE,
                       progress=False)
    leak = metric("style-overfitting", "style_leak")
    assert round(r.spread("one fixed style", leak).median, 2) == 0.95
    assert (round(r.spread("one fixed style", leak).low, 2),
            round(r.spread("one fixed style", leak).high, 2)) == (0.90, 0.99)
    assert r.values(leak)["styles by task"] == [0.0] * 3
    right = r.values(metric("style-overfitting", "right_any_style"))
    assert round(max(max(values) for values in right.values()), 2) <= 0.10


def test_l07_specialising_costs_the_other_tasks(results):
    """L07 §7: "0.41 exact match on them with mixed data and 0.18 with arithmetic only, ranges
    apart (0.35-0.43 and 0.17-0.25) ... Arithmetic itself was not measurably better (0.42 vs
    0.44, ranges overlapping ...). Statement knowledge ... (0.98 and 1.00: one fact of 56
    apart)"."""
    r = measured(results, "balance")
    assert (median(r, "mixed tasks", "exact_match_other"),
            median(r, "arithmetic only", "exact_match_other")) == (0.41, 0.18)
    assert low_high(r, "mixed tasks", "exact_match_other") == (0.35, 0.43)
    assert low_high(r, "arithmetic only", "exact_match_other") == (0.17, 0.25)
    assert verdict(r, "arithmetic only", "exact_match_other").better is False
    assert (median(r, "mixed tasks", "exact_match_arithmetic"),
            median(r, "arithmetic only", "exact_match_arithmetic")) == (0.42, 0.44)
    assert verdict(r, "arithmetic only", "exact_match_arithmetic").within_spread
    facts = [[sum(run.statements) for run in r.runs[arm]] for arm in r.runs]
    assert facts == [[55] * 3, [56] * 3]


def test_l07_freezing_keeps_knowledge_and_lora_barely_learns(results):
    """L07 §8: "a median of 0.91 of the facts (0.89-0.91), from 1.00 before tuning. Freezing the
    embeddings and MLPs kept more (0.95 in every seed) at the same exact match (0.52 and 0.52,
    ranges overlapping) ... Training only q, k and the norms kept more still (0.98, 0.96-0.98)
    but learned less in 40 steps (exact match 0.29 against 0.52, ranges apart). LoRA kept
    everything ...: exact match 0.02"."""
    r = measured(results, "forgetting")
    assert r.base_knowledge.value == 1.0
    arms = ("full fine-tune", "frozen embeddings + MLP", "LoRA", "q, k and norms only")
    assert [median(r, arm, "statement_knowledge") for arm in arms] == [0.91, 0.95, 1.0, 0.98]
    assert low_high(r, "full fine-tune", "statement_knowledge") == (0.89, 0.91)
    assert low_high(r, "frozen embeddings + MLP", "statement_knowledge") == (0.95, 0.95)
    assert low_high(r, "q, k and norms only", "statement_knowledge") == (0.96, 0.98)
    assert [median(r, arm, "exact_match") for arm in arms] == [0.52, 0.52, 0.02, 0.29]
    assert verdict(r, "frozen embeddings + MLP", "statement_knowledge").better is True
    assert verdict(r, "frozen embeddings + MLP", "exact_match").within_spread
    # The q, k and norms arm against the frozen embeddings + MLP arm (not the baseline):
    # its knowledge range lies above, its exact match range below.
    assert low_high(r, "q, k and norms only", "statement_knowledge")[0] > 0.95
    assert (low_high(r, "q, k and norms only", "exact_match")[1]
            < low_high(r, "frozen embeddings + MLP", "exact_match")[0])
    assert all(r.runs["LoRA"][i].statements == r.base_statements for i in range(3))
