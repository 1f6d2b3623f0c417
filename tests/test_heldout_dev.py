"""benchmarks/recipe --on heldout (round 14): the dev facts are asked, and never tuned on."""

import re

from benchmarks.recipe import (
    dev_fact_rows,
    eval_rows,
    held_facts,
    tuning_for,
    with_replay,
    without_random_rows,
)
from course_lib.loading import load_model_and_tokenizer
from course_lib.training.data import prepare_training_data
from course_lib.world.corpus import generate_corpus
from course_lib.world.tuning_data import train_with_facts


def test_heldout_tunes_on_every_train_varied_row_but_the_dev_facts_own():
    pairs = train_with_facts()[0]
    held = set(held_facts())
    tuned = [tuple(sorted(r.items())) for r in tuning_for("heldout")["data"]]
    asked = {tuple(sorted(r.items())) for f, r in pairs if f in held}
    kept = {tuple(sorted(r.items())) for f, r in pairs if f not in held}
    assert asked and not asked & set(tuned)  # no row of a graded fact is tuned on
    assert kept <= set(tuned)  # every other train row still is, and the paraphrases too
    assert len(tuned) > len(kept) + 3000  # the paraphrases of the other facts
    # Nor a paraphrase: no tuned row names a graded fact's subject and answers with its answer.
    for fact in held:
        word = re.compile(rf"\b{re.escape(fact.subject)}\b".replace("\\+", r"\s*\+\s*"))
        assert not [r for r in tuned if dict(r)["response"] == fact.answer
                    and word.search(dict(r)["instruction"] + " " + dict(r).get("input", ""))]


def test_heldout_grades_only_the_held_facts_and_tunes_like_the_recipe_elsewhere():
    keys = {f.key for f in held_facts()}
    rows = eval_rows("heldout")
    assert rows and {r["group"] for r in rows} <= keys
    assert not any(r["seen"] for r in rows)
    assert tuning_for("dev") == {} and tuning_for("eval_styles") == {}


def test_the_null_arm_drops_as_many_rows_of_other_facts_at_random():
    dev = dev_fact_rows()
    first, second = (without_random_rows(108, d)["data"] for d in (0, 1))
    assert len(first) == len(tuning_for("heldout")["data"])  # as many rows gone as heldout's
    assert dev <= {tuple(sorted(r.items())) for r in first}  # none of the dev facts' own
    assert first != second  # another draw, other rows


def test_a_draw_of_the_heldout_data_drops_more_rows_and_never_adds_a_dev_fact_back():
    heldout = tuning_for("heldout")["data"]
    drawn = without_random_rows(108, 0, heldout)["data"]
    assert len(drawn) == len(heldout) - 108
    assert {tuple(sorted(r.items())) for r in drawn} < {tuple(sorted(r.items())) for r in heldout}
    assert not dev_fact_rows() & {tuple(sorted(r.items())) for r in drawn}


def test_replay_adds_pieces_of_the_pretraining_corpus_with_every_token_trained():
    tokenizer = load_model_and_tokenizer("tiny")[1]
    rows = tuning_for("heldout")["data"][:40]
    alone = prepare_training_data(rows, tokenizer, progress=False).examples
    assert with_replay({"data": rows}, 0.0, 16, tokenizer)["data"] == alone  # round 17's control
    mixed = with_replay({"data": rows}, 0.25, 16, tokenizer)["data"]
    assert mixed[:40] == alone  # the tuning rows first, labelled as train() labels them
    pieces = mixed[40:]
    assert len(pieces) == 10 and all(len(p["input_ids"]) == 16 for p in pieces)
    assert all(p["labels"] == p["input_ids"] for p in pieces)  # every token trained
    corpus = " ".join(generate_corpus(0, 20_000))  # the same documents, the same words
    words = {w for p in pieces for w in tokenizer.decode(p["input_ids"]).split() if w.isalpha()}
    assert len(words & set(corpus.split())) >= len(words) // 2
