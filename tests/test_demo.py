"""`course demo`'s printed story: numbered sections once each, no repeated line, and a
conclusion drawn from the runs' own numbers (course_lib/demo.py)."""

import re

import pytest

from course_lib.demo import conclusion, held_out_line, reported_line, run_demo
from course_lib.evaluation.generation import AnswerTable
from course_lib.training.history import RunHistory


def history(masking: str, train: float, held_out: float | None, examples: int = 56):
    h = RunHistory(model="toy", masking=masking, eval_examples=examples,
                   label="masked" if masking == "response" else "unmasked")
    h.add_train_loss(10, train)
    if held_out is not None:
        h.add_eval(10, held_out, 0.9)
    return h


def two_runs(masked_held_out, unmasked_held_out, masked_train=0.2, unmasked_train=0.8):
    return {"masked": history("response", masked_train, masked_held_out),
            "unmasked": history("none", unmasked_train, unmasked_held_out)}


def test_the_held_out_line_names_the_lower_run_and_by_how_much():
    assert "masked is 32% lower" in held_out_line(two_runs(0.231, 0.339))
    assert "unmasked is 50% lower" in held_out_line(two_runs(0.4, 0.2))
    assert "about the same" in held_out_line(two_runs(0.300, 0.301))
    assert "No held-out loss" in held_out_line(two_runs(None, None))


def test_the_reported_losses_are_shown_and_called_not_comparable():
    line = reported_line(two_runs(0.2, 0.3, masked_train=0.224, unmasked_train=0.792))
    assert "masked 0.224, unmasked 0.792: not comparable" in line
    assert "prompt tokens" in line


def test_the_conclusion_says_whether_exact_match_tells_the_runs_apart_and_names_the_files(
        tmp_path):
    runs = two_runs(0.231, 0.339)
    same = AnswerTable(["a", "b"], {"base (raw)": ["x", "y"], "masked": ["1", "2"],
                                    "unmasked": ["1", "2"]}, ["1", "2"])
    lines = conclusion(runs, same, tmp_path)
    assert "masked 100%, unmasked 100%, the same: too few questions" in lines[2]
    assert "56 examples" in lines[2]
    assert "compare.png" in lines[-1] and "answers.txt" in lines[-1] and "masked/" in lines[-1]
    apart = AnswerTable(["a", "b"], {"masked": ["1", "2"], "unmasked": ["1", "3"]}, ["1", "2"])
    assert conclusion(runs, apart, tmp_path)[2] == (
        "Exact match on these 2 answers: masked 100%, unmasked 50%.")


@pytest.mark.slow
def test_the_demo_numbers_each_section_once_repeats_no_line_and_concludes_from_its_numbers(
        capsys, tmp_path, toy_model_dir, data_files):
    train_file, eval_file = data_files
    run_demo(tmp_path / "demo", model=str(toy_model_dir), data=str(train_file),
             eval_data=str(eval_file), steps=2, n_prompts=2, progress=False, num_threads=1)
    out = capsys.readouterr().out
    headings = re.findall(r"^== (\d+)\. ", out, flags=re.MULTILINE)
    assert headings == ["1", "2", "3", "4", "5"], out  # was 1, 2, 2, 3, 4
    lines = [line for line in out.splitlines() if line.strip()]
    repeated = sorted({line for line in lines if lines.count(line) > 1})
    assert not repeated, repeated  # section 3 printed both runs' summary lines again
    end = " ".join(out.split("== 5. What the numbers show ==")[1].split())  # lines wrap
    masked = RunHistory.load(tmp_path / "demo" / "masked")
    unmasked = RunHistory.load(tmp_path / "demo" / "unmasked")
    for h in (masked, unmasked):  # measured, not asserted: the runs' own last numbers
        assert f"{h.name} {h.eval_loss[-1]:.3f}" in end
        assert f"{h.name} {h.train_loss[-1]:.3f}" in end
    assert "compare.png" in end and (tmp_path / "demo" / "compare.png").is_file()


def test_the_demo_says_first_when_its_questions_are_not_the_users_held_out_rows(
        capsys, tmp_path, monkeypatch):
    from course_lib import demo

    class Stop(Exception):
        pass

    def stop(_source):  # the note comes before any data or model is read
        raise Stop

    monkeypatch.setattr(demo, "load_records", stop)
    said = {}
    for data, eval_data in (("units.jsonl", "course:eval"), ("units.jsonl", None),
                            ("course:train", "course:eval"), ("units.jsonl", "mine.jsonl")):
        with pytest.raises(Stop):
            run_demo(tmp_path / "demo", data=data, eval_data=eval_data)
        said[data, eval_data] = capsys.readouterr().out
    # Own data, the course's questions: the numbers are about arithmetic, not units.
    assert "note: the held-out loss and the answers below are measured on course:eval, the " \
           "course's own questions, not on rows like those of units.jsonl;" in \
           said["units.jsonl", "course:eval"]
    # No held-out set: the answers are to rows both runs trained on.
    assert "note: with no held-out set, the answers below are to the first rows of " \
           "units.jsonl, which both runs train on" in said["units.jsonl", None]
    assert said["course:train", "course:eval"] == said["units.jsonl", "mine.jsonl"] == ""
