"""loading: a preset, a folder or a Hub id through from_pretrained, offline first; and what is
said when a folder is not a whole model."""

import shutil
from pathlib import Path

import pytest
import torch

from course_lib.errors import CourseError
from course_lib.loading import load_model_and_tokenizer, load_tokenizer, resolve_model_name


def test_hub_id_offline_gives_one_sentence_naming_the_embedded_model(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(CourseError) as info:
        load_model_and_tokenizer("some-owner/some-model-not-in-cache")
    message = str(info.value)
    assert "some-owner/some-model-not-in-cache" in message
    assert "offline" in message and "model='tiny'" in message
    assert message.count(". ") == 0 and "\n" not in message  # one sentence


def test_a_run_folder_not_trained_yet_is_said_to_be_no_folder_here_too(monkeypatch, tmp_path):
    # 'runs/masked' before the run (no runs/ yet) has the shape of a Hub id: the sentence
    # said only that the Hub was offline.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CourseError, match=r"not in the local cache \(nor is 'runs/masked' a "
                                          r"folder here\); use the embedded model"):
        load_model_and_tokenizer("runs/masked")


def test_missing_folder_and_non_model_folder_are_explained(tmp_path):
    with pytest.raises(CourseError, match="No model folder"):
        resolve_model_name(str(tmp_path / "nope"))
    with pytest.raises(CourseError, match="no config.json"):
        resolve_model_name(str(tmp_path))


def test_a_file_given_as_the_model_is_called_a_file_not_a_folder(tmp_path, toy_model_dir):
    data = tmp_path / "alp.jsonl"  # `course eval alp.jsonl`: the data where a model goes
    data.write_text('{"instruction": "Hi", "output": "Hello."}\n')
    with pytest.raises(CourseError) as info:
        load_model_and_tokenizer(str(data))
    err = info.value
    assert str(err).startswith(f"'{data}' is a data file, not a model; give a model folder")
    assert "train(..., out_dir=...)" in str(err) and "`course train --out`" in err.cli
    assert "tiny" in err.cli and "Hub id" in err.cli and "folder but" not in err.cli
    assert data.read_text() == '{"instruction": "Hi", "output": "Hello."}\n'  # untouched
    weights = Path(toy_model_dir) / "model.safetensors"  # a file of a model: its folder
    with pytest.raises(CourseError, match=rf"inside the model folder '{toy_model_dir}'; give "
                                          rf"the folder itself"):
        resolve_model_name(str(weights))


def test_a_folder_that_is_not_a_whole_model_says_what_it_is(tmp_path, toy_model_dir):
    run = tmp_path / "run"  # interrupted: only checkpoints/, each without a tokenizer
    ckpt = run / "checkpoints" / "checkpoint-4"
    ckpt.mkdir(parents=True)
    for name in ("config.json", "model.safetensors"):
        shutil.copy(Path(toy_model_dir) / name, ckpt)
    with pytest.raises(CourseError) as stopped:
        resolve_model_name(str(run))
    assert "stopped before the end (it holds only checkpoints); finish it with " \
           f"`course train --out {run} --resume` and the other flags that started it" \
           in stopped.value.cli  # no settings file here: no --model or --data to name
    assert resolve_model_name(str(ckpt)) == str(ckpt)  # its config alone is readable
    with pytest.raises(CourseError, match=rf"no tokenizer; it is a training checkpoint: use the "
                                          rf"run's folder, {run}, once the run has finished"):
        load_model_and_tokenizer(str(ckpt))  # was a traceback about sentencepiece or tiktoken
    (ckpt / "model.safetensors").unlink()
    with pytest.raises(CourseError, match="no tokenizer and no weights"):
        load_model_and_tokenizer(str(ckpt))
    with pytest.raises(CourseError, match="but no tokenizer;"):
        load_tokenizer(str(ckpt))


@pytest.mark.parametrize("name", ["config.json", "tokenizer.json", "model.safetensors"])
def test_a_file_cut_short_in_a_model_folder_is_named(tmp_path, toy_model_dir, name):
    # A copy that did not finish: a traceback ending in "invalid header length" or a JSON
    # position ("Expecting ':' delimiter: line 27 column 20"), which named no file.
    folder = tmp_path / "model"
    shutil.copytree(toy_model_dir, folder)
    whole = (folder / name).read_bytes()
    (folder / name).write_bytes(whole[:len(whole) // 2])
    with pytest.raises(CourseError) as err:
        load_model_and_tokenizer(str(folder))
    assert str(err.value).startswith(f"'{folder / name}' is cut short or damaged (")
    assert str(err.value).endswith(f"), so the model in '{folder}' cannot be loaded; copy or "
                                   f"save the folder again.")


def test_local_folder_loads_through_from_pretrained(toy_model_dir):
    tokenizer = load_tokenizer(toy_model_dir)
    model, tok2 = load_model_and_tokenizer(toy_model_dir)
    assert tokenizer.pad_token == "<pad>" and tok2.eos_token == "</s>"
    assert model.device.type == "cpu" and not model.training


def test_a_missing_embedded_model_says_how_to_get_it_back(monkeypatch, tmp_path):
    from course_lib import loading

    monkeypatch.setattr(loading, "EMBEDDED_MODEL_DIR", tmp_path / "tiny-base")
    with pytest.raises(CourseError, match="embedded model is missing.*course build-base-model"):
        resolve_model_name("tiny")


def test_a_tokenizer_without_a_pad_token_pads_with_eos(tmp_path, toy_model_dir):
    """Many base models (SmolLM2) ship no pad token: loading gives them pad = eos."""
    from course_lib.world.toy import make_toy_tokenizer

    folder = tmp_path / "no-pad"
    shutil.copytree(toy_model_dir, folder)
    tokenizer = make_toy_tokenizer()
    tokenizer.pad_token = None
    tokenizer.save_pretrained(folder)
    assert load_tokenizer(folder).pad_token is None  # as saved
    _, tok = load_model_and_tokenizer(folder)
    assert tok.pad_token == tok.eos_token == "</s>" and tok.pad_token_id == tok.eos_token_id


def test_the_tiny_model_loads_in_fp32_even_where_the_device_prefers_half(monkeypatch):
    import torch

    from course_lib import loading
    from course_lib.env import DeviceChoice

    monkeypatch.setattr(loading, "choose_device",
                        lambda: DeviceChoice("cpu", torch.bfloat16, "a GPU that prefers bf16"))
    model, _ = load_model_and_tokenizer("tiny")
    assert model.dtype == torch.float32
    model, _ = load_model_and_tokenizer("tiny", dtype=torch.bfloat16)  # asked for: given
    assert model.dtype == torch.bfloat16


def test_a_mistyped_local_path_is_not_taken_for_a_hub_id(tmp_path, monkeypatch):
    """'runs/masekd' next to a runs/ folder is a typo of a local path, not owner/name."""
    (tmp_path / "runs").mkdir()
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CourseError, match="No model folder at 'runs/masekd'"):
        resolve_model_name("runs/masekd")
    assert resolve_model_name("owner/model") == "owner/model"  # no owner/ folder here: a Hub id


def test_only_a_preset_that_says_so_is_tuned_with_lora_by_default(toy_model_dir):
    from course_lib.loading import default_lora

    assert default_lora("qwen2.5-0.5b") is True
    assert default_lora("tiny") is False and default_lora("smollm2-135m") is False
    assert default_lora(toy_model_dir) is False and default_lora("owner/model") is False
    # The Hub id a preset loads is the same model, as big: it was fully fine-tuned by default.
    assert default_lora("Qwen/Qwen2.5-0.5B") is True
    assert default_lora("HuggingFaceTB/SmolLM2-135M") is False


def test_a_preset_is_shown_by_a_short_name_for_its_source():
    # Lesson 08's table of presets: the embedded folder's absolute path pushed every column
    # out, and it differs on every machine (Colab's is under /usr/local/lib/python3.x/...).
    from course_lib.loading import PRESETS

    assert PRESETS["tiny"].where == "course_lib/assets/tiny-base"
    assert Path(PRESETS["tiny"].source).is_absolute()  # what from_pretrained is given
    assert PRESETS["smollm2-135m"].where == "HuggingFaceTB/SmolLM2-135M"


@pytest.mark.parametrize(("name", "nearest"), [
    ("Tiny", "tiny"), ("tiny ", "tiny"), ("smolm2-135m", "smollm2-135m"),
    ("SmolLM2-135M", "smollm2-135m"), ("qwen2.5", "qwen2.5-0.5b"),
])
def test_a_near_miss_of_a_preset_names_the_preset(name, nearest):
    # Each listed every preset and left the learner to spot the difference.
    with pytest.raises(CourseError) as err:
        resolve_model_name(name)
    assert str(err.value).endswith(f"; did you mean '{nearest}'?")


def test_a_near_miss_of_a_local_folder_names_the_folder(tmp_path, monkeypatch):
    (tmp_path / "runs" / "masked").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CourseError, match=r"^No model folder at 'runs/maskd'.*; did you mean "
                                          r"'runs/masked'\?$"):
        resolve_model_name("runs/maskd")


@pytest.mark.parametrize(("given", "says"), [
    # A RuntimeError listing torch's 20 device types; an AttributeError about torch.fp16.
    ({"device": "gpu"}, "device must be 'cpu', 'cuda' or 'mps' (or None: the best there is), "
                        "not the string 'gpu'."),
    ({"dtype": "fp16"}, "dtype must be a torch dtype such as torch.float16, not the string "
                        "'fp16'."),
])
def test_a_device_or_dtype_torch_does_not_know_is_one_sentence(given, says):
    with pytest.raises(CourseError) as err:
        load_model_and_tokenizer("tiny", **given)
    assert str(err.value) == says


@pytest.mark.parametrize(("given", "what"), [
    (None, "None"), (5, "5"), (torch.nn.Linear(2, 2), "a Linear"),
])
def test_something_other_than_a_name_is_said_to_be_no_name(given, what):
    # A model object was an OSError ("File name too long": its printout taken for a path);
    # None was "No model folder at 'None'".
    with pytest.raises(CourseError) as err:
        load_model_and_tokenizer(given)
    assert str(err.value) == (
        f"A model is given by name: a preset (tiny, smollm2-135m, qwen2.5-0.5b), a model folder "
        f"or a Hub id, not {what}; a model object is loaded already.")


def test_a_config_alone_is_asked_of_an_unanswering_hub_as_a_model_is(monkeypatch):
    """The memory estimate and the experiments' worker count read only a Hub id's config: they
    waited out huggingface_hub's retries (a minute, more behind a proxy) where the model's own
    load asks once and reads the local cache."""
    import course_lib.loading as loading
    from course_lib.experiments.side_by_side import choose_workers
    from course_lib.training.memory import is_counted

    asked = []

    def from_pretrained(source, **options):
        asked.append((source, options))
        return loading.preset_config("smollm2-135m")

    monkeypatch.setattr(loading, "hub_offline", lambda: False)
    monkeypatch.setattr(loading, "hub_status", lambda: "unreachable")
    monkeypatch.setattr(loading.AutoConfig, "from_pretrained", from_pretrained)
    monkeypatch.delenv("COURSE_WORKERS", raising=False)
    assert is_counted("someone/a-model")
    assert choose_workers("someone/a-model").count == 1  # a model this size: one process
    assert asked == [("someone/a-model", {"local_files_only": True})] * 2


def test_preset_config_refuses_sizes_it_cannot_use():
    from course_lib.loading import preset_config

    # A misspelt size was kept as an unused attribute: 30 layers, unsaid.
    with pytest.raises(CourseError, match=r"^preset_config\('smollm2-135m'\) got num_layers=2, "
                                          r"which a LlamaConfig does not have, so it would "
                                          r"change nothing; did you mean num_hidden_layers\?$"):
        preset_config("smollm2-135m", num_layers=2)
    # Sizes transformers refuses were its validation errors, several lines long.
    with pytest.raises(CourseError, match=r"^preset_config\('smollm2-135m', hidden_size=100\) "
                                          r"makes no valid config \(.*not a multiple of the "
                                          r"number of attention heads \(9\)\); give whole"):
        preset_config("smollm2-135m", hidden_size=100)
    with pytest.raises(CourseError, match=r"makes no valid config \(.*expected int"):
        preset_config("smollm2-135m", num_hidden_layers="2")
    assert preset_config("smollm2-135m", num_hidden_layers=2).num_hidden_layers == 2


@pytest.mark.parametrize("name, says", [
    ("tiny", r"its config is in the course; read it with load_config\('tiny'\)\.$"),
    ("smolm2-135m", r"did you mean 'smollm2-135m'\?$"),
    ("HuggingFaceTB/SmolLM2-135M", r"did you mean 'smollm2-135m'\?$"),
])
def test_preset_config_of_a_name_without_a_shape_says_what_to_give(name, says):
    from course_lib.loading import preset_config

    with pytest.raises(CourseError, match=says):
        preset_config(name)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a CUDA GPU")
def test_a_device_this_machine_lacks_is_one_sentence():
    # Was "AssertionError: Torch not compiled with CUDA enabled", after the files were read.
    with pytest.raises(CourseError, match=r"^device='cuda', but torch finds no such device "
                                          r"here; leave device out"):
        load_model_and_tokenizer("tiny", device="cuda")
