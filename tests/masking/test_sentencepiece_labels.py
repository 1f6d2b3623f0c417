"""Labels with SentencePiece-style tokenizers (Llama-2, Gemma): the response as it follows
the prompt, never with the "▁" a text on its own would get, and the same labels as TRL."""

import pytest

from course_lib.formatting.chat import CHAT_TEMPLATE_WITHOUT_MARKERS
from course_lib.formatting.templates import DEFAULT_TEMPLATE, TEMPLATES, Template, format_example
from course_lib.masking.labels import IGNORE_INDEX, prepare_examples
from course_lib.masking.trl_labels import chat_example, trl_prepare
from course_lib.world.stand_in import sentencepiece_tokenizer

# Answers that start with a digit, a letter, a space and a newline; a three-part record.
RECORDS = [
    {"instruction": "What is 2+2?", "response": "4"},
    {"instruction": "How many apples?", "response": "12 apples"},
    {"instruction": "Say hi", "input": "politely", "response": "Hello there."},
    {"instruction": "Name a colour.", "response": " red"},
    {"instruction": "Write two lines.", "response": "\nline one\nline two"},
]
STYLES = ["llama-2", "gemma"]


@pytest.fixture(scope="module")
def sp_tokenizers():
    return {style: sentencepiece_tokenizer(style) for style in STYLES}


def _after_prompt(tok, ids, n):
    """The text the ids after the first n add to the text of the first n, as a model writes it."""
    before = tok.decode(ids[:n], skip_special_tokens=True)
    return tok.decode(ids, skip_special_tokens=True)[len(before):]


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("template", list(TEMPLATES))
def test_trained_tokens_are_the_response_as_it_follows_the_prompt(sp_tokenizers, style,
                                                                  template):
    tok = sp_tokenizers[style]
    prepared = prepare_examples(RECORDS, tok, template, progress=False)
    for record, ex in zip(RECORDS, prepared.examples, strict=True):
        prompt, response = format_example(record, template)
        n = ex["labels"].count(IGNORE_INDEX)
        # The masked part is the prompt exactly as the model is asked it (BOS first)...
        assert ex["input_ids"][:n] == tok(prompt)["input_ids"]
        # ... and the trained part writes the response after it: no "▁" in front, nothing lost.
        assert ex["labels"][n:] == ex["input_ids"][n:]
        assert ex["input_ids"][-1] == tok.eos_token_id
        assert _after_prompt(tok, ex["input_ids"][:-1], n) == response
        # The ids are the whole text's, as generation after the prompt would write them.
        assert ex["input_ids"][:-1] == tok(prompt + response)["input_ids"]


@pytest.mark.slow
@pytest.mark.parametrize("style", STYLES)
def test_labels_equal_trl_with_a_sentencepiece_tokenizer(sp_tokenizers, style):
    tok = sp_tokenizers[style]
    for template in TEMPLATES:
        ours = prepare_examples(RECORDS, tok, template, progress=False)
        trl = trl_prepare(RECORDS, tok, template, max_length=None)
        assert trl.kept == ours.kept == list(range(len(RECORDS)))
        for mine, theirs in zip(ours.examples, trl.examples, strict=True):
            assert mine["input_ids"] == theirs["input_ids"], template
            assert mine["labels"] == theirs["labels"], template


@pytest.mark.parametrize("style", ["byte-level", "llama-2"])
def test_a_prompt_ending_in_a_space_keeps_its_tokens_and_the_whole_answer(
        toy_tokenizer, sp_tokenizers, style):
    # "A: " then "4": in the whole text the space joins the answer ("Ġ4", "▁4"), so the
    # prompt's own ids do not start the whole's; the prompt stays as asked, and the answer is
    # kept whole, with no second space in front (Llama-2: "4", not "▁4", after the "▁").
    tok = toy_tokenizer if style == "byte-level" else sp_tokenizers[style]
    spaced = Template(name="spaced", prompt="Q: {instruction} A: ",
                      prompt_with_input="Q: {instruction} {input} A: ")
    record = {"instruction": "What is 2+2?", "response": "4"}
    ex = prepare_examples([record], tok, spaced, progress=False).examples[0]
    prompt, response = format_example(record, spaced)
    n = ex["labels"].count(IGNORE_INDEX)
    assert ex["input_ids"][:n] == tok(prompt)["input_ids"]
    assert ex["labels"][n:] == ex["input_ids"][n:]
    assert _after_prompt(tok, ex["input_ids"][:-1], n) == response == "4"


@pytest.mark.parametrize("style", STYLES)
def test_a_chat_template_given_to_chat_example_renders_the_prompt_as_trained(sp_tokenizers,
                                                                            style):
    # Lesson 05's template without markers, given to chat_example: Llama-2's "<s>###" was
    # "<s>", "##", "#" where the prompt is "<s>", "▁###" (attach_chat_template adds the space).
    tok = sp_tokenizers[style]
    record = {"instruction": "What is 2+2?", "response": "4"}
    ex = chat_example(record, tok, chat_template=CHAT_TEMPLATE_WITHOUT_MARKERS)
    prompt, response = format_example(record, DEFAULT_TEMPLATE)
    assert ex["input_ids"][:-1] == tok(prompt + response)["input_ids"]
    assert set(ex["labels"]) == {IGNORE_INDEX}  # no markers: nothing trained
    assert tok.chat_template == sentencepiece_tokenizer(style).chat_template  # left as it was
