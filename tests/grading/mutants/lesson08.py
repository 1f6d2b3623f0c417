"""Wrong answers to the exercises of 08_scaling_up.ipynb (LoRA's count, settings that fit,
packing)."""

from __future__ import annotations

import torch

from course_lib.training.memory import estimate_memory

from . import mutant, right


@mutant("ex08_1", "one layer only", phrase="multiply by it")
def lora_parameters__one_layer(config, r: int, target_modules: list[str]) -> int:
    h, i = config.hidden_size, config.intermediate_size
    head = getattr(config, "head_dim", None) or h // config.num_attention_heads
    q, kv = config.num_attention_heads * head, config.num_key_value_heads * head
    sizes = {"q_proj": (h, q), "k_proj": (h, kv), "v_proj": (h, kv), "o_proj": (q, h),
             "gate_proj": (h, i), "up_proj": (h, i), "down_proj": (i, h)}
    return sum(r * (d_in + d_out) for d_in, d_out in (sizes[t] for t in target_modules))


@mutant("ex08_1", "the matrices themselves", phrase="r x (d_in + d_out) per matrix")
def lora_parameters__whole_matrices(config, r: int, target_modules: list[str]) -> int:
    h, i = config.hidden_size, config.intermediate_size
    head = getattr(config, "head_dim", None) or h // config.num_attention_heads
    q, kv = config.num_attention_heads * head, config.num_key_value_heads * head
    sizes = {"q_proj": (h, q), "k_proj": (h, kv), "v_proj": (h, kv), "o_proj": (q, h),
             "gate_proj": (h, i), "up_proj": (h, i), "down_proj": (i, h)}
    return config.num_hidden_layers * sum(a * b for a, b in (sizes[t] for t in target_modules))


@mutant("ex08_1", "A only", phrase="B (d_out x r) is trained too")
def lora_parameters__a_only(config, r: int, target_modules: list[str]) -> int:
    h, i = config.hidden_size, config.intermediate_size
    head = getattr(config, "head_dim", None) or h // config.num_attention_heads
    q = config.num_attention_heads * head
    inputs = {"q_proj": h, "k_proj": h, "v_proj": h, "o_proj": q, "gate_proj": h, "up_proj": h,
              "down_proj": i}
    return config.num_hidden_layers * sum(r * inputs[t] for t in target_modules)


@mutant("ex08_1", "grouped-query attention ignored", phrase="grouped-query attention")
def lora_parameters__no_gqa(config, r: int, target_modules: list[str]) -> int:
    h, i = config.hidden_size, config.intermediate_size
    sizes = {"q_proj": (h, h), "k_proj": (h, h), "v_proj": (h, h), "o_proj": (h, h),
             "gate_proj": (h, i), "up_proj": (h, i), "down_proj": (i, h)}
    per_layer = sum(r * (d_in + d_out) for d_in, d_out in (sizes[t] for t in target_modules))
    return config.num_hidden_layers * per_layer


@mutant("ex08_2", "smallest batch first", phrase="the largest per-device batch that fits")
def choose_settings__smallest(config, budget_gb: float, global_batch: int, max_length: int,
                              lora: bool, dtype) -> dict | None:
    sizes = [b for b in range(1, global_batch + 1) if global_batch % b == 0]
    for checkpointing in (False, True):
        for batch in sizes:
            estimate = estimate_memory(config, batch, max_length, lora=lora, dtype=dtype,
                                       gradient_checkpointing=checkpointing)
            if estimate.fits(budget_gb):
                return {"batch_size": batch, "accumulation": global_batch // batch,
                        "gradient_checkpointing": checkpointing}
    return None


@mutant("ex08_2", "checkpointing first", phrase="only when no batch fits without it")
def choose_settings__checkpointing_first(config, budget_gb: float, global_batch: int,
                                         max_length: int, lora: bool, dtype) -> dict | None:
    sizes = [b for b in range(global_batch, 0, -1) if global_batch % b == 0]
    for checkpointing in (True, False):
        for batch in sizes:
            estimate = estimate_memory(config, batch, max_length, lora=lora, dtype=dtype,
                                       gradient_checkpointing=checkpointing)
            if estimate.fits(budget_gb):
                return {"batch_size": batch, "accumulation": global_batch // batch,
                        "gradient_checkpointing": checkpointing}
    return None


@mutant("ex08_2", "never checkpointing", phrase="try gradient checkpointing before giving up")
def choose_settings__no_checkpointing(config, budget_gb: float, global_batch: int,
                                      max_length: int, lora: bool, dtype) -> dict | None:
    sizes = [b for b in range(global_batch, 0, -1) if global_batch % b == 0]
    for batch in sizes:
        if estimate_memory(config, batch, max_length, lora=lora, dtype=dtype).fits(budget_gb):
            return {"batch_size": batch, "accumulation": global_batch // batch,
                    "gradient_checkpointing": False}
    return None


@mutant("ex08_2", "accumulation is the batch size", phrase="accumulation x batch_size")
def choose_settings__accumulation(config, budget_gb: float, global_batch: int, max_length: int,
                                  lora: bool, dtype) -> dict | None:
    sizes = [b for b in range(global_batch, 0, -1) if global_batch % b == 0]
    for checkpointing in (False, True):
        for batch in sizes:
            estimate = estimate_memory(config, batch, max_length, lora=lora, dtype=dtype,
                                       gradient_checkpointing=checkpointing)
            if estimate.fits(budget_gb):
                return {"batch_size": batch, "accumulation": batch,
                        "gradient_checkpointing": checkpointing}
    return None


@mutant("ex08_2", "lora and dtype ignored", phrase="pass lora and dtype to estimate_memory")
def choose_settings__fp32_full(config, budget_gb: float, global_batch: int, max_length: int,
                               lora: bool, dtype) -> dict | None:
    sizes = [b for b in range(global_batch, 0, -1) if global_batch % b == 0]
    for checkpointing in (False, True):
        for batch in sizes:
            estimate = estimate_memory(config, batch, max_length,
                                       gradient_checkpointing=checkpointing)
            if estimate.fits(budget_gb):
                return {"batch_size": batch, "accumulation": global_batch // batch,
                        "gradient_checkpointing": checkpointing}
    return None


@mutant("ex08_1", "head_dim from hidden_size // heads", phrase="use config.head_dim")
def lora_parameters__head_dim_derived(config, r: int, target_modules: list[str]) -> int:
    h, i = config.hidden_size, config.intermediate_size
    kv = config.num_key_value_heads * (h // config.num_attention_heads)
    sizes = {"q_proj": (h, h), "k_proj": (h, kv), "v_proj": (h, kv), "o_proj": (h, h),
             "gate_proj": (h, i), "up_proj": (h, i), "down_proj": (i, h)}
    return config.num_hidden_layers * sum(r * sum(sizes[t]) for t in target_modules)


@right("ex08_1", "a NumPy sum")
def lora_parameters__numpy(config, r: int, target_modules: list[str]) -> int:
    import numpy as np

    h, i = config.hidden_size, config.intermediate_size
    head = getattr(config, "head_dim", None) or h // config.num_attention_heads
    q, kv = config.num_attention_heads * head, config.num_key_value_heads * head
    sizes = {"q_proj": (h, q), "k_proj": (h, kv), "v_proj": (h, kv), "o_proj": (q, h),
             "gate_proj": (h, i), "up_proj": (h, i), "down_proj": (i, h)}
    return np.sum([r * (a + b) for a, b in (sizes[t] for t in target_modules)]) \
        * config.num_hidden_layers


@mutant("ex08_2", "batch halved from the global batch", phrase="not only halves")
def choose_settings__halving(config, budget_gb: float, global_batch: int, max_length: int,
                             lora: bool, dtype) -> dict | None:
    for checkpointing in (False, True):
        batch = global_batch
        while batch >= 1:
            estimate = estimate_memory(config, batch, max_length, lora=lora, dtype=dtype,
                                       gradient_checkpointing=checkpointing)
            if estimate.fits(budget_gb):
                return {"batch_size": batch, "accumulation": global_batch // batch,
                        "gradient_checkpointing": checkpointing}
            batch //= 2
    return None


@mutant("ex08_2", "accumulation as a float", phrase="a whole number")
def choose_settings__float_accumulation(config, budget_gb: float, global_batch: int,
                                        max_length: int, lora: bool, dtype) -> dict | None:
    for checkpointing in (False, True):
        for batch in range(global_batch, 0, -1):
            if global_batch % batch == 0 and estimate_memory(
                    config, batch, max_length, lora=lora, dtype=dtype,
                    gradient_checkpointing=checkpointing).fits(budget_gb):
                return {"batch_size": batch, "accumulation": global_batch / batch,
                        "gradient_checkpointing": checkpointing}
    return None


@right("ex08_2", "divisors listed first, one loop over both settings")
def choose_settings__divisors(config, budget_gb: float, global_batch: int, max_length: int,
                              lora: bool, dtype) -> dict | None:
    divisors = sorted((b for b in range(1, global_batch + 1) if global_batch % b == 0),
                      reverse=True)
    tries = [(c, b) for c in (False, True) for b in divisors]
    for checkpointing, batch in tries:
        if estimate_memory(config, batch, max_length, lora=lora, dtype=dtype,
                           gradient_checkpointing=checkpointing).fits(budget_gb):
            return {"batch_size": batch, "accumulation": global_batch // batch,
                    "gradient_checkpointing": checkpointing}
    return None


@mutant("ex08_2", "powers of two upward, the last that fits", phrase="not only powers of two")
def choose_settings__powers_of_two(config, budget_gb: float, global_batch: int,
                                   max_length: int, lora: bool, dtype) -> dict | None:
    for checkpointing in (False, True):
        best, batch = None, 1
        while batch <= global_batch:
            if global_batch % batch == 0 and estimate_memory(
                    config, batch, max_length, lora=lora, dtype=dtype,
                    gradient_checkpointing=checkpointing).fits(budget_gb):
                best = batch
            batch *= 2
        if best:
            return {"batch_size": best, "accumulation": global_batch // best,
                    "gradient_checkpointing": checkpointing}
    return None


@mutant("ex08_2", "dtype not passed to estimate_memory", phrase="pass dtype=dtype")
def choose_settings__dtype_dropped(config, budget_gb: float, global_batch: int,
                                   max_length: int, lora: bool, dtype) -> dict | None:
    sizes = [b for b in range(global_batch, 0, -1) if global_batch % b == 0]
    for checkpointing in (False, True):
        for batch in sizes:
            estimate = estimate_memory(config, batch, max_length, lora=lora,
                                       gradient_checkpointing=checkpointing)
            if estimate.fits(budget_gb):
                return {"batch_size": batch, "accumulation": global_batch // batch,
                        "gradient_checkpointing": checkpointing}
    return None


@mutant("ex08_2", "lora not passed to estimate_memory", phrase="a full fine-tune (lora=False)")
def choose_settings__lora_dropped(config, budget_gb: float, global_batch: int,
                                  max_length: int, lora: bool, dtype) -> dict | None:
    sizes = [b for b in range(global_batch, 0, -1) if global_batch % b == 0]
    for checkpointing in (False, True):
        for batch in sizes:
            estimate = estimate_memory(config, batch, max_length, dtype=dtype,
                                       gradient_checkpointing=checkpointing)
            if estimate.fits(budget_gb):
                return {"batch_size": batch, "accumulation": global_batch // batch,
                        "gradient_checkpointing": checkpointing}
    return None


@mutant("ex08_2", "total compared with GiB, not .fits()", phrase="1 GB = 10^9 bytes")
def choose_settings__gib(config, budget_gb: float, global_batch: int, max_length: int,
                         lora: bool, dtype) -> dict | None:
    sizes = [b for b in range(global_batch, 0, -1) if global_batch % b == 0]
    for checkpointing in (False, True):
        for batch in sizes:
            estimate = estimate_memory(config, batch, max_length, lora=lora, dtype=dtype,
                                       gradient_checkpointing=checkpointing)
            if estimate.total < budget_gb * 1024**3:
                return {"batch_size": batch, "accumulation": global_batch // batch,
                        "gradient_checkpointing": checkpointing}
    return None


@mutant("ex08_3", "labels made from the packed input_ids", phrase="every prompt is trained")
def pack_examples__labels_from_ids(examples: list[dict]) -> dict:
    ids, positions = [], []
    for example in examples:
        ids += example["input_ids"]
        positions += range(len(example["input_ids"]))
    labels = [-100 if p == 0 else t for t, p in zip(ids, positions, strict=True)]
    return {"input_ids": ids, "labels": labels, "position_ids": positions}


@mutant("ex08_3", "positions counted over the whole row", phrase="restart at 0")
def pack_examples__one_long_text(examples: list[dict]) -> dict:
    ids, labels = [], []
    for example in examples:
        ids += example["input_ids"]
        labels += [-100] + example["labels"][1:]
    return {"input_ids": ids, "labels": labels, "position_ids": list(range(len(ids)))}


@mutant("ex08_3", "each example's first label kept", phrase="first label must be -100")
def pack_examples__first_label_kept(examples: list[dict]) -> dict:
    row = {"input_ids": [], "labels": [], "position_ids": []}
    for example in examples:
        row["input_ids"] += example["input_ids"]
        row["labels"] += example["labels"]
        row["position_ids"] += range(len(example["input_ids"]))
    return row


@mutant("ex08_3", "positions restarting at 1", phrase="0, 1, 2, ... within each example")
def pack_examples__from_one(examples: list[dict]) -> dict:
    row = {"input_ids": [], "labels": [], "position_ids": []}
    for example in examples:
        row["input_ids"] += example["input_ids"]
        row["labels"] += [-100] + example["labels"][1:]
        row["position_ids"] += range(1, len(example["input_ids"]) + 1)
    return row


@mutant("ex08_3", "examples sorted by length first", phrase="in order")
def pack_examples__sorted(examples: list[dict]) -> dict:
    row = {"input_ids": [], "labels": [], "position_ids": []}
    for example in sorted(examples, key=lambda e: len(e["input_ids"])):
        row["input_ids"] += example["input_ids"]
        row["labels"] += [-100] + example["labels"][1:]
        row["position_ids"] += range(len(example["input_ids"]))
    return row


@mutant("ex08_3", "the first example's lists extended in place", phrase="changed the examples")
def pack_examples__in_place(examples: list[dict]) -> dict:
    first = examples[0]
    ids, labels = first["input_ids"], first["labels"]
    labels[0] = -100
    positions = list(range(len(ids)))
    for example in examples[1:]:
        ids += example["input_ids"]
        labels += [-100] + example["labels"][1:]
        positions += range(len(example["input_ids"]))
    return {"input_ids": ids, "labels": labels, "position_ids": positions}


@right("ex08_3", "itertools.chain, tensors of shape (1, n)")
def pack_examples__chain(examples: list[dict]) -> dict:
    from itertools import chain

    ids = list(chain.from_iterable(e["input_ids"] for e in examples))
    labels = list(chain.from_iterable([-100, *e["labels"][1:]] for e in examples))
    positions = list(chain.from_iterable(range(len(e["input_ids"])) for e in examples))
    return {k: torch.tensor([v]) for k, v in
            (("input_ids", ids), ("labels", labels), ("position_ids", positions))}


@right("ex08_3", "transformers' DataCollatorWithFlattening itself")
def pack_examples__flattening(examples: list[dict]) -> dict:
    from transformers import DataCollatorWithFlattening

    features = [{"input_ids": list(e["input_ids"]), "labels": list(e["labels"])}
                for e in examples]
    return DataCollatorWithFlattening(return_position_ids=True)(features)


@mutant("ex08_1", "the notebook's q_proj and v_proj typed in, target_modules ignored",
        phrase="sum over the target_modules given")
def lora_parameters__targets_typed_in(config, r: int, target_modules: list[str]) -> int:
    h = config.hidden_size
    head = getattr(config, "head_dim", None) or h // config.num_attention_heads
    q, kv = config.num_attention_heads * head, config.num_key_value_heads * head
    return config.num_hidden_layers * (r * (h + q) + r * (h + kv))


@mutant("ex08_2", "the notebook's length 512 typed in, max_length ignored",
        phrase="pass max_length to estimate_memory")
def choose_settings__length_typed_in(config, budget_gb: float, global_batch: int,
                                     max_length: int, lora: bool, dtype) -> dict | None:
    sizes = [b for b in range(global_batch, 0, -1) if global_batch % b == 0]
    for checkpointing in (False, True):
        for batch in sizes:
            estimate = estimate_memory(config, batch, 512, lora=lora, dtype=dtype,
                                       gradient_checkpointing=checkpointing)
            if estimate.fits(budget_gb):
                return {"batch_size": batch, "accumulation": global_batch // batch,
                        "gradient_checkpointing": checkpointing}
    return None


@mutant("ex08_3", "only the packed row's first label set to -100", phrase="*each* example")
def pack_examples__first_example_only(examples: list[dict]) -> dict:
    row = {"input_ids": [], "labels": [], "position_ids": []}
    for example in examples:
        row["input_ids"] += example["input_ids"]
        row["labels"] += example["labels"]
        row["position_ids"] += range(len(example["input_ids"]))
    row["labels"][0] = -100
    return row


@mutant("ex08_3", "each example's labels shifted, not its first replaced",
        phrase="shifted one place")
def pack_examples__labels_shifted(examples: list[dict]) -> dict:
    row = {"input_ids": [], "labels": [], "position_ids": []}
    for example in examples:
        row["input_ids"] += example["input_ids"]
        row["labels"] += [-100] + list(example["labels"][:-1])
        row["position_ids"] += range(len(example["input_ids"]))
    return row


@right("ex08_3", "NumPy concatenate, arrays returned")
def pack_examples__numpy(examples: list[dict]) -> dict:
    import numpy as np

    return {"input_ids": np.concatenate([e["input_ids"] for e in examples]),
            "labels": np.concatenate([[-100, *e["labels"][1:]] for e in examples]),
            "position_ids": np.concatenate([np.arange(len(e["input_ids"])) for e in examples])}


@mutant("ex08_1", "the notebook's 30 layers typed in, num_hidden_layers ignored",
        phrase="the count for 30 layers")
def lora_parameters__thirty_layers(config, r: int, target_modules: list[str]) -> int:
    h, i = config.hidden_size, config.intermediate_size
    head = getattr(config, "head_dim", None) or h // config.num_attention_heads
    q, kv = config.num_attention_heads * head, config.num_key_value_heads * head
    sizes = {"q_proj": (h, q), "k_proj": (h, kv), "v_proj": (h, kv), "o_proj": (q, h),
             "gate_proj": (h, i), "up_proj": (h, i), "down_proj": (i, h)}
    return 30 * sum(r * (a + b) for a, b in (sizes[t] for t in target_modules))


@mutant("ex08_3", "torch.Tensor(...): the packed row holds floats",
        phrase="torch.Tensor(...) makes floats")
def pack_examples__float_tensors(examples: list[dict]) -> dict:
    ids, labels, positions = [], [], []
    for example in examples:
        ids += example["input_ids"]
        labels += [-100] + list(example["labels"][1:])
        positions += range(len(example["input_ids"]))
    return {"input_ids": torch.Tensor([ids]), "labels": torch.Tensor([labels]),
            "position_ids": torch.Tensor([positions])}
