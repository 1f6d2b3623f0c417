"""The quick build runs end to end and saves a folder that transformers loads."""

from __future__ import annotations

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from course_lib.cli import main


def test_quick_build_saves_a_loadable_model(tmp_path, capsys):
    out = tmp_path / "tiny"
    assert main(["build-base-model", "--out", str(out), "--quick"]) == 0
    printed = capsys.readouterr()
    assert "final loss" in printed.out
    # Each logged step is one line a learner can read, not the Trainer's raw dict.
    both = printed.out + printed.err
    assert "step     6/6: loss " in both and "{'loss'" not in both
    for name in ("config.json", "model.safetensors", "generation_config.json",
                 "tokenizer.json", "tokenizer_config.json", "README.md"):
        assert (out / name).exists(), name

    model = AutoModelForCausalLM.from_pretrained(out)
    tokenizer = AutoTokenizer.from_pretrained(out)
    assert model.config.tie_word_embeddings
    assert model.config.vocab_size == len(tokenizer)
    assert tokenizer.pad_token_id != tokenizer.eos_token_id
    ids = tokenizer("### Instruction: What is 2+2? ### Response:", return_tensors="pt")["input_ids"]
    with torch.no_grad():
        out_ids = model.generate(ids, max_new_tokens=3, do_sample=False,
                                 pad_token_id=tokenizer.pad_token_id)
    assert out_ids.shape[1] > ids.shape[1]


def test_cli_writes_tuning_data(tmp_path, capsys):
    assert main(["build-tuning-data", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "train.jsonl").exists() and (tmp_path / "README.md").exists()


@pytest.mark.parametrize("command", ["build-tuning-data", "build-base-model"])
def test_a_folder_with_your_files_is_refused_unless_forced(tmp_path, capsys, command):
    mine = tmp_path / "train.jsonl"
    mine.write_text('{"instruction": "mine", "response": "mine"}\n')
    quick = ["--quick"] if command == "build-base-model" else []  # seconds, even if not refused
    assert main([command, "--out", str(tmp_path), *quick]) == 2  # refused before any work
    assert "never overwrites your files" in capsys.readouterr().err
    assert mine.read_text() == '{"instruction": "mine", "response": "mine"}\n'
    if command == "build-tuning-data":  # --force: rebuilding the embedded sets in place
        assert main([command, "--out", str(tmp_path), "--force"]) == 0
        assert "mine" not in mine.read_text()
