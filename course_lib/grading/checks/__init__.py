"""The checks, one module per lesson; each module registers its exercises with `@exercise`.

Keep module-level imports light (no torch, no transformers): every grading process imports
all of them. Import heavy things inside the check function that needs them.

Below: what every lesson accepts as the learner's ints (token ids, indices, counts), so that a
right answer in NumPy or torch passes everywhere, not only where a check happened to allow it.
"""

import numbers


def is_int(value) -> bool:
    """An int as a learner may return it: Python's or NumPy's, never a bool.

        >>> is_int(3), is_int(True), is_int(3.0)
        (True, False, False)
    """
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def int_list(value, wrong: str) -> list[int]:
    """The learner's ids or indices as Python ints, from a list, a tuple, a tensor or a NumPy
    array; otherwise an AssertionError with the one sentence `wrong`.

        >>> int_list((1, 2), "ids, please")
        [1, 2]
    """
    if hasattr(value, "tolist"):  # a tensor or a NumPy array
        value = value.tolist()
    assert isinstance(value, list | tuple) and all(is_int(v) for v in value), wrong
    return [int(v) for v in value]


def token_ids(value, what: str) -> list[int]:
    """The learner's token ids of one example: a list, tuple or 1-D tensor, or a batch of one
    (what `tokenizer(..., return_tensors="pt")` gives); otherwise one sentence naming `what`.

        >>> token_ids([[5, 6]], "input_ids")
        [5, 6]
    """
    if hasattr(value, "tolist"):  # a tensor or a NumPy array
        value = value.tolist()
    assert isinstance(value, list | tuple), (
        f"{what} should be a list of token ids, not {type(value).__name__}.")
    if value and isinstance(value[0], list | tuple):  # a batch: only one example makes sense
        assert len(value) == 1, (
            f"{what} should be one flat list of ids, not a batch of {len(value)}.")
        value = value[0]
    return int_list(value, f"{what} should hold only ints (token ids); decode them afterwards.")
