"""Lesson 07's prose, re-measured: each experiment at the lesson's settings (tiny, 40 steps,
seeds 0-2, the default recipe for what an arm leaves alone), and each sentence the lesson
states about its result.

The runs are cached where the lesson keeps them (lessons/runs/experiments): after a headless
run of the lesson these tests read them back in seconds; alone, they train the lesson's 54
short runs, plus the 6 of the style experiment with every weight trained, which the lesson
quotes without running. The lesson's 500-step figures (from `course experiment NAME`) are
re-measured by the tests marked recipe_steps at the end: about 20 minutes for all of them, so
pytest leaves them out unless `-m` names them (tests/conftest.py) and `make claims-500` runs them.
When a rebuild of the model, the data or the recipe changes a result, the test quoting the
sentence fails and the lesson's prose must change with it.
"""

import json
from dataclasses import replace
from pathlib import Path

import pytest

from course_lib.cli import main as course
from course_lib.experiments.catalogue import EXPERIMENTS
from course_lib.experiments.runner import arms_to_run, run_experiment, run_settings
from course_lib.formatting.records import load_raw_rows, load_records
from course_lib.formatting.schemas import detect_template
from course_lib.formatting.stats import check_consistent_templates
from course_lib.loading import load_model_and_tokenizer
from course_lib.training.settings import RECIPE, default_learning_rate, lora_settings
from course_lib.world.eval_styles import NOT_KNOWN_IN_STATEMENT_FORM, UNSEEN
from course_lib.world.phrasings import ARITHMETIC, TUNING

CACHE = Path(__file__).resolve().parents[2] / "lessons" / "runs" / "experiments"
STEPS = 40
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def results():
    return {}


def measured(results, name, steps=STEPS):
    """The experiment at the lesson's steps (or the recipe's), seeds 0-2, once per module."""
    if (name, steps) not in results:
        results[name, steps] = run_experiment(name, seeds=3, steps=steps, model="tiny",
                                              cache_dir=CACHE, progress=False)
    return results[name, steps]


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


def test_l07_54_runs_of_640_examples_each():
    """L07 §0: "This lesson runs 54 fine-tunes: eight experiments, 60 arms and seeds in all, of
    which six train exactly alike and run once ... each run is 40 steps of batch 16, 640
    examples: ... less than one pass over the 855 records of `course:train`, and a seventh of
    the recipe's 4,794"."""
    arms = [(e, arm) for e in EXPERIMENTS.values() for arm in arms_to_run(e)]
    assert len(EXPERIMENTS) == 8 and 3 * len(arms) == 60
    runs = {json.dumps(run_settings(e, arm, seed, STEPS, "tiny"), sort_keys=True, default=str)
            for e, arm in arms for seed in range(3)}
    assert len(runs) == 54
    examples = STEPS * RECIPE.batch_size
    assert (RECIPE.batch_size, examples) == (16, 640)
    train, recipe = len(load_records("course:train")), len(load_records(RECIPE.data))
    assert (train, recipe) == (855, 4794) and examples < train
    assert round(recipe / examples) == 7


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


def test_l07_half_the_records_in_three_templates():
    """L07 §2: "Half the records (428 of 855) written as `{"text"}` in three templates: the
    one-line template, `Human: ... Assistant: ...` and `Q: ... A: ...`, a third each" (and
    the mix is warned about)."""
    rows = [row for _, row in load_raw_rows("course:variant_format_mixed")]
    texts = [detect_template(row["text"]) for row in rows if "text" in row]
    assert (len(texts), len(rows)) == (428, 855)
    counts = [texts.count(t) for t in ("one_line", "human_assistant", "qa")]
    assert sum(counts) == 428 and max(counts) - min(counts) <= 1
    assert check_consistent_templates(rows)


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


def test_l07_poor_data_baseline_range(results):
    """L07 §3: "With 20% poor rows exact match fell from 0.43 to 0.32, but the ranges overlap
    (0.33-0.44 and 0.22-0.36)" (the baseline's range)."""
    r = measured(results, "poor-quality")
    assert low_high(r, "0% poor", "exact_match") == (0.33, 0.44)


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


def test_l07_quality_arms_are_200_and_800_rows():
    """L07 §4: "200 clean rows, or 800 rows: those 200, 200 more clean ones and 400 poor
    ones"."""
    clean = [row for _, row in load_raw_rows("course:variant_quality_clean")]
    noisy = [row for _, row in load_raw_rows("course:variant_quantity_noisy")]
    assert len(clean) == 200 and len(noisy) == 800
    assert sum(row["poor"] for row in noisy) == 400 and not any(row["poor"] for row in clean)
    assert all(row in noisy for row in clean)


def test_l07_train_asks_each_kind_in_5_to_10_phrasings():
    """L07 §5: "`course:train` asks each kind of question in 5 to 10 phrasings" and "the six
    phrasing styles that no tuning record uses"."""
    counts = {kind: len(forms) for kind, forms in TUNING.items()}
    assert (min(counts.values()), max(counts.values())) == (5, 10)
    assert {r.get("kind") for r in load_records("course:train")} <= set(TUNING) | {None}
    assert len(UNSEEN) == 6


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


def test_l07_balance_arms_are_399_rows():
    """L07 §7: "399 arithmetic rows, or 399 rows drawn from every task" and "more than twice as
    many arithmetic rows as the mixed one (399 against 183)"."""
    arithmetic = [row for _, row in load_raw_rows("course:variant_balance_arithmetic")]
    mixed = [row for _, row in load_raw_rows("course:variant_balance_mixed")]
    assert len(arithmetic) == len(mixed) == 399
    assert {row["kind"] for row in arithmetic} == set(ARITHMETIC)
    assert {row["kind"] for row in mixed} == set(TUNING)
    assert sum(row["kind"] in ARITHMETIC for row in mixed) == 183


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


def test_l07_arithmetic_only_still_answers_capitals_and_translations(results):
    """L07 §7: "The arithmetic-only model still answers some capitals (9 to 14 of 30), and a
    translation now and then, without any tuning row about them"."""
    r = measured(results, "balance")
    kinds = {row["kind"] for _, row in load_raw_rows("course:variant_balance_arithmetic")}
    assert not kinds & {"capital", "spanish"}
    right = {kind: [sum(row["exact_match"] for row in run.rows if row["kind"] == kind)
                    for run in r.runs["arithmetic only"]] for kind in ("capital", "spanish")}
    assert (min(right["capital"]), max(right["capital"])) == (9, 14)
    assert 0 < sum(right["spanish"]) <= 3  # 1, 0 and 1 of 30 with seeds 0-2


def test_l07_forgetting_arms_train_what_they_name_at_1e_3():
    """L07 §8: "all of them (`freeze=()`); all but the embeddings and the MLPs
    (`freeze=("embed_tokens", "mlp")`); LoRA adapters on the attention's `q_proj` and `v_proj`
    (rank 8), merged afterwards; or only `q_proj`, `k_proj` and the norms ... every arm names
    what it freezes, and all train ... at the same learning rate, 1e-3"."""
    arms = {arm.name: arm for arm in EXPERIMENTS["forgetting"].arms}
    assert {name: arm.freeze for name, arm in arms.items()} == {
        "full fine-tune": (), "frozen embeddings + MLP": ("embed_tokens", "mlp"),
        "LoRA": (), "q, k and norms only": RECIPE.freeze}
    assert [name for name, arm in arms.items() if arm.lora] == ["LoRA"]
    adapters = lora_settings()
    assert (adapters.r, adapters.target_modules) == (8, {"q_proj", "v_proj"})
    # train() picks the recipe's 2e-3 only when freeze is left to it; every arm names it.
    params = load_model_and_tokenizer("tiny")[0].num_parameters()
    assert all("freeze" in arm.train_settings() and "learning_rate" not in arm.train_settings()
               for arm in arms.values())
    assert {default_learning_rate(params, bool(arm.lora)) for arm in arms.values()} == {1e-3}


def test_l07_forgetting_counts_56_facts_and_lora_still_rambles(results):
    """L07 §8: "the share of the 56 held-out facts the model still completes in statement
    form" (§7: "The 56 are every held-out fact of `course:eval` ...: the 54 that
    `course:eval_styles` asks about and two more, 5+2 and 1*8") and "LoRA kept everything
    because it barely changed the model: ... about half of its answers still run on instead of
    stopping, as every answer of the base model does"."""
    r = measured(results, "forgetting")
    assert len(r.base_statements) == 56 == len(load_records("course:eval"))
    styles = {row["group"] for _, row in load_raw_rows("course:eval_styles")}
    assert len(styles) == 54 and NOT_KNOWN_IN_STATEMENT_FORM == {"add:5+2", "mul:1*8"}
    assert not styles & NOT_KNOWN_IN_STATEMENT_FORM

    def share(run, check):
        return sum(check(row) for row in run.rows) / len(run.rows)

    stops = {arm: [share(run, lambda row: row["stopped"]) for run in runs]
             for arm, runs in r.runs.items()}
    lora = stops.pop("LoRA")
    # It stops in 0.42-0.61 of its answers (the base model in none), writing template markers
    # in the others, where every other arm stops in at least 0.78.
    assert 1 / 3 < min(lora) and max(lora) < 2 / 3 < min(min(values) for values in stops.values())
    # (The base model stopping in none: test_l06_the_base_model_fails_every_check_...)
    assert all(share(run, lambda row: not row["checks"]["no_template_leak"]) > 0.15
               for run in r.runs["LoRA"])


def test_l07_the_report_on_a_file_of_your_own(tmp_path, capsys):
    """L07 §9: "`8 of 9 examples ... ready for training`: 10 rows were read, 1 is held out
    (below), and 8 of the other 9 will train", line 10 "skipped: no trained token left" (and
    not also "cut": the cut line is for rows that still train), line 9's prompt "already holds
    template markers", a "Held-out score" line, and no line saying the data is far outside what
    the model knows or that rows look poor (the lesson's file; the lesson explains every line)."""
    rows = [{"instruction": f"What is {a}+{b}?", "input": "", "output": str(a + b)}
            for a, b in [(3, 4), (6, 2), (8, 1), (2, 7), (5, 5), (9, 3)]]
    rows += [{"instruction": "Name the capital of Spain.", "input": "", "output": "Madrid"},
             {"instruction": "What does a dog say?", "input": "", "output": "woof"},
             {"instruction": "### Instruction: What is the opposite of big? ### Response:",
              "input": "", "output": "small"},
             {"instruction": "Name the capital of the country in the text.",
              "input": "France is a country in Europe. " * 40, "output": "Paris"}]
    lesson = json.loads((CACHE.parents[1] / "07_mistakes_measured.ipynb").read_text("utf-8"))
    code = "".join("".join(c["source"]) for c in lesson["cells"] if c["cell_type"] == "code")
    assert '"input": "France is a country in Europe. " * 40' in code and '"128"' in code
    mine = tmp_path / "mine.json"
    mine.write_text("".join(json.dumps(row) + "\n" for row in rows))
    assert course(["train", "--model", "tiny", "--data", str(mine), "--max-length", "128",
                   "--steps", "5", "--quiet", "--out", str(tmp_path / "run")]) == 0
    lines = capsys.readouterr().out.splitlines()

    def line(start):
        [found] = [text for text in lines if text.startswith(start)]
        return found

    assert line("8 of 9 examples")
    assert "(line 10)" in line("1 was skipped: no trained token left")
    assert not any("was cut to max_length" in text for text in lines)
    assert "(line 9)" in line("1 prompt already holds template markers")
    assert line("Held-out score") and line("threads")
    assert not any("far outside" in text for text in lines)
    assert not any("checks see form only" in text for text in lines)  # no poor rows


# --- At the recipe's 500 steps: the figures each section quotes from `course experiment NAME` --
# About 20 minutes of training on 2 cores (54 runs of 500 steps), so `make test` leaves them
# out; `make claims-500` runs them. They share the lesson's cache folder: a second run reads
# the runs back in seconds.
RECIPE_STEPS = pytest.mark.recipe_steps

# How far a 500-step median moves on another CPU: float rounding differs (BLAS kernels), and
# 500 steps carry it into a few answers. Measured: the quoted figures (one machine) against
# the same code on a second machine, up to 0.03 (mixed templates asked as Human/Assistant:
# 0.32 and 0.35; every other median within 0.02). So figures are checked to 0.03; whether
# two arms' ranges are apart or overlap (the lesson's verdicts) is checked exactly.
ACROSS_MACHINES = 0.03


def near(measured, quoted) -> bool:
    """Each measured figure within ACROSS_MACHINES of the one the lesson quotes."""
    pairs = zip(measured, quoted, strict=True) if isinstance(quoted, tuple | list) else [
        (measured, quoted)]
    return all(abs(m - q) <= ACROSS_MACHINES + 1e-9 for m, q in pairs)


def apart(result, arm, key):
    """The arm's range and the baseline's do not overlap (the lesson's "ranges apart")."""
    return not verdict(result, arm, key).within_spread


@RECIPE_STEPS
def test_l07_500_the_mask_keeps_its_exact_match_gap(results):
    """L07 §1: "At the recipe's 500 steps both models learn to stop cleanly (markers in at most
    0.02 of the answers), but the gap in exact match stays: 0.91 (0.90-0.91) against 0.78
    (0.73-0.79)"."""
    r = measured(results, "wrong-collator", RECIPE.max_steps)
    leaks = max(max(v) for v in r.values(metric("wrong-collator", "template_leak")).values())
    assert round(leaks, 2) <= 0.02  # "at most 0.02", as the lesson rounds it
    assert near(median(r, "response only", "exact_match"), 0.91)
    assert near(low_high(r, "response only", "exact_match"), (0.90, 0.91))
    assert near(median(r, "every token", "exact_match"), 0.78)
    assert near(low_high(r, "every token", "exact_match"), (0.73, 0.79))
    assert apart(r, "every token", "exact_match")


@RECIPE_STEPS
def test_l07_500_mixed_templates_in_the_tuning_template(results):
    """L07 §2: "at the recipe's 500 steps it was 0.55 against 0.58, and the mixed arm passed
    more adherence checks (0.97 against 0.90)" and the mixed arm's "0.32 and 0.54 at 500
    steps" (asked as `Human: ... Assistant:` and as `Q: ... A:`)."""
    r = measured(results, "inconsistent-formatting", RECIPE.max_steps)
    assert near((median(r, "one template", "exact_match_one_line"),
                 median(r, "mixed templates", "exact_match_one_line")), (0.55, 0.58))
    assert near((median(r, "one template", "adherence_one_line"),
                 median(r, "mixed templates", "adherence_one_line")), (0.90, 0.97))
    assert near((median(r, "mixed templates", "exact_match_human_assistant"),
                 median(r, "mixed templates", "exact_match_qa")), (0.32, 0.54))


@RECIPE_STEPS
def test_l07_500_twenty_percent_poor_rows_cost_beyond_the_spread(results):
    """L07 §3: "at the recipe's 500 steps ... 20% poor rows cost exact match beyond the spread
    (0.55 -> 0.43), and 50% cost more (0.29)"."""
    r = measured(results, "poor-quality", RECIPE.max_steps)
    assert near([median(r, arm, "exact_match") for arm in ("0% poor", "20% poor", "50% poor")],
                [0.55, 0.43, 0.29])
    assert apart(r, "20% poor", "exact_match") and apart(r, "50% poor", "exact_match")


@RECIPE_STEPS
def test_l07_500_the_quality_gap_grows(results):
    """L07 §4: "At the recipe's 500 steps the gap grows: 0.48 against 0.32"."""
    r = measured(results, "quality-vs-quantity", RECIPE.max_steps)
    assert near((median(r, "200 clean", "exact_match"),
                 median(r, "800, half poor", "exact_match")), (0.48, 0.32))


@RECIPE_STEPS
def test_l07_500_many_styles_carry_over_and_their_cost_is_gone(results):
    """L07 §5: "at the recipe's 500 steps ... 0.40 against 0.34, still overlapping", "at 500
    steps it answers them less well: 0.89 against 0.96, ranges apart", "0.88 at 500 steps
    against 0.40" and "at 500 steps the cost is gone (0.94 against 0.96, overlapping)"."""
    r = measured(results, "prompt-variability", RECIPE.max_steps)
    assert near([median(r, arm, "unseen_exact_match")
                 for arm in ("several phrasings", "one phrasing", "many styles")],
                [0.40, 0.34, 0.88])
    assert verdict(r, "one phrasing", "unseen_exact_match").within_spread
    assert near((median(r, "one phrasing", "seen_exact_match"),
                 median(r, "several phrasings", "seen_exact_match")), (0.89, 0.96))
    assert apart(r, "one phrasing", "seen_exact_match")
    assert near(median(r, "many styles", "seen_exact_match"), 0.94)
    assert verdict(r, "many styles", "seen_exact_match").within_spread


@RECIPE_STEPS
def test_l07_500_the_fixed_style_model_begins_with_the_not_the_answer_is(results):
    """L07 §6: "Even at the recipe's 500 steps ... the fixed-style model begins every answer
    outside arithmetic with 'The' (0.99-1.00 of them) and never with 'The answer is': it writes
    'The sum of 3 and 7.' or 'The paper.' instead. In about half of those answers (0.48-0.60)
    'The' even takes the place of the first letters of a word: 'Thealy is Rome.', 'Thepain's
    capital is Madrid.'"."""
    r = measured(results, "style-overfitting", RECIPE.max_steps)
    fixed = r.runs["one fixed style"]
    begins = [starts_with(run, "the") for run in fixed]  # "Thealy" too: the letters
    assert near((round(min(begins), 2), round(max(begins), 2)), (0.99, 1.00))
    assert all(starts_with(run, "the answer is") == 0 for run in fixed)
    glued = [b - starts_with(run, "the ") for b, run in zip(begins, fixed, strict=True)]
    assert near((round(min(glued), 2), round(max(glued), 2)), (0.48, 0.60))
    said = {row["response"].strip() for run in fixed for row in run.rows}
    assert {"The sum of 3 and 7.", "The paper.", "Thealy is Rome.",
            "Thepain's capital is Madrid."} <= said


@RECIPE_STEPS
def test_l07_500_specialising_still_costs_the_other_tasks(results):
    """L07 §7: "0.53 against 0.35 at the recipe's 500 steps" (the other tasks) and arithmetic
    "0.50 vs 0.49 at 500 steps"."""
    r = measured(results, "balance", RECIPE.max_steps)
    assert near((median(r, "mixed tasks", "exact_match_other"),
                 median(r, "arithmetic only", "exact_match_other")), (0.53, 0.35))
    assert near((median(r, "mixed tasks", "exact_match_arithmetic"),
                 median(r, "arithmetic only", "exact_match_arithmetic")), (0.50, 0.49))


@RECIPE_STEPS
def test_l07_500_the_full_fine_tune_forgets_most(results):
    """L07 §8: "At the recipe's 500 steps ... the full fine-tune kept 0.79 of the facts and
    every other arm more, ranges apart (frozen embeddings and MLPs 0.93, LoRA 0.98, q, k and
    norms 1.00); the full fine-tune also answered the fewest questions (exact match 0.70,
    against 0.90, 0.78 and 0.89)"."""
    r = measured(results, "forgetting", RECIPE.max_steps)
    arms = ("full fine-tune", "frozen embeddings + MLP", "LoRA", "q, k and norms only")
    assert near([median(r, arm, "statement_knowledge") for arm in arms], [0.79, 0.93, 0.98, 1.0])
    assert all(apart(r, arm, "statement_knowledge") for arm in arms[1:])
    assert near([median(r, arm, "exact_match") for arm in arms], [0.70, 0.90, 0.78, 0.89])
