"""`course compare`: the losses of two or more runs in one figure (lessons 04 and 06,
headless)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from course_lib.cli.outputs import refuse_existing_file, refuse_twice
from course_lib.errors import CourseError


def add_compare_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("runs", nargs="+", metavar="RUN_DIR", help="folders written by `course train`")
    p.add_argument("--out", required=True, help="image file to write, e.g. compare.png")
    p.add_argument("--labels", default=None, help="comma-separated names for the runs")
    p.add_argument("--force", action="store_true", help="replace --out if it exists")


def cmd_compare(args: argparse.Namespace) -> int:
    """Draw the comparison figure of two or more runs from their history.json."""
    from course_lib.evaluation.compare import compare_runs, comparison_warnings, named_runs

    if len(args.runs) < 2:
        raise CourseError("compare needs at least two run folders, e.g. runs/masked runs/unmasked.")
    refuse_twice(args.runs, "compare different runs, e.g. runs/masked runs/unmasked")
    labels = args.labels.split(",") if args.labels else None
    out = _image_path(Path(args.out))
    histories, names = named_runs(args.runs, labels)  # the runs' problems first
    fig = compare_runs(histories, labels=names)  # by the names the warnings below use
    refuse_existing_file(out, args.force)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    # The figure's caption says these too; a terminal user may never open the image.
    for warning in comparison_warnings(histories, names):
        print(f"warning: {warning}", file=sys.stderr)
    print(f"wrote {out}")
    return 0


IMAGE_SUFFIXES = (".png", ".svg", ".pdf", ".jpg")


def _image_path(out: Path) -> Path:
    """--out for a figure: .png when no suffix is given (said by the `wrote` line), else one
    that matplotlib writes."""
    if not out.suffix:
        return out.with_suffix(".png")
    if out.suffix.lower() not in IMAGE_SUFFIXES:
        raise CourseError(f"--out {out} is not an image file name; end it with one of "
                          f"{', '.join(IMAGE_SUFFIXES)}, e.g. --out {out.with_suffix('.png')}.")
    return out
