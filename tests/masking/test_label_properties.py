"""Properties of the labels over random prompts and responses (hypothesis)."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from course_lib.formatting.templates import ALPACA, ONE_LINE, format_example
from course_lib.masking.labels import IGNORE_INDEX, prepare_examples

# Letters, digits, punctuation, whitespace and some non-ASCII (multi-byte in byte-level BPE).
# '<' is left out so a random text cannot spell a special token such as "</s>".
ALPHABET = st.sampled_from(list("abcdefghijklmnopqrstuvwxyzABCXYZ0123456789 .,:;?!#+-()'\"\n\t")
                           + ["é", "ß", "中", "文", "😀", "→"])
TEXT = st.text(ALPHABET, min_size=0, max_size=40)
RECORD = st.builds(
    lambda i, x, r: {"instruction": i, "input": x, "response": r},
    TEXT.filter(lambda s: s.strip() != ""), TEXT, TEXT,
)
SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def _segments(tok, record, template):
    prompt, response = format_example(record, template)
    return tok(prompt)["input_ids"], tok(response, add_special_tokens=False)["input_ids"]


@SETTINGS
@given(records=st.lists(RECORD, min_size=1, max_size=4), alpaca=st.booleans())
def test_prompt_masked_response_and_eos_trained(toy_tokenizer, records, alpaca):
    template = ALPACA if alpaca else ONE_LINE
    prepared = prepare_examples(records, toy_tokenizer, template)
    assert prepared.kept == list(range(len(records)))
    for record, ex in zip(records, prepared.examples, strict=True):
        p_ids, r_ids = _segments(toy_tokenizer, record, template)
        n = len(p_ids)
        assert ex["labels"][:n] == [IGNORE_INDEX] * n  # every prompt token masked
        assert ex["labels"][n:] == ex["input_ids"][n:]  # every response token trained
        assert ex["labels"][n:] == r_ids + [toy_tokenizer.eos_token_id]  # ... and the EOS


@SETTINGS
@given(record=RECORD, alpaca=st.booleans())
def test_trained_tokens_decode_to_the_response(toy_tokenizer, record, alpaca):
    template = ALPACA if alpaca else ONE_LINE
    ex = prepare_examples([record], toy_tokenizer, template).examples[0]
    trained = [t for t in ex["labels"] if t != IGNORE_INDEX]
    assert trained[-1] == toy_tokenizer.eos_token_id
    assert toy_tokenizer.decode(trained[:-1]) == template.response_prefix + record["response"]


@SETTINGS
@given(records=st.lists(RECORD, min_size=1, max_size=5), max_length=st.integers(1, 40),
       pad_is_eos=st.booleans())
def test_truncation_never_hides_a_fully_masked_example(
    toy_tokenizer, toy_tokenizer_pad_is_eos, records, max_length, pad_is_eos
):
    tok = toy_tokenizer_pad_is_eos if pad_is_eos else toy_tokenizer
    prepared = prepare_examples(records, tok, ONE_LINE, max_length=max_length)
    skipped = [i for i, _ in prepared.skipped]
    # Every record is accounted for exactly once: kept or skipped (and reported).
    assert sorted(prepared.kept + skipped) == list(range(len(records)))
    for i, ex in zip(prepared.kept, prepared.examples, strict=True):
        assert i not in skipped
        assert len(ex["input_ids"]) <= max_length
        assert any(t != IGNORE_INDEX for t in ex["labels"])
    for i in skipped:
        p_ids, _ = _segments(tok, records[i], ONE_LINE)
        assert len(p_ids) >= max_length  # only an all-prompt window is skipped
        assert str(i) in prepared.report()
    full_lengths = [sum(map(len, _segments(tok, r, ONE_LINE))) + 1 for r in records]
    # Cut means kept but cut: a skipped record is reported once, as skipped.
    assert prepared.truncated == [i for i, n in enumerate(full_lengths)
                                  if n > max_length and i not in skipped]
