"""Pretraining: next-token prediction on the packed corpus, with the transformers Trainer.

    >>> blocks = pack_documents(["2 + 2 = 4."], tokenizer, block_size=8)   # doctest: +SKIP

Every document is wrapped as `<s> text </s>` and the documents are concatenated and cut
into equal blocks (packing): no padding is wasted, and the model sees document
boundaries the way it will see a prompt, after `<s>`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from transformers import PreTrainedModel, Trainer, TrainingArguments
from transformers.trainer_callback import ProgressCallback


@dataclass(frozen=True)
class PretrainSettings:
    steps: int = 1500
    batch_size: int = 16
    block_size: int = 128
    learning_rate: float = 3e-3  # tiny models like a large learning rate
    warmup_steps: int = 60
    weight_decay: float = 0.01
    seed: int = 0


class Blocks(torch.utils.data.Dataset):
    """Fixed-length token blocks; labels are the inputs (the model shifts them itself)."""

    def __init__(self, blocks: torch.Tensor):
        self.blocks = blocks

    def __len__(self) -> int:
        return len(self.blocks)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"input_ids": self.blocks[i], "labels": self.blocks[i]}


def pack_documents(docs: Sequence[str], tokenizer, block_size: int) -> Blocks:
    """Tokenize `<s> doc </s>` for every document, concatenate, cut into blocks."""
    ids = tokenizer(list(docs))["input_ids"]  # adds <s> in front of each document
    stream = [t for doc in ids for t in (*doc, tokenizer.eos_token_id)]
    n = len(stream) // block_size
    return Blocks(torch.tensor(stream[: n * block_size]).view(n, block_size))


class LossLines(ProgressCallback):
    """transformers' progress bar, with each logged step as one readable line under it."""

    def on_log(self, args, state, control, logs=None, **kwargs):
        if self.training_bar is not None and logs and "loss" in logs:
            self.training_bar.write(f"step {state.global_step:>5}/{state.max_steps}: "
                                    f"loss {logs['loss']:.3f}, learning rate "
                                    f"{logs.get('learning_rate', 0):.2e}")


def pretrain(model: PreTrainedModel, data: Blocks, settings: PretrainSettings,
             work_dir: str) -> list[dict]:
    """Train in place; returns the Trainer's log history (loss every few steps)."""
    args = TrainingArguments(
        output_dir=os.path.join(work_dir, "trainer"),
        max_steps=settings.steps,
        per_device_train_batch_size=settings.batch_size,
        learning_rate=settings.learning_rate,
        lr_scheduler_type="cosine",
        warmup_steps=settings.warmup_steps,
        weight_decay=settings.weight_decay,
        logging_steps=max(1, settings.steps // 30),
        save_strategy="no",
        report_to="none",
        use_cpu=True,  # fp32 on CPU: the model is tiny, half precision buys nothing here
        bf16=False,
        seed=settings.seed,
        data_seed=settings.seed,
        dataloader_num_workers=0,
        disable_tqdm=False,
    )
    trainer = Trainer(model=model, args=args, train_dataset=data)
    trainer.remove_callback(ProgressCallback)  # it prints each log as a raw dict
    trainer.add_callback(LossLines())
    trainer.train()
    return trainer.state.log_history
