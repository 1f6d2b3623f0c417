"""A toy experiment: two arms on the small arithmetic records, for the runner's mechanics."""

import pytest

from course_lib.experiments.design import EXACT_MATCH, Arm, Experiment


@pytest.fixture()
def experiment(data_files):
    train_file, eval_file = data_files
    return Experiment(
        name="toy", title="toy", claim="c", hypothesis="h",
        arms=(Arm("masked", data=str(train_file)),
              Arm("unmasked", "masking='none'", data=str(train_file), masking="none")),
        metrics=(EXACT_MATCH,), eval_data=str(eval_file))
