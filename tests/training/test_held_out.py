import math

import pytest
import torch
from transformers import AutoModelForCausalLM

from course_lib.errors import CourseError
from course_lib.masking.labels import prepare_examples
from course_lib.training.callbacks import ResponseEvalCallback
from course_lib.training.held_out import response_metrics


def correct_by_hand(model, examples) -> float:
    """Accuracy counted example by example: argmax at t against the label at t + 1."""
    right = graded = 0
    with torch.no_grad():
        for ex in examples:
            guesses = model(input_ids=torch.tensor([ex["input_ids"]])).logits[0].argmax(-1)
            for t, label in enumerate(ex["labels"][1:]):
                if label != -100:
                    graded += 1
                    right += int(guesses[t]) == label
    return right / graded


@pytest.mark.slow
def test_accuracy_counts_right_guesses_of_graded_tokens(toy_model_dir, toy_tokenizer, records):
    """A model trained a little gets some answers right: the count must match, not be 0 or 1."""
    from course_lib.training.runner import train

    # Every weight: the random toy model has no pretrained parts worth the recipe's freezing.
    model = train(toy_model_dir, records, None, max_steps=30, progress=False, verbose=False,
                  freeze=()).model
    examples = prepare_examples(records[:20], toy_tokenizer).examples
    m = response_metrics(model, examples, toy_tokenizer.pad_token_id, batch_size=7)
    assert 0.0 < m.accuracy < 1.0
    assert m.accuracy == correct_by_hand(model, examples)


def test_metrics_match_the_models_own_loss_on_response_tokens(
    toy_model_dir, toy_tokenizer, eval_records
):
    model = AutoModelForCausalLM.from_pretrained(toy_model_dir)
    examples = prepare_examples(eval_records[:6], toy_tokenizer, masking="response").examples
    m = response_metrics(model, examples, toy_tokenizer.pad_token_id, batch_size=4)
    # The model's loss is a token-weighted mean too, when given all examples' tokens at once.
    total, count = 0.0, 0
    with torch.no_grad():
        for ex in examples:
            n = sum(1 for t in ex["labels"][1:] if t != -100)
            out = model(
                input_ids=torch.tensor([ex["input_ids"]]), labels=torch.tensor([ex["labels"]])
            )
            total += out.loss.item() * n
            count += n
    assert m.tokens == count
    assert math.isclose(m.loss, total / count, rel_tol=1e-5)
    assert m.accuracy == correct_by_hand(model, examples)
    assert not model.training  # left in the mode it was found in


def test_batch_size_does_not_change_the_numbers(toy_model_dir, toy_tokenizer, eval_records):
    model = AutoModelForCausalLM.from_pretrained(toy_model_dir)
    examples = prepare_examples(eval_records, toy_tokenizer).examples
    a = response_metrics(model, examples, toy_tokenizer.pad_token_id, batch_size=3)
    b = response_metrics(model, examples, toy_tokenizer.pad_token_id, batch_size=20)
    assert a.tokens == b.tokens
    assert math.isclose(a.loss, b.loss, rel_tol=1e-5)
    assert a.accuracy == b.accuracy


def test_response_metrics_and_its_callback_name_records_a_tokenizer_or_swapped_args(
        toy_model_dir, toy_tokenizer, eval_records):
    model = AutoModelForCausalLM.from_pretrained(toy_model_dir)
    examples = prepare_examples(eval_records[:4], toy_tokenizer).examples
    pad = toy_tokenizer.pad_token_id
    # Records were "KeyError: 'input_ids'", the tokenizer for the pad id "cannot be
    # interpreted as an integer", swapped model and tokenizer "has no attribute forward".
    with pytest.raises(CourseError, match=r"examples holds records, not tokenized examples"):
        response_metrics(model, eval_records[:4], pad)
    with pytest.raises(CourseError, match=r"pad_token_id must be a token id \(a whole number\), "
                                          r"not .*; give tokenizer\.pad_token_id\.$"):
        response_metrics(model, examples, toy_tokenizer)
    with pytest.raises(CourseError, match=r"model must be the model, not "):
        response_metrics(toy_tokenizer, examples, pad)
    # The callback refuses them when it is made, not at step 0 of training.
    with pytest.raises(CourseError, match=r"then ResponseEvalCallback\(examples, tokenizer\."):
        ResponseEvalCallback(eval_records[:4], pad, every=10)
    with pytest.raises(CourseError, match=r"pad_token_id must be a token id"):
        ResponseEvalCallback(examples, toy_tokenizer, every=10)
