"""Step 2: labels. -100 on every prompt token, response + EOS trained, nothing lost silently."""

import gc
from dataclasses import replace

import pytest
import torch

from course_lib.errors import CourseError
from course_lib.masking.labels import (
    IGNORE_INDEX,
    PadCollator,
    build_example,
    pad_batch,
    prepare_examples,
)

RECORDS = [
    {"instruction": "What is 2+2?", "response": "4"},
    {"instruction": "Translate this to Spanish", "input": "Hello world", "response": "Hola mundo"},
    {"instruction": "Say hi", "input": "", "output": "hello world"},  # Alpaca schema
]


@pytest.mark.parametrize("template", ["one_line", "alpaca"])
def test_labels_are_prompt_masked_then_response_and_eos(toy_tokenizer, template):
    from course_lib.formatting.templates import format_example

    prepared = prepare_examples(RECORDS, toy_tokenizer, template)
    assert prepared.kept == [0, 1, 2] and not prepared.skipped
    for record, ex in zip(RECORDS, prepared.examples, strict=True):
        prompt, response = format_example(record, template)
        p_ids = toy_tokenizer(prompt)["input_ids"]
        r_ids = toy_tokenizer(response, add_special_tokens=False)["input_ids"]
        # Segments: the example is exactly prompt tokens + response tokens + EOS.
        assert ex["input_ids"] == p_ids + r_ids + [toy_tokenizer.eos_token_id]
        assert ex["labels"] == [IGNORE_INDEX] * len(p_ids) + r_ids + [toy_tokenizer.eos_token_id]
        assert ex["attention_mask"] == [1] * len(ex["input_ids"])


def test_text_rows_train_as_written_in_their_own_template(toy_tokenizer):
    rows = [{"text": "Q: What is 2+2? A: 4"}, {"instruction": "What is 3+3?", "response": "6"},
            {"text": "Human: What is 1+1? Assistant: 2"}]
    prepared = prepare_examples(rows, toy_tokenizer, "one_line")
    texts = [toy_tokenizer.decode(ex["input_ids"], skip_special_tokens=True)
             for ex in prepared.examples]
    assert texts == ["Q: What is 2+2? A: 4", "### Instruction: What is 3+3? ### Response: 6",
                     "Human: What is 1+1? Assistant: 2"]
    trained = [toy_tokenizer.decode([t for t in ex["labels"] if t != IGNORE_INDEX],
                                    skip_special_tokens=True) for ex in prepared.examples]
    assert trained == [" 4", " 6", " 2"]  # the answer is found in every template


def test_masking_none_trains_every_token(toy_tokenizer):
    ex = build_example(RECORDS[0], toy_tokenizer, masking="none")
    assert ex["labels"] == ex["input_ids"]


def test_unknown_masking_is_refused(toy_tokenizer):
    # A CourseError (was a ValueError): lessons 03-05 pass masking themselves.
    with pytest.raises(CourseError, match="masking must be 'response' .* or 'none' "):
        prepare_examples(RECORDS, toy_tokenizer, masking="prompt")


def test_bad_record_error_names_its_index(toy_tokenizer):
    with pytest.raises(CourseError, match="example 1: "):
        prepare_examples([RECORDS[0], {"question": "?"}], toy_tokenizer)


def test_no_records_gives_an_empty_result(toy_tokenizer):
    prepared = prepare_examples([], toy_tokenizer)
    assert prepared.examples == [] and prepared.skipped == []


def test_truncation_keeps_the_start_and_reports(toy_tokenizer):
    full = build_example(RECORDS[1], toy_tokenizer)
    n = len(full["input_ids"]) - 2  # cuts the EOS and the last response token
    prepared = prepare_examples([RECORDS[1]], toy_tokenizer, max_length=n)
    assert prepared.truncated == [0] and not prepared.skipped
    assert prepared.examples[0]["input_ids"] == full["input_ids"][:n]
    assert prepared.examples[0]["labels"] == full["labels"][:n]
    assert "1 was cut to max_length" in prepared.report()


def test_truncation_to_the_prompt_is_skipped_and_named(toy_tokenizer):
    prepared = prepare_examples(RECORDS, toy_tokenizer, max_length=8)
    assert sorted(i for i, _ in prepared.skipped) == [0, 1, 2]
    assert prepared.examples == [] and prepared.kept == []
    report = prepared.report()
    assert "0 of 3 examples" in report and "examples 0, 1, 2" in report
    assert prepared.truncated == [] and "lost the EOS" not in report  # skipped, not also cut
    assert "raise max_length (--max-length) or shorten their prompts." in report
    one = prepare_examples(RECORDS[:1], toy_tokenizer, max_length=8).report()
    assert "raise max_length (--max-length) or shorten its prompt." in one
    # At the model's context there is no more to give: was "raise max_length" all the same.
    at_most = replace(prepared, context=8).report()
    assert "the model reads at most 8 tokens, so shorten their prompts." in at_most
    assert "raise max_length" not in at_most


def test_build_example_raises_when_nothing_is_left(toy_tokenizer):
    with pytest.raises(CourseError, match="raise max_length"):  # was a ValueError
        build_example(RECORDS[0], toy_tokenizer, max_length=3)


def test_tokenizer_without_eos_is_refused(toy_tokenizer):
    import copy

    tok = copy.deepcopy(toy_tokenizer)
    tok.eos_token = None
    with pytest.raises(CourseError, match="eos_token") as info:  # was a ValueError
        prepare_examples(RECORDS, tok)
    assert "--model" in info.value.cli and "tokenizer.eos_token" not in info.value.cli


def test_pad_batch_pads_right_and_labels_by_position(toy_tokenizer):
    a, b = (build_example(r, toy_tokenizer) for r in RECORDS[:2])
    batch = pad_batch([a, b], toy_tokenizer.pad_token_id, pad_to_multiple_of=8)
    width = batch["input_ids"].shape[1]
    assert width % 8 == 0 and width >= max(len(a["input_ids"]), len(b["input_ids"]))
    for row, ex in enumerate((a, b)):
        n = len(ex["input_ids"])
        assert batch["input_ids"][row, :n].tolist() == ex["input_ids"]
        assert (batch["input_ids"][row, n:] == toy_tokenizer.pad_token_id).all()
        assert batch["attention_mask"][row].tolist() == [1] * n + [0] * (width - n)
        assert batch["labels"][row].tolist() == ex["labels"] + [IGNORE_INDEX] * (width - n)
    assert batch["labels"].dtype == torch.long


def test_pad_collator_is_pad_batch(toy_tokenizer_pad_is_eos):
    tok = toy_tokenizer_pad_is_eos
    exs = [build_example(r, tok) for r in RECORDS]
    got = PadCollator(tok.pad_token_id)(exs)
    want = pad_batch(exs, tok.pad_token_id)
    assert all(torch.equal(got[k], want[k]) for k in want)
    # Every row's real EOS (last real token) stays trained although it equals the pad id.
    for row, ex in enumerate(exs):
        assert got["labels"][row, len(ex["input_ids"]) - 1] == tok.eos_token_id


def test_pad_batch_refuses_an_empty_batch():
    with pytest.raises(CourseError, match="no examples"):  # was a ValueError
        pad_batch([], 0)


def test_an_example_exactly_max_length_long_is_not_cut(toy_tokenizer):
    """At len == max_length nothing is cut: not truncated, its EOS stays trained."""
    full = build_example(RECORDS[1], toy_tokenizer)
    n = len(full["input_ids"])
    prepared = prepare_examples([RECORDS[1]], toy_tokenizer, max_length=n)
    assert prepared.truncated == [] and prepared.examples == [full]
    assert "cut to" not in prepared.report()
    assert prepare_examples([RECORDS[1]], toy_tokenizer, max_length=n - 1).truncated == [0]


def test_masking_none_cut_at_the_prompt_end_trains_the_prompt_alone(toy_tokenizer):
    """max_length == prompt length leaves no response token: with masking 'none' that is
    named (prompt_only), not trained on silently."""
    from course_lib.formatting.templates import format_example

    prompt, _ = format_example(RECORDS[0])
    n_prompt = len(toy_tokenizer(prompt)["input_ids"])
    at_end = prepare_examples([RECORDS[0]], toy_tokenizer, masking="none", max_length=n_prompt)
    assert at_end.prompt_only == [0] and at_end.kept == [0]
    assert "whole response" in at_end.report()
    one_more = prepare_examples([RECORDS[0]], toy_tokenizer, masking="none",
                                max_length=n_prompt + 1)
    assert one_more.prompt_only == [] and one_more.truncated == [0]


@pytest.mark.parametrize("max_length", [0, -5])
def test_max_length_below_one_is_refused(toy_tokenizer, max_length):
    with pytest.raises(CourseError, match="max_length must be a whole number of tokens, at "
                                          "least 1"):  # was a ValueError
        prepare_examples(RECORDS, toy_tokenizer, max_length=max_length)


def test_a_report_of_many_examples_counts_those_not_listed(toy_tokenizer):
    """Eight places are listed, the rest counted: nothing is left out of the sentence."""
    prepared = prepare_examples([RECORDS[0]] * 11, toy_tokenizer, max_length=3)
    assert len(prepared.skipped) == 11
    assert "(examples 0, 1, 2, 3, 4, 5, 6, 7 and 3 more)" in prepared.report()


def test_as_rows_keeps_the_attention_mask_of_one_example():
    from course_lib.masking.labels import as_rows

    one = {"input_ids": (5, 6, 0), "attention_mask": [1, 1, 0],
           "labels": [IGNORE_INDEX, 6, IGNORE_INDEX]}
    assert as_rows(one) == [{"input_ids": [5, 6, 0], "labels": [IGNORE_INDEX, 6, IGNORE_INDEX],
                             "attention_mask": [1, 1, 0]}]
    # The same example as 1-D tensors is one row too (it was read as a batch: a TypeError).
    as_tensors = {k: torch.tensor(v) for k, v in one.items()}
    assert as_rows(as_tensors) == as_rows(one)
    assert as_rows({k: v.unsqueeze(0) for k, v in as_tensors.items()}) == as_rows(one)


class _GcWatcher:
    """A tokenizer that notes, at each call, whether Python's cycle collector is on."""

    def __init__(self, tokenizer):
        self.tokenizer, self.collector_on = tokenizer, []

    def __getattr__(self, name):
        return getattr(self.tokenizer, name)

    def __call__(self, *args, **kwargs):
        self.collector_on.append(gc.isenabled())
        return self.tokenizer(*args, **kwargs)


def test_examples_are_built_with_the_cycle_collector_paused(toy_tokenizer):
    # Its full passes walked every list built so far: a quarter of preparing 50k records.
    records = [{"instruction": f"Add {i} and 1.", "response": str(i + 1)} for i in range(2500)]
    watcher = _GcWatcher(toy_tokenizer)
    ready = prepare_examples(records, watcher)
    assert len(ready.examples) == 2500 and watcher.collector_on == [False] * 6
    assert gc.isenabled()  # on again afterwards
    gc.disable()  # a caller that turned it off keeps it off
    try:
        prepare_examples(records[:1], watcher)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_one_int_object_per_token_id_across_examples(toy_tokenizer):
    # A tokenizer makes a new int object per token (Python shares only 0..256): 32 of the 56
    # bytes a kept token took, 0.26 GB of 50k Alpaca-sized rows.
    ready = prepare_examples([{"instruction": "Name the capital city.", "response": "Lima"}] * 2,
                             toy_tokenizer)
    first, second = (ex["input_ids"] for ex in ready.examples)
    shared = [i for i, token in enumerate(first) if token > 256]
    assert shared and all(first[i] is second[i] for i in shared)


def test_misused_arguments_of_prepare_examples_say_what_to_give(toy_tokenizer, toy_model_dir):
    """Lesson 03's calls with a learner's slips: the model or a name as the tokenizer, a data
    set's name as the records, max_length as text. Were AttributeErrors ("no attribute
    'eos_token_id'"), "example 0: expected a JSON object, got str" and TypeErrors."""
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(toy_model_dir)
    with pytest.raises(CourseError, match="tokenizer must be the tokenizer, not LlamaFor"):
        prepare_examples(RECORDS, model)
    with pytest.raises(CourseError, match="records must be a list of records, not the string "
                                          "'course:train'; load them first"):
        prepare_examples("course:train", toy_tokenizer)
    with pytest.raises(CourseError, match="records is one record"):
        prepare_examples(RECORDS[0], toy_tokenizer)
    for max_length in ("64", 2.5):
        with pytest.raises(CourseError, match="max_length must be a whole number of tokens"):
            prepare_examples(RECORDS, toy_tokenizer, max_length=max_length)


def test_build_example_takes_one_record_and_the_tokenizer(toy_tokenizer):
    # A list of records or a data set's name was "example 0: expected a JSON object".
    for given, what in ((RECORDS, "a list"), ("course:train", "the string 'course:train'")):
        with pytest.raises(CourseError, match=f"record must be one record \\(a dict\\), not "
                                              f"{what}; for many, call prepare_examples"):
            build_example(given, toy_tokenizer)
    with pytest.raises(CourseError, match=r"call build_example\(record, tokenizer\)"):
        build_example(RECORDS[0], "tiny")


def test_pad_batch_says_what_to_give(toy_tokenizer):
    """Were TypeErrors ("'PreparedData' object is not iterable", "string indices must be
    integers", "cannot be interpreted as an integer") and a KeyError: 'input_ids'."""
    prepared = prepare_examples(RECORDS, toy_tokenizer)
    pad = toy_tokenizer.pad_token_id
    with pytest.raises(CourseError, match="what prepare_examples returned; give its examples"):
        pad_batch(prepared, pad)
    with pytest.raises(CourseError, match="holds records, not tokenized examples"):
        pad_batch(RECORDS, pad)
    with pytest.raises(CourseError, match="not one example"):
        pad_batch(prepared.examples[0], pad)
    with pytest.raises(CourseError, match="a padded batch"):
        pad_batch(pad_batch(prepared.examples, pad), pad)
    with pytest.raises(CourseError, match="pad_token_id must be a token id such as "
                                          "tokenizer.pad_token_id, not the tokenizer"):
        pad_batch(prepared.examples, toy_tokenizer)
    with pytest.raises(CourseError, match="not None; a tokenizer without one needs "
                                          "tokenizer.pad_token set first"):
        pad_batch(prepared.examples, None)


def test_examples_as_a_dataframe_or_a_numpy_batch_read_as_a_list_of_them(toy_tokenizer):
    # A DataFrame was iterated by its column names: the collator tokenized "input_ids",
    # "attention_mask" and "labels" as three texts, without a word; a numpy batch's rows were
    # one row's ids (a TypeError from int()).
    import pandas as pd

    from course_lib.masking.labels import as_rows
    from course_lib.masking.standard_collator import lm_collator_batch

    examples = prepare_examples(RECORDS, toy_tokenizer).examples
    frame = pd.DataFrame(examples)
    assert as_rows(frame) == as_rows(examples)
    for got, want in ((lm_collator_batch(frame, toy_tokenizer),
                       lm_collator_batch(examples, toy_tokenizer)),
                      (pad_batch(frame, 0), pad_batch(examples, 0))):
        assert {k: v.tolist() for k, v in got.items()} == {k: v.tolist() for k, v in want.items()}
    batch = pad_batch(examples, 0)
    assert as_rows({k: v.numpy() for k, v in batch.items()}) == as_rows(batch)


def test_a_records_own_template_column_is_read_as_training_reads_it(toy_tokenizer):
    """A 'template' column that names no text row's template ('v2', a data set's own) is an
    extra field, as train() reads it: prepare_examples failed with "Unknown template 'v2'".
    A text row's own template still wins over the one asked for."""
    row = {"instruction": "What is 2+2?", "input": "", "response": "4"}
    plain = prepare_examples([row], toy_tokenizer).examples
    assert prepare_examples([{**row, "template": "v2"}], toy_tokenizer).examples == plain
    qa = prepare_examples([{"text": "Q: What is 2+2? A: 4"}], toy_tokenizer).examples
    assert prepare_examples([{**row, "template": "qa"}], toy_tokenizer).examples == qa != plain
