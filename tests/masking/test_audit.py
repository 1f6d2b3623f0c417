"""audit_labels finds each masking mistake and names the example."""

import math

import pytest
import torch
from wcag import text_contrasts

from course_lib.errors import CourseError
from course_lib.masking.audit import audit_labels
from course_lib.masking.labels import IGNORE_INDEX, pad_batch, prepare_examples
from course_lib.masking.standard_collator import lm_collator_batch
from course_lib.masking.template_search import tokenize_texts
from course_lib.world.toy import make_toy_model

RECORDS = [
    {"instruction": "What is 2+2?", "response": "4"},
    {"instruction": "Translate this to Spanish", "input": "Hello world", "response": "Hola mundo"},
]


def test_correct_labels_pass(toy_tokenizer):
    exs = prepare_examples(RECORDS, toy_tokenizer).examples
    audit = audit_labels(pad_batch(exs, toy_tokenizer.pad_token_id), toy_tokenizer)
    assert audit.ok and audit.warnings == []
    assert [e.n_trained for e in audit.examples] == [2, 4]
    assert audit.n_trained == 6
    assert audit.n_predictions == sum(len(e["input_ids"]) - 1 for e in exs)
    assert audit.trained_fraction == 6 / audit.n_predictions
    assert "No masking problem found." in str(audit)


def test_fully_masked_row_is_named_with_nan_and_advice(toy_tokenizer):
    exs = prepare_examples(RECORDS, toy_tokenizer).examples
    exs[1] = {**exs[1], "labels": [IGNORE_INDEX] * len(exs[1]["labels"])}
    audit = audit_labels(exs, toy_tokenizer, indices=[4, 7])
    assert audit.fully_masked == [7]
    assert len(audit.warnings) == 1
    assert audit.warnings[0].startswith("Example 7 has no trained token: its loss is 0/0 = NaN")
    assert "raise max_length" in audit.warnings[0]


def test_standard_collator_with_pad_eos_is_flagged_twice_per_row(toy_tokenizer_pad_is_eos):
    tok = toy_tokenizer_pad_is_eos
    batch = lm_collator_batch(tokenize_texts(RECORDS, tok), tok)
    audit = audit_labels(batch, tok)
    assert audit.eos_untrained == [0, 1]
    for i in (0, 1):
        mine = [w for w in audit.warnings if w.startswith(f"Example {i}")]
        assert any("trains on its prompt" in w for w in mine)
        assert any("pad == eos" in w and "by position" in w for w in mine)


def test_eos_not_trained_without_pad_eos(toy_tokenizer):
    ex = prepare_examples(RECORDS[:1], toy_tokenizer).examples[0]
    ex["labels"][-1] = IGNORE_INDEX
    audit = audit_labels([ex], toy_tokenizer)
    assert audit.eos_untrained == [0]
    assert "EOS is not trained" in audit.warnings[0] and "pad == eos" not in audit.warnings[0]


def test_missing_eos_is_flagged(toy_tokenizer):
    ex = prepare_examples(RECORDS[:1], toy_tokenizer).examples[0]
    ex = {k: v[:-1] for k, v in ex.items()}
    assert "has no EOS token" in audit_labels([ex], toy_tokenizer).warnings[0]


def test_labels_on_padding_are_flagged(toy_tokenizer):
    exs = prepare_examples(RECORDS, toy_tokenizer).examples
    batch = pad_batch(exs, toy_tokenizer.pad_token_id)
    batch["labels"] = torch.where(batch["attention_mask"] == 0, batch["input_ids"],
                                  batch["labels"])  # pads trained, as in a by-hand bug
    audit = audit_labels(batch, toy_tokenizer)
    short = 0 if len(exs[0]["input_ids"]) < len(exs[1]["input_ids"]) else 1
    gap = batch["input_ids"].shape[1] - len(exs[short]["input_ids"])
    assert any(w.startswith(f"Example {short} trains on {gap} padding position")
               for w in audit.warnings)


def test_template_not_found_is_flagged_for_the_seed_template(toy_tokenizer):
    exs = prepare_examples(RECORDS, toy_tokenizer, "one_line").examples
    audit = audit_labels(exs, toy_tokenizer, response_template="### Response:")
    assert len(audit.warnings) == 2
    assert all("explain_template_mismatch" in w for w in audit.warnings)
    alpaca = prepare_examples(RECORDS, toy_tokenizer, "alpaca").examples
    assert audit_labels(alpaca, toy_tokenizer, response_template="### Response:").ok


def test_reports_render(toy_tokenizer):
    audit = audit_labels(prepare_examples(RECORDS, toy_tokenizer).examples, toy_tokenizer)
    html = audit._repr_html_()
    assert "<table>" in html and html.count("<tr>") == 3
    assert str(audit).startswith("2 examples, 6 of ")
    assert not math.isnan(audit.examples[0].trained_fraction)


def test_the_problems_column_is_readable_on_light_and_dark_pages(toy_tokenizer):
    # A fixed red or green text was 3.5:1 and 3.7:1 on JupyterLab Dark's page (AA: 4.5).
    exs = prepare_examples(RECORDS, toy_tokenizer).examples
    exs[0]["labels"] = [IGNORE_INDEX] * len(exs[0]["labels"])  # a problem: nothing trained
    html = audit_labels(exs, toy_tokenizer)._repr_html_()
    assert "ok" in html and min(text_contrasts(html)) >= 4.5


def test_missing_labels_is_an_error_naming_the_example(toy_tokenizer):
    # A CourseError, no longer a ValueError: a learner auditing records or tokenize_texts'
    # rows (lesson 03) reaches it, and nothing catches the ValueError.
    with pytest.raises(CourseError, match="example 0 has no labels to audit; give labelled"):
        audit_labels([{"input_ids": [1, 2]}], toy_tokenizer)
    with pytest.raises(CourseError, match="example 0 has no labels"):  # records
        audit_labels(RECORDS, toy_tokenizer)


def test_position_zero_is_never_counted_as_trained(toy_tokenizer):
    """Labels = input_ids (masking 'none'): every prediction is trained, the first token is
    no prediction, so n_trained = n_tokens - 1 and the fractions are exactly 1."""
    exs = prepare_examples(RECORDS, toy_tokenizer, masking="none").examples
    audit = audit_labels(exs, toy_tokenizer)
    assert [e.n_trained for e in audit.examples] == [len(e["input_ids"]) - 1 for e in exs]
    assert [e.trained_fraction for e in audit.examples] == [1.0, 1.0]
    assert audit.trained_fraction == 1.0


def test_an_examples_fraction_counts_predictions_not_tokens(toy_tokenizer):
    exs = prepare_examples(RECORDS, toy_tokenizer).examples
    audit = audit_labels(exs, toy_tokenizer)
    assert [e.trained_fraction for e in audit.examples] == [
        2 / (len(exs[0]["input_ids"]) - 1), 4 / (len(exs[1]["input_ids"]) - 1)]


def test_mismatched_lengths_are_refused(toy_tokenizer):
    ex = prepare_examples(RECORDS[:1], toy_tokenizer).examples[0]
    # CourseErrors (were ValueErrors): examples and indices are the learner's own.
    with pytest.raises(CourseError, match="labels must line up with input_ids, one label"):
        audit_labels([{**ex, "labels": ex["labels"][:-1]}], toy_tokenizer)
    with pytest.raises(CourseError, match="indices holds 2 entries for 1 examples; give one"):
        audit_labels([ex], toy_tokenizer, indices=[3, 4])


def test_audit_labels_names_the_model_or_swapped_arguments(toy_tokenizer):
    exs = prepare_examples(RECORDS, toy_tokenizer).examples
    # The model was "has no attribute 'eos_token_id'"; swapped, "object is not iterable".
    for args, what in (((exs, make_toy_model(toy_tokenizer)), "LlamaForCausalLM"),
                       ((toy_tokenizer, exs), "list")):
        with pytest.raises(CourseError, match=rf"tokenizer must be the tokenizer, not {what}; "
                                              rf"call audit_labels\(examples, tokenizer\)\."):
            audit_labels(*args)


def test_audit_of_prepare_examples_result_or_texts_says_what_to_give(toy_tokenizer):
    """Were TypeError: 'PreparedData' object is not iterable, and ValueError("texts need a
    tokenizer"), though the learner had given one."""
    prepared = prepare_examples(RECORDS, toy_tokenizer)
    with pytest.raises(CourseError, match="give its examples: prepare_examples"):
        audit_labels(prepared, toy_tokenizer)
    with pytest.raises(CourseError, match="hold text .* not token ids; tokenize them first"):
        audit_labels(["### Instruction: Hi ### Response: 4"], toy_tokenizer)
    with pytest.raises(CourseError, match="names holds 1 entries for 2 examples"):
        audit_labels(prepared.examples, toy_tokenizer, names=["line 1"])


def test_indices_and_names_in_any_container_are_read_by_position(toy_tokenizer):
    # A generator had no len(); a Series was looked up by its index labels (a KeyError, or
    # another example's name where the labels are a permutation).
    import pandas as pd

    examples = prepare_examples(RECORDS + [{"instruction": "x", "response": ""}],
                                toy_tokenizer).examples
    examples[1] = {**examples[1], "labels": [IGNORE_INDEX] * len(examples[1]["labels"])}
    names = ["line 3", "line 8", "line 9"]
    want = audit_labels(examples, toy_tokenizer, names=names).warnings
    assert any(w.startswith("line 8 has no trained token") for w in want)
    for given in ((n for n in names), pd.Series(names, index=[1, 0, 2]), tuple(names)):
        assert audit_labels(examples, toy_tokenizer, names=given).warnings == want
    indices = audit_labels(examples, toy_tokenizer, indices=(i for i in (5, 6, 7)))
    assert audit_labels(examples, toy_tokenizer, indices=pd.Series([5, 6, 7], index=[9, 8, 7])
                        ).fully_masked == indices.fully_masked == [6]
