"""Grading runs a learner's code with the teacher's permissions: what that code can reach of the
teacher (credentials, terminal, processes, disk) and what it can do to the report. Each test
grades a small hostile or careless cell in a real worker process (about a second each)."""

import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from grading_support import RIGHT_FORMAT_RECORD, SOLUTIONS

from course_lib.cli import main
from course_lib.grading import fork_server
from course_lib.grading.notebook import read_notebook
from course_lib.grading.result import FAILED, PASSED
from course_lib.grading.runner import grade_folder
from course_lib.grading.worker import FILE_SIZE_LIMIT, limit_resources


@pytest.fixture(autouse=True, params=["fork server", "fresh Python"])
def exercise_start(request, monkeypatch):
    """Every test both ways an exercise starts: forked from an already-imported Python (Linux),
    and a fresh Python (every other system)."""
    if request.param == "fresh Python":
        monkeypatch.setattr(fork_server, "why_not_here", lambda: "no fork on Windows")


def _learner(tmp_path: Path, ex02_1: str, name: str = "02_instruction_data.ipynb") -> Path:
    """A learner's folder: lesson 02's solutions, with the ex02_1 cell replaced (ex02_2 keeps
    the solution: a right answer graded beside the misbehaving cell, in the same run)."""
    folder = tmp_path / "learner"
    folder.mkdir(exist_ok=True)
    nb = read_notebook(SOLUTIONS / "02_instruction_data.ipynb")
    for cell in nb["cells"]:
        if "".join(cell["source"]).startswith("# exercise: ex02_1\n"):
            cell["source"] = "# exercise: ex02_1\n" + ex02_1
    (folder / name).write_text(json.dumps(nb), encoding="utf-8")
    return folder


CREDENTIALS = {
    "HF_TOKEN": "hf_hush1", "HUGGING_FACE_HUB_TOKEN": "hf_hush2", "OPENAI_API_KEY": "sk-hush3",
    "AWS_SECRET_ACCESS_KEY": "hush4", "AWS_SESSION_TOKEN": "hush5", "GITHUB_TOKEN": "ghp_hush6",
    "PGPASSWORD": "hush7", "SSH_AUTH_SOCK": "/tmp/hush8.sock",
    "HTTPS_PROXY": "http://me:hush9@proxy:3128", "GOOGLE_APPLICATION_CREDENTIALS": "/hush10",
}

LEAK = '''
import os
import huggingface_hub
leaked = [v for v in os.environ.values() if "hush" in v] + [huggingface_hub.get_token()]
kept = [k for k in ("PATH", "HOME", "HF_HOME", "LANG", "TOKENIZERS_PARALLELISM", "SSL_CERT_FILE")
        if k in os.environ]
print("leaked", leaked, "kept", kept)

def format_record(record):
    raise ValueError(f"leaked {leaked}")
'''


def test_a_cell_reads_no_credential_and_a_right_answer_still_passes(tmp_path, monkeypatch):
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    # The token `hf auth login` saves, where huggingface_hub looks for it.
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    (tmp_path / "hf").mkdir()
    (tmp_path / "hf" / "token").write_text("hf_hush11")
    for name in ("LANG", "SSL_CERT_FILE"):  # what the course and its downloads need
        monkeypatch.setenv(name, "kept")
    folder = _learner(tmp_path, LEAK)
    report = grade_folder(folder, ["ex02_1", "ex02_2"])
    leak, right = report.results
    assert "hush" not in json.dumps(report.to_dict())
    assert "leaked [None]" in leak.message and "leaked [None] kept" in leak.output
    assert ("kept ['PATH', 'HOME', 'HF_HOME', 'LANG', 'TOKENIZERS_PARALLELISM', 'SSL_CERT_FILE']"
            in leak.output)
    assert right.status == PASSED


# Escape sequences, carriage returns, a reversing mark, half a surrogate pair (which no file
# can encode: the JSON report could not be written), a flood, a huge message.
SCRIBBLE = '''
print("\\x1b]0;retitled\\x07\\x1b[2J\\x1b[31mred", "\\r\\rover" * 1000, "\\ud800")
def format_record(record):
    raise ValueError("\\x1b[2J\\x1b[1;1Hall \\u202e\\udc80passed\\rA,B\\n\\"C\\"" + "y" * 10_000)
'''


def test_escape_sequences_and_floods_reach_neither_the_terminal_nor_the_report(
        tmp_path, capsys):
    folder = _learner(tmp_path, SCRIBBLE)
    # A copy of the notebook as handed out, which a note names (graded: the edited one).
    _learner(tmp_path, "def format_record(record):\n    raise NotImplementedError\n",
             name="02\x1b[2J-Copy1.ipynb")
    report = tmp_path / "report.json"
    assert main(["grade", str(folder), "-e", "ex02_1", "--json", str(report)]) == 1
    out = capsys.readouterr().out
    assert not any(c in out for c in "\x1b\x07\r\u202e\udc80"), out
    assert "\\x1b[2J" in out  # shown, written out, not acted on
    assert len(out.splitlines()) < 16 and max(map(len, out.splitlines())) < 200
    data = json.loads(report.read_text(encoding="utf-8"))
    (result,) = data["exercises"]
    assert len(result["message"]) <= 600 and len(result["output"]) <= 4 * 2000
    text = result["message"] + result["output"]
    assert not any(c in text for c in "\x1b\x07\r\u202e\ud800\udc80")
    assert all("\x1b" not in note for note in data["notes"]) and data["notes"]


def test_a_cell_that_crashes_after_writing_escapes_is_quoted_as_text(tmp_path):
    folder = _learner(tmp_path, "import os\nos.write(1, b'\\x1b[2Jbye\\n')\nos._exit(1)")
    (result,) = grade_folder(folder, ["ex02_1"]).results
    assert result.status == FAILED and "(exit code 1): \\x1b[2Jbye;" in result.message


@pytest.mark.parametrize("verdict, status", [
    ("not json at all", FAILED),
    ('["a list"]', FAILED),
    ('{"exercise": "ex02_1", "status": "=HYPERLINK(\\"x\\")"}', FAILED),  # a spreadsheet formula
    ('{"exercise": "ex99_9", "status": "passed"}', PASSED),  # another id: said under its own
])
def test_a_verdict_the_cell_wrote_itself_fails_only_its_exercise(tmp_path, verdict, status):
    """The cell can find where its worker writes the verdict: what it writes there must not
    stop the class's grading (a KeyError or JSONDecodeError did) or reach the CSV."""
    cell = f"import os, sys\nopen(sys.argv[3], 'w').write({verdict!r})\nos._exit(0)\n"
    folder = _learner(tmp_path, cell)
    report = grade_folder(folder, ["ex02_1", "ex02_2"])
    assert [r.exercise for r in report.results] == ["ex02_1", "ex02_2"]
    assert [r.status for r in report.results] == [status, PASSED]
    if status == FAILED:
        assert "could not read the verdict on ex02_1" in report.results[0].message


def test_processes_the_cell_started_end_with_its_grading(tmp_path):
    alive = tmp_path / "alive"
    child = f"import time, pathlib; time.sleep(2); pathlib.Path({str(alive)!r}).write_text('1')"
    cell = f"import subprocess, sys\nsubprocess.Popen([sys.executable, '-c', {child!r}])\n"
    folder = _learner(tmp_path, cell + RIGHT_FORMAT_RECORD)
    start = time.perf_counter()
    (result,) = grade_folder(folder, ["ex02_1"]).results
    assert result.status == PASSED
    time.sleep(max(0.0, start + 4 - time.perf_counter()))  # the child would have written
    assert not alive.exists(), "a process the learner's cell started outlived its grading"


OOM = Path("/proc/self/oom_score_adj")  # Linux: the out-of-memory killer's preference


def test_a_cell_and_what_it_starts_may_not_write_a_huge_file_or_a_core_dump(tmp_path):
    cell = ("import resource\nfrom pathlib import Path\n"
            "limits = [resource.getrlimit(resource.RLIMIT_FSIZE)[0], "
            "resource.getrlimit(resource.RLIMIT_CORE)[0]]\n"
            f"oom = Path({str(OOM)!r}).read_text().strip() if Path({str(OOM)!r}).exists() "
            "else 'none'\n"
            "def format_record(record):\n    raise ValueError(f'limits {limits} {oom}')\n")
    (result,) = grade_folder(_learner(tmp_path, cell), ["ex02_1"]).results
    # Out of memory, the grading process is stopped first (Linux), not the teacher's browser.
    oom = "1000" if OOM.exists() else "none"
    assert f"limits [{FILE_SIZE_LIMIT}, 0] {oom}" in result.message
    # The limit, small: a write past it is refused (Python raises OSError; not a signal).
    big = tmp_path / "big.txt"
    code = (f"from course_lib.grading.worker import limit_resources\nlimit_resources(1000)\n"
            f"with open({str(big)!r}, 'w') as f:\n    f.write('x' * 5000)")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 1 and "File too large" in run.stderr
    assert big.stat().st_size == 1000


def test_limits_are_only_ever_lowered(monkeypatch):
    calls = []
    monkeypatch.setattr(resource, "getrlimit", lambda which: (500, 800))
    monkeypatch.setattr(resource, "setrlimit", lambda which, value: calls.append(value))
    limit_resources(file_size=10_000)  # above the soft limit already set: left as it is
    assert calls == [(0, 800)]  # the core size only


def test_a_learner_folder_named_with_escapes_is_listed_as_text(tmp_path, capsys):
    folder = tmp_path / "\x1b[2Jmallory"
    shutil.copytree(_learner(tmp_path, RIGHT_FORMAT_RECORD), folder)
    assert main(["grade", str(folder), str(tmp_path / "learner"), "-e", "ex02_1"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\\x1b[2Jmallory  1/1 (100%)" in out
