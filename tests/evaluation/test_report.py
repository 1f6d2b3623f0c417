"""evaluate(): batched answers, per-row scores, summary with k/n, breakdowns, consistency."""

import json

import pytest
import sacrebleu
import torch
from datasets import Dataset
from rouge_score import rouge_scorer
from transformers import AutoModelForCausalLM

from course_lib.errors import CourseError
from course_lib.evaluation.eval_data import eval_rows
from course_lib.evaluation.generation import prompts_for
from course_lib.evaluation.report import (
    EvalOptions,
    answer_all,
    evaluate,
    resolve_models,
    score_row,
    summarize,
)
from course_lib.loading import load_model_and_tokenizer
from course_lib.training.history import RunHistory
from course_lib.training.runner import TrainResult, train

# Hand-made answers to four questions of two paraphrase groups, plus one without a reference.
ROWS = [
    {"reference": "4", "kind": "add", "group": "add:2+2", "style": "bare", "seen": True},
    {"reference": "4", "kind": "add", "group": "add:2+2", "style": "casual", "seen": False},
    {"reference": "Paris", "kind": "capital", "group": "cap:fr", "style": "tuning",
     "seen": True},
    {"reference": "Paris", "kind": "capital", "group": "cap:fr", "style": "casual",
     "seen": False},
    {"reference": None, "kind": "capital", "group": None, "style": "casual", "seen": False},
]
ANSWERS = [("4", True), ("four. What is 3+3?", False), ("Paris", True), ("Lima", True),
           ("Rome", True)]


def scored_rows(samples):
    return [score_row({**row, "id": i, "where": f"row {i}"}, text, stopped)
            | {"template": "one_line", "samples": draws,
               "sampling_agreement": sum(d == text for d in draws)}
            for i, (row, (text, stopped), draws)
            in enumerate(zip(ROWS, ANSWERS, samples, strict=True))]


SAMPLES = [["4", "5"], ["four. What is 3+3?", "4"], ["Paris", "Paris"], ["Lima", "Quito"],
           ["Rome", "Rome"]]


def test_summary_counts_by_hand():
    summary = summarize(scored_rows(SAMPLES), EvalOptions(samples=2), several=False)
    em = summary["exact_match"]
    # Four rows have a reference: "4" and "Paris" match; "four. What is 3+3?" and "Lima" do not.
    assert (em.k, em.n) == (2, 4)
    fa = summary["first_answer_correct"]
    assert (fa.k, fa.n) == (3, 4)  # "four." is the right first answer
    assert summary["without_reference"] == 1 and summary["rows"] == 5
    # Adherence counts every row, the one without a reference too; only row 2 fails a check.
    assert (summary["adherence_all"].k, summary["adherence_all"].n) == (4, 5)
    assert summary["checks"]["stopped"].k == 4
    assert summary["checks"]["answered"].k == 4
    # Paraphrase groups: add:2+2 answers 4 and four (agree after normalising, but the second
    # rambles, so the full responses differ); cap:fr answers Paris and Lima.
    consistency = summary["consistency_paraphrase"]
    assert (consistency["consistent"].k, consistency["consistent"].n) == (0, 2)
    assert consistency["mean"] == pytest.approx(0.5)
    # Samples equal to the greedy answer: 1 + 1 + 2 + 1 + 2 of 10.
    assert (summary["consistency_sampling"].k, summary["consistency_sampling"].n) == (7, 10)


def test_breakdowns_by_kind_style_and_seen():
    summary = summarize(scored_rows(SAMPLES), EvalOptions(samples=2))
    by_kind = summary["by_kind"]
    assert (by_kind["add"]["exact_match"].k, by_kind["add"]["exact_match"].n) == (1, 2)
    # The row without a reference counts for adherence in its kind, not for exact match.
    assert by_kind["capital"]["exact_match"].n == 2
    assert by_kind["capital"]["adherence_all"].n == 3
    styles = summary["by_phrasing_style"]
    assert list(styles) == ["bare", "tuning", "casual"]  # seen styles first
    assert (styles["casual"]["exact_match"].k, styles["casual"]["exact_match"].n) == (0, 2)
    seen = summary["by_seen"]
    assert (seen["seen"]["exact_match"].k, seen["seen"]["exact_match"].n) == (2, 2)
    assert (seen["unseen"]["exact_match"].k, seen["unseen"]["exact_match"].n) == (0, 2)
    assert "by_template" not in summary


def test_corpus_bleu_and_rouge_are_the_libraries_numbers():
    rows = scored_rows(SAMPLES)
    summary = summarize(rows, EvalOptions(samples=0))
    scored = [r for r in rows if r["reference"] is not None]
    predictions = [r["response"] for r in scored]
    references = [r["reference"] for r in scored]
    assert summary["bleu"] == pytest.approx(
        sacrebleu.corpus_bleu(predictions, [references]).score)
    assert summary["chrf"] == pytest.approx(
        sacrebleu.corpus_chrf(predictions, [references]).score)
    scorer = rouge_scorer.RougeScorer(["rougeL"])
    by_hand = [scorer.score(r, p)["rougeL"].fmeasure for p, r in zip(predictions, references,
                                                                     strict=True)]
    assert summary["rouge_l"].value == pytest.approx(sum(by_hand) / len(by_hand))
    assert rows[1]["bleu"] == pytest.approx(
        sacrebleu.sentence_bleu(rows[1]["response"], ["4"]).score)
    assert summary["consistency_sampling"] is None


def _eos_model(model_dir, tokenizer):
    """The toy model with its output layer rewired to always say EOS: every row stops at once."""
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    hidden, vocab = model.lm_head.in_features, model.lm_head.out_features
    model.lm_head = torch.nn.Linear(hidden, vocab, bias=True)
    with torch.no_grad():
        model.lm_head.weight.zero_()
        model.lm_head.bias.zero_()
        model.lm_head.bias[tokenizer.eos_token_id] = 10.0
    return model


def test_batched_answers_equal_one_at_a_time_and_stopping_is_read_from_eos(toy_model_dir,
                                                                            toy_tokenizer):
    # The embedded base model: its continuations differ from prompt to prompt (a random
    # model's do not), so an answer given back to the wrong question would show.
    model, tokenizer = load_model_and_tokenizer("tiny")
    rows = eval_rows("course:eval_styles", limit=12).rows
    prompts = prompts_for([r["instruction"] for r in rows], [r["input"] for r in rows])
    greedy = EvalOptions(max_new_tokens=6).greedy()
    batched = answer_all(model, tokenizer, prompts, greedy, batch_size=5)
    single = [answer_all(model, tokenizer, [p], greedy)[0] for p in prompts]
    assert batched == single
    assert len({text for text, _ in batched}) >= 4  # 5 different answers measured
    assert not any(stopped for _, stopped in batched)  # a base model never says EOS here
    stopper = _eos_model(toy_model_dir, toy_tokenizer)
    assert answer_all(stopper, toy_tokenizer, prompts, greedy) == [("", True)] * len(prompts)


def test_evaluate_end_to_end_on_the_toy_model(toy_model_dir, toy_tokenizer):
    stopper = _eos_model(toy_model_dir, toy_tokenizer)
    report = evaluate({"random": str(toy_model_dir), "eos": (stopper, toy_tokenizer)},
                      "course:eval_styles", limit=14, samples=2, max_new_tokens=5,
                      templates=("one_line", "alpaca"))
    assert report.models == ["random", "eos"]
    rows = report.rows["eos"]
    assert len(rows) == 28 and {r["template"] for r in rows} == {"one_line", "alpaca"}
    assert all(r["response"] == "" and r["stopped"] and len(r["samples"]) == 2 for r in rows)
    summary = report.summaries["eos"]
    assert summary["checks"]["stopped"].k == 28 and summary["checks"]["answered"].k == 0
    assert summary["consistency_sampling"].k == summary["consistency_sampling"].n == 56
    assert set(summary["by_template"]) == {"one_line", "alpaca"}
    data = json.loads(json.dumps(report.to_dict(answers=True)))
    for key in ("exact_match", "rouge_l", "bleu", "chrf", "adherence", "checks",
                "consistency_paraphrase", "consistency_sampling", "by_kind",
                "by_phrasing_style"):
        assert key in data["models"]["random"], key
    add = data["models"]["random"]["by_kind"]["add"]["exact_match"]
    assert add["n"] == sum(r["kind"] == "add" for r in rows) and "k" in add
    assert len(data["answers"]["random"]) == 28


def test_report_table_html_and_figure(toy_model_dir, toy_tokenizer):
    report = evaluate({"a": (_eos_model(toy_model_dir, toy_tokenizer), toy_tokenizer)},
                      "course:eval_styles", limit=8, samples=0, max_new_tokens=3)
    text = str(report)
    header = text.splitlines()[0]
    assert header.split() == ["a"]
    assert "exact match" in text and "(0/8)" in text and "casual (unseen)" in text
    assert "stopped with EOS" in text and "1.00 (8/8)" in text
    html = report._repr_html_()
    assert html.startswith("<table>") and "[0.68, 1.00]" in html  # Wilson interval of 8/8
    fig = report.to_figure()
    assert len(fig.axes) == 3
    # a notebook shows it as an image, not as text
    assert '<img src="data:image/png;base64,' in fig._repr_mimebundle_()["text/html"]
    assert [t.get_text() for t in fig.axes[1].get_xticklabels()][:2] == ["bare*", "tuning*"]


@pytest.fixture(scope="module")
def alpaca_run(toy_model_dir, tmp_path_factory):
    """A one-step run of the toy model trained in the Alpaca template, saved as a folder."""
    folder = tmp_path_factory.mktemp("alpaca")
    data = folder / "train.jsonl"
    data.write_text("".join(json.dumps({"instruction": f"What is {a}+1?", "response": str(a + 1)})
                            + "\n" for a in range(8)))
    train(str(toy_model_dir), str(data), eval_data=None, max_steps=1, template="alpaca",
          out_dir=folder / "run", progress=False, verbose=False, num_threads=1)
    return folder / "run"


def test_a_run_is_asked_in_the_template_it_was_trained_with(alpaca_run, toy_model_dir):
    rows = [{"instruction": "What is 2+2?", "response": "4"}]
    report = evaluate({"run": alpaca_run, "base": toy_model_dir}, rows, samples=0,
                      max_new_tokens=2)
    # Asked in one_line, a run trained on Alpaca prompts sees a prompt it never learnt.
    assert [r["template"] for r in report.rows["run"]] == ["alpaca"]
    assert [r["template"] for r in report.rows["base"]] == ["one_line"]  # not a run
    assert report.templates == ["alpaca", "one_line"]
    assert len(report.answers().prompts) == 1  # side by side, each in its own template
    given = evaluate({"run": alpaca_run}, rows, samples=0, max_new_tokens=2,
                     templates=["one_line"])
    assert [r["template"] for r in given.rows["run"]] == ["one_line"]


def test_questions_the_run_was_trained_on_are_named(alpaca_run, capsys):
    rows = [{"instruction": "What is 9+9?", "response": "18"},
            {"instruction": "What is 3+1?", "response": "4"}]  # line 4 of its train.jsonl
    evaluate({"run": alpaca_run}, rows, samples=0, max_new_tokens=2)
    assert "note: run: 1 of the 2 questions (row 1) is a prompt it was trained on (" \
           in capsys.readouterr().out
    evaluate({"run": alpaca_run}, rows[:1], samples=0, max_new_tokens=2)
    assert "note:" not in capsys.readouterr().out


def test_evaluate_says_what_reading_its_file_changed_and_can_skip_bad_rows(toy_model_dir,
                                                                         capsys, tmp_path):
    # `course eval` said these; evaluate() in a notebook read the same file in silence.
    path = tmp_path / "mine.jsonl"
    path.write_text('{"instruction": "What is 2+2?", "output": 4}\n{oops\n'
                    '{"instruction": "What is 3+3?", "output": "6"}\n', encoding="utf-8")
    with pytest.raises(CourseError, match=r"line 2: invalid JSON .*skip_bad_rows=True"):
        evaluate({"toy": toy_model_dir}, path, samples=0, max_new_tokens=2)
    report = evaluate({"toy": toy_model_dir}, path, samples=0, max_new_tokens=2,
                      progress=False, skip_bad_rows=True)
    assert len(report.rows["toy"]) == 2
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"note: {path}: 1 of 3 rows left out (skip_bad_rows=True):"
    assert out[1].startswith("  line 2: invalid JSON")
    assert out[2] == ("note: 1 row holds a number where text belongs (line 1); it was read as "
                      "its text (4 as '4').")


def test_what_the_token_limits_cut_is_said_and_a_bar_counts_the_passes(toy_model_dir, capsys):
    rows = [{"instruction": "Describe Paris.", "response": "Paris is the capital of France"},
            {"instruction": "Sum " + "one " * 300, "response": "4"},  # past the 256 positions
            {"instruction": "What is 2+2?", "response": "4"}]
    evaluate({"toy": toy_model_dir}, rows, samples=1, max_new_tokens=3)
    out, err = capsys.readouterr()
    assert "note: toy: 1 of 3 reference answers are longer than max_new_tokens=3 tokens" in out
    assert "1 prompt (row 1) with its answer does not fit the model's context of 256" in out
    assert "evaluating toy: 100%" in err and "2/2" in err  # one greedy pass, one sample
    evaluate({"toy": toy_model_dir}, rows[2:], samples=0, max_new_tokens=3, progress=False)
    out, err = capsys.readouterr()
    assert "note:" not in out and "evaluating" not in err


def test_model_names_and_errors(toy_model_dir, toy_tokenizer, tmp_path):
    model = AutoModelForCausalLM.from_pretrained(toy_model_dir)
    named = resolve_models([str(toy_model_dir), str(toy_model_dir)])
    assert list(named) == [toy_model_dir.name, f"{toy_model_dir.name} #2"]
    assert list(resolve_models((model, toy_tokenizer))) == ["model"]
    # train() results by their runs' names: were "model" and "model #2", told apart by nothing.
    results = [TrainResult(model, toy_tokenizer, RunHistory(masking=m)) for m in ("response",
                                                                              "none")]
    results.append(TrainResult(model, toy_tokenizer, RunHistory(masking="none", label="mine")))
    assert list(resolve_models(results)) == ["masked", "unmasked", "mine"]
    with pytest.raises(CourseError, match="needs its tokenizer"):
        resolve_models(model)
    with pytest.raises(CourseError, match="presets"):
        resolve_models("no-such-model")
    with pytest.raises(CourseError, match="no model"):
        resolve_models([])


def test_rows_without_reference_are_scored_on_adherence_only(toy_model_dir, toy_tokenizer):
    rows = [{"instruction": "What is 2+2?", "response": "4"}, {"instruction": "Say hi."}]
    report = evaluate({"eos": (_eos_model(toy_model_dir, toy_tokenizer), toy_tokenizer)}, rows,
                      samples=0, max_new_tokens=3)
    summary = report.summaries["eos"]
    assert summary["without_reference"] == 1 and summary["exact_match"].n == 1
    assert summary["adherence_all"].n == 2
    assert report.rows["eos"][1]["exact_match"] is None
    assert "1 row without a reference" in str(report)
    # With none at all, the figure says so where the by-style and by-kind bars would be.
    report = evaluate({"eos": (_eos_model(toy_model_dir, toy_tokenizer), toy_tokenizer)},
                      rows[1:], samples=0, max_new_tokens=3)
    fig = report.to_figure()
    assert [t.get_text() for t in fig.axes[1].texts] == ["no row has a reference answer"]
    assert '<img src="data:image/png;base64,' in fig._repr_mimebundle_()["text/html"]


def test_sampled_answers_are_seeded_and_compared_with_the_greedy_one(toy_model_dir,
                                                                     toy_tokenizer):
    model = AutoModelForCausalLM.from_pretrained(toy_model_dir)
    first, again = (evaluate({"random": (model, toy_tokenizer)}, "course:eval_styles", limit=6,
                             samples=3, temperature=1.0, max_new_tokens=4)
                    for _ in range(2))
    rows = first.rows["random"]
    assert [r["samples"] for r in rows] == [r["samples"] for r in again.rows["random"]]
    by_hand = sum(s == r["response"] for r in rows for s in r["samples"])
    sampling = first.summaries["random"]["consistency_sampling"]
    # A random model's draws at temperature 1 rarely repeat its greedy answer.
    assert (sampling.k, sampling.n) == (by_hand, 18) and by_hand < 18


def test_answers_puts_the_models_side_by_side(toy_model_dir, toy_tokenizer):
    eos = (_eos_model(toy_model_dir, toy_tokenizer), toy_tokenizer)
    report = evaluate({"a": eos, "b": eos}, "course:eval_styles", limit=12, samples=0,
                      max_new_tokens=2)
    table = report.answers(lambda r: r["style"] == "casual")
    assert table.prompts == ["[casual] yo, 2 plus 2 makes what?",
                             "[casual] yo, 5 plus 5 makes what?"]
    assert list(table.answers) == ["a", "b", "reference"]
    assert table.answers["reference"] == ["4", "10"]
    assert "EvalReport(models=['a', 'b']" in repr(report)
    with pytest.raises(CourseError, match="No question matches"):
        report.answers(lambda r: False)



@pytest.mark.parametrize(("given", "message"), [
    # limit=0 said the data held no rows; samples=-1 and batch_size=0 ended in a TypeError and
    # a ZeroDivisionError after the model was loaded.
    ({"limit": 0}, "limit must be at least 1, not 0; leave it out (limit=None) to evaluate "
                   "every row."),
    ({"limit": 2, "samples": -1}, "samples must be at least 0, not -1; samples=0 turns the "
                                  "sampled answers off."),
    ({"samples": 0, "batch_size": 0}, "batch_size must be at least 1, not 0."),
    ({"samples": "3"}, "samples must be a whole number, not the string '3'."),
    ({"max_new_tokens": 0}, "max_new_tokens must be at least 1, not 0."),
    ({"temperature": 0}, "temperature must be a number above 0, not 0; the greedy answer is "
                         "always measured, and samples=0 turns the sampled answers off."),
    # A ZeroDivisionError after the models loaded.
    ({"templates": []}, "templates=[] names no template to ask in; give one or more, e.g. "
                        "templates=['one_line'], or leave it out to ask each model in its own."),
    # Ignored without a word (train() refuses it): a named model loads its own tokenizer.
    ({"tokenizer": object()}, "tokenizer= goes with a model object; a model given by name or "
                              "folder loads its own tokenizer, so leave it out."),
])
def test_options_no_evaluation_can_use_are_one_sentence_errors(given, message):
    with pytest.raises(CourseError) as err:  # checked before the data or a model is loaded
        evaluate("no-such-model-is-loaded", "course:eval_styles", **given)
    assert str(err.value) == message


def test_a_tokenizer_or_a_name_in_the_wrong_place_is_said_so(toy_model_dir, toy_tokenizer):
    model = AutoModelForCausalLM.from_pretrained(toy_model_dir)
    # Were "A model object needs its tokenizer" (the learner gave one), an AttributeError about
    # TokenizersBackend, or "'str' object is not callable" once generating.
    for models, tokenizer, says in [
        (toy_tokenizer, None, "The model 'model' is a tokenizer, not a model;"),
        ({"a": toy_tokenizer}, toy_tokenizer, "The model 'a' is a tokenizer, not a model;"),
        (model, "tiny", "tokenizer must be a tokenizer object, not the string 'tiny'"),
        (None, None, "The model 'model' is None; give a preset name such as 'tiny', a run "
                     "folder, a model with tokenizer=, or a TrainResult."),
    ]:
        with pytest.raises(CourseError) as err:
            resolve_models(models, tokenizer)
        assert str(err.value).startswith(says), str(err.value)


def test_records_given_as_the_models_are_said_to_be_data():
    # Each record was taken for a model object: "A model object needs its tokenizer".
    import pandas as pd

    rows = [{"instruction": "What is 2+2?", "response": "4"}] * 3
    for models, kind in [(rows, "a list of 3 records"),
                         (pd.DataFrame(rows), "a DataFrame of 3 rows")]:
        with pytest.raises(CourseError) as err:
            evaluate(models, samples=0, progress=False)
        assert str(err.value) == (f"models is data ({kind}), not a model; give the model first "
                                  f"and the data second: evaluate('tiny', data).")


def test_questions_it_held_out_or_skipped_are_not_called_trained_on(toy_model_dir, tmp_path,
                                                                     capsys):
    rows = [{"instruction": f"What is {a}+2?", "response": str(a + 2)} for a in range(19)]
    rows.append({"instruction": "Add " + "one and " * 40 + "one.", "response": "41"})  # too long
    data = tmp_path / "mine.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    for folder in (data, tmp_path / "saved"):  # a file, and a folder saved with save_to_disk
        if folder.suffix != ".jsonl":
            Dataset.from_list(rows).save_to_disk(str(folder))
        run = train(str(toy_model_dir), str(folder), eval_every=1, max_steps=1, max_length=48,
                    out_dir=tmp_path / f"run-{folder.name}", progress=False, verbose=False,
                    num_threads=1).history
        assert len(run.not_trained) == 3  # 2 held out for its score, 1 skipped: too long
        capsys.readouterr()
        evaluate({"run": tmp_path / f"run-{folder.name}"}, str(folder), samples=0,
                 max_new_tokens=2)
        assert "note: run: 17 of the 20 questions (" in capsys.readouterr().out, folder


def test_several_models_in_another_container_than_a_list_are_several_models(toy_model_dir):
    # A generator, a dict's values, a set or a Series of folders was taken for one model
    # object: "A model object needs its tokenizer", whatever the names were.
    import pandas as pd

    folders = {"a": str(toy_model_dir), "b": str(toy_model_dir)}
    want = [toy_model_dir.name, f"{toy_model_dir.name} #2"]
    for given in ((f for f in folders.values()), folders.values(), pd.Series(folders)):
        assert list(resolve_models(given)) == want
    assert list(resolve_models({str(toy_model_dir)})) == [toy_model_dir.name]
    assert list(resolve_models(folders.items())) == ["a", "b"]
    rows = [{"instruction": "What is 2+2?", "response": "4"}] * 3
    with pytest.raises(CourseError, match=r"^models is data \(a list of 3 records\)"):
        resolve_models(r for r in rows)
