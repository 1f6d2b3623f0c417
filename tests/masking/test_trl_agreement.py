"""Our labels and loss agree with TRL 1.x and transformers (guards against API drift)."""

import pytest
import torch

from course_lib.errors import CourseError
from course_lib.masking.labels import IGNORE_INDEX, pad_batch, prepare_examples
from course_lib.masking.loss import masked_cross_entropy
from course_lib.masking.trl_labels import chat_example, trl_prepare
from course_lib.world.toy import make_toy_model, make_toy_tokenizer

RECORDS = [
    {"instruction": "What is 2+2?", "response": "4"},  # two-part
    {"instruction": "Translate this to Spanish", "input": "Hello world",
     "response": "Hola mundo"},  # three-part
    {"instruction": "What is the capital of france?", "response": "Paris.\nIt is in France."},
    {"instruction": "Say hello", "input": "to the world", "output": "hello world"},  # Alpaca
    {"instruction": "Name a colour", "context": "red or blue", "response": "red"},  # Dolly
]


@pytest.mark.slow
@pytest.mark.parametrize("template", ["one_line", "alpaca"])
@pytest.mark.parametrize("pad_is_eos", [False, True])
def test_labels_equal_trl_sft_trainer(template, pad_is_eos, toy_tokenizer,
                                      toy_tokenizer_pad_is_eos):
    tok = toy_tokenizer_pad_is_eos if pad_is_eos else toy_tokenizer
    ours = prepare_examples(RECORDS, tok, template)
    trl = trl_prepare(RECORDS, tok, template, max_length=1024)
    assert trl.kept == ours.kept == list(range(len(RECORDS)))
    for mine, theirs in zip(ours.examples, trl.examples, strict=True):
        assert mine["input_ids"] == theirs["input_ids"]
        assert mine["labels"] == theirs["labels"]
        assert mine["labels"][-1] == tok.eos_token_id  # EOS trained in both


@pytest.mark.slow
def test_truncation_drops_the_same_examples_as_trl(toy_tokenizer):
    max_length = 16  # the seed prompt of records 1 and 2 alone is longer
    ours = prepare_examples(RECORDS, toy_tokenizer, "one_line", max_length=max_length)
    trl = trl_prepare(RECORDS, toy_tokenizer, "one_line", max_length=max_length)
    assert ours.skipped, "the test needs at least one example truncated away"
    # TRL drops them silently; the course reports them too
    assert [i for i, _ in trl.skipped] == [i for i, _ in ours.skipped]
    assert trl.kept == ours.kept
    assert [e["labels"] for e in trl.examples] == [e["labels"] for e in ours.examples]


@pytest.mark.slow
def test_the_explorer_trl_strategy_matches_response_only(toy_tokenizer):
    import re

    from course_lib.masking.view import mask_explorer

    def chips(html):  # every chip's tooltip: "id X, label Y"
        return re.findall(r'title="(id \d+, label -?\d+)"', html)

    box = mask_explorer(RECORDS[:2], toy_tokenizer)
    picker, _, strategy, out = box.children
    for index in (0, 1):
        picker.value = index
        strategy.value = "response"
        response = chips(out.value)
        strategy.value = "trl"
        assert "TRL 1.x SFTTrainer" in out.value
        assert response and chips(out.value) == response


def test_trl_padding_collator_pads_like_ours(toy_tokenizer_pad_is_eos):
    from trl.trainer.sft_trainer import DataCollatorForLanguageModeling

    tok = toy_tokenizer_pad_is_eos
    examples = prepare_examples(RECORDS, tok).examples
    theirs = DataCollatorForLanguageModeling(pad_token_id=tok.pad_token_id)(
        [{"input_ids": e["input_ids"], "labels": e["labels"]} for e in examples])
    mine = pad_batch(examples, tok.pad_token_id)
    for key in ("input_ids", "attention_mask", "labels"):
        assert torch.equal(theirs[key], mine[key]), key


def test_the_old_collator_is_gone_from_trl():
    # The seed imports it; TRL removed it in 0.20. Lessons must not rely on it.
    with pytest.raises(ImportError):
        from trl import DataCollatorForCompletionOnlyLM  # noqa: F401


@pytest.mark.parametrize("pad_is_eos", [False, True])
def test_model_loss_equals_hand_computed_masked_cross_entropy(
    pad_is_eos, toy_model_dir, toy_tokenizer, toy_tokenizer_pad_is_eos
):
    from transformers import AutoModelForCausalLM

    tok = toy_tokenizer_pad_is_eos if pad_is_eos else toy_tokenizer
    model = AutoModelForCausalLM.from_pretrained(toy_model_dir)
    model.eval()
    batch = pad_batch(prepare_examples(RECORDS, tok).examples, tok.pad_token_id)
    assert (batch["attention_mask"] == 0).any(), "the batch must contain padding"
    with torch.no_grad():
        out = model(**batch)
    by_hand = masked_cross_entropy(out.logits, batch["labels"])
    assert out.loss.item() == pytest.approx(by_hand.item(), rel=1e-5)
    # And it is not the loss over every token: masking changes the number.
    everything = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, IGNORE_INDEX)
    assert masked_cross_entropy(out.logits, everything).item() != pytest.approx(by_hand.item())


def test_trl_prepare_and_chat_example_name_what_they_were_given(toy_tokenizer):
    records = [{"instruction": "What is 2+2?", "response": "4"}]
    model = make_toy_model(toy_tokenizer)
    # Each was a TypeError or AttributeError from inside TRL or transformers.
    for call, what, fix in [(lambda: trl_prepare(records, model), "LlamaForCausalLM",
                             r"trl_prepare\(records, tokenizer\)"),
                            (lambda: trl_prepare(toy_tokenizer, records), "list", "trl_prepare"),
                            (lambda: chat_example(records[0], model), "LlamaForCausalLM",
                             r"chat_example\(chat, tokenizer\)")]:
        with pytest.raises(CourseError, match=rf"tokenizer must be the tokenizer, not {what}; "
                                              rf"call {fix}"):
            call()
    with pytest.raises(CourseError, match=r"not the string 'course:train'; load them first"):
        trl_prepare("course:train", toy_tokenizer)
    # No chat template: transformers' ValueError pointed to its documentation.
    bare = make_toy_tokenizer()  # a fresh one: the session's may have a template attached
    assert not bare.chat_template
    with pytest.raises(CourseError, match=r"attach_chat_template\(tokenizer\)\.$"):
        chat_example(records[0], bare)


def test_trl_prepare_leaves_the_tokenizer_and_model_as_given():
    # SFTTrainer gives a tokenizer with no pad token its EOS, and copies that id into the
    # model's config and generation config: the caller's objects, changed after the call.
    tok = make_toy_tokenizer()
    model = make_toy_model(tok)
    tok.pad_token = None  # as many base models' tokenizers come
    pads = model.config.pad_token_id, model.generation_config.pad_token_id
    trl = trl_prepare(RECORDS[:2], tok, model=model)
    assert len(trl.examples) == 2
    assert tok.pad_token is None
    assert (model.config.pad_token_id, model.generation_config.pad_token_id) == pads


def test_chat_messages_as_a_tuple_are_the_messages():
    # A tuple of messages was "record: expected a JSON object, got a list".
    from course_lib.formatting.chat import attach_chat_template

    tok = attach_chat_template(make_toy_tokenizer())
    messages = [{"role": "user", "content": "What is 2+2?"},
                {"role": "assistant", "content": "4"}]
    want = chat_example(messages, tok)
    assert chat_example(tuple(messages), tok) == want == chat_example(iter(messages), tok)
