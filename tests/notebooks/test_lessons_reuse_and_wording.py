"""Lessons call the library rather than re-type it (lesson 06's seeds), name a thing one way
in their outputs too (lesson 01's table), and say what each plot adds (lesson 04's second)."""

import ast
import re
from pathlib import Path

import nbformat
import pytest

from course_lib.training.history import RunHistory
from course_lib.training.run_cache import trained_once

ROOT = Path(__file__).resolve().parents[2]
LESSONS = sorted((ROOT / "lessons").glob("[0-9][0-9]_*.ipynb"))
# lesson 06 trains lesson 04's two runs with trained_once here (test_lesson_claims.py does too)
LESSON_CACHE = ROOT / "lessons" / "runs" / "cache"
# The one-line template by another name (test_notebooks.py checks the prose; this, the code)
OTHER_NAME = re.compile(r"\bcourse'?s? template\b", re.IGNORECASE)


def cells(name: str):
    (path,) = (p for p in LESSONS if p.name.startswith(name))
    return nbformat.read(path, as_version=4).cells


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_a_table_column_says_the_one_line_template(path):
    # Lesson 01's answer_table had a "course template" column: a second name in the output.
    found = [f"cell {i}: {node.value!r}"
             for i, cell in enumerate(nbformat.read(path, as_version=4).cells)
             if cell.cell_type == "code"
             for node in ast.walk(ast.parse(_python(cell.source)))
             if isinstance(node, ast.Constant) and isinstance(node.value, str)
             and OTHER_NAME.search(node.value)]
    assert not found, f"{path.name} names the one-line template otherwise: {found}"


def _python(source: str) -> str:
    """A code cell's Python: a shell line (`!pip ...`, `%time`) becomes `pass`."""
    return re.sub(r"^(\s*)[!%].*$", r"\1pass", source, flags=re.MULTILINE)


def test_no_lesson_trains_over_seeds_in_a_loop_of_its_own():
    # Lesson 06 trained, scored and summed up each seed by hand: run_experiment does all three
    # (and keeps the runs, and says the median, the range and whether they overlap).
    found = [f"{path.name} cell {i}" for path in LESSONS
             for i, cell in enumerate(nbformat.read(path, as_version=4).cells)
             if cell.cell_type == "code" and re.search(r"\bfor seed\b", cell.source)
             and re.search(r"\b(train|trained_once)\(", cell.source)]
    assert not found, f"call run_experiment instead of looping over seeds: {found}"


SECOND_PLOT = ("In the masked run the reported training loss and the held-out response-only\n"
               "loss fell together, to about 0.13 and 0.19. In the unmasked run they part: the "
               "reported loss\nends near 3 while the held-out response-only loss falls to about "
               "0.6.")


def test_l04_the_second_live_plot_is_said_in_words_after_it():
    source = [c.source for c in cells("04_")]
    (plot,) = [i for i, s in enumerate(source) if 'masking="none", label="unmasked"' in s]
    assert SECOND_PLOT in source[plot + 1]  # right after the cell that draws it


@pytest.mark.slow
def test_l04_the_two_live_plots_end_where_the_lesson_says():
    """L04: "In the masked run the reported training loss and the held-out response-only loss
    fell together, to about 0.13 and 0.19. In the unmasked run they part: the reported loss
    ends near 3 while the held-out response-only loss falls to about 0.6"."""
    ends = {}
    for masking, label in (("response", "masked"), ("none", "unmasked")):
        folder = trained_once("tiny", cache_dir=LESSON_CACHE, masking=masking, label=label,
                              eval_data="course:eval", eval_every=10, progress=False,
                              verbose=False)
        history = RunHistory.load(folder)
        ends[label] = (history.train_loss[-1], history.eval_loss[-1])
    assert (round(ends["masked"][0], 2), round(ends["masked"][1], 2)) == (0.13, 0.19)
    assert (round(ends["unmasked"][0]), round(ends["unmasked"][1], 1)) == (3, 0.6)
