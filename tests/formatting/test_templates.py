"""Step 1: records -> prompt and response text, for every schema the course reads."""

import pytest

from course_lib.errors import CourseError
from course_lib.formatting.schemas import (
    detect_schema,
    detect_template,
    normalize_record,
    parse_formatted,
    renames_to_a_schema,
)
from course_lib.formatting.stats import check_consistent_templates
from course_lib.formatting.templates import (
    ALPACA,
    HUMAN_ASSISTANT,
    ONE_LINE,
    QA,
    format_example,
    format_text,
    get_template,
    to_prompt_completion,
)

TWO_PART = {"instruction": "What is 5+3?", "response": "8"}
THREE_PART = {"instruction": "Translate this to Spanish", "input": "Hello world",
              "response": "Hola mundo"}


def test_seed_two_part_is_the_seed_one_liner():
    assert format_text({"instruction": "What is 2+2?", "response": "4"}, "one_line") == (
        "### Instruction: What is 2+2? ### Response: 4"
    )


def test_seed_three_part_puts_the_input_between():
    prompt, response = format_example(THREE_PART, ONE_LINE)
    assert prompt == (
        "### Instruction: Translate this to Spanish ### Input: Hello world ### Response:"
    )
    assert response == " Hola mundo"


def test_alpaca_without_input_has_no_input_section():
    prompt, response = format_example(TWO_PART, ALPACA)
    assert "### Input:" not in prompt
    assert prompt.startswith("Below is an instruction that describes a task. Write")
    assert prompt.endswith("### Instruction:\nWhat is 5+3?\n\n### Response:\n")
    assert response == "8"


def test_alpaca_with_input_has_input_section_and_its_own_preamble():
    prompt, _ = format_example(THREE_PART, ALPACA)
    assert "paired with an input" in prompt
    assert "### Instruction:\nTranslate this to Spanish\n\n### Input:\nHello world\n\n" in prompt
    assert prompt.endswith("### Response:\n")


def test_empty_input_counts_as_two_part():
    assert format_example({**TWO_PART, "input": ""}, ONE_LINE) == format_example(TWO_PART, ONE_LINE)
    assert format_example({**TWO_PART, "input": None}, ALPACA) == format_example(TWO_PART, ALPACA)


def test_braces_in_the_data_are_kept_verbatim():
    prompt, _ = format_example({"instruction": "Fill {x} and {input}", "response": "ok"}, ONE_LINE)
    assert prompt == "### Instruction: Fill {x} and {input} ### Response:"


def test_unknown_template_name_lists_the_choices():
    with pytest.raises(CourseError, match="one_line, alpaca"):
        get_template("chatml")


def test_a_record_given_as_the_template_says_which_goes_first():
    # format_text(ONE_LINE, record): the record lands where the template goes.
    with pytest.raises(CourseError, match=r"give the record first, then the template"):
        format_text(ONE_LINE, TWO_PART)


@pytest.mark.parametrize("template", [None, 1, ["one_line"]])
def test_a_template_of_another_kind_lists_the_names(template):
    with pytest.raises(CourseError, match=r"template must be a template name \(one_line, "):
        get_template(template)


@pytest.mark.parametrize(
    ("raw", "schema", "expected"),
    [
        (TWO_PART, "course", {"instruction": "What is 5+3?", "input": "", "response": "8"}),
        (THREE_PART, "course", {**THREE_PART}),
        ({"instruction": "Say hi", "input": "", "output": "hi"}, "alpaca",
         {"instruction": "Say hi", "input": "", "response": "hi"}),
        ({"instruction": "Summarise", "context": "Long text.", "response": "Short.",
          "category": "summarization"}, "dolly",
         {"instruction": "Summarise", "input": "Long text.", "response": "Short."}),
        ({"prompt": "What is 2+2?", "completion": "4"}, "trl",
         {"instruction": "What is 2+2?", "input": "", "response": "4"}),
        ({"prompt": "### Instruction: Translate ### Input: Hi ### Response:",
          "completion": " Hola"}, "trl",
         {"instruction": "Translate", "input": "Hi", "response": "Hola"}),
        ({"messages": [{"role": "user", "content": "What is 2+2?"},
                       {"role": "assistant", "content": "4"}]}, "chat",
         {"instruction": "What is 2+2?", "input": "", "response": "4"}),
        ({"prompt": [{"role": "user", "content": "Hi"}],
          "completion": [{"role": "assistant", "content": "Hello"}]}, "trl",
         {"instruction": "Hi", "input": "", "response": "Hello"}),
        ({"text": "### Instruction: What is 5+3?\n### Response: 8"}, "text",
         {"instruction": "What is 5+3?", "input": "", "response": "8", "template": "one_line"}),
    ],
)
def test_normalize_record_maps_every_schema(raw, schema, expected):
    assert detect_schema(raw) == schema
    assert normalize_record(raw) == expected


def test_templated_trl_prompt_round_trips_for_both_templates():
    for template in (ONE_LINE, ALPACA):
        pc = to_prompt_completion(THREE_PART, template)
        assert normalize_record(pc) == THREE_PART


def test_text_record_round_trips_through_parse():
    for template in (ONE_LINE, ALPACA):
        for rec in (TWO_PART, THREE_PART):
            parsed = parse_formatted(format_text(rec, template))
            assert parsed == {"input": "", **rec}


def test_format_example_accepts_raw_schemas():
    alpaca = {"instruction": "Say hi", "input": "", "output": "hi"}
    dolly = {"instruction": "Say hi", "context": "greeting", "response": "hi"}
    assert format_example(alpaca, ONE_LINE) == ("### Instruction: Say hi ### Response:", " hi")
    assert format_example(dolly, ONE_LINE)[0] == (
        "### Instruction: Say hi ### Input: greeting ### Response:"
    )


def test_unknown_schema_names_the_record_and_lists_schemas():
    with pytest.raises(CourseError, match=r"data.jsonl line 7: .*'quest'.*prompt / completion"):
        normalize_record({"quest": "q", "reply": "a"}, where="data.jsonl line 7")


@pytest.mark.parametrize("record, renames", [
    ({"question": "q", "answer": "a"}, "'question' to 'instruction' and 'answer' to 'response'"),
    ({"Question": "q", "Answer": "a", "id": 1},  # GSM8K's names, as a table writes them
     "'Question' to 'instruction' and 'Answer' to 'response'"),
    ({"instruction": "q", "answer": "a"}, "'answer' to 'response'"),
    ({"query": "q", "response": "a"}, "'query' to 'instruction'"),  # MetaMathQA's
    ({"prompt": "q", "response": "a"}, "'prompt' to 'instruction'"),
    ({"input": "q", "output": "a"}, "'input' to 'instruction'"),  # then alpaca's schema
    ({"question": "q", "input": "x", "output": "a"}, "'question' to 'instruction'"),
    ({"inputs": "q", "targets": "a"}, "'inputs' to 'instruction' and 'targets' to 'response'"),
])
def test_other_names_for_the_question_and_answer_get_the_renames(record, renames):
    # Was every schema the course reads, listed after "match no known schema".
    with pytest.raises(CourseError) as err:
        normalize_record(record, where="d.jsonl line 2")
    assert str(err.value) == (f"d.jsonl line 2: record has fields {sorted(record)}, which no "
                              f"schema the course reads uses; rename {renames}.")
    renamed = {renames_to_a_schema(record).get(k, k): v for k, v in record.items()}
    assert normalize_record(renamed)["instruction"] == "q"  # the advice, followed, reads it


@pytest.mark.parametrize("record, said", [
    ({"prompt": "q"}, "record has 'prompt' but no 'completion'; add the answer under "
                      "'completion'."),
    ({"completion": "a", "id": 3}, "record has 'completion' but no 'prompt'; add the question "
                                   "under 'prompt'."),
    ({"id": 2, "output": "a"}, "record has 'output' but no 'instruction'; add the "
                               "question under 'instruction'."),
])
def test_half_of_a_schema_names_the_field_missing(record, said):
    # Was the list of every schema the course reads, after "record has fields ['instruction']".
    with pytest.raises(CourseError) as err:
        normalize_record(record, where="d.jsonl line 6")
    assert str(err.value) == "d.jsonl line 6: " + said


def test_non_text_field_is_explained():
    # A number is read as its text (records.conversion_notes counts it); a list is no text.
    with pytest.raises(CourseError, match="field 'response' should be text but is a list"):
        normalize_record({"instruction": "What is 2+2?", "response": [4]}, where="example 3")


@pytest.mark.parametrize("record, named", [
    ({"instruction": "  ", "response": "x"}, "'instruction'"),
    ({"prompt": None, "completion": "4"}, "'prompt'"),  # as pandas writes a missing value
    ({"messages": [{"role": "user", "content": ""}, {"role": "assistant", "content": "4"}]},
     "the user message"),
])
def test_empty_instruction_is_refused_by_the_name_the_file_uses(record, named):
    with pytest.raises(CourseError) as caught:
        normalize_record(record, where="example 2")
    assert str(caught.value) == f"example 2: {named} is empty or null; every example needs one."


def test_multi_turn_chat_is_refused_with_a_way_out():
    msgs = [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"},
            {"role": "user", "content": "c"}, {"role": "assistant", "content": "d"}]
    with pytest.raises(CourseError, match="assistant_only_loss=True \\(lesson 05\\)"):
        normalize_record({"messages": msgs})


def test_chat_system_message_becomes_the_input():
    msgs = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello"}]
    assert normalize_record({"messages": msgs})["input"] == "Be brief."


def test_unrecognised_text_is_refused():
    with pytest.raises(CourseError, match="uses no template the course knows"):
        normalize_record({"text": "just some prose"})


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("### Instruction: a ### Response: b", "one_line"),
        ("### Instruction: a ### Input: c ### Response: b", "one_line"),
        (format_text(THREE_PART, ALPACA), "alpaca"),
        ("Human: a Assistant: b", "human_assistant"),
        ("Q: a A: b", "qa"),
        ("nothing known", None),
    ],
)
def test_detect_template(text, name):
    assert detect_template(text) == name


def test_the_seeds_mixed_formats_are_flagged_with_indices():
    records = [{"text": "### Instruction: a ### Response: b"},
               {"text": "Human: a Assistant: b"},
               {"text": "Q: a A: b"},
               {"text": "### Instruction: c ### Response: d"}]
    warnings = check_consistent_templates(records)
    assert len(warnings) == 2
    assert "'human_assistant'" in warnings[0] and "example 1)" in warnings[0]
    assert "'qa'" in warnings[1] and "example 2)" in warnings[1]
    assert all("reformat it with one template" in w for w in warnings)


def test_consistent_data_gives_no_warning():
    same = [{"text": format_text(r, ONE_LINE)} for r in (TWO_PART, THREE_PART)]
    assert check_consistent_templates(same) == []
    assert check_consistent_templates([TWO_PART, THREE_PART]) == []


@pytest.mark.parametrize("template", [HUMAN_ASSISTANT, QA, ONE_LINE, ALPACA])
def test_every_template_text_is_recognised_and_keeps_its_name(template):
    for rec in (TWO_PART, THREE_PART):
        text = format_text(rec, template)
        record = normalize_record({"text": text})
        assert record["template"] == template.name
        # Formatted again with its own template, the record gives back the text as written.
        assert format_text(record, record["template"]) == text


def test_human_assistant_and_qa_put_the_input_after_the_instruction():
    assert format_example(THREE_PART, HUMAN_ASSISTANT) == (
        "Human: Translate this to Spanish Hello world Assistant:", " Hola mundo")
    assert format_text(TWO_PART, QA) == "Q: What is 5+3? A: 8"


def test_format_example_names_the_record_where_it_came_from():
    """A record no schema fits is named by `where` (the file and line), not 'record'."""
    with pytest.raises(CourseError, match=r"^data\.jsonl line 7: record has fields \['question'\]"):
        format_example({"question": "What is 2+2?"}, where="data.jsonl line 7")


def test_a_text_row_with_other_fields_is_read_by_its_text():
    """Extra columns (an id, a source) do not stop a 'text' row from being read."""
    assert detect_schema({"text": "Q: What is 2+2? A: 4", "id": 3}) == "text"
    assert normalize_record({"text": "Q: What is 2+2? A: 4", "source": "web"}) == {
        "instruction": "What is 2+2?", "input": "", "response": "4", "template": "qa"}
