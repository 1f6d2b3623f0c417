"""Packing keeps every prompt's -100 and, with position_ids, every example to itself."""

import pytest
import torch

from course_lib.errors import CourseError
from course_lib.masking.labels import IGNORE_INDEX, pad_batch, prepare_examples
from course_lib.masking.packing import attention, block_causal_mask, leak_per_example, pack
from course_lib.world.toy import make_toy_model

RECORDS = [
    {"instruction": "What is 2+2?", "response": "4"},
    {"instruction": "What is the capital of France?", "response": "Paris"},
    {"instruction": "Translate this to Spanish", "input": "Hello world", "response": "Hola mundo"},
]


@pytest.fixture(scope="module")
def examples(toy_tokenizer):
    return prepare_examples(RECORDS, toy_tokenizer).examples


def test_a_packed_row_keeps_every_prompts_minus_100(examples):
    row = pack(examples)
    expected = []
    for ex in examples:  # each example's labels, its first one -100 (no target across examples)
        expected += [IGNORE_INDEX] + ex["labels"][1:]
    assert row["labels"][0].tolist() == expected
    assert row["position_ids"][0].tolist() == [i for ex in examples
                                               for i in range(len(ex["input_ids"]))]


def test_labels_made_after_packing_train_every_prompt(examples):
    """The mistake: labels from the packed input_ids, so each prompt is trained again."""
    row = pack(examples, keep_labels=False)
    prompt_positions = sum(label == IGNORE_INDEX for ex in examples for label in ex["labels"])
    trained_prompt = sum(label != IGNORE_INDEX for ex in examples for label in ex["labels"][1:])
    assert (row["labels"] == IGNORE_INDEX).sum() == len(examples) < prompt_positions
    assert (row["labels"] != IGNORE_INDEX).sum() > trained_prompt


def test_block_causal_mask_keeps_each_example_to_itself():
    mask = block_causal_mask(torch.tensor([[0, 1, 2, 0, 1]]))
    assert mask.tolist() == [
        [True, False, False, False, False],
        [True, True, False, False, False],
        [True, True, True, False, False],
        [False, False, False, True, False],
        [False, False, False, True, True],
    ]


@pytest.mark.parametrize("attention", ["eager", "sdpa"])
def test_without_position_ids_later_examples_see_earlier_ones(toy_tokenizer, examples,
                                                              attention):
    model = make_toy_model(toy_tokenizer)
    model.set_attn_implementation(attention)
    row = pack(examples)
    leaked = leak_per_example(model, examples, row, use_position_ids=False)
    assert leaked[0] < 1e-5 and min(leaked[1:]) > 1e-3  # the first has nothing before it
    separate = leak_per_example(model, examples, row, use_position_ids=True)
    assert max(separate) < 1e-4


def test_the_leak_is_the_largest_logit_difference(toy_tokenizer, examples):
    """leak_per_example reports, per example, max |logits in the row - logits alone|."""
    model = make_toy_model(toy_tokenizer)
    model.set_attn_implementation("eager")
    row = pack(examples)
    with torch.no_grad():
        packed = model(input_ids=row["input_ids"], use_cache=False).logits[0]
        starts = [0, len(examples[0]["input_ids"])]
        ids = examples[1]["input_ids"]
        alone = model(input_ids=torch.tensor([ids]), use_cache=False).logits[0]
    inside = packed[starts[1]:starts[1] + len(ids)]
    want = (inside - alone).abs().max().item()
    leaked = leak_per_example(model, examples, row, use_position_ids=False)
    assert leaked[1] == pytest.approx(want, rel=1e-5)
    assert leaked[1] > 2 * (inside - alone).abs().mean().item()  # the max, not the mean


def test_pack_refuses_records_one_example_or_none(examples):
    # Records were "KeyError: 'input_ids'", one example an AttributeError, none a ValueError.
    with pytest.raises(CourseError, match=r"examples holds records, not tokenized examples .*"
                                          r"prepare_examples\(records, tokenizer\)\.examples"):
        pack(RECORDS)
    with pytest.raises(CourseError, match=r"not one example \(a dict\); wrap one example"):
        pack(examples[0])
    with pytest.raises(CourseError, match=r"pack needs at least one example"):
        pack([])
    with pytest.raises(CourseError, match=r"examples is a padded batch, not a list of exam"):
        pack(pad_batch(examples, 0))


def test_pack_refuses_examples_it_cannot_keep_as_they_are(examples):
    ids = examples[0]["input_ids"]
    # No labels: the collator made them from the input_ids (every prompt trained), unsaid.
    with pytest.raises(CourseError, match=r"^examples\[1\] has no labels, so pack would make "
                                          r"them from its input_ids"):
        pack([examples[0], {"input_ids": examples[1]["input_ids"]}])
    # Labels shorter than the input_ids were laid out of step with them.
    with pytest.raises(CourseError, match=rf"^examples\[0\] has 2 labels for {len(ids)} "
                                          rf"input_ids"):
        pack([{"input_ids": ids, "labels": examples[0]["labels"][:2]}])
    # An empty example vanished from the row.
    with pytest.raises(CourseError, match=r"^examples\[0\] has no input_ids"):
        pack([{"input_ids": [], "labels": []}, examples[0]])
    # keep_labels="no" kept them; None dropped them.
    with pytest.raises(CourseError, match=r"^keep_labels must be True or False, not the "
                                          r"string 'no'\.$"):
        pack(examples, keep_labels="no")
    assert pack([{"input_ids": ids}], keep_labels=False)["input_ids"].shape == (1, len(ids))


def test_leak_per_example_checks_the_row_belongs_to_the_examples(toy_tokenizer, examples):
    model = make_toy_model(toy_tokenizer)
    row = pack(examples[:2])  # was "The size of tensor a (0) must match the size of tensor b"
    with pytest.raises(CourseError, match=r"^row holds \d+ tokens but examples \d+; give the "
                                          r"row packed from these examples"):
        leak_per_example(model, examples, row, use_position_ids=True)
    with pytest.raises(CourseError, match=r"^use_position_ids must be True or False"):
        leak_per_example(model, examples[:2], row, use_position_ids="no")
    with pytest.raises(CourseError, match=r"^examples holds records"):
        leak_per_example(model, RECORDS, row, use_position_ids=True)


def test_block_causal_mask_takes_one_row_as_a_list_or_tensor():
    assert block_causal_mask([0, 1, 0]).tolist() == block_causal_mask(
        torch.tensor([[0, 1, 0]])).tolist()
    # Two rows became one mask over both, as if one row.
    with pytest.raises(CourseError, match=r"^block_causal_mask takes the position_ids of one "
                                          r"packed row, not 2 rows"):
        block_causal_mask(torch.tensor([[0, 1, 0], [0, 1, 2]]))


def test_position_ids_and_examples_in_other_containers(examples):
    # A generator or a Series of position_ids was torch's "Could not infer dtype"; a DataFrame
    # of examples said it held records.
    import pandas as pd

    want = block_causal_mask(torch.tensor([0, 1, 2, 0, 1])).tolist()
    for given in ((p for p in [0, 1, 2, 0, 1]), pd.Series([0, 1, 2, 0, 1], index=[4, 3, 2, 1, 0])):
        assert block_causal_mask(given).tolist() == want
    packed, from_frame = pack(examples), pack(pd.DataFrame(examples))
    assert {k: v.tolist() for k, v in from_frame.items()} == {k: v.tolist()
                                                             for k, v in packed.items()}


@pytest.mark.parametrize("before, inside", [("sdpa", "eager"), ("eager", "sdpa")])
def test_attention_is_set_back_to_what_the_model_had(toy_tokenizer, before, inside):
    """Lesson 08's packing cell: eager attention for the cell, then the model's own kind."""
    model = make_toy_model(toy_tokenizer)
    model.set_attn_implementation(before)
    with attention(model, inside):
        assert model.config._attn_implementation == inside
    assert model.config._attn_implementation == before
    with pytest.raises(ZeroDivisionError), attention(model, inside):
        raise ZeroDivisionError  # a cell stopped halfway through
    assert model.config._attn_implementation == before

