"""The `course` command as a whole: `course doctor`, and every CourseError as one line.
Each other command has its own file (test_cli_train.py, test_cli_eval.py, ...)."""

import argparse
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from course_lib import cli
from course_lib.cli import doctor
from course_lib.cli import parser as cli_parser
from course_lib.errors import CourseError


def test_doctor_prints_the_facts(capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert cli.main(["doctor"]) == 0
    out = capsys.readouterr().out
    for key in (
        "python",
        "torch",
        "transformers",
        "trl",
        "datasets",
        "device",
        "dtype",
        "hub",
        "embedded model",
    ):
        assert any(line.startswith(key + " ") for line in out.splitlines()), key
    assert "offline mode (HF_HUB_OFFLINE=1 is set): the embedded model and data work; a Hub id " \
           "loads only if it is in the local cache" in out and "tiny-base" in out


def test_doctor_shows_each_row_before_it_asks_the_hub(capsys, monkeypatch):
    # Without a connection the Hub takes 3 s to answer: the rows above it are already shown.
    from course_lib import env

    shown = []
    monkeypatch.setattr(env, "hub_status", lambda: shown.append(capsys.readouterr().out)
                        or "reachable")
    assert cli.main(["doctor"]) == 0
    assert [line.split()[0] for line in shown[0].splitlines()][-3:] == ["why", "cpus", "memory"]
    assert capsys.readouterr().out.startswith("hub ")


def test_doctor_names_versions_other_than_the_lessons_measured_with(capsys, monkeypatch, tmp_path):
    import transformers

    from course_lib import env

    pins = tmp_path / "constraints.txt"
    monkeypatch.setattr(env, "CONSTRAINTS", pins)
    pins.write_text(f"# comment\ntransformers=={transformers.__version__}\ntrl==0.0.1  # old\n")
    assert cli.main(["doctor"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert "measured with" not in lines["transformers"]
    assert lines["trl"].endswith("(the lessons' numbers were measured with 0.0.1)")


def test_cli_prints_course_errors_as_one_line(capsys, monkeypatch):
    def boom(_args):
        raise CourseError("Nothing here; do this next.")

    # any command raising a CourseError
    monkeypatch.setattr(cli_parser, "COMMANDS", [("doctor", boom, lambda p: None, "", "")])
    assert cli.main(["doctor"]) == 2
    assert capsys.readouterr().err == "error: Nothing here; do this next.\n"


def test_a_command_gives_the_libraries_their_logging_back(monkeypatch):
    # Lessons 07 and 08 call the CLI from a notebook: its quiet stayed for the whole kernel.
    from transformers.utils import logging as hf_logging

    seen = []
    monkeypatch.setattr(cli_parser, "COMMANDS", [("train", lambda _args: seen.append(
        (hf_logging.is_progress_bar_enabled(), hf_logging.get_verbosity())), lambda p: None,
        "", "")])
    hf_logging.enable_progress_bar()
    level = hf_logging.get_verbosity()
    assert cli.main(["train"]) == 0
    assert seen == [(False, hf_logging.ERROR)]  # quiet while the command runs
    assert hf_logging.is_progress_bar_enabled() and hf_logging.get_verbosity() == level


def test_doctor_reads_a_local_build_as_the_release_it_builds(capsys, monkeypatch, tmp_path):
    from course_lib import env

    pins = tmp_path / "constraints.txt"
    pins.write_text("torch==2.5.1\ntrl==0.9.0\n")
    monkeypatch.setattr(env, "CONSTRAINTS", pins)
    builds = {"torch": "2.5.1+cpu", "trl": "0.9.1+local"}  # PEP 440 local versions
    real = doctor.version
    monkeypatch.setattr(doctor, "version", lambda pkg: builds.get(pkg) or real(pkg))
    assert cli.main(["doctor"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert lines["torch"].split()[1:] == ["2.5.1+cpu"]  # torch's CPU wheel is release 2.5.1
    assert lines["trl"].endswith("0.9.1+local (the lessons' numbers were measured with 0.9.0)")


def test_the_course_says_its_own_version(capsys, monkeypatch):
    """A teacher hands out a newer course: `course --version` and `course doctor` say which one
    is installed (--version was 'the following arguments are required: COMMAND')."""
    import course_lib

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(SystemExit) as done:
        cli.main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out == f"course {course_lib.__version__}\n"
    assert cli.main(["doctor"]) == 0
    assert f"course          {course_lib.__version__}\n" in capsys.readouterr().out
    # The version pip shows is the one the course says (and names its run caches after).
    pyproject = Path(course_lib.__file__).parents[1] / "pyproject.toml"
    assert tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"] == (
        course_lib.__version__), "bump __version__ in course_lib/__init__.py with pyproject's"


def test_notes_printed_while_a_command_runs_name_flags(capsys, monkeypatch):
    from course_lib import errors

    monkeypatch.setitem(errors._AUDIENCE, "cli", False)  # given back after this test
    monkeypatch.setattr(cli_parser, "COMMANDS", [("doctor", lambda _args: print(
        errors.advice("eval_data=None", "--eval-data none")), lambda p: None, "", "")])
    assert cli.main(["doctor"]) == 0
    assert capsys.readouterr().out == "--eval-data none\n"


def test_a_mistyped_command_gets_the_nearest_one(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["trian", "--out", "x"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and err.count("\n") == 1
    assert "invalid choice: 'trian'" in err and "(did you mean 'train'?)" in err
    with pytest.raises(SystemExit):  # a choice of an option too
        cli.main(["train", "--masking", "respnse", "--out", "x"])
    assert "(did you mean 'response'?)" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # nothing near: no guess
        cli.main(["zzzzzz"])
    assert "did you mean" not in capsys.readouterr().err


# `course ARGS`, stopped where torch starts to load: what stderr held by then is all a user
# sees for the next 3-7 s. Run apart, since this process has torch loaded already.
UNTIL_TORCH = """
import importlib.abc, os, sys
class UntilTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "torch":
            sys.stderr.write("<torch>\\n"); sys.stderr.flush(); os._exit(0)
sys.meta_path.insert(0, UntilTorch())
sys.stderr.isatty = lambda: {terminal}
from course_lib.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _until_torch(tmp_path, argv, terminal=True) -> str:
    return subprocess.run([sys.executable, "-c", UNTIL_TORCH.format(terminal=terminal), *argv],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120).stderr


@pytest.mark.parametrize("argv", [
    ["train", "--out", "x"], ["ask", "What is 2+2?"], ["eval", "tiny"], ["review", "tiny",
    "--out", "x"], ["experiment", "balance"], ["demo"], ["show-mask", "What is 2+2?", "4"],
    ["build-base-model", "--out", "x"]])
def test_a_command_that_loads_a_model_says_so_before_the_silent_seconds(tmp_path, argv):
    # Was nothing at all for 5-9 s before the first line (train's data report).
    assert _until_torch(tmp_path, argv) == "importing PyTorch and transformers...\n<torch>\n"


@pytest.mark.parametrize("argv, terminal", [(["train", "--out", "x"], False),
                                            (["train", "--out", "x", "--quiet"], True),
                                            (["experiment", "--list"], True)])
def test_a_pipe_quiet_or_a_quick_command_gets_no_import_note(tmp_path, argv, terminal):
    assert _until_torch(tmp_path, argv, terminal) == "<torch>\n"


@pytest.mark.parametrize("argv, said", [
    (["eval", "--model", "runs/x"], "--model; MODEL_OR_RUN is given without a flag, e.g. course "
                                    "eval runs/x; see `course eval --help`."),
    (["compare", "--runs", "a", "b", "--out", "c.png"],
     "--runs; RUN_DIR is given without a flag, e.g. course compare a b --out c.png;"),
    (["review", "--model", "runs/x", "--out", "r"], "--model; RUN_OR_MODEL is given"),
    (["experiment", "--name", "balance"], "--name; NAME is given without a flag, e.g. course "
                                          "experiment balance;"),
    (["ask", "--question", "What is 2+2?"],  # was "(did you mean --json?)"
     "--question; INSTRUCTION is given without a flag, e.g. course ask 'What is 2+2?';"),
    # With '=', argparse said "the following arguments are required: MODEL_OR_RUN".
    (["eval", "--models=runs/x"], "--models=runs/x; MODEL_OR_RUN is given without a flag, e.g. "
                                  "course eval runs/x;"),
    (["experiment", "--seeds", "2", "--name=balance"], "--name=balance; NAME is given without "
                                                       "a flag, e.g. course experiment --seeds "
                                                       "2 balance;"),
])
def test_an_argument_given_as_an_option_is_shown_without_it(capsys, argv, said):
    # `course eval --model runs/x` was "unrecognized arguments: --model (did you mean --help?)".
    with pytest.raises(SystemExit):
        cli.main(argv)
    assert f"error: unrecognized arguments: {said}" in capsys.readouterr().err


def test_an_option_that_abbreviates_a_flag_is_not_taken_for_an_argument():
    # argparse reads `--run=x` as `--run-name=x`; RUN_DIR must not claim it.
    parser = argparse.ArgumentParser()
    parser.add_argument("run_dir", metavar="RUN_DIR")
    parser.add_argument("--run-name")
    assert not cli_parser._flagged_argument("--run=x", parser)
    assert cli_parser._flagged_argument("--runs=x", parser)


@pytest.mark.parametrize("argv, said", [
    (["show-mask"], "show-mask needs INSTRUCTION and RESPONSE, or --data FILE [--row N] (e.g. "
                    "course show-mask --data course:train --row 3)"),
    (["show-mask", "What is 2+2?"], "show-mask needs INSTRUCTION and RESPONSE, or --data FILE "
                                    "[--row N] (e.g. course show-mask --data course:train --row "
                                    "3)"),
    (["show-mask", "Hi", "hi", "--data", "d.jsonl"], "give either INSTRUCTION RESPONSE or "
                                                     "--data FILE [--row N], not both"),
    (["show-mask", " ", ""], 'INSTRUCTION is empty; give the question in quotes, e.g. course '
                             'show-mask "What is 2+2?" "4"'),  # was shown, an empty prompt
])
def test_show_mask_arguments_are_checked_before_anything_loads(tmp_path, argv, said):
    # These waited 5 s for torch, and an empty instruction was shown as if it could train.
    assert _until_torch(tmp_path, argv) == (f"error: {said}; see `course show-mask --help`.\n")


def test_ask_from_standard_input_keeps_one_answer_line_per_input_line(capsys, monkeypatch,
                                                                      toy_model_dir):
    import io
    import json
    import sys

    from course_lib.evaluation import generation

    asked = []
    monkeypatch.setattr(generation, "generate_batch", lambda model, tok, questions, **kw: (
        asked.extend(questions) or [f"answer to {q}" for q in questions]))
    stdin = "What is 2+2?\n\n   \nWhat is 3+3?\n"
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    assert cli.main(["ask", "--model", str(toy_model_dir), "-"]) == 0
    out, err = capsys.readouterr()
    assert asked == ["What is 2+2?", "What is 3+3?"]  # a blank line asks nothing
    assert out.splitlines() == ["answer to What is 2+2?", "", "", "answer to What is 3+3?"]
    assert "2 blank lines" in err
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    assert cli.main(["ask", "--model", str(toy_model_dir), "--json", "-"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["response"] for r in rows] == ["answer to What is 2+2?", "", "", "answer to What "
                                             "is 3+3?"]


def test_ask_says_a_folder_or_file_given_as_the_question(capsys, monkeypatch, tmp_path,
                                                         toy_model_dir):
    from course_lib.evaluation import generation

    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs" / "mine").mkdir(parents=True)
    (tmp_path / "questions.txt").write_text("What is 2+2?\n")
    # A run alone, where the question goes: not answered as the question 'runs/mine'.
    assert cli.main(["ask", "runs/mine"]) == 2
    assert "'runs/mine' is a folder, not a question; to ask a run, give it as --model " \
           "runs/mine" in capsys.readouterr().err
    # A file of questions: not asked as the text 'questions.txt'; stdin is how to pass it.
    assert cli.main(["ask", "--model", "runs/mine", "questions.txt"]) == 2
    assert "'questions.txt' is a file, not a question; to ask the questions in it, one per " \
           "line: course ask --model runs/mine - < questions.txt." in capsys.readouterr().err
    # A question too long to be a file name is still a question.
    monkeypatch.setattr(generation, "generate_batch", lambda model, tok, questions, **kw: [
        "ok" for _ in questions])
    assert cli.main(["ask", "--model", str(toy_model_dir), "Why? " * 100]) == 0
    assert capsys.readouterr().out == "ok\n"
