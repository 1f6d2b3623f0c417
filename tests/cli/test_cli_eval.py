"""`course eval` and `course review` through main([...]): outputs, resume, one-line errors."""

import io
import json
import shutil
import subprocess
import sys

import pytest

from course_lib.cli import main
from course_lib.evaluation.review import load_ratings
from course_lib.training.data import file_notes, load_data

ROWS = [
    {"instruction": "What is 2+2?", "response": "4", "kind": "add", "style": "bare",
     "seen": True, "group": "a"},
    {"instruction": "yo, 2 plus 2 makes what?", "response": "4", "kind": "add",
     "style": "casual", "seen": False, "group": "a"},
    {"instruction": "What is the capital of France?", "response": "Paris", "kind": "capital",
     "style": "tuning", "seen": True, "group": "b"},
    {"instruction": "Say something nice."},  # no reference: adherence only
]


def run_cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    return lines[0]


@pytest.fixture
def data_file(tmp_path):
    path = tmp_path / "questions.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in ROWS) + "\n", encoding="utf-8")
    return path


def test_eval_prints_one_table_and_writes_json_and_figure(capsys, tmp_path, toy_model_dir,
                                                          data_file):
    out_dir = tmp_path / "eval"
    other = tmp_path / "other" / toy_model_dir.name  # another folder of the same name
    shutil.copytree(toy_model_dir, other)
    code, out, err = run_cli(capsys, "eval", toy_model_dir, other, "--data", data_file,
                             "--json", tmp_path / "r.json", "--out", out_dir, "--samples", 1,
                             "--max-new-tokens", 4)
    assert code == 0, err
    name = toy_model_dir.name
    assert out.splitlines()[0].split() == [name, f"{name}", "#2"]  # two columns, one model each
    assert "exact match" in out and "(0/3)" in out and "casual (unseen)" in out
    assert "note: 1 of 4 rows has no reference answer (first: " in err and "line 4" in err
    assert "line 4); it is scored on adherence only." in err
    assert f"template: one_line for {toy_model_dir} (the default); one_line for" in err
    summary = json.loads((tmp_path / "r.json").read_text())
    assert summary["without_reference"] == 1
    # Which folder each column is: "#2" alone does not say.
    assert summary["given"] == {name: str(toy_model_dir), f"{name} #2": str(other)}
    model = summary["models"][name]
    for key in ("exact_match", "rouge_l", "bleu", "chrf", "adherence", "checks",
                "consistency_paraphrase", "consistency_sampling"):
        assert key in model, key
    assert model["by_kind"]["add"]["exact_match"]["n"] == 2
    assert model["by_phrasing_style"]["casual"]["adherence_all"]["n"] == 1
    assert model["consistency_sampling"]["n"] == 4
    full = json.loads((out_dir / "report.json").read_text())
    assert len(full["answers"][name]) == 4
    assert (out_dir / "eval.png").read_bytes()[:4] == b"\x89PNG"


def test_eval_into_a_closed_pipe_keeps_its_files_and_prints_no_traceback(tmp_path,
                                                                        toy_model_dir, data_file):
    out = tmp_path / "eval"
    proc = subprocess.Popen([sys.executable, "-m", "course_lib.cli", "eval", str(toy_model_dir),
                             "--data", str(data_file), "--samples", "0", "--max-new-tokens", "2",
                             "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # as `course eval ... | head` does once it has read enough
    err = proc.stderr.read().decode()
    assert proc.wait() == 0 and "Traceback" not in err and "Exception ignored" not in err, err
    assert (out / "report.json").is_file() and (out / "eval.png").is_file()


def test_eval_errors_are_one_line(capsys, tmp_path, toy_model_dir, data_file):
    code, _, err = run_cli(capsys, "eval", "no-such-model", "--out", tmp_path / "o")
    assert code == 2 and "no-such-model" in one_line_error(err)
    code, _, err = run_cli(capsys, "eval", toy_model_dir, f"{toy_model_dir}/", "--out",
                           tmp_path / "o")  # was two identical columns, the model asked twice
    assert code == 2 and "is given twice; give each model once" in one_line_error(err)
    code, _, err = run_cli(capsys, "eval", toy_model_dir, "--data", tmp_path / "missing.jsonl",
                           "--out", tmp_path / "o")  # named by its flag, as course train says it
    assert code == 2 and one_line_error(err).startswith("error: --data: No such file or folder")
    code, _, err = run_cli(capsys, "review", toy_model_dir, "--data", tmp_path / "missing.jsonl",
                           "--out", tmp_path / "r.jsonl")
    assert code == 2 and one_line_error(err).startswith("error: --data: No such file or folder")
    existing = tmp_path / "r.json"
    existing.write_text("{}")
    code, _, err = run_cli(capsys, "eval", toy_model_dir, "--data", data_file, "--json",
                           existing)
    assert code == 2 and "Choose another --json, or pass --force" in one_line_error(err)
    assert existing.read_text() == "{}"
    # A file where a folder must be: one line before any work (it was NotADirectoryError).
    for flag, path, says in (("--out", existing / "sub", "is a file, so"),
                             ("--json", existing / "x.json", "is a file, so"),
                             ("--out", existing, "is a file, not a folder")):
        code, _, err = run_cli(capsys, "eval", toy_model_dir, "--data", data_file, flag, path)
        assert code == 2 and says in one_line_error(err), (flag, path)
    assert not (tmp_path / "o").exists()  # nothing written for a failed run


def test_eval_says_what_reading_its_data_changed_in_train_s_words(capsys, tmp_path,
                                                                  toy_model_dir):
    # Was silent: the number read as text, ShareGPT's renames, the system message made the
    # input and the Windows line break read as '\n' went unsaid, where `course train` says them.
    system = {"role": "system", "content": "Be brief."}
    rows = [{"conversations": [{"from": "human", "value": "What is 2+2?"},
                               {"from": "gpt", "value": 4}]},
            {"instruction": "Say hi,\r\nthen stop.", "response": "hi"},
            {"messages": [system, {"role": "user", "content": "What is 3+3?"},
                          {"role": "assistant", "content": "6"}]}]
    path = tmp_path / "mixed.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    code, _, err = run_cli(capsys, "eval", toy_model_dir, "--data", path, "--samples", 0,
                           "--max-new-tokens", 2, "--out", tmp_path / "e")
    assert code == 0, err
    notes = [line.removeprefix("note: ") for line in err.splitlines() if line.startswith("note")]
    assert notes == file_notes(load_data(path))  # train's notes on the file, word for word
    assert [note.split(" (")[0] for note in notes] == [
        "1 row read as ShareGPT", "1 row holds a number where text belongs",
        "1 row holds Windows line breaks, \\r\\n or \\r", "1 chat row has a system message"]


def test_eval_skip_bad_rows_leaves_them_out_and_limit_counts_the_usable(
        capsys, tmp_path, toy_model_dir, data_file):
    data_file.write_text("{oops\n" + data_file.read_text(encoding="utf-8"), encoding="utf-8")
    code, _, err = run_cli(capsys, "eval", toy_model_dir, "--data", data_file, "--samples", 0,
                           "--out", tmp_path / "a")
    assert code == 2 and one_line_error(err).endswith(
        "each line must be one JSON object; or pass --skip-bad-rows to leave this row out.")
    code, out, err = run_cli(capsys, "eval", toy_model_dir, "--data", data_file, "--samples", 0,
                             "--limit", 2, "--max-new-tokens", 2, "--skip-bad-rows",
                             "--out", tmp_path / "b")
    assert code == 0, err
    assert f"note: {data_file}: 1 of 5 rows left out (--skip-bad-rows):\n  line 1: invalid " \
           f"JSON" in err
    assert f"2 questions from {data_file}" in out  # lines 2 and 3: the first 2 usable


def test_review_rates_from_stdin_and_resumes(capsys, monkeypatch, tmp_path, toy_model_dir,
                                             data_file):
    ratings = tmp_path / "ratings.jsonl"
    args = ("review", toy_model_dir, "--data", data_file, "--out", ratings, "--items", 3,
            "--max-new-tokens", 3)
    monkeypatch.setattr("sys.stdin", io.StringIO("4\n2 w\nq\n"))
    code, out, _ = run_cli(capsys, *args)
    assert code == 0
    assert sorted(r["rating"] for r in load_ratings(ratings).values()) == [2, 4]
    assert "2 rated now; 2 of 3 rated" in out
    monkeypatch.setattr("sys.stdin", io.StringIO("1 ws\n"))
    code, out, _ = run_cli(capsys, *args)
    assert code == 0 and out.startswith("2 of 3 already rated")
    assert len(load_ratings(ratings)) == 3
    assert "rank agreement with each metric" in out
    # A wrong --out is said before the model answers anything, and the file is left as it is.
    for wrong in (data_file, tmp_path):
        before = data_file.read_bytes()
        code, _, err = run_cli(capsys, "review", toy_model_dir, "--data", data_file, "--out",
                               wrong)
        assert code == 2 and "ratings file" in one_line_error(err) and "evaluating" not in err
        assert data_file.read_bytes() == before


def test_ask_reads_questions_from_standard_input(capsys, monkeypatch, toy_model_dir):
    monkeypatch.setattr("sys.stdin", io.StringIO("What is 2+2?\n\nWhat is 3+3?\n"))
    code, out, _ = run_cli(capsys, "ask", "--model", toy_model_dir, "--max-new-tokens", 1,
                           "--json", "-")
    assert code == 0
    assert [json.loads(line)["instruction"] for line in out.splitlines()] == [
        "What is 2+2?", "", "What is 3+3?"]  # one answer a line; a blank line gets an empty one
    monkeypatch.setattr("sys.stdin", io.StringIO("\n"))
    code, _, err = run_cli(capsys, "ask", "--model", toy_model_dir, "-")
    assert code == 2 and "standard input held no question" in one_line_error(err)
    # An answer the model ends at once is a blank line too: said, naming its line.
    monkeypatch.setattr("course_lib.evaluation.generation.generate_batch",
                        lambda *_args, **_kw: ["4", ""])
    monkeypatch.setattr("sys.stdin", io.StringIO("What is 2+2?\n\nWhat is 3+3?\n"))
    code, out, err = run_cli(capsys, "ask", "--model", toy_model_dir, "-")
    assert code == 0 and out == "4\n\n\n"
    assert "the model's answer to question 3 is empty; its line is left blank" in err


@pytest.mark.slow
def test_acceptance_eval_of_base_masked_and_unmasked_runs(capsys, tmp_path, monkeypatch):
    """`course eval tiny runs/masked runs/unmasked --json r.json` after two `course train`."""
    monkeypatch.chdir(tmp_path)
    for masking, out in (("response", "runs/masked"), ("none", "runs/unmasked")):
        code, _, err = run_cli(capsys, "train", "--masking", masking, "--steps", 3,
                               "--eval-data", "none", "--quiet", "--out", out)
        assert code == 0, err
    code, out, err = run_cli(capsys, "eval", "tiny", "runs/masked", "runs/unmasked", "--json",
                             "r.json", "--limit", 30, "--samples", 1)
    assert code == 0, err
    assert out.splitlines()[0].split() == ["tiny", "masked", "unmasked"]
    models = json.loads((tmp_path / "r.json").read_text())["models"]
    assert set(models) == {"tiny", "masked", "unmasked"}
    assert models["tiny"]["checks"]["stopped"]["k"] == 0  # the base model never stops
    assert models["masked"]["by_phrasing_style"]["bare"]["exact_match"]["n"] > 0
