import json

import pytest

from course_lib.errors import CourseError
from course_lib.formatting.records import load_records
from course_lib.masking.labels import IGNORE_INDEX
from course_lib.training.data import (
    file_notes,
    hold_out,
    load_data,
    prepare_eval_examples,
    prepare_training_data,
)


def test_suspicious_rows_are_counted_and_reported(toy_tokenizer):
    rows = [
        {"instruction": "What is 1+1?", "response": "2"},
        {"instruction": "What is 2+2?", "response": ""},  # empty response
        {"instruction": "What is " + "1+" * 80 + "1?", "response": "81"},  # cut by max_length
        {"text": "### Instruction: What is 3+3? ### Response: 6"},  # a second template
        {"text": "Q: What is 4+4? A: 8"},
    ] + [{"instruction": f"What is {i}+0?", "response": str(i)} for i in range(4)]
    ready = prepare_training_data(rows, toy_tokenizer, max_length=40)
    assert ready.empty_response == [1]
    assert [i for i, _ in ready.skipped] == [2]  # truncation left no response token
    assert ready.truncated == []  # skipped is said once, not also as "cut, lost its EOS"
    report = ready.report()
    assert "8 of 9 examples" in report
    assert "empty response (record 1)" in report  # a list is named as Python indexes it
    assert "1 was skipped" in report
    assert "'one_line' format" in report and "'qa' format" in report


def test_tokenized_examples_with_no_trained_token_are_set_aside(toy_tokenizer):
    good = {"input_ids": [1, 5, 6], "attention_mask": [1, 1, 1], "labels": [IGNORE_INDEX, 5, 6]}
    # Only position 0 is labelled, and a causal LM never predicts position 0: nothing trained.
    empty = {"input_ids": [1, 5], "attention_mask": [1, 1], "labels": [1, IGNORE_INDEX]}
    ready = prepare_training_data([good, empty], toy_tokenizer)
    assert ready.examples == [good]
    assert [i for i, _ in ready.skipped] == [1]


def test_eval_examples_are_response_only_whatever_the_run_masks(toy_tokenizer, eval_records):
    held = prepare_eval_examples(eval_records, toy_tokenizer, limit=5)
    assert len(held.examples) == 5 and held.total == len(eval_records)
    for ex in held.examples:
        assert ex["labels"][0] == IGNORE_INDEX  # the prompt is never measured
        assert ex["labels"][-1] == toy_tokenizer.eos_token_id


def test_hold_out_is_seeded_disjoint_and_bounded():
    from course_lib.training.data import Records, hold_out

    rows = Records("d.jsonl", [{"instruction": f"q{i}"} for i in range(300)],
                   [f"line {i + 1}" for i in range(300)], list(range(300)))
    train, held = hold_out(rows)
    again_train, again_held = hold_out(rows)
    assert held.records == again_held.records  # seeded: the same slice every run
    assert len(held.records) == 30 and len(train.records) == 270  # 10%
    assert not set(held.raw) & set(train.raw) and set(held.raw) | set(train.raw) == set(range(300))
    assert held.where == [f"line {i + 1}" for i in held.raw]  # rows keep their places
    assert held.raw != list(range(30))  # a random slice, not the first rows
    assert len(hold_out(rows, most=8)[1].records) == 8  # never more than the eval measures
    small = Records("s.jsonl", rows.records[:9], rows.where[:9], rows.raw[:9])
    assert hold_out(small) == (small, None)  # too few rows to spare any


def test_long_preparations_show_progress(toy_tokenizer, capsys):
    from course_lib.masking.labels import PROGRESS_ABOVE, prepare_examples

    records = [{"instruction": "Hi", "response": "hi"}] * (PROGRESS_ABOVE + 1)
    prepare_examples(records[:100], toy_tokenizer)
    assert "preparing examples" not in capsys.readouterr().err
    prepared = prepare_examples(records, toy_tokenizer)
    assert "preparing examples" in capsys.readouterr().err
    assert len(prepared.examples) == PROGRESS_ABOVE + 1
    prepare_examples(records, toy_tokenizer, progress=False)
    assert "preparing examples" not in capsys.readouterr().err


def test_the_checks_of_a_large_file_show_progress_too(toy_tokenizer, capsys):
    # They took 5 s of 150,000 rows with nothing shown, after the bar above had gone.
    from course_lib.masking.labels import PROGRESS_ABOVE

    records = [{"instruction": f"What is {i}+1?", "response": str(i + 1)}
               for i in range(PROGRESS_ABOVE + 1)]
    ready = prepare_training_data(records, toy_tokenizer)
    assert "checking the rows:   0%|          | 0/5" in capsys.readouterr().err
    assert ready.warnings == prepare_training_data(records, toy_tokenizer, progress=False).warnings
    assert "checking the rows" not in capsys.readouterr().err
    prepare_training_data(records[:100], toy_tokenizer)
    assert "checking the rows" not in capsys.readouterr().err


def test_reports_name_file_lines_when_known(toy_tokenizer, tmp_path):
    import json

    path = tmp_path / "d.jsonl"
    rows = [{"instruction": "What is 1+1?", "response": "2"},
            {"instruction": "What is 2+2?", "response": ""}]
    path.write_text("\n\n".join(json.dumps(r) for r in rows))  # a blank line between them
    report = prepare_training_data(path, toy_tokenizer).report()
    assert "1 has an empty response (line 3): it teaches the model" in report


def test_rows_that_look_poor_are_named_by_line_and_still_train(toy_tokenizer, tmp_path):
    path = tmp_path / "d.jsonl"
    rows = [{"instruction": "What is 1+1?", "output": "2"}, {"instruction": "help", "output": "ok"},
            {"instruction": "What is 2+5?", "output": "What is 2+6? What is 2+7?"},
            {"instruction": "help", "output": "sure"}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    report = prepare_training_data(path, toy_tokenizer).report().splitlines()
    assert report[0].startswith("4 of 4 examples")  # usable: counted and named, not left out
    assert report[1].startswith("2 rows answer 1 prompt in more than one way (lines 2, 4): ")
    assert report[2].startswith("1 response asks questions instead of answering (line 3): ")
    assert report[2].endswith("a wrong answer such as 3+4 -> 8 needs a person to catch it.")
    # The course's own data: nothing to say past the count (lessons quote that report).
    clean = prepare_training_data("course:eval", toy_tokenizer, progress=False).report()
    assert clean == "56 of 56 examples from course:eval ready for training."


def test_a_dataframe_is_read_as_records_and_its_rows_counted_from_1(toy_tokenizer):
    import pandas as pd
    import pytest

    from course_lib.errors import CourseError
    from course_lib.training.data import load_data

    # An empty cell (NaN: only one row has an input) is empty text, as a missing JSON field.
    frame = pd.DataFrame([{"instruction": "What is 1+1?", "response": "2"},
                          {"instruction": "Add 2 and 2.", "input": "now", "response": "4"}])
    loaded = load_data(frame)
    assert loaded.source == "a DataFrame of 2 rows"
    assert [r["input"] for r in loaded.records] == ["", "now"]
    assert len(prepare_training_data(frame, toy_tokenizer).examples) == 2
    assert len(prepare_eval_examples(frame, toy_tokenizer).examples) == 2
    with pytest.raises(CourseError, match=r"^row 2: 'instruction' is empty"):
        load_data(pd.DataFrame({"instruction": ["Hi", ""], "response": ["hi", "yo"]}))
    # A frame with its own index: df.loc[105] is the row to look at, not df.loc[6].
    with pytest.raises(CourseError, match=r"^row 2 \(index 105\): 'instruction' is empty"):
        load_data(pd.DataFrame({"instruction": ["Hi", ""], "response": ["hi", "yo"]},
                               index=[104, 105]))


def test_one_record_is_counted_in_the_singular(toy_tokenizer):
    import pandas as pd

    record = {"instruction": "What is 1+1?", "response": "2"}
    assert prepare_training_data([record], toy_tokenizer).report() == (
        "1 of 1 example from 1 given record ready for training.")
    assert load_data(pd.DataFrame([record])).source == "a DataFrame of 1 row"


def _records(prompts, where=True):
    from course_lib.training.data import Records

    rows = [{"instruction": p, "input": "", "response": "r"} for p in prompts]
    places = [f"line {i + 1}" for i in range(len(rows))] if where else []
    return Records("d.jsonl", rows, places, list(range(len(rows))))


def test_hold_out_rounds_a_tenth_and_starts_at_ten_prompts():
    from course_lib.training.data import hold_out

    assert len(hold_out(_records([f"q{i}" for i in range(19)]))[1].records) == 2  # 1.9 -> 2
    assert len(hold_out(_records([f"q{i}" for i in range(10)]))[1].records) == 1
    assert hold_out(_records([f"q{i}" for i in range(9)]))[1] is None


def test_hold_out_keeps_the_copies_of_a_prompt_on_one_side():
    from course_lib.training.data import hold_out

    data = _records([f"q{i % 20}" for i in range(60)])  # every prompt three times
    train, held = hold_out(data)
    assert len(held.records) == 6  # 2 of 20 prompts, with their copies
    assert not {r["instruction"] for r in train.records} & {r["instruction"] for r in held.records}


def test_notes_on_the_file_count_its_held_out_rows_too(toy_tokenizer, tmp_path):
    import json

    from course_lib.training.data import hold_out, load_data

    # Was "27 rows read as ShareGPT": the notes counted the rows left after the held-out slice.
    path = tmp_path / "sharegpt.jsonl"
    path.write_text("".join(json.dumps({"conversations": [
        {"from": "human", "value": f"What is {i}+2?"}, {"from": "gpt", "value": i + 2}]}) + "\n"
        for i in range(30)))
    train, held = hold_out(load_data(path))
    assert (len(train.records), len(held.records)) == (27, 3)
    notes = prepare_training_data(train, toy_tokenizer).warnings
    assert ("30 rows read as ShareGPT (lines 1, 2, 3, 4, 5, 6, 7, 8 and 22 more): from/value "
            "renamed") in notes[0]
    assert notes[1].startswith("30 rows hold a number where text belongs (lines 1, 2, 3, 4, 5")


def _with_bad_rows(tmp_path):
    """12 rows of JSON Lines; line 2 is not JSON and line 5 matches no schema."""
    lines = [json.dumps({"instruction": f"What is {i}+2?", "output": str(i + 2)})
             for i in range(12)]
    lines[1], lines[4] = "{oops", json.dumps({"instruction": "What is 4+2?"})
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path, lines


def test_skip_bad_rows_leaves_them_out_and_the_notes_on_the_file_count_them(toy_tokenizer,
                                                                            tmp_path):
    path, lines = _with_bad_rows(tmp_path)
    loaded = load_data(path, skip_bad_rows=True)
    # Each row kept with its own place and raw row (the bad ones dropped from all three).
    assert loaded.where == ["line 1", "line 3", "line 4"] + [f"line {i}" for i in range(6, 13)]
    assert loaded.raw == [json.loads(lines[int(w.split()[1]) - 1]) for w in loaded.where]
    assert [r["response"] for r in loaded.records] == [r["output"] for r in loaded.raw]
    train, held = hold_out(loaded)  # the note counts the file's rows, held-out ones too
    ready = prepare_training_data(train, toy_tokenizer)
    assert ready.rows_left_out == 2 and "9 of 9 examples" in ready.report()
    note = ready.warnings[0].splitlines()
    assert note[0] == f"{path}: 2 of 12 rows left out (skip_bad_rows=True):"
    assert note[1].startswith("  line 2: invalid JSON (") and note[2].startswith(
        "  line 5: record has 'instruction' but no 'response' or 'output'; add the answer "
        "under 'response'.")


def test_without_skip_bad_rows_the_error_names_it_where_the_caller_offers_it(tmp_path):
    path, _ = _with_bad_rows(tmp_path)
    with pytest.raises(CourseError) as offered:
        load_data(path, skip_bad_rows=False)  # as train() calls it
    assert str(offered.value).splitlines()[0] == (
        f"{path}: 2 rows cannot be used; fix them and run again, or pass skip_bad_rows=True to "
        f"leave them out:")
    assert offered.value.cli.splitlines()[0].endswith("or pass --skip-bad-rows to leave them out:")
    with pytest.raises(CourseError) as plain:
        load_data(path)  # prepare_training_data's call: it has no such choice to offer
    assert str(plain.value).splitlines()[0] == (f"{path}: 2 rows cannot be used; fix them and "
                                                f"run again:")
    path.write_text(json.dumps({"instruction": "Hi", "output": "hi"}) + "\n{oops\n")
    with pytest.raises(CourseError, match=r"line 2: invalid JSON \(.*\); each line must be one "
                                          r"JSON object; or pass skip_bad_rows=True to leave "
                                          r"this row out\.$"):
        load_data(path, skip_bad_rows=False)


def test_records_given_in_python_are_all_named_in_one_error_or_left_out_as_a_file_s_rows():
    import pandas as pd

    # Was: a list or a DataFrame stopped at its first bad record, even with skip_bad_rows=True.
    rows = [{"instruction": "What is 1+1?", "response": "2"}, {"instruction": "Hi"},
            {"instruction": "What is 2+2?", "response": "4"}, {"prompt": 3}]
    with pytest.raises(CourseError) as every:
        load_data(rows, skip_bad_rows=False)  # as train() calls it
    lines = str(every.value).splitlines()
    assert lines[0] == ("4 given records: 2 rows cannot be used; fix them and run again, or pass "
                        "skip_bad_rows=True to leave them out:")
    assert [line.split(":")[0] for line in lines[1:]] == ["  record 1", "  record 3"]
    kept = load_data(rows, skip_bad_rows=True)
    # Named as Python indexes the list, so a later warning's "record 2" is rows[2].
    assert kept.where == ["record 0", "record 2"] and kept.raw == [rows[0], rows[2]]
    assert file_notes(kept)[0].startswith("4 given records: 2 of 4 rows left out "
                                          "(skip_bad_rows=True):\n  record 1: ")
    # In a table every row has every column, empty where a record had none: row 2's missing
    # response leaves it out as the list's record 1 is (it trained "nothing"), and row 4's
    # missing instruction. A table's rows count from 1.
    table = load_data(pd.DataFrame(rows), skip_bad_rows=True)
    assert table.where == ["row 1", "row 3"]
    assert table.bad_rows.messages[0].startswith("row 2: 'response' is null, a missing answer")
    assert table.bad_rows.messages[1].startswith("row 4: 'instruction' is empty")


@pytest.mark.parametrize("name, text, message", [
    ("all_bad.jsonl", "{oops\n{oops\n", "none of its 2 rows can be used, so "
                                        "skip_bad_rows=True leaves nothing; fix them and run "
                                        "again:"),
    ("cut.json", '[\n{"instruction": "a", "output": "b"},\n{"instruction": oops},\n'
                 '{"instruction": "c", "output": "d"}\n]',  # broken off: no row after it reads
     "line 3: invalid JSON (Expecting value at column 17); nothing after it can be read."),
    ("twice.json", '[{"instruction": "a", "output": "b"}]\n[{"instruction": "c", "output": "d"}]',
     "line 2: invalid JSON (text after the closing ']' of the array)"),
    ("hello.json", "Hello\n", "is not JSON (it starts with 'Hello"),
    ("answer.json", "42\n", "holds one JSON value, a number, not records; give one JSON object "
                            "per line, or a JSON array of them."),  # was "is not JSON"
    ("no_header.csv", "What is 2+2?,,4\nWhat is 3+5?,,8\n", "line 1 must be a header"),
])
def test_skip_bad_rows_still_refuses_a_file_broken_as_a_whole_or_with_no_usable_row(
        tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(CourseError) as caught:
        load_data(path, skip_bad_rows=True)
    assert message in str(caught.value) and "pass skip_bad_rows" not in str(caught.value)
    with pytest.raises(CourseError) as caught:  # nor is the flag offered where it cannot help
        load_data(path, skip_bad_rows=False)
    assert "pass skip_bad_rows" not in str(caught.value)


def test_skip_bad_rows_in_a_table_names_the_rows_kept_by_the_file_s_count(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("instruction,output\nWhat is 1+1?,2\nWhat, is 2+2?,4\nWhat is 3+3?,6\n")
    loaded = load_data(path, skip_bad_rows=True)
    assert loaded.where == ["row 1", "row 3"]  # the file's third row, not the second kept
    assert file_notes(loaded)[0].splitlines() == [
        f"{path}: 1 of 3 rows left out (skip_bad_rows=True):",
        "  line 3: 3 fields but the header names 2 (instruction, output); put double quotes "
        "around a field that holds a comma, e.g. \"What, is 3+5?\"."]
    path.write_text('instruction,output\nWhat is 1+1?,2\nWhat, is 2+2?,4\n"What is 3+3?,6\n'
                    'What is 4+4?,8\n')
    for skip in (True, False):  # the rest of the file is one field: no row can be left out
        with pytest.raises(CourseError) as caught:
            load_data(path, skip_bad_rows=skip)
        lines = str(caught.value).splitlines()
        assert lines[0] == f"{path}: 2 rows cannot be used; fix them and run again:"
        assert lines[2] == ("  line 4: a double quote opens a field that never closes; close it, "
                            "or write a quote inside a field as two (\"\").")


def test_an_empty_file_holds_no_examples(tmp_path):
    from course_lib.errors import CourseError
    from course_lib.training.data import load_data

    (tmp_path / "empty.jsonl").write_text("")
    with pytest.raises(CourseError, match="holds no examples"):
        load_data(str(tmp_path / "empty.jsonl"))


def test_the_held_out_note_says_what_is_not_scored():
    from course_lib.masking.labels import PreparedData
    from course_lib.training.data import held_out_note

    assert held_out_note(PreparedData(examples=[], source="e.jsonl", total=5), limit=5) == ""
    held = PreparedData(examples=[], source="e.jsonl", total=5, empty_response=[3])
    note = held_out_note(held, limit=4)
    assert note.startswith("Held-out set e.jsonl: only the first 4 of its 5 rows are scored")
    assert note.endswith("; 1 with an empty response, scored on the EOS alone (example 3).")


def test_a_held_out_row_counts_as_seen_only_with_the_same_input():
    from course_lib.training.data import also_in_training

    train = _records(["Translate"])
    held = _records(["Translate", "Other"])
    assert also_in_training(train, held).startswith(
        "1 of the 2 held-out rows of d.jsonl is also in")
    train.records[0] = {**train.records[0], "input": "Hello"}
    assert also_in_training(train, held) == ""


def test_far_from_world_warns_on_a_high_loss_alone():
    """Words the model's world knows (a low token ratio) but a loss far above a uniform guess:
    one sign is enough for the warning."""
    import torch

    from course_lib.loading import load_model_and_tokenizer
    from course_lib.masking.labels import prepare_examples
    from course_lib.training.data import far_from_world

    model, tok = load_model_and_tokenizer("tiny", device="cpu")
    records = load_records("course:train")[:8]
    ready = prepare_examples(records, tok)
    assert far_from_world(records, ready, tok, model) is None  # its own world: no warning
    with torch.no_grad():
        model.model.norm.weight.mul_(-50)  # confidently wrong: the loss explodes
    warning = far_from_world(records, ready, tok, model)
    assert warning is not None and warning.startswith("This data looks far outside what the "
                                                      "model knows: a loss of ")
    assert "tokens per word" not in warning  # the sign not seen is not quoted as one


def test_records_from_a_generator_are_prepared_as_a_list_would_be(toy_tokenizer, records):
    # Was "TypeError: 'generator' object is not subscriptable", from the tokenized-data check.
    from_list = prepare_training_data(records, toy_tokenizer)
    from_generator = prepare_training_data((r for r in records), toy_tokenizer)
    assert from_generator.examples == from_list.examples


def test_records_in_the_wrong_shape_are_named_by_the_argument_given(toy_tokenizer):
    from course_lib.errors import CourseError
    from course_lib.training.data import load_data

    columns = {"instruction": ["a", "b"], "response": ["c", "d"]}  # was "one record"
    with pytest.raises(CourseError, match=r"^data is a dict of columns \(instruction, response\)"
                                          r", not a list of records; give pandas.DataFrame"):
        load_data(columns)
    with pytest.raises(CourseError, match="^eval_data is one record"):  # was "data is one..."
        prepare_eval_examples({"instruction": "a", "response": "b"}, toy_tokenizer)
    chat = {"messages": [{"role": "user", "content": "Hi"},
                         {"role": "assistant", "content": "Hello"}]}  # its value is a list too
    with pytest.raises(CourseError, match=r"^data is one record \(a dict with fields "
                                          r"\['messages'\]\), not a list of records; wrap it"):
        load_data(chat)


def test_records_handed_back_train_in_each_rows_template_as_the_set_does():
    """train(load_records(name)) reads the records as train(name) does: each text row keeps
    the template it is written in (the data report and the labels follow it)."""
    from_set = load_data("course:mixed_format").records
    assert load_data(load_records("course:mixed_format")).records == from_set
    assert {r.get("template") for r in from_set} == {"one_line", "human_assistant", "qa"}
