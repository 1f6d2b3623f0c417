"""Checks for lesson 08, scaling up: LoRA's trainable parameters, and settings that fit a GPU."""

from __future__ import annotations

from course_lib.grading.checks import is_int
from course_lib.grading.registry import exercise

ALL = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
LORA_CASES = [  # (preset, changes, r, targets)
    ("smollm2-135m", {}, 8, ["q_proj", "v_proj"]),
    ("qwen2.5-0.5b", {}, 16, ["q_proj", "k_proj", "v_proj", "o_proj"]),
    ("smollm2-135m", {"num_hidden_layers": 4}, 4, ["gate_proj", "up_proj", "down_proj"]),
    ("qwen2.5-0.5b", {"num_hidden_layers": 2}, 8, ALL),
    ("smollm2-135m", {"head_dim": 128}, 8, ["q_proj", "k_proj", "o_proj"]),  # heads x 128 != hidden
]


def _head_dim(config) -> int:
    """The config's head_dim, else hidden_size // num_attention_heads (the task's rule)."""
    return getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads


def _sizes(config) -> dict[str, tuple[int, int]]:
    """(inputs, outputs) of each matrix LoRA can adapt in a Llama-style layer."""
    h, i, head = config.hidden_size, config.intermediate_size, _head_dim(config)
    q, kv = config.num_attention_heads * head, config.num_key_value_heads * head
    return {"q_proj": (h, q), "k_proj": (h, kv), "v_proj": (h, kv), "o_proj": (q, h),
            "gate_proj": (h, i), "up_proj": (h, i), "down_proj": (i, h)}


def _wrong_lora_counts(config, r: int, targets: list[str]) -> list[tuple[int, str]]:
    """What the usual mistakes give, each with what to say."""
    sizes, layers = _sizes(config), config.num_hidden_layers
    per_layer = sum(r * (a + b) for a, b in (sizes[t] for t in targets))
    no_gqa = sum(r * (config.hidden_size + (config.hidden_size if t in ("k_proj", "v_proj")
                                              else b)) if t != "o_proj" else r * (a + b)
                 for t in targets for a, b in [sizes[t]])
    h = config.hidden_size
    derived = h // config.num_attention_heads  # ignores config.head_dim
    kv = config.num_key_value_heads * derived
    derived_sizes = {**sizes, "q_proj": (h, h), "k_proj": (h, kv), "v_proj": (h, kv),
                     "o_proj": (h, h)}
    return [
        (per_layer, "that is one layer's count: every one of the config.num_hidden_layers "
                    "layers has its own adapters, so multiply by it"),
        (layers * sum(a * b for a, b in (sizes[t] for t in targets)),
         "that is the size of the adapted matrices themselves; LoRA trains A (r x d_in) and "
         "B (d_out x r) instead: r x (d_in + d_out) per matrix"),
        (layers * sum(r * a for a, _ in (sizes[t] for t in targets)),
         "you counted A (r x d_in) only; B (d_out x r) is trained too"),
        (layers * no_gqa, "k_proj and v_proj map hidden_size to num_key_value_heads x head_dim "
                          "(grouped-query attention), not to hidden_size"),
        (layers * sum(r * (a + b) for a, b in (derived_sizes[t] for t in targets)),
         f"this config sets head_dim = {_head_dim(config)}, not hidden_size // "
         f"num_attention_heads = {derived}: use config.head_dim when it has one"),
    ]


@exercise(
    "ex08_1",
    title="LoRA's trainable parameters, counted by hand",
    hints=[
        "LoRA adds two small matrices to a matrix W of shape (d_out, d_in): A (r, d_in) and "
        "B (d_out, r), so r * (d_in + d_out) trained numbers.",
        "q_proj: hidden_size -> num_attention_heads * head_dim; k_proj and v_proj: "
        "hidden_size -> num_key_value_heads * head_dim; o_proj: back to hidden_size; "
        "gate_proj and up_proj: hidden_size -> intermediate_size; down_proj: the reverse.",
        "head_dim = config.head_dim if the config has one, else hidden_size // "
        "num_attention_heads. Sum over target_modules, then multiply by num_hidden_layers.",
    ],
    timeout=120,  # counting with peft on the meta device: seconds on a busy machine
)
def check_lora_parameters(lora_parameters):
    from peft import LoraConfig

    # deferred: peft and transformers stay out of the grader's start (it imports every check)
    from course_lib.loading import preset_config
    from course_lib.training.memory import count_parameters

    for preset, changes, r, targets in LORA_CASES:
        config = preset_config(preset, **changes)
        want = count_parameters(config, LoraConfig(r=r, target_modules=targets)).trained
        got = lora_parameters(config, r, list(targets))
        assert is_int(got), (
            f"lora_parameters should return an int (a count), not {type(got).__name__}.")
        got = int(got)  # a NumPy integer counts as well
        if got == want:
            continue
        shape = "".join(f", {k}={v}" for k, v in changes.items() if k != "num_hidden_layers")
        case = f"{preset} ({config.num_hidden_layers} layers{shape}), r={r}, {targets}"
        for value, why in _wrong_lora_counts(config, r, targets):
            if got == value:
                raise AssertionError(f"{case}: you count {got:,}, peft trains {want:,}: {why}.")
        raise AssertionError(f"{case}: you count {got:,}, but peft trains {want:,} weights; "
                             f"add r * (d_in + d_out) for each target in every layer.")


SETTINGS_CASES = [  # (preset, budget_gb, global_batch, max_length, lora, dtype: torch's name)
    ("smollm2-135m", 15.0, 32, 512, False, "float16"),
    ("qwen2.5-0.5b", 15.0, 32, 1024, True, "float16"),
    ("smollm2-135m", 15.0, 64, 2048, False, "float16"),
    ("smollm2-135m", 80.0, 16, 256, False, "bfloat16"),
    ("smollm2-135m", 15.0, 8, 8192, False, "float16"),
    ("qwen2.5-0.5b", 1.0, 8, 512, False, "float16"),
    ("smollm2-135m", 15.0, 24, 1024, True, "float16"),  # 8 fits, 12 does not; halving finds 6
    ("smollm2-135m", 25.0, 24, 1024, False, "float16"),  # 12 fits, 24 does not; doubling finds 8
]


def settings_by_the_rule(config, budget_gb, global_batch, max_length, lora, dtype):
    """The stated rule: no checkpointing if any batch fits without it, the largest batch."""
    # deferred: torch and transformers stay out of the grader's start (it imports every check)
    from course_lib.training.memory import estimate_memory

    sizes = [b for b in range(global_batch, 0, -1) if global_batch % b == 0]  # largest first
    for checkpointing in (False, True):
        for batch in sizes:
            estimate = estimate_memory(config, batch, max_length, lora=lora, dtype=dtype,
                                       gradient_checkpointing=checkpointing)
            if estimate.fits(budget_gb):
                return {"batch_size": batch, "accumulation": global_batch // batch,
                        "gradient_checkpointing": checkpointing}
    return None


def _where(case) -> str:
    preset, budget, global_batch, length, lora, dtype = case
    kind = "LoRA" if lora else "full"
    return (f"{preset} {kind} in {dtype}, {budget:g} GB, global batch {global_batch}, "
            f"length {length}")


def _describe(case, got, want) -> str:
    preset, budget, global_batch, length, lora, dtype = case
    where = _where(case)
    if want is None:
        return f"{where}: nothing fits, even batch 1 with checkpointing; return None, not {got}."
    if got is None:
        return (f"{where}: you returned None but {want} fits; try gradient checkpointing "
                f"before giving up.")
    if not isinstance(got, dict) or set(got) != set(want):
        return f"{where}: return a dict with the keys {sorted(want)}, not {got!r}."
    sizes = ", ".join(str(b) for b in range(global_batch, 0, -1) if global_batch % b == 0)
    for only, tried in (
            ("halves of it", {global_batch >> k for k in range(global_batch.bit_length())}),
            ("powers of two", {1 << k for k in range(global_batch.bit_length())})):
        if got["batch_size"] in tried and want["batch_size"] not in tried:
            return (f"{where}: batch {want['batch_size']} fits too; try every per-device batch "
                    f"that divides {global_batch} ({sizes}), not only {only}.")
    dropped = _argument_dropped(case, got, want)
    if dropped:
        return dropped
    if got["batch_size"] * got["accumulation"] != global_batch:
        return (f"{where}: accumulation x batch_size must equal global_batch "
                f"({got['accumulation']} x {got['batch_size']} != {global_batch}).")
    if got["gradient_checkpointing"] and not want["gradient_checkpointing"]:
        return (f"{where}: {want} fits without checkpointing; use gradient checkpointing "
                f"only when no batch fits without it (it costs a third more compute).")
    if got["batch_size"] < want["batch_size"]:
        return (f"{where}: batch {want['batch_size']} fits too; choose the largest per-device "
                f"batch that fits (fewer accumulation steps, a busier GPU).")
    return (f"{where}: you chose {got}, which does not fit: decide with estimate_memory(...)"
            f".fits(budget_gb) (1 GB = 10^9 bytes), which gives {want}.")


def _argument_dropped(case, got, want) -> str | None:
    """What to say if `got` is the rule's answer with lora or dtype left at its default."""
    # deferred: torch and transformers stay out of the grader's start (it imports every check)
    import torch

    from course_lib.loading import preset_config

    preset, budget, global_batch, length, lora, dtype = case
    config, where = preset_config(preset), _where(case)
    if lora:  # a full fine-tune, in the given dtype or in fp32 (estimate_memory's default)
        in_dtype, in_fp32 = (settings_by_the_rule(config, budget, global_batch, length, False,
                                                  d) == got
                             for d in (getattr(torch, dtype), torch.float32))
        if in_dtype or in_fp32:
            kind = "a full fine-tune (lora=False)" + ("" if in_dtype else " in fp32")
            what = "lora and dtype" if in_fp32 else "lora=lora"
            return (f"{where}: you chose {got}, what {kind} would need; pass {what} to "
                    f"estimate_memory, which then gives {want}.")
    if settings_by_the_rule(config, budget, global_batch, length, lora, torch.float32) == got:
        return (f"{where}: you chose {got}, what the same fine-tune in fp32 (estimate_memory's "
                f"default) would need; pass dtype=dtype to estimate_memory, which then gives "
                f"{want}.")
    return None


WHOLE = "a whole number (an int, as global_batch // batch_size gives)"
SETTING_KINDS = {"batch_size": WHOLE, "accumulation": WHOLE,
                 "gradient_checkpointing": "True or False"}


def _is_kind(value, what: str) -> bool:
    """True or False for a bool; an int (a NumPy one too, not a bool or a float) for a number."""
    if what == WHOLE:
        return is_int(value)
    return isinstance(value, bool)


@exercise(
    "ex08_2",
    title="Settings that fit a memory budget",
    hints=[
        "Try every per-device batch size that divides global_batch, from the largest "
        "(global_batch itself) down to 1; accumulation = global_batch // batch_size.",
        "First without gradient checkpointing; only if no batch fits, again with it.",
        "estimate_memory(config, batch, max_length, lora=lora, dtype=dtype, "
        "gradient_checkpointing=...).fits(budget_gb) says whether one fits; None if none does.",
    ],
    timeout=120,  # about 40 memory estimates
)
def check_choose_settings(choose_settings):
    # deferred: torch and transformers stay out of the grader's start (it imports every check)
    import torch

    from course_lib.loading import preset_config

    for case in SETTINGS_CASES:
        preset, budget, global_batch, length, lora, name = case
        config, dtype = preset_config(preset), getattr(torch, name)
        want = settings_by_the_rule(config, budget, global_batch, length, lora, dtype)
        got = choose_settings(config, budget, global_batch, length, lora, dtype)
        assert got == want, _describe(case, got, want)
        for key, what in SETTING_KINDS.items():
            assert got is None or _is_kind(got[key], what), (
                f"{_where(case)}: {key} should be {what}, not {got[key]!r}.")
