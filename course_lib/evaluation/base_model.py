"""Measure how the base model behaves, before and after a masked fine-tune.

Shared by `benchmarks/base_model_behaviour.py` and `tests/evaluation/test_base_model.py`:

    >>> text, stopped = greedy_generate(model, tokenizer, "2 + 2 =")     # doctest: +SKIP
    >>> text, stopped                                                  # doctest: +SKIP
    (' 4. 3 + 5 = 8. ...', False)
    >>> exact_match(" 4", "4"), starts_with_answer(" 4. 3 + 5", "4")
    (True, True)
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel

from course_lib.evaluation.generation import GenerationSettings, continuation, generate_ids
from course_lib.evaluation.metrics import exact_match
from course_lib.evaluation.report import answer_all
from course_lib.formatting.json_files import read_json_rows
from course_lib.formatting.records import EMBEDDED_DATA_DIR, load_records
from course_lib.formatting.templates import ONE_LINE, format_example
from course_lib.loading import EMBEDDED_MODEL_DIR
from course_lib.training.runner import train
from course_lib.world.facts import Fact
from course_lib.world.phrasings import statement_prompt
from course_lib.world.tuning_data import split_facts


# --- generation and grading ------------------------------------------------------------
def greedy_generate(model: PreTrainedModel, tokenizer, prompt: str,
                    max_new_tokens: int = 24) -> tuple[str, bool]:
    """Greedy continuation of `prompt` (BOS added), stopping at EOS.

    Returns (new text, whether it ended with EOS). The course's own generation path.
    """
    ids = generate_ids(model, tokenizer, [prompt], GenerationSettings(max_new_tokens))[0]
    stopped = bool(ids) and ids[-1] == tokenizer.eos_token_id
    # After the prompt's ids: decoded alone, Llama's '▁4' lost its space (' 4. 3 + 5' was '4.').
    return continuation(tokenizer, prompt, ids), stopped


def starts_with_answer(generated: str, answer: str) -> bool:
    """The text begins with the answer as whole words: ' 4. What is' yes, ' 42' no."""
    words = re.findall(r"[\w'-]+|[?]", generated.lower())
    want = re.findall(r"[\w'-]+|[?]", answer.lower())
    return bool(want) and words[: len(want)] == want


def prompt_of(record: dict) -> str:
    """The course-template prompt of a record: '### Instruction: ... ### Response:'."""
    return format_example({**record, "response": ""}, ONE_LINE)[0]


# --- the base model ---------------------------------------------------------------------
def raw_completions(model, tokenizer, records: Sequence[dict]) -> list[dict]:
    """Greedy base-model output for each record's prompt, judged as 'continues' or not.

    It *continues* when it does not begin with the correct answer and goes on with more
    text (another question, an instruction, unrelated text) instead of stopping.
    """
    rows = []
    for r in records:
        text, stopped = greedy_generate(model, tokenizer, prompt_of(r))
        answered = starts_with_answer(text, r["response"])
        rows.append({"prompt": prompt_of(r), "output": text, "answer": r["response"],
                     "continues": not answered and len(text.split()) >= 3})
    return rows


def statement_knowledge(model, tokenizer, facts: Sequence[Fact]) -> list[dict]:
    """Does the model complete '2 + 2 =' with 4 and 'The capital of France is' with Paris?
    Greedy, 8 new tokens, batched; the same texts as one prompt at a time (tests/experiments)."""
    prompts = [statement_prompt(f) for f in facts]
    texts = answer_all(model, tokenizer, prompts, GenerationSettings(max_new_tokens=8))
    return [{"prompt": prompt, "output": text, "answer": f.answer,
             "correct": starts_with_answer(text.replace('"', " "), f.answer)}
            for prompt, (text, _), f in zip(prompts, texts, facts, strict=True)]


# --- a masked fine-tune and its grades -----------------------------------------------------
@dataclass(frozen=True)
class FineTuneSettings:
    epochs: float = 5.0
    batch_size: int = 16
    # Far above the usual 2e-5 (tiny model), yet below 1e-3: measured, 1e-3 for 3 epochs
    # overwrote pretrained knowledge (held-out exact match 0.45 vs 0.63 at 5e-4, 6 epochs).
    learning_rate: float = 5e-4
    seed: int = 0
    # Train attention and norms only: the embeddings and MLPs keep the pretrained facts.
    # Measured on the committed model, seeds 0-3: exact match 0.93-0.95 this way; training
    # every weight gave 0.86-0.89 at this rate and 0.91 at 3e-4.
    frozen: tuple[str, ...] = ("embed_tokens", "mlp")


def masked_fine_tune(model: PreTrainedModel, tokenizer, records: Sequence[dict],
                     settings: FineTuneSettings = FineTuneSettings()) -> float:
    """Fine-tune in place on response tokens only (prompt labels -100); returns seconds.

    Only the weights outside `settings.frozen` are trained (attention and norms by default).

    It is the course's own training runner (`training.runner.train`), the same one the
    lessons and `course train` use, with no held-out evaluation during training.
    """
    start = time.time()
    train(model, list(records), eval_data=None, masking="response", max_steps=None,
          num_epochs=settings.epochs, learning_rate=settings.learning_rate,
          batch_size=settings.batch_size, seed=settings.seed, tokenizer=tokenizer,
          freeze=settings.frozen, progress=False, verbose=False, logging_steps=50)
    model.eval()
    return time.time() - start


def tuned_answers(model, tokenizer, records: Sequence[dict]) -> list[dict]:
    """The tuned model's answer to each record, graded by stopping and by exact match.

    Exact match is metrics.exact_match, the one normalisation the whole course states.
    """
    rows = []
    for r in records:
        text, stopped = greedy_generate(model, tokenizer, prompt_of(r), max_new_tokens=16)
        rows.append({"prompt": prompt_of(r), "output": text, "answer": r["response"],
                     "correct": exact_match(text, r["response"]), "eos": stopped,
                     "phrasing": r.get("phrasing", "")})
    return rows


def share(rows: Sequence[dict], key: str) -> float:
    """Fraction of rows where `key` is true."""
    return sum(bool(r[key]) for r in rows) / max(1, len(rows))


# --- everything at once: what the benchmark prints and the slow test checks ---------------
# The two questions the course promises to answer after tuning.
HEADLINE_RECORDS = ({"instruction": "What is 2+2?", "response": "4"},
                    {"instruction": "What is 5+5?", "response": "10"})


def measure(model_dir: str | Path | None = None, data_dir: str | Path | None = None,
            settings: FineTuneSettings = FineTuneSettings()) -> dict:
    """Load the base model, measure it, fine-tune it with masked labels, measure again.

    Returns the five metrics (raw_completion_rate, statement_knowledge, tuned_exact_match,
    tuned_eos_rate, tune_seconds), a few extra numbers, and the rows behind them.
    """
    # Two threads at most, so tune_seconds means about the same on a laptop and a big server.
    torch.set_num_threads(min(2, torch.get_num_threads()))
    # Defaults to the embedded model and data, the ones the course ships and its tests pin.
    model_dir = Path(model_dir or EMBEDDED_MODEL_DIR)
    data_dir = Path(data_dir or EMBEDDED_DATA_DIR)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    # float32 whatever the folder says: the numbers must not depend on a saved dtype.
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    # Eval rows as written, 'phrasing' kept; training rows normalized, as train() takes them.
    evals = [row for _, row in read_json_rows(data_dir / "eval.jsonl")]
    tuning_records = load_records(data_dir / "train.jsonl")

    # Before tuning: does the base model ramble on, and does it know the held-out facts at all?
    raw = raw_completions(model, tokenizer, evals)
    known = statement_knowledge(model, tokenizer, split_facts()[1])
    before = raw_completions(model, tokenizer, HEADLINE_RECORDS)
    # The tune changes `model` in place, so every "before" number has to be taken above.
    seconds = masked_fine_tune(model, tokenizer, tuning_records, settings)
    tuned = tuned_answers(model, tokenizer, evals)
    after = tuned_answers(model, tokenizer, HEADLINE_RECORDS)
    # Phrasings never seen in training: exact match here is the test of generalising, not recall.
    unseen = [r for r in tuned if r["phrasing"] == "unseen"]
    # The five headline metrics first; the rows let a test or reader see why a number is low.
    return {
        "raw_completion_rate": share(raw, "continues"),
        "statement_knowledge": share(known, "correct"),
        "tuned_exact_match": share(tuned, "correct"),
        "tuned_eos_rate": share(tuned, "eos"),
        "tune_seconds": seconds,
        "tuned_exact_match_unseen_phrasing": share(unseen, "correct"),
        "eval_prompts": len(evals),
        "train_records": len(tuning_records),
        "parameters": sum(p.numel() for p in model.parameters()),
        "rows": {"raw": raw, "statements": known, "tuned": tuned,
                 "headline_before": before, "headline_after": after},
    }
