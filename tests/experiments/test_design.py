"""Experiments are designed as the issue asks: one change per variant, metrics that measure it."""

import pytest

from course_lib.experiments.catalogue import EXPERIMENTS, RECIPE_FROZEN
from course_lib.experiments.design import (
    EXACT_MATCH,
    LEAK,
    POOR_STYLE,
    UNSEEN,
    Arm,
    ArmRun,
    Experiment,
    answer_in_any_style,
    right_in_any_style,
    style_leak,
)
from course_lib.experiments.runner import arms_to_run, resolved
from course_lib.formatting.records import load_records
from course_lib.training.settings import RECIPE


def row(response, reference="4", kind="add", **labels):
    leak = "###" in response or "Human:" in response
    return {"response": response, "reference": reference, "kind": kind,
            "exact_match": response == reference, "checks": {"no_template_leak": not leak},
            "template": "one_line", **labels}


@pytest.mark.parametrize("experiment", EXPERIMENTS.values(), ids=lambda e: e.name)
def test_every_variant_changes_exactly_one_setting(experiment):
    base = resolved(experiment.baseline)
    for arm in arms_to_run(experiment)[1:]:  # an optional arm equal to another is left out
        changed = {k for k, v in resolved(arm).items() if base[k] != v}
        assert len(changed) == 1, f"{arm.name} changes {sorted(changed)}, not one thing"
        assert arm.change, f"{arm.name} does not say what it changes"


@pytest.mark.parametrize("experiment", EXPERIMENTS.values(), ids=lambda e: e.name)
def test_every_experiment_states_its_claim_and_hypothesis_and_its_data_loads(experiment):
    assert experiment.claim and experiment.hypothesis and experiment.metrics
    assert len({arm.name for arm in experiment.arms}) == len(experiment.arms)
    for arm in experiment.arms:
        if arm.data is not None:
            assert load_records(arm.data), arm.data


def test_the_list_covers_the_issue():
    assert list(EXPERIMENTS) == [
        "wrong-collator", "inconsistent-formatting", "poor-quality", "quality-vs-quantity",
        "prompt-variability", "style-overfitting", "balance", "forgetting"]


def test_an_arm_passes_only_what_it_changes():
    assert Arm("baseline").train_settings() == {}
    assert Arm("full", freeze=()).train_settings() == {"freeze": ()}  # explicit: train all
    assert Arm("x", data="course:train", masking="none", lora=True).train_settings() == {
        "data": "course:train", "masking": "none", "lora": True}
    assert Arm("lora", lora=True, learning_rate=5e-3).train_settings() == {
        "lora": True, "learning_rate": 5e-3}  # lesson 08: each way of training at its rate


def test_rates_count_the_right_rows():
    run = ArmRun([row("4", seen=True), row("5", seen=False), row("4", seen=False),
                  row("4 ### Instruction:", seen=False), row("ok", kind="capital", seen=True),
                  row("Well, it is 4.", seen=True)])
    assert (EXACT_MATCH.measure(run).k, EXACT_MATCH.measure(run).n) == (2, 6)
    assert (UNSEEN.measure(run).k, UNSEEN.measure(run).n) == (1, 3)
    assert (LEAK.measure(run).k, LEAK.measure(run).n) == (1, 6)
    assert POOR_STYLE.measure(run).k == 2  # "ok" (a non-answer) and "Well, ..." (rambling)


def test_style_leak_counts_only_tasks_where_the_phrase_is_wrong():
    run = ArmRun([row("The answer is 4."), row("The answer is perro.", "perro", "spanish"),
                  row("perro", "perro", "spanish"), row("the answer is moo", "moo", "sound")])
    leak = style_leak(run)
    assert (leak.k, leak.n) == (2, 3)  # arithmetic is not counted


def test_an_answer_is_right_in_any_trained_style_but_not_inside_a_wrong_one():
    assert answer_in_any_style("2 + 2 = 4.", "4")
    assert answer_in_any_style('In Spanish, "good morning" is "buenos dias".', "buenos dias")
    assert answer_in_any_style("The answer is Four.", "4")
    assert not answer_in_any_style("The answer is 14.", "4")
    assert not answer_in_any_style("4 5", "4")
    run = ArmRun([row("The answer is 4."), row("5"), row("2 + 2 = 4.")])
    assert right_in_any_style(run).k == 2


def test_arms_named_after_the_default_recipe_train_as_it_does():
    # Their names and texts say "the default recipe's": when the recipe changes, so must they.
    assert RECIPE_FROZEN == RECIPE.freeze
    forgetting = {arm.name: arm for arm in EXPERIMENTS["forgetting"].arms}
    assert forgetting["q, k and norms only"].freeze == RECIPE.freeze
    variability = {arm.name: arm for arm in EXPERIMENTS["prompt-variability"].arms}
    assert variability["many styles"].data == RECIPE.data


def test_an_arm_without_lora_says_so():
    """lora=False is a choice (a full fine-tune of a LoRA-by-default preset), not the default."""
    assert Arm("full", lora=False).train_settings() == {"lora": False}


def test_rates_by_kind_leave_out_questions_without_a_reference():
    from course_lib.experiments.design import on_kinds
    from course_lib.world.phrasings import ARITHMETIC

    run = ArmRun([row("4"), row("5"), row("4", reference=None), row("Lima", "Lima", "capital"),
                  row("x", None, "capital")])
    arithmetic = on_kinds(ARITHMETIC, arithmetic=True)(run)
    other = on_kinds(ARITHMETIC, arithmetic=False)(run)
    assert (arithmetic.k, arithmetic.n) == (1, 2) and (other.k, other.n) == (1, 1)


def test_adherence_counts_answers_that_pass_every_check():
    from course_lib.experiments.design import ADHERENCE

    checks = [{"answered": True, "stopped": True}, {"answered": True, "stopped": False},
              {"answered": False, "stopped": False}]
    run = ArmRun([{**row("4"), "checks": c} for c in checks])
    assert (ADHERENCE.measure(run).k, ADHERENCE.measure(run).n) == (1, 3)


def test_a_freeze_or_templates_given_as_one_name_is_one_piece():
    # Arm(freeze="mlp") trained with freeze ('m', 'l', 'p'): every weight frozen, refused.
    assert Arm("a", freeze="mlp").train_settings() == {"freeze": ("mlp",)}
    assert Arm("a", freeze=["mlp", "embed_tokens"]).freeze == ("mlp", "embed_tokens")
    assert Arm("a", freeze=()).train_settings() == {"freeze": ()}  # "train every weight"
    assert Arm("a").freeze is None
    # templates="qa" was asked in the templates 'q' and 'a'.
    assert Experiment("e", "e", "c", "h", (Arm("a"),), (EXACT_MATCH,), templates="qa",
                      ).templates == ("qa",)
