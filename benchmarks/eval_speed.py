"""Batched evaluation against one prompt at a time: how much faster, and the same answers?

    python -m benchmarks.eval_speed [--model tiny] [--rows 298] [--steps 40] [--threads 2]

Answers the first `--rows` questions of course:eval_styles greedily (16 new tokens) twice:
batched the way `evaluate()` does it (`report.answer_all`: left padding, similar lengths
together, each row cut at its EOS) and one prompt at a time with a plain
`model.generate(...)` call per prompt. Both with the base model and with a masked
fine-tune of lesson 04's settings (`--steps`; 0 skips it), because a tuned model stops
early and a base model never does. Prints, per model and in total:

    batched_seconds, one_at_a_time_seconds, identical_answers: k/n
    batched_vs_one_at_a_time: <ratio>          (goal: at least 3)

and exits with an error if any greedy answer differs between the two ways.
"""

from __future__ import annotations

import argparse
import os

# Before torch loads: idle OpenMP threads sleep rather than spin (shared 2-core machines).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import time  # noqa: E402

import torch  # noqa: E402

from course_lib.evaluation.eval_data import eval_rows  # noqa: E402
from course_lib.evaluation.generation import prompts_for  # noqa: E402
from course_lib.evaluation.report import EvalOptions, answer_all  # noqa: E402
from course_lib.loading import load_model_and_tokenizer  # noqa: E402
from course_lib.training.runner import train  # noqa: E402


def one_at_a_time(model, tokenizer, prompts: list[str], max_new_tokens: int) -> list[str]:
    """The plain way: one `generate` call per prompt, no padding at all."""
    out = []
    with torch.no_grad():
        for prompt in prompts:
            enc = tokenizer(prompt, return_tensors="pt").to(model.device)
            ids = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False,
                                 eos_token_id=tokenizer.eos_token_id,
                                 pad_token_id=tokenizer.pad_token_id)[0, enc["input_ids"].shape[1]:]
            out.append(tokenizer.decode(ids, skip_special_tokens=True).strip())
    return out


def measure(name: str, model, tokenizer, prompts: list[str]) -> tuple[float, float]:
    """Seconds batched, seconds one at a time; prints both and the agreement."""
    options = EvalOptions()
    model.eval()
    answer_all(model, tokenizer, prompts[:4], options.greedy())  # warm-up: first-call costs
    start = time.perf_counter()
    batched = [text for text, _ in answer_all(model, tokenizer, prompts, options.greedy(),
                                              options.batch_size)]
    batched_s = time.perf_counter() - start
    start = time.perf_counter()
    single = one_at_a_time(model, tokenizer, prompts, options.max_new_tokens)
    single_s = time.perf_counter() - start
    same = sum(a == b for a, b in zip(batched, single, strict=True))
    print(f"{name}_batched_seconds: {batched_s:.2f}")
    print(f"{name}_one_at_a_time_seconds: {single_s:.2f}")
    print(f"{name}_identical_answers: {same}/{len(prompts)}")
    print(f"{name}_batched_vs_one_at_a_time: {single_s / batched_s:.1f}")
    for a, b, p in zip(batched, single, prompts, strict=True):
        if a != b:
            print(f"# differs: {p!r}: batched {a!r} vs one at a time {b!r}")
    return batched_s, single_s, same


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="tiny")
    parser.add_argument("--rows", type=int, default=None, help="first N questions (default: all)")
    parser.add_argument("--steps", type=int, default=40, help="masked fine-tune steps (0: skip)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    rows = eval_rows("course:eval_styles", args.rows).rows
    prompts = prompts_for([r["instruction"] for r in rows], [r["input"] for r in rows])
    model, tokenizer = load_model_and_tokenizer(args.model)
    results = [measure("base", model, tokenizer, prompts)]
    if args.steps:
        tuned = train(model, "course:train", eval_data=None, masking="response",
                      max_steps=args.steps, tokenizer=tokenizer, progress=False, verbose=False)
        results.append(measure("masked", tuned.model, tokenizer, prompts))
    batched, single, same = (sum(column) for column in zip(*results, strict=True))
    n = len(prompts) * len(results)
    print(f"rows: {len(prompts)}, models: {len(results)}, threads: {args.threads}")
    print(f"identical_answers: {same}/{n}")
    print(f"batched_vs_one_at_a_time: {single / batched:.1f}")
    if same != n:
        raise SystemExit(f"{n - same} greedy answers differ between batched and one at a time")


if __name__ == "__main__":
    main()
