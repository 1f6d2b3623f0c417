"""One exercise, graded in its own process: `python -m course_lib.grading.worker NB ID OUT`.

The runner starts one worker per exercise (or the fork server forks one, fork_server.py), so
a learner's infinite loop, crash, `sys.exit()` or flood of prints ends that exercise only. The
verdict goes to the file OUT as JSON (never to stdout, which the learner's code may fill with
anything).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
from pathlib import Path
from typing import NoReturn

from course_lib.errors import CourseError
from course_lib.grading.evaluate import OutputLimitExceeded, grade_cells
from course_lib.grading.notebook import exercise_cells
from course_lib.grading.registry import get_exercise
from course_lib.grading.result import ERROR, ExerciseResult

OUTPUT_LIMIT = 100_000  # characters a cell may print before it fails: enough for any debugging
# The largest file a cell (or what it starts) may write: far above any exercise's, far below
# what a loop that writes until the timeout leaves on the teacher's disk.
FILE_SIZE_LIMIT = 1 << 30


class BoundedOutput(io.TextIOBase):
    """A stdout/stderr stand-in that keeps what is printed, up to a limit, then stops the code.

        >>> out = BoundedOutput(limit=5)
        >>> out.write("hi") and out.getvalue()
        'hi'
    """

    def __init__(self, limit: int = OUTPUT_LIMIT):
        self.limit = limit
        self._parts: list[str] = []
        self._size = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if self._size + len(text) > self.limit:
            room = max(self.limit - self._size, 0)
            self._parts.append(text[:room])
            self._size = self.limit
            raise OutputLimitExceeded(f"more than {self.limit:,} characters")
        self._parts.append(text)
        self._size += len(text)
        return len(text)

    def getvalue(self) -> str:
        return "".join(self._parts)


def grade_one(notebook: Path, exercise_id: str, output_limit: int = OUTPUT_LIMIT) -> dict:
    """Grade one exercise of one notebook in this process; the result as a dict."""
    exercise = get_exercise(exercise_id)
    try:
        cell = exercise_cells(notebook)[exercise_id]
    except (CourseError, KeyError) as err:
        return ExerciseResult(exercise_id, ERROR, f"cannot read the {exercise_id} cell: {err}",
                              exercise.title, notebook.name).to_dict()
    captured = BoundedOutput(output_limit)
    saved = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = captured
    try:
        result = grade_cells(exercise, list(cell.setup), cell.source)
    finally:
        sys.stdout, sys.stderr = saved
    result.notebook = notebook.name
    result.output = captured.getvalue()[-2000:]
    return result.to_dict()


def limit_resources(file_size: int = FILE_SIZE_LIMIT) -> None:
    """Lower this process's limits, which the processes it starts inherit: a write past
    `file_size` bytes raises OSError (File too large), and a crash leaves no core file in the
    learner's folder. Memory is not limited (a CUDA process reserves far more address space
    than it uses); on Linux, when memory runs out, the system stops this process first, not
    the teacher's browser. (Windows has none of these limits.)"""
    if os.name != "posix":
        return
    import resource  # deferred: Unix only

    for which, value in ((resource.RLIMIT_FSIZE, file_size), (resource.RLIMIT_CORE, 0)):
        soft, hard = resource.getrlimit(which)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        if soft == resource.RLIM_INFINITY or soft > value:
            resource.setrlimit(which, (value, hard))
    # The out-of-memory killer's first choice (any process may raise its own score).
    with contextlib.suppress(OSError):
        Path("/proc/self/oom_score_adj").write_text("1000", encoding="ascii")


def main(argv: list[str]) -> None:
    grade_and_exit(Path(argv[0]), argv[1], Path(argv[2]))


def grade_and_exit(notebook: Path, exercise_id: str, out: Path) -> NoReturn:
    """Grade one exercise in this process, write its verdict to `out`, and end the process
    (a fresh worker's, or a child the fork server forked for it)."""
    os.environ["COURSE_GRADING"] = "1"  # check() calls inside the cells do nothing here
    limit_resources()
    result = grade_one(notebook, exercise_id)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(result), encoding="utf-8")
    tmp.replace(out)
    # Leave at once: threads or atexit handlers the learner started must not keep us alive.
    sys.__stdout__.flush()
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
