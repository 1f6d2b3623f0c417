"""One exception type for mistakes a learner can fix.

The CLI prints a `CourseError` as a single `error: ...` line (no traceback), and notebooks
show the same sentence. The message always says what to do next.

Advice names a setting, and a setting is spelled differently in Python (`resume=True`) and
on the command line (`--resume`). An error that gives such advice carries both spellings:
`str(err)` is for Python callers, `err.cli` is what the `course` command prints.

    >>> err = with_advice("Nothing to resume; train without {fix} first.", "resume=True",
    ...                   "--resume")
    >>> str(err)
    'Nothing to resume; train without resume=True first.'
    >>> err.cli
    'Nothing to resume; train without --resume first.'
"""

from __future__ import annotations

import numbers
import os
import shlex
import subprocess
from typing import Any


class CourseError(Exception):
    """A problem with the learner's input or environment, explained in one sentence."""

    def __init__(self, message: str, cli: str | None = None):
        super().__init__(message)
        self.cli = cli if cli is not None else message  # the same advice in CLI flags


def with_advice(sentence: str, python: str, cli: str) -> CourseError:
    """A CourseError whose `{fix}` reads `python` in Python and `cli` on the command line."""
    return CourseError(sentence.replace("{fix}", python), cli=sentence.replace("{fix}", cli))


def shell_word(word: Any) -> str:
    """A path or value in advice as one word of a command to paste: quoted if it needs it, as
    this system's shell reads quotes (bash and zsh: 'a b'; cmd and PowerShell: "a b")."""
    return subprocess.list2cmdline([str(word)]) if os.name == "nt" else shlex.quote(str(word))


# A number a learner passes in Python: its type is checked before its size, since "5" cannot
# be compared with 1 and 2.5 steps cannot be run. A bool is not a number here (True is a slip).
def is_whole(value: Any) -> bool:
    """An int, Python's or numpy's; not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    """An int or a float, Python's or numpy's; not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def shown(value: Any) -> str:
    """A wrong value as a learner would recognise it: "the string '5'", "the float 2.0", "2.5"."""
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, float) and value.is_integer():  # "a whole number, not 2.0" reads oddly
        return f"the float {value!r}"
    return repr(value)
