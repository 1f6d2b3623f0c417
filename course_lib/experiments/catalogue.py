"""Common mistakes and good practices of instruction tuning, each written as an experiment
before it was run.

    >>> list(EXPERIMENTS)[:3]
    ['wrong-collator', 'inconsistent-formatting', 'poor-quality']
    >>> print(EXPERIMENTS["prompt-variability"].arms[1].change)
    every instruction in its task's first phrasing

Each experiment states a claim that instruction-tuning guides make, then a hypothesis: the
claim as a prediction that a measurement can contradict. Both were written (and committed)
before the first result; an experiment is never tuned until it agrees. The data variants are
`course:variant_*` (world/variants.py; their data card is course_lib/assets/data/README.md).

The baseline of every experiment is the course's default recipe (`train()`'s defaults,
settings.RECIPE: its data, frozen parts, learning rate and steps), except for the one setting
the claim is about; each experiment's `note` says what its baseline is. Two experiments add
an arm that the recipe made worth measuring: their hypotheses keep the text written before
the first run and add one sentence, written before that arm's first run.
"""

from __future__ import annotations

import difflib
import re

from course_lib.errors import CourseError
from course_lib.evaluation.uncertainty import Rate
from course_lib.experiments.design import (
    ADHERENCE,
    EXACT_MATCH,
    LEAK,
    POOR_STYLE,
    SECONDS,
    SEEN,
    STATEMENTS,
    UNSEEN,
    Arm,
    ArmRun,
    Experiment,
    Metric,
    every_check,
    exact_match_rate,
    on_kinds,
    right_in_any_style,
    style_leak,
    where,
)
from course_lib.world.phrasings import ARITHMETIC
from course_lib.world.variants import TEMPLATE_NAMES

# What the default recipe freezes (settings.RECIPE.freeze), spelt out: the forgetting arm
# that trains like the recipe keeps its name if the recipe changes (a test compares them).
RECIPE_FROZEN = ("embed_tokens", "mlp", "v_proj", "o_proj")
# How `course experiment NAME` spells a name: experiment_named() looks it up in lower case.
EXPERIMENT_NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def _in_template(name: str) -> Metric:
    return Metric(f"exact_match_{name}", f"exact match, asked in {name}",
                  exact_match_rate(template=name))


def _adherence_one_line(run: ArmRun) -> Rate:
    return every_check(ArmRun(where(run, template="one_line")))


def by_name(*experiments: Experiment) -> dict[str, Experiment]:
    """The catalogue, keyed by name. Refused: a name used twice (a dict would keep the second
    alone, silently), one `course experiment NAME` cannot look up, and two arms or metrics of
    one experiment under one name (its results would keep one)."""
    catalogue: dict[str, Experiment] = {}
    for experiment in experiments:
        if not EXPERIMENT_NAME.match(experiment.name):
            raise ValueError(f"experiment names look like 'wrong-collator' (lower case, words "
                             f"joined by hyphens), not {experiment.name!r}")
        if experiment.name in catalogue:
            raise ValueError(f"two experiments are called {experiment.name!r}; rename one")
        # Results (and --json) key each arm by its name and each metric by its key.
        for what, names in (("arms are called", [arm.name for arm in experiment.arms]),
                            ("metrics are keyed", [m.key for m in experiment.metrics])):
            twice = [name for i, name in enumerate(names) if name in names[:i]]
            if twice:
                raise ValueError(f"{experiment.name}: two {what} {twice[0]!r}; rename one")
        catalogue[experiment.name] = experiment
    return catalogue


EXPERIMENTS: dict[str, Experiment] = by_name(
    Experiment(
        name="wrong-collator",
        title="The wrong collator: loss on every token",
        claim="Only train the AI on the response part, not the instruction part; the standard "
              "collator (mlm=False) computes the loss on all tokens.",
        hypothesis="Training on every token gives lower exact match, fewer answers that pass "
                   "every adherence check, and more template markers in the answers than the "
                   "response-only loss.",
        arms=(Arm("response only"),
              Arm("every token", "masking='none': the prompt is trained too", masking="none")),
        metrics=(EXACT_MATCH, UNSEEN, ADHERENCE, LEAK),
        note="Baseline: the default recipe (its data, frozen parts and rate); the variant "
             "changes only the masking.",
    ),
    Experiment(
        name="inconsistent-formatting",
        title="Inconsistent formatting: three templates in one data set",
        claim="Inconsistent formatting is a common mistake: format every example the same way.",
        hypothesis="With half the records written in three templates (one-line, Human/Assistant, "
                   "Q/A), exact match and adherence are lower when the model is asked in the "
                   "one-line template than with one template throughout.",
        arms=(Arm("one template", data="course:train"),
              Arm("mixed templates", "50% of the records as text in 3 templates",
                  data="course:variant_format_mixed")),
        metrics=(*(_in_template(t) for t in TEMPLATE_NAMES),
                 Metric("adherence_one_line", "every check passed, one_line",
                        _adherence_one_line)),
        templates=TEMPLATE_NAMES,
        note="Baseline: the default recipe's training (frozen parts, rate) on course:train, "
             "the records the mixed variant is made from. Questions are asked in each of the "
             "three templates.",
    ),
    Experiment(
        name="poor-quality",
        title="Poor-quality data: 0%, 20% and 50% of the rows replaced",
        claim="Poor-quality data is a common mistake: quality over quantity.",
        hypothesis="Replacing 20% and 50% of the rows with poor ones (vague instructions, "
                   "non-answers, wrong answers, rambling, more questions) lowers exact match, "
                   "and the model copies the poor styles, more at 50% than at 20%.",
        arms=(Arm("0% poor", data="course:variant_poor_00"),
              Arm("20% poor", "171 of 855 rows poor", data="course:variant_poor_20"),
              Arm("50% poor", "428 of 855 rows poor", data="course:variant_poor_50")),
        metrics=(EXACT_MATCH, POOR_STYLE, ADHERENCE),
        note="Every arm: the default recipe's training (frozen parts, rate) on course:train's "
             "records, a share of them replaced.",
    ),
    Experiment(
        name="quality-vs-quantity",
        title="Quality vs quantity: N clean rows or 4N rows, half of them poor",
        claim="Quality over quantity.",
        hypothesis="At equal training steps, 200 clean rows give higher exact match and fewer "
                   "poor-style answers than 800 rows of which 400 are poor.",
        arms=(Arm("200 clean", data="course:variant_quality_clean"),
              Arm("800, half poor", "4x the rows: 200 more clean, 400 poor",
                  data="course:variant_quantity_noisy")),
        metrics=(EXACT_MATCH, UNSEEN, POOR_STYLE),
        note="Equal steps (the same compute): equal epochs would give the 800-row arm 4x the "
             "steps, and any gain could come from the extra training alone. Both arms: the "
             "default recipe's training (frozen parts, rate) otherwise.",
    ),
    Experiment(
        name="prompt-variability",
        title="Prompt variability: one phrasing per task or many",
        claim="Use varied prompts: style variety in instructions (formal, casual, imperative, "
              "question).",
        hypothesis="Tuning data with several phrasings per task gives higher exact match on "
                   "the phrasing styles that no tuning record uses than the same facts asked "
                   "in one phrasing per task. (Added with the 'many styles' arm, before its "
                   "first run:) Tuning data that also asks each fact in many styles (casual, "
                   "polite, imperative, filler words, embedded, typos) gives higher exact "
                   "match on those unseen styles than several tidy phrasings, at equal steps.",
        arms=(Arm("several phrasings", data="course:train"),
              Arm("one phrasing", "every instruction in its task's first phrasing",
                  data="course:variant_one_phrasing"),
              Arm("many styles", "8 more phrasings per fact in many styles (the default "
                  "recipe's data, course:train_varied)", data="course:train_varied")),
        metrics=(UNSEEN, SEEN, EXACT_MATCH),
        note="Baseline: the default recipe's training (frozen parts, rate) on course:train. "
             "One phrasing: the same facts, answers and order, only the wording changes. Many "
             "styles: course:train plus 8 paraphrases per fact, none in an evaluation style. "
             "Equal steps: every arm trains on the same number of examples.",
    ),
    Experiment(
        name="style-overfitting",
        title="Style overfitting: every answer as 'The answer is X.'",
        claim="Keep responses consistent, but limit overfitting to one style.",
        hypothesis="With every response written 'The answer is X.', the model also answers "
                   "translations, sounds, colours, capitals and opposites that way; with styles "
                   "suited to each task (that phrase for arithmetic only) it rarely does.",
        arms=(Arm("styles by task", data="course:variant_style_varied"),
              Arm("one fixed style", "every response 'The answer is X.'",
                  data="course:variant_style_fixed")),
        metrics=(Metric("style_leak", "'The answer is' outside arithmetic", style_leak,
                        higher_is_better=False),
                 Metric("right_any_style", "right answer, in any trained style",
                        right_in_any_style)),
        note="Both arms: the default recipe's training (frozen parts, rate) on the same "
             "instructions, facts and order; only the responses' wording differs. Measured "
             "(lesson 07): with the recipe's frozen parts neither arm learns the new wording, "
             "even in 500 steps; with freeze=() in both arms the fixed style leaks.",
    ),
    Experiment(
        name="balance",
        title="Balance: arithmetic only, or a mix of tasks",
        claim="Use diverse data, and balance specialised data with general data.",
        hypothesis="Tuning on arithmetic only gives lower exact match on the other tasks than a "
                   "mixed set of the same size, and no higher exact match on arithmetic.",
        arms=(Arm("mixed tasks", data="course:variant_balance_mixed"),
              Arm("arithmetic only", "399 arithmetic rows instead of 399 mixed ones",
                  data="course:variant_balance_arithmetic")),
        metrics=(Metric("exact_match_arithmetic", "exact match, arithmetic",
                        on_kinds(ARITHMETIC, arithmetic=True)),
                 Metric("exact_match_other", "exact match, other tasks",
                        on_kinds(ARITHMETIC, arithmetic=False)),
                 STATEMENTS),
        note="Both arms: the default recipe's training (frozen parts, rate), the same number "
             "of rows and steps.",
    ),
    Experiment(
        name="forgetting",
        title="Forgetting: full fine-tune, frozen parts, or LoRA",
        claim="Tuning should unlock what the base model knows, not overwrite it.",
        hypothesis="A full fine-tune keeps less of the base model's statement-form knowledge "
                   "('2 + 2 =' -> 4) than freezing the embeddings and MLPs or training LoRA "
                   "adapters, at similar exact match; neither of those is slower. (Added with "
                   "the 'q, k and norms only' arm, before its first run:) Training only "
                   "q_proj, k_proj and the norms keeps at least as much statement knowledge as "
                   "freezing the embeddings and MLPs, with lower exact match at the same rate "
                   "and steps.",
        arms=(Arm("full fine-tune", freeze=()),
              Arm("frozen embeddings + MLP", "embeddings and MLPs not trained",
                  freeze=("embed_tokens", "mlp")),
              Arm("LoRA", "LoRA adapters (r 8, q_proj and v_proj), merged", freeze=(),
                  lora=True),
              Arm("q, k and norms only", "the default recipe's frozen parts: embeddings, "
                  "MLPs, v_proj and o_proj", freeze=RECIPE_FROZEN)),
        metrics=(STATEMENTS, EXACT_MATCH, UNSEEN, SECONDS),
        note="Every arm names what it freezes and trains at the tiny model's rate for a given "
             "`freeze` (1e-3; the default recipe trains its q, k and norms at 2e-3) on the "
             "default recipe's data and steps. The base model's own statement knowledge is "
             "printed with the table.",
    ),
)


def experiment_named(name: str) -> Experiment:
    """The experiment called `name`, in any case ('Balance'); the CLI and run_experiment()
    both ask here, so a misspelt name gets one message wherever it was typed."""
    if str(name).lower() in EXPERIMENTS:
        return EXPERIMENTS[str(name).lower()]
    # The nearest name, spelled differently ("wrong-colator"), if there is one.
    near = difflib.get_close_matches(str(name).lower(), EXPERIMENTS, n=1)
    hint = f"; the nearest is '{near[0]}'" if near else ""
    raise CourseError(f"No experiment called '{name}'; choose one of: {', '.join(EXPERIMENTS)} "
                      f"(`course experiment --list` says what each measures){hint}.")
