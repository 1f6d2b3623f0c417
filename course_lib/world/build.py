"""Build the embedded base model from nothing: corpus -> tokenizer -> tiny Llama -> folder.

    >>> build_base_model("out/tiny-base", QUICK_BUILD)   # seconds; CI runs this  # doctest: +SKIP
    >>> build_base_model("out/tiny-base", FULL_BUILD)    # ~10 minutes on 2 cores # doctest: +SKIP

The result loads with `AutoModelForCausalLM.from_pretrained(out)` and
`AutoTokenizer.from_pretrained(out)`. Same settings and seed give the same corpus and
tokenizer; the weights match too on the same machine and torch version.
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from transformers import GenerationConfig

from course_lib.world.corpus import generate_corpus
from course_lib.world.model import BASE, QUICK, ModelShape, model_config, new_model
from course_lib.world.pretrain import PretrainSettings, pack_documents, pretrain
from course_lib.world.tokenizer import train_tokenizer


@dataclass(frozen=True)
class BuildSettings:
    name: str
    corpus_chars: int
    vocab_size: int
    shape: ModelShape
    train: PretrainSettings = field(default_factory=PretrainSettings)
    seed: int = 0


FULL_BUILD = BuildSettings("full", corpus_chars=3_000_000, vocab_size=2048, shape=BASE,
                           train=PretrainSettings(steps=4000))
QUICK_BUILD = BuildSettings("quick", corpus_chars=20_000, vocab_size=400, shape=QUICK,
                            train=PretrainSettings(steps=6, batch_size=4, block_size=64,
                                                   warmup_steps=1))


def build_base_model(out: str | Path, settings: BuildSettings = FULL_BUILD) -> dict:
    """Run the whole build into `out`; returns a summary (also written to the model card)."""
    torch.set_num_threads(min(2, torch.get_num_threads()))  # the course targets 2 CPU cores
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.time()

    # The tokenizer is trained on this very corpus, so the world's common words get one token.
    docs = generate_corpus(settings.seed, settings.corpus_chars)
    tokenizer = train_tokenizer(docs, settings.vocab_size)
    # The vocabulary size and special ids come from the tokenizer just trained, never typed in.
    config = model_config(settings.shape, len(tokenizer), tokenizer.bos_token_id,
                          tokenizer.eos_token_id, tokenizer.pad_token_id)
    model = new_model(config, settings.seed)
    # Documents packed end to end into full blocks: no step is spent on padding.
    data = pack_documents(docs, tokenizer, settings.train.block_size)
    # Checkpoints go to a throwaway folder: only the final model belongs in `out`.
    with tempfile.TemporaryDirectory() as work_dir:
        history = pretrain(model, data, settings.train, work_dir)
    seconds = time.time() - start

    # Saved with the model: a bare generate() is then greedy and short, as the course grades.
    model.generation_config = GenerationConfig(
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id, do_sample=False, max_new_tokens=32,
    )
    # Model and tokenizer side by side, so from_pretrained(out) loads both from one folder.
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    # The summary records what was built and how, for the card and for comparing rebuilds.
    losses = [h["loss"] for h in history if "loss" in h]
    summary = {
        "settings": asdict(settings),
        "parameters": sum(p.numel() for p in model.parameters()),
        "corpus_documents": len(docs),
        "corpus_chars": sum(map(len, docs)),
        "corpus_tokens": data.blocks.numel(),
        "tokens_seen": settings.train.steps * settings.train.batch_size * settings.train.block_size,
        "vocab_size": len(tokenizer),
        "wall_seconds": round(seconds, 1),
        "first_loss": losses[0] if losses else None,
        "final_loss": losses[-1] if losses else None,
        "torch": torch.__version__,
    }
    # Measured after saving, from the files themselves: the size a learner downloads.
    summary["size_mb"] = round(sum(f.stat().st_size for f in out.iterdir()) / 1e6, 2)
    (out / "README.md").write_text(model_card(summary), encoding="utf-8")
    return summary


def model_card(summary: dict) -> str:
    """The README.md of the model folder: what it is, how it was made, what it does."""
    s = summary["settings"]
    sh, t = s["shape"], s["train"]
    return f"""# tiny-base: the course's embedded base model

A {summary['parameters']:,}-parameter `LlamaForCausalLM` pretrained by the course itself
(`course build-base-model`) on a generated corpus about a small world: arithmetic
(+ and - on 0..20, * on 0..10), capitals, animal sounds, colours, opposites and
English-Spanish words, short stories, and web-like pages (worksheets, to-do lists,
quizzes whose answers come far below, unanswered "### Instruction: ... ### Response:"
prompts, and a few Q/A pages where a question is answered at once). It behaves like a
real base model at small scale: it completes statements ("The capital of France is" ->
" Paris") but continues an instruction with more instructions instead of answering.
Instruction tuning unlocks the knowledge.

Not for any use outside the course: it knows ~1000 facts and nothing else.

## Why this size

Measured on 2 CPU cores (one training step, batch 16 x 128 tokens, uncontended): hidden 96
x 4 layers (0.64M parameters) 19.0k tokens/s; hidden 128 x 4 (1.1M) 12.7k; hidden 160 x 4
(1.6M) 10.3k; hidden 128 x 6 (1.5M) 9.3k; hidden 192 x 4 (2.2M) 7.7k. Hidden 128 x 4 learns
the facts (a first 1000-step build already completed every capital, sound, colour, opposite
and Spanish statement) and leaves room for enough steps to learn single-digit arithmetic
within ~10 minutes on shared cores.

Wider is not better here. A hidden 192 x 4 build (2.3M parameters, same corpus, 4000 steps,
24 minutes) reached a lower loss (0.75) but answered only 27% of the held-out questions in
Q/A form, and after the same masked fine-tune it matched 7-14% of them: it had memorised
the tuning answers instead of reaching its facts. This model matches 93-95%.

## Build ({s['name']})

- seed: {s['seed']}
- corpus: {summary['corpus_documents']:,} documents, {summary['corpus_chars']:,} characters,
  {summary['corpus_tokens']:,} tokens
- tokenizer: byte-level BPE, vocab {summary['vocab_size']}; `<s>` bos (added in front by
  `tokenizer(text)`; `add_special_tokens=False` adds nothing), `</s>` eos (never added),
  `<pad>` pad (distinct from eos), `<unk>`
- model: hidden {sh['hidden_size']}, {sh['num_hidden_layers']} layers,
  {sh['num_attention_heads']} heads, MLP {sh['intermediate_size']}, tied embeddings,
  context {sh['max_position_embeddings']}
- training: transformers Trainer, {t['steps']} steps x {t['batch_size']} blocks x
  {t['block_size']} tokens ({summary['tokens_seen']:,} tokens seen), AdamW lr
  {t['learning_rate']}, cosine schedule, warmup {t['warmup_steps']}, weight decay
  {t['weight_decay']}, fp32 on CPU, no gradient checkpointing
- loss: {summary['first_loss']:.3f} (first log) -> {summary['final_loss']:.3f} (last log)
- wall time: {summary['wall_seconds']} s on 2 shared CPU cores (torch {summary['torch']})
- size: {summary['parameters']:,} parameters, {summary['size_mb']} MB

Rebuild with `course build-base-model --out DIR` (add `--quick` for the seconds-long
smoke build). Measure its behaviour with `python -m benchmarks.base_model_behaviour`.

## Summary (machine-readable)

```json
{json.dumps(summary, indent=2, default=str)}
```
"""
