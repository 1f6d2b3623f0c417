"""`course train` on a user's own data files: formats, bad rows, truncation, the held-out slice.

Every run uses the toy model folder and one or two steps: these test what the CLI says and
writes, not what the model learns.
"""

import json

import datasets
import pytest

from course_lib.cli import main
from course_lib.training.history import RunHistory

# Alpaca's schema, as a user's file would have it: 40 rows, so 4 are held out (10%).
ROWS = [{"instruction": f"What is {a}+{b}?", "input": "", "output": str(a + b)}
        for a in range(4) for b in range(10)]


def train_cli(capsys, model, data, out, *extra):
    argv = ["train", "--model", model, "--data", data, "--steps", 1, "--quiet", "--out", out,
            *extra]
    code = main([str(a) for a in argv])
    stdout, stderr = capsys.readouterr()
    return code, stdout, stderr


@pytest.fixture(scope="module")
def dataset():
    datasets.disable_progress_bars()
    return datasets.Dataset.from_list(ROWS)


def test_json_lines_saved_as_json_trains_with_a_named_held_out_slice(
        capsys, tmp_path, toy_model_dir, dataset):
    path = tmp_path / "mine.json"
    dataset.to_json(str(path))  # JSON Lines, whatever the extension says
    code, out, err = train_cli(capsys, toy_model_dir, path, tmp_path / "run")
    assert code == 0, err
    held = "4 rows held out of mine.json (seed 0)"
    assert f"36 of 36 examples from {path} ready for training, at most 256 tokens" in out
    assert f"Held-out score: {held}, set aside from training; --eval-data FILE chooses " \
           f"another set, --eval-data none turns it off." in out
    assert out.strip().splitlines()[-2].endswith(f"on {held}")  # the summary line names it
    history = RunHistory.load(tmp_path / "run")
    assert (history.eval_data, history.eval_examples) == (held, 4)
    assert history.num_threads == 1 and "threads: 1 - one of" in out
    assert "course:eval" not in out


def test_a_held_out_score_on_training_rows_is_prevented_or_said(capsys, tmp_path, toy_model_dir):
    # Each row three times: the slice held out takes a prompt's copies with it.
    path = tmp_path / "dups.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in ROWS[:12] * 3))
    code, out, err = train_cli(capsys, toy_model_dir, path, tmp_path / "a")
    assert code == 0, err
    assert "33 of 33 examples" in out and "3 rows held out of dups.jsonl (seed 0)" in out
    # Held out first, then what is left: 36 rows read as 3 + 33, not as 3 rows lost.
    assert out.index("3 rows held out of dups.jsonl") < out.index("33 of 33 examples")
    assert "also in the training data" not in out
    # The copies are said before training: 33 rows, 11 prompts, so 22 repeat an earlier row.
    assert "22 rows repeat an earlier row word for word (lines 13, 14, 15" in out
    # The same file given as both: said, with the rows named.
    code, out, err = train_cli(capsys, toy_model_dir, path, tmp_path / "b", "--eval-data", path)
    assert code == 0, err
    assert (f"36 of the 36 held-out rows of {path} are also in the training data (lines 1, 2, 3"
            in out) and "partly measures what the model memorised" in out


def test_too_few_prompts_to_hold_out_are_counted(capsys, tmp_path, toy_model_dir):
    # Was "too few different prompts to hold some out (30 rows)": 30 rows read as plenty.
    path = tmp_path / "five.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in ROWS[:5] * 6))
    code, out, err = train_cli(capsys, toy_model_dir, path, tmp_path / "run")
    assert code == 0, err
    assert (f"{path} has only 5 different prompts in 30 rows, too few to hold some out (it "
            f"takes 10), so there is no held-out score; give a held-out set with --eval-data "
            f"FILE.") in out
    assert RunHistory.load(tmp_path / "run").eval_examples == 0


def test_held_out_rows_not_scored_are_counted(capsys, tmp_path, toy_model_dir):
    held = tmp_path / "held.jsonl"  # line 2's prompt leaves no room for its answer
    long = {"instruction": "What is " + " and ".join(["1+1"] * 40) + "?", "output": "2"}
    held.write_text("".join(json.dumps(r) + "\n" for r in (ROWS[0], long, ROWS[1])))
    code, out, err = train_cli(capsys, toy_model_dir, "course:train", tmp_path / "a",
                               "--eval-data", held, "--max-length", 40)
    assert code == 0, err
    assert (f"Held-out set {held}: 1 not scored: no response token left after 40 tokens "
            f"(line 2; raise --max-length or shorten its prompt).") in out
    assert RunHistory.load(tmp_path / "a").eval_examples == 2
    # At the model's context (256 tokens here) a longer --max-length cannot help: was "raise
    # --max-length" there too.
    held.write_text("".join(json.dumps(r) + "\n" for r in (ROWS[0], {**long, "instruction":
                                                           "word " * 300}, ROWS[1])))
    code, out, err = train_cli(capsys, toy_model_dir, "course:train", tmp_path / "b",
                               "--eval-data", held)
    assert code == 0, err
    assert (f"Held-out set {held}: 1 not scored: no response token left after 256 tokens "
            f"(line 2; the model reads at most 256 tokens, so shorten its prompt).") in out


def test_eval_limit_caps_and_lifts_the_rows_scored(capsys, tmp_path, toy_model_dir):
    held = tmp_path / "held.jsonl"  # 40 rows: more than --eval-limit 8 scores
    held.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    code, out, err = train_cli(capsys, toy_model_dir, "course:train", tmp_path / "a",
                               "--eval-data", held, "--eval-limit", 8)
    assert code == 0, err
    assert (f"Held-out set {held}: only the first 8 of its 40 rows are scored (raise "
            f"--eval-limit to score more).") in out
    assert RunHistory.load(tmp_path / "a").eval_examples == 8
    code, out, err = train_cli(capsys, toy_model_dir, "course:train", tmp_path / "b",
                               "--eval-data", held, "--eval-limit", 0)  # 0: every row
    assert code == 0, err
    assert "only the first" not in out and RunHistory.load(tmp_path / "b").eval_examples == 40


def test_rows_in_another_template_are_named_by_line(capsys, tmp_path, toy_model_dir):
    rows = [json.dumps(r) for r in ROWS[:4]]
    rows.insert(1, json.dumps({"text": "### Instruction: What is 9+9? ### Response: 18"}))
    rows.insert(4, json.dumps({"text": "Q: What is 1+9? A: 10"}))
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(rows) + "\n")
    code, out, err = train_cli(capsys, toy_model_dir, path, tmp_path / "a", "--eval-data", "none")
    assert code == 0, err  # it was 'examples 1' and 'examples 4': counted from 0, not lines
    assert "1 example uses the 'qa' format while most use 'structured' (instruction/response " \
           "fields) (line 5); reformat it with one template." in out
    assert "'one_line' format while most use 'structured' (instruction/response fields) (line 2)" \
           in out


def test_a_saved_dataset_dict_is_scored_on_its_test_split(capsys, tmp_path, toy_model_dir):
    splits = datasets.DatasetDict({"train": datasets.Dataset.from_list(ROWS[:20]),
                                   "test": datasets.Dataset.from_list(ROWS[30:33])})
    splits.save_to_disk(str(tmp_path / "dd"))
    code, out, err = train_cli(capsys, toy_model_dir, tmp_path / "dd", tmp_path / "a",
                               "--eval-data", tmp_path / "dd")  # it scored the train split
    assert code == 0, err
    assert "also in the training data" not in out
    assert RunHistory.load(tmp_path / "a").eval_examples == 3
    # Without --eval-data the set's own test split is the held-out set, not 10% of train.
    code, out, err = train_cli(capsys, toy_model_dir, tmp_path / "dd", tmp_path / "b")
    assert code == 0, err
    assert "20 of 20 examples" in out and f"the 'test' split of {tmp_path / 'dd'}" in out
    assert RunHistory.load(tmp_path / "b").eval_examples == 3
    code, out, err = run_eval(capsys, toy_model_dir, tmp_path / "dd", tmp_path / "e")
    assert code == 0, err
    assert f"3 questions from {tmp_path / 'dd'}" in out


def run_eval(capsys, model, data, out, *extra):
    code = main([str(a) for a in ("eval", model, "--data", data, "--out", out, "--samples", 0,
                                  *extra)])
    stdout, stderr = capsys.readouterr()
    return code, stdout, stderr


def test_a_chat_system_message_made_the_input_is_said(capsys, tmp_path, toy_model_dir):
    chat = [{"messages": [{"role": "system", "content": "Be brief."},
                          {"role": "user", "content": r["instruction"]},
                          {"role": "assistant", "content": r["output"]}]} for r in ROWS[:12]]
    path = tmp_path / "chat.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in chat))
    code, out, err = train_cli(capsys, toy_model_dir, path, tmp_path / "a", "--eval-data", "none")
    assert code == 0, err
    assert "12 chat rows have a system message (lines 1, 2, 3, 4, 5, 6, 7, 8 and 4 more); the " \
           "templates have no system part, so it became the 'input'" in out


def test_notes_on_the_file_count_every_row_when_some_are_held_out(capsys, tmp_path,
                                                                 toy_model_dir):
    # Was "36 rows read as ShareGPT" for this 40-row file, 4 rows of which are held out.
    rows = [{"conversations": [{"from": "human", "value": r["instruction"]},
                               {"from": "gpt", "value": int(r["output"])}]} for r in ROWS]
    path = tmp_path / "sharegpt.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    code, out, err = train_cli(capsys, toy_model_dir, path, tmp_path / "run")
    assert code == 0, err
    assert "4 rows held out of sharegpt.jsonl" in out and "36 of 36 examples" in out
    assert "40 rows read as ShareGPT (lines 1, 2, 3, 4, 5, 6, 7, 8 and 32 more): from/value " \
           "renamed" in out
    assert "40 rows hold a number where text belongs (lines 1, 2, 3, 4, 5, 6, 7, 8 and 32 " \
           "more)" in out


def test_course_data_keeps_the_course_eval_set(capsys, tmp_path, toy_model_dir):
    code, out, _ = train_cli(capsys, toy_model_dir, "course:train", tmp_path / "run")
    assert code == 0 and "held out" not in out
    assert RunHistory.load(tmp_path / "run").eval_data == "course:eval"


def test_bom_and_parquet_files_train(capsys, tmp_path, toy_model_dir, dataset):
    bom = tmp_path / "bom.jsonl"
    bom.write_bytes(b"\xef\xbb\xbf" + "\n".join(json.dumps(r) for r in ROWS).encode())
    parquet = tmp_path / "mine.parquet"
    dataset.to_parquet(str(parquet))
    for path in (bom, parquet):
        code, out, err = train_cli(capsys, toy_model_dir, path, tmp_path / path.stem,
                                   "--eval-data", "none")
        assert code == 0, err
        assert f"40 of 40 examples from {path}" in out


def test_three_bad_rows_are_listed_together_and_nothing_is_written(
        capsys, tmp_path, toy_model_dir):
    lines = [json.dumps(r) for r in ROWS[:10]]
    lines[2] = '{"instruction": "What is 1+1?", "output": }'  # line 3: not JSON
    lines[5] = json.dumps({"instruction": "What is 2+2?"})  # line 6: no response field
    lines[8] = json.dumps({"instruction": "What is 3+3?", "output": [6]})  # line 9: a list
    path = tmp_path / "three_bad.jsonl"
    path.write_text("\n".join(lines) + "\n")
    code, out, err = train_cli(capsys, toy_model_dir, path, tmp_path / "run")
    assert code == 2 and "Traceback" not in err
    assert err.splitlines()[0] == (f"error: {path}: 3 rows cannot be used; fix them and run "
                                   f"again, or pass --skip-bad-rows to leave them out:")
    assert [line.split(":")[0].strip() for line in err.splitlines()[1:]] == [
        "line 3", "line 6", "line 9"]
    assert not (tmp_path / "run").exists()


def test_skip_bad_rows_trains_on_the_rest_says_so_first_and_records_the_count(
        capsys, tmp_path, toy_model_dir):
    # Was: the whole file refused for 2 rows of 40, with no way to train on the other 38.
    lines = [json.dumps(r) for r in ROWS]
    lines[1] = '{"instruction": "What is 0+1?", "output": }'  # line 2: not JSON
    lines[3] = json.dumps({"instruction": "What is 0+3?", "output": [3]})  # line 4: a list
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n")
    code, out, err = train_cli(capsys, toy_model_dir, path, tmp_path / "run", "--skip-bad-rows")
    assert code == 0, err
    note = out.splitlines()[out.splitlines().index(f"{path}: 2 of 40 rows left out "
                                                   f"(--skip-bad-rows):"):][:3]
    assert [line.split(":")[0] for line in note[1:]] == ["  line 2", "  line 4"]
    assert "invalid JSON" in note[1] and "should be text but is a list" in note[2]
    # Said before training, with the held-out slice and the count of 38 rows left to read.
    assert out.index("rows left out") < out.index("threads:")
    assert "4 rows held out of bad.jsonl" in out
    # The count of examples says the left-out rows are not in it.
    assert (f"34 of 34 examples from {path} ready for training, at most 256 tokens each; 2 rows "
            f"of it that could not be used left out (named below; the run's history lists "
            f"every one, rows_left_out_named).") in out.splitlines()
    history = RunHistory.load(tmp_path / "run")
    assert history.rows_left_out == 2 and history.warnings[0] == "\n".join(note)
    # Every row, each with its problem: a note names a few, and a large file has hundreds.
    assert [row.split(":")[0] for row in history.rows_left_out_named] == [
        f"{path} line 2", f"{path} line 4"]
    assert "should be text but is a list" in history.rows_left_out_named[1]
    # `course eval` of the run reads its training file to find the questions it trained on:
    # the rows the run left out are left out there too, not refused.
    code, out, err = run_eval(capsys, tmp_path / "run", path, tmp_path / "e", "--skip-bad-rows")
    assert code == 0, err
    assert "note: " + "\n".join(note) in err


def test_skip_bad_rows_leaves_them_out_of_the_held_out_file_too(capsys, tmp_path,
                                                                toy_model_dir):
    held = tmp_path / "held.jsonl"
    held.write_text("".join(json.dumps(r) + "\n" for r in ROWS[:3]) + "{oops\n")
    code, _, err = train_cli(capsys, toy_model_dir, "course:train", tmp_path / "a",
                             "--eval-data", held)
    assert code == 2 and err.rstrip().endswith("or pass --skip-bad-rows to leave this row out.")
    code, out, err = train_cli(capsys, toy_model_dir, "course:train", tmp_path / "b",
                               "--eval-data", held, "--skip-bad-rows")
    assert code == 0, err
    assert f"{held}: 1 of 4 rows left out (--skip-bad-rows):\n  line 4: invalid JSON" in out
    assert RunHistory.load(tmp_path / "b").eval_examples == 3


def test_a_mistyped_path_says_no_such_file(capsys, tmp_path, toy_model_dir, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "train.jsonl").write_text(json.dumps(ROWS[0]))
    code, _, err = train_cli(capsys, toy_model_dir, "./data/trian.jsonl", tmp_path / "run")
    assert code == 2
    assert err.startswith("error: --data: No such file or folder: './data/trian.jsonl' (did you "
                          "mean")


def test_max_length_cuts_and_says_what_is_lost(capsys, tmp_path, toy_model_dir, data_files):
    code, out, _ = train_cli(capsys, toy_model_dir, data_files[0], tmp_path / "a",
                             "--max-length", 14, "--eval-data", "none")
    assert code == 0
    assert "80 were cut to max_length=14 tokens" in out
    assert "lost the EOS at the end, so they never teach the model to stop" in out
    # Shorter than every prompt: a masked run has nothing left to train on ...
    code, _, err = train_cli(capsys, toy_model_dir, data_files[0], tmp_path / "b",
                             "--max-length", 6, "--eval-data", "none")
    assert code == 2 and "No example of" in err
    # ... and an unmasked one trains on the prompts alone, which is said.
    code, out, _ = train_cli(capsys, toy_model_dir, data_files[0], tmp_path / "c",
                             "--max-length", 6, "--eval-data", "none", "--masking", "none")
    assert code == 0
    assert "80 of them lost their whole response, so with masking 'none' they train on the " \
           "prompt alone (lines 1, 2, 3" in out


def test_max_length_past_the_context_names_both(capsys, tmp_path, toy_model_dir, data_files):
    code, out, _ = train_cli(capsys, toy_model_dir, data_files[0], tmp_path / "a",
                             "--max-length", 5000, "--eval-data", "none")
    assert code == 0
    assert "max_length=5000 is more than the model's context of 256 tokens, so 256 is used" in out
    assert "ready for training, at most 256 tokens each." in out


def test_prompts_that_hold_a_template_are_reported(capsys, tmp_path, toy_model_dir):
    rows = [dict(r) for r in ROWS[:12]]
    for r in rows[:3]:
        r["instruction"] = f"### Instruction: {r['instruction']} ### Response:"
    path = tmp_path / "templated.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    code, out, _ = train_cli(capsys, toy_model_dir, path, tmp_path / "run", "--eval-data", "none")
    assert code == 0
    assert "3 prompts already hold template markers such as '### Response:' (lines 1, 2, 3)" in out
    assert "give the bare instruction, input and output fields" in out


def test_template_option_is_the_same_as_show_mask(capsys, tmp_path, toy_model_dir, data_files):
    with pytest.raises(SystemExit):  # argparse's own usage error, exit code 2
        train_cli(capsys, toy_model_dir, data_files[0], tmp_path / "a", "--template", "chatml")
    err = capsys.readouterr().err
    assert "invalid choice: 'chatml'" in err and "'one_line', 'alpaca'" in err
    code, out, _ = train_cli(capsys, toy_model_dir, data_files[0], tmp_path / "b",
                             "--template", "alpaca", "--eval-data", "none")
    assert code == 0


@pytest.mark.slow
def test_real_english_on_the_tiny_model_is_said_once(capsys, tmp_path):
    sentences = [
        "Explain why the sky appears blue during a clear afternoon.",
        "Rayleigh scattering sends shorter wavelengths across the atmosphere in every "
        "direction, so observers mostly perceive blue light.",
        "Summarize the main argument of the following paragraph about renewable energy.",
        "Governments should accelerate investment because photovoltaic prices collapsed.",
    ]
    rows = [{"instruction": sentences[i % 2 * 2], "output": sentences[i % 2 * 2 + 1]}
            for i in range(12)]
    path = tmp_path / "english.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    code, out, _ = train_cli(capsys, "tiny", path, tmp_path / "run", "--eval-data", "none")
    assert code == 0
    assert out.count("This data looks far outside what the model knows") == 1
    assert "tokens per word (the course's data: 1.3" in out and "--model smollm2-135m" in out
    code, out, _ = train_cli(capsys, "tiny", "course:train", tmp_path / "run2",
                             "--eval-data", "none")
    assert code == 0 and "far outside" not in out


def test_ask_answers_with_the_template_the_run_was_trained_with(
        capsys, tmp_path, toy_model_dir, data_files, monkeypatch):
    from course_lib.evaluation import generation

    code, _, _ = train_cli(capsys, toy_model_dir, data_files[0], tmp_path / "run",
                           "--template", "alpaca", "--eval-data", "none")
    assert code == 0 and RunHistory.load(tmp_path / "run").template == "alpaca"
    asked = []
    real = generation.generate_batch
    monkeypatch.setattr(generation, "generate_batch",
                        lambda *a, **k: asked.append(k["template"]) or real(*a, **k))
    said = []
    for extra in ([], ["--template", "one_line"], ["--template", "alpaca"]):
        assert main(["ask", "--model", str(tmp_path / "run"), "--max-new-tokens", "1",
                     *extra, "What is 1+1?"]) == 0
        said.append(capsys.readouterr().err.splitlines()[0])  # then a note if it said nothing
    assert asked == ["alpaca", "one_line", "alpaca"]
    assert said == ["template: alpaca (the run's, from its history.json)",
                    # Asked otherwise than it was tuned: allowed, but said.
                    "template: one_line (--template; the run was tuned in alpaca, so this is a "
                    "format it never saw)",
                    "template: alpaca (--template)"]
    # The run given where a question goes: said, not answered by the untuned model.
    assert main(["ask", str(tmp_path / "run"), "What is 1+1?"]) == 2
    assert f"is a folder, not a question; to ask a run, give it as --model {tmp_path / 'run'}" \
        in capsys.readouterr().err


def test_a_json_file_of_splits_trains_on_train_and_scores_its_test_split(
        capsys, tmp_path, toy_model_dir):
    path = tmp_path / "splits.json"
    path.write_text(json.dumps({"train": ROWS[:20], "test": ROWS[30:33]}, indent=1))
    code, out, err = train_cli(capsys, toy_model_dir, path, tmp_path / "a")
    assert code == 0, err
    # As a save_to_disk folder of splits: the test split is the held-out set, not 10% of train.
    assert "20 of 20 examples" in out and f"the 'test' split of {path}" in out
    assert RunHistory.load(tmp_path / "a").eval_examples == 3
    path.write_text(json.dumps({"train": ROWS[:20]}))
    code, out, err = run_eval(capsys, toy_model_dir, path, tmp_path / "e")
    assert code == 2 and "no 'test', 'validation', 'valid', 'dev' or 'eval' split" in err


@pytest.mark.parametrize("splits, said", [
    # A 'dev' split was read by nothing, and train held out 10% of its rows instead.
    (("train", "dev"), "the 'dev' split of {path};"),
    # A run watches the validation split: the test split stays unseen, for the final score.
    (("train", "validation", "test"), "the 'validation' split of {path}, and its 'test' split "
                                      "is not read (course eval scores a test split);"),
    (("train", "extra"), "set aside from training, and its 'extra' split is not read;"),
])
def test_each_split_of_a_file_is_read_or_said_to_be_unread(capsys, tmp_path, toy_model_dir,
                                                          splits, said):
    path = tmp_path / "splits.json"
    held = ROWS[30:33]
    path.write_text(json.dumps({name: ROWS[:20] if name == "train" else held
                                for name in splits}))
    code, out, err = train_cli(capsys, toy_model_dir, path, tmp_path / "a")
    assert code == 0, err
    assert said.format(path=path) in out.split("Held-out score: ")[1].splitlines()[0]
