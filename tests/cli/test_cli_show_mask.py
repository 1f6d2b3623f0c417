"""`course show-mask` prints the ANSI view; colour can be turned off."""

import json
import re
import sys

import pytest

from course_lib.cli import main

ANSI = re.compile(r"\033\[[0-9;]*m")


def test_show_mask_prints_tokens_and_totals(toy_model_dir, capsys):
    rc = main(["show-mask", "What is 2+2?", "4", "--model", str(toy_model_dir),
               "--color", "never"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "·4(301, 301)" in out and "[</s>](1, 1)" in out
    assert "Total input len: 15  Count of labels: 2  (2 of 14 predictions trained, 14%)" in out
    assert out.startswith("Key: text(label, token id); label -100: masked, not trained; ")
    assert not ANSI.search(out)


def test_show_mask_three_part_alpaca(toy_model_dir, capsys):
    rc = main(["show-mask", "Translate this to Spanish", "Hola mundo", "--input", "Hello world",
               "--template", "alpaca", "--model", str(toy_model_dir), "--color", "always"])
    out = capsys.readouterr().out
    assert rc == 0 and ANSI.search(out)
    plain = ANSI.sub("", out)
    assert "·Input(-100" in plain and "Hola(" in plain and "template: alpaca" in plain


def test_no_color_env_turns_auto_colour_off(toy_model_dir, capsys, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    main(["show-mask", "What is 2+2?", "4", "--model", str(toy_model_dir)])
    assert not ANSI.search(capsys.readouterr().out)


def test_auto_colour_is_on_at_a_terminal_and_no_color_turns_it_off(toy_model_dir, capsys,
                                                                    monkeypatch):
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)  # as if on a terminal
    monkeypatch.delenv("NO_COLOR", raising=False)
    argv = ["show-mask", "What is 2+2?", "4", "--model", str(toy_model_dir)]
    assert main(argv) == 0 and ANSI.search(capsys.readouterr().out)
    monkeypatch.setenv("NO_COLOR", "1")  # https://no-color.org: any value turns colour off
    assert main(argv) == 0 and not ANSI.search(capsys.readouterr().out)


def test_template_strategy_warns_about_the_masked_row(toy_model_dir, capsys):
    main(["show-mask", "What is 2+2?", "4", "--model", str(toy_model_dir),
          "--masking", "template", "--color", "never"])
    out = capsys.readouterr().out
    assert "Count of labels: 0" in out
    assert "warning: the example has no trained token" in out


def test_missing_model_is_one_error_line(tmp_path, capsys):
    rc = main(["show-mask", "What is 2+2?", "4", "--model", str(tmp_path / "nope")])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("error: ") and err.count("\n") == 1


def test_show_mask_takes_a_row_of_a_data_file(tmp_path, toy_model_dir, capsys):
    path = tmp_path / "mine.jsonl"
    rows = [{"instruction": "What is 1+1?", "output": "2"},
            {"instruction": "Translate to Russian", "input": "Tokyo", "output": "Токио"}]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    rc = main(["show-mask", "--data", str(path), "--row", "2", "--template", "alpaca",
               "--model", str(toy_model_dir), "--color", "never"])
    out = capsys.readouterr().out
    assert rc == 0
    assert f"{path} line 2: " in out and "template: alpaca" in out
    # Each Cyrillic letter is two byte tokens: shown as the letter, then '⋯', never as 'Ð'.
    assert "Т(" in out and "⋯(" in out and "Ð" not in out


def test_a_text_row_is_shown_in_the_template_it_is_written_in(tmp_path, toy_model_dir, capsys):
    path = tmp_path / "text.jsonl"  # a text row in Q/A, shown with the default --template
    path.write_text(json.dumps({"text": "Q: What is 1+1? A: 2"}))
    rc = main(["show-mask", "--data", str(path), "--row", "1", "--model", str(toy_model_dir),
               "--color", "never"])
    out = capsys.readouterr().out
    assert rc == 0 and "(template: qa, the one the row is written in)" in out  # was "one_line"
    assert "Q(-100" in out and "###" not in out


def test_show_mask_row_is_counted_from_one(tmp_path, toy_model_dir, capsys):
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps({"instruction": "What is 1+1?", "response": "2"}))
    for row in ("0", "2"):
        rc = main(["show-mask", "--data", str(path), "--row", row, "--model", str(toy_model_dir)])
        err = capsys.readouterr().err
        assert rc == 2 and err == (f"error: --row {row} is outside {path}, which has 1 row; rows "
                                   f"are counted from 1.\n")  # was "1 rows"
    with pytest.raises(SystemExit):
        main(["show-mask", "--model", str(toy_model_dir)])
    assert "--data FILE [--row N]" in capsys.readouterr().err


def test_show_mask_without_row_says_it_shows_row_1_and_how_to_see_another(tmp_path,
                                                                           toy_model_dir, capsys):
    # Row 1 was shown without a word, while the errors said --row N is needed. Shown with a
    # note, not refused: a first look at a file needs no row number.
    path = tmp_path / "two.jsonl"
    path.write_text("\n".join(json.dumps({"instruction": f"What is {n}+1?", "response": str(n + 1)})
                              for n in (1, 2)))
    args = ["show-mask", "--data", str(path), "--model", str(toy_model_dir), "--color", "never"]
    assert main(args) == 0
    out, err = capsys.readouterr()
    assert f"{path} line 1: " in out
    assert err == f"note: row 1 of the 2 in {path} is shown; --row N shows another.\n"
    assert main([*args, "--row", "1"]) == 0 and capsys.readouterr().err == ""  # asked for


def test_a_broken_line_elsewhere_does_not_hide_the_row_asked_for(tmp_path, toy_model_dir, capsys):
    path = tmp_path / "some_bad.jsonl"
    path.write_text('{"instruction": "What is 1+1?", "output": "2"}\n{broken\n'
                    '{"instruction": "What is 3+3?", "output": "6"}\n')
    args = ["show-mask", "--data", str(path), "--model", str(toy_model_dir), "--color", "never"]
    assert main([*args, "--row", "2"]) == 0  # the second readable row, and it says which line
    out, err = capsys.readouterr()
    assert f"{path} line 3: " in out and "·6(" in out
    assert err.startswith(f"note: {path} line 2: invalid JSON") and "not counted as a row" in err
    assert main([*args, "--row", "3"]) == 2  # past the readable rows: the broken one is named
    assert f"{path} line 2: invalid JSON" in capsys.readouterr().err
    # Many broken lines: the first ten, then a count (every one was a line of its own).
    path.write_text('{"instruction": "What is 1+1?", "output": "2"}\n' + "{broken\n" * 25)
    assert main([*args, "--row", "1"]) == 0
    notes = capsys.readouterr().err.splitlines()
    assert len(notes) == 11 and notes[9].startswith(f"note: {path} line 11: invalid JSON")
    assert notes[10] == f"note: and 15 more rows of {path} cannot be read; none of them is " \
                        f"counted as a row."


def _show_row(tmp_path, toy_model_dir, capsys, rows, row, *more):
    """show-mask of one row of a JSON Lines file of `rows`: (exit code, stdout)."""
    path = tmp_path / "rows.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    rc = main(["show-mask", "--data", str(path), "--row", str(row), "--model",
               str(toy_model_dir), "--color", "never", *more])
    return rc, capsys.readouterr().out


def test_show_mask_cuts_to_the_length_train_uses_and_says_train_skips_the_row(
        tmp_path, toy_model_dir, capsys):
    long = {"instruction": "Summarize.", "input": "word " * 600, "output": "4"}
    rc, out = _show_row(tmp_path, toy_model_dir, capsys, [long], 1)
    # The toy model's context is 256 tokens: train cuts there, so the view shows no label.
    assert rc == 0 and "Total input len: 256 " in out and "0 of 255 predictions trained" in out
    note = next(line for line in out.splitlines() if "cut to 256" in line)
    assert note.startswith("note: line 1: ") and "(the model's context, as course train does)" \
        in note and "course train skips this row" in note and note.endswith(
            "; the model reads at most 256 tokens, so shorten it.")
    assert "Example 0" not in out  # said once, as the user numbers rows
    rc, out = _show_row(tmp_path, toy_model_dir, capsys, [long], 1, "--max-length", "3000")
    assert "cut to 256 (the model's context; --max-length 3000 is past it, as course" in out


def test_show_mask_says_a_cut_row_loses_its_end(tmp_path, toy_model_dir, capsys):
    rows = [{"instruction": "What is 1+1?", "output": "2"},
            {"instruction": "Spell it out.", "output": "word " * 40}]
    rc, out = _show_row(tmp_path, toy_model_dir, capsys, rows, 2, "--max-length", "20")
    note = next(line for line in out.splitlines() if "cut to 20" in line)
    assert rc == 0 and note.startswith("note: line 2: ") and "(--max-length" in note
    # Trained, but it never teaches stopping.
    assert note.endswith("raise --max-length or shorten it.") and "skips" not in note


def test_show_mask_names_the_row_and_the_flag_when_nothing_is_trained(
        tmp_path, toy_model_dir, capsys):
    rows = [{"instruction": "What is 1+1?", "output": "2"}] * 3
    rc, out = _show_row(tmp_path, toy_model_dir, capsys, rows, 3, "--max-length", "3")
    assert rc == 0 and "note: line 3: " in out and "course train skips this row" in out
    assert "Example" not in out and "labels.prepare_examples" not in out  # 0-based, Python


def test_template_search_that_trains_nothing_names_the_row_and_a_flag(
        tmp_path, toy_model_dir, capsys):
    rows = [{"instruction": "What is 1+1?", "output": "2"}] * 2
    rc, out = _show_row(tmp_path, toy_model_dir, capsys, rows, 2, "--masking", "template")
    warning = next(line for line in out.splitlines() if line.startswith("warning: "))
    assert rc == 0 and warning.startswith("warning: line 2 has no trained token")
    assert "--masking response" in warning and "prepare_examples" not in warning


def test_show_mask_makes_the_checks_train_makes_on_the_row(tmp_path, toy_model_dir, capsys):
    rows = [{"instruction": "What is 2+2?", "output": "4"},
            {"instruction": "Name the capital of France.", "output": ""},
            {"instruction": "### Instruction:\nWhat is 2+2?\n\n### Response:", "output": "4"},
            {"messages": [{"role": "system", "content": "Be brief."},
                          {"role": "user", "content": "Hi"},
                          {"role": "assistant", "content": "Hello."}]}]
    said = {row: _show_row(tmp_path, toy_model_dir, capsys, rows, row)[1] for row in (1, 2, 3, 4)}
    assert "note: " not in said[1]  # a plain row: nothing to say
    assert "note: 1 has an empty response (line 2)" in said[2]
    assert "template markers" in said[3] and "(line 3)" in said[3]
    assert "system message (line 4)" in said[4]
