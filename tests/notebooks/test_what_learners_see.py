"""What a learner sees under a cell besides the lesson: here, a CourseError in a real kernel.

A CourseError says what to do in one sentence. In Jupyter it used to come under every frame
of the course's code it passed through (train -> prepare_data -> load_data -> ... -> _rows),
so the sentence sat at the bottom of a screen of someone else's code.
"""

import os
import re
import traceback

import nbformat
import pytest

from course_lib.errors import LIBRARY, CourseError, callers_only
from course_lib.notebook_runner import execute_cells
from course_lib.training.settings import check_count

ANSI = re.compile(r"\x1b\[[0-9;]*m")
ONE_KERNEL = pytest.mark.xdist_group("errors_kernel")  # `make test`: the kernel starts once

# The stop button during a run, as a callback: a KeyboardInterrupt in the middle of train().
STOP_AT_STEP_1 = """from transformers import TrainerCallback

class Stop(TrainerCallback):
    def on_step_end(self, args, state, control, **kwargs):
        raise KeyboardInterrupt

"""

CELLS = [
    "from course_lib.training.runner import train",
    "x = 1\nrun = train(max_steps=-1)",
    "def my_run():\n    return train(max_steps=-1)\n\nmy_run()",
    "%tb verbose",
    "%xmode Verbose",
    "run = train(max_steps=-1)",
    "%xmode Context",
    STOP_AT_STEP_1 + "run = train(max_steps=3, eval_data=None, verbose=False, progress=False,\n"
                     "            callbacks=[Stop()])",
]


def shown_error(outputs: list) -> str:
    """The error output under a cell, as the learner reads it (colours taken out)."""
    errors = [o for o in outputs if o["output_type"] == "error"]
    return ANSI.sub("", "\n".join(errors[0]["traceback"])) if errors else ""


@pytest.fixture(scope="module")
def shown(tmp_path_factory):
    folder = tmp_path_factory.mktemp("errors")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(nb, folder / "errors.ipynb")
    return execute_cells(folder / "errors.ipynb", list(range(len(CELLS))), allow_errors=True)


@pytest.mark.slow
@ONE_KERNEL
def test_a_course_error_shows_the_learners_line_and_the_sentence_only(shown):
    error = shown_error(shown[1])
    assert "----> 2 run = train(max_steps=-1)" in error  # which of their lines failed
    assert error.rstrip().endswith("CourseError: max_steps must be at least 1, not -1.")
    assert "course_lib" not in error and "File " not in error, error  # no library frames


@pytest.mark.slow
@ONE_KERNEL
def test_the_learners_own_functions_stay_in_the_traceback(shown):
    error = shown_error(shown[2])
    assert "----> 4 my_run()" in error and "----> 2     return train(max_steps=-1)" in error
    assert "settings.py" not in error, error


@pytest.mark.slow
@ONE_KERNEL
def test_tb_verbose_and_xmode_verbose_show_every_frame(shown):
    # Whoever needs the course's frames (a teacher, a bug report) asks IPython for them.
    for outputs in (shown[3], shown[5]):
        text = ANSI.sub("", "".join(o.get("text", "") for o in outputs)) + shown_error(outputs)
        assert "settings.py" in text and "check_count" in text, text


@pytest.mark.slow
@ONE_KERNEL
def test_a_stopped_run_shows_the_learners_line_and_what_was_kept(shown):
    error = shown_error(shown[7])
    assert "run = train(max_steps=3" in error and "runner.py" not in error, error
    assert error.rstrip().endswith("RunInterrupted: Interrupted at step 1 of 3; no checkpoint "
                                   "was kept, so run it again to start over.")


def test_the_cut_is_at_course_lib_itself_not_a_folder_named_like_it():
    # A learner's course_lib_extra/ (or a project beside it) is their code: kept.
    beside = LIBRARY.rstrip(os.sep) + "_extra" + os.sep + "mine.py"
    namespace = {}
    exec(compile("def call(f):\n    return f()\n", beside, "exec"), namespace)

    def course_call():
        check_count(-1, "max_steps", "--steps", 1)  # raises inside course_lib

    with pytest.raises(CourseError) as caught:
        namespace["call"](course_call)
    cut = callers_only(caught.value.__traceback__)
    kept = [frame.f_code.co_filename for frame, _ in traceback.walk_tb(cut)]
    assert kept == [__file__, beside, __file__]
