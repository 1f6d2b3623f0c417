"""Checks for lesson 08, scaling up: LoRA's trainable parameters, settings that fit a GPU,
and packing that keeps the masking."""

from __future__ import annotations

from course_lib.grading.checks import is_int, token_ids
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
        # The notebook's example, LoRA of rank 8 on q_proj and v_proj, typed in.
        (layers * sum(8 * (a + b) for a, b in (sizes[t] for t in targets)),
         f"that is the count for r=8, the notebook's example: use the r given ({r})"),
        (30 * per_layer, "that is the count for 30 layers, SmolLM2-135M's (the notebook's "
                         "example): multiply by config.num_hidden_layers, the config given"),
        (layers * sum(r * (a + b) for a, b in (sizes[t] for t in ("q_proj", "v_proj"))),
         "that is the count for q_proj and v_proj, the notebook's example: sum over the "
         "target_modules given"),
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
        # Two mistakes can give the same count here (r=8 on 4 targets, r=16 on 2): say each.
        whys = [why for value, why in _wrong_lora_counts(config, r, targets) if got == value]
        if whys:
            raise AssertionError(f"{case}: you count {got:,}, peft trains {want:,}: "
                                 f"{'; or '.join(whys)}.")
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
    # The notebook's example length, typed in instead of max_length.
    if length != 512 and settings_by_the_rule(config, budget, global_batch, 512, lora,
                                              getattr(torch, dtype)) == got:
        return (f"{where}: you chose {got}, what length 512 (the notebook's example) would "
                f"need; pass max_length to estimate_memory, which then gives {want}.")
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


PACK_CASES = [  # (examples, what the case shows)
    ([{"input_ids": [1, 5, 6, 7], "labels": [-100, -100, 6, 7]},
      {"input_ids": [1, 8, 9], "labels": [-100, -100, 9]}],
     "two masked examples: their -100s stay, and the positions restart at 0"),
    ([{"input_ids": [1, 5, 6, 7], "labels": [1, 5, 6, 7]},
      {"input_ids": [1, 8, 9], "labels": [1, 8, 9]},
      {"input_ids": [1, 4], "labels": [1, 4]}],
     "every example's first label becomes -100: nothing predicts the first token of an "
     "example (the token before it is the end of another one)"),
    ([{"input_ids": [1, 2, 3, 9, 2], "labels": [-100, -100, -100, 9, 2]},
      {"input_ids": [1, 7, 7, 7, 7, 2], "labels": [-100, -100, -100, -100, 7, 2]}],
     "examples stay in the order given"),
    ([{"input_ids": [1, 3, 2], "labels": [-100, 3, 2]}], "one example is a row of its own"),
]


def _packed(examples: list[dict]) -> tuple[list[int], list[int], list[int]]:
    """What transformers' DataCollatorWithFlattening gives (masking.packing.pack), as lists."""
    from course_lib.masking.packing import pack  # deferred: the grader's start loads no torch

    row = pack(examples)
    return tuple(row[key][0].tolist() for key in ("input_ids", "labels", "position_ids"))


def _pack_mistake(examples, got_labels, got_positions, want_labels, want_positions) -> str:
    """The learner's mistake, in their terms."""
    ids, _, _ = _packed(examples)
    if got_positions == list(range(len(ids))):
        return ("position_ids should restart at 0 for each example; counted over the whole row, "
                "they tell the model it is one long text, and each example attends to the ones "
                "before it")
    if got_positions != want_positions:
        return "position_ids should count 0, 1, 2, ... within each example"
    # Where labels equal input_ids (no prompt), these read like labels made from the ids.
    own = [t for ex in examples for t in ex["labels"]]
    if len(examples) > 1 and got_labels == [-100] + own[1:]:
        return ("only the first example's first label is -100: set the first label of *each* "
                "example to -100, as you add it to the row")
    if got_labels == [t for ex in examples for t in [-100] + list(ex["labels"][:-1])]:
        return ("the labels are shifted one place ([-100] + labels[:-1]): replace each "
                "example's first label with -100 ([-100] + labels[1:]); the model shifts them "
                "itself")
    made_from_ids = [-100] + ids[1:]
    if got_labels in (made_from_ids, [-100 if p == 0 else t for t, p in zip(ids, want_positions,
                                                                         strict=True)]):
        return ("the labels were made from the packed input_ids, so every prompt is trained "
                "again: keep each example's own labels, with their -100s")
    if got_labels == own:
        return ("each example's first label must be -100: the token before it ends another "
                "example, so nothing there should be graded on predicting it")
    return "labels are each example's own labels end to end, each first one set to -100"


@exercise(
    "ex08_3",
    title="Pack examples without breaking their masking",
    hints=[
        "Walk over the examples in order: extend input_ids with the example's input_ids, labels "
        "with its labels, position_ids with range(len(example's input_ids)).",
        "Set the label of each example's first position to -100: [-100] + labels[1:].",
        "Never build labels from the packed input_ids: that trains every prompt again.",
    ],
)
def check_pack_examples(pack_examples):
    for examples, why in PACK_CASES:
        given = [{k: list(v) for k, v in ex.items()} for ex in examples]
        out = pack_examples(given)
        assert given == examples, (
            "pack_examples changed the examples it was given: build new lists.")
        assert isinstance(out, dict) and {"input_ids", "labels", "position_ids"} <= set(out), (
            "pack_examples should return a dict with 'input_ids', 'labels' and 'position_ids'"
            + (f", not the keys {sorted(out)}." if isinstance(out, dict)
               else f", not a {type(out).__name__}."))
        got = [token_ids(out[k], k) for k in ("input_ids", "labels", "position_ids")]
        want = list(_packed(examples))
        if got == want:
            continue
        lengths = [len(ex["input_ids"]) for ex in examples]
        assert got[0] == want[0], (
            f"for examples of {lengths} tokens, input_ids should be {want[0]} (every example's "
            f"ids end to end, in order), not {got[0]}.")
        mistake = _pack_mistake(examples, got[1], got[2], want[1], want[2])
        raise AssertionError(
            f"for examples of {lengths} tokens ({why}), labels should be {want[1]} and "
            f"position_ids {want[2]}, not {got[1]} and {got[2]}: {mistake}.")
    _check_against_the_collator(pack_examples)


def _check_against_the_collator(pack_examples) -> None:
    """Real examples, compared with transformers' DataCollatorWithFlattening."""
    # deferred: the grader's start imports every check module; these load torch
    from course_lib.masking.labels import prepare_examples
    from course_lib.masking.packing import pack
    from course_lib.world.toy import make_toy_tokenizer

    records = [{"instruction": "What is 2+2?", "response": "4"},
               {"instruction": "Translate this to Spanish", "input": "Hello world",
                "response": "Hola mundo"}]
    examples = [{"input_ids": list(e["input_ids"]), "labels": list(e["labels"])}
                for e in prepare_examples(records, make_toy_tokenizer()).examples]
    row = pack(examples)
    out = pack_examples([dict(e) for e in examples])
    for key in ("input_ids", "labels", "position_ids"):
        want = row[key][0].tolist()
        assert token_ids(out[key], key) == want, (
            f"on two examples of lesson 03, transformers' DataCollatorWithFlattening gives {key} "
            f"{want}, yours {token_ids(out[key], key)}.")
