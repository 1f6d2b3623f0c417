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


class CourseError(Exception):
    """A problem with the learner's input or environment, explained in one sentence."""

    def __init__(self, message: str, cli: str | None = None):
        super().__init__(message)
        self.cli = cli if cli is not None else message  # the same advice in CLI flags


def with_advice(sentence: str, python: str, cli: str) -> CourseError:
    """A CourseError whose `{fix}` reads `python` in Python and `cli` on the command line."""
    return CourseError(sentence.replace("{fix}", python), cli=sentence.replace("{fix}", cli))
