"""Template search (the old TRL collator), its failure and fixes; the standard collator."""

import warnings

import pytest
from wcag import text_contrasts

from course_lib.errors import CourseError
from course_lib.formatting.templates import format_text
from course_lib.loading import load_tokenizer
from course_lib.masking import MASKINGS
from course_lib.masking.labels import IGNORE_INDEX, prepare_examples
from course_lib.masking.standard_collator import lm_collator_batch, mlm_collator_batch
from course_lib.masking.strategies import label_examples
from course_lib.masking.template_search import (
    CompletionOnlyCollator,
    explain_template_mismatch,
    find_subsequence,
    template_ids_for,
    template_ids_in_context,
    tokenize_texts,
)
from course_lib.world.toy import make_toy_model

SEED_TEXT = "### Instruction: What is 2+2? ### Response: 4"
RECORDS = [
    {"instruction": "What is 2+2?", "response": "4"},
    {"instruction": "Translate this to Spanish", "input": "Hello world", "response": "Hola mundo"},
]


def _collate(collator, examples):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        batch = collator(examples)
    return batch, [str(w.message) for w in caught]


def test_find_subsequence():
    assert find_subsequence([5, 1, 2, 3, 1, 2], [1, 2]) == 1
    assert find_subsequence([5, 1, 2], [2, 1]) is None
    assert find_subsequence([1], [1, 2]) is None
    assert find_subsequence([1, 2], []) is None


def test_seed_template_is_not_found_and_the_row_is_fully_masked(toy_tokenizer):
    """The real failure: '### Response:' alone starts with '###', in context with ' ###'."""
    collator = CompletionOnlyCollator("### Response:", toy_tokenizer, mlm=False)
    batch, messages = _collate(collator, [SEED_TEXT])
    assert collator.found == [False]
    assert (batch["labels"] == IGNORE_INDEX).all()
    assert len(messages) == 1
    assert "Could not find response key `### Response:`" in messages[0]
    assert "This instance will be ignored in loss calculation" in messages[0]


def test_the_mismatch_is_the_leading_space(toy_tokenizer):
    alone = toy_tokenizer.encode("### Response:", add_special_tokens=False)
    in_context = template_ids_in_context(toy_tokenizer, "### Response:", SEED_TEXT)
    assert alone != in_context
    assert toy_tokenizer.decode(alone) == "### Response:"
    assert toy_tokenizer.decode(in_context) == " ### Response:"
    full = toy_tokenizer.encode(SEED_TEXT, add_special_tokens=False)
    assert find_subsequence(full, alone) is None
    assert find_subsequence(full, in_context) is not None


def test_explain_template_mismatch_shows_both_tokenizations(toy_tokenizer):
    report = explain_template_mismatch(toy_tokenizer, "### Response:", SEED_TEXT)
    assert not report.found
    text = str(report)
    assert "'###'" in text and "'·###'" in text  # both first tokens named, · for a space
    assert "Ġ" not in text
    assert str(report.context_ids) in text and "Fix:" in text
    assert "<pre" in report._repr_html_()


def test_the_verdict_is_readable_on_light_and_dark_pages(toy_tokenizer):
    # A fixed red or green text was 3.5:1 and 3.7:1 on JupyterLab Dark's page (AA: 4.5).
    for text, found in ((SEED_TEXT, False), (format_text(RECORDS[0], "alpaca"), True)):
        report = explain_template_mismatch(toy_tokenizer, "### Response:", text)
        assert report.found == found
        assert min(text_contrasts(report._repr_html_())) >= 4.5, found


def test_alpaca_template_is_found_because_a_newline_precedes_it(toy_tokenizer):
    text = format_text(RECORDS[0], "alpaca")
    assert explain_template_mismatch(toy_tokenizer, "### Response:", text).found
    collator = CompletionOnlyCollator("### Response:", toy_tokenizer)
    batch, messages = _collate(collator, [text])
    assert collator.found == [True] and messages == []
    trained = [t for t in batch["labels"][0].tolist() if t != IGNORE_INDEX]
    # The old collator trains from right after "### Response:", so the newline too.
    assert toy_tokenizer.decode(trained) == "\n4"


def test_fix_1_template_ids_taken_from_context(toy_tokenizer):
    ids = template_ids_for(toy_tokenizer, "one_line")
    collator = CompletionOnlyCollator(ids, toy_tokenizer)
    batch, messages = _collate(collator, tokenize_texts(RECORDS, toy_tokenizer))
    assert messages == [] and collator.found == [True, True]
    # With the right ids it agrees with segment labels (fix 2) on both records.
    ours = prepare_examples(RECORDS, toy_tokenizer).examples
    for row, ex in enumerate(ours):
        n = len(ex["labels"])
        assert batch["labels"][row, :n].tolist() == ex["labels"]


def test_the_historical_context_slice_recipe_gives_the_same_ids(toy_tokenizer):
    # TRL docs (trl#622): encode the template with a little context, drop the context tokens.
    with_context = toy_tokenizer.encode("? ### Response:", add_special_tokens=False)[1:]
    assert with_context == template_ids_for(toy_tokenizer, "one_line")


def test_old_collator_masks_padding_by_id_so_pad_eos_loses_the_eos(toy_tokenizer_pad_is_eos):
    tok = toy_tokenizer_pad_is_eos
    collator = CompletionOnlyCollator(template_ids_for(tok, "one_line"), tok)
    batch, _ = _collate(collator, tokenize_texts(RECORDS, tok))
    assert tok.eos_token_id not in batch["labels"].tolist()[0]  # the real EOS was masked


def test_mlm_true_and_empty_template_are_refused(toy_tokenizer):
    # CourseErrors (were ValueErrors): lesson 03 builds this collator with its own arguments.
    with pytest.raises(CourseError, match="leave mlm out"):
        CompletionOnlyCollator("### Response:", toy_tokenizer, mlm=True)
    with pytest.raises(CourseError, match="has no tokens; give the marker"):
        CompletionOnlyCollator([], toy_tokenizer)


def test_template_ids_in_context_needs_the_marker(toy_tokenizer):
    with pytest.raises(CourseError, match="does not occur"):  # was a ValueError
        template_ids_in_context(toy_tokenizer, "### Answer:", SEED_TEXT)


def test_standard_collator_trains_the_prompt(toy_tokenizer):
    batch = lm_collator_batch(tokenize_texts(RECORDS, toy_tokenizer), toy_tokenizer)
    for row, ex in enumerate(tokenize_texts(RECORDS, toy_tokenizer)):
        n = len(ex["input_ids"])
        assert batch["labels"][row, :n].tolist() == ex["input_ids"]  # prompt included
        assert (batch["labels"][row, n:] == IGNORE_INDEX).all()


def test_standard_collator_masks_the_real_eos_when_pad_is_eos(toy_tokenizer_pad_is_eos):
    tok = toy_tokenizer_pad_is_eos
    examples = tokenize_texts(RECORDS, tok)
    batch = lm_collator_batch(examples, tok)
    for row, ex in enumerate(examples):
        assert ex["input_ids"][-1] == tok.eos_token_id
        assert batch["labels"][row, len(ex["input_ids"]) - 1] == IGNORE_INDEX


@pytest.mark.parametrize("strategy", ["none", "response", "template"])
def test_strategy_examples_keep_every_record(toy_tokenizer, strategy):
    examples = label_examples(RECORDS, toy_tokenizer, strategy, "one_line")
    assert len(examples) == len(RECORDS)
    trained = [sum(t != IGNORE_INDEX for t in e["labels"]) for e in examples]
    if strategy == "none":
        assert trained == [len(e["input_ids"]) for e in examples]
    elif strategy == "response":
        assert trained == [2, 4]  # " 4" EOS / " " "Hola" " mundo" EOS
    else:
        assert trained == [0, 0]  # the seed template is never found


def test_strategy_examples_refuses_unknown(toy_tokenizer):
    assert set(MASKINGS) == {"none", "response", "template", "trl"}
    with pytest.raises(CourseError, match="masking must be one of"):  # was a ValueError
        label_examples(RECORDS, toy_tokenizer, "random")


@pytest.mark.parametrize("vocab_size", [260, 300, 400, 600])
def test_any_byte_level_bpe_fails_exactly_when_the_space_glues_on(vocab_size):
    """Across BPEs with more or fewer merges: the search fails iff the token ids differ, and
    the in-context ids always find the template and give the segment labels."""
    from course_lib.world.toy import make_toy_tokenizer

    tok = make_toy_tokenizer(vocab_size=vocab_size)
    report = explain_template_mismatch(tok, "### Response:", SEED_TEXT)
    contained = find_subsequence(report.context_ids, report.alone_ids) is not None
    assert report.found == contained
    if vocab_size == 600:
        assert not report.found  # the toy tokenizer has merged " ###" into one token
    collator = CompletionOnlyCollator("### Response:", tok)
    _, messages = _collate(collator, tokenize_texts(RECORDS, tok))
    assert collator.found == [report.found] * 2 and bool(messages) != report.found
    fixed = CompletionOnlyCollator(template_ids_for(tok, "one_line"), tok)
    batch, messages = _collate(fixed, tokenize_texts(RECORDS, tok))
    assert messages == [] and fixed.found == [True, True]
    for row, ex in enumerate(prepare_examples(RECORDS, tok).examples):
        assert batch["labels"][row, :len(ex["labels"])].tolist() == ex["labels"]


def test_none_strategy_is_the_real_standard_collator(toy_tokenizer_pad_is_eos):
    tok = toy_tokenizer_pad_is_eos
    examples = label_examples(RECORDS, tok, "none")
    for ex in examples:
        assert ex["input_ids"][-1] == tok.eos_token_id
        assert ex["labels"][:-1] == ex["input_ids"][:-1]  # the prompt is trained
        assert ex["labels"][-1] == IGNORE_INDEX  # pad == eos: the real EOS is masked


def test_mlm_true_masks_random_tokens_and_grades_only_them(toy_tokenizer):
    import torch

    from course_lib.masking.standard_collator import mlm_collator_batch
    from course_lib.masking.template_search import tokenize_texts

    records = [{"instruction": f"What is {a}+{a}?", "response": str(2 * a)} for a in range(8)]
    examples = tokenize_texts(records, toy_tokenizer)
    batch, tok = mlm_collator_batch(examples, toy_tokenizer, mlm_probability=0.3, seed=0)
    assert toy_tokenizer.mask_token is None and tok.mask_token == "<mask>"  # a copy got one
    original = torch.tensor([e["input_ids"] for e in examples])
    graded = batch["labels"] != IGNORE_INDEX
    assert 0 < graded.float().mean() < 0.6
    assert torch.equal(batch["labels"][graded], original[graded])  # labels: the hidden tokens
    assert (batch["input_ids"][graded] == tok.mask_token_id).any()  # most are masked in the input
    assert torch.equal(batch["input_ids"][~graded], original[~graded])  # the rest is untouched
    again, _ = mlm_collator_batch(examples, toy_tokenizer, mlm_probability=0.3, seed=0)
    assert torch.equal(again["labels"], batch["labels"])


@pytest.mark.parametrize("strategy", ["none", "response", "template", "trl"])
def test_strategy_examples_are_cut_to_exactly_max_length(toy_tokenizer, strategy):
    """max_length keeps the first max_length tokens of every list, nothing dropped."""
    full = label_examples(RECORDS, toy_tokenizer, strategy)
    cut = label_examples(RECORDS, toy_tokenizer, strategy, max_length=5)
    assert all(len(e["input_ids"]) > 5 for e in full)
    assert cut == [{k: v[:5] for k, v in e.items()} for e in full]
    assert all(len(v) == 5 for e in cut for v in e.values())


def test_mlm_probability_is_the_share_of_tokens_graded(toy_tokenizer):
    """mlm_probability=1: every token but the special ones (BOS, EOS) is hidden and graded."""
    from course_lib.masking.standard_collator import mlm_collator_batch
    from course_lib.masking.template_search import tokenize_texts

    examples = tokenize_texts(RECORDS[:1], toy_tokenizer)
    batch, tok = mlm_collator_batch(examples, toy_tokenizer, mlm_probability=1.0, seed=0)
    ids = examples[0]["input_ids"]
    special = {toy_tokenizer.bos_token_id, toy_tokenizer.eos_token_id}
    graded = (batch["labels"][0] != IGNORE_INDEX).tolist()
    assert graded == [t not in special for t in ids]


def test_template_search_calls_name_a_model_swapped_arguments_or_a_set_name(toy_tokenizer):
    model, ids = make_toy_model(toy_tokenizer), template_ids_for(toy_tokenizer)
    records = [{"instruction": "What is 2+2?", "response": "4"}]
    # Each was an AttributeError or TypeError from inside the tokenizer, torch or iteration.
    calls = [(lambda: template_ids_for(model), "LlamaForCausalLM", r"template_ids_for\("),
             (lambda: template_ids_for("tiny"), "the string 'tiny'", r"template_ids_for\("),
             (lambda: tokenize_texts(records, model), "LlamaForCausalLM", r"tokenize_texts\("),
             (lambda: CompletionOnlyCollator(toy_tokenizer, ids), "list",
              r"CompletionOnlyCollator\(template_ids, tokenizer\)")]
    for call, what, fix in calls:
        with pytest.raises(CourseError, match=rf"tokenizer must be the tokenizer, not {what}; "
                                              rf"call {fix}"):
            call()
    # A data set's name was "example 0: expected a JSON object, got str".
    with pytest.raises(CourseError, match=r"records must be a list of records, not the string "
                                          r"'course:train'; load them first"):
        tokenize_texts("course:train", toy_tokenizer)


def test_the_collator_given_records_says_to_tokenize_them_first(toy_tokenizer):
    collator = CompletionOnlyCollator(template_ids_for(toy_tokenizer), toy_tokenizer)
    records = [{"instruction": "What is 2+2?", "response": "4"}]
    with pytest.raises(CourseError, match=r"^the collator takes tokenized examples \(input_ids\)"
                                          r", not records; make them first: "
                                          r"tokenize_texts\(records, tokenizer\)\.$"):
        collator(records)  # was KeyError: 'input_ids'


def test_collators_say_what_to_give(toy_tokenizer):
    """Lesson 03's collator calls with a learner's slips. Were "max() arg is an empty
    sequence", ValueError("the tokenizer has no pad token"), KeyError: 'input_ids' and
    AttributeErrors from inside transformers' collator."""
    import copy

    texts = tokenize_texts(RECORDS, toy_tokenizer)
    with pytest.raises(CourseError, match="the collator got no examples"):
        CompletionOnlyCollator("### Response:", toy_tokenizer)([])
    no_pad = copy.deepcopy(toy_tokenizer)
    no_pad.pad_token = None
    with pytest.raises(CourseError, match="tokenizer.pad_token = tokenizer.eos_token"):
        CompletionOnlyCollator("### Response:", no_pad)(texts)
    for collate in (lm_collator_batch, mlm_collator_batch):
        with pytest.raises(CourseError, match=rf"not records or nothing; make them first: "
                                              rf"{collate.__name__}\(tokenize_texts"):
            collate(RECORDS, toy_tokenizer)
    model = make_toy_model(toy_tokenizer)
    with pytest.raises(CourseError, match="tokenizer must be the tokenizer, not LlamaFor"):
        lm_collator_batch(texts, model)


NO_PAD = (r"^the tokenizer has no pad token; set one first, e\.g\. "
          r"tokenizer\.pad_token = tokenizer\.eos_token\.$")


@pytest.mark.parametrize("call", ["label_examples none", "label_examples template",
                                  "lm_collator_batch", "lm_collator_batch, one row",
                                  "mlm_collator_batch"])
def test_no_pad_token_is_one_sentence_of_ours_in_every_strategy(call):
    """The tiny tokenizer with its pad token taken away, as many base models' come. "none" and
    the standard collator raised transformers' ValueError from tokenizer.pad; "template" already
    said the course's sentence, and now every path says that same one."""
    tok = load_tokenizer("tiny")  # a fresh one: no shared fixture is changed
    tok.pad_token = None
    texts = tokenize_texts(RECORDS, tok)
    calls = {
        "label_examples none": lambda: label_examples(RECORDS, tok, "none"),
        "label_examples template": lambda: label_examples(RECORDS, tok, "template"),
        "lm_collator_batch": lambda: lm_collator_batch(texts, tok),
        "lm_collator_batch, one row": lambda: lm_collator_batch(texts[:1], tok),
        "mlm_collator_batch": lambda: mlm_collator_batch(texts, tok),
    }
    with pytest.raises(CourseError, match=NO_PAD):
        calls[call]()
    assert tok.pad_token is None  # said, not quietly set


def test_explain_template_mismatch_with_its_arguments_swapped(toy_tokenizer):
    # Was TypeError: 'add_special_tokens' is an invalid keyword argument for encode().
    with pytest.raises(CourseError, match=r"not the string '### Response:'; call "
                                          r"explain_template_mismatch\(tokenizer, template"):
        explain_template_mismatch("### Response:", SEED_TEXT, toy_tokenizer)


def test_label_examples_says_what_to_give(toy_tokenizer):
    """Lesson 03's label_examples with a data set's name, the model as the tokenizer, or
    max_length as text (were "expected a JSON object", an AttributeError, a TypeError) or 0
    (examples with no tokens, silently)."""
    with pytest.raises(CourseError, match=r"then label_examples\(records, tokenizer, masking\)"):
        label_examples("course:train", toy_tokenizer)
    with pytest.raises(CourseError, match="tokenizer must be the tokenizer, not LlamaFor"):
        label_examples(RECORDS, make_toy_model(toy_tokenizer))
    for max_length in (0, "24"):
        with pytest.raises(CourseError, match="max_length must be a whole number of tokens"):
            label_examples(RECORDS, toy_tokenizer, "none", max_length=max_length)


def test_find_subsequence_reads_ids_in_any_container():
    # A generator of ids had no len(), a dict's values no slices: TypeErrors from inside.
    import torch

    ids = [5, 1, 2, 3]
    assert find_subsequence(iter(ids), (i for i in [2, 3])) == 2
    assert find_subsequence(torch.tensor(ids), {"a": 2, "b": 3}.values()) == 2
