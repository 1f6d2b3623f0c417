from course_lib.masking.labels import IGNORE_INDEX, build_example, pad_batch, prepare_examples


def test_prompt_masked_response_and_eos_trained(toy_tokenizer):
    ex = build_example({"instruction": "What is 2+2?", "response": "4"}, toy_tokenizer)
    trained = [t for t in ex["labels"] if t != IGNORE_INDEX]
    assert trained[-1] == toy_tokenizer.eos_token_id
    assert toy_tokenizer.decode(trained[:-1]) == " 4"
    n_prompt = len(ex["labels"]) - len(trained)
    assert ex["labels"][:n_prompt] == [IGNORE_INDEX] * n_prompt
    assert ex["input_ids"][0] == toy_tokenizer.bos_token_id


def test_truncation_that_eats_the_response_is_reported(toy_tokenizer):
    records = [{"instruction": "What is 2+2?", "response": "4"},
               {"instruction": "x " * 50, "response": "y"}]
    prepared = prepare_examples(records, toy_tokenizer, max_length=20)
    assert [i for i, _ in prepared.skipped] == [1]
    assert len(prepared.examples) == 1
    assert "1 was skipped" in prepared.report()


def test_real_eos_stays_trained_when_pad_is_eos(toy_tokenizer_pad_is_eos):
    tok = toy_tokenizer_pad_is_eos
    a = build_example({"instruction": "What is 2+2?", "response": "4"}, tok)
    b = build_example({"instruction": "What is the capital of france?", "response": "paris"}, tok)
    batch = pad_batch([a, b], tok.pad_token_id)
    shorter = 0 if len(a["input_ids"]) < len(b["input_ids"]) else 1
    n = len([a, b][shorter]["input_ids"])
    assert batch["labels"][shorter, n - 1] == tok.eos_token_id  # the real EOS is trained
    assert (batch["labels"][shorter, n:] == IGNORE_INDEX).all()  # padding is not
