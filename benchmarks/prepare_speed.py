"""How fast is label preparation? Ours (labels.prepare_examples) against TRL's own.

    python benchmarks/prepare_speed.py [--records 10000] [--repeats 3]

Both sides start from the same Alpaca-sized records and the same toy byte-level BPE, and
end with input_ids + labels (-100 on the prompt, response + EOS trained):

  ours  format -> batched tokenizer calls (the prompts, the whole texts) -> labels
  TRL   format -> {"prompt", "completion"} Dataset -> SFTTrainer._prepare_dataset (add EOS,
        tokenize prompt and prompt+completion per example, build labels, truncate, filter)

The SFTTrainer is built once beforehand (building it is not preparation). Prints the
median of `--repeats` runs and `prepare_vs_trl_ratio: X` = TRL time / our time (> 1: ours
is faster). The label equality of both is checked on the way.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

# Import course_lib from this checkout, also when run as `python benchmarks/prepare_speed.py`.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

WORDS = (
    "the a of to and in is for on with that this it as be are by from at an or which model "
    "data write explain list describe give three summarise translate sentence paragraph "
    "text example answer question word number capital city country river history science "
    "water energy light animal plant food health student teacher language computer program "
    "function value result simple short long good important different small large world "
    "people time year day way part place case system group problem fact point"
).split()


def synthetic_records(n: int, seed: int = 0) -> list[dict[str, str]]:
    """Alpaca-sized records: instruction ~15 words, input ~10 words in 40%, response ~50."""
    rng = random.Random(seed)

    def sentence(mean: int) -> str:
        k = max(1, int(rng.gauss(mean, mean / 4)))
        words = [rng.choice(WORDS) for _ in range(k)]
        return " ".join(words).capitalize() + rng.choice([".", "?", "."])

    return [
        {"instruction": sentence(15),
         "input": sentence(10) if rng.random() < 0.4 else "",
         "output": sentence(50)}
        for _ in range(n)
    ]


def time_ours(records, tokenizer) -> tuple[float, list]:
    from course_lib.masking.labels import prepare_examples

    start = time.perf_counter()
    prepared = prepare_examples(records, tokenizer, "alpaca", max_length=1024)
    return time.perf_counter() - start, prepared.examples


def make_trl_trainer(tokenizer, tmp: str):
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    from course_lib.world.toy import make_toy_model

    fields = SFTConfig.__dataclass_fields__
    no_ckpt = ("activation_checkpointing" if "activation_checkpointing" in fields
               else "gradient_checkpointing")
    config = SFTConfig(output_dir=tmp, completion_only_loss=True, max_length=1024, use_cpu=True,
                       bf16=False, report_to="none", shuffle_dataset=False, **{no_ckpt: False})
    seed_data = Dataset.from_list([{"prompt": "a", "completion": "b"}])
    return SFTTrainer(model=make_toy_model(tokenizer), args=config, processing_class=tokenizer,
                      train_dataset=seed_data)


def time_trl(records, tokenizer, trainer) -> tuple[float, list]:
    from datasets import Dataset

    from course_lib.formatting.templates import to_prompt_completion

    start = time.perf_counter()
    dataset = Dataset.from_list([to_prompt_completion(r, "alpaca") for r in records])
    prepared = trainer._prepare_dataset(dataset, tokenizer, trainer.args, packing=False,
                                        formatting_func=None, dataset_name="train")
    labels = prepared["labels"]
    return time.perf_counter() - start, labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    import datasets

    from course_lib.world.toy import make_toy_tokenizer

    datasets.disable_progress_bars()
    tokenizer = make_toy_tokenizer()
    records = synthetic_records(args.records)
    ours_times, trl_times = [], []
    with tempfile.TemporaryDirectory() as tmp:
        trainer = make_trl_trainer(tokenizer, tmp)
        for _ in range(args.repeats):
            t_ours, examples = time_ours(records, tokenizer)
            t_trl, trl_labels = time_trl(records, tokenizer, trainer)
            ours_times.append(t_ours)
            trl_times.append(t_trl)
    if [e["labels"] for e in examples] != [list(x) for x in trl_labels]:
        raise SystemExit("labels differ from TRL's: the comparison is not like for like")
    n_tokens = sum(len(e["input_ids"]) for e in examples)
    ours, trl = statistics.median(ours_times), statistics.median(trl_times)
    print(f"records: {args.records}  tokens: {n_tokens}  repeats: {args.repeats} (median)")
    print(f"ours_seconds: {ours:.3f}  ({args.records / ours:,.0f} records/s)")
    print(f"trl_seconds: {trl:.3f}  ({args.records / trl:,.0f} records/s)")
    print("labels identical: yes")
    print(f"prepare_vs_trl_ratio: {trl / ours:.2f}")


if __name__ == "__main__":
    main()
