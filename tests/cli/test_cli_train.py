"""`course train / ask / compare / demo` through main([...]): exit codes and one-line errors."""

import json

import pytest

from course_lib.cli import main
from course_lib.cli.outputs import fresh_dir
from course_lib.errors import CourseError
from course_lib.training.history import RunHistory


def run_cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(err: str, *needles: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


@pytest.mark.parametrize("command", ["train", "ask"])
def test_unknown_model_is_one_line_exit_2(capsys, tmp_path, command):
    extra = ["--out", tmp_path / "o"] if command == "train" else ["Hi"]
    code, _, err = run_cli(capsys, command, "--model", "no-such-model", *extra)
    assert code == 2
    assert_one_line_error(err, "no-such-model", "presets")


def test_missing_model_folder_is_one_line_exit_2(capsys, tmp_path):
    code, _, err = run_cli(capsys, "ask", "--model", tmp_path / "missing", "Hi")
    assert code == 2
    assert_one_line_error(err, "missing")


BAD_DATA = {
    "malformed.jsonl": (
        b'{"instruction": "a", "response": "b"}\n{"instruction": oops}\n',
        "line 2",
    ),
    "missing.jsonl": (b'{"instruction": "a", "response": "b"}\n{"instruction": "a"}\n', "line 2"),
    "wrongtype.jsonl": (b'{"instruction": "a", "response": [4]}\n', "line 1"),
    "latin1.jsonl": (
        b'{"instruction": "a", "response": "b"}\n{"instruction": "caf\xe9"}\n',
        "line 2",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_DATA))
def test_bad_data_names_file_and_line(capsys, tmp_path, toy_model_dir, name):
    content, where = BAD_DATA[name]
    path = tmp_path / name
    path.write_bytes(content)
    code, _, err = run_cli(
        capsys,
        "train",
        "--model",
        toy_model_dir,
        "--data",
        path,
        "--eval-data",
        "none",
        "--steps",
        1,
        "--quiet",
        "--out",
        tmp_path / "run",
    )
    assert code == 2
    assert_one_line_error(err, str(path), where)
    assert not (tmp_path / "run").exists()  # nothing written for a failed run


def _train_reached(monkeypatch) -> None:
    """train() made to stop at once, saying so: what the command line checks comes first."""
    from course_lib.training import runner

    def reached(*args, **kwargs):
        raise CourseError("train() was reached.")

    monkeypatch.setattr(runner, "train", reached)


@pytest.mark.parametrize(("flag", "typed", "says"), [
    ("--eval-data", "evl.jsonl", "--eval-data: No such file or folder: 'evl.jsonl' (did you mean "
                                 "'eval.jsonl'?); give a data file"),
    ("--data", "trian.jsonl", "--data: No such file or folder: 'trian.jsonl' (did you mean "
                              "'train.jsonl'?)"),
    ("--data", "course:trian", "--data: There is no embedded data set 'course:trian' (did you "
                               "mean 'course:train'?)")])
def test_data_that_is_not_there_is_named_by_its_flag_before_training_starts(
        capsys, monkeypatch, tmp_path, data_files, flag, typed, says):
    # Was: the model loaded and the data report printed first, then "No such file or folder:
    # 'evl.jsonl'" with no flag named.
    _train_reached(monkeypatch)
    monkeypatch.chdir(data_files[0].parent)
    given = {"--data": "train.jsonl", "--eval-data": "eval.jsonl", flag: typed}
    code, out, err = run_cli(capsys, "train", *[w for pair in given.items() for w in pair],
                             "--out", tmp_path / "run")
    assert code == 2 and out == ""
    assert_one_line_error(err, says)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("given", [
    ["--data", "some-owner/some-set"], ["--data", "course:train", "--eval-data", "course:eval"],
    ["--eval-data", "auto"], ["--eval-data", "none"],
    ["--eval-data", "evl.jsonl", "--eval-every", "0"]])  # not read: no held-out score
def test_names_that_are_no_local_file_still_reach_training(capsys, monkeypatch, tmp_path,
                                                           given):
    # A Hub id or an embedded set is no path, so the early check leaves it to the loader.
    _train_reached(monkeypatch)
    code, _, err = run_cli(capsys, "train", *given, "--out", tmp_path / "run")
    assert code == 2 and err == "error: train() was reached.\n"


def test_ask_prints_one_response_per_line_or_json(capsys, toy_model_dir):
    code, out, _ = run_cli(
        capsys,
        "ask",
        "--model",
        toy_model_dir,
        "--max-new-tokens",
        3,
        "What is 1+1?",
        "What is 2+2?",
    )
    assert code == 0
    assert len(out.splitlines()) == 2
    code, out, _ = run_cli(
        capsys,
        "ask",
        "--model",
        toy_model_dir,
        "--json",
        "--max-new-tokens",
        3,
        "What is 1+1?",
        "What is 2+2?",
    )
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["instruction"] for r in rows] == ["What is 1+1?", "What is 2+2?"]
    assert all(isinstance(r["response"], str) for r in rows)


def test_compare_draws_from_history_files_and_never_overwrites(capsys, tmp_path):
    _two_runs(tmp_path)  # runs tmp_path/response and tmp_path/none
    out = tmp_path / "plot.png"
    code, stdout, _ = run_cli(
        capsys, "compare", tmp_path / "response", tmp_path / "none", "--out", out
    )
    assert code == 0 and out.stat().st_size > 1000
    code, _, err = run_cli(
        capsys, "compare", tmp_path / "response", tmp_path / "none", "--out", out
    )
    assert code == 2
    assert_one_line_error(err, "already exists")
    code, _, err = run_cli(
        capsys, "compare", tmp_path / "response", tmp_path / "x", "--out", out, "--force"
    )
    assert code == 2
    assert_one_line_error(err, "No run history")
    runs = [tmp_path / "response", tmp_path / "none"]
    code, _, err = run_cli(capsys, "compare", *runs, "--out", out, "--labels", "a,b,c")
    assert code == 2  # was a traceback from zip()
    assert_one_line_error(err, "--labels has 3 names for 2 runs; give one per run")
    code, _, err = run_cli(capsys, "compare", *runs, "--out", tmp_path / "plot.txt")
    assert code == 2  # was matplotlib's "Format 'txt' is not supported" traceback
    assert_one_line_error(err, "is not an image file name; end it with one of .png")
    # No suffix: the .png it writes is the name said, and it is never replaced unasked.
    code, stdout, _ = run_cli(capsys, "compare", *runs, "--out", tmp_path / "plot")
    assert code == 2 and not (tmp_path / "plot").exists()  # plot.png exists already
    code, stdout, _ = run_cli(capsys, "compare", *runs, "--out", tmp_path / "other")
    assert code == 0 and stdout.strip() == f"wrote {tmp_path / 'other.png'}"


def test_fresh_dir_never_picks_an_existing_folder(tmp_path):
    assert fresh_dir(tmp_path / "course-demo") == tmp_path / "course-demo"
    (tmp_path / "course-demo").mkdir()
    (tmp_path / "course-demo-2").mkdir()
    assert fresh_dir(tmp_path / "course-demo") == tmp_path / "course-demo-3"


@pytest.mark.slow
def test_train_then_ask_the_trained_folder(capsys, tmp_path, toy_model_dir, data_files):
    train_file, eval_file = data_files
    out = tmp_path / "run"
    code, stdout, _ = run_cli(
        capsys,
        "train",
        "--model",
        toy_model_dir,
        "--masking",
        "none",
        "--steps",
        3,
        "--seed",
        1,
        "--data",
        train_file,
        "--eval-data",
        eval_file,
        "--eval-every",
        3,
        "--quiet",
        "--threads",
        1,
        "--out",
        out,
    )
    assert code == 0
    assert "80 of 80 examples" in stdout
    assert "its chat template is the one_line template" in stdout
    history = RunHistory.load(out)
    assert (history.masking, history.seed, history.steps_done) == ("none", 1, 3)
    assert (out / "loss.png").is_file()
    code, stdout, _ = run_cli(capsys, "ask", "--model", out, "--max-new-tokens", 2, "What is 1+1?")
    assert code == 0 and len(stdout.splitlines()) == 1
    code, _, err = run_cli(capsys, "train", "--model", toy_model_dir, "--steps", 1, "--out", out)
    assert code == 2
    assert_one_line_error(err, "never overwrites", "pass --resume to continue")
    assert "resume=True" not in err


@pytest.mark.slow
def test_train_names_rows_that_look_poor_by_line_before_training(capsys, tmp_path,
                                                                  toy_model_dir):
    path = tmp_path / "mine.jsonl"
    rows = [{"instruction": f"What is {a}+3?", "response": str(a + 3)} for a in range(6)]
    rows[2:2] = [{"instruction": "help", "response": said} for said in ("ok", "sure")]
    rows.append({"instruction": "What is 2+5?", "response": "What is 2+6? What is 2+7?"})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    code, stdout, _ = run_cli(capsys, "train", "--model", toy_model_dir, "--data", path,
                              "--eval-data", "none", "--steps", 1, "--quiet", "--threads", 1,
                              "--out", tmp_path / "run")
    assert code == 0
    report = stdout.split("threads")[0]  # the data report comes before the run itself
    assert "9 of 9 examples" in report  # usable rows train: counted and named, not left out
    assert "2 rows answer 1 prompt in more than one way (lines 3, 4): " in report
    assert "1 response asks questions instead of answering (line 9): " in report
    assert "read it; fix or remove it. These checks see form only" in report


@pytest.mark.slow
def test_train_freeze_keeps_those_weights(capsys, tmp_path, toy_model_dir, data_files):
    import torch
    from transformers import AutoModelForCausalLM

    common = ["train", "--model", toy_model_dir, "--data", data_files[0], "--steps", 2,
              "--eval-every", 0, "--quiet", "--threads", 1]
    code, _, err = run_cli(capsys, *common, "--freeze", "ffn", "--out", tmp_path / "bad")
    assert code == 2
    assert_one_line_error(err, "--freeze ffn matches no", "mlp")  # CLI advice in flags
    assert "freeze=[" not in err
    out = tmp_path / "ok"
    code, _, _ = run_cli(capsys, *common, "--freeze", "mlp", "embed_tokens", "--out", out)
    assert code == 0
    before = AutoModelForCausalLM.from_pretrained(toy_model_dir).state_dict()
    after = AutoModelForCausalLM.from_pretrained(out).state_dict()
    same = {name for name in before if torch.equal(before[name], after[name])}
    assert {name for name in before if "mlp" in name or "embed_tokens" in name} <= same
    assert any("self_attn" in name and name not in same for name in before)


@pytest.mark.slow
def test_demo_runs_the_story_into_a_fresh_folder(
    capsys, tmp_path, toy_model_dir, data_files, monkeypatch
):
    train_file, eval_file = data_files
    monkeypatch.chdir(tmp_path)
    (tmp_path / "course-demo").mkdir()  # a learner's earlier demo stays untouched
    (tmp_path / "course-demo" / "notes.txt").write_text("mine")
    code, stdout, _ = run_cli(
        capsys,
        "demo",
        "--model",
        toy_model_dir,
        "--data",
        train_file,
        "--eval-data",
        eval_file,
        "--steps",
        2,
        "--prompts",
        2,
        "--quiet",
        "--threads",
        1,
    )
    assert code == 0
    out = tmp_path / "course-demo-2"
    for name in ("masked/history.json", "unmasked/history.json", "compare.png", "answers.txt"):
        assert (out / name).is_file(), name
    assert (tmp_path / "course-demo" / "notes.txt").read_text() == "mine"
    assert "exact match" in stdout
    code, _, err = run_cli(
        capsys, "demo", "--model", toy_model_dir, "--out", tmp_path / "course-demo"
    )
    assert code == 2
    assert_one_line_error(err, "never overwrites")


def test_an_unknown_option_is_named_with_the_one_it_most_likely_meant(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["train", "--stpes", "5", "--out", "x"])
    assert stop.value.code == 2 and capsys.readouterr().err == (
        "error: unrecognized arguments: --stpes 5 (did you mean --steps?); see "
        "`course train --help`.\n")  # was `course --help`, which lists no option of train


@pytest.mark.parametrize("argv", [["train", "--out", ""], ["train", "--out", "x", "--data", " "],
                                  ["eval", "--data", "", "runs/x"]])
def test_an_empty_path_is_said_to_be_empty_not_taken_for_this_folder(capsys, argv):
    with pytest.raises(SystemExit):  # was "'.' already exists and is not empty"
        main(argv)
    flag = next(a for a, b in zip(argv, argv[1:], strict=False) if not b.strip())
    assert capsys.readouterr().err == (  # was "...a path.; see", two endings
        f"error: {flag} is empty; give a name or a path; see `course {argv[0]} --help`.\n")


@pytest.mark.parametrize("typed, meant", [
    ("--learning_rate", "--lr"), ("--max-steps", "--steps"), ("--output_dir", "--out"),
    ("--max_length", "--max-length")])
def test_transformers_name_for_an_option_is_answered_with_the_courses(capsys, typed, meant):
    # "--learning-rate" is no near miss of "--lr": the error named no option at all.
    with pytest.raises(SystemExit):
        main(["train", typed, "5", "--out", "x"])
    assert f"unrecognized arguments: {typed} 5 (did you mean {meant}?)" in capsys.readouterr().err


def test_ask_refuses_an_empty_instruction_before_loading_anything(capsys):
    code, out, err = run_cli(capsys, "ask", "What is 2+2?", "   ")  # it generated from nothing
    assert code == 2 and out == ""
    assert_one_line_error(err, "instruction 2 of 2 is empty; give the question in quotes")


def test_cli_advice_is_written_as_flags(capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    code, _, err = run_cli(capsys, "ask", "--model", "some-owner/some-model-not-cached", "Hi")
    assert code == 2
    assert_one_line_error(err, "offline", "use the embedded model instead: --model tiny")
    assert "model='tiny'" not in err  # Python callers get that spelling (tests/test_loading.py)


# A number no run can use stops at the command line, named by its flag: unchecked, a negative
# --steps trained one epoch instead (the Trainer's max_steps <= 0), and --batch-size 0 or
# --lr -1 ended in a traceback.
BAD_NUMBERS = [
    (["train", "--out", "o", "--steps", "-5"], "argument --steps: must be at least 1, not -5"),
    (["train", "--out", "o", "--steps", "0"], "argument --steps: must be at least 1, not 0"),
    (["train", "--out", "o", "--batch-size", "0"], "argument --batch-size: must be at least 1"),
    (["train", "--out", "o", "--lr", "-1"], "argument --lr: must be above 0, not -1"),
    (["train", "--out", "o", "--seed", "-1"], "argument --seed: must be from 0 to 4294967295"),
    (["train", "--out", "o", "--seed", str(2**32)],  # numpy seeds with 32 bits
     f"argument --seed: must be from 0 to {2**32 - 1}, not {2**32}"),
    (["train", "--out", "o", "--steps", "2x"], "argument --steps: '2x' is not a whole number"),
    (["experiment", "balance", "--seeds", "0"], "argument --seeds: must be at least 1, not 0"),
    (["experiment", "balance", "--steps", "-1"], "argument --steps: must be at least 1"),
    (["eval", "tiny", "--limit", "0"], "argument --limit: must be at least 1, not 0"),
    (["grade", "--timeout", "0"], "argument --timeout: must be above 0, not 0"),
    (["eval", "tiny", "--temperature", "0"], "greedy answer is always measured, and --samples 0"),
]


@pytest.mark.parametrize(("argv", "message"), BAD_NUMBERS, ids=lambda v: " ".join(v)
                         if isinstance(v, list) else "")
def test_a_number_no_run_can_use_is_refused_by_its_flag(capsys, tmp_path, argv, message):
    with pytest.raises(SystemExit) as stop:  # argparse's usage error, before anything loads
        main([str(tmp_path / a) if a == "o" else a for a in argv])
    assert stop.value.code == 2
    err = capsys.readouterr().err  # one line, like every error of the course: no usage block
    assert message in err and err.startswith("error: ") and err.count("\n") == 1
    assert err.endswith(f"; see `course {argv[0]} --help`.\n")


def _two_runs(tmp_path):
    runs = []
    for masking in ("response", "none"):
        h = RunHistory(model="toy", masking=masking)
        h.add_train_loss(1, 2.0)
        h.add_eval(1, 2.5, 0.1)
        (tmp_path / masking).mkdir()
        h.save(tmp_path / masking)
        runs.append(tmp_path / masking)
    return runs


def test_compare_force_replaces_the_image_it_would_otherwise_refuse(capsys, tmp_path):
    runs, out = _two_runs(tmp_path), tmp_path / "plot.png"
    out.write_bytes(b"an older figure")
    code, _, err = run_cli(capsys, "compare", *runs, "--out", out)
    assert code == 2 and out.read_bytes() == b"an older figure"
    code, stdout, err = run_cli(capsys, "compare", *runs, "--out", out, "--force")
    assert code == 0, err
    assert stdout.strip() == f"wrote {out}" and out.read_bytes()[:4] == b"\x89PNG"


def _run(tmp_path, name: str, data: str, eval_data: str = "", eval_examples: int = 0):
    """A run folder whose history says what it trained on and, with eval_data, a held-out loss."""
    h = RunHistory(model="toy", data=data, eval_data=eval_data, eval_examples=eval_examples)
    h.add_train_loss(1, 2.0)
    if eval_examples:
        h.add_eval(1, 2.5, 0.1)
    h.save(tmp_path / name)
    return tmp_path / name


def test_compare_says_in_the_terminal_what_its_caption_warns_of(capsys, tmp_path):
    # Was: said only under the figure; a run with no held-out loss got a legend entry, no line.
    runs = [_run(tmp_path, "a", "course:train", "course:eval", 20),
            _run(tmp_path, "b", "mine.jsonl", "4 rows held out of mine.jsonl (seed 0)", 4),
            _run(tmp_path, "c", "mine.jsonl")]
    code, out, err = run_cli(capsys, "compare", *runs, "--labels", "a,b,c", "--out",
                             tmp_path / "c.png")
    assert code == 0 and out == f"wrote {tmp_path / 'c.png'}\n"
    assert err.splitlines() == [
        "warning: The held-out sets differ, so the held-out losses (right) are measured on "
        "different questions: a on course:eval; b on 4 rows held out of mine.jsonl (seed 0).",
        "warning: c has no held-out curve: it was trained with --eval-data none or --eval-every "
        "0, or on data with too few different prompts to hold some out."]


def test_a_run_with_no_held_out_curve_is_said_why_in_the_caption_too(tmp_path):
    from course_lib.evaluation.compare import compare_runs

    runs = [_run(tmp_path, "a", "course:train", "course:eval", 20),
            _run(tmp_path, "b", "course:train"),  # course data: never too few prompts
            _run(tmp_path, "c", "mine.jsonl", "long.jsonl", 0)]
    caption = " ".join(compare_runs(runs, labels=["a", "b", "c"]).texts[0].get_text().split())
    assert ("b has no held-out curve: it was trained with train(eval_data=None) or "
            "train(eval_every=0).") in caption  # in Python's spelling, to a notebook
    assert ("c has no held-out curve: no row of its held-out set long.jsonl could be scored "
            "(each was too long or had no answer).") in caption
    assert "a has no" not in caption


def test_compare_of_one_run_is_a_one_line_error_and_writes_nothing(capsys, tmp_path):
    runs, out = _two_runs(tmp_path), tmp_path / "plot.png"
    code, _, err = run_cli(capsys, "compare", runs[0], "--out", out)
    assert code == 2
    assert_one_line_error(err, "compare needs at least two run folders")
    assert not out.exists()


def test_compare_of_one_run_given_twice_is_a_one_line_error(capsys, tmp_path):
    # Was: two identical curves drawn, as if they were two runs.
    runs, out = _two_runs(tmp_path), tmp_path / "plot.png"
    code, _, err = run_cli(capsys, "compare", runs[0], runs[1], f"{runs[0]}/", "--out", out)
    assert code == 2
    assert_one_line_error(err, f"{runs[0]}/ is given twice; compare different runs")
    assert not out.exists()


def test_ask_keeps_each_answer_on_one_line_and_json_keeps_it_whole(capsys, monkeypatch,
                                                                    toy_model_dir):
    from course_lib.evaluation import generation

    monkeypatch.setattr(generation, "generate_batch",
                        lambda model, tok, questions, **kw: ["4\nWhat is 3+3?", "6"])
    args = ("ask", "--model", toy_model_dir, "What is 2+2?", "What is 3+3?")
    code, out, _ = run_cli(capsys, *args)
    assert code == 0 and out.splitlines() == ["4 What is 3+3?", "6"]  # one answer a line
    code, out, _ = run_cli(capsys, *args, "--json")
    assert [json.loads(line)["response"] for line in out.splitlines()] == ["4\nWhat is 3+3?", "6"]


def test_the_compare_figure_calls_two_unmasked_runs_comparable(toy_history):
    # What `course compare` draws (evaluation/compare.py; its own test file is not this
    # session's to edit): only a mix of maskings makes the reported losses incomparable.
    from course_lib.evaluation.compare import NOT_COMPARABLE, compare_runs

    fig = compare_runs([toy_history("none", 0), toy_history("none", 0.1)])
    [note] = [t.get_text() for t in fig.texts]
    assert note.startswith("All runs use the same masking") and NOT_COMPARABLE not in note
    fig = compare_runs([toy_history("none", 0), toy_history("response", 0.1)])
    assert [t.get_text() for t in fig.texts] == [NOT_COMPARABLE]


def test_the_compare_legend_numbers_runs_it_cannot_tell_apart_from_1(toy_history):
    from course_lib.evaluation.compare import compare_runs

    fig = compare_runs([toy_history("response", 0), toy_history("response", 0)])
    legend = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert [name[-3:] for name in legend] == [" #1", " #2"]  # as a reader counts
    assert legend[0][:-3] == legend[1][:-3]


def test_a_run_without_held_out_losses_does_not_make_the_held_out_sets_differ(toy_history):
    from course_lib.evaluation.compare import compare_runs

    measured, unmeasured = toy_history("response", 0), RunHistory(model="toy", masking="none")
    measured.eval_data = "course:eval"
    unmeasured.eval_data = "course:dev_styles"  # named, but eval_every=0: no held-out loss
    unmeasured.add_train_loss(1, 2.0)
    texts = [t.get_text() for t in compare_runs([measured, unmeasured]).figure.texts]
    assert not any("held-out sets differ" in t for t in texts), texts
    unmeasured.add_eval(1, 2.5, 0.1)  # now it has one, on another set: said
    texts = [t.get_text() for t in compare_runs([measured, unmeasured]).figure.texts]
    assert any("held-out sets differ" in t for t in texts), texts
