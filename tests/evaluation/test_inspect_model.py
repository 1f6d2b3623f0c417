"""Lesson 01's look inside the model: next-token probabilities and their bar charts."""

import pytest
import torch

from course_lib.errors import CourseError
from course_lib.evaluation.inspect_model import (
    NextTokens,
    next_token_probabilities,
    plot_next_tokens,
)
from course_lib.world.toy import make_toy_model


@pytest.fixture(scope="module")
def toy(toy_tokenizer):
    return make_toy_model(toy_tokenizer), toy_tokenizer


def test_top_k_is_the_softmax_of_the_last_position(toy):
    model, tok = toy
    top = next_token_probabilities(model, tok, "What is 2+2?", k=5)
    ids = tok("What is 2+2?", return_tensors="pt")["input_ids"]
    with torch.no_grad():
        probs = model(input_ids=ids).logits[0, -1].softmax(-1)
    want = probs.topk(5)
    assert top.token_ids == want.indices.tolist()
    assert top.probs == pytest.approx(want.values.tolist(), rel=1e-5)
    assert top.probs == sorted(top.probs, reverse=True) and sum(top.probs) <= 1 + 1e-6
    assert len(top.tokens) == 5 and all(isinstance(t, str) for t in top.tokens)


def test_model_mode_is_restored_and_k_is_checked(toy):
    model, tok = toy
    model.train()
    next_token_probabilities(model, tok, "2 + 2 =", k=3)
    assert model.training
    model.eval()
    with pytest.raises(CourseError, match=r"^k must be at least 1, not 0\.$"):
        next_token_probabilities(model, tok, "2 + 2 =", k=0)


@pytest.mark.parametrize(("args", "says"), [
    # TypeErrors from the comparison and from torch's topk.
    ({"k": "5"}, "k must be a whole number, not the string '5'."),
    ({"k": 2.5}, "k must be a whole number, not 2.5."),
    # A list was tokenized as a batch and the first row's distribution shown under its repr.
    ({"text": ["a", "b"]}, "text must be one string, not a list; call "
                           "next_token_probabilities once per text."),
])
def test_wrong_arguments_are_one_sentence(toy, args, says):
    model, tok = toy
    with pytest.raises(CourseError) as err:
        next_token_probabilities(model, tok, **({"text": "2 + 2 ="} | args))
    assert str(err.value) == says


def test_swapped_model_and_tokenizer_are_said_so(toy):
    model, tok = toy
    # A TypeError from torch's embedding, about `indices`.
    with pytest.raises(CourseError, match="^Give the model, then its tokenizer: "):
        next_token_probabilities(tok, model, "2 + 2 =")


def test_plot_takes_one_result_or_several_but_not_none(toy):
    model, tok = toy
    top = next_token_probabilities(model, tok, "2 + 2 =", k=3)
    # One NextTokens was "'NextTokens' object is not iterable".
    assert len(plot_next_tokens(top).axes) == len(plot_next_tokens([top]).axes) == 1
    with pytest.raises(CourseError, match="^plot_next_tokens needs at least one result"):
        plot_next_tokens([])



def test_a_long_prompt_is_wrapped_in_its_title_not_cut_off(layout_faults):
    prompt = "Please, if you would be so kind, tell me: what is the capital city of France"
    fig = plot_next_tokens(NextTokens(prompt, [5, 6], ["·4", "·5"], [0.6, 0.3]))
    assert layout_faults(fig) == []  # the saved PNG lost both ends of the one-line title

def test_text_plot_and_lookup():
    top = NextTokens("2 + 2 =", [5, 6], ["·4", "·5"], [0.6, 0.3])
    assert "0.600" in str(top) and top.probability_of(" 4") == 0.6
    assert top.probability_of("7") is None
    fig = plot_next_tokens([top, top])
    assert len(fig.axes) == 2
    with pytest.raises(CourseError):
        plot_next_tokens([])
