"""CONTRIBUTING.md can be followed as written: what it names exists.

It is checked with tests/test_advice.py's extractors (the same rules as the README's): every
file path, make target, `course` command and flag, Python call and keyword, import and
environment variable. Besides: every test it names is defined (in the file it gives, for
`file::test`), every error it quotes is one the code says, and the README links to it.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
from pathlib import Path

from test_advice import (
    IMPORT,
    MAKE,
    PATH,
    VARIABLE,
    Text,
    _read_by,
    _takes,
    code_pieces,
    command_flags,
    command_lines,
    course_callables,
    python_calls,
)

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "CONTRIBUTING.md"
SOURCES = [*(ROOT / "course_lib").rglob("*.py"), *(ROOT / "tests").rglob("*.py")]
NODE = re.compile(r"(tests/[\w/]+\.py)::(\w+)")  # a test as pytest names it
TEST_NAME = re.compile(r"\btest_\w+\b(?!\.py)")  # a test function, not a test file
# What an example fills into a quoted error: an exercise id, a checks file, a quote.
EXAMPLE_PART = re.compile(r"ex\d{2}_\d+|lesson\d{2}\.py|'")


def guide() -> Text:
    return Text(GUIDE.read_text(encoding="utf-8"), "CONTRIBUTING.md")


def test_every_code_span_is_on_one_line():
    """A `span` broken across lines is invisible to the checks below (and to Markdown)."""
    inside, broken = False, []
    for number, line in enumerate(guide().text.splitlines(), 1):
        if line.strip().startswith("```"):
            inside = not inside
        elif not inside and line.count("`") % 2:  # an odd count: a span left open
            broken.append(f"line {number}: {line.strip()}")
    assert not broken, "close each `span` on its own line:\n" + "\n".join(broken)


def test_every_file_and_test_it_names_exists():
    text = guide().text
    paths = set(PATH.findall(text)) | {p for p, _ in NODE.findall(text)}
    assert len(paths) > 20, f"only {len(paths)} paths found: the extractor broke"
    wrong = [f"{path} does not exist" for path in sorted(paths) if not (ROOT / path).exists()]
    wrong += [f"{path} defines no {name}" for path, name in NODE.findall(text)
              if (ROOT / path).exists()
              and f"def {name}(" not in (ROOT / path).read_text(encoding="utf-8")]
    defined = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "tests").rglob("*.py"))
    wrong += [f"no test is called {name}" for name in sorted(set(TEST_NAME.findall(text)))
              if f"def {name}(" not in defined]
    assert not wrong, "\n".join(wrong)


def test_every_make_target_and_course_command_it_gives_exists():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([\w-]+):", makefile, re.M))
    named = {m for piece in code_pieces(guide().text) for m in MAKE.findall(piece)}
    lines = set(command_lines(guide()))
    assert len(named) >= 4 and len(lines) >= 4, "too few commands found: the extractor broke"
    wrong = [f"make {t} is not a target of the Makefile" for t in sorted(named - targets)]
    commands = command_flags()
    wrong += [f"course {cmd}{rest}: no such command" for cmd, rest in lines
              if cmd not in commands]
    wrong += [f"course {cmd}{rest}: {flag} is not an option of `course {cmd}`"
              for cmd, rest in lines if cmd in commands
              for flag in re.findall(r"(?<![\w-])(--?[a-zA-Z][\w-]*)", rest)
              if flag not in commands[cmd] | {"--help", "-h"}]
    assert not wrong, "\n".join(wrong)


def test_every_call_import_and_variable_it_gives_is_real():
    calls = [(name, kws) for name, kws in python_calls(guide())
             if name in course_callables()]
    assert len(calls) >= 4, f"only {len(calls)} calls of the course found: the extractor broke"
    wrong = [f"{name}() takes no {kw}=" for name, kws in calls for kw in kws
             if not any(_takes(f, kw) for f in course_callables()[name])]
    wrong += [f"from {module} import {name.strip()} fails"
              for module, names in IMPORT.findall(guide().text) for name in names.split(",")
              if not importlib.util.find_spec(module)
              or not hasattr(importlib.import_module(module), name.strip())]
    wrong += [f"{v} is read by nothing" for v in sorted(set(VARIABLE.findall(guide().text)))
              if not _read_by(v)]
    assert not wrong, "\n".join(wrong)


def test_every_error_it_quotes_is_one_the_code_says():
    """The table of failures quotes messages: each piece between what the example fills in
    (an id, a file) is in course_lib's or the tests' source."""
    rows = [line for line in guide().text.splitlines() if line.startswith("| ")]
    quoted = [span for row in rows for span in re.findall(r"`([^`]+)`", row.split(" | ")[0])]
    assert len(quoted) >= 4, f"only {len(quoted)} quoted errors found: the extractor broke"
    sources = "\n".join(p.read_text(encoding="utf-8") for p in SOURCES)
    wrong = [f"{span!r}: {piece.strip()!r} is said nowhere" for span in quoted
             for piece in EXAMPLE_PART.split(span) if len(piece.strip()) >= 6
             and piece.strip() not in sources]
    assert not wrong, "\n".join(wrong)


def test_the_readme_links_to_it():
    assert "(CONTRIBUTING.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
