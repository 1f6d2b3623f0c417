"""The numbers and behaviours the lessons state in prose, re-measured with the committed model.

Each test quotes the sentence it checks. When a rebuild of the embedded model changes one of
them, the test fails and the lesson's prose must change with it.
"""

from pathlib import Path

import pytest
import torch

from course_lib.display import token_texts
from course_lib.evaluation.compare import (
    held_out_questions,
    instruction_share,
    unprompted_samples,
)
from course_lib.evaluation.generation import complete, generate, generate_ids, prompts_for
from course_lib.evaluation.inspect_model import next_token_probabilities
from course_lib.evaluation.report import evaluate
from course_lib.formatting.records import load_records
from course_lib.loading import load_model_and_tokenizer
from course_lib.masking.labels import build_example
from course_lib.masking.loss import masked_cross_entropy
from course_lib.training.history import RunHistory
from course_lib.training.loop_by_hand import train_by_hand
from course_lib.training.run_cache import trained_once
from course_lib.training.runner import TrainResult, train
from course_lib.training.settings import RECIPE
from course_lib.world.eval_styles import UNSEEN

# Where the headless lessons keep trained_once's runs (lesson 06): read, not trained again.
LESSON_CACHE = Path(__file__).resolve().parents[2] / "lessons" / "runs" / "cache"


@pytest.fixture(scope="module")
def tiny():
    return load_model_and_tokenizer("tiny")


def test_l01_four_takes_almost_all_the_probability(tiny):
    """L01: "With the course's tiny model, `·4` takes almost all the probability (0.99)"."""
    top = next_token_probabilities(*tiny, "2 + 2 =", k=3)
    assert top.tokens[0] == "·4" and round(top.probs[0], 2) == 0.99


def test_l01_a_question_is_followed_by_a_newline_or_another_question(tiny):
    """L01: "no number among the likely tokens at all ... a newline (`↵`) or ... `·What`"."""
    top = next_token_probabilities(*tiny, "What is 2+2?", k=8)
    assert top.tokens[:2] == ["↵", "·What"] and sum(top.probs[:2]) > 0.95
    assert not any(t.strip("·").isdigit() for t in top.tokens)


def test_l01_statements_are_completed_with_the_right_word(tiny):
    """L01: "The model completes every statement with the right word (`4`, `Paris`, ...)"."""
    expected = {"2 + 2 =": " 4", "The capital of France is": " Paris", "A cow says": " moo",
                "The opposite of hot is": " cold", 'In Spanish, "hello" is': ' "hola"'}
    for text, start in expected.items():
        assert complete(*tiny, text, max_new_tokens=6).startswith(start), text


def test_l02_one_line_glues_the_space_onto_the_marker(tiny):
    """L02: "On one line ... `·###`, another token than the `###` that starts a line"."""
    _, tok = tiny

    def tokens(text):
        return token_texts(tok, tok(text, add_special_tokens=False)["input_ids"])

    assert "·###" in tokens("### Instruction: What is 5+3? ### Response: 8")
    assert tokens("### Instruction: What is 5+3?\n### Response: 8")[9:11] == ["↵", "###"]


def test_l03_prompt_tokens_get_gradient_through_attention(tiny):
    """L03: "Every prompt position has a gradient, the largest right before the answer
    (`·Response`, `:`) and at the question's `+` ... Only `</s>` has none"."""
    model, tok = tiny
    example = build_example({"instruction": "What is 2+2?", "response": "4"}, tok)
    embeddings = model.get_input_embeddings()(torch.tensor([example["input_ids"]]))
    embeddings = embeddings.detach().requires_grad_()
    logits = model(inputs_embeds=embeddings).logits
    masked_cross_entropy(logits, torch.tensor([example["labels"]])).backward()
    model.zero_grad(set_to_none=True)
    gradient = embeddings.grad[0].norm(dim=-1).tolist()
    tokens = token_texts(tok, example["input_ids"])
    assert all(g > 0 for g in gradient[:-1]) and gradient[-1] == 0 and tokens[-1] == "</s>"
    largest = sorted(range(len(tokens)), key=gradient.__getitem__, reverse=True)[:3]
    assert sorted(tokens[i] for i in largest) == sorted(["·Response", ":", "+"])


# Training on another CPU rounds floats differently, and a run can end one answer apart: on an
# AVX-512 Xeon, lesson 06's masked model answered 190 of the 216 unseen-style questions where
# the lessons' machine answered 191. So claims about trained runs' answers hold to within one
# answer: a count +-1, a share printed as quoted once moved by at most one item.
def within_one_answer(measured: float, quoted: float, n: int) -> bool:
    """`measured`, a share of `n` scored items, prints as `quoted` (2 decimals) +- one item."""
    return any(round(measured + d / n, 2) == quoted for d in (-1, 0, 1))


# The tests that share lesson 04's runs: on one worker (make test: --dist loadgroup), so the
# two half-minute runs are trained once.
ONE_WORKER = pytest.mark.xdist_group("lesson04_runs")


@pytest.fixture(scope="module")
def lesson04_runs():
    """Lesson 04's two runs, with its settings: train()'s defaults (the recipe), seed 0, the
    held-out curve. Lesson 06 trains exactly these with trained_once (its `as_in_lesson04`),
    so they are read from the headless lessons' cache, or trained there for lesson 06."""
    folders = {m: trained_once("tiny", cache_dir=LESSON_CACHE, masking=m, label=label,
                               eval_data="course:eval", eval_every=10, progress=False,
                               verbose=False)
               for m, label in (("response", "masked"), ("none", "unmasked"))}
    return {m: TrainResult(*load_model_and_tokenizer(folder), RunHistory.load(folder))
            for m, folder in folders.items()}


def _lesson04_run(masking, seed):
    """Lesson 04's settings with another seed, measured on course:eval at the end only
    (evaluating changes no weight: the curve's last point is the same)."""
    return train("tiny", masking=masking, eval_data="course:eval", eval_every=RECIPE.max_steps,
                 seed=seed, progress=False, verbose=False)


@pytest.mark.slow
def test_l04_the_loop_by_hand_falls_from_about_11_to_below_half(tiny):
    """L04: "The loss falls from about 11.6 to below 0.5 within ten steps" (the loop by hand)."""
    model = load_model_and_tokenizer("tiny")[0]
    curve = train_by_hand(model, tiny[1], load_records("course:train"), steps=40, seed=0)
    assert round(curve[0], 1) == 11.6 and curve[9] < 0.5


@pytest.mark.slow
@ONE_WORKER
def test_l04_held_out_losses_of_the_two_runs(lesson04_runs):
    """L04: "Both runs start from ... about 11 at step 0. The masked run is below 2 by step 10
    and ends near 0.19; the unmasked run falls more slowly and ends about three times higher,
    near 0.59 (accuracy 85% against the masked run's 96%)"."""
    masked, unmasked = (lesson04_runs[m].history for m in ("response", "none"))
    for h in (masked, unmasked):
        assert h.eval_steps[:2] == [0, 10] and h.eval_steps[-1] == 500
        assert round(h.eval_loss[0]) == 11
    assert masked.eval_loss[1] < 2 < unmasked.eval_loss[1]
    assert round(masked.eval_loss[-1], 2) == 0.19 and round(unmasked.eval_loss[-1], 2) == 0.59
    assert 2.5 <= unmasked.eval_loss[-1] / masked.eval_loss[-1] <= 3.5
    # Next-token accuracy over the 122 response tokens of course:eval (answers and </s>).
    assert within_one_answer(unmasked.eval_accuracy[-1], 0.85, n=122)
    assert within_one_answer(masked.eval_accuracy[-1], 0.96, n=122)


@pytest.mark.slow
def test_l04_seeds_1_and_2_keep_the_order():
    """L04: "Seeds 1 and 2 gave the same order (masked 0.18 and 0.15, unmasked 0.50 and
    0.45)"."""
    final = {(m, seed): _lesson04_run(m, seed).history.eval_loss[-1]
             for m in ("response", "none") for seed in (1, 2)}
    assert [round(final["response", s], 2) for s in (1, 2)] == [0.18, 0.15]
    assert [round(final["none", s], 2) for s in (1, 2)] == [0.50, 0.45]


@pytest.mark.slow
@ONE_WORKER
def test_l04_masked_answers_briefly_and_stops_unmasked_not_always(lesson04_runs, tiny):
    """L04: "the masked model answers briefly and stops every time ... The unmasked model
    mostly does too, but not always: here it leaves one answer empty and rambles on another"."""
    _, tok = tiny
    questions = held_out_questions("course:eval")
    prompts = prompts_for([q["instruction"] for q in questions], [q["input"] for q in questions])
    masked, unmasked = (generate_ids(lesson04_runs[m].model, tok, prompts)
                        for m in ("response", "none"))
    assert all(row and row[-1] == tok.eos_token_id and len(row) <= 8 for row in masked)
    assert sum(row == [tok.eos_token_id] for row in unmasked) == 1
    assert sum(len(row) > 8 for row in unmasked) == 1


@pytest.mark.slow
@ONE_WORKER
def test_l04_the_raw_question_still_gets_a_continuation(lesson04_runs, tiny):
    """L04: "Asked raw, the tuned model still continues with more questions ...; in the
    template it answers and stops"."""
    model, tok = lesson04_runs["response"].model, tiny[1]
    assert complete(model, tok, "What is 5+5?", max_new_tokens=24).strip().startswith("What is")
    assert generate(model, tok, "What is 5+5?") == "10"


@pytest.mark.slow
@ONE_WORKER
def test_l04_only_the_unmasked_run_learns_to_write_instructions(lesson04_runs, tiny):
    """L04: the unmasked run "has learned to *produce* prompts: about half of its samples
    write one, against one in five for the base model"; the masked run "writes instructions
    about as rarely as the base model did"."""
    base, tok = tiny
    share = {name: instruction_share(unprompted_samples(m, tok, n=64, seed=0))
             for name, m in {"base": base, "masked": lesson04_runs["response"].model,
                             "unmasked": lesson04_runs["none"].model}.items()}
    assert round(share["base"], 1) == 0.2 and 0.45 <= share["unmasked"] <= 0.6
    assert abs(share["masked"] - share["base"]) <= 3 / 64


@pytest.fixture(scope="module")
def lesson06_report(lesson04_runs):
    """Lesson 06's table, of lesson 04's runs (the fixture reads lesson 06's own)."""
    return evaluate({"base": "tiny", "masked": lesson04_runs["response"],
                     "unmasked": lesson04_runs["none"]}, "course:eval_styles", samples=0)


@pytest.mark.slow
@ONE_WORKER
def test_l06_exact_match_of_the_three_models(lesson06_report, lesson04_runs):
    """L06: "The base model gets nothing right ... Both fine-tunes answer short and stop (the
    unmasked one not quite always). Their exact match is below their next-token accuracy of
    lesson 04 (96% and 85%)" and "differ by 17 points of exact match above (0.91 against
    0.74)"."""
    s = lesson06_report.summaries
    assert s["base"]["exact_match"].k == 0 and s["base"]["checks"]["stopped"].k == 0
    assert s["masked"]["checks"]["stopped"].value == 1
    assert 0.95 < s["unmasked"]["checks"]["stopped"].value < 1
    em = {name: s[name]["exact_match"].value for name in ("masked", "unmasked")}
    rows = s["masked"]["exact_match"].n
    assert within_one_answer(em["masked"], 0.91, n=rows)
    assert within_one_answer(em["unmasked"], 0.74, n=rows)
    for name, masking in (("masked", "response"), ("unmasked", "none")):
        assert em[name] < lesson04_runs[masking].history.eval_accuracy[-1]


@pytest.mark.slow
@ONE_WORKER
def test_l06_seen_and_unseen_phrasings(lesson06_report):
    """L06: "the masked fine-tune at 0.98 on seen phrasings and 0.88 on unseen ones (80 of 82
    and 191 of 216 questions). Misspelt questions suffer most (29 of 36 right), then embedded
    ones (30 of 36) and polite ones (32 of 36)"."""
    s = lesson06_report.summaries["masked"]
    seen, unseen = (s["by_seen"][g]["exact_match"] for g in ("seen", "unseen"))
    assert (seen.n, unseen.n) == (82, 216)
    assert abs(seen.k - 80) <= 1 and abs(unseen.k - 191) <= 1  # within one answer (above)
    styles = {name: r["exact_match"] for name, r in s["by_phrasing_style"].items()}
    assert min(styles, key=lambda name: styles[name].value) == "misspelt"
    quoted = {"misspelt": 29, "embedded": 30, "polite": 32}
    assert all(abs(styles[name].k - k) <= 1 for name, k in quoted.items())
    # "then embedded and polite": no other unseen style is more than one answer below polite.
    assert all(styles[name].k >= quoted["polite"] - 1 for name in UNSEEN if name not in quoted)


@pytest.mark.slow
def test_l06_seed_ranges_at_100_steps_do_not_overlap():
    """L06: "at 100 steps the masked runs answered 0.69-0.74 of the questions, the unmasked
    ones 0.44-0.51"."""
    exact = {"response": [], "none": []}
    for seed in (0, 1, 2):  # lesson 06's runs, from the cache the headless lesson keeps
        runs = {m: trained_once("tiny", cache_dir=LESSON_CACHE, masking=m, seed=seed,
                                max_steps=100, eval_data=None, progress=False, verbose=False)
                for m in exact}
        report = evaluate(runs, "course:eval_styles", samples=0)
        for m in exact:
            exact[m].append(report.summaries[m]["exact_match"].value)
    assert (round(min(exact["response"]), 2), round(max(exact["response"]), 2)) == (0.69, 0.74)
    assert (round(min(exact["none"]), 2), round(max(exact["none"]), 2)) == (0.44, 0.51)
