"""Stage 5, experiments: common mistakes and good practices, measured (lesson 07).

An experiment trains a baseline and variants that each change one thing (data, masking,
template, what is trained), for several training seeds, and evaluates every model with
evaluation/report.py's `evaluate` on the same held-out questions.

Read first: design.py (an arm, a metric, an experiment), then catalogue.py (the eight
experiments, each with a claim of instruction-tuning advice and a hypothesis written before
the result), then runner.py (`run_experiment`: seeds, the on-disk cache), result.py (what an
experiment measured: one value per arm, metric and seed; medians, spreads and verdicts) and
view.py (the table and the figure). `course experiment NAME` runs one from a terminal.
ways_to_train.py is lesson 08's experiment: every weight, LoRA, or the recipe's frozen parts.
Optional reading: side_by_side.py, which trains an experiment's runs in helper processes
(helper.py), one per CPU core.

It is a stage of its own because it uses both training (stage 3) and evaluation (stage 4),
and only lessons 07 and 08 and the `course experiment` command need it.
"""
