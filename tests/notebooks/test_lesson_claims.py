"""The numbers and behaviours the lessons state in prose, re-measured with the committed model.

Each test quotes the sentence it checks. When a rebuild of the embedded model changes one of
them, the test fails and the lesson's prose must change with it.
"""

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
from course_lib.loading import load_model_and_tokenizer
from course_lib.masking.labels import build_example
from course_lib.masking.loss import masked_cross_entropy


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


@pytest.fixture(scope="module")
def lesson04_runs():
    """Lesson 04's two runs, with its settings."""
    from course_lib.training.runner import train

    common = dict(data="course:train", eval_data="course:eval", max_steps=40, eval_every=10,
                  seed=0, progress=False, verbose=False)
    return {m: train("tiny", masking=m, **common) for m in ("response", "none")}


@pytest.mark.slow
def test_l04_losses_fall_from_about_11_to_below_half(lesson04_runs):
    """L04: "The loss falls from about 11.6 to below 0.5 within ten steps" (the loop by hand,
    whose curve is train()'s) and "both runs fall from a held-out response loss of about 11
    at step 0 to below 0.5 by step 10"."""
    curve = lesson04_runs["response"].history.train_loss
    assert round(curve[0], 1) == 11.6 and curve[9] < 0.5
    for run in lesson04_runs.values():
        h = run.history
        assert h.eval_steps[:2] == [0, 10]
        assert round(h.eval_loss[0]) == 11 and h.eval_loss[1] < 0.5


@pytest.mark.slow
def test_l04_tuned_models_answer_briefly_and_stop(lesson04_runs, tiny):
    """L04: "both fine-tuned models now answer briefly and stop"."""
    _, tok = tiny
    questions = held_out_questions("course:eval")
    prompts = prompts_for([q["instruction"] for q in questions], [q["input"] for q in questions])
    for run in lesson04_runs.values():
        rows = generate_ids(run.model, tok, prompts)
        assert all(row and row[-1] == tok.eos_token_id and len(row) <= 8 for row in rows)


@pytest.mark.slow
def test_l04_the_raw_question_still_gets_a_continuation(lesson04_runs, tiny):
    """L04: "Asked raw, the tuned model still continues with more questions ...; in the
    template it answers and stops"."""
    model, tok = lesson04_runs["response"].model, tiny[1]
    assert complete(model, tok, "What is 5+5?", max_new_tokens=24).strip().startswith("What is")
    assert generate(model, tok, "What is 5+5?") == "10"


@pytest.mark.slow
def test_l04_only_the_unmasked_run_learns_to_write_instructions(lesson04_runs, tiny):
    """L04: the unmasked run "has learned to *produce* prompts"; the masked run "writes
    instructions about as rarely as the base model did"."""
    base, tok = tiny
    share = {name: instruction_share(unprompted_samples(m, tok, n=16, seed=0))
             for name, m in {"base": base, "masked": lesson04_runs["response"].model,
                             "unmasked": lesson04_runs["none"].model}.items()}
    assert share["unmasked"] >= 0.75
    assert share["base"] <= 0.25 and abs(share["masked"] - share["base"]) <= 2 / 16
