"""The course's runner on a GPU: speed against TRL, model FLOPs utilisation, LoRA's peak memory.

    python benchmarks/gpu_sft.py              # on a CUDA GPU (minutes)
    python benchmarks/gpu_sft.py --smoke      # a tiny configuration of the same code, on CPU

Prints `name: value` lines:

    runner_tokens_per_s, trl_tokens_per_s   tokens (padding excluded) trained per second
    runner_vs_trl_tokens_ratio              goal >= 1.0: the runner is no slower than TRL
    loss_max_rel_diff_vs_trl                the two loss curves, step by step (same curve:
                                            below 2e-2 in bf16, 1e-3 in fp32)
    runner_mfu, trl_mfu                     model FLOPs utilisation: goal >= 0.30 on H100/H200
    qwen_lora_fp16_peak_memory_gb           goal <= 12: Qwen2.5-0.5B LoRA fits a T4 (15 GB)
    qwen_lora_fp16_estimate_gb              estimate_memory's number for the same run
    memory_<model>_<kind>_measured_over_estimate   estimate_memory checked on this device
                                            (every weight, the recipe's frozen parts, LoRA)

Models are randomly initialised stand-ins of SmolLM2-135M's and Qwen2.5-0.5B's shapes
(world/stand_in.py): nothing is downloaded, and speed and memory do not depend on the
weights. Both trainers get the same labelled examples, seed, batch and learning rate; TRL keeps
its other defaults (gradient checkpointing on), except logging every step to compare curves.
The runner keeps its own (fast loss, fused AdamW). The SmolLM2 runs are in bf16 where the card
has it (else fp16); the Qwen LoRA run in fp16, as on a T4, at batch 8 and length 512.

Model FLOPs per token, forward and backward (the PaLM paper's count): 6 x the weights of the
layers' matrices, plus 12 x layers x width x sequence length for attention, plus 6 x the
output layer's weights at positions whose next token is trained (the only logits the masked
loss needs). MFU = those FLOPs per second / the card's dense bf16 (or fp16) peak.

Measured once, on an H200 (2026-12-04; torch 2.11+cu130 in a gVisor sandbox, transformers
5.24, trl 1.16, bf16): runner 35,468 tokens/s against TRL's 28,334 (ratio 1.25); the two loss
curves agree to 2.2e-5 (relative, every one of 30 steps); MFU 0.028 and 0.022, a tenth of the
goal for both trainers (0.23 s a step), not looked into (no device time was left). The guess to
test first: at 16 x 512 tokens a 135M model's matrices are too small to keep this card busy,
and the time goes to launching kernels. Qwen2.5-0.5B LoRA's peak 6.20 GB against
an estimate of 6.97; estimate_memory's measured/estimate 0.88 (every weight), 0.95 (the
recipe's frozen parts), 0.92 (LoRA).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
from transformers.trainer_callback import PrinterCallback  # noqa: E402
from transformers.utils import logging as hf_logging  # noqa: E402

from course_lib.formatting.records import load_records  # noqa: E402
from course_lib.masking.labels import IGNORE_INDEX, prepare_examples  # noqa: E402
from course_lib.training.memory import (  # noqa: E402
    count_parameters,
    estimate_memory,
    measure_peak_memory,
)
from course_lib.training.runner import train  # noqa: E402
from course_lib.training.settings import RECIPE  # noqa: E402
from course_lib.world.stand_in import stand_in_model, stand_in_tokenizer  # noqa: E402

# Dense 16-bit tensor-core peaks from the vendors' datasheets (FLOP/s); --peak-tflops overrides.
PEAKS = {"H200": 989e12, "H100": 989e12, "A100": 312e12, "L4": 121e12, "A10": 125e12,
         "T4": 65e12, "V100": 125e12}


def records_of_length(tokenizer, n: int, length: int) -> list[dict[str, str]]:
    """n records of about `length` tokens: course instructions and answers strung together,
    the response about a quarter of the tokens."""
    pool = load_records("course:train")
    out, i = [], 0
    for _ in range(n):
        instruction, response = "", ""
        while len(tokenizer(instruction + response)["input_ids"]) < length:
            record = pool[i % len(pool)]
            i += 1
            if len(tokenizer(response)["input_ids"]) < length // 4:
                response += record["response"] + " "
            instruction += record["instruction"] + " "
        out.append({"instruction": instruction.strip(), "response": response.strip()})
    return out


def flops_per_step(config, batch: list[dict]) -> float:
    """Model FLOPs of one training step on `batch` (see the module docstring)."""
    counts = count_parameters(config)
    head = config.vocab_size * config.hidden_size
    layers = counts.in_matmuls - head  # tied or not, the output layer is counted apart
    heads = config.num_attention_heads
    width = heads * (getattr(config, "head_dim", None) or config.hidden_size // heads)
    total = 0.0
    for ex in batch:
        tokens = len(ex["input_ids"])
        trained = sum(label != IGNORE_INDEX for label in ex["labels"][1:])
        total += 6 * layers * tokens + 12 * config.num_hidden_layers * width * tokens ** 2
        total += 6 * head * trained
    return total


def timed_runs(model_fn, tokenizer, examples, settings, device) -> dict[str, dict]:
    """Runner, then TRL, on the same examples: seconds, loss curve, tokens and FLOPs."""
    out = {}
    for name in ("runner", "trl"):
        model = model_fn()
        if device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        curve = (run_runner if name == "runner" else run_trl)(model, tokenizer, examples,
                                                               settings)
        if device == "cuda":
            torch.cuda.synchronize()
        out[name] = {"seconds": time.perf_counter() - start, "curve": curve}
    return out


def run_runner(model, tokenizer, examples, s) -> list[float]:
    # Every weight trains, as in TRL (not the recipe's frozen parts): the same work, timed.
    result = train(model, examples, None, tokenizer=tokenizer, max_steps=s["steps"],
                   batch_size=s["batch"], learning_rate=s["lr"], seed=0, eval_every=None,
                   progress=False, verbose=False, lora=False, freeze=(),
                   gradient_checkpointing=False)
    return result.history.train_loss


def run_trl(model, tokenizer, examples, s) -> list[float]:
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    cpu = s["device"] == "cpu"
    config = SFTConfig(output_dir=tempfile.mkdtemp(), max_steps=s["steps"],
                       per_device_train_batch_size=s["batch"], learning_rate=s["lr"], seed=0,
                       data_seed=0, logging_steps=1, save_strategy="no", report_to="none",
                       disable_tqdm=True, **({"use_cpu": True, "bf16": False} if cpu else {}))
    # Pre-tokenized with the course's labels: TRL uses a "labels" column as is.
    trainer = SFTTrainer(model=model, args=config, processing_class=tokenizer,
                         train_dataset=Dataset.from_list(examples))
    trainer.remove_callback(PrinterCallback)
    trainer.train()
    return [e["loss"] for e in trainer.state.log_history if "loss" in e]


def speed(args, device: str, peak: float | None) -> None:
    tokenizer = stand_in_tokenizer("smollm2-135m")
    tokenizer.pad_token = tokenizer.eos_token  # as load_model_and_tokenizer does
    changes = {"num_hidden_layers": args.layers} if args.layers else {}
    records = records_of_length(tokenizer, args.batch * args.steps, args.length)
    examples = prepare_examples(records, tokenizer, max_length=args.length).examples
    settings = dict(steps=args.steps, batch=args.batch, lr=args.lr, device=device)

    def model_fn():
        return stand_in_model("smollm2-135m", tokenizer, **changes)

    config = model_fn().config
    timed_runs(model_fn, tokenizer, examples[: args.batch * 2], {**settings, "steps": 2},
               device)  # warm-up: kernels, allocator, lazy imports
    runs = timed_runs(model_fn, tokenizer, examples, settings, device)
    # The Trainer's sampler shuffles with the seed: both saw the same batches, in any order.
    tokens = sum(len(ex["input_ids"]) for ex in examples[: args.batch * args.steps])
    flops = sum(flops_per_step(config, examples[i: i + args.batch])
                for i in range(0, args.batch * args.steps, args.batch))
    for name, run in runs.items():
        print(f"{name}_tokens_per_s: {tokens / run['seconds']:.0f}")
        mfu = f"{flops / run['seconds'] / peak:.3f}" if peak else "n/a (no known peak)"
        print(f"{name}_mfu: {mfu}")
    print(f"runner_vs_trl_tokens_ratio: {runs['trl']['seconds'] / runs['runner']['seconds']:.2f}")
    a, b = runs["runner"]["curve"], runs["trl"]["curve"]
    diff = max(abs(x - y) / abs(y) for x, y in zip(a, b, strict=True)) if len(a) == len(b) else (
        float("inf"))
    print(f"loss_max_rel_diff_vs_trl: {diff:.2e}")
    print(f"runner_loss_curve: {' '.join(f'{x:.4f}' for x in a)}")
    print(f"trl_loss_curve: {' '.join(f'{x:.4f}' for x in b)}")


def lora_memory(args, device: str) -> None:
    """Qwen2.5-0.5B-shaped LoRA in fp16 at batch 8 x length 512 (smaller in --smoke)."""
    tokenizer = stand_in_tokenizer("qwen2.5-0.5b")
    changes = {"num_hidden_layers": args.layers} if args.layers else {}
    model = stand_in_model("qwen2.5-0.5b", tokenizer, **changes)
    half = torch.float16 if device == "cuda" else torch.float32  # CPU: fp32 (no fp16 autocast)
    model = model.to(half)  # LoRA keeps the frozen model in 16-bit, as train(lora=True) does
    records = records_of_length(tokenizer, args.lora_batch * 2, args.length)
    examples = prepare_examples(records, tokenizer, max_length=args.length).examples
    trained = sum(sum(t != IGNORE_INDEX for t in e["labels"]) for e in examples) / sum(
        len(e["labels"]) for e in examples)
    estimate = estimate_memory(model, args.lora_batch, args.length, lora=True, dtype=half,
                               logits_share=trained)
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
    precision = {"fp16": True, "bf16": False} if device == "cuda" else {}
    train(model, examples, None, tokenizer=tokenizer, max_steps=2, batch_size=args.lora_batch,
          lora=True, freeze=(), eval_every=None, progress=False, verbose=False, **precision)
    if device == "cuda":
        peak = torch.cuda.max_memory_allocated() - before
        print(f"qwen_lora_fp16_peak_memory_gb: {peak / 1e9:.2f}")
    else:
        print("qwen_lora_fp16_peak_memory_gb: n/a (CPU: see memory_ lines)")
    print(f"qwen_lora_fp16_estimate_gb: {estimate.total / 1e9:.2f}")


def memory_check(args, device: str) -> None:
    """estimate_memory against the measured peak, on this device, for both shapes."""
    from course_lib.loading import preset_config

    dtype = torch.float32 if device == "cpu" else (
        torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16)
    # Every weight, the recipe's frozen parts (course train's default for SmolLM2), LoRA.
    for preset, kind, trains in (("smollm2-135m", "full", {}),
                                 ("smollm2-135m", "recipe", {"freeze": RECIPE.freeze}),
                                 ("qwen2.5-0.5b", "lora", {"lora": True})):
        changes = {"num_hidden_layers": args.layers} if args.layers else {}
        if args.smoke:  # a small vocabulary: the smoke runs the code, its ratios mean nothing
            changes["vocab_size"] = 512
        config = preset_config(preset, **changes)
        batch, length = (2, 64) if args.smoke else (4, 512)
        estimate = estimate_memory(config, batch, length, dtype=dtype, **trains)
        measured = measure_peak_memory(config, batch, length, dtype=dtype, device=device,
                                       **trains)
        name = preset.split("-")[0].replace(".", "")
        print(f"memory_{name}_{kind}_measured_over_estimate: {measured / estimate.total:.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true",
                        help="a tiny configuration of the same code, for CPU and the test suite")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--length", type=int, default=512)
    parser.add_argument("--lora-batch", type=int, default=8)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--layers", type=int, default=None, help="fewer layers (default: real)")
    parser.add_argument("--peak-tflops", type=float, default=None,
                        help="the device's dense 16-bit peak (default: from its name)")
    args = parser.parse_args(argv)
    if args.smoke:
        args.steps, args.batch, args.length, args.lora_batch = 3, 2, 48, 2
        args.layers = args.layers or 2
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    warnings.filterwarnings("ignore")
    import datasets  # deferred: only to quiet TRL's preparation bars

    datasets.disable_progress_bars()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    name = torch.cuda.get_device_name(0) if device == "cuda" else "cpu"
    peak = args.peak_tflops * 1e12 if args.peak_tflops else next(
        (v for k, v in PEAKS.items() if k in name), None)
    print(f"device: {name}")
    print(f"configuration: {'smoke' if args.smoke else 'full'}, {args.steps} steps of "
          f"{args.batch} x {args.length} tokens, layers {args.layers or 'real'}")
    speed(args, device, peak)
    lora_memory(args, device)
    memory_check(args, device)
    return 0


if __name__ == "__main__":
    sys.exit(main())
