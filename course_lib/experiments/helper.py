"""A helper process of `run_experiment(workers=N)` (side_by_side.py): it trains the runs of
one experiment that no other process has claimed, into the shared cache, then exits.

    python -m course_lib.experiments.helper SPEC.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from course_lib.errors import CourseError
from course_lib.experiments.design import Arm, Experiment
from course_lib.experiments.runner import run_job
from course_lib.loading import quiet_loading
from course_lib.training.run_cache import cached_in_turn


def main(argv: list[str] | None = None) -> int:
    (path,) = sys.argv[1:] if argv is None else argv
    spec = json.loads(Path(path).read_text(encoding="utf-8"))
    arms = tuple(Arm(**{**a, "freeze": None if a["freeze"] is None else tuple(a["freeze"])})
                 for a in spec["arms"])
    # Only what names and makes a run: the metrics stay with the process that asked.
    experiment = Experiment(spec["name"], title="", claim="", hypothesis="", arms=arms,
                            metrics=(), templates=tuple(spec["templates"]),
                            eval_data=spec["eval_data"])
    try:
        with quiet_loading():
            cached_in_turn([run_job(experiment, arm, seed, spec["steps"], spec["model"],
                                    spec["cache_dir"], spec["threads"], progress=False)
                            for arm in arms for seed in spec["seeds"]])
    # Said by the main process, which meets the same problem (a damaged cache entry) or the
    # same Ctrl-C: a helper's own traceback would print it again, once per helper, first.
    except CourseError:
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
