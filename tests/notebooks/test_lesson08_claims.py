"""Lesson 08's prose, re-measured: each number it states, with the committed model and code.

The experiment's runs are cached where the lesson keeps them (lessons/runs/experiments): after
a headless run of the lesson the slow test reads them back in seconds; alone, it trains the
nine runs (about 90 s on 2 cores). When a rebuild of the model, the data or the recipe changes
a result, the test quoting the sentence fails and the lesson's prose must change with it.
"""

import json
from pathlib import Path

import pytest
import torch
from peft import LoraConfig, get_peft_model

from course_lib.cli import main as course
from course_lib.experiments.runner import run_experiment
from course_lib.experiments.ways_to_train import ways_to_train
from course_lib.formatting.records import load_records
from course_lib.loading import PRESETS, load_model_and_tokenizer, preset_config
from course_lib.masking.labels import IGNORE_INDEX, prepare_examples
from course_lib.masking.packing import leak_per_example, pack
from course_lib.training.history import RunHistory
from course_lib.training.memory import (
    count_parameters,
    estimate_memory,
    head_bytes_per_token,
    shape_of,
)
from course_lib.training.settings import RECIPE, default_learning_rate, lora_settings

CACHE = Path(__file__).resolve().parents[2] / "lessons" / "runs" / "experiments"
FP16 = {"dtype": torch.float16}


def cell(result, arm: str, key: str) -> str:
    """'median (lowest-highest)' as the lesson writes it, two decimals."""
    s = result.spread(arm, next(m for m in result.metrics if m.key == key))
    return f"{s.median:.2f} ({s.low:.2f}-{s.high:.2f})"


def test_l08_lora_trains_r_times_d_in_plus_d_out_under_one_percent():
    """L08 §1: "For `r = 8` and a `576 x 576` matrix that is `8 x (576 + 576) = 9,216` trained
    numbers instead of `331,776`"; "the course's adapters are `r = 8` on `q_proj` and `v_proj`";
    the recap: "under 1% of a real model"."""
    settings = lora_settings()
    assert (settings.r, settings.target_modules) == (8, {"q_proj", "v_proj"})
    smol = preset_config("smollm2-135m")
    shape = shape_of(smol)
    assert (shape.hidden, shape.q_dim) == (576, 576)
    q_only = count_parameters(smol, LoraConfig(r=8, target_modules=["q_proj"])).trained
    assert q_only == shape.layers * 9_216 and shape.hidden * shape.q_dim == 331_776
    for name in ("smollm2-135m", "qwen2.5-0.5b"):
        config = preset_config(name)
        lora = count_parameters(config, lora=True)
        assert lora.trained / count_parameters(config).total < 0.01, name


def test_l08_more_targets_and_a_larger_r_train_more_weights():
    """L08 §1: "More targets and a larger `r` train more weights" (SmolLM2-135M, r=8/16/64)."""
    every = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    config = preset_config("smollm2-135m")
    counts = [[count_parameters(config, LoraConfig(r=r, target_modules=targets)).trained
               for r in (8, 16, 64)]
              for targets in (["q_proj", "v_proj"], every[:4], every)]
    for row in counts:
        assert row == sorted(set(row))  # grows with r
    for column in zip(*counts, strict=True):
        assert list(column) == sorted(set(column))  # grows with the targets


def test_l08_merged_adapters_give_the_same_outputs_as_a_plain_model():
    """L08 §1: "the merged model is a plain model again, as fast as the base one, and gives
    the same outputs" (adapters with random values change the outputs)."""
    base, tokenizer = load_model_and_tokenizer("tiny")
    demo = get_peft_model(load_model_and_tokenizer("tiny")[0],
                          LoraConfig(r=8, target_modules=["q_proj", "v_proj"],
                                     init_lora_weights=False))
    ids = tokenizer("What is 2+2?", return_tensors="pt").to(base.device)
    with torch.no_grad():
        plain, adapted = base(**ids).logits, demo(**ids).logits
    merged = demo.merge_and_unload()
    with torch.no_grad():
        after = merged(**ids).logits
    assert type(merged) is type(base)
    assert (adapted - plain).abs().max() > 0.1
    assert (after - adapted).abs().max() < 1e-4


@pytest.mark.slow
def test_l08_lora_and_the_recipe_forget_less_and_answer_more():
    """L08 §1: "training every weight kept 0.88 of the statements (0.88 with every seed), LoRA
    0.91 (0.89-1.00) and the recipe's frozen parts 0.96 (0.95-0.98) ... 0.71 (0.69-0.71) and
    0.73 (0.69-0.74) against 0.60 (0.60-0.64) ... (0.66 and 0.71 against 0.53)"."""
    r = run_experiment(ways_to_train(), seeds=3, steps=100, model="tiny", cache_dir=CACHE,
                       progress=False)
    every, lora, recipe = "every weight", "LoRA", "the recipe's frozen parts"
    assert [cell(r, arm, "statement_knowledge") for arm in (every, lora, recipe)] == [
        "0.88 (0.88-0.88)", "0.91 (0.89-1.00)", "0.96 (0.95-0.98)"]
    assert [cell(r, arm, "exact_match") for arm in (every, lora, recipe)] == [
        "0.60 (0.60-0.64)", "0.71 (0.69-0.71)", "0.73 (0.69-0.74)"]
    unseen = next(m for m in r.metrics if m.key == "unseen_exact_match")
    assert [round(r.spread(arm, unseen).median, 2) for arm in (every, lora, recipe)] == [
        0.53, 0.66, 0.71]
    # "beat it": beyond the spread over seeds, not within it
    for arm in (lora, recipe):
        for key in ("statement_knowledge", "exact_match", "unseen_exact_match"):
            verdict = r.verdict(arm, next(m for m in r.metrics if m.key == key))
            assert not verdict.within_spread and verdict.better, (arm, key)


def test_l08_memory_of_each_way_to_train():
    """L08 §1: "(98, 72 and 77 MB) ... 9.0 GB for every weight, 6.7 GB with the recipe's frozen
    parts, 5.5 GB with LoRA"; "the recipe trains a tenth of the weights ... LoRA a third of a
    percent"."""
    arms = ways_to_train().arms
    tiny = [round(estimate_memory("tiny", 16, 64, lora=a.lora, freeze=a.freeze).total / 1e6)
            for a in arms]
    smol = [estimate_memory("smollm2-135m", 8, 512, lora=a.lora, freeze=a.freeze, **FP16)
            for a in arms]
    assert tiny == [98, 72, 77]
    assert [round(e.total / 1e9, 1) for e in smol] == [9.0, 5.5, 6.7]
    total = count_parameters(preset_config("smollm2-135m")).total
    assert round(smol[2].trained / total, 2) == 0.10 and round(smol[1].trained / total, 4) == 0.0034


def fits(name, batch, length, checkpointing, **trains) -> bool:
    return estimate_memory(preset_config(name), batch, length,
                           gradient_checkpointing=checkpointing, **trains, **FP16).fits(15)


def test_l08_the_t4_plan():
    """L08 §2: "SmolLM2-135M (135M weights, 2.4 GB of weights, gradients and AdamW)"; "batch 16
    does not fit even with checkpointing, batch 8 only with it, batch 4 without it ... the
    recipe's frozen parts ... batch 8 fits without checkpointing, batch 16 with it. Qwen2.5-0.5B
    with LoRA: at 1,024 tokens not even checkpointing helps ... at 512 tokens batch 8 fits"."""
    e = estimate_memory(preset_config("smollm2-135m"), 1, 1, **FP16)
    assert round((e.weights + e.gradients + e.optimizer) / 1e9, 1) == 2.4
    every = {"freeze": ()}
    assert not fits("smollm2-135m", 16, 1024, True, **every)
    assert not fits("smollm2-135m", 8, 1024, False, **every)
    assert fits("smollm2-135m", 8, 1024, True, **every)
    assert fits("smollm2-135m", 4, 1024, False, **every)
    recipe = {"freeze": RECIPE.freeze}
    assert fits("smollm2-135m", 8, 1024, False, **recipe)
    assert not fits("smollm2-135m", 16, 1024, False, **recipe)
    assert fits("smollm2-135m", 16, 1024, True, **recipe)
    assert not fits("qwen2.5-0.5b", 8, 1024, True, lora=True)
    assert fits("qwen2.5-0.5b", 8, 512, False, lora=True)


def test_l08_qwen_logits_are_most_of_the_memory_and_checkpointing_keeps_them():
    """L08 §2: "Qwen2.5-0.5B with LoRA: at 1,024 tokens not even checkpointing helps, because
    its logits (151,936 numbers per position) are most of the memory and checkpointing does not
    touch them"."""
    config = preset_config("qwen2.5-0.5b")
    assert shape_of(config).vocab == 151_936
    plain, checkpointed = (estimate_memory(config, 8, 1024, lora=True,
                                           gradient_checkpointing=c, **FP16)
                           for c in (False, True))
    logits = 8 * 1024 * head_bytes_per_token(shape_of(config), torch.float16)
    assert logits <= checkpointed.activations < plain.activations
    assert logits > checkpointed.total / 2


def test_l08_qwen_full_fine_tune_states():
    """L08 §3: "Qwen2.5-0.5B (494M weights: 8 GB of weights, gradients and AdamW in fp32 before
    any activation)"."""
    e = estimate_memory(preset_config("qwen2.5-0.5b"), 1, 1)
    assert round(e.parameters / 1e6) == 494
    assert round((e.weights + e.gradients + e.optimizer) / 1e9) == 8


def test_l08_what_changes_with_a_real_model():
    """L08 §3: "LoRA by default for Qwen2.5-0.5B ... SmolLM2-135M trains like the embedded
    model, with the recipe's frozen parts ... Learning rates: 5e-5 for a real model, 2e-4 with
    LoRA" and "vocabularies of 49,152 and 151,936 tokens"."""
    assert [PRESETS[name].lora for name in ("tiny", "smollm2-135m", "qwen2.5-0.5b")] == [
        False, False, True]
    for name in ("smollm2-135m", "qwen2.5-0.5b"):
        params = count_parameters(preset_config(name)).total
        assert (default_learning_rate(params, lora=False),
                default_learning_rate(params, lora=True)) == (5e-5, 2e-4), name
    assert [shape_of(preset_config(name)).vocab for name in ("smollm2-135m", "qwen2.5-0.5b")
            ] == [49_152, 151_936]


# Lesson 08's three packed examples (its cell 30), with the embedded tokenizer.
PACKED = [{"instruction": "What is 2+2?", "response": "4"},
          {"instruction": "What is the capital of France?", "response": "Paris"},
          {"instruction": "What does a cow say?", "response": "Moo"}]


def test_l08_packing_keeps_the_minus_100s_only_if_the_packer_keeps_them():
    """L08 §5: "Given our labels, it keeps every prompt's -100 (and sets each example's first
    label to -100 too ...). Given no labels, it makes them from the input ids: every prompt is
    trained again"."""
    examples = prepare_examples(PACKED, load_model_and_tokenizer("tiny")[1]).examples
    kept, remade = pack(examples, keep_labels=True), pack(examples, keep_labels=False)
    starts = (kept["position_ids"][0] == 0).nonzero().flatten().tolist()
    assert len(starts) == 3 and (kept["labels"][0, starts] == IGNORE_INDEX).all()
    ours = sum(label != IGNORE_INDEX for ex in examples for label in ex["labels"][1:])
    assert int((kept["labels"] != IGNORE_INDEX).sum()) == ours
    length = kept["input_ids"].shape[1]
    assert int((remade["labels"] != IGNORE_INDEX).sum()) == length - len(examples) > 3 * ours


def test_l08_without_position_ids_packed_examples_attend_to_each_other():
    """L08 §5: "The first example has nothing before it, so it never changes; the others do,
    unless the row carries its `position_ids`" (eager attention)."""
    base, tokenizer = load_model_and_tokenizer("tiny")
    examples = prepare_examples(PACKED, tokenizer).examples
    row = pack(examples)
    base.set_attn_implementation("eager")
    dropped = leak_per_example(base, examples, row, use_position_ids=False)
    given = leak_per_example(base, examples, row, use_position_ids=True)
    assert dropped[0] < 1e-4 and min(dropped[1:]) > 0.01
    assert max(given) < 1e-4


@pytest.mark.slow
def test_l08_two_processes_match_one_to_the_digits_printed(tmp_path):
    """L08 §4: "To the four digits printed, yes; to the last digit, not necessarily. The first
    step's losses are identical ... the losses differed from the second step on, in about the
    seventh significant digit" (the lesson's two runs: 6 steps, one process of 16 against two of
    8, on the CPU)."""
    data = tmp_path / "train.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in load_records("course:train")[:96]))
    args = ["train", "--model", "tiny", "--data", str(data), "--eval-data", "none", "--steps",
            "6", "--quiet", "--threads", "1", "--cpu"]
    assert course([*args, "--batch-size", "16", "--out", str(tmp_path / "one")]) == 0
    assert course([*args, "--batch-size", "8", "--processes", "2",
                   "--out", str(tmp_path / "two")]) == 0
    one, two = RunHistory.load(tmp_path / "one"), RunHistory.load(tmp_path / "two")
    assert (one.world_size, two.world_size) == (1, 2) and len(two.train_loss) == 6
    assert one.train_loss[0] == two.train_loss[0]
    assert [f"{a:.4f}" for a in one.train_loss] == [f"{b:.4f}" for b in two.train_loss]
    assert two.train_loss == pytest.approx(one.train_loss, rel=1e-5)


def test_l08_memory_cell_on_a_machine_without_proc_shows_the_estimate_and_says_why(tmp_path):
    """The cell that measures the peak, as it runs on a Mac or Windows CPU (no /proc): the
    estimates, then the one sentence; before, Run All stopped at the measuring's error."""
    import nbformat

    from course_lib.notebook_runner import execute_cells

    lesson = Path(__file__).resolve().parents[2] / "lessons" / "08_scaling_up.ipynb"
    nb = nbformat.read(lesson, as_version=4)
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    measuring = next(k for k, i in enumerate(code) if "measure_peak_memory(" in nb.cells[i].source)
    nb.cells.insert(code[1] + 1, nbformat.v4.new_code_cell(
        "import platform\nfrom pathlib import Path\n"
        "import course_lib.training.memory as memory\n"
        "from course_lib.training.memory import estimate_memory\n"
        "from course_lib.training.settings import RECIPE\n"
        "memory.CLEAR_REFS = Path('/no/proc/here')  # as on macOS and Windows\n"
        "platform.system = lambda: 'Darwin'"))
    copy = tmp_path / lesson.name
    nbformat.write(nb, copy)
    shown = execute_cells(copy, [0, 1, 2, measuring + 1], folder=tmp_path)[-1]
    text = "".join(o.get("text", "") for o in shown)
    assert text.count("estimated") == 2 and "measured" not in text, text
    assert "needs Linux" in text and "Darwin" in text, text


def test_l08_the_configs_use_keys_accelerate_reads():
    """L08 §4's ddp.yaml and fsdp.yaml: every fsdp_config key one that FSDP2 reads, by
    accelerate's own table of FSDP1 -> FSDP2 keys (`fsdp_sharding_strategy` is FSDP1's: under
    `fsdp_version: 2` it only warns, and `fsdp_reshard_after_forward` decides the sharding)."""
    import ast

    import nbformat
    import yaml
    from accelerate.commands.to_fsdp2 import ARGUMENT_KEY_MAPPING

    path = Path(__file__).resolve().parents[2] / "lessons" / "08_scaling_up.ipynb"
    sources = [c.source for c in nbformat.read(path, as_version=4).cells if "FSDP = " in c.source]
    texts = {node.targets[0].id: node.value.value for node in ast.walk(ast.parse(sources[0]))
             if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)}
    ddp, fsdp = yaml.safe_load(texts["DDP"]), yaml.safe_load(texts["FSDP"])
    assert ddp["distributed_type"] == "MULTI_GPU" and fsdp["distributed_type"] == "FSDP"
    keys = fsdp["fsdp_config"]
    assert keys["fsdp_version"] == 2 and keys.get("fsdp_reshard_after_forward") is True
    assert [key for key in keys if ARGUMENT_KEY_MAPPING.get(key) != key] == []
