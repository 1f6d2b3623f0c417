"""Lesson 07's prose, re-measured: each experiment at the lesson's settings (tiny, 40 steps,
seeds 0-2), and each sentence the lesson states about its result.

The runs are cached where the lesson keeps them (lessons/runs/experiments): after a headless
run of the lesson these tests read them back in seconds; alone, they train about 45 short runs.
When a rebuild of the model, the data or the recipe changes a result, the test quoting the
sentence fails and the lesson's prose must change with it.
"""

from pathlib import Path

import pytest

from course_lib.experiments.catalogue import EXPERIMENTS
from course_lib.experiments.runner import run_experiment

CACHE = Path(__file__).resolve().parents[2] / "lessons" / "runs" / "experiments"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def results():
    return {}


def measured(results, name):
    if name not in results:
        results[name] = run_experiment(name, seeds=3, steps=40, model="tiny", cache_dir=CACHE,
                                       progress=False)
    return results[name]


def metric(name, key):
    return next(m for m in EXPERIMENTS[name].metrics if m.key == key)


def median(result, arm, key):
    return round(result.spread(arm, metric(result.experiment.name, key)).median, 2)


def verdict(result, arm, key):
    return result.verdict(arm, metric(result.experiment.name, key))


def test_l07_collator_no_difference(results):
    """L07 §1: "exact match 0.46 (response only) against 0.47 (every token) ... each arm's range
    overlaps the other's on every metric. Neither model writes template markers"."""
    r = measured(results, "wrong-collator")
    assert (median(r, "response only", "exact_match"),
            median(r, "every token", "exact_match")) == (0.46, 0.47)
    assert all(v.within_spread for v in r.verdicts())
    assert median(r, "response only", "template_leak") == median(r, "every token",
                                                                 "template_leak") == 0


def test_l07_formatting_hurts_only_in_an_unseen_template(results):
    """L07 §2: "Asked in the one-line template, the mixed data did no measurable harm (0.46 vs
    0.43, ranges overlapping) ... the one-template baseline answers 0.04 of the questions asked
    with `Human: ... Assistant:` ... the mixed arm ... answers more of them"."""
    r = measured(results, "inconsistent-formatting")
    assert (median(r, "one template", "exact_match_one_line"),
            median(r, "mixed templates", "exact_match_one_line")) == (0.46, 0.43)
    assert verdict(r, "mixed templates", "exact_match_one_line").within_spread
    assert median(r, "one template", "exact_match_human_assistant") == 0.04
    assert verdict(r, "mixed templates", "exact_match_human_assistant").better is True


def test_l07_poor_data_hurts_with_the_dose(results):
    """L07 §3: "With 20% poor rows we measured no difference in exact match beyond the seed
    spread ...; with 50%, exact match fell from 0.46 to 0.18, about one answer in ten copied a
    poor style ... every adherence check fell from 0.95 to 0.63"."""
    r = measured(results, "poor-quality")
    assert verdict(r, "20% poor", "exact_match").within_spread
    assert (median(r, "0% poor", "exact_match"), median(r, "50% poor", "exact_match")) == (
        0.46, 0.18)
    assert verdict(r, "50% poor", "exact_match").better is False
    assert 0.05 <= median(r, "50% poor", "poor_style") <= 0.15
    assert (median(r, "0% poor", "adherence_all"), median(r, "50% poor", "adherence_all")) == (
        0.95, 0.63)


def test_l07_quality_beats_quantity(results):
    """L07 §4: "200 clean rows gave about 0.42 exact match, 800 rows with half of them poor
    about 0.17, and only the noisy arm copies poor styles"."""
    r = measured(results, "quality-vs-quantity")
    assert (median(r, "200 clean", "exact_match"), median(r, "800, half poor", "exact_match")) \
        == (0.42, 0.17)
    assert verdict(r, "800, half poor", "exact_match").better is False
    assert median(r, "200 clean", "poor_style") == 0 < median(r, "800, half poor", "poor_style")


def test_l07_prompt_variability_not_confirmed_at_40_steps(results):
    """L07 §5: "on the unseen styles we measured 0.30 (several phrasings) against 0.33 (one
    phrasing), ranges overlapping"."""
    r = measured(results, "prompt-variability")
    assert (median(r, "several phrasings", "unseen_exact_match"),
            median(r, "one phrasing", "unseen_exact_match")) == (0.30, 0.33)
    assert verdict(r, "one phrasing", "unseen_exact_match").within_spread


def test_l07_one_fixed_style_leaks_everywhere(results):
    """L07 §6: "about 0.95 of the answers to translations, sounds, colours, capitals and
    opposites begin 'The answer is', against none with styles by task ... Both arms answer few
    questions right, in any of their styles (below 0.1)"."""
    r = measured(results, "style-overfitting")
    assert median(r, "one fixed style", "style_leak") == 0.95
    assert median(r, "styles by task", "style_leak") == 0
    assert max(r.values(metric("style-overfitting", "right_any_style"))["styles by task"]) < 0.1
    assert median(r, "one fixed style", "right_any_style") < 0.1


def test_l07_specialising_costs_the_other_tasks(results):
    """L07 §7: "0.50 exact match on them with mixed data and 0.42 with arithmetic only, ranges
    apart. Arithmetic itself was not measurably better (0.38 vs 0.44, ranges overlapping)"."""
    r = measured(results, "balance")
    assert (median(r, "mixed tasks", "exact_match_other"),
            median(r, "arithmetic only", "exact_match_other")) == (0.50, 0.42)
    assert verdict(r, "arithmetic only", "exact_match_other").better is False
    assert (median(r, "mixed tasks", "exact_match_arithmetic"),
            median(r, "arithmetic only", "exact_match_arithmetic")) == (0.38, 0.44)
    assert verdict(r, "arithmetic only", "exact_match_arithmetic").within_spread


def test_l07_freezing_keeps_knowledge_and_lora_barely_learns(results):
    """L07 §8: "a median of 0.91 of the facts, from 1.00 before tuning. Freezing the embeddings
    and MLPs kept more (0.95) at the same exact match ... LoRA kept everything ... exact match
    stayed near 0.03"."""
    r = measured(results, "forgetting")
    assert r.base_knowledge.value == 1.0
    assert [median(r, arm, "statement_knowledge") for arm in
            ("full fine-tune", "frozen embeddings + MLP", "LoRA")] == [0.91, 0.95, 1.0]
    assert verdict(r, "frozen embeddings + MLP", "statement_knowledge").better is True
    assert verdict(r, "frozen embeddings + MLP", "exact_match").within_spread
    assert median(r, "LoRA", "exact_match") == 0.03
