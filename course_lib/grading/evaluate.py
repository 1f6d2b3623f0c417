"""Run an exercise's checks against the learner's objects and turn what happens into a verdict.

Two callers share this module, so the notebook and the grader always agree:

* `check("ex03_1")` in a notebook calls `run_checks` on the kernel's own namespace;
* the grader's worker process calls `grade_cells` on the setup and exercise cells it read
  from the notebook file, in a fresh namespace.

    >>> from course_lib.grading.registry import get_exercise
    >>> ns = {}
    >>> exec("def format_record(r):\\n    raise NotImplementedError", ns)
    >>> run_checks(get_exercise("ex02_1"), ns).status
    'not implemented'

Learner mistakes never show a traceback: the message names the line of their cell instead.
"""

from __future__ import annotations

import _thread
import inspect
import io
import linecache
import re
import signal
import sys
import sysconfig
import threading
import time
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from pathlib import Path

from course_lib.grading.registry import FRESH_NOTEBOOK, Exercise
from course_lib.grading.result import (
    ERROR,
    FAILED,
    NOT_IMPLEMENTED,
    PASSED,
    TIMEOUT,
    ExerciseResult,
)


class OutputLimitExceeded(BaseException):
    """Raised by the grader's output capture when a cell prints too much (BaseException:
    a learner's `except Exception` must not swallow it)."""


class CheckTimeout(BaseException):
    """Raised by `time_limit` when the learner's code runs too long."""


def cell_filename(label: str) -> str:
    """The pseudo file name a cell is compiled under, e.g. '<exercise ex03_1>'."""
    return f"<{label}>"


def exec_cell(source: str, label: str, namespace: MutableMapping) -> None:
    """Compile and run one cell, registering its lines so errors can quote them."""
    filename = cell_filename(label)
    lines = source.splitlines(keepends=True)
    linecache.cache[filename] = (len(source), None, lines, filename)
    exec(compile(source, filename, "exec"), namespace)


def not_implemented_message(exercise_id: str) -> str:
    """What to do about an untouched cell: the status already says "not implemented".

    >>> not_implemented_message("ex03_1")
    'replace the `raise NotImplementedError(...)` line in the ex03_1 cell with your code.'
    """
    return (f"replace the `raise NotImplementedError(...)` line in the {exercise_id} cell with "
            f"your code.")


def run_checks(exercise: Exercise, namespace: MutableMapping,
               source: str | None = None) -> ExerciseResult:
    """Call every check of `exercise` with the learner's objects taken from `namespace`
    (`source`: the cell that made them, when the grader ran it)."""
    start = time.perf_counter()

    def verdict(status: str, message: str = "") -> ExerciseResult:
        return ExerciseResult(exercise.id, status, message, exercise.title,
                              seconds=round(time.perf_counter() - start, 3))

    missing = [name for name in exercise.needs if name not in namespace]
    if missing:
        names = ", ".join(f"`{n}`" for n in missing)
        # A name the cell never mentions: often a cell handed out by an older course.
        if source is not None and not any(re.search(rf"\b{n}\b", source) for n in missing):
            return verdict(FAILED, f"{names} is not defined: the {exercise.id} cell must define "
                                   f"{'them' if len(missing) > 1 else 'it'}, as the cell handed "
                                   f"out does (a notebook from an older version of the course "
                                   f"may not: copy the cell from {FRESH_NOTEBOOK}, and move "
                                   f"your code into it).")
        return verdict(FAILED, f"{names} is not defined: run the {exercise.id} cell, and keep "
                               f"the name{'s' if len(missing) > 1 else ''} it defines.")
    for check in exercise.checks:
        kwargs = {name: namespace[name] for name in inspect.signature(check).parameters}
        status, message = _call(check, kwargs, exercise.id)
        if status != PASSED:
            return verdict(status, message)
    return verdict(PASSED)


def _call(check, kwargs: dict, exercise_id: str) -> tuple[str, str]:
    try:
        check(**kwargs)
    except NotImplementedError:
        return NOT_IMPLEMENTED, not_implemented_message(exercise_id)
    except AssertionError as err:
        # An assert inside the learner's own code is their error, not the check's verdict.
        where = _learner_line(err)
        if where:
            return FAILED, f"your code failed an assert{_detail(err)} ({where})."
        return FAILED, str(err) or f"{exercise_id} is not right yet."
    except BaseException as err:  # noqa: B036 - every way out of learner code is a verdict
        return describe_exception(err, exercise_id)
    return PASSED, ""


def describe_exception(err: BaseException, exercise_id: str) -> tuple[str, str]:
    """(status, message) for an exception raised while running the learner's code."""
    # The learner's Ctrl+C stops the grading: it is no verdict on their code.
    if isinstance(err, KeyboardInterrupt):
        raise err
    if isinstance(err, CheckTimeout):
        return TIMEOUT, str(err)
    if isinstance(err, OutputLimitExceeded):
        return FAILED, f"your code printed too much ({err}); remove prints inside loops."
    if isinstance(err, SystemExit):
        return FAILED, "your code called exit() or sys.exit(); remove it: a function should return."
    if isinstance(err, NotImplementedError):
        return NOT_IMPLEMENTED, not_implemented_message(exercise_id)
    # Where in the learner's own cell it was raised, if it was: that decides whose fault it is.
    where = _learner_line(err)
    suggestion = _python_suggestion(err) if where else ""  # Python's "Did you mean: ...?"
    if where and isinstance(err, NameError) and err.name:  # often a helper from another cell
        return FAILED, (f"your code raised NameError: `{err.name}` is not defined ({where}); "
                        f"define it inside the exercise cell: the grader runs only the setup "
                        f"cell and that cell.{suggestion}")
    if where and isinstance(err, EOFError):  # input(): nobody is there to type while it grades
        return FAILED, (f"your code raised EOFError ({where}): input() has nothing to read "
                        f"while it is graded; take the value as a parameter instead.")
    if where:
        return FAILED, f"your code raised {type(err).__name__}{_detail(err)} ({where}).{suggestion}"
    # Not in the learner's code, and no answer makes a name undefined: the check's own fault.
    if isinstance(err, NameError | ImportError):
        return ERROR, (f"the check of {exercise_id} could not run its own code ("
                       f"{type(err).__name__}{_detail(err)}): not a fault of your answer; "
                       f"tell your teacher or the course's maintainers, with this message.")
    return FAILED, (f"the check could not use what your code returned "
                    f"({type(err).__name__}{_detail(err)}); compare it with the exercise's "
                    f"description.")


def _python_suggestion(err: BaseException) -> str:
    """Python's own " Did you mean: 'eval_steps'?" for a misspelt name or attribute, or ''.

    str(err) lacks it, and Python 3.11's traceback module never computes it (3.12's does):
    only the interpreter's own printer, sys.__excepthook__, writes it on every version.
    """
    if not isinstance(err, AttributeError | NameError | ImportError):
        return ""
    saved = err.__cause__, err.__context__, err.__suppress_context__
    err.__cause__ = err.__context__ = None  # printed alone, so its line is the last one
    stderr, sys.stderr = sys.stderr, io.StringIO()
    try:
        sys.__excepthook__(type(err), err, err.__traceback__)
        printed = sys.stderr.getvalue()
    finally:
        sys.stderr = stderr
        err.__cause__, err.__context__, err.__suppress_context__ = saved
    last = re.sub(r"\x1b\[[0-9;]*m", "", printed).rstrip().rpartition("\n")[2]  # no colours
    found = re.search(r"\. (Did you (?:mean|forget)[^?]*\?)$", last)
    return f" {found.group(1)}" if found and found.group(1) not in str(err) else ""


def _detail(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f": {text[0][:200]}" if text else ""


def _library_roots() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    roots = {str(Path(__file__).resolve().parents[1])}  # course_lib itself
    roots |= {paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib") if k in paths}
    return tuple(roots)


def _learner_line(err: BaseException) -> str:
    """'line 4 of the ex03_1 cell: `labels = ...`' for the deepest frame in learner code."""
    roots = _library_roots()
    found = ""
    tb = err.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if not filename.startswith(roots) and not filename.startswith("<frozen"):
            line = linecache.getline(filename, tb.tb_lineno).strip()
            if filename.startswith("<exercise "):
                cell = f"the {filename[len('<exercise '):-1]} cell"
            elif filename.startswith("<setup"):
                cell = "the setup cell"
            else:  # a cell IPython ran, when check() grades the live namespace
                cell = "your cell"
            found = f"line {tb.tb_lineno} of {cell}" + (f": `{line}`" if line else "")
        tb = tb.tb_next
    return found


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Interrupt the block with CheckTimeout after `seconds` (main thread only; elsewhere the
    block simply runs: the grader's own process timeout still applies)."""
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return
    message = f"your code ran for more than {seconds:g} s: is there a loop that never ends?"
    # Windows has no SIGALRM: there a timer thread interrupts the main thread instead.
    limit = _alarm if hasattr(signal, "SIGALRM") else _interrupt_after
    with limit(seconds, message):
        yield


@contextmanager
def _alarm(seconds: float, message: str) -> Iterator[None]:
    """Unix: SIGALRM after `seconds` raises CheckTimeout (a blocking sleep is cut short too)."""
    def on_alarm(signum, frame):
        raise CheckTimeout(message)

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextmanager
def _interrupt_after(seconds: float, message: str) -> Iterator[None]:
    """Any platform: a timer thread interrupts the main thread as Ctrl+C would, and the SIGINT
    handler raises CheckTimeout if the timer sent it, else what the learner's interrupt
    raised before. Python code is stopped; a blocking call only when it returns."""
    fired, ended, lock = threading.Event(), threading.Event(), threading.Lock()

    def fire() -> None:
        with lock:  # never after the block has ended
            if not ended.is_set():
                fired.set()
                _thread.interrupt_main(signal.SIGINT)

    def on_interrupt(signum, frame):
        if not fired.is_set():  # the learner's own interrupt
            if callable(previous):
                return previous(signum, frame)
            raise KeyboardInterrupt
        if not ended.is_set():  # else it came as the block ended: nothing left to stop
            raise CheckTimeout(message)

    previous = signal.signal(signal.SIGINT, on_interrupt)
    # A daemon: a timer still waiting never keeps Python from exiting.
    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        try:
            # Set under the lock: once set, fire() cannot interrupt the code after the block.
            with lock:
                ended.set()
            timer.cancel()
        finally:  # signal.signal() runs our handler on a pending interrupt first
            signal.signal(signal.SIGINT, previous)


def grade_cells(
    exercise: Exercise, setup: list[str], source: str, namespace: MutableMapping | None = None
) -> ExerciseResult:
    """Run the setup cells, then the exercise cell, in a fresh namespace; then the checks."""
    start = time.perf_counter()
    ns = namespace if namespace is not None else {"__name__": "__main__"}

    def verdict(status: str, message: str) -> ExerciseResult:
        return ExerciseResult(exercise.id, status, message, exercise.title,
                              seconds=round(time.perf_counter() - start, 3))

    # A failing setup cell is an ERROR, not a FAILED: the exercise never ran, so nothing failed.
    for i, cell in enumerate(setup, 1):
        try:
            exec_cell(cell, f"setup {i}", ns)
        except BaseException as err:  # noqa: B036
            if isinstance(err, KeyboardInterrupt):
                raise
            return verdict(ERROR, f"the notebook's setup cell #{i} failed before {exercise.id} "
                                  f"could run ({type(err).__name__}{_detail(err)}); run it in "
                                  f"Jupyter to see why.")
    try:
        exec_cell(source, f"exercise {exercise.id}", ns)
    # A syntax error has no frame in the learner's code to point at: its line is in the error.
    except SyntaxError as err:
        return verdict(FAILED, f"the {exercise.id} cell has a syntax error on line {err.lineno}: "
                               f"{err.msg}" + (f": `{err.text.strip()}`" if err.text else "") + ".")
    except BaseException as err:  # noqa: B036
        status, message = describe_exception(err, exercise.id)
        return verdict(status, message)
    result = run_checks(exercise, ns, source)
    result.seconds = round(time.perf_counter() - start, 3)
    return result
