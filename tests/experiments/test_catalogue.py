"""The catalogue of experiments: each arm trains on what its name says, and each metric reads
the rows its label names."""

import json
import re
from pathlib import Path

import course_lib
from course_lib.experiments.catalogue import EXPERIMENTS
from course_lib.experiments.design import ArmRun

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
