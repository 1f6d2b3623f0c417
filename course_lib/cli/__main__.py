"""`python -m course_lib.cli`: the `course` command, as torchrun starts each process of
`course train --processes N` (and as `accelerate launch -m course_lib.cli` does, lesson 08)."""

import sys

from course_lib.cli import main

if __name__ == "__main__":  # not when imported (tests import every module of the course)
    sys.exit(main())
