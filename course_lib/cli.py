"""The `course` command: everything the lessons do, headless.

    course doctor                  what the course will run on
    course <command> --help        details of any command

Every learner-fixable problem is a CourseError and prints as one `error: ...` line.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from course_lib.errors import CourseError

Handler = Callable[[argparse.Namespace], int | None]


def cmd_doctor(args: argparse.Namespace) -> int:
    """Print versions, the chosen device and dtype, Hub status and the embedded model's place."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    from course_lib.env import choose_device, hub_status
    from course_lib.loading import EMBEDDED_MODEL_DIR

    def ver(pkg: str) -> str:
        try:
            return version(pkg)
        except PackageNotFoundError:
            return "not installed"

    choice = choose_device()
    model_state = "present" if (EMBEDDED_MODEL_DIR / "config.json").exists() else "MISSING"
    rows = [
        ("python", platform.python_version()),
        *((pkg, ver(pkg)) for pkg in ("torch", "transformers", "trl", "datasets", "peft")),
        ("device", choice.device),
        ("dtype", str(choice.dtype).removeprefix("torch.")),
        ("why", choice.reason),
        ("hub", hub_status()),
        ("embedded model", f"{EMBEDDED_MODEL_DIR} ({model_state})"),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="course", description="The instruction-tuning course, headless.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("doctor", help="show versions, device, dtype, Hub status, embedded model")
    p.set_defaults(handler=cmd_doctor)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args) or 0
    except CourseError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
