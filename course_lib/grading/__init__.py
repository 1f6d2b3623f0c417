"""Graded exercises: one source (solutions/), generated exercises, checks and the grader.

For learners, in a notebook:

    from course_lib.grading import check, hint
    check("ex03_1")      # green or red verdict for the code you just ran
    hint("ex03_1")       # one more hint each call

and in a terminal: `course grade` (or `course grade my_folder --json report.json`).

For authors, adding an exercise takes three steps (CONTRIBUTING.md has every file and command,
and what each failure means):

1. In a notebook of `solutions/`, write a code cell whose first line is
   `# exercise: ex04_1` (lesson 04, exercise 1). Keep the signature outside and mark the body:

       # exercise: ex04_1
       def pad_labels(labels, length):
           ### BEGIN SOLUTION
           return labels + [-100] * (length - len(labels))
           ### END SOLUTION

   Follow it with a cell `check("ex04_1")`. Cells whose first line is `# setup` run
   before every exercise when grading (imports, a tokenizer); nothing else does.
2. In `course_lib/grading/checks/lesson04.py`, register the check; its parameters name what
   the cell defines; fail with `assert ..., "a sentence in the learner's terms"`:

       @exercise("ex04_1", title="Pad the labels", hints=["-100 is never graded."])
       # (an exercise that trains may add timeout=120: seconds, instead of the default 30)
       def check_pad_labels(pad_labels):
           assert pad_labels([5], 3) == [5, -100, -100], "padding must be -100, never trained"

3. Add a plausible wrong answer to `tests/grading/mutants/lesson04.py`: a function with the
   exercise's signature, decorated with `@mutant("ex04_1", what, phrase=...)`; the tests prove
   the check fails it with that phrase. A right answer written another way than the solution
   (another loop, NumPy, a tuple) goes there too, as `@right("ex04_1", what)`: it must
   pass (every exercise has one). Then run `course make-exercises` (it strips the solution
   and adds the hints as a collapsed markdown cell) and commit solutions/ and exercises/;
   `make test` fails while exercises/ is out of date.

Modules, read first: registry (ids, hints, checks), checks/ (one module per lesson),
feedback (check/hint), then notebook (read cells), make_exercises (solutions -> exercises),
evaluate (run checks, name the learner's mistake), result (one exercise's verdict),
worker/runner (one process per exercise, timeouts), report (table, JSON). fork_server is
optional reading (those processes forked from a Python that imported torch once).
"""

from __future__ import annotations

from course_lib.grading.feedback import check, hint, run_check

__all__ = ["check", "hint", "run_check"]
