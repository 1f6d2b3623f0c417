"""Issue 2: device choice, offline-first loading, data loading errors, `course doctor`; and the
test set-up itself (make test's workers share heavy fixtures)."""

import json
import shutil
from pathlib import Path

import pytest
import torch

from course_lib import cli
from course_lib.env import choose_device, cpu_only, hub_status
from course_lib.errors import CourseError
from course_lib.formatting.records import load_records
from course_lib.loading import load_model_and_tokenizer, load_tokenizer, resolve_model_name


def test_cpu_is_chosen_with_fp32_and_a_reason(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    choice = choose_device()
    assert (choice.device, choice.dtype) == ("cpu", torch.float32)
    assert choice.trainer_precision == {"bf16": False, "fp16": False, "use_cpu": True}
    assert "CPU" in choice.reason


@pytest.mark.parametrize("bf16, dtype", [(True, torch.bfloat16), (False, torch.float16)])
def test_cuda_picks_bf16_when_supported_else_fp16(monkeypatch, bf16, dtype):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda i=0: "Tesla T4")
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: bf16)
    choice = choose_device()
    assert (choice.device, choice.dtype) == ("cuda", dtype)
    assert choice.trainer_precision["bf16"] is bf16 and choice.trainer_precision["fp16"] is not bf16


def test_mps_is_chosen_on_apple(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert choose_device().device == "mps"


def test_cpu_only_picks_the_cpu_beside_a_gpu_and_then_puts_the_variable_back(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda i=0: "Tesla T4")
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    with cpu_only():
        choice = choose_device()
    assert (choice.device, choice.dtype) == ("cpu", torch.float32)
    assert "COURSE_DEVICE=cpu" in choice.reason
    assert choose_device().device == "cuda"  # a notebook's next cell has its GPU back
    with cpu_only(False):
        assert choose_device().device == "cuda"


def test_hub_status_reports_offline_mode(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert hub_status() == "offline mode"


def test_hub_id_offline_gives_one_sentence_naming_the_embedded_model(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(CourseError) as info:
        load_model_and_tokenizer("some-owner/some-model-not-in-cache")
    message = str(info.value)
    assert "some-owner/some-model-not-in-cache" in message
    assert "offline" in message and "model='tiny'" in message
    assert message.count(". ") == 0 and "\n" not in message  # one sentence


def test_missing_folder_and_non_model_folder_are_explained(tmp_path):
    with pytest.raises(CourseError, match="No model folder"):
        resolve_model_name(str(tmp_path / "nope"))
    with pytest.raises(CourseError, match="no config.json"):
        resolve_model_name(str(tmp_path))


def test_a_folder_that_is_not_a_whole_model_says_what_it_is(tmp_path, toy_model_dir):
    run = tmp_path / "run"  # interrupted: only checkpoints/, each without a tokenizer
    ckpt = run / "checkpoints" / "checkpoint-4"
    ckpt.mkdir(parents=True)
    for name in ("config.json", "model.safetensors"):
        shutil.copy(Path(toy_model_dir) / name, ckpt)
    with pytest.raises(CourseError) as stopped:
        resolve_model_name(str(run))
    assert "stopped before the end (it holds only checkpoints); finish it with " \
           f"`course train --out {run} --resume`." in stopped.value.cli
    assert resolve_model_name(str(ckpt)) == str(ckpt)  # its config alone is readable
    with pytest.raises(CourseError, match=rf"no tokenizer; it is a training checkpoint: use the "
                                          rf"run's folder, {run}, once the run has finished"):
        load_model_and_tokenizer(str(ckpt))  # was a traceback about sentencepiece or tiktoken
    (ckpt / "model.safetensors").unlink()
    with pytest.raises(CourseError, match="no tokenizer and no weights"):
        load_model_and_tokenizer(str(ckpt))
    with pytest.raises(CourseError, match="but no tokenizer;"):
        load_tokenizer(str(ckpt))


def test_local_folder_loads_through_from_pretrained(toy_model_dir):
    tokenizer = load_tokenizer(toy_model_dir)
    model, tok2 = load_model_and_tokenizer(toy_model_dir)
    assert tokenizer.pad_token == "<pad>" and tok2.eos_token == "</s>"
    assert model.device.type == "cpu" and not model.training


def test_jsonl_errors_name_file_and_line(tmp_path):
    path = tmp_path / "data.jsonl"
    good = json.dumps({"instruction": "What is 2+2?", "response": "4"})
    path.write_text(good + "\n" + "{not json\n")
    with pytest.raises(CourseError, match=r"data.jsonl line 2: invalid JSON"):
        load_records(path)
    path.write_text(good + "\n\n" + json.dumps({"instruction": 3, "response": "x"}) + "\n")
    with pytest.raises(CourseError, match=r"line 3: field 'instruction' should be text"):
        load_records(path)
    path.write_bytes(good.encode() + b"\n" + b'{"instruction": "caf\xe9", "response": "x"}\n')
    with pytest.raises(CourseError, match=r"line 2: not valid UTF-8"):
        load_records(path)
    path.write_text(json.dumps({"question": "x"}) + "\n")
    with pytest.raises(CourseError, match=r"line 1: record has fields \['question'\]"):
        load_records(path)


def test_jsonl_and_json_in_any_known_schema_load_the_same(tmp_path):
    rows = [
        {"instruction": "Say hi", "response": "hi"},
        {
            "instruction": "Translate this to Spanish",
            "input": "Hello world",
            "output": "Hola mundo",
        },
        {"instruction": "Summarise", "context": "Cats purr.", "response": "Cats purr."},
        {"prompt": "### Instruction: Say hi ### Response:", "completion": " hi"},
        {
            "messages": [
                {"role": "user", "content": "Say hi"},
                {"role": "assistant", "content": "hi"},
            ]
        },
    ]
    jsonl = tmp_path / "d.jsonl"
    jsonl.write_text("\n".join(json.dumps(r) for r in rows))
    as_json = tmp_path / "d.json"
    as_json.write_text(json.dumps(rows))
    records = load_records(jsonl)
    assert records == load_records(as_json)
    assert records[1] == {
        "instruction": "Translate this to Spanish",
        "input": "Hello world",
        "response": "Hola mundo",
    }
    assert (
        records[0]
        == records[3]
        == records[4]
        == {"instruction": "Say hi", "input": "", "response": "hi"}
    )


def test_hub_dataset_offline_is_one_sentence(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(CourseError, match=r"use the embedded data instead: 'course:train'"):
        load_records("some-owner/some-dataset-not-cached")


def test_doctor_prints_the_facts(capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert cli.main(["doctor"]) == 0
    out = capsys.readouterr().out
    for key in (
        "python",
        "torch",
        "transformers",
        "trl",
        "datasets",
        "device",
        "dtype",
        "hub",
        "embedded model",
    ):
        assert any(line.startswith(key + " ") for line in out.splitlines()), key
    assert "offline mode (HF_HUB_OFFLINE=1 is set): the embedded model and data work; a Hub id " \
           "loads only if it is in the local cache" in out and "tiny-base" in out


def test_doctor_names_versions_other_than_the_lessons_measured_with(capsys, monkeypatch, tmp_path):
    import transformers

    from course_lib import env

    pins = tmp_path / "constraints.txt"
    monkeypatch.setattr(env, "CONSTRAINTS", pins)
    pins.write_text(f"# comment\ntransformers=={transformers.__version__}\ntrl==0.0.1  # old\n")
    assert cli.main(["doctor"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert "measured with" not in lines["transformers"]
    assert lines["trl"].endswith("(the lessons' numbers were measured with 0.0.1)")


def test_cli_prints_course_errors_as_one_line(capsys, monkeypatch):
    def boom(_args):
        raise CourseError("Nothing here; do this next.")

    # any command raising a CourseError
    monkeypatch.setattr(cli, "COMMANDS", [("doctor", boom, lambda p: None, "", "")])
    assert cli.main(["doctor"]) == 2
    assert capsys.readouterr().err == "error: Nothing here; do this next.\n"


def test_a_missing_embedded_model_says_how_to_get_it_back(monkeypatch, tmp_path):
    from course_lib import loading

    monkeypatch.setattr(loading, "EMBEDDED_MODEL_DIR", tmp_path / "tiny-base")
    with pytest.raises(CourseError, match="embedded model is missing.*course build-base-model"):
        resolve_model_name("tiny")


@pytest.mark.xdist_group("grouping-check")
def test_make_test_keeps_each_group_on_one_worker(request):
    """`make test` runs `pytest -n 2 --dist loadgroup`: the tests of an xdist_group share one
    worker, so JupyterLab and lesson 04's two runs are built once. pytest 9.2 broke that
    without a word (pytest-dev/pytest-xdist#1386): the group suffix vanished from the test ids,
    every worker built the fixtures again, and the suite took 30 min instead of 19."""
    if not getattr(request.config.option, "loadgroup", False):
        pytest.skip("only under `pytest -n 2 --dist loadgroup` (make test)")
    assert request.node.nodeid.endswith("@grouping-check"), (
        f"xdist groups are ignored ({request.node.nodeid!r} has no @group suffix): install the "
        f"versions in constraints.txt (make setup)")
