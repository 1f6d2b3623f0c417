"""Checks for lesson 03, loss masking: labels with -100 on the prompt, and the masked loss."""

from __future__ import annotations

from course_lib.grading.registry import exercise

IGNORE = -100
CASES = [  # (prompt, response): two-part and three-part records in the seed template
    ("### Instruction: What is 2+2? ### Response:", " 4"),
    ("### Instruction: Translate this to Spanish ### Input: Hello world ### Response:",
     " Hola mundo"),
]


def _ints(value, what: str) -> list[int]:
    """A list of ints from a list, tuple or 1-D tensor, or an AssertionError saying why not."""
    if hasattr(value, "tolist"):
        value = value.tolist()
    assert isinstance(value, list | tuple), (
        f"{what} should be a list of token ids, not {type(value).__name__}.")
    if value and isinstance(value[0], list | tuple):
        assert len(value) == 1, (
            f"{what} should be one flat list of ids, not a batch of {len(value)}.")
        value = value[0]  # tolerate a batch of one
    assert all(isinstance(v, int) for v in value), f"{what} should hold only ints (token ids)."
    return list(value)


def _expected(prompt: str, response: str, tokenizer) -> tuple[list[int], list[int], int]:
    prompt_ids = tokenizer(prompt)["input_ids"]
    answer = tokenizer(response, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    return prompt_ids + answer, [IGNORE] * len(prompt_ids) + answer, len(prompt_ids)


@exercise(
    "ex03_1",
    title="Build the labels for one example",
    hints=[
        "Tokenize the prompt and the response separately: tokenizer(prompt)['input_ids'] "
        "(with the BOS) and tokenizer(response, add_special_tokens=False)['input_ids'].",
        "Append tokenizer.eos_token_id to the response ids: the model must learn to stop.",
        "input_ids = prompt ids + response ids; labels = [-100] * len(prompt ids) + response "
        "ids. Labels line up with input_ids; the model shifts them itself.",
    ],
)
def check_build_labels(build_labels):
    from course_lib.toy import make_toy_tokenizer

    for pad_is_eos in (False, True):
        tokenizer = make_toy_tokenizer(pad_is_eos=pad_is_eos)
        which = " (with a tokenizer whose pad token is also its EOS)" if pad_is_eos else ""
        for prompt, response in CASES:
            _check_one(build_labels, prompt, response, tokenizer, which)


def _check_one(build_labels, prompt: str, response: str, tokenizer, which: str) -> None:
    want_ids, want_labels, n_prompt = _expected(prompt, response, tokenizer)
    out = build_labels(prompt, response, tokenizer)
    assert isinstance(out, dict) and {"input_ids", "labels"} <= set(out), (
        "build_labels should return a dict with 'input_ids' and 'labels'"
        + (f", but its keys are {sorted(out)}." if isinstance(out, dict)
           else f", not a {type(out).__name__}."))
    ids, labels = _ints(out["input_ids"], "input_ids"), _ints(out["labels"], "labels")
    eos, bos = tokenizer.eos_token_id, tokenizer.bos_token_id
    case = f"for prompt {prompt!r} and response {response!r}{which}"

    if ids != want_ids:
        if ids == want_ids[:-1]:
            raise AssertionError(f"input_ids should end with the EOS token (id {eos}) {case}: "
                                 f"without it the model never sees where an answer stops.")
        if ids and ids[0] != bos:
            raise AssertionError(f"input_ids should start with the BOS token (id {bos}) {case}: "
                                 f"tokenize the prompt with the tokenizer's special tokens.")
        raise AssertionError(
            f"input_ids {case} should be the prompt's ids, then the response's ids "
            f"(add_special_tokens=False), then EOS: {want_ids}; you gave {ids}.")
    assert len(labels) == len(ids), (
        f"labels has {len(labels)} entries but input_ids has {len(ids)} {case}: there is one "
        f"label per token.")
    if labels == want_labels:
        return
    if all(label == IGNORE for label in labels):
        raise AssertionError(
            f"every label is -100 {case}, so nothing would be trained (the loss is 0/0 = NaN): "
            f"the response tokens start at position {n_prompt}. Don't search the token stream "
            f"for '### Response:'; use the length of the prompt's ids.")
    i = next(k for k, (a, b) in enumerate(zip(labels, want_labels, strict=True)) if a != b)
    token = repr(tokenizer.decode([ids[i]]))
    if want_labels[i] == IGNORE:
        raise AssertionError(f"labels[{i}] should be -100 {case}: it is a prompt token ({token}), "
                             f"and the prompt is never graded.")
    if ids[i] == eos and i == len(ids) - 1 and labels[i] == IGNORE:
        tip = (" Mask padding by position, never by token id: here pad == EOS."
               if tokenizer.pad_token_id == eos else "")
        raise AssertionError(f"labels[{i}] is -100 but it is the EOS token {case}: the EOS must be "
                             f"trained, or the model never learns to stop.{tip}")
    if labels[i] == IGNORE:
        raise AssertionError(
            f"labels[{i}] is -100 {case} but it is a response token ({token}): every response "
            f"token is trained, its label being its own id ({ids[i]}). The prompt has "
            f"{n_prompt} tokens, so only labels[0:{n_prompt}] are -100.")
    if i + 1 < len(ids) and labels[i] == ids[i + 1]:
        raise AssertionError(f"labels[{i}] is the *next* token's id {case}: don't shift the labels "
                             f"yourself, the model does it (labels[i] = input_ids[i]).")
    raise AssertionError(f"labels[{i}] should be {want_labels[i]} {case} (the id of {token} "
                         f"itself), not {labels[i]}.")


@exercise(
    "ex03_2",
    title="Compute the masked cross-entropy by hand",
    hints=[
        "Shift by one: logits[:, :-1] are the predictions for labels[:, 1:] (position t "
        "predicts the token at t + 1).",
        "torch.log_softmax(logits, dim=-1) then .gather(-1, targets.unsqueeze(-1)) picks the "
        "log-probability of each target; -100 is not a valid index, so clamp it first.",
        "Average over the graded positions only: sum of -log p where labels != -100, divided "
        "by how many labels != -100 (not by all positions, not per row).",
    ],
)
def check_masked_loss(masked_loss):
    import torch
    import torch.nn.functional as F

    torch.manual_seed(0)
    vocab = 11
    labels = torch.tensor([[IGNORE, IGNORE, IGNORE, 4, 5, 6, 1],     # prompt, then response + EOS
                           [IGNORE, IGNORE, 3, 9, 1, IGNORE, IGNORE]])  # shorter: padded at the end
    logits = torch.randn(2, 7, vocab, requires_grad=True)

    def ce(lg, lb, **kw):
        return F.cross_entropy(lg.reshape(-1, vocab), lb.reshape(-1), ignore_index=IGNORE, **kw)

    want = ce(logits[:, :-1], labels[:, 1:])
    got = masked_loss(logits, labels.clone())
    assert isinstance(got, torch.Tensor), (
        f"masked_loss should return a tensor, not {type(got).__name__}: the loss must stay "
        f"connected to the logits so training can backpropagate through it.")
    assert got.numel() == 1, (
        f"masked_loss should return one number (the mean over graded tokens), not a tensor of "
        f"shape {tuple(got.shape)}.")
    got = got.reshape(())
    assert torch.isfinite(got), (
        f"your loss is {got.item()}: divide by the number of graded tokens, and take "
        f"log_softmax of the logits (not log of raw logits).")
    if not torch.allclose(got.float(), want, atol=1e-4):
        _diagnose(got.item(), want.item(), logits.detach(), labels, ce)
    assert got.requires_grad, (
        "the loss is right but not connected to the logits (no gradient): avoid .item(), "
        ".detach() or numpy inside masked_loss.")
    got.backward()
    assert logits.grad is not None and logits.grad[:, -1].abs().sum() == 0, (
        "the last position's logits got a gradient: it predicts a token after the sequence "
        "ends, so it must not be part of the loss.")


def _diagnose(got: float, want: float, logits, labels, ce) -> None:
    """Name the usual mistake when the learner's value equals a known wrong variant."""
    import torch

    shifted = labels[:, 1:]
    graded = shifted != IGNORE
    per_token = ce(logits[:, :-1], shifted, reduction="none").reshape(shifted.shape)
    variants = [
        (ce(logits, labels), "you did not shift: logits[:, t] predicts the token at t + 1, so "
                             "compare logits[:, :-1] with labels[:, 1:]."),
        (ce(logits[:, 1:], labels[:, :-1]), "the shift goes the wrong way: use logits[:, :-1] "
                                            "with labels[:, 1:]."),
        (ce(logits[:, :-1], shifted.clamp(min=0)), "the -100 labels were graded (as token 0): "
                                                   "skip every position whose label is -100."),
        ((per_token * graded).sum() / shifted.numel(),
         "you divided by all positions; divide by the number of graded tokens (labels != -100)."),
        ((per_token * graded).sum(), "that is the sum; the loss is the mean over graded tokens."),
        (torch.stack([(per_token[r] * graded[r]).sum() / graded[r].sum()
                      for r in range(len(labels))]).mean(),
         "you averaged per example then over the batch; average over all graded tokens of the "
         "batch at once (a long answer counts more)."),
    ]
    for value, message in variants:
        if abs(float(value) - got) < 1e-4:
            raise AssertionError(f"your loss is {got:.4f}, expected {want:.4f}: {message}")
    raise AssertionError(f"your loss is {got:.4f} but the masked cross-entropy is {want:.4f}: "
                         f"shift by one, skip -100 labels, and average over graded tokens.")
