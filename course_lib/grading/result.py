"""The verdict on one exercise, as the grader, the notebook `check()` and the report see it.

    >>> r = ExerciseResult("ex03_1", PASSED)
    >>> r.passed, r.to_dict()["status"]
    (True, 'passed')
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

PASSED = "passed"
FAILED = "failed"
NOT_IMPLEMENTED = "not implemented"
TIMEOUT = "timeout"
ERROR = "error"  # the exercise could not be graded at all: no cell, setup cell broken, ...

STATUSES = (PASSED, FAILED, NOT_IMPLEMENTED, TIMEOUT, ERROR)


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
