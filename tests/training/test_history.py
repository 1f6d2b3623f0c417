import json

import pytest

from course_lib.errors import CourseError
from course_lib.training.history import RunHistory


def make_history(masking="response") -> RunHistory:
    h = RunHistory(model="tiny", masking=masking, seed=3, max_steps=2, learning_rate=1e-3)
    h.add_train_loss(1, 2.5)
    h.add_train_loss(2, 2.0)
    h.add_eval(0, loss=3.0, accuracy=0.0)
    h.add_eval(2, loss=1.5, accuracy=0.5)
    return h


def test_round_trip_through_json_and_file(tmp_path):
    h = make_history()
    assert RunHistory.from_json(h.to_json()) == h
    path = h.save(tmp_path)
    assert path.name == "history.json"
    assert RunHistory.load(tmp_path) == h
    assert json.loads(path.read_text())["train_loss"] == [2.5, 2.0]


def test_save_keeps_a_file_already_there_unless_told(tmp_path):
    notes = tmp_path / "mine.txt"
    notes.write_text("my notes")
    with pytest.raises(CourseError, match=r"mine.txt already exists; save to a new file name, "
                                          r"or pass overwrite=True to replace it\.$"):
        make_history().save(notes)
    assert notes.read_text() == "my notes"
    other = make_history("none").save(tmp_path)  # another run's history in its folder
    with pytest.raises(CourseError, match="already exists"):
        make_history().save(tmp_path)
    assert RunHistory.load(other).masking == "none"
    assert make_history("none").save(tmp_path) == other  # the same numbers again: a re-run cell
    assert RunHistory.load(make_history().save(notes, overwrite=True)) == make_history()


def test_save_makes_the_folders_it_names(tmp_path):
    # Was a FileNotFoundError for a folder not made yet.
    h = RunHistory(masking="response")
    written = h.save(tmp_path / "runs" / "new" / "h.json")
    assert written == tmp_path / "runs" / "new" / "h.json"
    assert RunHistory.load(written) == h


def test_unknown_keys_from_a_newer_course_are_ignored():
    data = make_history().to_dict() | {"something_new": 1}
    assert RunHistory.from_dict(data).seed == 3


def test_names_and_summary():
    assert make_history("response").name == "masked"
    assert make_history("none").name == "unmasked"
    assert "held-out response loss 1.500" in make_history().summary()
    shared = RunHistory.from_dict(make_history().to_dict() | {"world_size": 2, "batch_size": 8})
    assert " on 2 processes (cpu), 8 examples each in " in shared.summary()
    assert " on cpu in " in make_history().summary()


def test_missing_or_broken_history_is_a_course_error(tmp_path):
    with pytest.raises(CourseError, match="No run history"):
        RunHistory.load(tmp_path)
    (tmp_path / "history.json").write_text("{not json")
    with pytest.raises(CourseError, match="not a run history"):
        RunHistory.load(tmp_path)


def test_a_history_of_another_course_version_loads_or_is_one_sentence(tmp_path):
    """The first course's history.json (no template, eval_data, freeze...) loads as it is; one
    whose JSON is not an object, or whose field has another kind (a newer course's, or edited
    by hand) is named in one sentence, not an AttributeError or a crash in a plot later."""
    first = ["model", "masking", "seed", "max_steps", "learning_rate", "batch_size", "device",
             "lora", "data", "label", "steps_done", "wall_time_s", "warnings", "versions",
             "train_steps", "train_loss", "eval_steps", "eval_loss", "eval_accuracy"]
    path = tmp_path / "history.json"
    path.write_text(json.dumps({k: make_history().to_dict()[k] for k in first} | {"label": None}))
    old = RunHistory.load(path)
    assert (old.template, old.freeze, old.label) == ("", [], "")
    assert old.summary().startswith("masked: 0 steps of tiny on cpu in 0.0 s; held-out ")
    for text, said in (("[]", "it holds a JSON list, not an object"),
                       ('{"train_loss": "2.5"}', "its train_loss is \"2.5\", not a list"),
                       ('{"seed": true}', "its seed is true, not a whole number")):
        path.write_text(text)
        with pytest.raises(CourseError, match=rf"^{path} is not a run history \({said}\); "):
            RunHistory.load(path)


def test_the_held_out_set_is_named_in_the_summary_and_on_the_plot():
    from course_lib.training.plots import plot_history

    h = make_history()
    h.eval_data = "4 rows held out of mine.json (seed 0)"
    assert h.summary().endswith("accuracy 50.0% on 4 rows held out of mine.json (seed 0)")
    legend = plot_history(h).axes[0].get_legend()
    assert any(t.get_text().endswith("on 4 rows held out of mine.json (seed 0)")
               for t in legend.get_texts())
    assert RunHistory.from_json(h.to_json()).eval_data == h.eval_data
