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
    # Floats are most often torch.Tensor(...), which makes floats of the ids.
    assert not any(isinstance(v, float) for v in value), (
        f"{what} holds floats, but token ids are ints: build it with torch.tensor(...) "
        f"(torch.Tensor(...) makes floats), or leave it a list of ints.")
    return int_list(value, f"{what} should hold only ints (token ids); decode them afterwards.")


def rounded_places(got, want) -> int | None:
    """The decimal places (1 to 4) the learner rounded to, when each number of `got` is the
    one of `want` rounded there; otherwise None. Say "do not round" then, not "wrong value".

        >>> rounded_places([0.67, 0.5], [2 / 3, 0.5]), rounded_places([0.6], [2 / 3])
        (2, None)
    """
    pairs = list(zip(got, want, strict=True))
    if not all(isinstance(g, numbers.Real) and not isinstance(g, bool) for g, _ in pairs):
        return None
    for places in range(1, 5):
        step = 10.0 ** -places
        # On the grid of that many places (float32 too: torch.round), and at most half a step
        # from the exact value: what round() gives, whichever way a tie went.
        if all(abs(g - round(float(g), places)) <= 1e-7 and abs(g - w) <= step / 2 + 1e-9
               for g, w in pairs):
            return places
    return None
