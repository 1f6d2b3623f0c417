"""Wrong answers to the exercises of 05_sft_with_trl.ipynb (SFTConfig, TRL's collator),
and right answers written another way."""

# ruff: noqa: B905  (learners write zip() without strict=, so do the mutants)

from __future__ import annotations

import torch
from trl import SFTConfig

from course_lib.masking.trl_labels import checkpointing_off

from . import mutant, right


@mutant("ex05_1", "bf16 left to TRL's default", phrase="bf16")
def tiny_cpu_config__bf16_default(output_dir: str, max_steps: int) -> SFTConfig:
    return SFTConfig(output_dir=output_dir, max_steps=max_steps, completion_only_loss=True,
                     use_cpu=True, **checkpointing_off(), learning_rate=1e-3,
                     report_to="none")


@mutant("ex05_1", "gradient checkpointing left on", phrase="gradient checkpointing is on")
def tiny_cpu_config__checkpointing_on(output_dir: str, max_steps: int) -> SFTConfig:
    return SFTConfig(output_dir=output_dir, max_steps=max_steps, completion_only_loss=True,
                     use_cpu=True, bf16=False, learning_rate=1e-3, report_to="none")


@mutant("ex05_1", "TRL's default learning rate", phrase="barely moves")
def tiny_cpu_config__default_learning_rate(output_dir: str, max_steps: int) -> SFTConfig:
    return SFTConfig(output_dir=output_dir, max_steps=max_steps, completion_only_loss=True,
                     use_cpu=True, bf16=False, **checkpointing_off(), report_to="none")


@mutant("ex05_1", "trains on the prompt too", phrase="completion_only_loss is False")
def tiny_cpu_config__trains_on_prompt(output_dir: str, max_steps: int) -> SFTConfig:
    return SFTConfig(output_dir=output_dir, max_steps=max_steps, completion_only_loss=False,
                     use_cpu=True, bf16=False, **checkpointing_off(), learning_rate=1e-3,
                     report_to="none")


@mutant("ex05_1", "max_steps hard-coded to the notebook's 30", phrase="pass max_steps=max_steps")
def tiny_cpu_config__max_steps_hard_coded(output_dir: str, max_steps: int) -> SFTConfig:
    return SFTConfig(output_dir=output_dir, max_steps=30, completion_only_loss=True,
                     use_cpu=True, bf16=False, **checkpointing_off(), learning_rate=1e-3,
                     report_to="none")


@mutant("ex05_1", "report_to='all' (every tracker installed)",
        phrase="report_to='all' reports to every installed tracker")
def tiny_cpu_config__reports_to_all(output_dir: str, max_steps: int) -> SFTConfig:
    return SFTConfig(output_dir=output_dir, max_steps=max_steps, completion_only_loss=True,
                     use_cpu=True, bf16=False, **checkpointing_off(), learning_rate=1e-3,
                     report_to="all")


@mutant("ex05_1", "report_to='tensorboard' (a tracker named)",
        phrase="report_to='tensorboard' sends the run to tensorboard, an experiment tracker")
def tiny_cpu_config__reports_to_tensorboard(output_dir: str, max_steps: int) -> SFTConfig:
    return SFTConfig(output_dir=output_dir, max_steps=max_steps, completion_only_loss=True,
                     use_cpu=True, bf16=False, **checkpointing_off(), learning_rate=1e-3,
                     report_to="tensorboard")


@mutant("ex05_1", "report_to=['wandb'] (a tracker named in a list)",
        phrase="report_to=['wandb'] sends the run to wandb, an experiment tracker")
def tiny_cpu_config__reports_to_wandb(output_dir: str, max_steps: int) -> SFTConfig:
    return SFTConfig(output_dir=output_dir, max_steps=max_steps, completion_only_loss=True,
                     use_cpu=True, bf16=False, **checkpointing_off(), learning_rate=1e-3,
                     report_to=["wandb"])


@mutant("ex05_1", "report_to='None' (a string, capitalised)",
        phrase="report_to='None': 'None' is no tracker transformers knows")
def tiny_cpu_config__reports_to_none_capitalised(output_dir: str, max_steps: int) -> SFTConfig:
    return SFTConfig(output_dir=output_dir, max_steps=max_steps, completion_only_loss=True,
                     use_cpu=True, bf16=False, **checkpointing_off(), learning_rate=1e-3,
                     report_to="None")


@right("ex05_1", "keywords in a dict, report_to=[], activation_checkpointing=False")
def tiny_cpu_config__keyword_dict(output_dir: str, max_steps: int) -> SFTConfig:
    settings = dict(output_dir=output_dir, max_steps=max_steps, completion_only_loss=True,
                    use_cpu=True, bf16=False, learning_rate=0.001, report_to=[],
                    activation_checkpointing=False)
    return SFTConfig(**settings)


@mutant("ex05_2", "template tokens trained", phrase="and including* the template")
def completion_only_collate__template_trained(
    rows: list[list[int]], response_ids: list[int], pad_id: int
) -> dict:
    longest = max(len(r) for r in rows)
    out = {"input_ids": [], "attention_mask": [], "labels": []}
    for row in rows:
        gap = longest - len(row)
        labels = [-100] * len(row)
        for s in range(len(row) - len(response_ids) + 1):
            if row[s:s + len(response_ids)] == response_ids:
                labels[s:] = row[s:]
                break
        out["input_ids"].append(row + [pad_id] * gap)
        out["attention_mask"].append([1] * len(row) + [0] * gap)
        out["labels"].append(labels + [-100] * gap)
    return out


@mutant("ex05_2", "padding masked by id", phrase="masked by id")
def completion_only_collate__masked_by_id(
    rows: list[list[int]], response_ids: list[int], pad_id: int
) -> dict:
    longest = max(len(r) for r in rows)
    ids = torch.tensor([r + [pad_id] * (longest - len(r)) for r in rows])
    mask = torch.tensor([[1] * len(r) + [0] * (longest - len(r)) for r in rows])
    labels = ids.clone()
    labels[labels == pad_id] = -100
    n = len(response_ids)
    for i, row in enumerate(rows):
        starts = [s for s in range(len(row) - n + 1) if row[s:s + n] == response_ids]
        labels[i, : starts[0] + n if starts else longest] = -100
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


@mutant("ex05_2", "row without template left trained", phrase="no response template")
def completion_only_collate__row_without_template_trained(
    rows: list[list[int]], response_ids: list[int], pad_id: int
) -> dict:
    longest = max(len(r) for r in rows)
    out = {"input_ids": [], "attention_mask": [], "labels": []}
    for row in rows:
        gap = longest - len(row)
        labels = list(row)
        for s in range(len(row) - len(response_ids) + 1):
            if row[s:s + len(response_ids)] == response_ids:
                labels[:s + len(response_ids)] = [-100] * (s + len(response_ids))
                break
        out["input_ids"].append(row + [pad_id] * gap)
        out["attention_mask"].append([1] * len(row) + [0] * gap)
        out["labels"].append(labels + [-100] * gap)
    return out


@mutant("ex05_2", "template found by its last id only", phrase="a lone 8")
def completion_only_collate__last_id_only(
    rows: list[list[int]], response_ids: list[int], pad_id: int
) -> dict:
    longest = max(len(r) for r in rows)
    out = {"input_ids": [], "attention_mask": [], "labels": []}
    for row in rows:
        gap = longest - len(row)
        labels = list(row) + [-100] * gap
        if response_ids[-1] in row:
            end = row.index(response_ids[-1]) + 1
            labels[:end] = [-100] * end
        else:
            labels = [-100] * longest
        out["input_ids"].append(row + [pad_id] * gap)
        out["attention_mask"].append([1] * len(row) + [0] * gap)
        out["labels"].append(labels)
    return out


@mutant("ex05_2", "attention mask by id (0 on the EOS too)", phrase="pad id 2 is also the EOS")
def completion_only_collate__mask_by_id(
    rows: list[list[int]], response_ids: list[int], pad_id: int
) -> dict:
    longest, n = max(len(r) for r in rows), len(response_ids)
    ids = [r + [pad_id] * (longest - len(r)) for r in rows]
    mask = [[0 if t == pad_id else 1 for t in row] for row in ids]
    labels = []
    for row in rows:
        padded = list(row) + [-100] * (longest - len(row))
        s = next((i for i in range(len(row) - n + 1) if row[i:i + n] == response_ids), None)
        labels.append([-100] * longest if s is None else [-100] * (s + n) + padded[s + n:])
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


@right("ex05_2", "tensors filled in place, a while loop to find the template")
def completion_only_collate__tensors_in_place(
    rows: list[list[int]], response_ids: list[int], pad_id: int
) -> dict:
    longest, n = max(map(len, rows)), len(response_ids)
    ids = torch.full((len(rows), longest), pad_id)
    mask = torch.zeros(len(rows), longest, dtype=torch.long)
    labels = torch.full((len(rows), longest), -100)
    template = torch.tensor(response_ids)
    for b, row in enumerate(rows):
        t = torch.tensor(row)
        ids[b, :len(row)] = t
        mask[b, :len(row)] = 1
        i = 0
        while i + n <= len(row) and not torch.equal(t[i:i + n], template):
            i += 1
        if i + n <= len(row):
            labels[b, i + n:len(row)] = t[i + n:]
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


@mutant("ex05_3", "template tokenized alone", phrase="tokenized alone")
def response_template_ids__tokenized_alone(tokenizer) -> list[int]:
    return tokenizer.encode("### Response:", add_special_tokens=False)


@mutant("ex05_3", "trailing space included", phrase="no more, no less")
def response_template_ids__trailing_space(tokenizer) -> list[int]:
    context = "### Instruction: What is 2+2? ### Response: 4"
    start = context.index("### Response: ")
    end = start + len("### Response: ")
    enc = tokenizer(context, add_special_tokens=False, return_offsets_mapping=True)
    return [t for t, (s, e) in zip(enc["input_ids"], enc["offset_mapping"])
            if s < end and e > start]


@mutant("ex05_3", "template with a trailing space (a lone space token)",
        phrase="end with a token that is only a space")
def response_template_ids__lone_trailing_space(tokenizer) -> list[int]:
    return tokenizer.encode(" ### Response: ", add_special_tokens=False)


@mutant("ex05_3", "two spaces in front (a lone space token first)",
        phrase="start with a token that is only a space")
def response_template_ids__lone_leading_space(tokenizer) -> list[int]:
    return tokenizer.encode("  ### Response:", add_special_tokens=False)


@right("ex05_3", "a tuple of ids from tokenize(' ### Response:')")
def response_template_ids__tuple(tokenizer) -> list[int]:
    return tuple(tokenizer.convert_tokens_to_ids(tokenizer.tokenize(" ### Response:")))


@right("ex05_3", "offsets of a text formatted by format_text, numpy ints")
def response_template_ids__numpy_ints(tokenizer) -> list[int]:
    import numpy as np

    from course_lib.formatting.templates import format_text

    text = format_text({"instruction": "What is 2+2?", "response": "4"})
    start = text.index("### Response:")
    end = start + len("### Response:")
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    return list(np.array([i for i, (a, b) in zip(enc["input_ids"], enc["offset_mapping"])
                          if a < end and b > start]))


@mutant("ex05_1", "learning rate 1e-4: ten times too small for a tiny model",
        phrase="learning_rate is 0.0001")
def tiny_cpu_config__learning_rate_1e4(output_dir: str, max_steps: int) -> SFTConfig:
    return SFTConfig(output_dir=output_dir, max_steps=max_steps, completion_only_loss=True,
                     use_cpu=True, bf16=False, **checkpointing_off(), learning_rate=1e-4,
                     report_to="none")


@mutant("ex05_1", "report_to=None (a list [None] in transformers 5)", phrase="report_to=None")
def tiny_cpu_config__report_to_none_object(output_dir: str, max_steps: int) -> SFTConfig:
    return SFTConfig(output_dir=output_dir, max_steps=max_steps, completion_only_loss=True,
                     use_cpu=True, bf16=False, **checkpointing_off(), learning_rate=1e-3,
                     report_to=None)


@mutant("ex05_1", "learning_rate=0.1: far too large", phrase="make the loss jump about")
def tiny_cpu_config__learning_rate_too_large(output_dir: str, max_steps: int) -> SFTConfig:
    return SFTConfig(output_dir=output_dir, max_steps=max_steps, completion_only_loss=True,
                     use_cpu=True, bf16=False, **checkpointing_off(), learning_rate=0.1,
                     report_to="none")


@mutant("ex05_1", "learning_rate as the string '1e-3'", phrase="not a string")
def tiny_cpu_config__learning_rate_string(output_dir: str, max_steps: int) -> SFTConfig:
    return SFTConfig(output_dir=output_dir, max_steps=max_steps, completion_only_loss=True,
                     use_cpu=True, bf16=False, **checkpointing_off(), learning_rate="1e-3",
                     report_to="none")


@mutant("ex05_2", "the notebook's template [7, 8] typed in, response_ids ignored",
        phrase="search for response_ids, the argument given")
def completion_only_collate__template_typed_in(
    rows: list[list[int]], response_ids: list[int], pad_id: int
) -> dict:
    longest = max(len(r) for r in rows)
    out = {"input_ids": [], "attention_mask": [], "labels": []}
    for row in rows:
        gap = longest - len(row)
        labels = [-100] * len(row)
        for s in range(len(row) - 1):
            if row[s:s + 2] == [7, 8]:
                labels[s + 2:] = row[s + 2:]
                break
        out["input_ids"].append(row + [pad_id] * gap)
        out["attention_mask"].append([1] * len(row) + [0] * gap)
        out["labels"].append(labels + [-100] * gap)
    return out


@mutant("ex05_2", "the notebook's pad id 2 typed in, pad_id ignored",
        phrase="should pad with pad_id, the argument given")
def completion_only_collate__pad_typed_in(
    rows: list[list[int]], response_ids: list[int], pad_id: int
) -> dict:
    longest, n = max(len(r) for r in rows), len(response_ids)
    out = {"input_ids": [], "attention_mask": [], "labels": []}
    for row in rows:
        gap = longest - len(row)
        s = next((i for i in range(len(row) - n + 1) if row[i:i + n] == response_ids), None)
        labels = [-100] * len(row) if s is None else [-100] * (s + n) + row[s + n:]
        out["input_ids"].append(row + [2] * gap)
        out["attention_mask"].append([1] * len(row) + [0] * gap)
        out["labels"].append(labels + [-100] * gap)
    return out


@mutant("ex05_2", "rows padded in place", phrase="changed the rows it was given")
def completion_only_collate__rows_padded_in_place(
    rows: list[list[int]], response_ids: list[int], pad_id: int
) -> dict:
    longest, n = max(len(r) for r in rows), len(response_ids)
    out = {"input_ids": [], "attention_mask": [], "labels": []}
    for row in rows:
        length = len(row)
        s = next((i for i in range(length - n + 1) if row[i:i + n] == response_ids), None)
        labels = [-100] * longest
        if s is not None:
            labels[s + n:length] = row[s + n:]
        row.extend([pad_id] * (longest - length))
        out["input_ids"].append(row)
        out["attention_mask"].append([1] * length + [0] * (longest - length))
        out["labels"].append(labels)
    return out


@mutant("ex05_2", "padding labelled with pad_id, not -100", phrase="labels of the padding")
def completion_only_collate__padding_labelled(
    rows: list[list[int]], response_ids: list[int], pad_id: int
) -> dict:
    longest, n = max(len(r) for r in rows), len(response_ids)
    ids = [r + [pad_id] * (longest - len(r)) for r in rows]
    mask = [[1] * len(r) + [0] * (longest - len(r)) for r in rows]
    labels = []
    for row in ids:
        s = next((i for i in range(len(row) - n + 1) if row[i:i + n] == response_ids), None)
        labels.append([-100] * longest if s is None else [-100] * (s + n) + row[s + n:])
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


@mutant("ex05_2", "the EOS masked on purpose", phrase="but it must be trained")
def completion_only_collate__eos_masked(
    rows: list[list[int]], response_ids: list[int], pad_id: int
) -> dict:
    longest, n = max(len(r) for r in rows), len(response_ids)
    out = {"input_ids": [], "attention_mask": [], "labels": []}
    for row in rows:
        gap = longest - len(row)
        s = next((i for i in range(len(row) - n + 1) if row[i:i + n] == response_ids), None)
        labels = [-100] * len(row) if s is None else [-100] * (s + n) + row[s + n:-1] + [-100]
        out["input_ids"].append(row + [pad_id] * gap)
        out["attention_mask"].append([1] * len(row) + [0] * gap)
        out["labels"].append(labels + [-100] * gap)
    return out


@mutant("ex05_2", "off by one: the template's last id trained", phrase="template's last id (8")
def completion_only_collate__last_template_id_trained(
    rows: list[list[int]], response_ids: list[int], pad_id: int
) -> dict:
    longest, n = max(len(r) for r in rows), len(response_ids)
    out = {"input_ids": [], "attention_mask": [], "labels": []}
    for row in rows:
        gap = longest - len(row)
        s = next((i for i in range(len(row) - n + 1) if row[i:i + n] == response_ids), None)
        labels = [-100] * len(row) if s is None else [-100] * (s + n - 1) + row[s + n - 1:]
        out["input_ids"].append(row + [pad_id] * gap)
        out["attention_mask"].append([1] * len(row) + [0] * gap)
        out["labels"].append(labels + [-100] * gap)
    return out


@mutant("ex05_2", "off by one: the answer's first token masked", phrase="answer's first token")
def completion_only_collate__first_answer_token_masked(
    rows: list[list[int]], response_ids: list[int], pad_id: int
) -> dict:
    longest, n = max(len(r) for r in rows), len(response_ids)
    out = {"input_ids": [], "attention_mask": [], "labels": []}
    for row in rows:
        gap = longest - len(row)
        s = next((i for i in range(len(row) - n + 1) if row[i:i + n] == response_ids), None)
        labels = [-100] * len(row) if s is None else [-100] * (s + n + 1) + row[s + n + 1:]
        out["input_ids"].append(row + [pad_id] * gap)
        out["attention_mask"].append([1] * len(row) + [0] * gap)
        out["labels"].append(labels + [-100] * gap)
    return out


@mutant("ex05_2", "template searched for in the row's digits, as text", phrase="not for its digits")
def completion_only_collate__searched_as_text(
    rows: list[list[int]], response_ids: list[int], pad_id: int
) -> dict:
    longest = max(len(r) for r in rows)
    template = ",".join(map(str, response_ids))
    out = {"input_ids": [], "attention_mask": [], "labels": []}
    for row in rows:
        gap = longest - len(row)
        text = ",".join(map(str, row))
        labels = [-100] * len(row)
        if template in text:
            end = text[:text.index(template)].count(",") + len(response_ids)
            labels[end:] = row[end:]
        out["input_ids"].append(row + [pad_id] * gap)
        out["attention_mask"].append([1] * len(row) + [0] * gap)
        out["labels"].append(labels + [-100] * gap)
    return out


@right("ex05_2", "NumPy arrays filled by slices")
def completion_only_collate__numpy(
    rows: list[list[int]], response_ids: list[int], pad_id: int
) -> dict:
    import numpy as np

    longest, n = max(map(len, rows)), len(response_ids)
    ids = np.full((len(rows), longest), pad_id)
    mask = np.zeros_like(ids)
    labels = np.full_like(ids, -100)
    for b, row in enumerate(rows):
        ids[b, :len(row)] = row
        mask[b, :len(row)] = 1
        hits = [s for s in range(len(row) - n + 1) if row[s:s + n] == list(response_ids)]
        if hits:
            labels[b, hits[0] + n:len(row)] = row[hits[0] + n:]
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


@mutant("ex05_2", "torch.Tensor(...): the ids and labels become floats",
        phrase="torch.Tensor(...) makes floats")
def completion_only_collate__float_tensors(
    rows: list[list[int]], response_ids: list[int], pad_id: int
) -> dict:
    longest, n = max(len(r) for r in rows), len(response_ids)
    batch = {"input_ids": [], "attention_mask": [], "labels": []}
    for row in rows:
        gap = longest - len(row)
        s = next((i for i in range(len(row) - n + 1) if row[i:i + n] == response_ids), None)
        labels = [-100] * len(row) if s is None else [-100] * (s + n) + row[s + n:]
        batch["input_ids"].append(row + [pad_id] * gap)
        batch["attention_mask"].append([1] * len(row) + [0] * gap)
        batch["labels"].append(labels + [-100] * gap)
    return {k: torch.Tensor(v) for k, v in batch.items()}


@mutant("ex05_3", "the ids the notebook's tokenizer printed, typed in",
        phrase="take them from the tokenizer given")
def response_template_ids__typed_in(tokenizer) -> list[int]:
    return [291, 286, 29]


@mutant("ex05_4", "the mask's 0s and 1s as the labels", phrase="the mask's 0s and 1s")
def assistant_labels__the_mask(messages: list[dict], tokenizer) -> list[int]:
    out = tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True,
                                        return_assistant_tokens_mask=True)
    if not any(out["assistant_masks"]):
        raise ValueError("no {% generation %} markers")
    return list(out["assistant_masks"])


@mutant("ex05_4", "no error for a template without markers: every label -100, silently",
        phrase="every label -100 trains nothing")
def assistant_labels__no_refusal(messages: list[dict], tokenizer) -> list[int]:
    out = tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True,
                                        return_assistant_tokens_mask=True)
    return [t if m else -100 for t, m in zip(out["input_ids"], out["assistant_masks"])]


@mutant("ex05_4", "only the last assistant turn trained", phrase="in every assistant turn")
def assistant_labels__last_turn_only(messages: list[dict], tokenizer) -> list[int]:
    out = tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True,
                                        return_assistant_tokens_mask=True)
    ids, mask = out["input_ids"], out["assistant_masks"]
    if not any(mask):
        raise ValueError("the chat template has no {% generation %} markers")
    start = len(mask)
    while start > 0 and mask[start - 1]:  # back from the end, over the last answer only
        start -= 1
    return [-100] * start + ids[start:]


@mutant("ex05_4", "an assert instead of a ValueError", phrase="raise a ValueError, not")
def assistant_labels__assert(messages: list[dict], tokenizer) -> list[int]:
    out = tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True,
                                        return_assistant_tokens_mask=True)
    assert any(out["assistant_masks"]), "the chat template has no {% generation %} markers"
    return [t if m else -100 for t, m in zip(out["input_ids"], out["assistant_masks"])]


@mutant("ex05_4", "refuses any mask with a 0 (all(mask)), the course's template too",
        phrase="raise only when the mask has no 1 at all")
def assistant_labels__refuses_any_zero(messages: list[dict], tokenizer) -> list[int]:
    out = tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True,
                                        return_assistant_tokens_mask=True)
    if not all(out["assistant_masks"]):
        raise ValueError("the chat template has no {% generation %} markers")
    return list(out["input_ids"])


@mutant("ex05_4", "the last two tokens (the toy's one-token answer and its EOS)",
        phrase="but you gave them -100")
def assistant_labels__last_two_tokens(messages: list[dict], tokenizer) -> list[int]:
    out = tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True,
                                        return_assistant_tokens_mask=True)
    if not any(out["assistant_masks"]):
        raise ValueError("the chat template has no {% generation %} markers")
    ids = list(out["input_ids"])
    return [-100] * (len(ids) - 2) + ids[-2:]


@mutant("ex05_4", "markers looked for in the template's text: '{%- generation %}' refused",
        phrase="or one that writes them '{%- generation %}'")
def assistant_labels__template_text(messages: list[dict], tokenizer) -> list[int]:
    if "{% generation %}" not in tokenizer.chat_template:
        raise ValueError("add {% generation %} markers to the chat template")
    out = tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True,
                                        return_assistant_tokens_mask=True, return_tensors="pt")
    ids, mask = out["input_ids"][0], out["assistant_masks"][0]
    return ids.masked_fill(mask == 0, -100)


@right("ex05_4", "tensors: masked_fill where the mask is 0, the mask itself checked")
def assistant_labels__masked_fill(messages: list[dict], tokenizer) -> list[int]:
    out = tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True,
                                        return_assistant_tokens_mask=True, return_tensors="pt")
    ids, mask = out["input_ids"][0], out["assistant_masks"][0]
    if not mask.any():
        raise ValueError("no token is the assistant's: add {% generation %} markers")
    return ids.masked_fill(mask == 0, -100)


@mutant("ex05_2", "a template of 2 ids assumed (the notebook's): its first 2 ids compared",
        phrase="masks up to the end of the template's first 2 ids")
def completion_only_collate__two_ids(
    rows: list[list[int]], response_ids: list[int], pad_id: int
) -> dict:
    longest = max(len(r) for r in rows)
    out = {"input_ids": [], "attention_mask": [], "labels": []}
    for row in rows:
        gap = longest - len(row)
        labels = [-100] * len(row)
        for s in range(len(row) - 1):
            if row[s] == response_ids[0] and row[s + 1] == response_ids[1]:
                labels[s + 2:] = row[s + 2:]
                break
        out["input_ids"].append(row + [pad_id] * gap)
        out["attention_mask"].append([1] * len(row) + [0] * gap)
        out["labels"].append(labels + [-100] * gap)
    return out


@mutant("ex05_3", "the last 3 ids of a prompt (the notebook's tokenizer makes 3 tokens of it)",
        phrase="another number of tokens than the notebook's 3: don't type in how many")
def response_template_ids__last_three(tokenizer) -> list[int]:
    prompt = "### Instruction: What is 2+2? ### Response:"
    return tokenizer(prompt, add_special_tokens=False)["input_ids"][-3:]


@mutant("ex05_3", "the BOS dropped with [1:] (SmolLM2's tokenizer puts none in front)",
        phrase="like SmolLM2's, puts no BOS in front")
def response_template_ids__bos_dropped(tokenizer) -> list[int]:
    return tokenizer(" ### Response:")["input_ids"][1:]


@mutant("ex05_5", "getfullargspec(...).args: keyword-only parameters look missing",
        phrase="are keyword-only parameters")
def missing_keywords__argspec_args(function, keywords: list[str]) -> list[str]:
    import inspect

    args = inspect.getfullargspec(function).args
    return [name for name in keywords if name not in args]


@mutant("ex05_5", "__code__.co_varnames: a local variable counts as a parameter",
        phrase="are variables inside the function")
def missing_keywords__co_varnames(function, keywords: list[str]) -> list[str]:
    code = getattr(function, "__code__", None) or function.__init__.__code__
    return [name for name in keywords if name not in code.co_varnames]


@mutant("ex05_5", "hasattr(function, name): right for SFTConfig's fields only",
        phrase="a keyword is missing when")
def missing_keywords__hasattr(function, keywords: list[str]) -> list[str]:
    return [name for name in keywords if not hasattr(function, name)]


@mutant("ex05_5", "sorted, not in the order given", phrase="in the order of keywords")
def missing_keywords__sorted(function, keywords: list[str]) -> list[str]:
    import inspect

    return sorted(set(keywords) - set(inspect.signature(function).parameters))


@mutant("ex05_5", "the keywords it takes, not those it lacks", phrase="those are the ones it takes")
def missing_keywords__taken(function, keywords: list[str]) -> list[str]:
    import inspect

    return [name for name in keywords if name in inspect.signature(function).parameters]


@right("ex05_5", "try binding each keyword: inspect.signature(...).bind_partial(**{name: None})")
def missing_keywords__bind(function, keywords: list[str]) -> list[str]:
    import inspect

    signature, missing = inspect.signature(function), []
    for name in keywords:
        try:
            signature.bind_partial(**{name: None})
        except TypeError:
            missing.append(name)
    return missing


@mutant("ex05_5", "the keywords it takes removed from the caller's list, which is returned",
        phrase="changed the keywords list it was given")
def missing_keywords__removed_from_the_list(function, keywords: list[str]) -> list[str]:
    import inspect

    parameters = inspect.signature(function).parameters
    for name in list(keywords):
        if name in parameters:
            keywords.remove(name)
    return keywords
