"""`course demo`: the course's whole story in one headless run.

    >>> run_demo(Path("course-demo"))   # doctest: +SKIP

1. the base model only continues text (raw completion);
2. the same model fine-tuned twice, with response masking and without;
3. a figure comparing their reported losses with the held-out response-only loss;
4. a before/after table of answers to held-out instructions.

Everything lands in `out` (a new folder): masked/, unmasked/, compare.png, answers.txt/.html.
"""

from __future__ import annotations

from pathlib import Path

from course_lib.evaluation.compare import compare_runs
from course_lib.evaluation.generation import answer_table, complete_batch
from course_lib.formatting.records import load_records
from course_lib.loading import load_model_and_tokenizer
from course_lib.training.runner import train


def run_demo(
    out: Path,
    model: str = "tiny",
    data: str = "course:train",
    eval_data: str | None = "course:eval",
    steps: int = 100,
    seed: int = 0,
    n_prompts: int = 5,
    progress: bool = True,
    num_threads: int | None = None,
) -> Path:
    """Run the story into the new folder `out` and print what happens at each step."""
    out.mkdir(parents=True, exist_ok=True)
    held_out = load_records(eval_data if eval_data else data)[:n_prompts]
    prompts = [r["instruction"] for r in held_out]
    expected = [r["response"] for r in held_out]

    base, tokenizer = load_model_and_tokenizer(model)
    print("== 1. The base model continues text; it does not answer ==")
    for prompt, text in zip(prompts[:2], complete_batch(base, tokenizer, prompts[:2]), strict=True):
        print(f"{prompt!r} -> {text!r}")

    runs = {}
    for masking, name in (("response", "masked"), ("none", "unmasked")):
        print(f"\n== 2. Fine-tune with masking={masking!r} ({name}) ==")
        runs[name] = train(
            model,
            data,
            eval_data,
            masking=masking,
            max_steps=steps,
            seed=seed,
            out_dir=out / name,
            label=name,
            progress=progress,
            num_threads=num_threads,
        )

    figure = out / "compare.png"
    compare_runs([r.history for r in runs.values()]).savefig(figure, dpi=100)
    print(f"\n== 3. Reported vs held-out response-only loss: {figure} ==")
    for r in runs.values():
        print(r.history.summary())

    print("\n== 4. Before and after ==")
    models = {"base (raw)": base, **{name: r.model for name, r in runs.items()}}
    table = answer_table(prompts, models, tokenizer, expected, raw=["base (raw)"])
    print(table.to_text(width=24))
    (out / "answers.txt").write_text(table.to_text() + "\n", encoding="utf-8")
    (out / "answers.html").write_text(table._repr_html_(), encoding="utf-8")
    print(f"\nEverything is in {out}/")
    return out
