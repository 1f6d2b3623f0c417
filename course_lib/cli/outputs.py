"""The files and folders a command writes: refused before the work if they hold a user's files
(the course never overwrites them), a fresh folder when none is named, and the `wrote` line."""

from __future__ import annotations

import json
from pathlib import Path

from course_lib.errors import CourseError
from course_lib.files import written_whole

EXAMPLE_FILE = {"--json": "report.json", "--csv": "class.csv"}  # for an --out, a figure


def refuse_existing_file(path: Path, force: bool = False, flag: str = "--out") -> None:
    refuse_file_in_the_way(path)
    if path.is_dir():
        raise CourseError(f"{flag} {path} is a folder; give a file name, e.g. "
                          f"{flag} {path / EXAMPLE_FILE.get(flag, 'out.png')}.")
    if path.exists() and not force:
        raise CourseError(
            f"'{path}' already exists; the course never overwrites your files. "
            f"Choose another {flag}, or pass --force to replace it."
        )


def refuse_full_folder(out: Path, advice: str, force: bool = False) -> None:
    """A folder a command writes into must be new or empty, unless --force says replace."""
    refuse_file_in_the_way(out)
    if out.exists() and not out.is_dir():
        raise CourseError(f"'{out}' is a file, not a folder; choose another output folder.")
    if out.exists() and any(out.iterdir()) and not force:
        raise CourseError(f"'{out}' already exists and is not empty; the course never "
                          f"overwrites your files. {advice}")


def refuse_file_in_the_way(path: Path) -> None:
    """Said before the work: a file where a folder above `path` must be."""
    blocked = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
    if blocked is not None:
        raise CourseError(f"'{blocked}' is a file, so '{path}' cannot be written there; "
                          f"choose another place.")


def refuse_twice(runs: list[str], advice: str) -> None:
    """A run named twice is a slip (tab completion, a repeated argument): two identical curves
    or columns, one of them paid for again."""
    twice = next((r for i, r in enumerate(runs)
                  if Path(r).resolve() in {Path(o).resolve() for o in runs[:i]}), None)
    if twice is not None:
        raise CourseError(f"{twice} is given twice; {advice}.")


def fresh_dir(base: Path) -> Path:
    """`base` if it does not exist yet, else base-2, base-3, ...: never an existing folder."""
    candidate, n = base, 1
    while candidate.exists():
        n += 1
        candidate = base.with_name(f"{base.name}-{n}")
    return candidate


def wrote(written: list[Path], json_path: Path | None, data: dict) -> int:
    """Write `data` to --json's path if given, then say every file written (JSON first)."""
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        with written_whole(json_path) as part:
            part.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
        written.insert(0, json_path)
    print("wrote " + ", ".join(str(p) for p in written))
    return 0
