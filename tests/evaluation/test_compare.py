"""Lesson 04's comparison of a masked and an unmasked run: same yardstick, same figure."""

import json

import pytest
from matplotlib.colors import to_hex

from course_lib.display import PALETTE
from course_lib.errors import CourseError
from course_lib.evaluation.compare import (
    NOT_COMPARABLE,
    compare_runs,
    held_out_questions,
    instruction_share,
    loss_by_masking,
    runs_table,
    unprompted_samples,
)
from course_lib.training.history import RunHistory

RECORDS = [
    {"instruction": "What is 2+2?", "response": "4"},
    {"instruction": "Translate this to Spanish", "input": "Hello world", "response": "Hola mundo"},
    {"instruction": "What is the capital of france?", "response": "Paris"},
]


# --- compare.py ----------------------------------------------------------------------------
def test_held_out_questions_puts_the_seed_first_then_one_per_kind(tmp_path):
    rows = [
        {"instruction": "What is 3+3?", "response": "6", "kind": "add"},
        {"instruction": "What is 5+5?", "response": "10", "kind": "add"},
        {"instruction": "Capital of Peru?", "response": "Lima", "kind": "capital"},
        {"instruction": "Capital of Chile?", "response": "Santiago", "kind": "capital"},
        {"instruction": "What is 2+2?", "response": "4", "kind": "add"},
        {"instruction": "Dog says?", "response": "woof", "kind": "sound"},
    ]
    path = tmp_path / "eval.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    got = [q["instruction"] for q in held_out_questions(str(path))]
    assert got == ["What is 2+2?", "What is 5+5?", "Capital of Peru?", "Dog says?"]
    assert set(held_out_questions(str(path))[0]) == {"instruction", "input", "response"}


def test_loss_by_masking_same_model_two_numbers(toy_model_dir, toy_tokenizer):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(toy_model_dir)
    model.train()
    out = loss_by_masking(model, toy_tokenizer, RECORDS)
    assert set(out) == {"none", "response"}
    assert out["none"] != pytest.approx(out["response"])
    assert model.training, "the model's mode is restored"


def test_runs_table_shows_reported_and_held_out_numbers():
    masked = RunHistory(masking="response", steps_done=20, wall_time_s=3.0)
    masked.add_train_loss(20, 1.0)
    masked.add_eval(20, 1.1, 0.7)
    unmasked = RunHistory(masking="none", steps_done=20)
    unmasked.add_train_loss(20, 0.6)
    table = runs_table([masked, unmasked])
    text = str(table)
    assert "masked" in text and "unmasked" in text and "70.0%" in text and "0.600" in text
    assert "-" in text.splitlines()[2]  # no evaluation: shown as '-'
    assert "<table>" in table._repr_html_()


def test_instruction_share_and_unprompted_samples(toy_model_dir, toy_tokenizer):
    from transformers import AutoModelForCausalLM

    assert instruction_share([]) == 0.0
    assert instruction_share(["### Instruction: Hi ### Response: hi", "x", "y", "z"]) == 0.25
    model = AutoModelForCausalLM.from_pretrained(toy_model_dir)
    texts = unprompted_samples(model, toy_tokenizer, n=3, max_new_tokens=5, seed=0)
    assert len(texts) == 3 and all(isinstance(t, str) for t in texts)
    assert texts == unprompted_samples(model, toy_tokenizer, n=3, max_new_tokens=5, seed=0)



def figure_texts(fig) -> list[str]:
    return [t.get_text() for t in fig.texts]


def test_comparison_figure_explains_why_reported_losses_differ(tmp_path, toy_history):
    masked, unmasked = toy_history("response", 0.0), toy_history("none", -1.0)
    unmasked.save(tmp_path)  # runs may be given as folders too
    fig = compare_runs([masked, tmp_path])
    train_ax, eval_ax = fig.axes
    assert "reports" in train_ax.get_title() and "response tokens only" in eval_ax.get_title()
    assert len(train_ax.lines) == 2 and len(eval_ax.lines) == 2
    # Told apart without colour (line style) and readable past step 0 (log loss axes).
    assert train_ax.lines[0].get_linestyle() != train_ax.lines[1].get_linestyle()
    assert train_ax.get_yscale() == eval_ax.get_yscale() == "log"
    [note] = figure_texts(fig)
    assert note == NOT_COMPARABLE  # the figure explains itself, in these words:
    assert "not comparable" in note and "prompt tokens" in note and "response-only" in note
    fig.savefig(tmp_path / "compare.png")
    assert (tmp_path / "compare.png").stat().st_size > 1000



def test_runs_without_held_out_loss_say_so_instead_of_a_legend_of_nothing(toy_history):
    runs = [toy_history("response", 0), toy_history("none", 1)]
    for h in runs:
        h.eval_steps, h.eval_loss, h.eval_accuracy = [], [], []  # trained with no held-out set
    ax_train, ax_eval = compare_runs(runs).axes
    assert ax_train.get_legend() is not None
    assert ax_eval.get_legend() is None  # it named two lines that have no point
    assert [t.get_text() for t in ax_eval.texts] == ["no held-out loss in these runs"]


def test_each_run_has_a_safe_colour_and_its_own_line_style_in_both_panels(toy_history):
    fig = compare_runs([toy_history("response", 0), toy_history("none", 1),
                        toy_history("none", 2)])
    for ax in fig.axes:  # tab10's green and red of runs 3 and 4 are one colour to many
        assert [to_hex(line.get_color()) for line in ax.lines] == [
            p.lower() for p in PALETTE[:3]]
        assert len({line.get_linestyle() for line in ax.lines}) == 3

def test_same_masking_runs_get_a_different_note(toy_history):
    fig = compare_runs([toy_history("response", 0), toy_history("response", 0.1)])
    [note] = figure_texts(fig)
    assert "same masking" in note and "prompt tokens" not in note
    legend = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert len(set(legend)) == 2  # identical names are made distinct


def test_a_data_file_given_as_a_run_is_said_to_be_no_run(tmp_path, toy_history):
    data = tmp_path / "alp.jsonl"  # `course compare runA alp.jsonl`: not "re-run course train"
    data.write_text('{"instruction": "Hi", "output": "Hello."}\n{"instruction": "A", '
                    '"output": "B"}\n')
    run = tmp_path / "runA"
    run.mkdir()
    toy_history("response", 0).save(run)
    with pytest.raises(CourseError) as info:
        compare_runs([run, data])
    assert str(info.value) == (f"'{data}' is not a run folder (a run folder, written by "
                               f"train(..., out_dir=...), holds history.json); give run "
                               f"folders or their history.json.")
    assert "`course train --out`" in info.value.cli and "re-run" not in info.value.cli
    (run / "history.json").rename(tmp_path / "masked.json")  # a history by another name
    assert len(compare_runs([tmp_path / "masked.json", toy_history("none", 0)]).axes) == 2


def test_labels_must_name_every_run_once(toy_history):
    runs = [toy_history("response", 0), toy_history("none", 0)]
    with pytest.raises(CourseError) as info:  # was a bare ValueError from zip(strict=True)
        compare_runs(runs, labels=["masked"])
    assert str(info.value) == ("labels has 1 name for 2 runs; give one per run, e.g. "
                               "labels=['masked', 'unmasked'] for two runs.")
    assert info.value.cli.startswith("--labels has 1 name for 2 runs")
    assert legend_of(compare_runs(runs, labels=["a", "b"])) == ["a", "b"]


def legend_of(fig) -> list[str]:
    return [t.get_text() for t in fig.axes[1].get_legend().get_texts()]


def test_runs_with_the_same_settings_are_told_apart_by_their_folders(tmp_path, toy_history):
    folders = [tmp_path / name for name in ("runA", "runB", "runC")]
    for folder, masking in zip(folders, ("response", "none", "response"), strict=True):
        folder.mkdir()
        toy_history(masking, 0).save(folder)
    assert legend_of(compare_runs(folders)) == ["masked (runA)", "unmasked (runB)",
                                                "masked (runC)"]
    # Labels that are already unique stay as they were (lesson 04 names its runs so).
    assert legend_of(compare_runs(folders[:2])) == ["masked", "unmasked"]
    other = toy_history("response", 0)
    other.seed = 1
    assert legend_of(compare_runs([folders[0], other])) == ["masked (seed 0, toy)",
                                                            "masked (seed 1, toy)"]
    # Two folders of one name: as much of their path as tells them apart.
    twins = [tmp_path / "seed1" / "masked", tmp_path / "seed2" / "masked"]
    for folder in twins:
        folder.mkdir(parents=True)
        toy_history("response", 0).save(folder)
    assert legend_of(compare_runs(twins)) == ["masked (seed1/masked)", "masked (seed2/masked)"]


def test_runs_held_out_on_different_sets_say_so_under_the_figure(toy_history):
    course, own = toy_history("response", 0), toy_history("none", 0)
    course.eval_data = "course:eval"
    own.eval_data = "8 rows held out of mytrain.jsonl (seed 0)"
    notes = figure_texts(compare_runs([course, own]))[0].split("\n")
    assert notes[0] == NOT_COMPARABLE  # the masking note first, as before
    held = " ".join(notes[1:])  # wrapped to the figure's width
    assert held == ("The held-out sets differ, so the held-out losses (right) are measured on "
                    "different questions: masked on course:eval; unmasked on 8 rows held out "
                    "of mytrain.jsonl (seed 0).")
    own.eval_data = "course:eval"  # the same set: no such note
    assert figure_texts(compare_runs([course, own])) == [NOT_COMPARABLE]


def test_a_run_stopped_before_the_end_is_said_with_the_command_that_finishes_it(
        tmp_path, toy_history):
    done, stopped = tmp_path / "done", tmp_path / "stopped"  # Ctrl-C after a checkpoint
    done.mkdir()
    toy_history("response", 0).save(done)
    (stopped / "checkpoints" / "checkpoint-50").mkdir(parents=True)
    (stopped / "checkpoints" / "course_settings.json").write_text(json.dumps(
        {"model": "my model", "data": "units.jsonl", "seed": 0}))
    with pytest.raises(CourseError) as info:
        compare_runs([done, stopped])
    # Not "give a folder written by course train": it was; it needs finishing, as it started.
    assert info.value.cli == (
        f"'{stopped}' is a run that stopped before the end (it holds only checkpoints); finish "
        f"it with `course train --model 'my model' --data units.jsonl --out {stopped} --resume` "
        f"and the other flags that started it (its --steps too).")


def test_compare_runs_and_runs_table_read_a_train_result_as_its_history(toy_history):
    from course_lib.training.runner import TrainResult

    # compare_runs([masked, unmasked]) without .history: pathlib's "expected str, not
    # TrainResult"; runs_table: "'TrainResult' object has no attribute 'name'".
    results = [TrainResult(None, None, toy_history("response", 0.0)),
               TrainResult(None, None, toy_history("none", 0.5))]
    train_ax, _ = compare_runs(results).axes
    assert [line.get_label().split(" (")[1] for line in train_ax.lines] == [
        "masking=response)", "masking=none)"]
    assert str(runs_table(results)) == str(runs_table([r.history for r in results]))


@pytest.mark.parametrize("call", [compare_runs, runs_table])
def test_one_run_where_a_list_goes_says_to_give_a_list(toy_history, call):
    # Was "'RunHistory' object is not iterable" (or a path read letter by letter).
    with pytest.raises(CourseError, match=rf"{call.__name__} takes a list of runs, not one run; "
                                          rf"give e.g. {call.__name__}\(\[masked.history, "):
        call(toy_history("response", 0.0))


def test_compare_runs_of_no_run_says_so():
    with pytest.raises(CourseError, match=r"compare_runs got an empty list of runs"):
        compare_runs([])  # was a figure of two empty panels


def test_swapped_model_and_tokenizer_say_the_order(toy_model_dir, toy_tokenizer):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(toy_model_dir)
    # Each was an AttributeError from inside torch or transformers.
    with pytest.raises(CourseError, match=r"Give the model, then its tokenizer: loss_by_masking"):
        loss_by_masking(toy_tokenizer, model, RECORDS)
    with pytest.raises(CourseError, match=r"Give the model, then its tokenizer: unprompted_"):
        unprompted_samples(toy_tokenizer, model, n=2)


def test_a_train_result_given_as_the_model_points_to_its_model(toy_tokenizer, toy_history):
    from course_lib.training.runner import TrainResult

    result = TrainResult(object(), toy_tokenizer, toy_history("response", 0.0))
    with pytest.raises(CourseError, match=r"model is a train\(\) result; give its model"):
        loss_by_masking(result, toy_tokenizer, RECORDS)  # was "no attribute 'training'"


def test_loss_by_masking_refuses_a_set_name_and_reads_a_table(toy_model_dir, toy_tokenizer):
    import pandas as pd
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(toy_model_dir)
    # A name was "example 0: expected a JSON object, got str": refused, as show_mask and
    # data_mix refuse one (a whole set is not one batch).
    with pytest.raises(CourseError, match=r"records must be a list of records, not the string "
                                          r"'course:train'; load a few first, e\.g\. "):
        loss_by_masking(model, toy_tokenizer, "course:train")
    with pytest.raises(CourseError, match=r"records is one record .*wrap it in a list"):
        loss_by_masking(model, toy_tokenizer, RECORDS[0])
    with pytest.raises(CourseError, match=r"records is empty"):
        loss_by_masking(model, toy_tokenizer, [])
    # A DataFrame is read row by row, as show_mask and train() read it (were its columns).
    assert loss_by_masking(model, toy_tokenizer, pd.DataFrame(RECORDS)) == pytest.approx(
        loss_by_masking(model, toy_tokenizer, RECORDS))


def test_texts_labels_and_questions_in_other_containers_give_the_list_result(toy_history):
    # instruction_share(generator) had no len(), of a Series "truth value is ambiguous", and of
    # one string counted its letters; labels=(name for ...) had no len(), and one run's label
    # as a string was "labels has 6 names for 1 runs"; held_out_questions(first=generator) had
    # no len().
    import numpy as np
    import pandas as pd

    texts = ["### Instruction: Say hi ### Response: hi", "Paris.", "x", "### Instruction: y"]
    for given in ((t for t in texts), pd.Series(texts, index=[3, 2, 1, 0]), np.array(texts)):
        assert instruction_share(given) == instruction_share(texts) == 0.5
    with pytest.raises(CourseError, match=r"^texts must be a list of texts, not one string"):
        instruction_share(texts[0])
    runs = [toy_history("response", 0), toy_history("none", 0)]
    assert legend_of(compare_runs(runs, labels=(n for n in ["a", "b"]))) == ["a", "b"]
    assert legend_of(compare_runs(runs[:1], labels="masked")) == ["masked"]
    first = ["What is 2+2?", "What is 5+5?"]
    assert held_out_questions(first=iter(first)) == held_out_questions(first=first)
