"""A file written whole or not at all: what the CLI's reports and figures and the run cache's
entries are saved with.

    >>> with written_whole(Path("report.json")) as part:        # doctest: +SKIP
    ...     part.write_text(text, encoding="utf-8")
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


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
