"""Packing: several examples in one row, no padding, and the two ways it breaks masking.

    >>> examples = [{"input_ids": [1, 5, 6, 7], "labels": [-100, -100, 6, 7]},
    ...             {"input_ids": [1, 8, 9], "labels": [-100, -100, 9]}]
    >>> row = pack(examples)                        # transformers' DataCollatorWithFlattening
    >>> row["labels"].tolist(), row["position_ids"].tolist()
    ([[-100, -100, 6, 7, -100, -100, 9]], [[0, 1, 2, 3, 0, 1, 2]])

Packing fills a row with whole examples end to end instead of padding each one: nothing is
spent on padding. It can break the course's two promises:

1. Labels: the packed row must keep every example's -100s. A packer that makes labels from
   the packed input_ids afterwards (what the collator does when it is given no labels, and
   what nanochat's packing rewrite did, karpathy/nanochat#582) trains every prompt again.
2. Attention: under one causal mask, the second example attends to the first. position_ids
   that restart at 0 for each example tell transformers to build a block-diagonal mask (and
   flash-attention's variable-length kernel to split the row); without them it leaks.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import torch
from transformers import DataCollatorWithFlattening

from course_lib.env import evaluating
from course_lib.errors import CourseError, shown
from course_lib.formatting.rows import listed
from course_lib.masking.labels import tokenized_examples


def pack(examples: Sequence[Mapping], keep_labels: bool = True) -> dict[str, torch.Tensor]:
    """One row of all `examples`: input_ids, labels and position_ids (restarting at 0).

    keep_labels=False drops the examples' labels first, so the collator makes them from the
    input_ids: the mistake that trains every prompt.
    """
    examples = tokenized_examples(examples, "pack(examples)")
    if not examples:  # the collator's "every example is empty" named no argument
        raise CourseError("pack needs at least one example; give it prepare_examples(records, "
                          "tokenizer).examples.")
    if not isinstance(keep_labels, bool):  # keep_labels="no" kept them, None dropped them
        raise CourseError(f"keep_labels must be True or False, not {shown(keep_labels)}.")
    for i, ex in enumerate(examples):
        check_example(ex, i, keep_labels)
    features = [{k: list(v) for k, v in ex.items() if k in ("input_ids", "labels")}
                for ex in examples]
    if not keep_labels:
        features = [{"input_ids": f["input_ids"]} for f in features]
    return DataCollatorWithFlattening(return_position_ids=True)(features)


def check_example(example: Mapping, i: int, keep_labels: bool) -> None:
    """One sentence for an example pack cannot keep as it is: without labels the collator made
    them from the input_ids (every prompt trained, the mistake keep_labels=False shows), with
    labels of another length it misaligned them, and an empty one vanished from the row."""
    ids, labels = example["input_ids"], example.get("labels")
    if len(ids) == 0:
        raise CourseError(f"examples[{i}] has no input_ids; leave empty examples out before "
                          f"pack(examples).")
    if keep_labels and labels is None:
        raise CourseError(f"examples[{i}] has no labels, so pack would make them from its "
                          f"input_ids and train its prompt; give prepare_examples(records, "
                          f"tokenizer).examples, or keep_labels=False to show that mistake.")
    if keep_labels and len(labels) != len(ids):
        raise CourseError(f"examples[{i}] has {len(labels)} labels for {len(ids)} input_ids; "
                          f"each token needs its label: make the examples with "
                          f"prepare_examples(records, tokenizer).")


def block_causal_mask(position_ids: torch.Tensor) -> torch.Tensor:
    """(length, length) bool: may position i attend to j? Causal, and only within its example.

        >>> block_causal_mask(torch.tensor([0, 1, 0, 1])).int().tolist()
        [[1, 0, 0, 0], [1, 1, 0, 0], [0, 0, 1, 0], [0, 0, 1, 1]]
    """
    # A list was an AttributeError; a generator or a Series torch cannot read: made a list.
    positions = torch.as_tensor(position_ids if isinstance(position_ids, torch.Tensor)
                                else listed(position_ids))
    if positions.dim() > 1 and positions.shape[0] != 1:  # several rows became one mask, unsaid
        raise CourseError(f"block_causal_mask takes the position_ids of one packed row, not "
                          f"{positions.shape[0]} rows; give one row: position_ids[i].")
    positions = positions.reshape(-1)
    example = torch.cumsum(positions == 0, dim=0)  # which example each position belongs to
    causal = torch.ones(len(positions), len(positions), dtype=torch.bool).tril()
    return causal & (example[:, None] == example[None, :])


def leak_per_example(model, examples: Sequence[Mapping], row: Mapping[str, torch.Tensor],
                     use_position_ids: bool) -> list[float]:
    """For each example, the largest difference between its logits alone and in the packed row.

    0 means the example is computed as if alone; more means it saw the examples before it
    (and, without position_ids, its positions are shifted too).
    """
    examples = tokenized_examples(examples, "leak_per_example(model, examples, row, ...)")
    if not isinstance(use_position_ids, bool):  # "no" gave them to the model
        raise CourseError(f"use_position_ids must be True or False, not "
                          f"{shown(use_position_ids)}.")
    length = sum(len(ex["input_ids"]) for ex in examples)
    if row["input_ids"].shape[-1] != length:  # a row of other examples: a shape error below
        raise CourseError(f"row holds {row['input_ids'].shape[-1]} tokens but examples "
                          f"{length}; give the row packed from these examples: "
                          f"row = pack(examples).")
    # use_cache=False, as in training: transformers reads packing from position_ids only then.
    extra = {"position_ids": row["position_ids"]} if use_position_ids else {}
    leaks, start = [], 0
    with evaluating(model) as device:
        packed = model(input_ids=row["input_ids"].to(device), use_cache=False,
                       **{k: v.to(device) for k, v in extra.items()}).logits[0]
        for ex in examples:
            ids = torch.tensor([list(ex["input_ids"])], device=device)
            alone = model(input_ids=ids, use_cache=False).logits[0]
            inside = packed[start:start + ids.shape[1]]
            leaks.append(float((inside - alone).abs().max()))
            start += ids.shape[1]
    return leaks


@contextmanager
def attention(model, implementation: str) -> Iterator[None]:
    """Inside the block the model computes attention with `implementation` ("eager", "sdpa",
    ...); after it, with what it had before, even if the block fails (a cell that set "sdpa"
    back by name changed a model loaded with another kind)."""
    before = model.config._attn_implementation  # what from_pretrained chose, or was told
    model.set_attn_implementation(implementation)
    try:
        yield
    finally:
        model.set_attn_implementation(before)

