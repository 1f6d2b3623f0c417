"""Wrong answers to the exercises of 03_loss_masking.ipynb (labels, loss, NaN rows, padding,
what mlm=True does)."""

from __future__ import annotations

import torch

from . import mutant, right

tokenizer = None  # the notebook's setup cell makes it: make_toy_tokenizer()


@mutant("ex03_1", "off-by-one mask: last prompt token trained", phrase="should be -100 for prompt")
def build_labels__last_prompt_token_trained(prompt: str, response: str, tokenizer) -> dict:
    prompt_ids = tokenizer(prompt)["input_ids"]
    ids = prompt_ids + tokenizer(response, add_special_tokens=False)["input_ids"]
    ids = ids + [tokenizer.eos_token_id]
    n = len(prompt_ids) - 1
    return {"input_ids": ids, "labels": [-100] * n + ids[n:]}


@mutant("ex03_1", "off-by-one mask: first response token masked", phrase="is a response token")
def build_labels__first_response_token_masked(prompt: str, response: str, tokenizer) -> dict:
    prompt_ids = tokenizer(prompt)["input_ids"]
    ids = prompt_ids + tokenizer(response, add_special_tokens=False)["input_ids"]
    ids = ids + [tokenizer.eos_token_id]
    n = len(prompt_ids) + 1
    return {"input_ids": ids, "labels": [-100] * n + ids[n:]}


@mutant("ex03_1", "EOS masked", phrase="it is the EOS token")
def build_labels__eos_masked(prompt: str, response: str, tokenizer) -> dict:
    prompt_ids = tokenizer(prompt)["input_ids"]
    answer = tokenizer(response, add_special_tokens=False)["input_ids"]
    ids = prompt_ids + answer + [tokenizer.eos_token_id]
    return {"input_ids": ids, "labels": [-100] * len(prompt_ids) + answer + [-100]}


@mutant("ex03_1", "padding masked by id (kills the EOS when pad == eos)", phrase="pad == EOS")
def build_labels__masked_by_id(prompt: str, response: str, tokenizer) -> dict:
    prompt_ids = tokenizer(prompt)["input_ids"]
    answer = tokenizer(response, add_special_tokens=False)["input_ids"]
    answer = answer + [tokenizer.eos_token_id]
    labels = [-100] * len(prompt_ids) + answer
    labels = [-100 if t == tokenizer.pad_token_id else t for t in labels]
    return {"input_ids": prompt_ids + answer, "labels": labels}


@mutant("ex03_1", "no EOS appended", phrase="should end with the EOS")
def build_labels__no_eos(prompt: str, response: str, tokenizer) -> dict:
    prompt_ids = tokenizer(prompt)["input_ids"]
    answer = tokenizer(response, add_special_tokens=False)["input_ids"]
    return {"input_ids": prompt_ids + answer, "labels": [-100] * len(prompt_ids) + answer}


@mutant("ex03_1", "labels shifted by hand (the next token's id)",
        phrase="don't shift the labels yourself")
def build_labels__shifted_by_hand(prompt: str, response: str, tokenizer) -> dict:
    prompt_ids = tokenizer(prompt)["input_ids"]
    ids = prompt_ids + tokenizer(response, add_special_tokens=False)["input_ids"]
    ids = ids + [tokenizer.eos_token_id]
    n = len(prompt_ids)
    # position t is graded on the token at t + 1: the last prompt token predicts the answer
    return {"input_ids": ids, "labels": [-100] * (n - 1) + ids[n:] + [-100]}


@mutant("ex03_1", "response template searched for in the token stream",
        phrase="every label is -100")
def build_labels__template_searched_in_tokens(prompt: str, response: str, tokenizer) -> dict:
    ids = tokenizer(prompt + response)["input_ids"] + [tokenizer.eos_token_id]
    marker = tokenizer("### Response:", add_special_tokens=False)["input_ids"]
    labels = [-100] * len(ids)
    for i in range(len(ids) - len(marker) + 1):
        if ids[i:i + len(marker)] == marker:
            start = i + len(marker)
            labels[start:] = ids[start:]
    return {"input_ids": ids, "labels": labels}


@mutant("ex03_1", "EOS id hard-coded (1, the toy tokenizer's)", phrase="tokenizer.eos_token_id")
def build_labels__eos_id_hard_coded(prompt: str, response: str, tokenizer) -> dict:
    prompt_ids = tokenizer(prompt)["input_ids"]
    answer = tokenizer(response, add_special_tokens=False)["input_ids"] + [1]
    return {"input_ids": prompt_ids + answer, "labels": [-100] * len(prompt_ids) + answer}


@mutant("ex03_1", "prompt and response tokenized together", phrase="separately")
def build_labels__tokenized_together(prompt: str, response: str, tokenizer) -> dict:
    n = len(tokenizer(prompt)["input_ids"])
    ids = tokenizer(prompt + response)["input_ids"] + [tokenizer.eos_token_id]
    return {"input_ids": ids, "labels": [-100] * n + ids[n:]}


@right("ex03_1", "tensors from encode(), prompt masked by slice assignment")
def build_labels__tensors(prompt: str, response: str, tokenizer) -> dict:
    prompt_ids = tokenizer.encode(prompt)
    answer = tokenizer.encode(response, add_special_tokens=False)
    ids = torch.tensor(prompt_ids + answer + [tokenizer.eos_token_id])
    labels = ids.clone()
    labels[:len(prompt_ids)] = -100
    return {"input_ids": ids, "labels": labels}


@mutant("ex03_2", "no shift", phrase="did not shift")
def masked_loss__no_shift(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    graded = labels != -100
    log_probs = torch.log_softmax(logits, dim=-1)
    picked = log_probs.gather(-1, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return -(picked * graded).sum() / graded.sum()


@mutant("ex03_2", "-100 graded as token 0", phrase="graded (as token 0)")
def masked_loss__ignored_graded_as_token_0(
    logits: torch.Tensor, labels: torch.Tensor,
) -> torch.Tensor:
    targets = labels[:, 1:].clamp(min=0)
    log_probs = torch.log_softmax(logits[:, :-1], dim=-1)
    return -log_probs.gather(-1, targets.unsqueeze(-1)).mean()


@mutant("ex03_2", "mean over all positions", phrase="divided by all positions")
def masked_loss__mean_over_all_positions(
    logits: torch.Tensor, labels: torch.Tensor,
) -> torch.Tensor:
    targets = labels[:, 1:]
    graded = targets != -100
    log_probs = torch.log_softmax(logits[:, :-1], dim=-1)
    picked = log_probs.gather(-1, targets.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return -(picked * graded).mean()


@mutant("ex03_2", "mean per example, then over the batch", phrase="per example")
def masked_loss__mean_per_example(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    targets = labels[:, 1:]
    graded = targets != -100
    log_probs = torch.log_softmax(logits[:, :-1], dim=-1)
    picked = log_probs.gather(-1, targets.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return (-(picked * graded).sum(dim=1) / graded.sum(dim=1)).mean()


@mutant("ex03_2", "returns a float (no gradient)", phrase="should return a tensor")
def masked_loss__returns_float(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    import torch.nn.functional as F
    flat = logits[:, :-1].reshape(-1, logits.shape[-1])
    return F.cross_entropy(flat, labels[:, 1:].reshape(-1), ignore_index=-100).item()


@mutant("ex03_2", "-100 replaced in place through a view of the caller's labels",
        phrase="changed the labels")
def masked_loss__labels_changed_in_place(
    logits: torch.Tensor, labels: torch.Tensor,
) -> torch.Tensor:
    targets = labels[:, 1:]
    graded = targets != -100
    targets[~graded] = 0  # a view: this writes 0 into the caller's labels
    log_probs = torch.log_softmax(logits[:, :-1], dim=-1)
    picked = log_probs.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    return -(picked * graded).sum() / graded.sum()


@mutant("ex03_2", "divided by the unshifted count of labels != -100", phrase="position 0 included")
def masked_loss__unshifted_count(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    targets = labels[:, 1:]
    graded = targets != -100
    log_probs = torch.log_softmax(logits[:, :-1], dim=-1)
    picked = log_probs.gather(-1, targets.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return -(picked * graded).sum() / (labels != -100).sum()


@mutant("ex03_2", "graded positions found after clamping (target != 0)", phrase="real token")
def masked_loss__graded_by_id(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    targets = labels[:, 1:].clamp(min=0)
    graded = targets != 0
    log_probs = torch.log_softmax(logits[:, :-1], dim=-1)
    picked = log_probs.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    return -(picked * graded).sum() / graded.sum()


@right("ex03_2", "boolean indexing, float64 and nll_loss")
def masked_loss__nll_on_graded(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    import torch.nn.functional as F
    targets = labels[:, 1:]
    graded = targets != -100
    log_probs = torch.log_softmax(logits[:, :-1].double(), dim=-1)
    return F.nll_loss(log_probs[graded], targets[graded])


@right("ex03_2", "cross_entropy over the class dimension (default ignore_index)")
def masked_loss__cross_entropy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    import torch.nn.functional as F
    return F.cross_entropy(logits[:, :-1].transpose(1, 2), labels[:, 1:])


@mutant("ex03_3", "position 0 counted as graded", phrase="only at position 0")
def nan_rows__position_0_counted(labels: torch.Tensor) -> list:
    graded = (labels != -100).sum(dim=1)
    return [i for i, n in enumerate(graded.tolist()) if n == 0]


@mutant("ex03_3", "rows with any -100 flagged", phrase="has graded labels after position 0")
def nan_rows__any_ignored_row(labels: torch.Tensor) -> list:
    return [i for i, row in enumerate(labels.tolist()) if -100 in row]


@mutant("ex03_3", "a boolean mask instead of indices", phrase="row *indices*")
def nan_rows__boolean_mask(labels: torch.Tensor) -> list:
    return ((labels[:, 1:] != -100).sum(dim=1) == 0).tolist()


@mutant("ex03_3", "rows whose last label is -100", phrase="padding")
def nan_rows__last_label_ignored(labels: torch.Tensor) -> list:
    return [i for i in range(labels.shape[0]) if labels[i, -1] == -100]


@mutant("ex03_3", "shifted by two: labels[:, 2:]", phrase="predicted by position 0")
def nan_rows__from_position_2(labels: torch.Tensor) -> list:
    return [i for i, row in enumerate(labels[:, 2:].tolist()) if all(v == -100 for v in row)]


@right("ex03_3", "torch.nonzero, as hint 3 suggests (shape (n, 1))")
def nan_rows__nonzero(labels: torch.Tensor) -> list:
    graded = (labels[:, 1:] != -100).sum(dim=1)
    return torch.nonzero(graded == 0)


@right("ex03_3", "torch.nonzero(..., as_tuple=True)")
def nan_rows__nonzero_as_tuple(labels: torch.Tensor) -> list:
    graded = (labels[:, 1:] != -100).sum(dim=1)
    return torch.nonzero(graded == 0, as_tuple=True)


@right("ex03_3", "torch.nonzero(...).squeeze() (0-d with one row)")
def nan_rows__nonzero_squeezed(labels: torch.Tensor) -> list:
    graded = (labels[:, 1:] != -100).sum(dim=1)
    return torch.nonzero(graded == 0).squeeze()


@right("ex03_3", "numpy: np.flatnonzero, numpy ints")
def nan_rows__numpy(labels: torch.Tensor) -> list:
    import numpy as np
    return list(np.flatnonzero((labels.numpy()[:, 1:] != -100).sum(axis=1) == 0))


@mutant("ex03_4", "padding masked by id (pad == eos kills the EOS)", phrase="pad == eos")
def pad_by_position__masked_by_id(examples: list, pad_token_id: int) -> dict:
    longest = max(len(e["input_ids"]) for e in examples)
    ids = [list(e["input_ids"]) + [pad_token_id] * (longest - len(e["input_ids"]))
           for e in examples]
    mask = [[1] * len(e["input_ids"]) + [0] * (longest - len(e["input_ids"]))
            for e in examples]
    labels = [list(e["labels"]) + [pad_token_id] * (longest - len(e["labels"]))
              for e in examples]
    labels = [[-100 if t == pad_token_id else t for t in row] for row in labels]
    return {"input_ids": torch.tensor(ids), "attention_mask": torch.tensor(mask),
            "labels": torch.tensor(labels)}


@mutant("ex03_4", "labels padded with the pad id", phrase="is padding, so its label must be -100")
def pad_by_position__labels_padded_with_pad_id(examples: list, pad_token_id: int) -> dict:
    longest = max(len(e["input_ids"]) for e in examples)
    out = {"input_ids": [], "attention_mask": [], "labels": []}
    for e in examples:
        gap = longest - len(e["input_ids"])
        out["input_ids"].append(list(e["input_ids"]) + [pad_token_id] * gap)
        out["attention_mask"].append(list(e["attention_mask"]) + [0] * gap)
        out["labels"].append(list(e["labels"]) + [pad_token_id] * gap)
    return {k: torch.tensor(v) for k, v in out.items()}


@mutant("ex03_4", "left padding", phrase="pad on the right")
def pad_by_position__left_padding(examples: list, pad_token_id: int) -> dict:
    longest = max(len(e["input_ids"]) for e in examples)
    out = {"input_ids": [], "attention_mask": [], "labels": []}
    for e in examples:
        gap = longest - len(e["input_ids"])
        out["input_ids"].append([pad_token_id] * gap + list(e["input_ids"]))
        out["attention_mask"].append([0] * gap + list(e["attention_mask"]))
        out["labels"].append([-100] * gap + list(e["labels"]))
    return {k: torch.tensor(v) for k, v in out.items()}


@mutant("ex03_4", "plain lists, not tensors", phrase="should be a tensor")
def pad_by_position__returns_lists(examples: list, pad_token_id: int) -> dict:
    longest = max(len(e["input_ids"]) for e in examples)
    out = {"input_ids": [], "attention_mask": [], "labels": []}
    for e in examples:
        gap = longest - len(e["input_ids"])
        out["input_ids"].append(list(e["input_ids"]) + [pad_token_id] * gap)
        out["attention_mask"].append(list(e["attention_mask"]) + [0] * gap)
        out["labels"].append(list(e["labels"]) + [-100] * gap)
    return out


@mutant("ex03_4", "labels as a float tensor (torch.full with -100.0)", phrase="torch.long")
def pad_by_position__float_labels(examples: list, pad_token_id: int) -> dict:
    longest = max(len(e["input_ids"]) for e in examples)
    ids = torch.full((len(examples), longest), pad_token_id)
    mask = torch.zeros(len(examples), longest)
    labels = torch.full((len(examples), longest), -100.0)
    for i, e in enumerate(examples):
        n = len(e["input_ids"])
        ids[i, :n] = torch.tensor(e["input_ids"])
        mask[i, :n] = 1
        labels[i, :n] = torch.tensor(e["labels"], dtype=torch.float)
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


@mutant("ex03_4", "attention_mask built by id (pad == eos hides the EOS)",
        phrase="pad == eos")
def pad_by_position__attention_mask_by_id(examples: list, pad_token_id: int) -> dict:
    longest = max(len(e["input_ids"]) for e in examples)
    ids = [list(e["input_ids"]) + [pad_token_id] * (longest - len(e["input_ids"]))
           for e in examples]
    labels = [list(e["labels"]) + [-100] * (longest - len(e["labels"])) for e in examples]
    mask = [[0 if t == pad_token_id else 1 for t in row] for row in ids]
    return {"input_ids": torch.tensor(ids), "attention_mask": torch.tensor(mask),
            "labels": torch.tensor(labels)}


@right("ex03_4", "pad_sequence per key")
def pad_by_position__pad_sequence(examples: list, pad_token_id: int) -> dict:
    from torch.nn.utils.rnn import pad_sequence
    fill = {"input_ids": pad_token_id, "attention_mask": 0, "labels": -100}
    return {k: pad_sequence([torch.tensor(e[k]) for e in examples], batch_first=True,
                            padding_value=v) for k, v in fill.items()}


@right("ex03_4", "torch.full, then the examples copied in; a float attention_mask")
def pad_by_position__filled(examples: list, pad_token_id: int) -> dict:
    longest = max(len(e["input_ids"]) for e in examples)
    ids = torch.full((len(examples), longest), pad_token_id)
    mask = torch.zeros(len(examples), longest)
    labels = torch.full((len(examples), longest), -100)
    for i, e in enumerate(examples):
        n = len(e["input_ids"])
        ids[i, :n] = torch.tensor(e["input_ids"])
        mask[i, :n] = 1
        labels[i, :n] = torch.tensor(e["labels"])
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


@mutant("ex03_5", "position 0 counted", phrase="counted position 0")
def graded_counts__position_0_counted(labels: torch.Tensor, prompt_lengths: list) -> dict:
    positions = torch.arange(labels.shape[1]).unsqueeze(0)
    graded = labels != -100
    in_prompt = positions < torch.tensor(prompt_lengths).unsqueeze(1)
    return {"prompt": int((graded & in_prompt).sum()),
            "response": int((graded & ~in_prompt).sum())}


@mutant("ex03_5", "padding counted as graded", phrase="graded predictions in all")
def graded_counts__padding_counted(labels: torch.Tensor, prompt_lengths: list) -> dict:
    n = labels.shape[1] - 1
    prompt = sum(length - 1 for length in prompt_lengths)
    return {"prompt": prompt, "response": n * len(prompt_lengths) - prompt}


# Round 2 of the audit: a label 0 taken for a mask, and int32 input_ids.
@mutant("ex03_3", "graded labels found with > 0 (a label 0 taken for a mask)",
        phrase="0 is a real token id")
def nan_rows__positive_labels(labels: torch.Tensor) -> list:
    return [i for i, n in enumerate((labels[:, 1:] > 0).sum(1).tolist()) if n == 0]


@mutant("ex03_5", "graded labels found after clamping (a label 0 taken for a mask)",
        phrase="0 is a real token id")
def graded_counts__clamped(labels: torch.Tensor, prompt_lengths: list) -> dict:
    graded = labels.clamp(min=0).bool()
    graded[:, 0] = False
    counts = {"prompt": 0, "response": 0}
    for row, n in enumerate(prompt_lengths):
        counts["prompt"] += int(graded[row, :n].sum())
        counts["response"] += int(graded[row, n:].sum())
    return counts


@mutant("ex03_4", "input_ids as torch.int32", phrase="torch.long tensor, not torch.int32")
def pad_by_position__int32_ids(examples: list, pad_token_id: int) -> dict:
    longest = max(len(e["input_ids"]) for e in examples)
    ids = torch.full((len(examples), longest), pad_token_id, dtype=torch.int32)
    mask = torch.zeros(len(examples), longest, dtype=torch.long)
    labels = torch.full((len(examples), longest), -100)
    for i, e in enumerate(examples):
        n = len(e["input_ids"])
        ids[i, :n] = torch.tensor(e["input_ids"], dtype=torch.int32)
        mask[i, :n] = 1
        labels[i, :n] = torch.tensor(e["labels"])
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


@right("ex03_5", "two plain loops over rows and positions")
def graded_counts__loops(labels: torch.Tensor, prompt_lengths: list) -> dict:
    counts = {"prompt": 0, "response": 0}
    for row, n in zip(labels.tolist(), prompt_lengths, strict=True):
        for t in range(1, len(row)):
            if row[t] != -100:
                counts["prompt" if t < n else "response"] += 1
    return counts


@mutant("ex03_6", "loss masking's labels: hidden positions -100, the rest graded",
        phrase="the other way round")
def mlm_row__loss_masking(input_ids: list[int], hidden: list[int], mask_id: int) -> dict:
    masked = [mask_id if p in hidden else t for p, t in enumerate(input_ids)]
    return {"input_ids": masked,
            "labels": [-100 if p in hidden else t for p, t in enumerate(input_ids)]}


@mutant("ex03_6", "input left as it is (only the labels)", phrase="still shows the hidden tokens")
def mlm_row__input_kept(input_ids: list[int], hidden: list[int], mask_id: int) -> dict:
    return {"input_ids": list(input_ids),
            "labels": [t if p in hidden else -100 for p, t in enumerate(input_ids)]}


@mutant("ex03_6", "the mask id as the label", phrase="not the mask id")
def mlm_row__mask_as_label(input_ids: list[int], hidden: list[int], mask_id: int) -> dict:
    masked = [mask_id if p in hidden else t for p, t in enumerate(input_ids)]
    return {"input_ids": masked, "labels": [mask_id if p in hidden else -100
                                            for p in range(len(input_ids))]}


@mutant("ex03_6", "every position graded", phrase="only the hidden positions are graded")
def mlm_row__all_graded(input_ids: list[int], hidden: list[int], mask_id: int) -> dict:
    masked = [mask_id if p in hidden else t for p, t in enumerate(input_ids)]
    return {"input_ids": masked, "labels": list(input_ids)}


@mutant("ex03_6", "labels shifted: graded against the next token", phrase="no shift")
def mlm_row__shifted(input_ids: list[int], hidden: list[int], mask_id: int) -> dict:
    masked = [mask_id if p in hidden else t for p, t in enumerate(input_ids)]
    labels = [-100] * len(input_ids)
    for p in hidden:
        if p + 1 < len(input_ids):
            labels[p] = input_ids[p + 1]
    return {"input_ids": masked, "labels": labels}


@mutant("ex03_6", "the caller's input_ids changed in place", phrase="changed the input_ids")
def mlm_row__in_place(input_ids: list[int], hidden: list[int], mask_id: int) -> dict:
    labels = [-100] * len(input_ids)
    for p in hidden:
        labels[p] = input_ids[p]
        input_ids[p] = mask_id
    return {"input_ids": input_ids, "labels": labels}


@mutant("ex03_6", "every copy of a hidden token's id masked", phrase="only where its position")
def mlm_row__by_id(input_ids: list[int], hidden: list[int], mask_id: int) -> dict:
    ids = {input_ids[p] for p in hidden}
    return {"input_ids": [mask_id if t in ids else t for t in input_ids],
            "labels": [t if t in ids else -100 for t in input_ids]}


@right("ex03_6", "torch tensors, filled by index")
def mlm_row__tensors(input_ids: list[int], hidden: list[int], mask_id: int) -> dict:
    ids = torch.tensor(input_ids)
    where = torch.zeros(len(input_ids), dtype=torch.bool)
    where[list(hidden)] = True
    return {"input_ids": ids.masked_fill(where, mask_id),
            "labels": ids.masked_fill(~where, -100)}


@right("ex03_6", "one comprehension per list, a set of positions")
def mlm_row__comprehension(input_ids: list[int], hidden: list[int], mask_id: int) -> dict:
    chosen = set(hidden)
    return {"input_ids": [mask_id if i in chosen else t for i, t in enumerate(input_ids)],
            "labels": [t if i in chosen else -100 for i, t in enumerate(input_ids)]}


@mutant("ex03_1", "response tokenized with its special tokens (a BOS in the middle)",
        phrase="the response's ids start with the BOS token")
def build_labels__response_with_bos(prompt: str, response: str, tokenizer) -> dict:
    prompt_ids = tokenizer(prompt)["input_ids"]
    answer = tokenizer(response)["input_ids"] + [tokenizer.eos_token_id]
    return {"input_ids": prompt_ids + answer, "labels": [-100] * len(prompt_ids) + answer}


@mutant("ex03_4", "the caller's lists padded in place", phrase="changed the examples it was given")
def pad_by_position__in_place(examples: list, pad_token_id: int) -> dict:
    longest = max(len(e["input_ids"]) for e in examples)
    for e in examples:
        gap = longest - len(e["input_ids"])
        e["input_ids"] += [pad_token_id] * gap
        e["attention_mask"] += [0] * gap
        e["labels"] += [-100] * gap
    return {k: torch.tensor([e[k] for e in examples])
            for k in ("input_ids", "attention_mask", "labels")}


@mutant("ex03_1", "labels = input_ids, then -100 written into the one list",
        phrase="labels and input_ids are one list")
def build_labels__aliased(prompt: str, response: str, tokenizer) -> dict:
    prompt_ids = tokenizer(prompt)["input_ids"]
    answer_ids = tokenizer(response, add_special_tokens=False)["input_ids"]
    input_ids = prompt_ids + answer_ids + [tokenizer.eos_token_id]
    labels = input_ids
    for i in range(len(prompt_ids)):
        labels[i] = -100
    return {"input_ids": input_ids, "labels": labels}


@mutant("ex03_3", "a row's index once per position checked", phrase="return each row index once")
def nan_rows__duplicates(labels: torch.Tensor) -> list:
    rows = []
    for i in range(labels.shape[0]):
        for _ in range(1, labels.shape[1]):
            if (labels[i, 1:] == -100).all():
                rows.append(i)
    return rows


@mutant("ex03_4", "padded to the second example's length (the notebook's longest)",
        phrase="pad every example of this batch")
def pad_by_position__second_example_length(examples: list, pad_token_id: int) -> dict:
    longest = len(examples[1]["input_ids"])
    batch = {"input_ids": [], "attention_mask": [], "labels": []}
    for e in examples:
        gap = longest - len(e["input_ids"])
        batch["input_ids"].append(list(e["input_ids"]) + [pad_token_id] * gap)
        batch["attention_mask"].append(list(e["attention_mask"]) + [0] * gap)
        batch["labels"].append(list(e["labels"]) + [-100] * gap)
    return {k: torch.tensor(v) for k, v in batch.items()}


@mutant("ex03_6", "positions counted from 1", phrase="positions count from 0")
def mlm_row__counted_from_1(input_ids: list[int], hidden: list[int], mask_id: int) -> dict:
    masked = list(input_ids)
    labels = [-100] * len(input_ids)
    for p in hidden:
        labels[p - 1] = input_ids[p - 1]
        masked[p - 1] = mask_id
    return {"input_ids": masked, "labels": labels}


@mutant("ex03_6", "labels = masked: one list for both", phrase="input_ids and labels are one list")
def mlm_row__aliased(input_ids: list[int], hidden: list[int], mask_id: int) -> dict:
    masked = list(input_ids)
    labels = masked
    for p in range(len(labels)):
        if p not in hidden:
            labels[p] = -100
    for p in hidden:
        masked[p] = mask_id
    return {"input_ids": masked, "labels": labels}


@mutant("ex03_2", "the first row only (logits[0], labels[0])", phrase="first row only")
def masked_loss__first_row_only(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    log_probs = torch.log_softmax(logits[0, :-1], dim=-1)
    targets = labels[0, 1:]
    graded = targets != -100
    picked = log_probs.gather(-1, targets.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return -(picked * graded).sum() / graded.sum()


@mutant("ex03_2", "softmax, not log_softmax: minus the mean probability", phrase="never negative")
def masked_loss__probabilities(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    probs = torch.softmax(logits[:, :-1], dim=-1)
    targets = labels[:, 1:]
    graded = targets != -100
    picked = probs.gather(-1, targets.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return -(picked * graded).sum() / graded.sum()


@mutant("ex03_1", "BOS put in front by hand (SmolLM2's tokenizer adds none)",
        phrase="that tokenizer(prompt) does not put there")
def build_labels__bos_by_hand(prompt: str, response: str, tokenizer) -> dict:
    prompt_ids = [tokenizer.bos_token_id] + tokenizer(prompt, add_special_tokens=False)["input_ids"]
    answer_ids = tokenizer(response, add_special_tokens=False)["input_ids"]
    answer_ids.append(tokenizer.eos_token_id)
    return {"input_ids": prompt_ids + answer_ids, "labels": [-100] * len(prompt_ids) + answer_ids}


@mutant("ex03_1", "the tiny model's EOS text '</s>' appended to the response",
        phrase="never type it or its text ('</s>') in")
def build_labels__eos_text(prompt: str, response: str, tokenizer) -> dict:
    prompt_ids = tokenizer(prompt)["input_ids"]
    answer_ids = tokenizer(response + "</s>", add_special_tokens=False)["input_ids"]
    return {"input_ids": prompt_ids + answer_ids, "labels": [-100] * len(prompt_ids) + answer_ids}


@mutant("ex03_4", "the notebook's tokenizer.eos_token_id as the pad id, pad_token_id ignored",
        phrase="pad with the pad_token_id you are given")
def pad_by_position__notebook_eos(examples: list, pad_token_id: int) -> dict:
    longest = max(len(e["input_ids"]) for e in examples)
    batch = {"input_ids": [], "attention_mask": [], "labels": []}
    for e in examples:
        gap = longest - len(e["input_ids"])
        batch["input_ids"].append(list(e["input_ids"]) + [tokenizer.eos_token_id] * gap)
        batch["attention_mask"].append(list(e["attention_mask"]) + [0] * gap)
        batch["labels"].append(list(e["labels"]) + [-100] * gap)
    return {k: torch.tensor(v) for k, v in batch.items()}


@mutant("ex03_3", "position 0 set to -100 in the caller's labels first",
        phrase="nan_rows changed the labels it was given")
def nan_rows__position_0_overwritten(labels: torch.Tensor) -> list:
    labels[:, 0] = -100  # position 0 is never predicted... but these are the caller's labels
    return [i for i, row in enumerate(labels.tolist()) if all(x == -100 for x in row)]


@right("ex03_3", "the largest shifted label of each row is -100")
def nan_rows__row_max(labels: torch.Tensor) -> list:
    return (labels[:, 1:].max(dim=1).values == -100).nonzero().flatten().tolist()


@mutant("ex03_5", "position 0 set to -100 in the caller's labels first",
        phrase="graded_counts changed the labels it was given")
def graded_counts__position_0_overwritten(labels: torch.Tensor, prompt_lengths: list) -> dict:
    labels[:, 0] = -100
    prompt = response = 0
    for r, row in enumerate(labels.tolist()):
        for t, x in enumerate(row):
            if x != -100:
                prompt += t < prompt_lengths[r]
                response += t >= prompt_lengths[r]
    return {"prompt": prompt, "response": response}


@mutant("ex03_5", "the counts a verdict showed, typed in", phrase="count from the labels and")
def graded_counts__typed_in(labels: torch.Tensor, prompt_lengths: list) -> dict:
    return {"prompt": 8, "response": 10}


@mutant("ex03_1", "the response's BOS dropped with [1:] (SmolLM2's tokenizer puts none there)",
        phrase="so there is none to drop with [1:]")
def build_labels__first_response_id_dropped(prompt: str, response: str, tokenizer) -> dict:
    prompt_ids = tokenizer(prompt)["input_ids"]
    answer_ids = tokenizer(response)["input_ids"][1:] + [tokenizer.eos_token_id]
    return {"input_ids": prompt_ids + answer_ids, "labels": [-100] * len(prompt_ids) + answer_ids}
