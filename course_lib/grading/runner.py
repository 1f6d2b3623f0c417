"""Grade a folder of notebooks: every exercise in its own process, two at a time, with a timeout.

An exercise still as it was handed out is said "not implemented" at once (`untouched`),
without starting a process for it.

    >>> report = grade_folder(Path("solutions"))          # doctest: +SKIP
    >>> report.passed, report.total                       # doctest: +SKIP
    (4, 4)

Nothing here writes to the learner's notebooks: they are only read.
"""

from __future__ import annotations

import ast
import contextlib
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from tqdm import tqdm

import course_lib
from course_lib.cgroups import workers_from_env
from course_lib.grading import fork_server
from course_lib.grading.evaluate import not_implemented_message
from course_lib.grading.fork_server import Ended, Zygote, ZygoteLost
from course_lib.grading.notebook import ExerciseCell, FolderExercises, find_exercises
from course_lib.grading.registry import all_exercises, get_exercise
from course_lib.grading.result import (
    FAILED,
    MISSING,
    NOT_IMPLEMENTED,
    PASSED,
    STATUSES,
    TIMEOUT,
    ExerciseResult,
    printable,
)

# Seconds per exercise, start-up included. The sample exercises take 0.1-4 s on a busy 2-core
# machine (torch's import alone is 1.6 s); an exercise that trains sets its own `timeout`.
DEFAULT_TIMEOUT = 30.0
DEFAULT_WORKERS = 2  # `course grade`'s, unless COURSE_WORKERS says otherwise (default_workers)
# A learner's verdict message and printed output, as the report keeps them: a message is one
# or two sentences (a quoted line of the cell included), the output its last lines.
MESSAGE_LIMIT = 600
OUTPUT_KEPT = 2000
VERDICT_BYTES = 1_000_000  # a verdict file is a few hundred bytes; more was not the worker's

# Environment variables that may hold a credential, by name (tokens, keys, passwords, an SSH
# agent's socket; not TOKENIZERS_PARALLELISM), or by value (a URL with a password in it).
SECRET_NAME = re.compile(r"TOKEN(?!IZER)|SECRET|PASSW|CREDENTIAL|PRIVATE|APIKEY|KEYS?(_|$)"
                         r"|(^|_)(AUTH|PASS|DSN)", re.IGNORECASE)
SECRET_VALUE = re.compile(r"://[^/\s:@]+:[^/\s@]+@")


@dataclass
class GradeReport:
    """The results of one `course grade` run."""

    folder: str
    results: list[ExerciseResult] = field(default_factory=list)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)  # which copy was graded, unreadable files

    @property
    def passed(self) -> int:
        return sum(r.passed for r in self.results)

    @property
    def total(self) -> int:
        return len(self.results)

    @property
    def percent(self) -> float:
        return round(100 * self.passed / self.total, 1) if self.total else 0.0

    def to_dict(self) -> dict:
        return {
            "folder": self.folder,
            "score": {"passed": self.passed, "total": self.total, "percent": self.percent},
            "seconds": self.seconds,
            "notes": self.notes,
            "course_version": course_lib.__version__,
            "exercises": [r.to_dict() for r in self.results],
        }


def default_workers() -> int:
    """How many exercises `course grade` and grade_folder grade at once unless told:
    COURSE_WORKERS when set (1 on a machine short of memory, as `course doctor` advises), else 2."""
    return workers_from_env(f"{DEFAULT_WORKERS} exercises graded at once") or DEFAULT_WORKERS


def _worker_env(tmp: Path) -> dict[str, str]:
    """The teacher's environment less its credentials: a learner's cell can read its
    environment and print it into the report, and grading never needs them."""
    env = {k: v for k, v in os.environ.items()
           if not SECRET_NAME.search(k) and not SECRET_VALUE.search(v)}
    # The worker must import *this* course_lib, even from a notebook folder elsewhere.
    root = str(Path(course_lib.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    # huggingface_hub would read the token `hf auth login` saved: point it at no file.
    env["HF_TOKEN_PATH"] = env["HF_STORED_TOKENS_PATH"] = str(tmp / "no-token")
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    env.setdefault("OMP_NUM_THREADS", "1")  # two workers share the machine
    return env


def run_isolated(cell: ExerciseCell, timeout: float = DEFAULT_TIMEOUT) -> ExerciseResult:
    """Grade one exercise cell in a fresh Python process, killed after `timeout` seconds
    (or the exercise's own, longer, timeout)."""
    timeout = _time_limit(cell, timeout)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="course-grade-") as tmp:
        out = Path(tmp) / "result.json"
        cmd = [sys.executable, "-m", "course_lib.grading.worker", str(cell.notebook.resolve()),
               cell.exercise, str(out)]
        proc = subprocess.Popen(
            cmd, cwd=cell.notebook.parent, env=_worker_env(Path(tmp)), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=(os.name == "posix"),  # so a timeout kills its children too
        )
        tail, reader = _drain(proc.stdout)
        try:
            proc.wait(timeout=timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            timed_out = True
        _kill(proc)  # and what the learner's code started and left running
        reader.join(timeout=2)  # the last lines of output, for the message below
        return _conclude(cell, out, Ended(proc.returncode, timed_out), tail, timeout, start)


def run_forked(zygote: Zygote, cell: ExerciseCell, timeout: float = DEFAULT_TIMEOUT,
               ) -> ExerciseResult:
    """Grade one exercise cell as `run_isolated` does, in a child that `zygote` forks from
    its already-imported Python (fork_server.py); ZygoteLost if the zygote ends meanwhile."""
    timeout = _time_limit(cell, timeout)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="course-grade-") as tmp:
        out = Path(tmp) / "result.json"
        request = {"notebook": str(cell.notebook.resolve()), "exercise": cell.exercise,
                   "out": str(out)}
        read_end, write_end = os.pipe()  # the child's output, its own: a tail per exercise
        tail, reader = _drain(open(read_end, "rb", buffering=0))
        try:
            ended = zygote.run(request, write_end, timeout)
        finally:
            os.close(write_end)  # the child holds its copy: the output ends with its group
        reader.join(timeout=2)  # the last lines of output, for the message below
        return _conclude(cell, out, ended, tail, timeout, start)


def _time_limit(cell: ExerciseCell, timeout: float) -> float:
    """`timeout`, or the exercise's own if longer (one that trains)."""
    return max(timeout, get_exercise(cell.exercise).timeout or 0)


def _conclude(cell: ExerciseCell, out: Path, ended: Ended, tail: deque, timeout: float,
              start: float) -> ExerciseResult:
    """The verdict on one exercise from what its process left: its verdict file, or why it
    ended without one."""
    exercise = get_exercise(cell.exercise)
    elapsed = round(time.perf_counter() - start, 3)
    if out.exists():  # a verdict was written, even if the process lingered afterwards
        result = _read_verdict(out, cell.exercise)
    elif ended.timed_out:
        result = ExerciseResult(cell.exercise, TIMEOUT,
                                f"your code ran for more than {timeout:g} s and was stopped: "
                                f"is there a loop that never ends?", exercise.title)
    else:
        result = ExerciseResult(cell.exercise, FAILED, _crash_message(ended.returncode, tail),
                                exercise.title)
    result.notebook = cell.notebook.name
    result.seconds = elapsed
    return result


def _read_verdict(path: Path, exercise_id: str) -> ExerciseResult:
    """The worker's verdict, as far as it can be trusted: the learner's code ran in that
    process and could write anything there. Its own exercise, its title, a known status, and
    text safe to print; a verdict that cannot be read fails this exercise only."""
    exercise = get_exercise(exercise_id)
    try:
        with path.open(encoding="utf-8", errors="replace") as f:
            data = json.loads(f.read(VERDICT_BYTES))
        result = ExerciseResult.from_dict(data)
        if result.status not in STATUSES or not all(
                isinstance(text, str) for text in (result.message, result.output)):
            raise ValueError(f"status {str(result.status)[:20]!r}")
    except (ValueError, TypeError, AttributeError) as err:
        return ExerciseResult(exercise_id, FAILED, (
            f"the grader could not read the verdict on {exercise_id} ({printable(str(err))[:80]}):"
            f" does your code write to files it was not given?"), exercise.title)
    message = printable(result.message)
    if len(message) > MESSAGE_LIMIT:
        message = message[:MESSAGE_LIMIT - 1] + "…"
    return ExerciseResult(exercise_id, result.status, message, exercise.title,
                          output=printable(result.output[-OUTPUT_KEPT:]))


def _crash_message(returncode: int, tail: deque) -> str:
    """Why a worker ended without a verdict, in the learner's terms."""
    last = (b"".join(tail).decode(errors="replace").strip().splitlines() or [""])[-1][:200]
    last = printable(last)  # what the learner's code printed last, shown in the table
    # Killed by a signal (the out-of-memory killer, a crash in C code), or on Windows, which
    # has no signals, ended with an NTSTATUS error code (0xC0000005: an access violation).
    if returncode < 0 or returncode >= 0xC0000000:
        how = f"signal {-returncode}" if returncode < 0 else f"Windows status 0x{returncode:X}"
        return (f"the grading process was killed ({how}): your code may use too much memory or "
                f"crash Python" + (f" ({last})" if last else "") + ".")
    return (f"your code ended the grading process (exit code {returncode})"
            + (f": {last}" if last else "") + "; a function should return, not call os._exit().")


def _drain(stream: BinaryIO, keep: int = 16) -> tuple[deque, threading.Thread]:
    """Read a process's output in the background, keeping only the last chunks: a flood of
    prints must neither block the pipe nor fill our memory."""
    tail: deque = deque(maxlen=keep)

    def read() -> None:
        with stream:  # closed at its end, by the one thread that reads it
            for chunk in iter(lambda: stream.read(4096), b""):
                tail.append(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    return tail, reader


def _kill(proc: subprocess.Popen) -> None:
    """End the worker and every process in its group: those the learner's code started stay
    in it (all but those started in a session of their own) and would outlive grading. Its
    group id is not reused while a process is in it; an empty group is ProcessLookupError."""
    try:
        if os.name == "posix":
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def untouched(cell: ExerciseCell) -> bool:
    """The exercise as it was handed out: the one function its check calls is defined once,
    and its body is still only `raise NotImplementedError(...)` (after a docstring), so
    grading it could only say "not implemented". Anything else is run by a worker.
    (tests/grading/test_feedback.py runs every handed-out exercise: each says so.)"""
    needs = get_exercise(cell.exercise).needs
    if len(needs) != 1:
        return False
    try:
        tree = ast.parse(cell.source)
    except SyntaxError:
        return False  # the worker reports it, with its line
    binds = [node for node in tree.body if needs[0] in _bound_by(node)]
    if len(binds) != 1 or not isinstance(binds[0], ast.FunctionDef) or binds[0].decorator_list:
        return False
    body = binds[0].body
    if ast.get_docstring(binds[0]) is not None:
        body = body[1:]
    return len(body) == 1 and _raises_not_implemented(body[0])


def _bound_by(node: ast.stmt) -> set[str]:
    """The names a top-level statement may (re)bind, counting any nested definition."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {node.name}
    names = set()
    for n in ast.walk(node):
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(n.name)
        elif isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            names.add(n.id)
        elif isinstance(n, ast.alias):
            names.add((n.asname or n.name).split(".")[0])
    return names


def _raises_not_implemented(node: ast.stmt) -> bool:
    exc = node.exc if isinstance(node, ast.Raise) else None
    exc = exc.func if isinstance(exc, ast.Call) else exc
    return isinstance(exc, ast.Name) and exc.id == "NotImplementedError"


class Graders:
    """Where exercises run: children forked by zygotes that imported torch and transformers
    once (fork_server.py), one zygote per exercise graded at once (started as the callers'
    threads need them), else (not Linux) a fresh Python each.
    A context manager: every zygote ends with it. One for a whole class pays the imports once.

    `fork=False` grades each exercise in a fresh Python, as a system without fork does."""

    def __init__(self, fork: bool = True):
        self.tmp = Path(tempfile.mkdtemp(prefix="course-zygotes-"))
        self.env = _worker_env(self.tmp)  # the zygotes' environment, as a worker's
        self.idle: queue.SimpleQueue[Zygote] = queue.SimpleQueue()  # ready for an exercise
        self.started: list[Zygote] = []
        self.fresh_because = fork_server.why_not_here() if fork else "asked for"
        self.fresh_seconds: list[float] = []  # exercises graded the slow way, for the note
        self.stopped: dict[ExerciseCell, str] = {}  # graded again: how its first zygote ended

    def grade(self, cell: ExerciseCell, timeout: float = DEFAULT_TIMEOUT) -> ExerciseResult:
        """Grade one exercise cell through an idle zygote, or in a fresh Python. A zygote that
        ends meanwhile was stopped by the system (out of memory, a `kill`) or by the cell (it
        killed its parent), so the cell is graded again the same way: a cell that kills its
        parent then kills a second zygote, not this process, and fails (ZYGOTE_LOST); else a
        note (`stopped_notes`) says that the grader stopped, not the learner's code."""
        try:
            return self._grade_once(cell, timeout)
        except ZygoteLost as first:
            why = str(first)
        try:
            result = self._grade_once(cell, timeout)
        except ZygoteLost:
            return ExerciseResult(cell.exercise, FAILED, ZYGOTE_LOST,
                                  get_exercise(cell.exercise).title, cell.notebook.name)
        self.stopped[cell] = why
        return result

    def _grade_once(self, cell: ExerciseCell, timeout: float) -> ExerciseResult:
        """Through an idle zygote, or in a fresh Python; ZygoteLost (that zygote closed, and
        how it ended said) if the zygote ends while it grades."""
        zygote = self._take()
        if zygote is None:
            result = run_isolated(cell, timeout)
            self.fresh_seconds.append(result.seconds)
            return result
        try:
            result = run_forked(zygote, cell, timeout)
        except ZygoteLost as lost:
            zygote.close()  # the next exercise gets a fresh zygote
            code = zygote.proc.returncode  # closed: waited for
            raise ZygoteLost(f"was killed, signal {-code}" if code < 0 else
                             f"ended, exit code {code}") from lost
        self.idle.put(zygote)
        return result

    def stopped_notes(self, cells: list[ExerciseCell]) -> list[str]:
        """A note for each of `cells` graded again because the grader stopped under it."""
        return [f"{c.exercise} ({c.notebook.name}): the grader itself stopped while grading it "
                f"(its fork server {self.stopped[c]}), not your code; the exercise was graded "
                f"again from the start." for c in cells if c in self.stopped]

    def _take(self) -> Zygote | None:
        """An idle zygote, or a new one; None once one could not start (said in the note)."""
        while not self.idle.empty():
            zygote = self.idle.get()
            if zygote.proc.poll() is None:
                return zygote
            zygote.close()  # ended between exercises: replaced
        if self.fresh_because:
            return None
        zygote = Zygote(self.env, self.tmp / f"zygote-{len(self.started)}.log")
        self.started.append(zygote)
        why = zygote.wait_ready()
        if why is None:
            return zygote
        zygote.close()
        self.fresh_because = self.fresh_because or f"the fork server could not start: {why}"
        return None

    def note(self) -> str | None:
        """What the teacher should know when exercises started a fresh Python (slower)."""
        if not self.fresh_because or not self.fresh_seconds:
            return None
        each = sum(self.fresh_seconds) / len(self.fresh_seconds)
        return (f"each exercise starts a fresh Python here ({self.fresh_because}): about "
                f"{each:.1f} s an exercise.")

    def __enter__(self) -> Graders:
        return self

    def __exit__(self, *exc) -> None:
        for zygote in self.started:  # ended already or not: each is killed and waited for
            zygote.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


ZYGOTE_LOST = ("your code ended the process that started it (the grader's fork server), so "
               "it could not be graded; a function should not kill or signal other processes.")


def grade_folder(
    folder: Path,
    exercise_ids: list[str] | None = None,
    workers: int | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    progress: str = "",
    graders: Graders | None = None,
) -> GradeReport:
    """Grade every registered exercise (or `exercise_ids`) found in `folder`'s notebooks,
    `workers` at a time (None: as `course grade` without --workers, see default_workers);
    `progress`: a bar with that title, on stderr, as the exercises finish (a folder takes
    about a minute: each exercise in a process of its own, forked from a Python that imported
    torch once, or a fresh Python where there is no fork). `graders`: shared by a class's
    folders (its note is then the caller's to say), else made for this folder."""
    start = time.perf_counter()
    found = find_exercises(Path(folder))
    # Each once: `-e ex02_1 -e ex02_1` graded it twice and scored it out of 2.
    wanted = list(dict.fromkeys(exercise_ids or [ex.id for ex in all_exercises()]))
    cells, notes = choose_cells(found, wanted)
    if exercise_ids is None:  # all asked for: a cell of an exercise not among them is said
        notes += _not_exercises(found, wanted)
    # An exercise with no cell in any notebook still gets a verdict: a report has no gaps.
    results: dict[str, ExerciseResult] = {}
    for ex_id in wanted:
        if ex_id not in cells:
            results[ex_id] = ExerciseResult(ex_id, MISSING, _missing_message(ex_id, folder, found),
                                            get_exercise(ex_id).title)
            notes += _unmarked_note(ex_id, found)  # a class's table counts it "not started"
    for ex_id in wanted:  # not started: said at once, without running the notebook's setup
        if ex_id not in results and untouched(cells[ex_id]):
            results[ex_id] = ExerciseResult(ex_id, NOT_IMPLEMENTED, not_implemented_message(
                ex_id), get_exercise(ex_id).title, cells[ex_id].notebook.name)
    # Only the cells left run; a setup cell missing is said once per notebook, before they do.
    todo = [cells[ex_id] for ex_id in wanted if ex_id not in results]
    notes += _without_setup(todo)
    with contextlib.ExitStack() as own:
        mine = graders is None  # ours to end, and its note ours to say
        graders = own.enter_context(Graders()) if mine else graders
        workers = default_workers() if workers is None else workers
        results.update(_grade_all(graders, todo, workers, timeout, progress))
        notes += graders.stopped_notes(todo)  # each cell graded again: the folder's to say
        notes += [said] if mine and (said := graders.note()) else []
    # Results in the order asked for, not the order they finished in.
    ordered = [results[ex_id] for ex_id in wanted]
    notes = [printable(note) for note in notes]  # they name the learner's files
    return GradeReport(str(folder), ordered, round(time.perf_counter() - start, 2), notes)


def _grade_all(graders: Graders, todo: list[ExerciseCell], workers: int, timeout: float,
               progress: str) -> dict[str, ExerciseResult]:
    """Each cell's verdict, `workers` at a time, a progress bar that names the exercises
    running (an endless loop holds the bar for its whole time limit) and the last verdict."""
    results: dict[str, ExerciseResult] = {}
    running: dict[str, None] = {}  # the exercises graded now, in the order they started
    with (ThreadPoolExecutor(max_workers=max(1, workers)) as pool,
          # None to run (all as handed out): no bar, which would read "0exercise [00:00, ?]".
          tqdm(total=len(todo), desc=progress, unit="exercise", disable=not progress or not todo,
               leave=False, file=sys.stderr) as bar):

        def show(last: ExerciseResult | None = None) -> None:
            # Shown at once (a refresh): forked exercises end faster than tqdm redraws.
            said = [f"running {', '.join(running)}"] if running else []
            bar.set_postfix_str("; ".join(said + ([f"{last.exercise} {last.status}"] if last
                                                  else [])))

        def grade(cell: ExerciseCell) -> ExerciseResult:  # in a pool thread
            running[cell.exercise] = None
            show()
            try:
                return graders.grade(cell, timeout)
            finally:
                running.pop(cell.exercise, None)

        # Collected as each finishes, so the bar moves even while a slow one runs on.
        for done in as_completed([pool.submit(grade, c) for c in todo]):
            result = done.result()
            results[result.exercise] = result
            bar.update()
            show(result)
    return results


def choose_cells(found: FolderExercises, wanted: list[str],
                 ) -> tuple[dict[str, ExerciseCell], list[str]]:
    """One cell per exercise, and a note for each choice and each unreadable notebook.

    An exercise in several notebooks (Jupyter's `-Copy1`, a renamed file next to a fresh one)
    is graded where the learner worked on it: the cell they edited; of several edited ones,
    the notebook saved last. None edited: the shortest name, the original."""
    chosen: dict[str, ExerciseCell] = {}
    # The exercises of one choice said together: a Jupyter copy of lesson 03 is one note,
    # not six (25 learners' copies would bury the class table under them).
    choices: dict[str, list[str]] = {}
    for ex_id in wanted:
        candidates = found.cells.get(ex_id, [])
        if len(candidates) < 2:
            chosen.update({ex_id: candidates[0]} if candidates else {})
            continue
        # The learner's work wins over a fresh copy; of several edited, the newest save.
        edited = [cell for cell in candidates if not untouched(cell)]
        cell = max(edited, key=lambda c: c.notebook.stat().st_mtime) if edited else candidates[0]
        others = ", ".join(c.notebook.name for c in candidates if c is not cell)
        why = ("the one you edited" if len(edited) == 1 else
               "the one saved last of those you edited" if edited else "none is edited")
        choice = (f"in {len(candidates)} notebooks: graded {cell.notebook.name} ({why}), not "
                  f"{others}.")
        choices.setdefault(choice, []).append(ex_id)
        chosen[ex_id] = cell
    # A notebook that could not be read is named: its exercises would look missing otherwise.
    notes = [f"{name}: {why}" for name, why in found.unreadable.items()]
    notes += [f"{ids[0]} is {choice}" if len(ids) == 1 else
              f"{', '.join(ids[:-1])} and {ids[-1]} are each {choice}"
              for choice, ids in choices.items()]
    return chosen, notes


def _not_exercises(found: FolderExercises, known: list[str]) -> list[str]:
    """A note for each exercise id in the notebooks that this course does not have (a notebook
    of another course version), whose cell is not graded."""
    return [f"{cells[0].notebook.name} has a cell for {ex_id}, which is not an exercise of this "
            f"version of the course (renamed or removed since): not graded; `course "
            f"make-exercises --out fresh` writes this version's notebooks."
            for ex_id, cells in sorted(found.cells.items()) if ex_id not in known]


def _without_setup(todo: list[ExerciseCell]) -> list[str]:
    """A note for each notebook whose graded cells have no `# setup` cell above them: they ran
    without its imports and data, so their NameErrors are the setup's absence, not the answers'."""
    bare = dict.fromkeys(c.notebook.name for c in todo if not c.setup)
    return [f"{name} has no cell starting with `# setup` above its exercise cells, so they ran "
            f"without it (its imports and data): copy it back from a fresh set (`course "
            f"make-exercises --out fresh`) as the notebook's first code cell." for name in bare]


def _unmarked(ex_id: str, found: FolderExercises) -> str:
    """Where a missing exercise's answer is after all: 'a cell of NB defines `name`', or ''."""
    return next((f"a cell of {found.unmarked[name]} defines `{name}`"
                 for name in get_exercise(ex_id).needs if name in found.unmarked), "")


def _unmarked_note(ex_id: str, found: FolderExercises) -> list[str]:
    """A note for a missing exercise whose answer is in a cell without its `# exercise:` line."""
    where = _unmarked(ex_id, found)
    return [f"{ex_id} was not graded: {where}, but that cell does not start with `# exercise: "
            f"{ex_id}`; make that its first line and grade again."] if where else []


def _missing_message(ex_id: str, folder: Path, found: FolderExercises) -> str:
    """No cell for this exercise: where to get it back (and an unreadable notebook named), or
    where the answer is after all (its `# exercise:` line deleted or moved down)."""
    unread = f" that could be read ({', '.join(found.unreadable)} could not)" if (
        found.unreadable) else ""
    said = f"no cell starting with `# exercise: {ex_id}` in the notebooks of {folder}{unread}"
    if where := _unmarked(ex_id, found):
        return f"{said}, but {where}: make `# exercise: {ex_id}` that cell's first line."
    return f"{said}; copy it from a fresh set: `course make-exercises --out fresh`."


__all__ = ["GradeReport", "Graders", "grade_folder", "run_forked", "run_isolated", "PASSED"]
