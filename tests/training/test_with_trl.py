"""Lesson 05: TRL's SFTTrainer with the course's chat template and SFTConfig on a CPU."""

import types

import pytest

from course_lib.errors import CourseError
from course_lib.formatting.chat import (
    CHAT_TEMPLATE,
    CHAT_TEMPLATE_WITHOUT_MARKERS,
    adds_bos,
    attach_chat_template,
    to_messages,
)
from course_lib.formatting.templates import format_text
from course_lib.masking.labels import IGNORE_INDEX, prepare_examples
from course_lib.masking.trl_labels import chat_example, checkpointing_off
from course_lib.training.with_trl import compare_labels, config_report, trainer_examples
from course_lib.world.toy import make_toy_model, make_toy_tokenizer

RECORDS = [
    {"instruction": "What is 2+2?", "response": "4"},
    {"instruction": "Translate this to Spanish", "input": "Hello world", "response": "Hola mundo"},
    {"instruction": "What is the capital of france?", "response": "Paris"},
]


# --- the chat template ------------------------------------------------------------------------
def test_to_messages_folds_the_input_into_the_user_turn():
    msgs = to_messages(RECORDS[1])["messages"]
    assert [m["role"] for m in msgs] == ["user", "assistant"]
    assert msgs[0]["content"] == "Translate this to Spanish ### Input: Hello world"
    assert to_messages({"instruction": "Hi", "input": "", "output": "hey"})["messages"][1] == {
        "role": "assistant", "content": "hey"}


@pytest.mark.parametrize("pad_is_eos", [False, True])
def test_chat_template_renders_the_seed_text_and_masks_like_prepare_examples(pad_is_eos):
    tok = attach_chat_template(make_toy_tokenizer(pad_is_eos=pad_is_eos))
    assert "{% generation %}" in tok.chat_template
    for record in RECORDS:
        text = tok.apply_chat_template(to_messages(record)["messages"], tokenize=False)
        assert text == tok.bos_token + format_text(record) + tok.eos_token
    ours = prepare_examples(RECORDS, tok).examples
    chats = [chat_example(r, tok) for r in RECORDS]
    assert compare_labels(ours, chats).identical
    assert all(c["labels"][-1] == tok.eos_token_id for c in chats)  # EOS trained


def test_template_without_markers_gives_an_all_zero_mask(toy_tokenizer):
    assert "generation" not in CHAT_TEMPLATE_WITHOUT_MARKERS
    ex = chat_example(RECORDS[0], toy_tokenizer, chat_template=CHAT_TEMPLATE_WITHOUT_MARKERS)
    assert ex["labels"] == [IGNORE_INDEX] * len(ex["input_ids"])


def test_attach_drops_the_bos_for_a_tokenizer_that_adds_none():
    tok = make_toy_tokenizer()
    tok._tokenizer.post_processor = None  # now tokenizer(text) adds no BOS
    assert not adds_bos(tok)
    attach_chat_template(tok)
    assert "bos_token" not in tok.chat_template
    assert compare_labels(prepare_examples(RECORDS, tok).examples,
                          [chat_example(r, tok) for r in RECORDS]).identical
    assert CHAT_TEMPLATE.startswith("{{ bos_token }}")


def test_compare_labels_finds_the_first_difference():
    a = [{"input_ids": [1, 2], "labels": [-100, 2]}, {"input_ids": [1, 3], "labels": [-100, 3]}]
    b = [a[0], {"input_ids": [1, 3], "labels": [1, 3]}]
    assert compare_labels(a, a).identical and "identical" in str(compare_labels(a, a))
    cmp = compare_labels(a, b)
    assert not cmp.identical and cmp.same == 1 and cmp.first_difference == 1
    assert not compare_labels(a, a[:1]).identical


# --- SFTConfig ---------------------------------------------------------------------------------
def test_checkpointing_off_and_config_report(tmp_path):
    import warnings

    from trl import SFTConfig

    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)  # no deprecated name is used
        config = SFTConfig(output_dir=str(tmp_path), use_cpu=True, bf16=False,
                           completion_only_loss=True, report_to="none", **checkpointing_off())
    assert config.gradient_checkpointing is False
    report = config_report(config)
    rows = {r[0]: r for r in report.rows}
    assert rows["completion_only_loss"][1:3] == (True, None)
    assert rows["bf16"][1] is False
    checkpoint_row = rows.get("activation_checkpointing") or rows["gradient_checkpointing"]
    assert checkpoint_row[1] is False and checkpoint_row[2] is True  # TRL turns it on
    assert config.report_to == [] and rows["report_to"][1] == "none"  # as written, not []
    assert "learning_rate" in str(report) and "<table>" in report._repr_html_()


def test_trl_chat_path_builds_the_same_labels(tmp_path):
    """TRL's assistant_only_loss with the course template == lesson 03's labels."""
    import datasets
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    datasets.disable_progress_bars()
    tok = attach_chat_template(make_toy_tokenizer())
    config = SFTConfig(output_dir=str(tmp_path), assistant_only_loss=True, use_cpu=True,
                       bf16=False, report_to="none", **checkpointing_off())
    trainer = SFTTrainer(model=make_toy_model(tok), args=config, processing_class=tok,
                         train_dataset=Dataset.from_list([to_messages(r) for r in RECORDS]))
    assert compare_labels(prepare_examples(RECORDS, tok).examples,
                          trainer_examples(trainer)).identical
    tok.chat_template = CHAT_TEMPLATE_WITHOUT_MARKERS
    with pytest.raises((ValueError, RuntimeError)):
        SFTTrainer(model=make_toy_model(tok), args=config, processing_class=tok,
                   train_dataset=Dataset.from_list([to_messages(r) for r in RECORDS]))


def test_config_report_refuses_what_is_no_config():
    from trl import SFTConfig


    # Each was "TypeError: must be called with a dataclass type or instance".
    for given, what in (({"max_steps": 40}, "a dict"), (SFTConfig, "the class SFTConfig"),
                        (None, "None")):
        with pytest.raises(CourseError, match=rf"config_report reads a config object such as "
                                              rf"SFTConfig\(output_dir=\.\.\.\), not {what};"):
            config_report(given)


def test_compare_labels_and_trainer_examples_name_what_they_were_given():
    ours = prepare_examples(RECORDS, make_toy_tokenizer()).examples
    # Records on either side were "KeyError: 'input_ids'".
    for args, side in (((RECORDS, ours), "ours"), ((ours, RECORDS), "theirs")):
        with pytest.raises(CourseError, match=rf"^{side} holds records, not tokenized examples"):
            compare_labels(*args)
    no_labels = [{"input_ids": ex["input_ids"]} for ex in ours]
    with pytest.raises(CourseError, match=r"theirs holds examples without labels"):
        compare_labels(ours, no_labels)
    # A list given for the trainer was "'list' object has no attribute 'train_dataset'".
    with pytest.raises(CourseError, match=r"trainer must be an SFTTrainer .*not a list\.$"):
        trainer_examples(RECORDS)
    trainer = types.SimpleNamespace(train_dataset=None)  # what compare_labels sees of one
    with pytest.raises(CourseError, match=r"theirs is a trainer; .*trainer_examples\(trainer\)"):
        compare_labels(ours, trainer)
    assert compare_labels(ours, ours).identical


def test_compare_labels_says_when_one_side_has_fewer_examples():
    # TRL drops a record with no trained token: 20 of ours against its 19 said only
    # "0 of 20 examples identical; first difference at example 0".
    a = [{"input_ids": [1, i], "labels": [-100, i]} for i in range(3)]
    cmp = compare_labels(a, a[:2])
    assert not cmp.identical and cmp.counts == (3, 2)
    assert str(cmp).startswith("not comparable one by one: ours has 3 examples and theirs 2;")
