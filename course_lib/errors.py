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

In Jupyter a CourseError (or an interrupted run: any ShortTraceback) shows the learner's
own lines down to their call into the course, then the sentence: not the course's frames
below that call (train -> prepare_data -> load_data -> ...), which put the sentence under a
screen of someone else's code. `%tb verbose` right after, or `%xmode Verbose` for every
error, shows all the frames.
"""

from __future__ import annotations

import numbers
import os
import shlex
import subprocess
import traceback
from types import TracebackType
from typing import Any

# course_lib's own files, spelt as its code objects spell them (not resolved: a symlinked
# site-packages would not match) and ending in a separator (not course_lib_extra/).
LIBRARY = os.path.join(os.path.dirname(__file__), "")


class ShortTraceback:
    """Mixed into an exception whose message says it all (a CourseError, an interrupted run):
    Jupyter shows the caller's lines down to the call into the course, then the message."""

    def _render_traceback_(self) -> list[str]:
        """What IPython shows for this error instead of its traceback (only IPython calls it:
        the CLI, pytest and the grader format errors their own way)."""
        from IPython import get_ipython  # deferred: only a running IPython calls this

        shell = get_ipython()
        if shell is None:  # called from outside a shell: Python's own traceback
            return traceback.format_exception(self)
        formatter = shell.InteractiveTB
        tb = self.__traceback__
        if formatter.mode == "Context":  # the default; another (%xmode, %tb verbose) shows all
            tb = callers_only(tb)
        return formatter.structured_traceback(type(self), self, tb)


class CourseError(ShortTraceback, Exception):
    """A problem with the learner's input or environment, explained in one sentence."""

    def __init__(self, message: str, cli: str | None = None):
        super().__init__(message)
        self.cli = cli if cli is not None else message  # the same advice in CLI flags


def callers_only(tb: TracebackType | None) -> TracebackType | None:
    """The traceback cut where it enters course_lib: the caller's frames, the call included."""
    kept = []
    while tb is not None and not tb.tb_frame.f_code.co_filename.startswith(LIBRARY):
        kept.append(tb)
        tb = tb.tb_next
    cut = None
    for entry in reversed(kept):  # a traceback is a linked list: rebuilt from its end
        cut = TracebackType(cut, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    return cut


# Who reads what the course prints while it works (the notes before training, say): a Python
# caller, or someone at the `course` command, which calls speak_to_the_command_line() first.
_AUDIENCE = {"cli": False}


def speak_to_the_command_line(on: bool = True) -> bool:
    """From now on advice() gives the command line's spelling (`on`), or Python's; returns the
    one before, for the `course` command to put back (a notebook may call it, lesson 07)."""
    was, _AUDIENCE["cli"] = _AUDIENCE["cli"], on
    return was


def advice(python: str, cli: str) -> str:
    """A setting as the reader spells it: `cli` under the `course` command, else `python`.

        >>> advice("eval_data=None", "--eval-data none")
        'eval_data=None'
    """
    return cli if _AUDIENCE["cli"] else python


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
