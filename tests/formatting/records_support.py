"""What the tests of the data readers share: sample rows as a user writes them and the
records they load as, and how a refusal and the notes read to a user."""

import logging

from course_lib.cli import main
from course_lib.formatting.records import conversion_notes, load_raw_rows

ROWS = [
    {"instruction": "What is 2+2?", "input": "", "output": "4"},
    {"instruction": "Translate to French", "input": "coffee", "output": "café"},
    {"instruction": "日本の首都は?", "input": "", "output": "東京"},
    {"instruction": "Give the code", "input": "", "output": "007"},  # text, not the number 7
]
EXPECTED = [{"instruction": r["instruction"], "input": r["input"], "response": r["output"]}
            for r in ROWS]
TWO_ROWS, TWO_EXPECTED = ROWS[:2], EXPECTED[:2]  # plain ASCII-and-accents rows, no numbers


def notes(path) -> list[str]:
    """What reading the file changed, as the user is told it."""
    return conversion_notes(load_raw_rows(path))


def show_mask_error(capfd, caplog, path) -> list[str]:
    """What `course show-mask --data PATH --row 1` prints to stderr when the file is refused,
    once it is checked that no library logged a line of its own (its handler writes to the
    stderr of when it was imported, which capfd does not see; caplog sees every record)."""
    capfd.readouterr()
    caplog.clear()
    assert main(["show-mask", "--data", str(path), "--row", "1"]) == 2
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    return capfd.readouterr().err.splitlines()
