"""The catalogue of experiments: each arm trains on what its name says, and each metric reads
the rows its label names."""

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

import course_lib
from course_lib.experiments.catalogue import EXPERIMENTS, by_name
from course_lib.experiments.design import EXACT_MATCH, ArmRun

DATA = Path(course_lib.__file__).parent / "assets" / "data"
CLEAN = {"answered": True, "stopped": True, "no_template_leak": True, "length_ok": True}


def test_each_poor_quality_arm_trains_on_the_share_of_poor_rows_its_name_says():
    for arm in EXPERIMENTS["poor-quality"].arms:
        share = int(re.match(r"(\d+)% poor$", arm.name)[1])
        rows = [json.loads(line) for line in
                (DATA / f"{arm.data.removeprefix('course:')}.jsonl").read_text().splitlines()]
        poor = sum(row["poor"] for row in rows)
        assert poor == round(share / 100 * len(rows)), (arm.name, arm.data, poor, len(rows))
        if arm.change:  # "171 of 855 rows poor": the numbers of that very file
            assert arm.change == f"{poor} of {len(rows)} rows poor"


def test_adherence_in_the_one_line_template_reads_only_the_answers_asked_in_it():
    experiment = EXPERIMENTS["inconsistent-formatting"]
    metric = next(m for m in experiment.metrics if m.key == "adherence_one_line")
    rows = [{"template": "one_line", "checks": dict(CLEAN)},
            {"template": "one_line", "checks": {**CLEAN, "stopped": False}},
            {"template": "qa", "checks": {**CLEAN, "answered": False}},
            {"template": "human_assistant", "checks": dict(CLEAN)}]
    rate = metric.measure(ArmRun(rows))
    assert (rate.k, rate.n) == (1, 2)  # of the two one_line answers, one passes every check


def test_a_name_used_twice_or_one_the_cli_cannot_type_is_refused():
    """A copied experiment left with its model's name replaced that one without a word (the
    list of names stayed the same); 'Learning-Rate' was listed, and `course experiment
    Learning-Rate` looks names up in lower case, so it could never be run."""
    balance, forgetting = EXPERIMENTS["balance"], EXPERIMENTS["forgetting"]
    with pytest.raises(ValueError, match="two experiments are called 'balance'"):
        by_name(balance, replace(forgetting, name="balance"))
    for name in ("Learning-Rate", "learning rate", ""):
        with pytest.raises(ValueError, match="experiment names look like 'wrong-collator'"):
            by_name(balance, replace(forgetting, name=name))
    assert list(by_name(balance, forgetting)) == ["balance", "forgetting"]


def test_two_metrics_or_arms_of_one_name_are_refused():
    """`--json` keys each metric by its key and each arm by its name: a second EXACT_MATCH-keyed
    metric (exact match on arithmetic, say) was left out of the file without a word."""
    balance = EXPERIMENTS["balance"]
    arithmetic = replace(balance.metrics[0], key="exact_match")
    with pytest.raises(ValueError, match="balance: two metrics are keyed 'exact_match'"):
        by_name(replace(balance, metrics=(EXACT_MATCH, arithmetic)))
    with pytest.raises(ValueError, match="balance: two arms are called 'mixed tasks'"):
        by_name(replace(balance, arms=(balance.arms[0], balance.arms[0])))
