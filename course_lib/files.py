"""What the course writes: a file whole or not at all (the CLI's reports and figures, the run
cache's entries), and a run folder's names, with what to say of one that stopped early.

    >>> with written_whole(Path("report.json")) as part:        # doctest: +SKIP
    ...     part.write_text(text, encoding="utf-8")
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from course_lib.errors import shell_word, with_advice

# A run folder while it trains (training/runner.py writes them): what a resume must keep.
CHECKPOINT_DIR = "checkpoints"
RUN_SETTINGS = "course_settings.json"  # beside the checkpoints
# Those settings as `course train` spells them, for advice that repeats them.
SETTING_FLAGS = {"model": "--model", "data": "--data", "masking": "--masking",
                 "template": "--template", "learning_rate": "--lr", "batch_size": "--batch-size",
                 "seed": "--seed", "lora": "--lora", "freeze": "--freeze", "max_steps": "--steps"}


@contextmanager
def written_whole(path: Path) -> Iterator[Path]:
    """A name beside `path` to write to, renamed to `path` once the block ends: an interrupt
    or a full disk leaves no file cut short under the real name (read later as if whole, or
    refused as "exists"). The name holds the process id, since two processes may write one
    entry, and ends in `path`'s suffix, from which matplotlib's savefig picks the format."""
    partial = path.with_name(f".{path.stem}.{os.getpid()}.partial{path.suffix}")
    try:
        yield partial
        partial.replace(path)
    finally:  # nothing half-written stays behind
        partial.unlink(missing_ok=True)


def stopped_run_check(folder: Path, name: str) -> None:
    """A run folder holding only checkpoints (its training was stopped) is said as such, with
    the command that finishes it: its --model and --data as it started, from its settings."""
    if not (folder / CHECKPOINT_DIR).is_dir() or (folder / "config.json").exists():
        return
    try:  # the settings a resume must repeat (train refuses others); unreadable: not named
        saved = json.loads((folder / CHECKPOINT_DIR / RUN_SETTINGS).read_text(encoding="utf-8"))
        flags = "".join(f"{SETTING_FLAGS[key]} {shell_word(saved[key])} "
                        for key in ("model", "data") if isinstance(saved.get(key), str))
    except (OSError, ValueError, AttributeError):
        flags = ""
    raise with_advice(f"'{name}' is a run that stopped before the end (it holds only "
                      f"checkpoints); finish it with {{fix}}.",
                      f"train(..., out_dir={name!r}, resume=True)",
                      f"`course train {flags}--out {shell_word(name)} --resume` and the other "
                      f"flags that started it (its --steps too)")
