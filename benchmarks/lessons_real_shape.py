"""Every lesson, headless, with a randomly initialised SmolLM2-135M-shaped model as MODEL.

    python benchmarks/lessons_real_shape.py [--max-steps 3] [--max-new-tokens 4]
                                            [--layers 2] [--lesson 04] [--model FOLDER]
                                            [--keep-going] [--save FOLDER]

The answers are noise (the weights are random): what this checks is that no code path
assumes the tiny model (its vocabulary, context, tokenizer, size or speed). It:

1. builds the model folder once (world/stand_in.py: SmolLM2-135M's vocabulary of 49,152,
   width, heads, grouped keys, head size, rope and tied embeddings, its tokenizer class and
   set-up, random weights, no download) in a temporary folder;
2. runs each lesson with nbclient after a cell injected under the first one, the way
   papermill injects parameters: it sets `MODEL` to that folder and caps every training run
   at COURSE_MAX_STEPS steps (the course's runner reads it, so processes launched by
   `course train --processes` are capped too; the cell caps TRL's SFTConfig and
   `train_by_hand`) and every generation at COURSE_MAX_NEW_TOKENS new tokens. The notebooks
   themselves are not changed.

Depth: `--layers 2` by default. The number of layers changes no code path, and on 2 CPU
cores the real 30 layers make the evaluation lessons (thousands of generated answers) take
over 15 minutes; `--layers 30` runs the real depth.

Prints `lesson_NN_seconds: X` per lesson and `lessons_total_seconds: X`; the first lesson that
fails stops the run with its error (exit 1). With `--keep-going` (one shot on a lent GPU) a
failing lesson prints `lesson_NN_failed:` and the end of its error, and the others still run.
`--save FOLDER` writes each executed notebook there, outputs included, to read what a learner
with that model would see (a wrong output fails no cell).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import nbformat  # noqa: E402
from nbclient import NotebookClient  # noqa: E402

LESSONS = ROOT / "lessons"

# Runs in the lesson's kernel right after its first cell. Every cap is printed, not hidden.
INJECTED = '''# Injected by benchmarks/lessons_real_shape.py (not part of the lesson).
import os
import transformers
import course_lib.training.loop_by_hand as _by_hand

MODEL = {model!r}
lesson = lesson_setup(MODEL)
_CAP = int(os.environ["COURSE_MAX_STEPS"])
_post_init = transformers.TrainingArguments.__post_init__


def _capped_post_init(self):  # train(), TRL's SFTConfig: every TrainingArguments
    _post_init(self)
    self.max_steps = _CAP if self.max_steps <= 0 else min(self.max_steps, _CAP)


transformers.TrainingArguments.__post_init__ = _capped_post_init
_train_by_hand = _by_hand.train_by_hand
_by_hand.train_by_hand = lambda *a, steps=40, **k: _train_by_hand(*a, steps=min(steps, _CAP), **k)
_NEW = int(os.environ["COURSE_MAX_NEW_TOKENS"])
_generate = transformers.GenerationMixin.generate


def _capped_generate(self, *args, **kwargs):  # every model.generate, the course's and yours
    kwargs["max_new_tokens"] = min(kwargs.get("max_new_tokens") or _NEW, _NEW)
    return _generate(self, *args, **kwargs)


transformers.GenerationMixin.generate = _capped_generate
print(f"MODEL = {{MODEL}}; every training run stops after {{_CAP}} steps, every generation "
      f"after {{_NEW}} new tokens")
'''


def first_code_cell(nb) -> int:
    return next(i for i, cell in enumerate(nb.cells) if cell.cell_type == "code")


def run_lesson(path: Path, model: str, timeout: int, save: Path | None = None) -> float:
    """Execute the lesson with the injected cell; return the seconds it took. With `save`,
    the executed notebook (its outputs, up to a failing cell) is written there to read."""
    nb = nbformat.read(path, as_version=4)
    where = first_code_cell(nb)
    assert "lesson_setup(MODEL)" in nb.cells[where].source, f"{path.name}: no lesson_setup cell"
    nb.cells.insert(where + 1, nbformat.v4.new_code_cell(INJECTED.format(model=model)))
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    try:
        client.execute()
    finally:
        # The outputs are what a learner would see: kept to read, a failure's included.
        if save is not None:
            save.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, save / path.name)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-steps", type=int, default=3, help="COURSE_MAX_STEPS")
    parser.add_argument("--max-new-tokens", type=int, default=4, help="COURSE_MAX_NEW_TOKENS")
    parser.add_argument("--layers", type=int, default=2,
                        help="decoder layers (SmolLM2 has 30; the depth changes no code path)")
    parser.add_argument("--lesson", action="append", default=None,
                        help="only this lesson number (repeatable), e.g. --lesson 04")
    parser.add_argument("--model", default=None, help="an existing model folder to use")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per cell at most")
    parser.add_argument("--save", type=Path, default=None,
                        help="a folder to write each executed notebook to, with its outputs")
    parser.add_argument("--keep-going", action="store_true",
                        help="run the other lessons after one fails (exit 1 at the end)")
    args = parser.parse_args(argv)
    os.environ.update(COURSE_MAX_STEPS=str(args.max_steps),
                      COURSE_MAX_NEW_TOKENS=str(args.max_new_tokens), HF_HUB_OFFLINE="1",
                      HF_HUB_DISABLE_TELEMETRY="1", MPLBACKEND="Agg",
                      TOKENIZERS_PARALLELISM="false")
    model = args.model
    if model is None:
        from course_lib.world.stand_in import save_stand_in

        start = time.perf_counter()
        model = str(save_stand_in("smollm2-135m", Path(tempfile.mkdtemp()) / "smollm2-shape",
                                  num_hidden_layers=args.layers))
        print(f"model_build_seconds: {time.perf_counter() - start:.1f}", flush=True)
    lessons = sorted(LESSONS.glob("[0-9][0-9]_*.ipynb"))
    if args.lesson:
        lessons = [p for p in lessons if p.name[:2] in args.lesson]
    total, failed = 0.0, []
    for path in lessons:
        try:
            seconds = run_lesson(path, model, args.timeout, args.save)
        except Exception as error:  # nbclient's CellExecutionError holds the cell's traceback
            if not args.keep_going:
                raise
            failed.append(path.name[:2])
            plain = re.sub(r"\x1b\[[0-9;]*m", "", str(error))  # the traceback's colours
            print(f"lesson_{path.name[:2]}_failed: " + "\n".join(plain.splitlines()[-25:]),
                  flush=True)
            continue
        total += seconds
        print(f"lesson_{path.name[:2]}_seconds: {seconds:.1f}", flush=True)
    print(f"lessons_total_seconds: {total:.1f}")
    layers = args.layers if args.model is None else json.loads(
        (Path(model) / "config.json").read_text())["num_hidden_layers"]
    print(f"settings: {layers} layers, {args.max_steps} training steps, "
          f"{args.max_new_tokens} new tokens per generation")
    if failed:
        print(f"lessons_failed: {' '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
