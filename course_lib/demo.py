"""`course demo`: the course's whole story in one headless run.

    >>> run_demo(Path("course-demo"))   # doctest: +SKIP

1. the base model only continues text (raw completion);
2. and 3. the same model fine-tuned twice, with response masking and without;
4. a before/after table of answers to held-out instructions;
5. what the runs' own numbers show (reported loss vs held-out response-only loss, exact
   match) and the files to open.

Everything lands in `out` (a new folder): masked/, unmasked/, compare.png, answers.txt/.html.
"""

from __future__ import annotations

import contextlib
import sys
import textwrap
from pathlib import Path

from course_lib.errors import advice
from course_lib.evaluation.compare import compare_runs
from course_lib.evaluation.generation import AnswerTable, answer_table, complete_batch
from course_lib.formatting.records import load_records
from course_lib.loading import load_model_and_tokenizer
from course_lib.training.history import RunHistory
from course_lib.training.runner import train

RUNS = (  # (masking, name, heading): the two fine-tunes, alike but for masking
    ("response", "masked", "Fine-tune with masking='response' (masked): loss on the answers only"),
    ("none", "unmasked", "The same fine-tune with masking='none' (unmasked): loss on every token"),
)
WIDTH = 100  # characters of a printed conclusion line; longer ones wrap, indented
SAME = 0.02  # held-out losses closer than this share of the larger one count as the same


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
    note = questions_note(data, eval_data)
    if note:  # said first: the held-out lines below are read in its light
        print(f"note: {note}")
    # Prompts from the held-out set when there is one: an answer there is not a memorised row.
    held_out = load_records(eval_data if eval_data else data)[:n_prompts]
    prompts = [r["instruction"] for r in held_out]
    expected = [r["response"] for r in held_out]

    base, tokenizer = load_model_and_tokenizer(model)
    print("== 1. The base model continues text; it does not answer ==")
    for prompt, text in zip(prompts[:2], complete_batch(base, tokenizer, prompts[:2]), strict=True):
        print(f"{prompt!r} -> {text!r}")

    runs, once = {}, NewLinesOnly(sys.stdout)  # the data and threads lines: said once
    for number, (masking, name, heading) in enumerate(RUNS, start=2):
        print(f"\n== {number}. {heading} ==")
        with contextlib.redirect_stdout(once):
            runs[name] = train(model, data, eval_data, masking=masking, max_steps=steps,
                               seed=seed, out_dir=out / name, label=name, progress=progress,
                               num_threads=num_threads)
    # Both runs' loss curves in one saved figure: the masking is the only difference.
    histories = {name: r.history for name, r in runs.items()}
    compare_runs(list(histories.values())).savefig(out / "compare.png", dpi=100)

    print("\n== 4. Before and after ==")
    # The base model is asked raw (no template), the way step 1 showed it continuing text.
    models = {"base (raw)": base, **{name: r.model for name, r in runs.items()}}
    table = answer_table(prompts, models, tokenizer, expected, raw=["base (raw)"])
    print(table.to_text(width=24))
    # Kept in `out` as text and HTML, so the demo's answers can be read again after it ends.
    (out / "answers.txt").write_text(table.to_text() + "\n", encoding="utf-8")
    (out / "answers.html").write_text(table._repr_html_(), encoding="utf-8")

    print("\n== 5. What the numbers show ==")
    for line in conclusion(histories, table, out):
        print(textwrap.fill(line, WIDTH, subsequent_indent="  "))
    return out


def questions_note(data: str, eval_data: str | None) -> str | None:
    """What the held-out loss and the answers are measured on, when that is not what a reader
    of the numbers would assume: the course's questions for data of one's own, or rows
    both runs trained on when there is no held-out set."""
    if eval_data is None:
        return (f"with no held-out set, the answers below are to the first rows of {data}, "
                f"which both runs train on: they show what was learnt by heart, not what "
                f"carries over to new questions.")
    if eval_data.startswith("course:") and not data.startswith("course:"):
        return (f"the held-out loss and the answers below are measured on {eval_data}, the "
                f"course's own questions, not on rows like those of {data}; to measure your "
                f"task, give held-out rows of it with "
                f"{advice('eval_data=...', '--eval-data FILE')}.")
    return None


class NewLinesOnly:
    """A stdout that passes each line through as it comes, except one it already passed."""

    def __init__(self, out) -> None:
        self.out, self.seen, self.pending = out, set(), ""

    def write(self, text: str) -> int:
        *lines, self.pending = (self.pending + text).split("\n")
        for line in lines:
            if line not in self.seen or not line.strip():
                self.out.write(line + "\n")
            self.seen.add(line)
        return len(text)

    def flush(self) -> None:
        self.out.flush()


def conclusion(histories: dict[str, RunHistory], table: AnswerTable, out: Path) -> list[str]:
    """The demo's last lines: what the runs' own numbers show, then the files to open."""
    folders = ", ".join(f"{name}/" for name in histories)
    return [
        held_out_line(histories),
        reported_line(histories),
        *answers_line(histories, table),
        f"Open in {out}/: compare.png (both losses over the steps), answers.txt or "
        f"answers.html (the table above), {folders} (each run's model and history.json).",
    ]


def held_out_line(histories: dict[str, RunHistory]) -> str:
    """The held-out response-only losses, measured alike for every run, and which is lower."""
    if not all(h.eval_loss for h in histories.values()):
        return ("No held-out loss was measured (no held-out set), so nothing here compares the "
                "runs fairly; leave out --eval-data none to measure it.")
    loss = {name: h.eval_loss[-1] for name, h in histories.items()}
    values = ", ".join(f"{name} {loss[name]:.3f} (accuracy {h.eval_accuracy[-1]:.1%})"
                       for name, h in histories.items())
    (low, a), *_, (high, b) = sorted(loss.items(), key=lambda item: item[1])
    verdict = (f"{low} is {1 - a / b:.0%} lower: it predicts the held-out answers better"
               if b - a > SAME * b else "about the same")
    return f"Held-out loss on response tokens only, the fair comparison: {values}; {verdict}."


def reported_line(histories: dict[str, RunHistory]) -> str:
    """The losses the trainers reported, and why they cannot be compared across maskings."""
    values = ", ".join(f"{name} {h.train_loss[-1]:.3f}" if h.train_loss else f"{name} none"
                       for name, h in histories.items())
    unmasked = [name for name, h in histories.items() if h.masking == "none"]
    why = (f": not comparable, as {' and '.join(unmasked)} also averages over the prompt tokens"
           if unmasked and len(unmasked) < len(histories) else "")
    return f"Reported training loss (last step): {values}{why}."


def answers_line(histories: dict[str, RunHistory], table: AnswerTable) -> list[str]:
    """[exact match of the tuned runs, and whether these few answers tell them apart]."""
    em = table.exact_match()
    if not em:
        return []
    scores = {name: em[name] for name in histories if name in em}
    values = ", ".join(f"{name} {v:.0%}" for name, v in scores.items())
    n = len(table.prompts)
    if len(set(scores.values())) > 1:
        return [f"Exact match on these {n} answers: {values}."]
    examples = max(h.eval_examples for h in histories.values())
    measured = f" (the held-out loss uses {examples} examples)" if examples else ""
    return [f"Exact match on these {n} answers: {values}, the same: too few questions to tell "
            f"the runs apart{measured}."]
