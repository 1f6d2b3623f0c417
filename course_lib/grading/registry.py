"""The exercise registry: which exercises exist, their hints, and the checks that grade them.

A check is a plain function whose parameters name what the learner's cell must define; the
grader looks those names up in the learner's namespace and calls the function. It fails
with `assert ..., "message in the learner's terms"`:

    >>> @exercise("ex99_1", title="Add two numbers", hints=["Use +."])
    ... def check_add(add):
    ...     assert add(2, 3) == 5, "add(2, 3) should be 5"
    >>> get_exercise("ex99_1").needs
    ('add',)
    >>> del _REGISTRY["ex99_1"]   # this example registers nothing for good

Several functions may be registered under one id (a group); the exercise passes when all do.
Check modules live in `course_lib.grading.checks` and are imported on first use.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from course_lib.errors import CourseError

EXERCISE_ID = re.compile(r"^ex\d{2}_\d+$")  # ex<lesson>_<n>, e.g. ex03_1
CHECKS_MODULE = re.compile(r"^course_lib\.grading\.checks\.lesson(?P<lesson>\d{2})$")
# Where this version's notebook is, for a learner whose notebook came from another version: a
# clone makes one; on Colab (a pip-installed course has no solutions/) the repository has it.
FRESH_NOTEBOOK = ("a fresh copy of the notebook, from the course's repository or `course "
                  "make-exercises --out fresh` in a clone")

CheckFn = Callable[..., None]


@dataclass
class Exercise:
    """One graded exercise: its id, a title, hints, and the checks that grade it."""

    id: str
    title: str = ""
    hints: list[str] = field(default_factory=list)
    checks: list[CheckFn] = field(default_factory=list)
    timeout: float | None = None  # seconds, for exercises that train; None: the grader's default

    @property
    def needs(self) -> tuple[str, ...]:
        """Names the learner's cell must define (the checks' parameters), in order."""
        names: list[str] = []
        for fn in self.checks:
            names += [p for p in inspect.signature(fn).parameters if p not in names]
        return tuple(names)


_REGISTRY: dict[str, Exercise] = {}
_LOADED = False


def exercise(
    exercise_id: str, *, title: str = "", hints: list[str] | None = None,
    timeout: float | None = None,
) -> Callable[[CheckFn], CheckFn]:
    """Register the decorated function as a check of `exercise_id` (title, hints and timeout
    are given once, on any of its checks)."""
    if not EXERCISE_ID.match(exercise_id):
        raise ValueError(f"exercise ids look like 'ex03_1', not {exercise_id!r}")
    if isinstance(hints, str):  # list() of it would make one hint of each letter
        raise ValueError(f"hints is a list of sentences, e.g. hints=[{hints!r}], not one string")

    def register(fn: CheckFn) -> CheckFn:
        # A decorator copied from another lesson's module, its id unchanged, would add to
        # (and retitle) that lesson's exercise.
        home = CHECKS_MODULE.match(getattr(fn, "__module__", "") or "")
        if home and home["lesson"] != exercise_id[2:4]:
            raise ValueError(f"register {exercise_id}'s check in lesson{exercise_id[2:4]}.py, "
                             f"not in {fn.__module__} (a copied decorator?)")
        ex = _REGISTRY.setdefault(exercise_id, Exercise(exercise_id))
        if title:
            ex.title = title
        if hints:
            ex.hints = list(hints)
        if timeout:
            ex.timeout = timeout
        if fn not in ex.checks:  # re-importing a module must not double the checks
            ex.checks.append(fn)
        return fn

    return register


def load_checks() -> None:
    """Import every module of course_lib.grading.checks once, so their checks register."""
    global _LOADED
    if _LOADED:
        return
    from course_lib.grading import checks  # deferred: the check modules import this one

    for info in pkgutil.iter_modules(checks.__path__):
        importlib.import_module(f"{checks.__name__}.{info.name}")
    _LOADED = True


def all_exercises() -> list[Exercise]:
    """Every registered exercise, sorted by id (ex02_1, ex02_2, ex03_1, ...)."""
    load_checks()
    return [_REGISTRY[k] for k in sorted(_REGISTRY, key=_sort_key)]


def get_exercise(exercise_id: str) -> Exercise:
    """The exercise with this id, or a CourseError listing the ids that exist."""
    load_checks()
    try:
        return _REGISTRY[exercise_id]
    except KeyError:
        close = _closest(str(exercise_id))
        known = ", ".join(sorted(_REGISTRY, key=_sort_key)) or "none"
        advice = f"did you mean '{close}'?" if close else f"known exercises: {known}."
        # Not a typo of the id's form: maybe a notebook of an older or a newer course.
        version = (f" in this version of the course (a notebook of another version may name "
                   f"one renamed or removed since; {FRESH_NOTEBOOK}, has this version's)"
                   ) if EXERCISE_ID.match(str(exercise_id)) else ""
        raise CourseError(f"There is no exercise '{exercise_id}'{version}; {advice}") from None


LESSON_ID = re.compile(r"^ex(\d{2})$")  # a whole lesson's exercises, e.g. ex03


def select_exercises(selectors: list[str]) -> list[str]:
    """The exercise ids that `-e` flags name, in order and each once: an id ('ex03_1') is
    itself, a lesson ('ex03') is each of its exercises; an unknown one is a CourseError."""
    load_checks()
    ids = []
    for selector in selectors:
        lesson = LESSON_ID.match(selector)
        if lesson is None:
            ids.append(get_exercise(selector).id)
            continue
        of_lesson = [ex.id for ex in all_exercises() if ex.id.startswith(f"{selector}_")]
        if not of_lesson:  # a lesson with no exercises: the lessons that have some
            have = sorted({ex.id.split("_")[0] for ex in all_exercises()})
            raise CourseError(f"Lesson {lesson.group(1)} has no exercises; the lessons with "
                              f"exercises are {', '.join(have)}.")
        ids += of_lesson
    return list(dict.fromkeys(ids))


def _closest(typed: str) -> str | None:
    """The one id a typo most likely meant ('ex3_1' -> 'ex03_1'); None when two tie."""
    score = {ex_id: difflib.SequenceMatcher(None, typed, ex_id).ratio() for ex_id in _REGISTRY}
    best = sorted(score.items(), key=lambda kv: -kv[1])[:2]
    if best and best[0][1] >= 0.75 and (len(best) == 1 or best[0][1] > best[1][1]):
        return best[0][0]
    return None


def _sort_key(exercise_id: str) -> tuple[int, int]:
    lesson, number = exercise_id[2:].split("_")
    return int(lesson), int(number)
