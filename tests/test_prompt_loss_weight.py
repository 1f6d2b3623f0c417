"""benchmarks/prompt_loss_weight: w = 0 is the course's masked loss, w = 1 the unmasked one."""

import pytest
import torch

from benchmarks.prompt_loss_weight import PROMPT, weighted_examples, weighted_loss
from course_lib.loading import load_model_and_tokenizer
from course_lib.masking.labels import PadCollator, prepare_examples
from course_lib.masking.loss import masked_cross_entropy


@pytest.fixture(scope="module")
def tiny():
    return load_model_and_tokenizer("tiny")


def _batch(examples, tokenizer):
    return PadCollator(tokenizer.pad_token_id)(examples)


@pytest.mark.parametrize("weight, masking", [(0.0, "response"), (1.0, "none")])
def test_the_two_ends_of_the_dial_are_the_course_losses(tiny, weight, masking):
    model, tokenizer = tiny
    records = [{"instruction": "What is 2 + 3?", "response": "5"},
               {"instruction": "Say the opposite of up.", "response": "down, of course"}]
    coded = weighted_examples(tokenizer, records)
    plain = prepare_examples(records, tokenizer, masking=masking, progress=False).examples
    with torch.no_grad():
        ours = weighted_loss(weight)(None, model, _batch(coded, tokenizer))
        batch = _batch(plain, tokenizer)
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
        reference = masked_cross_entropy(logits, batch["labels"])
    assert torch.allclose(ours, reference, atol=1e-5)


def test_prompt_tokens_are_coded_below_ignore_and_keep_their_ids(tiny):
    _, tokenizer = tiny
    (coded,) = weighted_examples(tokenizer, [{"instruction": "What is 2 + 3?", "response": "5"}])
    ids, labels = coded["input_ids"], coded["labels"]
    n = sum(label <= PROMPT for label in labels)
    assert 0 < n < len(ids)
    assert [PROMPT - label for label in labels[:n]] == ids[:n]  # the prompt, ids recoverable
    assert labels[n:] == ids[n:]  # then the response, labelled as usual
