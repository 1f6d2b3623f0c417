"""Speed of the course's training runner against TRL's SFTTrainer and a plain Trainer.

    python benchmarks/runner_speed.py --model toy --steps 100 --repeats 3

Prints `name: value` lines, all measured in this one run (timings on a shared CPU are noisy,
so only ratios measured side by side mean anything):

    runner_vs_trl_steps_ratio            runner steps/s / TRL SFTTrainer steps/s (goal >= 2.0)
    runner_vs_plain_trainer_steps_ratio  runner steps/s / plain Trainer steps/s  (goal >= 1.0)
    loss_curves_identical                true if, at the same seed, the runner's curve is
                                         bit-identical from run to run and matches the plain
                                         Trainer's and TRL's at every step (see --tolerance)

Same model, data, seed, batch size and learning rate for all three. The runner's own
choices are what it is measured on: no gradient checkpointing, the output layer and (for
Llama models) the last decoder layer run only at trained positions
(`course_lib.training.fast_loss`), and AdamW's fused kernel. Each computes the same numbers
in another order, so the curves agree to float rounding: 1e-7 at step 1, growing to at most
~7e-4 (relative) by step 100 as training amplifies the rounding; the same-seed runner
curves are bit-identical.
None of the three prints its logs (each one's PrinterCallback is removed), nor TRL its dataset
preparation bars (formatting.via_datasets.quiet_datasets). TRL keeps its defaults
except what a CPU requires (use_cpu=True, bf16=False): gradient checkpointing on, per-step
entropy/accuracy metrics, logging every 10 steps. Its curve is compared over those 10-step
windows. The runs are interleaved (runner, plain, TRL, runner, ...) so drift in the machine's
load hits all three alike. Each ratio is the median over the rounds of that round's ratio
(runner vs TRL measured seconds apart), which drift in the machine's speed moves far less than
a ratio of separate medians; the ratio of the median rates is printed too, as `_of_medians`.
Only `trainer.train()` is timed, never loading or tokenizing.

`--model toy` builds a 4-layer, 128-wide Llama with a small byte-level BPE (the test
tokenizer), for use until the embedded `tiny` model exists.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from transformers import AutoModelForCausalLM, Trainer, TrainingArguments  # noqa: E402
from transformers.trainer_callback import PrinterCallback  # noqa: E402
from transformers.utils import logging as hf_logging  # noqa: E402

from course_lib.formatting.records import load_records  # noqa: E402
from course_lib.formatting.via_datasets import quiet_datasets  # noqa: E402
from course_lib.loading import load_tokenizer, resolve_model_name  # noqa: E402
from course_lib.masking.labels import PadCollator, prepare_examples  # noqa: E402

TRL_WINDOW = 10  # SFTConfig's default logging_steps


def build_toy_model(folder: Path, vocab_size: int | None = None) -> Path:
    """A Llama with hidden 128 and 4 layers (~0.7M parameters) and the tests' toy tokenizer.

    `vocab_size` above the tokenizer's ~600 adds unused output rows: the output layer then
    costs what it would with a real tokenizer's vocabulary.
    """
    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import make_toy_tokenizer
    from transformers import LlamaConfig, LlamaForCausalLM

    tok = make_toy_tokenizer()
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=max(vocab_size or 0, len(tok)),
        hidden_size=128,
        intermediate_size=256,
        num_hidden_layers=4,
        num_attention_heads=4,
        num_key_value_heads=4,
        max_position_embeddings=256,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
        tie_word_embeddings=True,
    )
    LlamaForCausalLM(config).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def arithmetic_records(n: int = 400) -> list[dict[str, str]]:
    return [
        {"instruction": f"What is {a}+{b}?", "response": str(a + b)}
        for a in range(20)
        for b in range(20)
    ][:n]


def run_course(model_dir, records, steps, batch, seed, lr) -> tuple[float, list[float]]:
    from course_lib.training.runner import train

    result = train(
        model_dir,
        records,
        None,
        max_steps=steps,
        batch_size=batch,
        seed=seed,
        learning_rate=lr,
        freeze=(),  # every weight, as the plain Trainer and TRL train them: the same work
        eval_every=None,
        progress=False,
        verbose=False,
    )
    return steps / result.history.wall_time_s, result.history.train_loss


def run_plain(
    model_dir, examples, pad_id, steps, batch, seed, lr, out
) -> tuple[float, list[float]]:
    """transformers' Trainer as a tutorial writes it, with a hand-written padding collator."""
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    args = TrainingArguments(
        output_dir=out,
        max_steps=steps,
        per_device_train_batch_size=batch,
        learning_rate=lr,
        seed=seed,
        data_seed=seed,
        logging_steps=1,
        save_strategy="no",
        report_to="none",
        use_cpu=True,
        disable_tqdm=True,
        remove_unused_columns=False,
    )
    trainer = Trainer(
        model=model, args=args, train_dataset=examples, data_collator=PadCollator(pad_id)
    )
    trainer.remove_callback(PrinterCallback)
    start = time.perf_counter()
    trainer.train()
    rate = steps / (time.perf_counter() - start)
    return rate, [e["loss"] for e in trainer.state.log_history if "loss" in e]


def run_trl(
    model_dir, examples, tokenizer, steps, batch, seed, lr, out
) -> tuple[float, list[float]]:
    """TRL's SFTTrainer with its defaults, except what a CPU needs, on the same labelled data."""
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    model = AutoModelForCausalLM.from_pretrained(model_dir)
    args = SFTConfig(
        output_dir=out,
        max_steps=steps,
        per_device_train_batch_size=batch,
        learning_rate=lr,
        seed=seed,
        data_seed=seed,
        save_strategy="no",
        report_to="none",
        use_cpu=True,
        bf16=False,
        disable_tqdm=True,
    )
    # Pre-tokenized with our labels: TRL uses a "labels" column as is, so all three train on
    # exactly the same tokens and targets.
    # Quiet, as the course's own TRL call (masking/trl_labels.py): no "Truncating train
    # dataset" / "Dropping fully masked examples" bars among the `name: value` lines.
    with quiet_datasets():
        dataset = Dataset.from_list(examples)
        trainer = SFTTrainer(model=model, args=args, train_dataset=dataset,
                             processing_class=tokenizer)
    trainer.remove_callback(PrinterCallback)
    start = time.perf_counter()
    trainer.train()
    rate = steps / (time.perf_counter() - start)
    return rate, [e["loss"] for e in trainer.state.log_history if "loss" in e]


def windows(curve: list[float], size: int) -> list[float]:
    return [statistics.fmean(curve[i : i + size]) for i in range(0, len(curve) - size + 1, size)]


def max_rel_diff(a: list[float], b: list[float]) -> float:
    if len(a) != len(b):
        return float("inf")
    return max(abs(x - y) / max(abs(y), 1e-12) for x, y in zip(a, b, strict=True))


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="toy", help="toy (built here), tiny, or a model folder")
    parser.add_argument("--toy-vocab", type=int, default=None,
                        help="output vocabulary of the toy model (default: the tokenizer's)")
    parser.add_argument("--data", default=None, help="data source; default: arithmetic records")
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None,
                        help="torch.set_num_threads for all three (default: leave torch's choice)")
    parser.add_argument("--tolerance", type=float, default=1e-3,
                        help="largest relative loss difference between runner and plain/TRL "
                             "still called a match")
    return parser.parse_args(argv)


def measure(args: argparse.Namespace, model_dir: Path, tmp: Path):
    """Steps per second of each of the three, round by round, and each one's loss curve."""
    tokenizer = load_tokenizer(model_dir)
    records = load_records(args.data) if args.data else arithmetic_records()
    examples = prepare_examples(records, tokenizer, masking="response").examples
    rates: dict[str, list[float]] = {"runner": [], "plain": [], "trl": []}
    curves: dict[str, list[float]] = {}
    runner_curves: list[list[float]] = []  # every round's: the same seed must repeat exactly

    def run(name: str, steps: int) -> tuple[float, list[float]]:
        common = (steps, args.batch_size, args.seed, args.lr)
        if name == "runner":
            return run_course(model_dir, records, *common)
        if name == "plain":
            return run_plain(model_dir, examples, tokenizer.pad_token_id, *common, str(tmp / name))
        return run_trl(model_dir, examples, tokenizer, *common, str(tmp / name))

    for name in rates:  # warm-up: first-call costs (lazy imports, kernel setup) are not timed
        run(name, 5)
    for _ in range(args.repeats):  # interleaved, so changes in the machine's load hit all three
        for name in rates:
            rate, curve = run(name, args.steps)
            rates[name].append(rate)
            curves.setdefault(name, curve)
            if name == "runner":
                runner_curves.append(curve)
    return rates, curves, runner_curves


def report(args: argparse.Namespace, model_dir: Path, rates, curves, runner_curves) -> None:
    """The `name: value` lines: medians, per-round ratios, and whether the curves agree."""
    med = {name: statistics.median(r) for name, r in rates.items()}
    diff_plain = max_rel_diff(curves["runner"], curves["plain"])
    diff_trl = max_rel_diff(windows(curves["runner"], TRL_WINDOW), curves["trl"])
    n_params = sum(p.numel() for p in AutoModelForCausalLM.from_pretrained(model_dir).parameters())
    print(f"model: {args.model} ({n_params} params)")
    print(f"threads: {torch.get_num_threads()}")
    print(f"steps_per_run: {args.steps}")
    print(f"repeats: {args.repeats}")
    for name, value in med.items():
        print(f"{name}_steps_per_s: {value:.2f}")
        print(f"{name}_steps_per_s_all: {' '.join(f'{r:.2f}' for r in rates[name])}")
    for other, name in (("trl", "runner_vs_trl_steps_ratio"),
                        ("plain", "runner_vs_plain_trainer_steps_ratio")):
        # Each round's ratio, runs seconds apart: drift in the machine's speed moves it less.
        paired = [r / o for r, o in zip(rates["runner"], rates[other], strict=True)]
        print(f"{name}: {statistics.median(paired):.2f}")
        print(f"{name}_per_round: {' '.join(f'{x:.2f}' for x in paired)}")
        print(f"{name}_of_medians: {med['runner'] / med[other]:.2f}")
    print(f"loss_max_rel_diff_vs_plain: {diff_plain:.2e}")
    print(f"loss_max_rel_diff_vs_trl_10step_windows: {diff_trl:.2e}")
    repeatable = all(curve == runner_curves[0] for curve in runner_curves)
    print(f"runner_same_seed_bit_identical: {str(repeatable).lower()}")
    identical = repeatable and max(diff_plain, diff_trl) <= args.tolerance
    print(f"loss_curves_identical: {str(identical).lower()}")


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    warnings.filterwarnings("ignore")
    tmp = Path(tempfile.mkdtemp(prefix="runner-speed-"))
    model_dir = (build_toy_model(tmp / "toy", args.toy_vocab) if args.model == "toy"
                 else resolve_model_name(args.model))
    report(args, model_dir, *measure(args, model_dir, tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
