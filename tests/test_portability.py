"""The course on a learner's Windows or macOS laptop, simulated on Linux where that is honest.

Windows reads and writes text in the locale's encoding (cp1252) unless told otherwise, so a
file the course writes with an "é" is unreadable to the course itself there. Python's
EncodingWarning marks every such call; here it is an error when course_lib's code makes it.
"""

from __future__ import annotations

import ast
import os
import shlex
import subprocess
import sys

import pytest

from course_lib import errors
from course_lib.cli import main
from course_lib.errors import CourseError, shell_word
from course_lib.loading import resolve_model_name

# Run in a fresh interpreter: the warning exists only when Python starts with the flag.
LOCALE_FREE = """
import sys, warnings
warnings.filterwarnings("error", category=EncodingWarning, module=r"course_lib\\b")
from course_lib.world.tuning_data import write_tuning_data
from course_lib import colab
write_tuning_data(sys.argv[1])
def not_installed(name):
    raise colab.PackageNotFoundError(name)
colab.metadata = not_installed  # a source tree: the URL is read from pyproject.toml
colab.repository_url()
"""


def test_the_course_reads_and_writes_its_text_files_in_utf8_whatever_the_locale(tmp_path):
    done = subprocess.run([sys.executable, "-X", "warn_default_encoding", "-c", LOCALE_FREE,
                           str(tmp_path)], capture_output=True, text=True, encoding="utf-8",
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "README.md").is_file() and (tmp_path / "train.jsonl").is_file()


def test_the_cli_prints_its_signs_into_a_windows_pipe_or_file():
    # Redirected or piped (`course show-mask ... > mask.txt`, `!course` in Jupyter), Windows
    # gives Python's stdout the locale's cp1252, which has no '↵': the command crashed.
    env = dict(os.environ, PYTHONIOENCODING="cp1252", HF_HUB_OFFLINE="1")
    done = subprocess.run([sys.executable, "-m", "course_lib.cli", "show-mask", "--data",
                           "course:train", "--row", "3", "--color", "never"], env=env,
                          capture_output=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr.decode("cp1252", errors="replace")[-2000:]
    shown = done.stdout.decode("cp1252")
    assert "· is a space, \\u21b5 a newline" in shown  # what cp1252 lacks is spelled out


def test_advice_that_names_a_folder_with_a_space_quotes_it(tmp_path, capsys):
    # A Windows user's folder ("José Müller", "OneDrive - School"): the command pasted as
    # advised gave the shell three words, and `course ask` "unrecognized arguments".
    run = tmp_path / "José Müller run"
    run.mkdir()
    assert main(["ask", str(run), "What is 2+2?"]) == 2
    advised = capsys.readouterr().err.rsplit("give it as ", 1)[1].rstrip(".\n")
    assert shlex.split(advised) == ["--model", str(run), "YOUR QUESTION"]


def test_a_word_for_the_shell_is_quoted_the_way_this_systems_shell_reads_it(monkeypatch):
    assert shell_word("runs/masked") == "runs/masked"
    assert shell_word("runs/my run") == "'runs/my run'"
    monkeypatch.setattr(errors.os, "name", "nt")  # cmd and PowerShell read double quotes
    assert shell_word(r"C:\Users\José Müller\runs") == r'"C:\Users\José Müller\runs"'


def test_advice_in_python_spells_a_path_as_python_reads_it(tmp_path):
    # 'C:\Users\...' in quotes is a SyntaxError in Python (\U); so is a quote in a folder name.
    run = tmp_path / "José's run"
    (run / "checkpoints").mkdir(parents=True)  # a run that stopped before its end
    with pytest.raises(CourseError) as info:
        resolve_model_name(str(run))
    python = str(info.value).split("finish it with ", 1)[1]
    assert ast.literal_eval(python.split("out_dir=", 1)[1].split(", resume")[0]) == str(run)
    advised = info.value.cli.split("`")[1]
    assert shlex.split(advised) == ["course", "train", "--out", str(run), "--resume"]
