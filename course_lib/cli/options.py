"""What several commands' options share: the checked number types (--steps, --seed, --lr,
--temperature), the run options of train and demo, the format options of train and show-mask."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from course_lib.formatting.templates import DEFAULT_TEMPLATE, TEMPLATES


# Numbers a flag takes, checked when the command line is read: argparse then names the flag
# ("argument --steps: must be at least 1, not -5"). Unchecked, a negative --steps would train
# by epochs instead, silently, and --batch-size 0 would end in a traceback.
def whole(least: int, most: int | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number from `least` to `most`."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < least or (most is not None and value > most):
            bounds = f"from {least} to {most}" if most is not None else f"at least {least}"
            raise argparse.ArgumentTypeError(f"must be {bounds}, not {value}")
        return value
    return parse


def above_zero(text: str) -> float:
    """An argparse type: a number above 0 (a learning rate, seconds)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"must be above 0, not {text}")
    return value


def temperature(text: str) -> float:
    """--temperature: above 0, and a 0 meant as "greedy" is told where greedy already is."""
    try:
        return above_zero(text)
    except argparse.ArgumentTypeError as err:
        raise argparse.ArgumentTypeError(
            f"{err} (it divides the logits); the greedy answer is always measured, and "
            f"--samples 0 turns the sampled answers off") from None


COUNT, SEED = whole(1), whole(0, 2**32 - 1)  # numpy seeds its generator with 32 bits


def add_run_options(p: argparse.ArgumentParser, eval_default: str,
                     data_default: str | None = None) -> None:
    """What every training command shares: model, data, held-out set, seed, threads."""
    p.add_argument("--model", default="tiny", help="preset (tiny), model folder or Hub id")
    p.add_argument("--data", default=data_default,
                   help="data file (JSON Lines, JSON, CSV, TSV or Parquet, optionally .gz), a "
                        "save_to_disk folder, a Hub data set id, or an embedded set such as "
                        "course:train (default: " + (data_default or "the course's recipe, "
                                                     "course:train_varied") + ")")
    p.add_argument("--eval-data", default=eval_default,
                   help="held-out set for the response-only loss; 'none' turns it off" + (
                       "; auto (default): course:eval for the course's data, else a seeded "
                       "slice of --data" if eval_default == "auto" else ""))
    p.add_argument("--seed", type=SEED, default=0,
                   help="training seed: the order of examples and any random start "
                        "(default: %(default)s)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--threads", type=COUNT, default=None,
                   help="CPU threads for training (default: chosen for the model and "
                        "the machine, and printed)")


def add_format_options(p: argparse.ArgumentParser) -> None:
    """How records become tokens: the same choices for train and show-mask."""
    p.add_argument("--template", choices=list(TEMPLATES), default=DEFAULT_TEMPLATE.name,
                   help="how a record becomes text (default: %(default)s)")
    p.add_argument("--max-length", type=COUNT, default=None, metavar="N",
                   help="cut examples to N tokens (default: the model's context, at most 1024)")


def eval_source(value: str) -> str | None:
    return None if value.lower() in {"none", "off", ""} else value
