"""`check("ex03_1")` and `hint("ex03_1")`: immediate feedback inside a notebook (Colab too).

`check` grades the objects the learner just defined, taken from the caller's namespace: no
file, no test folder, nothing beyond the installed package. It prints a green or red verdict
(HTML in a notebook, text elsewhere) and gives the same verdict as `course grade`.

    >>> def format_record(record):
    ...     return "### Instruction: " + record["instruction"]
    >>> check("ex02_1", namespace=globals())                    # doctest: +ELLIPSIS
    ✗ ex02_1 ...
"""

from __future__ import annotations

import contextlib
import html
import io
import os
import sys
from collections.abc import MutableMapping

from course_lib.errors import CourseError
from course_lib.grading.evaluate import grade_cells, run_checks, time_limit
from course_lib.grading.notebook import exercise_id_of, is_setup, to_python
from course_lib.grading.registry import Exercise, get_exercise
from course_lib.grading.result import ERROR, PASSED, ExerciseResult, as_html, plain

CHECK_TIMEOUT = 30.0  # seconds; a learner can always interrupt the kernel sooner

_hints_shown: dict[str, int] = {}


def _shell():
    """The IPython shell this code runs in, or None."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def _caller_namespace(depth: int = 2) -> MutableMapping:
    """The globals of the code that called check(): in a notebook, the kernel's namespace."""
    shell = _shell()
    frame = sys._getframe(depth)
    if shell is not None and frame.f_globals is shell.user_ns:
        return shell.user_ns
    return frame.f_globals


def run_check(exercise_id: str, namespace: MutableMapping | None = None) -> ExerciseResult:
    """The verdict, without printing it (used by `check` and by tests)."""
    import torch  # deferred: the grader's processes import this module and never check()

    exercise = get_exercise(exercise_id)
    ns = namespace if namespace is not None else _caller_namespace()
    # The checks seed and draw from torch's generator (random logits, models they build):
    # given back as it was, so the learner's next torch.randn is not the same every time.
    # An exercise that trains a model sets a longer limit of its own.
    limit = max(CHECK_TIMEOUT, exercise.timeout or 0)
    shell = _shell()
    kernel = shell is not None and ns is shell.user_ns
    # The cell that made the kernel's objects: a name it never had is a newer course's.
    answer = (_ran(shell, exercise)[0] or None) if kernel else None
    with torch.random.fork_rng(devices=[]):
        with time_limit(limit):
            result = run_checks(exercise, ns, answer)
        if result.status == PASSED and kernel:
            with time_limit(limit):
                result = _as_the_grader_would(exercise, shell) or result
    return result


def _as_the_grader_would(exercise: Exercise, shell) -> ExerciseResult | None:
    """The grader's verdict on the kernel's last run of the setup cell and of the exercise
    cell, in a fresh namespace (None when either was never run): a helper or an import from
    another cell is in the kernel after a second Run All, never in the grader."""
    answer, setup = _ran(shell, exercise)
    if not answer or not setup:  # the grader would run a setup cell this kernel never did
        return None
    # Quiet: the learner's prints were seen when the cells ran.
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return grade_cells(exercise, [to_python(setup)], to_python(answer))


def _ran(shell, exercise: Exercise) -> tuple[str, str]:
    """The exercise cell and the setup cell the kernel ran last ('' for one it never ran)."""
    ran = getattr(getattr(shell, "history_manager", None), "input_hist_raw", [])
    cells = [{"cell_type": "code", "source": raw} for raw in ran]  # what it ran, in order
    answers = [c["source"] for c in cells if exercise_id_of(c) == exercise.id]
    setups = [c["source"] for c in cells if is_setup(c)]
    return (answers or [""])[-1], (setups or [""])[-1]


def check(exercise_id: str, namespace: MutableMapping | None = None) -> None:
    """Grade one exercise now and show the verdict under the cell. In a notebook, an answer
    that passes is graded again as `course grade` does (the setup cell and the exercise cell
    the kernel ran last, in a fresh namespace), so a helper from another cell shows red."""
    if os.environ.get("COURSE_GRADING"):
        return  # inside `course grade`: the grader itself checks, in its own way
    try:
        result = run_check(exercise_id, namespace if namespace is not None else _caller_namespace())
    except CourseError as err:  # a mistyped id: a red box like any verdict, not a traceback
        result = ExerciseResult(str(exercise_id), ERROR, str(err))
    show(result)


def show(result: ExerciseResult) -> None:
    """Print a verdict: a coloured box in a notebook, one line of text elsewhere."""
    ok = result.status == PASSED
    text = (result.title or "well done") if ok else result.message
    # deferred: display imports matplotlib, and every grading process imports this module
    from course_lib.display import in_notebook

    if in_notebook():
        from IPython.display import HTML, display

        green, red = ("#1a7f37", "#dafbe1", "✓"), ("#cf222e", "#ffebe9", "✗")
        colour, background, mark = green if ok else red
        label = "passed" if ok else result.status
        display(HTML(
            f'<div style="border-left:4px solid {colour};background:{background};color:#1f2328;'
            f'padding:6px 10px;margin:4px 0;font-family:sans-serif">'
            f'<b style="color:{colour}">{mark} {html.escape(result.exercise)} {label}</b>: '
            f'{as_html(text)}</div>'))
    else:
        mark = "✓" if ok else "✗"
        line = f"{mark} {result.exercise} {'passed' if ok else result.status}: {plain(text)}"
        if sys.stdout.isatty() and not os.environ.get("NO_COLOR"):
            line = f"\033[{32 if ok else 31}m{line}\033[0m"  # green / red in a terminal
        print(line)


def hint(exercise_id: str) -> None:
    """Show the next hint of an exercise (each call reveals one more)."""
    try:
        hints = get_exercise(exercise_id).hints
    except CourseError as err:  # a mistyped id: one line, not a traceback
        print(err)
        return
    if not hints:
        print(f"{exercise_id} has no hints: reread the exercise's description.")
        return
    n = min(_hints_shown.get(exercise_id, 0) + 1, len(hints))
    _hints_shown[exercise_id] = n
    lines = [f"Hint {i}/{len(hints)}: {h}" for i, h in enumerate(hints[:n], 1)]
    if n == len(hints):
        lines.append("(that was the last hint)")
    print("\n".join(lines))
