"""Human review: keys, the ratings file, the sheet, the terminal, and agreement with metrics."""

import io
import json

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.display import display
from IPython.utils.capture import capture_output
from scipy.stats import spearmanr

from course_lib.errors import CourseError
from course_lib.evaluation.review import (
    disagreements,
    first_unrated,
    item_key,
    load_ratings,
    metric_agreement,
    parse_keys,
    review_in_terminal,
    rubric_rating,
    rubric_ratings,
    save_rating,
)
from course_lib.evaluation.review_sheet import ReviewSheet

CLEAN = {"answered": True, "stopped": True, "no_template_leak": True, "length_ok": True}


def item(i, response, reference="4", em=None, rouge=0.0, **checks):
    row = {"model": "m", "where": f"row {i}", "template": "one_line", "instruction": f"Q{i}?",
           "input": "", "response": response, "reference": reference, "kind": "add",
           "exact_match": response == reference if em is None else em,
           "first_answer_correct": response.startswith(str(reference)), "rouge_l": rouge,
           "checks": {**CLEAN, **checks}}
    return {**row, "key": item_key(row)}


ITEMS = [item(0, "4", rouge=1.0), item(1, "5", rouge=0.0), item(2, "4 4 4", rouge=0.5),
         item(3, "What is 2+2?", rouge=0.2, answered=False, stopped=False)]


def test_keys():
    assert parse_keys("4") == (4, [])
    assert parse_keys(" 1 W s ") == (1, ["wrong", "didn't stop"])
    assert parse_keys("2ww") == (2, ["wrong"])
    for bad in ("", "6", "0", "x", "3 z", "w 3"):
        with pytest.raises(CourseError, match="not a rating"):
            parse_keys(bad)
    # Which key is wrong, said first (was: the keys there are, and nothing about which).
    with pytest.raises(CourseError, match=r"^'3 wz' is not a rating \('z' is no flag\); type"):
        parse_keys("3 wz")
    with pytest.raises(CourseError, match=r"^'w 3' is not a rating \(it must start with a "
                                          r"rating 1-5\)"):
        parse_keys("w 3")


def test_item_key_changes_with_the_response():
    assert item_key(ITEMS[0]) != item_key({**ITEMS[0], "response": "5"})
    assert item_key(ITEMS[0]) == item_key(dict(ITEMS[0]))


def test_ratings_file_appends_and_the_last_rating_wins(tmp_path):
    path = tmp_path / "sub" / "ratings.jsonl"
    assert load_ratings(path) == {}
    save_rating(path, ITEMS[0], 2, ["wrong"])
    save_rating(path, ITEMS[0], 5, [])
    assert len(path.read_text().splitlines()) == 2
    record = load_ratings(path)[ITEMS[0]["key"]]
    assert (record["rating"], record["flags"], record["response"]) == (5, [], "4")
    with pytest.raises(CourseError):
        save_rating(path, ITEMS[0], 6, [])
    with path.open("a") as f:
        f.write("not json\n")
    with pytest.raises(CourseError, match="line 3"):
        load_ratings(path)


def test_first_unrated_is_the_first_item_without_a_rating_and_past_the_end_when_all_are():
    rated = {it["key"]: {"rating": 3} for it in ITEMS[:2]}
    assert first_unrated(ITEMS, {}) == 0
    assert first_unrated(ITEMS, rated) == 2
    everything = {it["key"]: {"rating": 3} for it in ITEMS}
    assert first_unrated(ITEMS, everything) == len(ITEMS)  # none left: not the last item


@pytest.mark.parametrize(("rating", "flags"), [(0, []), (6, []), (3, ["slow"])])
def test_a_rating_outside_1_to_5_or_an_unknown_flag_is_refused_and_nothing_is_saved(
        tmp_path, rating, flags):
    path = tmp_path / "ratings.jsonl"
    with pytest.raises(CourseError, match="Rate 1-5 with flags from"):
        save_rating(path, ITEMS[0], rating, flags)
    assert not path.exists()
    for edge in (1, 5):  # both ends of the scale are ratings
        assert save_rating(path, ITEMS[0], edge, ["wrong"])["rating"] == edge


def test_a_file_that_is_not_ratings_is_named_so_and_left_unchanged(tmp_path):
    questions = tmp_path / "alp_copy.jsonl"  # `course review --out` given the questions
    text = ('{"instruction": "What is 2+2?", "output": "4"}\n'
            '{"instruction": "Hi", "output": "Hello."}\n')
    questions.write_text(text)
    with pytest.raises(CourseError) as info:
        load_ratings(questions)
    assert str(info.value) == (f"'{questions}' is not a ratings file (its first line has the "
                               f"fields [instruction, output]), so it is left as it is; choose "
                               f"another path for the ratings.")
    assert info.value.cli.endswith("choose another --out for the ratings.")
    assert "delete" not in info.value.cli and questions.read_text() == text
    (tmp_path / "model.bin").write_bytes(b"\x80\x81\xfe")  # not even text
    with pytest.raises(CourseError, match=r"model.bin' is not a ratings file \(it is not text"):
        load_ratings(tmp_path / "model.bin")
    with pytest.raises(CourseError) as folder:  # a folder: a file in it, not IsADirectoryError
        load_ratings(tmp_path)
    assert folder.value.cli == (f"'{tmp_path}' is a folder, not a ratings file; give a file in "
                                f"it, e.g. --out {tmp_path / 'ratings.jsonl'}.")


def test_sheet_saves_after_every_rating_and_resumes(tmp_path):
    path = tmp_path / "ratings.jsonl"
    sheet = ReviewSheet(ITEMS, path)
    assert sheet.position == 0 and sheet.progress.value == 0
    sheet.rate(5)
    assert len(path.read_text().splitlines()) == 1  # saved at once, not at the end
    type_keys(sheet, "1 w", enter=True)
    assert sheet.keys.value == "" and len(load_ratings(path)) == 2
    sheet.submit_keys("nonsense")  # explained, not saved
    assert len(load_ratings(path)) == 2 and "not a rating" in sheet.status.value
    assert sheet.position == 2 and sheet.progress.value == 2
    # The mouse way: tick a flag and a rating, then press the button.
    sheet.stars.value, sheet.flags["off-format"].value = 3, True
    sheet._save_from_buttons()
    assert load_ratings(path)[ITEMS[2]["key"]]["flags"] == ["off-format"]
    resumed = ReviewSheet(ITEMS, path)
    assert resumed.position == 3 and "item 4 of 4" in resumed.status.value
    resumed.rate(1, ["wrong", "didn't stop"])
    assert resumed.rated == 4 and "all rated" in resumed.status.value
    with pytest.raises(CourseError, match="Every item is rated"):
        resumed.rate(3)


def type_keys(sheet, text, enter=False):
    """What the key box's front end sends: the text as it grows, then Enter's 'submit'."""
    for end in range(1, len(text) + 1):
        sheet.keys.value = text[:end]
    if enter:
        sheet.keys._handle_custom_msg({"event": "submit"}, [])


def test_keys_typed_are_saved_before_enter_and_enter_moves_on(tmp_path):
    # A learner who typed "2 w" and closed the tab (or ran the next cell) without Enter or
    # leaving the box lost the rating: the box sent its text on blur only.
    path = tmp_path / "ratings.jsonl"
    sheet = ReviewSheet(ITEMS, path)
    assert sheet.keys.continuous_update  # the front end sends every keystroke
    type_keys(sheet, "2 w")
    assert load_ratings(path)[ITEMS[0]["key"]]["flags"] == ["wrong"]  # saved, no Enter yet
    assert sheet.position == 0 and sheet.keys.value == "2 w"  # still typing this item
    assert sheet.stars.value == 2 and sheet.flags["wrong"].value  # the rating shows
    type_keys(sheet, "2 wx")  # half-typed nonsense: not saved, not yet scolded
    assert load_ratings(path)[ITEMS[0]["key"]]["flags"] == ["wrong"]
    assert "not a rating" not in sheet.status.value
    sheet.keys._handle_custom_msg({"event": "submit"}, [])  # Enter: now it is explained
    assert "not a rating" in sheet.status.value and sheet.position == 0
    type_keys(sheet, "3", enter=True)
    assert sheet.position == 1 and sheet.keys.value == ""
    assert load_ratings(path)[ITEMS[0]["key"]]["rating"] == 3  # the last one typed wins


def test_the_status_line_is_a_live_region_a_screen_reader_announces(tmp_path):
    # "saved: 4" or a typo's explanation changed on the page but was never read out.
    from html.parser import HTMLParser

    class Regions(HTMLParser):
        def __init__(self):
            super().__init__()
            self.found = []  # (aria-live, where) of each element with role="status"

        def handle_starttag(self, tag, attrs):
            if dict(attrs).get("role") == "status":
                self.found.append((dict(attrs).get("aria-live"), self.getpos()))

    sheet = ReviewSheet(ITEMS, tmp_path / "r.jsonl")
    sheet.submit_keys("4")
    regions = Regions()
    regions.feed(sheet.status.value)
    assert regions.found == [("polite", (1, 0))]  # one region, wrapping the whole line
    assert sheet.status.value.endswith("</div>") and "saved: 4" in sheet.status.value


def test_a_rating_that_cannot_be_saved_is_said_on_the_sheet_not_lost_in_the_log(tmp_path):
    # A widget callback's exception goes to JupyterLab's Log Console: the click seemed to work.
    (tmp_path / "taken").write_text("a file where the folder should be")
    path = tmp_path / "taken" / "ratings.jsonl"
    with pytest.raises(CourseError, match=r"could not be saved to .*taken/ratings.jsonl"):
        save_rating(path, ITEMS[0], 4, [])
    sheet = ReviewSheet(ITEMS, path)
    sheet.stars.value = 4
    sheet._save_from_buttons()  # raised nothing: the sentence is on the sheet
    assert "could not be saved" in sheet.status.value and sheet.rated == 0
    sheet.submit_keys("5")
    assert "could not be saved" in sheet.status.value and sheet.position == 0


def test_the_sheet_wraps_its_rows_for_a_zoomed_page(tmp_path):
    # At 200% zoom JupyterLab's output is ~270 px wide: a row that does not wrap hid the flags
    # after "incomplete" (a keyboard user tabbed to boxes off the edge) and cut "Save and next".
    import ipywidgets as widgets

    def rows(box):
        for child in box.children:
            if isinstance(child, widgets.Box):
                yield child
                yield from rows(child)

    sheet = ReviewSheet(ITEMS, tmp_path / "r.jsonl")
    found = [row for row in rows(sheet.widget) if isinstance(row, widgets.HBox)]
    assert len(found) == 3 and all(row.layout.flex_flow == "row wrap" for row in found)
    assert sheet.keys.layout.width == "100%"  # the key box, 300 px fixed, ran past the edge


def test_sheet_goes_back_to_a_skipped_item(tmp_path):
    sheet = ReviewSheet(ITEMS[:3], tmp_path / "r.jsonl")
    sheet.move(+1)
    sheet.rate(4)  # item 1
    sheet.rate(4)  # item 2
    assert sheet.position == 0  # the skipped first item is next
    assert sheet.stars.value is None
    sheet.move(+1)
    assert sheet.stars.value == 4  # a rated item shows its rating


def test_sheet_displays_as_a_widget(tmp_path):
    # What a notebook does with `sheet` as a cell's last line, with ipywidgets 8 here and
    # Colab's 7.7 (tests/test_colab_install.py runs this file against it).
    shell = InteractiveShell.instance()
    try:
        with capture_output() as shown:
            display(ReviewSheet(ITEMS[:1], tmp_path / "r.jsonl"))
    finally:
        shell.clear_instance()
    assert [sorted(out.data) for out in shown.outputs] == [
        ["application/vnd.jupyter.widget-view+json", "text/plain"]]


def test_terminal_review_reads_keys_and_resumes(tmp_path):
    path, out = tmp_path / "ratings.jsonl", io.StringIO()
    # Rate, mistype, rate, skip the third, rate the fourth.
    rated = review_in_terminal(ITEMS, path, io.StringIO("5\nbad\n1 w\nn\n2\n"), out)
    assert rated == 3
    ratings = load_ratings(path)
    assert [ratings.get(i["key"], {}).get("rating") for i in ITEMS] == [5, 1, None, 2]
    assert "not a rating" in out.getvalue() and "Q0?" in out.getvalue()
    out = io.StringIO()
    assert review_in_terminal(ITEMS, path, io.StringIO("q\n"), out) == 0
    assert review_in_terminal(ITEMS, path, io.StringIO(""), out) == 0  # end of input
    assert review_in_terminal(ITEMS, path, io.StringIO("3 o\n"), out) == 1
    assert "3 of 4 already rated" in out.getvalue() and "Q2?" in out.getvalue()
    assert len(load_ratings(path)) == 4
    # The same file for other answers (another model's): its ratings are kept, and said.
    out = io.StringIO()
    assert review_in_terminal(ITEMS[1:2], path, io.StringIO(""), out) == 0
    assert out.getvalue().startswith(f"1 of 1 already rated in {path} (it also holds 3 "
                                     f"ratings of other answers);")


def test_rubric_demo_ratings():
    assert rubric_rating(ITEMS[0]) == (5, [])
    assert rubric_rating(ITEMS[1]) == (2, ["wrong"])
    assert rubric_rating(item(5, "4 4 4", length_ok=False)) == (3, ["off-format"])
    assert rubric_rating(ITEMS[3]) == (1, ["wrong", "didn't stop", "off-format"])
    assert rubric_rating(item(6, "cat", reference="4")) == (1, ["wrong"])
    assert all(r["rater"].startswith("demo") for r in rubric_ratings(ITEMS).values())


def test_agreement_is_scipys_spearman_and_constant_metrics_are_not_ranked(tmp_path):
    path = tmp_path / "r.jsonl"
    for it, rating in zip(ITEMS, [5, 1, 4, 2], strict=True):
        save_rating(path, it, rating, [])
    ratings = load_ratings(path)
    result = metric_agreement(ratings, ITEMS, metrics=("rouge_l", "adherence_free"))
    rho = spearmanr([5, 1, 4, 2], [1.0, 0.0, 0.5, 0.2]).statistic
    assert result.by_metric["rouge_l"].rho == pytest.approx(rho)
    assert result.by_metric["rouge_l"].n == 4
    assert result.by_metric["adherence_free"] is None  # no item has that score
    same = [{**it, "rouge_l": 0.3} for it in ITEMS]
    assert metric_agreement(ratings, same, metrics=("rouge_l",)).by_metric["rouge_l"] is None
    assert "not measurable" in str(metric_agreement(ratings, same, metrics=("rouge_l",)))
    # Human ranks 4, 1, 3, 2; exact match ranks 4, 2, 2, 2 (three ties at 0): "5" (rated 1)
    # is ranked one place too high by the metric, "4 4 4" (rated 4) one place too low.
    gaps = {r["response"]: r["rank_gap"] for r in disagreements(ratings, ITEMS, "exact_match",
                                                                   k=2)}
    assert gaps == {"5": 1.0, "4 4 4": -1.0}
    with pytest.raises(CourseError):
        metric_agreement({}, ITEMS)
    json.dumps(result.by_metric["rouge_l"].__dict__)


def test_agreement_needs_three_rated_items_with_a_score(tmp_path):
    path = tmp_path / "r.jsonl"
    for it, rating in zip(ITEMS[:3], [5, 1, 4], strict=True):
        save_rating(path, it, rating, [])
    three = load_ratings(path)
    two = {k: r for k, r in three.items() if k != ITEMS[2]["key"]}  # ratings 5 and 1
    # Two items that differ on both sides would always be rho = +-1: not a measurement.
    result = metric_agreement(two, ITEMS, metrics=("rouge_l",))
    assert result.by_metric["rouge_l"] is None and "not measurable" in str(result)
    rho = spearmanr([5, 1, 4], [1.0, 0.0, 0.5]).statistic
    assert metric_agreement(three, ITEMS, metrics=("rouge_l",)).by_metric[
        "rouge_l"].rho == pytest.approx(rho)


def test_an_answer_is_keyed_by_its_model_question_template_and_response():
    key = item_key(ITEMS[0])
    for field, other in (("model", "m2"), ("where", "row 9"), ("template", "qa"),
                         ("response", "5")):
        assert item_key({**ITEMS[0], field: other}) != key, field  # a rating sticks to one
    assert item_key({**ITEMS[0], "rouge_l": 0.0}) == key  # scores are not part of the answer


def test_the_rubric_gives_a_right_but_too_long_answer_4_not_5():
    assert rubric_rating(item(0, "4")) == (5, [])
    assert rubric_rating(item(0, "4", length_ok=False)) == (4, [])


def test_items_and_metrics_in_other_containers_give_the_list_result(tmp_path):
    # metric_agreement read a generator of items once per metric: the first metric got every
    # item, the others none, "not measurable" without a word; one metric's name was read
    # letter by letter ('r', 'o', ...). review_in_terminal(generator) had no len().
    import pandas as pd

    path = tmp_path / "r.jsonl"
    for it, rating in zip(ITEMS, [5, 1, 4, 2], strict=True):
        save_rating(path, it, rating, [])
    ratings = load_ratings(path)
    want = str(metric_agreement(ratings, ITEMS, metrics=("exact_match", "rouge_l")))
    assert "not measurable" not in want
    assert str(metric_agreement(ratings, (i for i in ITEMS),
                                metrics=iter(["exact_match", "rouge_l"]))) == want
    one = metric_agreement(ratings, ITEMS, metrics="rouge_l").by_metric
    assert list(one) == ["rouge_l"] and one["rouge_l"] is not None
    assert disagreements(ratings, pd.DataFrame(ITEMS), "rouge_l") == disagreements(
        ratings, ITEMS, "rouge_l")
    assert rubric_ratings(iter(ITEMS)) == rubric_ratings(pd.DataFrame(ITEMS)) == rubric_ratings(
        ITEMS)
    out = io.StringIO()
    assert review_in_terminal((i for i in ITEMS), tmp_path / "new.jsonl", io.StringIO("5\n"),
                              out) == 1
    assert out.getvalue().startswith("0 of 4 already rated")


def test_one_model_named_as_a_string_and_a_sheet_of_a_dataframe(tmp_path):
    # review_items(report, "masked") looked up 'm', 'a', ... as models (a KeyError); a sheet of
    # a DataFrame raised "truth value is ambiguous".
    from types import SimpleNamespace

    import pandas as pd

    from course_lib.evaluation.review import review_items

    report = SimpleNamespace(rows={"masked": ITEMS, "unmasked": ITEMS[:1]},
                             models=["masked", "unmasked"])
    assert {i["model"] for i in review_items(report, "masked")} == {"masked"}
    assert len(review_items(report, iter(["unmasked"]))) == 1
    assert ReviewSheet(pd.DataFrame(ITEMS), tmp_path / "r.jsonl").items == ITEMS
