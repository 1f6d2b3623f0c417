"""Medians, spreads and verdicts; the table, the figure and the JSON of an experiment's result."""

import json
from dataclasses import replace

import pytest
from matplotlib.colors import to_hex

from course_lib.display import PALETTE, CourseFigure, figure_alt
from course_lib.errors import CourseError
from course_lib.experiments.catalogue import EXPERIMENTS
from course_lib.experiments.design import (
    ADHERENCE,
    EXACT_MATCH,
    LEAK,
    SECONDS,
    UNSEEN,
    Arm,
    ArmRun,
    Metric,
    rate,
)
from course_lib.experiments.result import ExperimentResult

COLLATOR = EXPERIMENTS["wrong-collator"]


def run(right: int, of: int = 10, leaks: int = 0, seconds: float = 1.0) -> ArmRun:
    rows = [{"reference": "4", "exact_match": i < right, "seen": False, "template": "one_line",
             "response": "4" if i < right else "5", "instruction": f"q{i}", "input": "",
             "style": "casual", "checks": {"no_template_leak": i >= leaks, "answered": True}}
            for i in range(of)]
    return ArmRun(rows, statements=[True, False], train_seconds=seconds)


def result(base: list[int], variant: list[int], leaks=(0, 0, 0)) -> ExperimentResult:
    runs = {"response only": [run(k) for k in base],
            "every token": [run(k, leaks=n) for k, n in zip(variant, leaks, strict=True)]}
    return ExperimentResult(COLLATOR, list(COLLATOR.arms), [0, 1, 2], 40, "tiny", runs,
                            base_statements=[True, True])


def test_overlapping_ranges_are_no_difference():
    r = result([5, 6, 7], [6, 7, 8])
    v = r.verdict("every token", EXACT_MATCH)
    assert (v.baseline.median, v.variant.median) == (0.6, 0.7)
    assert v.within_spread and v.better is None
    assert "within the spread over seeds: no difference measured" in str(v)


def test_separate_ranges_are_better_or_worse_in_the_metric_direction():
    r = result([5, 6, 6], [8, 9, 8], leaks=(2, 3, 2))
    assert r.verdict("every token", EXACT_MATCH).better is True
    leak = r.verdict("every token", LEAK)  # more leaks: higher, and worse
    assert leak.difference > 0 and leak.better is False
    assert "worse, beyond the spread over seeds" in str(leak)
    # The difference in answers too: 0.20 of 10 is two answers, the scale a rate hides.
    assert str(leak).endswith("0.00 -> 0.20 (+0.20, 2 of 10): worse, beyond the spread over seeds")


def test_medians_that_round_alike_but_differ_get_a_third_decimal():
    # Was: "0.00 -> 0.00 (+0.00, 1 of 300): worse, beyond the spread over seeds".
    runs = {"response only": [run(200, of=300) for _ in range(3)],
            "every token": [run(200, of=300, leaks=1) for _ in range(3)]}
    r = ExperimentResult(COLLATOR, list(COLLATOR.arms), [0, 1, 2], 40, "tiny", runs)
    assert str(r.verdict("every token", LEAK)).endswith(
        "0.000 -> 0.003 (+0.003, 1 of 300): worse, beyond the spread over seeds")
    assert ": 0.67 -> 0.67 (+0.00, 0 of 300): within" in str(r.verdict("every token",
                                                                        EXACT_MATCH))


def test_a_time_beyond_the_spread_is_said_to_move_with_the_machine():
    runs = {"response only": [run(5, seconds=s) for s in (2.0, 2.1, 2.2)],
            "every token": [run(5, seconds=s) for s in (1.5, 1.6, 1.4)]}
    r = ExperimentResult(COLLATOR, list(COLLATOR.arms), [0, 1, 2], 40, "tiny", runs)
    said = str(r.verdict("every token", SECONDS))
    assert said.endswith("2.10 -> 1.50 (-0.60): better, beyond the spread over seeds (a time: "
                         "it moves with the machine's load; time it alone)")
    # Another number of one's own (an answer's mean length) is no time: it was told it was.
    length = Metric("length", "answer length (words)", lambda arm_run: arm_run.train_seconds)
    assert str(r.verdict("every token", length)).endswith(
        "2.10 -> 1.50 (-0.60): worse, beyond the spread over seeds")


def test_one_seed_is_never_called_a_difference():
    runs = {"response only": [run(2)], "every token": [run(9)]}
    r = ExperimentResult(COLLATOR, list(COLLATOR.arms), [0], 40, "tiny", runs)
    v = r.verdict("every token", EXACT_MATCH)
    assert v.better is None and "one seed only" in str(v)


def test_the_table_shows_median_range_and_count_per_arm():
    text = result([5, 6, 7], [6, 7, 9]).table()
    assert "3 seeds (0, 1, 2), 40 steps each" in text
    assert "exact match (n=10)" in text
    assert "0.60 (0.50-0.70)" in text and "0.70 (0.60-0.90)" in text
    assert text.count("- every token vs response only") == len(COLLATOR.metrics)


def test_the_figure_has_a_panel_per_metric_and_a_dot_per_seed():
    fig = result([5, 6, 7], [6, 7, 9]).to_figure()
    assert isinstance(fig, CourseFigure)
    assert '<img src="data:image/png;base64,' in fig._repr_mimebundle_()["text/html"]
    axes = fig.axes
    assert len(axes) == len(COLLATOR.metrics)
    dots = [len(c.get_offsets()) for c in axes[0].collections if hasattr(c, "get_offsets")
            and len(c.get_offsets()) == 3]
    assert dots == [3, 3]  # each arm: one dot per seed
    # A screen reader hears which bar is which arm (the alt text a notebook shows it with).
    alt = figure_alt(fig)
    assert "x labels: response only, every token" in alt
    assert "3 seeds per arm (dots), 40 steps" in alt
    # ...and what each arm scored: the medians in the order of the arms, then each seed.
    assert "bars: 0.6, 0.7; dots: 0.5 0.6 0.7; 0.6 0.7 0.9." in alt



def test_four_panels_make_two_rows_a_notebook_wide_with_their_units(layout_faults):
    forgetting = EXPERIMENTS["forgetting"]  # four arms with long names, four metrics
    runs = {arm.name: [run(k, seconds=10 + k) for k in (4, 6, 5)] for arm in forgetting.arms}
    fig = ExperimentResult(forgetting, list(forgetting.arms), [0, 1, 2], 40, "tiny",
                           runs).to_figure()
    # In one row the figure was 13.4 inches: Colab's ~800 px column shrank its text to 5 px.
    assert fig.get_size_inches()[0] <= 10
    assert len(fig.axes) == 4 and layout_faults(fig) == []
    # Each y-axis says what it counts: a share of answers, or the metric's own unit.
    assert [ax.get_ylabel() for ax in fig.axes] == ["share of answers (0-1)"] * 3 + [
        "training time (s)"]
    five = replace(COLLATOR, metrics=(*COLLATOR.metrics, SECONDS))  # a grid of 2 x 3
    spare = ExperimentResult(five, list(five.arms), [0], 40, "tiny", {
        arm.name: [run(5)] for arm in five.arms})
    assert len(spare.to_figure().axes) == 5  # not a sixth, blank panel


def test_the_arms_take_the_colour_blind_safe_palette():
    fig = result([5, 6, 7], [6, 7, 9]).to_figure()
    dots = [c for c in fig.axes[0].collections if len(c.get_offsets()) == 3]
    assert [to_hex(d.get_facecolor()[0]) for d in dots] == [p.lower() for p in PALETTE[:2]]


def test_the_untuned_models_statement_knowledge_is_a_line_to_compare_with():
    forgetting = EXPERIMENTS["forgetting"]
    runs = {arm.name: [run(5)] for arm in forgetting.arms}
    fig = ExperimentResult(forgetting, list(forgetting.arms), [0], 40, "tiny", runs,
                           base_statements=[True, True, True, False]).to_figure()
    statements = fig.axes[0]  # the table's "(the base model, untuned)" row, drawn
    # Named in the title, not by a label over the plot, where it hid dots near the line.
    assert statements.get_title().endswith("(dashed line: untuned model)")
    assert not statements.texts
    assert [list(line.get_ydata()) for line in statements.lines] == [[0.75, 0.75]]
    assert not any(ax.lines for ax in fig.axes[1:])

def test_the_json_has_every_seed_value_and_the_texts():
    data = json.loads(json.dumps(result([5, 6, 7], [6, 7, 9]).to_dict()))
    assert data["hypothesis"] == COLLATOR.hypothesis
    assert data["metrics"]["exact_match"]["arms"]["every token"]["values"] == [0.6, 0.7, 0.9]
    assert data["metrics"]["exact_match"]["n"] == 10  # answers one value counts
    assert data["metrics"]["exact_match"]["arms"]["every token"] == {
        "values": [0.6, 0.7, 0.9], "median": 0.7, "low": 0.6, "high": 0.9, "seeds": 3}
    assert data["base_statement_knowledge"] == 1.0
    assert len(data["verdicts"]) == len(COLLATOR.metrics)


def test_answers_put_the_arms_side_by_side():
    table = result([5, 6, 7], [6, 7, 9]).answers(limit=3)
    assert table.columns == ["instruction", "response only", "every token", "reference"]
    assert table.rows()[0][0] == "[casual] q0"


def test_metrics_used_by_the_fixture_are_all_measured():
    r = result([5, 6, 7], [6, 7, 9])
    for metric in (EXACT_MATCH, UNSEEN, ADHERENCE, LEAK):
        assert len(r.values(metric)["every token"]) == 3


def test_cached_runs_count_every_seed_of_every_arm():
    r = result([5, 6, 7], [6, 7, 9])
    for arm, seed in (("response only", 1), ("response only", 2), ("every token", 2)):
        r.runs[arm][seed].cached = True
    assert r.cached_runs == 3 and r.to_dict()["cached_runs"] == 3


def test_answers_show_one_template_and_a_dash_for_no_reference():
    """Rows asked in another template are left out; a question without a reference shows '-'."""
    r = result([5, 6, 7], [6, 7, 9])
    for runs in r.runs.values():
        for arm_run in runs:
            for i, row in enumerate(arm_run.rows):
                row["template"] = "one_line" if i % 2 == 0 else "qa"
                row["reference"] = None if i == 2 else row["reference"]
    table = r.answers(limit=None)
    assert [row[0] for row in table.rows()] == [f"[casual] q{i}" for i in (0, 2, 4, 6, 8)]
    assert table.answers["reference"] == ["4", "-", "4", "4", "4"]
    qa = r.answers(limit=None, template="qa")
    assert [row[0] for row in qa.rows()] == [f"[casual] q{i}" for i in (1, 3, 5, 7, 9)]


def test_answers_of_an_arm_it_does_not_have_lists_its_arms():
    with pytest.raises(CourseError, match=r"no arm called 'every tokn'; its arms: "
                                          r"'response only', 'every token'"):
        result([5, 6, 7], [6, 7, 9]).answers(arm="every tokn")  # was KeyError: 'every tokn'


def test_answers_in_a_template_no_answer_is_in_names_the_ones_there():
    # template="human-assistant" (a hyphen, not an underscore) was an empty table.
    with pytest.raises(CourseError, match=r"No answer is in the template 'human-assistant'; "
                                          r"these answers are in 'one_line'"):
        result([5, 6, 7], [6, 7, 9]).answers(template="human-assistant")


def test_answers_keep_with_a_misspelt_field_lists_a_rows_fields():
    with pytest.raises(CourseError, match=r"keep looked up 'kindd', which a row does not have; "
                                          r"a row has reference, exact_match, "):
        result([5, 6, 7], [6, 7, 9]).answers(lambda r: r["kindd"] == "add")  # was KeyError


def test_answers_keep_must_be_a_function():
    with pytest.raises(CourseError, match=r"keep must be a function of a row, such as "):
        result([5, 6, 7], [6, 7, 9]).answers("spanish")  # was "'str' object is not callable"


def test_an_arm_or_metric_it_does_not_have_is_named_and_a_key_names_a_metric():
    r = result([5, 6, 7], [6, 7, 9])
    for ask in (lambda: r.verdict("every tokn", EXACT_MATCH),  # were KeyError: 'every tokn'
                lambda: r.spread("every tokn", EXACT_MATCH)):
        with pytest.raises(CourseError, match=r"^This experiment has no arm called "
                                              r"'every tokn'; its arms: 'response only', "):
            ask()
    # A metric's key, as the JSON names it, is the metric (was "'str' has no attribute").
    assert r.values("exact_match") == r.values(EXACT_MATCH)
    assert str(r.verdict("every token", "exact_match")) == str(r.verdict("every token",
                                                                         EXACT_MATCH))
    with pytest.raises(CourseError, match=r"^metric must be a Metric .* or the key of one of "
                                          r"this experiment's: exact_match, unseen_exact_match"
                                          r", adherence_all, template_leak; not the string "
                                          r"'exact'\.$"):
        r.verdict("every token", "exact")


def test_answers_of_a_seed_it_does_not_have_says_which_it_has():
    with pytest.raises(CourseError, match=r"^seed_index is the position of a seed in "
                                          r"\[0, 1, 2\]: 0 to 2, not 3\.$"):
        result([5, 6, 7], [6, 7, 9]).answers(seed_index=3)  # was IndexError


def test_one_seed_and_one_panel_the_title_fits_and_says_there_is_no_range(layout_faults):
    one = replace(COLLATOR, metrics=(EXACT_MATCH,))
    fig = ExperimentResult(one, list(one.arms), [0], 40, "tiny",
                           {arm.name: [run(5)] for arm in one.arms}).to_figure()
    # The title ran past both edges of a one-panel figure, and named a range one seed lacks.
    assert layout_faults(fig) == []
    title = " ".join(fig._suptitle.get_text().split())
    assert "no range with one seed" in title and "vertical line = range" not in title


def test_an_optional_arm_left_out_is_said_under_the_table():
    arms = (*COLLATOR.arms, Arm("again", "as the baseline", optional=True))
    three = replace(COLLATOR, arms=arms)
    runs = {"response only": [run(5)], "every token": [run(6)]}
    text = ExperimentResult(three, list(COLLATOR.arms), [0], 40, "tiny", runs).table()
    assert text.endswith("(left out, as optional arms that train exactly like another arm: "
                         "'again')")
    assert "left out" not in result([5, 6, 7], [6, 7, 9]).table()


def test_the_notebook_table_says_what_came_from_the_cache_and_what_was_left_out():
    # Under print() only: a cell run again showed "in 0 s" and nothing of why.
    arms = (*COLLATOR.arms, Arm("again", "as the baseline", optional=True))
    runs = {"response only": [run(5)], "every token": [replace(run(6), cached=True)]}
    page = ExperimentResult(replace(COLLATOR, arms=arms), list(COLLATOR.arms), [0], 40, "tiny",
                            runs)._repr_html_()
    assert page.endswith("</ul><p>(left out, as optional arms that train exactly like another "
                         "arm: &#x27;again&#x27;)</p><p>(1 of 2 runs read from the cache)</p>")


# A metric of one's own that counts different answers per arm and seed: exact match over the
# answers an arm gave at all (an empty answer is not counted).
ANSWERED_RIGHT = Metric("answered_right", "right when answered", lambda run: rate(
    [r for r in run.rows if r["checks"]["answered"]], lambda r: r["exact_match"]))


def answered(right: int, gave: int, of: int = 10) -> ArmRun:
    """`right` right answers, `gave` answers at all (the rest empty), of `of` questions."""
    arm_run = run(right, of)
    for i, row in enumerate(arm_run.rows):
        row["checks"]["answered"] = i < gave
    return arm_run


def own_metric_result() -> ExperimentResult:
    """The baseline and 'same count' answer every question; 'every token' 5 or 6 of 10."""
    arms = (*COLLATOR.arms, Arm("same count", "learning_rate=1e-3", learning_rate=1e-3))
    mine = replace(COLLATOR, arms=arms, metrics=(EXACT_MATCH, ANSWERED_RIGHT))
    runs = {"response only": [answered(4, 10), answered(5, 10), answered(4, 10)],
            "every token": [answered(4, 5), answered(4, 6), answered(4, 5)],
            "same count": [answered(k, 10) for k in (8, 8, 9)]}
    return ExperimentResult(mine, list(arms), [0, 1, 2], 40, "tiny", runs)


def test_a_metric_that_counts_different_answers_per_arm_says_each_arms_count():
    r = own_metric_result()
    assert r.counts(ANSWERED_RIGHT) == {"response only": [10] * 3, "every token": [5, 6, 5],
                                        "same count": [10] * 3}
    assert r.counted(ANSWERED_RIGHT) is None and r.counted(EXACT_MATCH) == 10
    # Was "right when answered (n=10)" over every arm: 'every token' counts 5 or 6 answers.
    text = r.table()
    row = next(line for line in text.splitlines() if line.startswith("right when answered"))
    assert row.split() == ["right", "when", "answered", "(n", "per", "arm)", "0.40",
                           "(0.40-0.50),", "n=10", "0.80", "(0.67-0.80),", "n=5-6", "0.80",
                           "(0.80-0.90),", "n=10"]
    assert "exact match (n=10)  " in text  # a metric whose counts agree reads as before
    assert "<td style='text-align:left'>0.80 (0.67-0.80), n=5-6</td>" in r._repr_html_()
    # "x of n" only where both arms count the same answers; else both counts, and no time note.
    assert str(r.verdict("every token", ANSWERED_RIGHT)).endswith(
        "0.40 -> 0.80 (+0.40; n=10 -> 5-6): better, beyond the spread over seeds")
    assert str(r.verdict("same count", ANSWERED_RIGHT)).endswith(
        "0.40 -> 0.80 (+0.40, 4 of 10): better, beyond the spread over seeds")
    verdict = r.verdict("every token", ANSWERED_RIGHT)
    assert verdict.n is None and verdict.counts == ((10, 10, 10), (5, 6, 5))


def test_the_json_and_the_figure_of_a_metric_with_different_counts_say_them(layout_faults):
    r = own_metric_result()
    data = json.loads(json.dumps(r.to_dict()))["metrics"]
    # The metric's "n" was 10 (the baseline's first seed); each arm now lists its seeds'.
    assert data["answered_right"]["n"] is None
    assert data["answered_right"]["arms"]["every token"] == {
        "values": [0.8, 4 / 6, 0.8], "median": 0.8, "low": 4 / 6, "high": 0.8, "seeds": 3,
        "n": [5, 6, 5]}
    assert data["answered_right"]["arms"]["response only"]["n"] == [10, 10, 10]
    assert data["exact_match"]["n"] == 10 and "n" not in data["exact_match"]["arms"]["same count"]
    fig = r.to_figure()
    panel = fig.axes[1]
    assert " ".join(panel.get_title().split()) == "right when answered (n per arm)"
    assert panel.get_ylabel() == "share of answers (0-1)"  # a rate, not a time
    assert [t.get_text() for t in panel.get_xticklabels()] == [
        "response only\nn=10", "every token\nn=5-6", "same count\nn=10"]
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == [
        "response only", "every token", "same count"]
    assert layout_faults(fig) == []


def test_a_metric_that_counts_no_answer_in_a_run_names_the_run():
    r = own_metric_result()
    r.runs["every token"][1] = answered(0, 0)  # seed 1 of 'every token' answered nothing
    # Was only "A rate needs 0 <= k <= n and n >= 1, got k=0, n=0; ...": which run, unsaid.
    with pytest.raises(CourseError, match=r"^Metric 'answered_right', arm 'every token', seed 1: "
                                          r"A rate needs 0 <= k <= n and n >= 1, got k=0, n=0"):
        r.table()
