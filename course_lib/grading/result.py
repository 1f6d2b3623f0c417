"""The verdict on one exercise, as the grader, the notebook `check()` and the report see it.

    >>> r = ExerciseResult("ex03_1", PASSED)
    >>> r.passed, r.to_dict()["status"]
    (True, 'passed')

Messages mark code with backticks, as Markdown does; `plain` and `as_html` render them for a
terminal and for a notebook.
"""

from __future__ import annotations

import html
import re
from dataclasses import asdict, dataclass

PASSED = "passed"
FAILED = "failed"
NOT_IMPLEMENTED = "not implemented"
TIMEOUT = "timeout"
ERROR = "error"  # the exercise could not be graded at all: setup cell broken, ...
MISSING = "missing"  # no cell for it in the folder's notebooks
STATUSES = (PASSED, FAILED, NOT_IMPLEMENTED, TIMEOUT, ERROR, MISSING)


@dataclass
class ExerciseResult:
    """What happened to one exercise. `message` is one or two sentences for the learner."""

    exercise: str
    status: str
    message: str = ""
    title: str = ""
    notebook: str = ""  # the notebook the cell came from ('' when graded in a live namespace)
    seconds: float = 0.0
    output: str = ""  # what the learner's code printed, truncated

    @property
    def passed(self) -> bool:
        return self.status == PASSED

    def to_dict(self) -> dict:
        return {**asdict(self), "passed": self.passed}

    @classmethod
    def from_dict(cls, data: dict) -> ExerciseResult:
        fields = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in fields})


CODE_SPAN = re.compile(r"`([^`\n]+)`")
# Its own colours: the verdict box is light in dark themes too, where the theme's code
# background would be dark under dark text.
CODE_STYLE = ("background:rgba(175,184,193,0.35);color:inherit;padding:0 3px;"
              "border-radius:3px;font-family:monospace")


def plain(message: str) -> str:
    """A message for a terminal: code spans lose their backticks.

    >>> plain("replace the `raise NotImplementedError(...)` line")
    'replace the raise NotImplementedError(...) line'
    """
    return CODE_SPAN.sub(r"\1", message)


# Characters a terminal acts on instead of showing: escape sequences (which can clear the
# screen or retitle the window), carriage returns and backspaces (which write over what was
# shown), and the marks that reverse the direction text is shown in; and half a surrogate
# pair, which no file or terminal can encode. Newlines and tabs stay.
UNPRINTABLE = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def printable(text: str) -> str:
    """Text a learner's code wrote, safe to show in a terminal and to save: each character
    above is written out as its escape.

    >>> print(printable("\\x1b[2Jall passed\\r"))
    \\x1b[2Jall passed\\r
    """
    return UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


# Markdown's *word*, a check's emphasis ("the *first* token"); not "3 * 9", whose '*' has a
# space on its inner side.
EMPHASIS = re.compile(r"(?<![\w*])\*(?=\S)([^*`]*?\S)\*(?![\w*])")


def as_html(message: str) -> str:
    """A message for a notebook: escaped, each code span in a <code> element, and *emphasis*
    in an <em> one outside code spans (a verdict showed its asterisks).

    >>> as_html("`a < b` is False")                              # doctest: +ELLIPSIS
    '<code style="...">a &lt; b</code> is False'
    >>> as_html("the *first* token, not `x *y*`, of 3 * 9")     # doctest: +ELLIPSIS
    'the <em>first</em> token, not <code style="...">x *y*</code>, of 3 * 9'
    """
    # Split at the code spans (the odd pieces): emphasis only outside them.
    pieces = CODE_SPAN.split(html.escape(message))
    return "".join(f'<code style="{CODE_STYLE}">{piece}</code>' if i % 2 else
                   EMPHASIS.sub(r"<em>\1</em>", piece) for i, piece in enumerate(pieces))
