"""Tests of the exercise machinery: generation, checks, the isolated grader, check()/hint().

The solutions must score 100 %, the untouched exercises 0 % with "not implemented yet", and
every check must catch at least one plausible wrong answer (MUTANTS below). Adding an
exercise? Add at least one mutant here: `test_every_exercise_has_a_mutant` insists.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from course_lib.cli import main
from course_lib.errors import CourseError
from course_lib.grading import check, hint, run_check
from course_lib.grading.evaluate import grade_cells
from course_lib.grading.make_exercises import (
    generated_texts,
    replace_solution,
    strip_hidden,
    strip_solution,
    write_exercises,
)
from course_lib.grading.notebook import exercise_cells, find_exercises, read_notebook, to_python
from course_lib.grading.registry import all_exercises, get_exercise
from course_lib.grading.report import format_table
from course_lib.grading.result import FAILED, NOT_IMPLEMENTED, PASSED, TIMEOUT
from course_lib.grading.runner import grade_folder

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"
EXERCISES = ROOT / "exercises"

# (exercise, what is wrong, the body that replaces the solution region, a phrase the
#  learner must read in the verdict)
MUTANTS = [
    ("ex01_1", "first position instead of the last",
     'probs = torch.softmax(logits[0, 0], dim=-1)\n'
     'top = probs.topk(k)\n'
     'pairs = zip(top.indices.tolist(), top.values.tolist())\n'
     'return [(tokenizer.decode([i]), p) for i, p in pairs]',
     "after the *first* token"),
    ("ex01_1", "raw logits, no softmax",
     'top = logits[0, -1].topk(k)\n'
     'pairs = zip(top.indices.tolist(), top.values.tolist())\n'
     'return [(tokenizer.decode([i]), p) for i, p in pairs]',
     "not probabilities"),
    ("ex01_1", "softmax over the positions",
     'probs = torch.softmax(logits[0], dim=0)[-1]\n'
     'top = probs.topk(k)\n'
     'pairs = zip(top.indices.tolist(), top.values.tolist())\n'
     'return [(tokenizer.decode([i]), p) for i, p in pairs]',
     "over the positions"),
    ("ex01_1", "least likely first",
     'probs = torch.softmax(logits[0, -1], dim=-1)\n'
     'top = probs.topk(k)\n'
     'pairs = zip(top.indices.tolist(), top.values.tolist())\n'
     'pairs = [(tokenizer.decode([i]), p) for i, p in pairs]\n'
     'return pairs[::-1]',
     "most likely first"),
    ("ex01_2", "never stops at EOS",
     'ids = tokenizer(prompt, return_tensors="pt")["input_ids"]\n'
     'new = []\n'
     'for _ in range(n_tokens):\n'
     '    next_id = model(input_ids=ids).logits[0, -1].argmax()\n'
     '    new.append(int(next_id))\n'
     '    ids = torch.cat([ids, next_id.view(1, 1)], dim=1)\n'
     'return new',
     "stop right after EOS"),
    ("ex01_2", "prompt ids returned too",
     'ids = tokenizer(prompt, return_tensors="pt")["input_ids"]\n'
     'with torch.no_grad():\n'
     '    for _ in range(n_tokens):\n'
     '        next_id = model(input_ids=ids).logits[0, -1].argmax()\n'
     '        ids = torch.cat([ids, next_id.view(1, 1)], dim=1)\n'
     '        if next_id == tokenizer.eos_token_id:\n'
     '            break\n'
     'return ids[0].tolist()',
     "the prompt's ids too"),
    ("ex01_2", "no BOS token in front",
     'ids = tokenizer(prompt, add_special_tokens=False, return_tensors="pt")["input_ids"]\n'
     'new = []\n'
     'with torch.no_grad():\n'
     '    for _ in range(n_tokens):\n'
     '        next_id = model(input_ids=ids).logits[0, -1].argmax()\n'
     '        new.append(int(next_id))\n'
     '        ids = torch.cat([ids, next_id.view(1, 1)], dim=1)\n'
     '        if next_id == tokenizer.eos_token_id:\n'
     '            break\n'
     'return new',
     "BOS token comes first"),
    ("ex01_2", "argmax at the first position",
     'ids = tokenizer(prompt, return_tensors="pt")["input_ids"]\n'
     'new = []\n'
     'with torch.no_grad():\n'
     '    for _ in range(n_tokens):\n'
     '        next_id = model(input_ids=ids).logits[0, 0].argmax()\n'
     '        new.append(int(next_id))\n'
     '        ids = torch.cat([ids, next_id.view(1, 1)], dim=1)\n'
     '        if next_id == tokenizer.eos_token_id:\n'
     '            break\n'
     'return new',
     "*last* position"),
    ("ex02_1", "input dropped",
     'return f"### Instruction: {record[\'instruction\']} ### Response: {record[\'response\']}"',
     "'Hello world' is missing"),
    ("ex02_1", "input part always written",
     'given = record.get("input", "")\n'
     'return (f"### Instruction: {record[\'instruction\']} ### Input: {given}"\n'
     '        f" ### Response: {record[\'response\']}")',
     "has no input"),
    ("ex02_1", "no space after 'Response:'",
     'text = f"### Instruction: {record[\'instruction\']}"\n'
     'if record.get("input"):\n'
     '    text += f" ### Input: {record[\'input\']}"\n'
     'return text + f" ### Response:{record[\'response\']}"',
     "only the spaces differ"),
    ("ex02_2", "Dolly's context dropped (input field lost)",
     'answer = record["output"] if "output" in record else record["response"]\n'
     'return {"instruction": record["instruction"], "input": record.get("input") or "",\n'
     '        "response": answer}',
     "'context'"),
    ("ex02_2", "Alpaca's output key kept",
     'out = {k: v for k, v in record.items() if k != "category"}\n'
     'out.setdefault("input", out.pop("context", ""))\n'
     'return out',
     "return exactly"),
    ("ex02_2", "None input kept",
     'if "output" in record:\n'
     '    return {"instruction": record["instruction"], "input": record.get("input"),\n'
     '            "response": record["output"]}\n'
     'return {"instruction": record["instruction"], "input": record["context"],\n'
     '        "response": record["response"]}',
     "'input' should be ''"),
    ("ex02_3", "instruction length in characters",
     'poor = []\n'
     'for i, record in enumerate(records):\n'
     '    instruction, response = record["instruction"], record["response"]\n'
     '    words = response.lower().split()\n'
     '    empty = not response.strip()\n'
     '    vague = len(instruction) < 3\n'
     '    repeats = len(words) >= 4 and len(set(words)) < len(words) / 2\n'
     '    continues = bool(words) and words[0] == instruction.lower().split()[0]\n'
     '    if empty or vague or repeats or continues:\n'
     '        poor.append(i)\n'
     'return poor',
     "fewer than 3 words"),
    ("ex02_3", "spaces-only response kept",
     'poor = []\n'
     'for i, record in enumerate(records):\n'
     '    instruction, response = record["instruction"], record["response"]\n'
     '    words = response.lower().split()\n'
     '    empty = response == ""\n'
     '    vague = len(instruction.split()) < 3\n'
     '    repeats = len(words) >= 4 and len(set(words)) < len(words) / 2\n'
     '    continues = bool(words) and words[0] == instruction.lower().split()[0]\n'
     '    if empty or vague or repeats or continues:\n'
     '        poor.append(i)\n'
     'return poor',
     "use .strip()"),
    ("ex02_3", "continuation compared case-sensitively",
     'poor = []\n'
     'for i, record in enumerate(records):\n'
     '    instruction, response = record["instruction"], record["response"]\n'
     '    words = response.lower().split()\n'
     '    empty = not response.strip()\n'
     '    vague = len(instruction.split()) < 3\n'
     '    repeats = len(words) >= 4 and len(set(words)) < len(words) / 2\n'
     '    continues = bool(response.split()) and response.split()[0] == instruction.split()[0]\n'
     '    if empty or vague or repeats or continues:\n'
     '        poor.append(i)\n'
     'return poor',
     "lower case"),
    ("ex02_3", "flags instead of indices",
     'poor = []\n'
     'for i, record in enumerate(records):\n'
     '    instruction, response = record["instruction"], record["response"]\n'
     '    words = response.lower().split()\n'
     '    empty = not response.strip()\n'
     '    vague = len(instruction.split()) < 3\n'
     '    repeats = len(words) >= 4 and len(set(words)) < len(words) / 2\n'
     '    continues = bool(words) and words[0] == instruction.lower().split()[0]\n'
     '    if empty or vague or repeats or continues:\n'
     '        poor.append(True)\n'
     'return poor',
     "return the *indices*"),
    ("ex02_3", "empty responses flagged only",
     'return [i for i, r in enumerate(records) if not r["response"].strip()]',
     "is poor"),
    ("ex03_1", "off-by-one mask: last prompt token trained",
     'prompt_ids = tokenizer(prompt)["input_ids"]\n'
     'ids = prompt_ids + tokenizer(response, add_special_tokens=False)["input_ids"]\n'
     'ids = ids + [tokenizer.eos_token_id]\n'
     'n = len(prompt_ids) - 1\n'
     'return {"input_ids": ids, "labels": [-100] * n + ids[n:]}',
     "should be -100 for prompt"),
    ("ex03_1", "off-by-one mask: first response token masked",
     'prompt_ids = tokenizer(prompt)["input_ids"]\n'
     'ids = prompt_ids + tokenizer(response, add_special_tokens=False)["input_ids"]\n'
     'ids = ids + [tokenizer.eos_token_id]\n'
     'n = len(prompt_ids) + 1\n'
     'return {"input_ids": ids, "labels": [-100] * n + ids[n:]}',
     "is a response token"),
    ("ex03_1", "EOS masked",
     'prompt_ids = tokenizer(prompt)["input_ids"]\n'
     'answer = tokenizer(response, add_special_tokens=False)["input_ids"]\n'
     'ids = prompt_ids + answer + [tokenizer.eos_token_id]\n'
     'return {"input_ids": ids, "labels": [-100] * len(prompt_ids) + answer + [-100]}',
     "it is the EOS token"),
    ("ex03_1", "padding masked by id (kills the EOS when pad == eos)",
     'prompt_ids = tokenizer(prompt)["input_ids"]\n'
     'answer = tokenizer(response, add_special_tokens=False)["input_ids"]\n'
     'answer = answer + [tokenizer.eos_token_id]\n'
     'labels = [-100] * len(prompt_ids) + answer\n'
     'labels = [-100 if t == tokenizer.pad_token_id else t for t in labels]\n'
     'return {"input_ids": prompt_ids + answer, "labels": labels}',
     "pad == EOS"),
    ("ex03_1", "no EOS appended",
     'prompt_ids = tokenizer(prompt)["input_ids"]\n'
     'answer = tokenizer(response, add_special_tokens=False)["input_ids"]\n'
     'return {"input_ids": prompt_ids + answer, "labels": [-100] * len(prompt_ids) + answer}',
     "should end with the EOS"),
    ("ex03_1", "response template searched for in the token stream",
     'ids = tokenizer(prompt + response)["input_ids"] + [tokenizer.eos_token_id]\n'
     'marker = tokenizer("### Response:", add_special_tokens=False)["input_ids"]\n'
     'labels = [-100] * len(ids)\n'
     'for i in range(len(ids) - len(marker) + 1):\n'
     '    if ids[i:i + len(marker)] == marker:\n'
     '        start = i + len(marker)\n'
     '        labels[start:] = ids[start:]\n'
     'return {"input_ids": ids, "labels": labels}',
     "every label is -100"),
    ("ex03_2", "no shift",
     'graded = labels != -100\n'
     'log_probs = torch.log_softmax(logits, dim=-1)\n'
     'picked = log_probs.gather(-1, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)\n'
     'return -(picked * graded).sum() / graded.sum()',
     "did not shift"),
    ("ex03_2", "-100 graded as token 0",
     'targets = labels[:, 1:].clamp(min=0)\n'
     'log_probs = torch.log_softmax(logits[:, :-1], dim=-1)\n'
     'return -log_probs.gather(-1, targets.unsqueeze(-1)).mean()',
     "graded (as token 0)"),
    ("ex03_2", "mean over all positions",
     'targets = labels[:, 1:]\n'
     'graded = targets != -100\n'
     'log_probs = torch.log_softmax(logits[:, :-1], dim=-1)\n'
     'picked = log_probs.gather(-1, targets.clamp(min=0).unsqueeze(-1)).squeeze(-1)\n'
     'return -(picked * graded).mean()',
     "divided by all positions"),
    ("ex03_2", "mean per example, then over the batch",
     'targets = labels[:, 1:]\n'
     'graded = targets != -100\n'
     'log_probs = torch.log_softmax(logits[:, :-1], dim=-1)\n'
     'picked = log_probs.gather(-1, targets.clamp(min=0).unsqueeze(-1)).squeeze(-1)\n'
     'return (-(picked * graded).sum(dim=1) / graded.sum(dim=1)).mean()',
     "per example"),
    ("ex03_2", "returns a float (no gradient)",
     'import torch.nn.functional as F\n'
     'flat = logits[:, :-1].reshape(-1, logits.shape[-1])\n'
     'return F.cross_entropy(flat, labels[:, 1:].reshape(-1), ignore_index=-100).item()',
     "should return a tensor"),
    ("ex03_3", "position 0 counted as graded",
     'graded = (labels != -100).sum(dim=1)\n'
     'return [i for i, n in enumerate(graded.tolist()) if n == 0]',
     "only at position 0"),
    ("ex03_3", "rows with any -100 flagged",
     'return [i for i, row in enumerate(labels.tolist()) if -100 in row]',
     "has graded labels after position 0"),
    ("ex03_3", "a boolean mask instead of indices",
     'return ((labels[:, 1:] != -100).sum(dim=1) == 0).tolist()',
     "row *indices*"),
    ("ex03_4", "padding masked by id (pad == eos kills the EOS)",
     'longest = max(len(e["input_ids"]) for e in examples)\n'
     'ids = [list(e["input_ids"]) + [pad_token_id] * (longest - len(e["input_ids"]))\n'
     '       for e in examples]\n'
     'mask = [[1] * len(e["input_ids"]) + [0] * (longest - len(e["input_ids"]))\n'
     '        for e in examples]\n'
     'labels = [list(e["labels"]) + [pad_token_id] * (longest - len(e["labels"]))\n'
     '          for e in examples]\n'
     'labels = [[-100 if t == pad_token_id else t for t in row] for row in labels]\n'
     'return {"input_ids": torch.tensor(ids), "attention_mask": torch.tensor(mask),\n'
     '        "labels": torch.tensor(labels)}',
     "pad == eos"),
    ("ex03_4", "labels padded with the pad id",
     'longest = max(len(e["input_ids"]) for e in examples)\n'
     'out = {"input_ids": [], "attention_mask": [], "labels": []}\n'
     'for e in examples:\n'
     '    gap = longest - len(e["input_ids"])\n'
     '    out["input_ids"].append(list(e["input_ids"]) + [pad_token_id] * gap)\n'
     '    out["attention_mask"].append(list(e["attention_mask"]) + [0] * gap)\n'
     '    out["labels"].append(list(e["labels"]) + [pad_token_id] * gap)\n'
     'return {k: torch.tensor(v) for k, v in out.items()}',
     "is padding, so its label must be -100"),
    ("ex03_4", "left padding",
     'longest = max(len(e["input_ids"]) for e in examples)\n'
     'out = {"input_ids": [], "attention_mask": [], "labels": []}\n'
     'for e in examples:\n'
     '    gap = longest - len(e["input_ids"])\n'
     '    out["input_ids"].append([pad_token_id] * gap + list(e["input_ids"]))\n'
     '    out["attention_mask"].append([0] * gap + list(e["attention_mask"]))\n'
     '    out["labels"].append([-100] * gap + list(e["labels"]))\n'
     'return {k: torch.tensor(v) for k, v in out.items()}',
     "pad on the right"),
    ("ex03_5", "position 0 counted",
     'positions = torch.arange(labels.shape[1]).unsqueeze(0)\n'
     'graded = labels != -100\n'
     'in_prompt = positions < torch.tensor(prompt_lengths).unsqueeze(1)\n'
     'return {"prompt": int((graded & in_prompt).sum()),\n'
     '        "response": int((graded & ~in_prompt).sum())}',
     "counted position 0"),
    ("ex03_5", "padding counted as graded",
     'n = labels.shape[1] - 1\n'
     'prompt = sum(length - 1 for length in prompt_lengths)\n'
     'return {"prompt": prompt, "response": n * len(prompt_lengths) - prompt}',
     "graded predictions in all"),
]


def solution_cell(exercise_id: str):
    return find_exercises(SOLUTIONS)[exercise_id]


def grade_source(exercise_id: str, source: str):
    """Grade a cell's source in this process, with the solution notebook's setup cells."""
    cell = solution_cell(exercise_id)
    return grade_cells(get_exercise(exercise_id), list(cell.setup), source)



# --- Mutants of lessons 04 and 05 (kept in their own block so lesson writers merge cleanly) ---
MUTANTS += [
    ("ex04_1", "no shift",
     'graded = labels != -100\n'
     'correct = (logits.argmax(-1) == labels) & graded\n'
     'return (correct.sum() / graded.sum()).item()',
     "did not shift"),
    ("ex04_1", "prompt and padding counted",
     'return (logits[:, :-1].argmax(-1) == labels[:, 1:]).float().mean().item()',
     "counted every position"),
    ("ex04_1", "mean per example, then over the batch",
     'targets = labels[:, 1:]\n'
     'graded = targets != -100\n'
     'correct = (logits[:, :-1].argmax(-1) == targets) & graded\n'
     'return (correct.sum(1) / graded.sum(1)).mean().item()',
     "averaged per example"),
    ("ex04_2", "reported training loss used",
     'for step, loss in zip(history.train_steps, history.train_loss):\n'
     '    if loss < threshold:\n'
     '        return step\n'
     'return None',
     "reported training"),
    ("ex04_2", "index instead of step",
     'for i, loss in enumerate(history.eval_loss):\n'
     '    if loss < threshold:\n'
     '        return i\n'
     'return None',
     "index in the list"),
    ("ex04_2", "at or below (<=)",
     'for step, loss in zip(history.eval_steps, history.eval_loss):\n'
     '    if loss <= threshold:\n'
     '        return step\n'
     'return None',
     "not *below*"),
    ("ex04_2", "last step below",
     'below = [s for s, v in zip(history.eval_steps, history.eval_loss) if v < threshold]\n'
     'return below[-1] if below else None',
     "the *last* step"),
    ("ex05_1", "bf16 left to TRL's default",
     'return SFTConfig(output_dir=output_dir, max_steps=max_steps, completion_only_loss=True,\n'
     '                 use_cpu=True, **checkpointing_off(), learning_rate=1e-3,\n'
     '                 report_to="none")',
     "bf16"),
    ("ex05_1", "gradient checkpointing left on",
     'return SFTConfig(output_dir=output_dir, max_steps=max_steps, completion_only_loss=True,\n'
     '                 use_cpu=True, bf16=False, learning_rate=1e-3, report_to="none")',
     "gradient checkpointing is on"),
    ("ex05_1", "TRL's default learning rate",
     'return SFTConfig(output_dir=output_dir, max_steps=max_steps, completion_only_loss=True,\n'
     '                 use_cpu=True, bf16=False, **checkpointing_off(), report_to="none")',
     "barely moves"),
    ("ex05_1", "trains on the prompt too",
     'return SFTConfig(output_dir=output_dir, max_steps=max_steps, completion_only_loss=False,\n'
     '                 use_cpu=True, bf16=False, **checkpointing_off(), learning_rate=1e-3,\n'
     '                 report_to="none")',
     "completion_only_loss is False"),
    ("ex05_2", "template tokens trained",
     'longest = max(len(r) for r in rows)\n'
     'out = {"input_ids": [], "attention_mask": [], "labels": []}\n'
     'for row in rows:\n'
     '    gap = longest - len(row)\n'
     '    labels = [-100] * len(row)\n'
     '    for s in range(len(row) - len(response_ids) + 1):\n'
     '        if row[s:s + len(response_ids)] == response_ids:\n'
     '            labels[s:] = row[s:]\n'
     '            break\n'
     '    out["input_ids"].append(row + [pad_id] * gap)\n'
     '    out["attention_mask"].append([1] * len(row) + [0] * gap)\n'
     '    out["labels"].append(labels + [-100] * gap)\n'
     'return out',
     "and including* the template"),
    ("ex05_2", "padding masked by id",
     'longest = max(len(r) for r in rows)\n'
     'ids = torch.tensor([r + [pad_id] * (longest - len(r)) for r in rows])\n'
     'mask = torch.tensor([[1] * len(r) + [0] * (longest - len(r)) for r in rows])\n'
     'labels = ids.clone()\n'
     'labels[labels == pad_id] = -100\n'
     'n = len(response_ids)\n'
     'for i, row in enumerate(rows):\n'
     '    starts = [s for s in range(len(row) - n + 1) if row[s:s + n] == response_ids]\n'
     '    labels[i, : starts[0] + n if starts else longest] = -100\n'
     'return {"input_ids": ids, "attention_mask": mask, "labels": labels}',
     "masked by id"),
    ("ex05_2", "row without template left trained",
     'longest = max(len(r) for r in rows)\n'
     'out = {"input_ids": [], "attention_mask": [], "labels": []}\n'
     'for row in rows:\n'
     '    gap = longest - len(row)\n'
     '    labels = list(row)\n'
     '    for s in range(len(row) - len(response_ids) + 1):\n'
     '        if row[s:s + len(response_ids)] == response_ids:\n'
     '            labels[:s + len(response_ids)] = [-100] * (s + len(response_ids))\n'
     '            break\n'
     '    out["input_ids"].append(row + [pad_id] * gap)\n'
     '    out["attention_mask"].append([1] * len(row) + [0] * gap)\n'
     '    out["labels"].append(labels + [-100] * gap)\n'
     'return out',
     "no response template"),
    ("ex05_3", "template tokenized alone",
     'return tokenizer.encode("### Response:", add_special_tokens=False)',
     "tokenized alone"),
    ("ex05_3", "trailing space included",
     'context = "### Instruction: What is 2+2? ### Response: 4"\n'
     'start = context.index("### Response: ")\n'
     'end = start + len("### Response: ")\n'
     'enc = tokenizer(context, add_special_tokens=False, return_offsets_mapping=True)\n'
     'return [t for t, (s, e) in zip(enc["input_ids"], enc["offset_mapping"])\n'
     '        if s < end and e > start]',
     "no more, no less"),
]

# --- One source of truth: solutions/ and the generated exercises/ -------------------------

def test_registry_and_solutions_agree():
    registered = {ex.id for ex in all_exercises()}
    in_solutions = set(find_exercises(SOLUTIONS))
    assert registered == in_solutions, "every check needs a solution cell, and vice versa"
    for ex in all_exercises():
        assert ex.title and len(ex.hints) >= 1, f"{ex.id} needs a title and hints"
        assert ex.checks and ex.needs, f"{ex.id} needs a check that takes the learner's names"


def test_every_exercise_has_a_mutant():
    assert {ex.id for ex in all_exercises()} <= {m[0] for m in MUTANTS}


def test_exercises_folder_is_up_to_date():
    expected = generated_texts(SOLUTIONS)
    for name, text in expected.items():
        path = EXERCISES / name
        assert path.exists(), f"{path} is missing: run `course make-exercises`"
        assert path.read_text(encoding="utf-8") == text, (
            f"{path} is out of date with solutions/{name}: run `course make-exercises`")


def test_exercise_notebooks_hide_solutions_and_keep_signatures():
    for path in sorted(EXERCISES.glob("*.ipynb")):
        text = path.read_text(encoding="utf-8")
        assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
        assert "HIDDEN TESTS" not in text
        for ex_id, cell in exercise_cells(path).items():
            solution = solution_cell(ex_id).source
            signature = next(line for line in solution.splitlines() if line.startswith("def "))
            assert signature in cell.source, f"{ex_id}: the signature line must stay"
            assert f'raise NotImplementedError("{ex_id}: write your code here")' in cell.source
            assert f"hints-{ex_id}" in text, f"{ex_id}: a hints cell follows the exercise"


def test_strip_solution_keeps_indentation_and_removes_hidden_tests():
    source = ("# exercise: ex03_1\ndef f(x):\n    y = 1\n"
              "    ### BEGIN SOLUTION\n    return x + y\n    ### END SOLUTION\n"
              "### BEGIN HIDDEN TESTS\nassert f(1) == 2\n### END HIDDEN TESTS")
    out = strip_solution(strip_hidden(source), "ex03_1")
    assert out == ('# exercise: ex03_1\ndef f(x):\n    y = 1\n'
                   '    raise NotImplementedError("ex03_1: write your code here")')


@pytest.mark.parametrize("source", [
    "### BEGIN SOLUTION\nx = 1",                                   # never closed
    "x = 1\n### END SOLUTION",                                     # never opened
    "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION",    # nested
])
def test_unbalanced_markers_are_a_one_line_error(source):
    with pytest.raises(CourseError, match="region"):
        strip_solution(source, "ex01_1", where="03_x.ipynb, cell 4")


# --- Verdicts: solutions pass, untouched exercises are "not implemented", mutants fail ----

@pytest.mark.parametrize("exercise_id", [ex.id for ex in all_exercises()])
def test_solution_passes_and_untouched_exercise_is_not_implemented(exercise_id):
    assert grade_source(exercise_id, solution_cell(exercise_id).source).status == PASSED
    untouched = exercise_cells(EXERCISES / solution_cell(exercise_id).notebook.name)[exercise_id]
    result = grade_cells(get_exercise(exercise_id), list(untouched.setup), untouched.source)
    assert result.status == NOT_IMPLEMENTED
    assert result.message.startswith("not implemented yet") and "Traceback" not in result.message


@pytest.mark.parametrize("exercise_id, what, body, phrase", MUTANTS,
                         ids=[f"{m[0]}-{m[1]}" for m in MUTANTS])
def test_mutant_fails_with_a_message_in_the_learners_terms(exercise_id, what, body, phrase):
    source = replace_solution(solution_cell(exercise_id).source, body)
    result = grade_source(exercise_id, source)
    assert result.status == FAILED, f"the check for {exercise_id} let '{what}' pass"
    assert phrase in result.message, result.message
    assert "Traceback" not in result.message


def test_a_crash_in_learner_code_names_the_line_of_the_cell():
    source = replace_solution(solution_cell("ex03_1").source, "ratio = 1 / 0\nreturn ratio")
    result = grade_source("ex03_1", source)
    assert result.status == FAILED
    assert "ZeroDivisionError" in result.message
    assert "line 4 of the ex03_1 cell: `ratio = 1 / 0`" in result.message


def test_a_renamed_function_is_reported_as_missing():
    result = grade_source("ex02_1", "def format_text(record):\n    return ''")
    assert result.status == FAILED and "`format_record` is not defined" in result.message


def test_a_broken_setup_cell_is_an_error_not_the_learners_fault():
    result = grade_cells(get_exercise("ex02_1"), ["import course_lib.no_such_module"], "")
    assert result.status == "error" and "setup cell #1 failed" in result.message


def test_every_solution_exercise_is_followed_by_its_check_cell():
    for path in sorted(SOLUTIONS.glob("*.ipynb")):
        sources = ["".join(c["source"]) for c in read_notebook(path)["cells"]]
        for ex_id in exercise_cells(path):
            at = next(i for i, s in enumerate(sources) if s.startswith(f"# exercise: {ex_id}"))
            assert any(f'check("{ex_id}")' in s for s in sources[at + 1:]), f"{path}: {ex_id}"


def test_a_syntax_error_is_reported_with_its_line():
    result = grade_source("ex02_1", "# exercise: ex02_1\ndef format_record(record)\n    return 1")
    assert result.status == FAILED and "syntax error on line 2" in result.message


# --- check() and hint() in a notebook ----------------------------------------------------

def test_check_grades_the_callers_namespace(capsys):
    namespace: dict = {}
    exec("from course_lib.grading import check\n"
         "def format_record(record):\n    return 'nope'\n"
         "check('ex02_1')", namespace)
    out = capsys.readouterr().out
    assert out.startswith("✗ ex02_1 failed:") and "the seed template gives" in out

    exec(solution_cell("ex02_1").source + "\ncheck('ex02_1')", namespace)
    assert capsys.readouterr().out.startswith("✓ ex02_1 passed")


def test_check_agrees_with_the_grader_on_untouched_code():
    namespace: dict = {}
    untouched = exercise_cells(EXERCISES / "02_instruction_data.ipynb")["ex02_2"]
    exec(untouched.source, namespace)
    assert run_check("ex02_2", namespace).status == NOT_IMPLEMENTED


def test_check_does_nothing_inside_the_grader(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_GRADING", "1")
    check("ex02_1", namespace={})
    assert capsys.readouterr().out == ""


def test_hint_reveals_one_more_hint_each_call(capsys):
    from course_lib.grading import feedback

    feedback._hints_shown.clear()
    hints = get_exercise("ex03_2").hints
    for n in range(1, len(hints) + 2):
        hint("ex03_2")
        out = capsys.readouterr().out
        assert out.count("Hint ") == min(n, len(hints))
    assert "last hint" in out


def test_unknown_exercise_is_a_one_line_error(capsys):
    assert main(["grade", str(SOLUTIONS), "-e", "ex99_9"]) == 2
    assert "There is no exercise 'ex99_9'" in capsys.readouterr().err


def test_table_wraps_long_messages():
    from course_lib.grading.result import ExerciseResult

    table = format_table([ExerciseResult("ex03_1", FAILED, "word " * 40)])
    lines = table.splitlines()
    assert len(lines) > 2 and all(len(line) <= 100 for line in lines)


# --- make-exercises never overwrites a learner's edits -----------------------------------

def test_make_exercises_keeps_edits_unless_forced_then_backs_up(tmp_path, capsys):
    solutions, exercises = tmp_path / "solutions", tmp_path / "exercises"
    shutil.copytree(SOLUTIONS, solutions)
    args = ["make-exercises", "--solutions", str(solutions), "--out", str(exercises)]
    assert main(args) == 0
    n_notebooks = len(list(SOLUTIONS.glob("*.ipynb")))
    assert [o.action for o in write_exercises(solutions, exercises)] == ["unchanged"] * n_notebooks

    target = exercises / "03_loss_masking.ipynb"
    nb = read_notebook(target)
    cell = next(c for c in nb["cells"] if "# exercise: ex03_1" in "".join(c["source"]))
    cell["source"] = "# exercise: ex03_1\ndef build_labels(p, r, t):\n    return {}  # mine\n"
    edited = json.dumps(nb)
    target.write_text(edited)

    capsys.readouterr()
    assert main(args) == 2
    assert "has edits of your own" in capsys.readouterr().err
    assert target.read_text() == edited, "an edited notebook must never be overwritten"

    assert main([*args, "--force"]) == 0
    backups = list(exercises.glob("03_loss_masking.ipynb.bak-*"))
    assert len(backups) == 1 and backups[0].read_text() == edited
    assert target.read_text() == generated_texts(solutions)["03_loss_masking.ipynb"]


def test_make_exercises_updates_an_unedited_notebook_when_the_solution_changes(tmp_path):
    solutions, exercises = tmp_path / "solutions", tmp_path / "exercises"
    shutil.copytree(SOLUTIONS, solutions)
    write_exercises(solutions, exercises)
    # A learner who only ran the notebook (outputs, no source change) has not edited it.
    target = exercises / "02_instruction_data.ipynb"
    nb = read_notebook(target)
    nb["cells"][1]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "hi\n"}]
    target.write_text(json.dumps(nb))

    sol = solutions / "02_instruction_data.ipynb"
    sol.write_text(sol.read_text().replace("Turn raw records", "Turn raw JSON records"))
    actions = {o.name: o.action for o in write_exercises(solutions, exercises)}
    assert actions["02_instruction_data.ipynb"] == "updated"
    assert "Turn raw JSON records" in target.read_text()
    assert not list(exercises.glob("*.bak-*"))


# --- The isolated grader (one process per exercise) --------------------------------------

def _learner_folder(tmp_path: Path, bodies: dict[str, str]) -> Path:
    """A copy of the solutions where some exercises' bodies are replaced (a learner's work)."""
    folder = tmp_path / "learner"
    shutil.copytree(SOLUTIONS, folder)
    for path in folder.glob("*.ipynb"):
        nb = read_notebook(path)
        for cell in nb["cells"]:
            source = "".join(cell["source"])
            for ex_id, body in bodies.items():
                if source.startswith(f"# exercise: {ex_id}\n"):
                    cell["source"] = replace_solution(source, body)
        path.write_text(json.dumps(nb))
    return folder


@pytest.mark.slow
def test_grade_solutions_scores_100_percent(tmp_path, capsys):
    report = tmp_path / "out" / "report.json"
    assert main(["grade", str(SOLUTIONS), "--json", str(report)]) == 0
    out = capsys.readouterr().out
    n = len(all_exercises())
    assert f"Score: {n}/{n} (100%)" in out
    data = json.loads(report.read_text())
    assert data["score"] == {"passed": n, "total": n, "percent": 100.0}
    assert all(e["status"] == PASSED and e["notebook"] for e in data["exercises"])


@pytest.mark.slow
def test_grade_untouched_exercises_scores_0_without_tracebacks(capsys):
    before = {p: p.read_bytes() for p in EXERCISES.glob("*.ipynb")}
    assert main(["grade", str(EXERCISES)]) == 1
    out = capsys.readouterr().out
    n = len(all_exercises())
    assert f"Score: 0/{n} (0%)" in out
    assert out.count("not implemented yet") == n and "Traceback" not in out
    assert before == {p: p.read_bytes() for p in EXERCISES.glob("*.ipynb")}, "grading wrote!"


@pytest.mark.slow
def test_an_infinite_loop_times_out_and_the_rest_still_pass(tmp_path):
    folder = _learner_folder(tmp_path, {"ex02_1": "while True:\n    pass"})
    start = time.perf_counter()
    report = grade_folder(folder, ["ex02_1", "ex02_2"], timeout=3)
    assert time.perf_counter() - start < 15
    by_id = {r.exercise: r for r in report.results}
    assert by_id["ex02_1"].status == TIMEOUT and "more than 3 s" in by_id["ex02_1"].message
    assert by_id["ex02_2"].status == PASSED


@pytest.mark.slow
def test_exit_crash_and_huge_output_fail_only_their_exercise(tmp_path):
    folder = _learner_folder(tmp_path, {
        "ex02_1": "while True:\n    print('spam ' * 1000)",   # a flood of output
        "ex02_2": "import sys\nsys.exit(0)",                   # leaves politely
        "ex03_1": "import os\nos._exit(3)",                    # kills its process
    })
    report = grade_folder(folder)
    by_id = {r.exercise: r for r in report.results}
    assert by_id["ex02_1"].status == FAILED and "printed too much" in by_id["ex02_1"].message
    assert len(by_id["ex02_1"].output) <= 2000
    assert by_id["ex02_2"].status == FAILED and "sys.exit()" in by_id["ex02_2"].message
    assert by_id["ex03_1"].status == FAILED and "exit code 3" in by_id["ex03_1"].message
    assert by_id["ex03_2"].status == PASSED
    assert not any("Traceback" in r.message for r in report.results)


@pytest.mark.slow
def test_a_missing_exercise_cell_fails_only_that_exercise(tmp_path):
    folder = tmp_path / "learner"
    folder.mkdir()
    shutil.copy(SOLUTIONS / "02_instruction_data.ipynb", folder)
    report = grade_folder(folder)
    by_id = {r.exercise: r for r in report.results}
    assert by_id["ex02_1"].passed and by_id["ex02_2"].passed
    assert "no cell starting with `# exercise: ex03_1`" in by_id["ex03_1"].message
    in_02 = len(exercise_cells(SOLUTIONS / "02_instruction_data.ipynb"))
    assert report.passed == in_02 and report.total == len(all_exercises())


def _run_in_kernel(path: Path, monkeypatch) -> list[str]:
    """Execute a notebook in a real Jupyter kernel; the HTML verdicts check() displayed."""
    import nbclient
    import nbformat

    pythonpath = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    monkeypatch.setenv("PYTHONPATH", pythonpath)
    nb = nbformat.read(path, as_version=4)
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(path.parent)}}).execute()
    return [o["data"]["text/html"] for c in nb.cells if c.cell_type == "code"
            for o in c.get("outputs", []) if "text/html" in o.get("data", {})]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(p.name for p in SOLUTIONS.glob("*.ipynb")))
def test_in_a_kernel_check_shows_green_for_solutions_and_red_for_exercises(name, monkeypatch):
    solved = _run_in_kernel(SOLUTIONS / name, monkeypatch)
    n = len(exercise_cells(SOLUTIONS / name))
    assert len(solved) == n and all("✓" in v and "passed" in v for v in solved), solved
    untouched = _run_in_kernel(EXERCISES / name, monkeypatch)
    assert len(untouched) == n and all("✗" in v and "not implemented" in v for v in untouched)


def test_jupyter_copies_and_broken_notebooks_do_not_confuse_the_grader(tmp_path):
    shutil.copy(SOLUTIONS / "03_loss_masking.ipynb", tmp_path / "03_loss_masking-Copy1.ipynb")
    shutil.copy(EXERCISES / "03_loss_masking.ipynb", tmp_path / "03_loss_masking.ipynb")
    (tmp_path / "02_instruction_data.ipynb").write_text("{ not json")
    found = find_exercises(tmp_path)
    # the broken notebook's exercises are missing
    assert set(found) == set(exercise_cells(SOLUTIONS / "03_loss_masking.ipynb"))
    assert found["ex03_1"].notebook.name == "03_loss_masking.ipynb"  # the original, not the copy


def test_magics_do_not_break_grading_and_keep_line_numbers():
    source = replace_solution(solution_cell("ex02_1").source, "%time x = 1\nreturn undefined_name")
    result = grade_source("ex02_1", to_python("!pip list\n" + source))
    assert result.status == FAILED and "NameError" in result.message
    assert "line 6 of the ex02_1 cell: `return undefined_name`" in result.message
