"""Plausible wrong answers to the exercises: every check must fail each one, in the learner's terms.

A mutant is a function with the exercise's own signature, named `<solution name>__<what>`,
whose body is the wrong answer. `tests/grading/test_mutants.py` puts the body in place of the
solution region of the cell in solutions/ and grades it with the notebook's setup cells:

    @mutant("ex03_1", "EOS masked", phrase="it is the EOS token")
    def build_labels__eos_masked(prompt: str, response: str, tokenizer) -> dict:
        ...

So a body may only use names the notebook's setup cells define (torch, tokenizer, SFTConfig);
the lesson modules import them too, only so that ruff can check the bodies. Adding an
exercise? Add a mutant to `lessonNN.py`: `test_every_exercise_has_a_mutant` insists.

The same modules hold right answers written another way than the solution (`@right`): a
check must pass those too, so that it grades what the task asks, not the solution's style.

    @right("ex06_3", "Counter, rounded to 3 places")
    def agreement__counter(answers: dict) -> dict:
        ...
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import textwrap
from collections.abc import Callable
from dataclasses import dataclass

_MUTANTS: list[Mutant] = []
_RIGHT: list[Mutant] = []


@dataclass(frozen=True)
class Mutant:
    """One wrong answer: its exercise, what is wrong, and the phrase its verdict must contain."""

    exercise: str
    what: str
    phrase: str
    function: Callable

    @property
    def name(self) -> str:
        """The solution function's name: the part before `__`.

        >>> def format_record__input_dropped(record): ...
        >>> Mutant("ex02_1", "input dropped", "missing", format_record__input_dropped).name
        'format_record'
        """
        return self.function.__name__.split("__")[0]

    def definition(self) -> ast.FunctionDef:
        """The parsed `def` (decorator included), to compare its signature with the solution's."""
        return ast.parse(textwrap.dedent(inspect.getsource(self.function))).body[0]

    def body(self) -> str:
        """The function's body, dedented: the text that replaces the solution region."""
        lines = textwrap.dedent(inspect.getsource(self.function)).split("\n")
        first = self.definition().body[0].lineno  # the decorator and the `def` lines come first
        return textwrap.dedent("\n".join(lines[first - 1:])).strip("\n")


def mutant(exercise: str, what: str, *, phrase: str) -> Callable[[Callable], Callable]:
    """Record the decorated function as a wrong answer to `exercise`; return it unchanged."""

    def record(fn: Callable) -> Callable:
        _MUTANTS.append(Mutant(exercise, what, phrase, fn))
        return fn

    return record


def right(exercise: str, what: str) -> Callable[[Callable], Callable]:
    """Record the decorated function as a right answer to `exercise`, written another way."""

    def record(fn: Callable) -> Callable:
        _RIGHT.append(Mutant(exercise, what, "", fn))
        return fn

    return record


def _load_lessons() -> None:
    # Importing a lesson module runs its decorators, which fill the lists (once per module).
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name):
        importlib.import_module(f"{__name__}.{info.name}")


def all_mutants() -> list[Mutant]:
    """Every mutant of every lesson module, in file order (lesson01 first)."""
    _load_lessons()
    return list(_MUTANTS)


def all_right_answers() -> list[Mutant]:
    """Every right answer written another way, of every lesson module, in file order."""
    _load_lessons()
    return list(_RIGHT)
