"""One exception type for mistakes a learner can fix.

The CLI prints a `CourseError` as a single `error: ...` line (no traceback), and notebooks
show the same sentence. The message always says what to do next.
"""


class CourseError(Exception):
    """A problem with the learner's input or environment, explained in one sentence."""
