"""Checks for lesson 03, loss masking: labels with -100 on the prompt, the masked loss, and
what mlm=True (BERT's masking) does instead."""

from __future__ import annotations

from course_lib.grading.checks import int_list, is_int, token_ids
from course_lib.grading.registry import exercise
from course_lib.world.toy import make_smollm2_like_tokenizer, make_toy_tokenizer

IGNORE = -100  # masking.labels.IGNORE_INDEX, repeated: importing it would load torch in the grader
CASES = [  # (prompt, response): two-part and three-part records, one-line template
    ("### Instruction: What is 2+2? ### Response:", " 4"),
    ("### Instruction: Translate this to Spanish ### Input: Hello world ### Response:",
     " Hola mundo"),
    # the space ends the prompt: tokenized together, ' ' and '4' would merge into one token
    ("### Instruction: What is 2+2? ### Response: ", "4"),
]


def _expected(prompt: str, response: str, tokenizer) -> tuple[list[int], list[int], int]:
    prompt_ids = tokenizer(prompt)["input_ids"]
    answer = tokenizer(response, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    return prompt_ids + answer, [IGNORE] * len(prompt_ids) + answer, len(prompt_ids)


@exercise(
    "ex03_1",
    title="Build the labels for one example",
    hints=[
        "Tokenize the prompt and the response separately: tokenizer(prompt)['input_ids'] "
        "(with the tokenizer's special tokens: a BOS for the tiny model) and "
        "tokenizer(response, add_special_tokens=False)['input_ids'].",
        "Append tokenizer.eos_token_id to the response ids: the model must learn to stop.",
        "input_ids = prompt ids + response ids; labels = [-100] * len(prompt ids) + response "
        "ids. Labels line up with input_ids; the model shifts them itself.",
    ],
)
def check_build_labels(build_labels):
    # deferred: the grader's start imports every check module; loading imports torch
    from course_lib.loading import load_tokenizer

    tiny = load_tokenizer("tiny")  # another model, another EOS id (the toy tokenizer's is 1)
    for tokenizer, which in [
        (make_toy_tokenizer(), ""),
        (make_toy_tokenizer(pad_is_eos=True),
         " (with a tokenizer whose pad token is also its EOS)"),
        (tiny, " (with the tiny model's tokenizer)"),
        (make_smollm2_like_tokenizer(), " (with a tokenizer that, like SmolLM2's, adds no BOS "
                                        "and ends texts with '<|endoftext|>')"),
    ]:
        for prompt, response in CASES:
            _check_one(build_labels, prompt, response, tokenizer, which)


def _check_one(build_labels, prompt: str, response: str, tokenizer, which: str) -> None:
    want_ids, want_labels, n_prompt = _expected(prompt, response, tokenizer)
    out = build_labels(prompt, response, tokenizer)
    assert isinstance(out, dict) and {"input_ids", "labels"} <= set(out), (
        "build_labels should return a dict with 'input_ids' and 'labels'"
        + (f", but its keys are {sorted(out)}." if isinstance(out, dict)
           else f", not a {type(out).__name__}."))
    ids, labels = token_ids(out["input_ids"], "input_ids"), token_ids(out["labels"], "labels")
    case = f"for prompt {prompt!r} and response {response!r}{which}"
    assert not (IGNORE in ids and ids == labels), (
        f"input_ids holds -100 {case}: labels and input_ids are one list, so writing -100 into "
        f"labels wrote it into input_ids too; build labels as a new list (list(input_ids)).")
    if ids != want_ids:
        _response_bos(ids, want_ids, n_prompt, tokenizer, case)
        _wrong_ids(ids, want_ids, tokenizer, case, prompt + response)
    assert len(labels) == len(ids), (
        f"labels has {len(labels)} entries but input_ids has {len(ids)} {case}: there is one "
        f"label per token.")
    if labels != want_labels:
        _wrong_labels(labels, ids, want_labels, n_prompt, tokenizer, case)


def _response_bos(ids: list[int], want_ids: list[int], n_prompt: int, tokenizer,
                  case: str) -> None:
    """Name a response tokenized with its special tokens (a BOS in the middle of input_ids), or
    its first id dropped with [1:] where the tokenizer puts no BOS in front."""
    if ids == want_ids[:n_prompt] + want_ids[n_prompt + 1:]:
        first = tokenizer.decode([want_ids[n_prompt]])
        no_bos = tokenizer("4")["input_ids"][:1] != [tokenizer.bos_token_id]
        why = ": this tokenizer puts no BOS in front, so there is none to drop with [1:]"
        raise AssertionError(f"the response's first token ({first!r}) is missing from input_ids "
                             f"{case}{why if no_bos else ''}; tokenize the response with "
                             f"add_special_tokens=False and keep all its ids.")
    bos = tokenizer.bos_token_id
    if bos is not None and ids[:n_prompt] == want_ids[:n_prompt] and \
            ids[n_prompt:n_prompt + 1] == [bos] != want_ids[n_prompt:n_prompt + 1]:
        raise AssertionError(f"the response's ids start with the BOS token (id {bos}) {case}, so "
                             f"a BOS sits in the middle of input_ids: tokenize the response with "
                             f"add_special_tokens=False, as only the prompt starts with it.")


def _wrong_ids(ids: list[int], want_ids: list[int], tokenizer, case: str, text: str) -> None:
    """Say how input_ids differ from BOS + prompt + response + EOS (text: prompt + response)."""
    eos, bos = tokenizer.eos_token_id, tokenizer.bos_token_id
    if bos is not None and want_ids[:1] != [bos] and ids == [bos, *want_ids]:
        raise AssertionError(f"input_ids start with a BOS token (id {bos}) that tokenizer(prompt) "
                             f"does not put there {case}: take the prompt's ids as "
                             f"tokenizer(prompt) gives them, and add no BOS yourself.")
    if ids == want_ids[:-1]:
        raise AssertionError(f"input_ids should end with the EOS token (id {eos}) {case}: "
                             f"without it the model never sees where an answer stops.")
    if len(ids) == len(want_ids) and ids[:-1] == want_ids[:-1]:
        raise AssertionError(f"input_ids should end with tokenizer.eos_token_id ({eos}) {case}, "
                             f"not {ids[-1]}: read the EOS id from the tokenizer, never type it "
                             f"or its text ('</s>') in: each model has its own.")
    k = next((k for k, (a, b) in enumerate(zip(ids, want_ids[:-1], strict=False)) if a != b), -1)
    if ids == tokenizer(text)["input_ids"] + [eos] and k >= 0:
        one, two = (repr(tokenizer.decode([t])) for t in (want_ids[k], want_ids[k + 1]))
        raise AssertionError(
            f"tokenize the prompt and the response separately {case}: tokenized together, "
            f"{one} and {two} merge into one token ({tokenizer.decode([ids[k]])!r}), so the "
            f"prompt's own ids no longer mark where the response starts.")
    if want_ids[:1] == [bos] and ids[:1] != [bos]:
        raise AssertionError(f"input_ids should start with the BOS token (id {bos}) {case}: "
                             f"tokenize the prompt with the tokenizer's special tokens.")
    raise AssertionError(
        f"input_ids {case} should be the prompt's ids, then the response's ids "
        f"(add_special_tokens=False), then EOS: {want_ids}; you gave {ids}.")


def _shifted(labels: list[int], ids: list[int]) -> bool:
    """True when every graded label is the id of the token *after* it (a shift by hand)."""
    graded = [i for i, label in enumerate(labels) if label != IGNORE]
    return bool(graded) and all(i + 1 < len(ids) and labels[i] == ids[i + 1] for i in graded)


def _wrong_labels(labels, ids, want_labels, n_prompt: int, tokenizer, case: str) -> None:
    """Name the mistake in labels whose input_ids are right."""
    eos = tokenizer.eos_token_id
    if all(label == IGNORE for label in labels):
        raise AssertionError(
            f"every label is -100 {case}, so nothing would be trained (the loss is 0/0 = NaN): "
            f"the response tokens start at position {n_prompt}. Don't search the token stream "
            f"for '### Response:'; use the length of the prompt's ids.")
    # Before the first difference: a shifted label sits one position early, on a prompt token.
    if _shifted(labels, ids):
        raise AssertionError(f"your labels are the *next* token's ids {case}: don't shift the "
                             f"labels yourself, the model does it (labels[i] = input_ids[i]).")
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
        "log-probability of each target; -100 is not a valid index, so gather with "
        "targets.clamp(min=0), a new tensor (don't write into labels: they are the caller's), "
        "and take the mask from targets != -100 (0 is a real token id).",
        "Average over the graded predictions only: the sum of -log p where labels[:, 1:] != "
        "-100, divided by how many there are in labels[:, 1:] (not in labels, whose position 0 "
        "is never predicted; not by all positions; not per row).",
    ],
)
def check_masked_loss(masked_loss):
    import torch
    import torch.nn.functional as F

    torch.manual_seed(0)
    vocab = 11
    labels = torch.tensor([[IGNORE, IGNORE, IGNORE, 4, 5, 6, 1],     # prompt, then response + EOS
                           [IGNORE, IGNORE, 3, 9, 1, IGNORE, IGNORE],  # shorter: padded at the end
                           [2, 7, 0, 8, 1, IGNORE, IGNORE]])  # all labelled, as the standard
    logits = torch.randn(3, 7, vocab, requires_grad=True)      # collator does; token id 0 in it

    def ce(lg, lb, **kw):
        return F.cross_entropy(lg.reshape(-1, vocab), lb.reshape(-1), ignore_index=IGNORE, **kw)

    want = ce(logits[:, :-1], labels[:, 1:])
    given = labels.clone()
    got = masked_loss(logits, given)
    _labels_kept(given, labels, "masked_loss", VIEW_WRITTEN)
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


def _labels_kept(given, labels, name: str, fix: str) -> None:
    """Fail when the learner's function wrote into the labels it was given (through the view
    labels[:, 1:], or position 0 set to -100 first): the caller's batch would lose them."""
    changed = (given != labels).nonzero().tolist()
    if changed:
        r, t = changed[0]
        raise AssertionError(
            f"{name} changed the labels it was given (labels[{r}, {t}] was "
            f"{labels[r, t].item()}, is now {given[r, t].item()}), but the caller still needs "
            f"them: {fix}.")


# What each check says to do instead of writing into the labels.
VIEW_WRITTEN = ("labels[:, 1:] is a view, so writing into it writes into them too; gather with "
                "targets.clamp(min=0), a new tensor")
READ_NOT_WRITE = "leave position 0 out by reading labels[:, 1:], not by writing into labels"


def _diagnose(got: float, want: float, logits, labels, ce) -> None:
    """Name the usual mistake when the learner's value equals a known wrong variant."""
    import torch

    shifted = labels[:, 1:]
    graded = shifted != IGNORE
    by_id = shifted.clamp(min=0) != 0  # the mask taken after clamping: token 0 lost too
    per_token = ce(logits[:, :-1], shifted, reduction="none").reshape(shifted.shape)
    variants = [
        (ce(logits, labels), "you did not shift: logits[:, t] predicts the token at t + 1, so "
                             "compare logits[:, :-1] with labels[:, 1:]."),
        (ce(logits[:, 1:], labels[:, :-1]), "the shift goes the wrong way: use logits[:, :-1] "
                                            "with labels[:, 1:]."),
        (ce(logits[:, :-1], shifted.clamp(min=0)), "the -100 labels were graded (as token 0): "
                                                   "skip every position whose label is -100."),
        ((per_token * graded).sum() / shifted.numel(),
         "you divided by all positions; divide by the number of graded tokens "
         "(labels[:, 1:] != -100)."),
        ((per_token * graded).sum() / (labels != IGNORE).sum(),
         "you divided by the number of labels != -100 with position 0 included (the check's "
         "row 2 labels it, as the standard collator does); count the graded predictions in "
         "labels[:, 1:] only, as position 0 is never predicted."),
        ((per_token * by_id).sum() / by_id.sum(),
         "a label 0 is a real token id (the check's labels[2, 2] is one) and you skipped it: "
         "find the graded positions with labels[:, 1:] != -100, before clamping -100 to 0."),
        ((per_token * graded).sum(), "that is the sum; the loss is the mean over graded tokens."),
        ((per_token[0] * graded[0]).sum() / graded[0].sum(),
         "that is the loss of the first row only; average over the graded tokens of every "
         "row of the batch, logits[:, :-1] with labels[:, 1:]."),
        (torch.stack([(per_token[r] * graded[r]).sum() / graded[r].sum()
                      for r in range(len(labels))]).mean(),
         "you averaged per example then over the batch; average over all graded tokens of the "
         "batch at once (a long answer counts more)."),
    ]
    for value, message in variants:
        if abs(float(value) - got) < 1e-4:
            raise AssertionError(f"your loss is {got:.4f}, expected {want:.4f}: {message}")
    # A probability, or a log-probability without its minus sign, makes the loss negative.
    assert got >= 0, (f"your loss is {got:.4f}, but a cross-entropy is never negative: it is "
                      f"minus the mean log-probability of the right tokens, -log_softmax(...).")
    raise AssertionError(f"your loss is {got:.4f} but the masked cross-entropy is {want:.4f}: "
                         f"shift by one, skip -100 labels, and average over graded tokens.")


# --- ex03_3: rows that give a NaN loss ---------------------------------------------------------
NAN_CASES = [  # (labels of a batch, rows with no graded prediction)
    ([[-100, -100, 5, 6, 2],        # a normal row: response and EOS graded
      [-100, -100, -100, -100, -100],   # everything masked (template not found, or cut)
      [7, -100, -100, -100, -100],   # only position 0: nothing predicts it, so nothing graded
      [-100, -100, -100, -100, 2]],  # only the EOS graded: fine, one prediction
     [1, 2]),
    ([[-100, 3, 4], [-100, -100, -100]], [1]),
    ([[-100, 3, 4], [-100, 3, 4]], []),
    ([[-100, 5, 6, -100],           # graded, then padded at the end
      [-100, -100, -100, -100],
      [-100, 3, -100, -100]],       # graded at position 1 only: position 0 predicts it
     [1]),
    ([[-100, -100, 0, -100], [-100, -100, -100, -100]], [1]),  # 0 is a token id, graded
]


def _row_list(value, what: str) -> list[int]:
    """Row indices from a list, a tensor (torch.nonzero's (n, 1), a 0-d one) or numpy ints."""
    if isinstance(value, tuple) and len(value) == 1 and hasattr(value[0], "tolist"):
        value = value[0]  # torch.nonzero(..., as_tuple=True), np.nonzero: a tuple of one
    if hasattr(value, "tolist"):
        value = value.tolist()
    if is_int(value):
        value = [value]  # a 0-d tensor: torch.nonzero(...).squeeze() when one row is found
    assert isinstance(value, list | tuple), (
        f"{what} should return a list of row indices, not {type(value).__name__}.")
    value = [v.tolist() if hasattr(v, "tolist") else v for v in value]  # numpy ints, tensors
    value = [v[0] if isinstance(v, list | tuple) and len(v) == 1 else v for v in value]
    assert not value or not all(isinstance(v, bool) for v in value), (
        f"{what} should return row *indices* (ints such as [1, 2]), not {value}: a list of "
        f"True/False says which rows, but not as indices.")
    return int_list(value, f"{what} should return row *indices*, a list of ints such as [1, 2], "
                           f"not {value}.")


def _not_nan(i: int, row: list[int]) -> str:
    """Why row i, which the learner returned, has a real loss."""
    graded = [t for t in range(1, len(row)) if row[t] != IGNORE]
    if all(row[t] == 0 for t in graded):
        return (f"row {i} {row} has the label 0 at position {graded[0]}, and 0 is a real token "
                f"id (graded like any other): only -100 means 'not graded', so test != -100.")
    if graded == [1]:
        return (f"row {i} {row} has a graded label at position 1, predicted by position 0 (only "
                f"position 0 itself is never predicted), so its loss is a real number.")
    padded = " (the -100 at its end is padding)" if row[-1] == IGNORE else ""
    return (f"row {i} {row} has graded labels after position 0{padded}, so its loss is a real "
            f"number; only rows with none give NaN.")


@exercise(
    "ex03_3",
    title="Find the rows that give a NaN loss",
    hints=[
        "The loss of a row is a mean over its graded predictions: with none, it is 0/0 = NaN.",
        "Position 0 is never predicted (nothing comes before it): the shifted loss only uses "
        "labels[:, 1:]. Look there for labels != -100.",
        "(labels[:, 1:] != -100).sum(dim=1) counts the graded predictions per row; return the "
        "indices where it is 0, e.g. with torch.nonzero or a list comprehension.",
    ],
)
def check_nan_rows(nan_rows):
    import torch

    for rows, want in NAN_CASES:
        labels = torch.tensor(rows)
        given = labels.clone()
        got = _row_list(nan_rows(given), "nan_rows")
        _labels_kept(given, labels, "nan_rows", READ_NOT_WRITE)
        assert len(set(got)) == len(got), f"return each row index once: {want}, not {got}."
        if sorted(got) == want:
            assert got == sorted(got), f"return the indices in increasing order: {want}."
            continue
        for i in want:
            if i not in got:
                if rows[i][0] != IGNORE:
                    raise AssertionError(
                        f"row {i} {rows[i]} has a label only at position 0, which nothing "
                        f"predicts (the loss uses labels[:, 1:]): it grades no prediction, so "
                        f"its loss is NaN too.")
                raise AssertionError(f"row {i} {rows[i]} has no graded label, so its loss is "
                                     f"0/0 = NaN; your function missed it.")
        i = next(i for i in got if i not in want)
        assert 0 <= i < len(rows), f"there is no row {i}: the batch has {len(rows)} rows."
        raise AssertionError(_not_nan(i, rows[i]))


# --- ex03_4: pad by position, keep the EOS --------------------------------------------------
def _padded(value, key: str) -> list[list[int]]:
    """The rows of value[key], which must be a 2-D tensor; ids and labels of an integer type."""
    import torch

    assert isinstance(value, dict) and key in value, (
        "pad_by_position should return a dict with 'input_ids', 'attention_mask' and 'labels'"
        + (f"; '{key}' is missing." if isinstance(value, dict) else
           f", not a {type(value).__name__}."))
    rows = value[key]
    assert isinstance(rows, torch.Tensor), (
        f"'{key}' should be a tensor, not a {type(rows).__name__}: a model takes its batch as "
        f"tensors, so return torch.tensor(rows) for each key.")
    assert rows.ndim == 2, (
        f"'{key}' should be a batch, one row per example (2-D), not a tensor of shape "
        f"{tuple(rows.shape)}.")
    assert key == "attention_mask" or rows.dtype == torch.long, (
        f"'{key}' holds token ids{' and -100' if key == 'labels' else ''}, so it should be a "
        f"torch.long tensor, not {rows.dtype}: "
        + ("cross_entropy wants torch.long targets" if key == "labels"
           else "the model looks ids up in its embedding") + "; build it from ints, e.g. "
        "torch.tensor(list_of_lists).")
    return rows.tolist()


# Two batches, the longest example second in one and last in the other: a length taken from
# one example, or the notebook's, pads one of them wrong.
PAD_BATCHES = [
    [{"instruction": "What is 2+2?", "response": "4"},
     {"instruction": "Translate this to Spanish", "input": "Hello world",
      "response": "Hola mundo"},
     {"instruction": "What is 5+3?", "response": "8"}],
    [{"instruction": "Name a colour.", "response": "red"},
     {"instruction": "What is 5+3?", "response": "8"},
     {"instruction": "Name the capital of Japan.", "response": "Tokyo"}],
]


@exercise(
    "ex03_4",
    title="Pad a batch by position so the EOS stays trained",
    hints=[
        "Right-pad every example to the longest one: input_ids with pad_token_id, "
        "attention_mask with 0, labels with -100.",
        "Decide what to mask by *position* (the positions you added), never by token id: "
        "when pad == eos, `labels[input_ids == pad_token_id] = -100` also masks the real EOS.",
        "Return torch tensors (torch.tensor(list_of_lists)) under 'input_ids', "
        "'attention_mask' and 'labels'.",
    ],
)
def check_pad_by_position(pad_by_position):
    # Two pad ids (1, then SmolLM2's set-up: 4), so that an id typed in or read from the
    # notebook's tokenizer, not pad_token_id, fails.
    for tokenizer in (make_toy_tokenizer(pad_is_eos=True), make_smollm2_like_tokenizer(True)):
        for records in PAD_BATCHES:
            _check_padded_batch(pad_by_position, records, tokenizer)


def _check_padded_batch(pad_by_position, records: list[dict], tokenizer) -> None:
    # deferred: torch stays out of the grader's start (every grading process imports this)
    from course_lib.masking.labels import pad_batch, prepare_examples

    examples = prepare_examples(records, tokenizer).examples
    lengths = [len(e["input_ids"]) for e in examples]
    copies = [{k: list(v) for k, v in e.items()} for e in examples]
    try:
        out = pad_by_position(copies, tokenizer.pad_token_id)
    except ValueError as error:  # torch.tensor of rows of unequal lengths
        if "expected sequence of length" not in str(error):
            raise
        raise AssertionError(
            f"torch.tensor could not stack your rows, which have different lengths: pad every "
            f"example of this batch (of {lengths} tokens) to its longest, {max(lengths)}, "
            f"max(len(e['input_ids']) for e in examples).") from None
    _same_examples(copies, examples)
    want = {k: v.tolist() for k, v in pad_batch(examples, tokenizer.pad_token_id).items()}
    got = {k: _padded(out, k) for k in ("input_ids", "attention_mask", "labels")}
    for k in got:
        assert [len(r) for r in got[k]] == [max(lengths)] * len(examples), (
            f"every row of '{k}' should have the length of this batch's longest example, "
            f"{max(lengths)} (examples of {lengths} tokens); yours have "
            f"{[len(r) for r in got[k]]}.")
    if got["input_ids"] != want["input_ids"]:
        left = [[tokenizer.pad_token_id] * (max(lengths) - len(e["input_ids"])) + e["input_ids"]
                for e in examples]
        if got["input_ids"] == left:
            raise AssertionError("pad on the right: the example's own tokens come first, then "
                                 "the padding.")
        _check_pad_id(got["input_ids"], examples, tokenizer.pad_token_id)
        raise AssertionError(f"input_ids should be each example's ids followed by pad id "
                             f"{tokenizer.pad_token_id}: expected {want['input_ids']}, got "
                             f"{got['input_ids']}.")
    if got["attention_mask"] != want["attention_mask"]:
        _wrong_mask(got["attention_mask"], want, tokenizer.pad_token_id, lengths)
    _check_padded_labels(got["labels"], want["labels"], lengths, tokenizer.eos_token_id)


def _check_pad_id(got: list, examples: list[dict], pad: int) -> None:
    """Name padding with one id that is not pad_token_id (typed in, or the notebook's)."""
    own = [row[:len(e["input_ids"])] == e["input_ids"] for row, e in zip(got, examples,
                                                                          strict=True)]
    added = {t for row, e in zip(got, examples, strict=True) for t in row[len(e["input_ids"]):]}
    if all(own) and len(added) == 1 and added != {pad}:
        raise AssertionError(f"the added positions hold id {added.pop()}, but this batch's pad "
                             f"id is {pad}: pad with the pad_token_id you are given, not an id "
                             f"typed in or read from the notebook's tokenizer.")


def _check_padded_labels(got: list, want: list, lengths: list[int], eos: int) -> None:
    """Name the first row whose labels differ: the EOS masked by id, padding graded, or else."""
    for row, (g, w, n) in enumerate(zip(got, want, lengths, strict=True)):
        if g == w:
            continue
        if g[n - 1] == IGNORE and w[n - 1] == eos:
            raise AssertionError(
                f"row {row}: the real EOS at position {n - 1} has label -100. Here pad == eos "
                f"(id {eos}), so masking every token whose id is the pad id also masks the EOS "
                f"and the model never learns to stop: mask the added positions, not an id.")
        bad = next(t for t in range(len(g)) if g[t] != w[t])
        if bad >= n:
            raise AssertionError(f"row {row}: position {bad} is padding, so its label must be "
                                 f"-100 (never graded), not {g[bad]}.")
        raise AssertionError(f"row {row}: the example's own labels must stay as they were: "
                             f"position {bad} should be {w[bad]}, not {g[bad]}.")


def _same_examples(given: list[dict], examples: list[dict]) -> None:
    """Fail when pad_by_position padded the caller's lists in place (e["input_ids"] += ...)."""
    for i, (now, was) in enumerate(zip(given, examples, strict=True)):
        if now == was:
            continue
        key = next((k for k in was if now.get(k) != was[k]), None)
        if key is None:
            what = f"examples[{i}] now has the keys {sorted(now)}"
        elif isinstance(now.get(key), list) and len(now[key]) != len(was[key]):
            what = f"examples[{i}][{key!r}] went from {len(was[key])} to {len(now[key])} entries"
        else:
            what = f"examples[{i}][{key!r}] is now {now.get(key)}, not {was[key]}"
        raise AssertionError(f"pad_by_position changed the examples it was given ({what}): "
                             f"build new lists for the batch, and leave `examples` as they were.")


def _wrong_mask(mask: list[list[int]], want: dict, pad: int, lengths: list[int]) -> None:
    """Say how attention_mask differs: built from the ids (pad == eos), or otherwise."""
    by_id = [[int(t != pad) for t in row] for row in want["input_ids"]]
    if mask == by_id:
        row = next(r for r, (g, w) in enumerate(zip(mask, want["attention_mask"], strict=True))
                   if g != w)
        raise AssertionError(
            f"row {row}: the attention_mask of the real EOS at position {lengths[row] - 1} is 0, "
            f"because pad == eos (id {pad}) and you set 0 wherever input_ids is the pad id; set "
            f"0 on the added positions only (expected {want['attention_mask'][row]}, got "
            f"{mask[row]}).")
    raise AssertionError(f"attention_mask is 1 on the example's tokens and 0 on the padding: "
                         f"expected {want['attention_mask']}, got {mask}.")


# --- ex03_5: where does the standard collator's grade go? -----------------------------------
@exercise(
    "ex03_5",
    title="Count what a collator trains: prompt or response",
    hints=[
        "Only labels[:, 1:] are graded predictions (position 0 is never predicted); a "
        "prediction is graded when its label is not -100.",
        "Position t of a row is a prompt token when t < prompt_lengths[row], a response "
        "token otherwise (the EOS and everything after the prompt count as response).",
        "Loop over rows and positions 1..length-1, or build a position index with "
        "torch.arange and compare it with the prompt length of each row.",
    ],
)
def check_graded_counts(graded_counts):
    import torch

    labels = torch.tensor([
        [1, 10, 11, 12, 13, 20, 2, -100, -100],      # everything trained (standard collator)
        [1, 10, 11, 20, 21, 22, 2, -100, -100],
        [-100, -100, -100, -100, 20, 2, -100, -100, -100],  # response only
        [1, 0, 11, 0, 2, -100, -100, -100, -100],    # id 0 is a real token, graded too
    ])
    prompt_lengths = [5, 3, 4, 3]
    want = {"prompt": 4 + 2 + 0 + 2, "response": 2 + 4 + 2 + 2}
    given = labels.clone()
    got = graded_counts(given, list(prompt_lengths))
    _labels_kept(given, labels, "graded_counts", READ_NOT_WRITE)
    assert isinstance(got, dict) and set(got) == {"prompt", "response"}, (
        "graded_counts should return a dict with the keys 'prompt' and 'response'"
        + (f", not {sorted(got)}." if isinstance(got, dict) else f", not {type(got).__name__}."))
    got = {k: int(v) for k, v in got.items()}
    if got == want:
        _check_another_batch(graded_counts)
        return
    if got == {"prompt": want["prompt"] - 1, "response": want["response"] - 1}:
        raise AssertionError("row 3 has the label 0 twice, and 0 is a real token id (graded "
                             "like any other): a prediction is graded when its label != -100.")
    if got == {"prompt": want["prompt"] + 3, "response": want["response"]}:
        raise AssertionError("you counted position 0 (the BOS): nothing predicts it, so it is "
                             "never graded. Count labels[:, 1:] only.")
    if got["prompt"] + got["response"] != sum(want.values()):
        raise AssertionError(f"there are {sum(want.values())} graded predictions in all "
                             f"(labels != -100 at positions 1..), you counted "
                             f"{got['prompt'] + got['response']}.")
    raise AssertionError(f"expected {want}, got {got}: position t is a prompt token when "
                         f"t < prompt_lengths[row].")


def _check_another_batch(graded_counts) -> None:
    """A second batch, of other lengths: the counts follow the arguments given."""
    import torch

    labels, prompt_lengths = [[1, 2, 3, 4], [-100, -100, 5, 6]], [2, 3]
    got = graded_counts(torch.tensor(labels), list(prompt_lengths))
    got = {k: int(v) for k, v in got.items()} if isinstance(got, dict) else got
    want = {"prompt": 1 + 1, "response": 2 + 1}
    assert got == want, (
        f"graded_counts(torch.tensor({labels}), {prompt_lengths}) should be {want}, not {got}: "
        f"count from the labels and prompt_lengths given (graded: position t >= 1 and label "
        f"!= -100; prompt: t < prompt_lengths[row]).")


# (input_ids, hidden positions, mask id, want input_ids, want labels, what the case shows)
MLM_CASES = [
    ([1, 5, 7, 8, 9, 2], [2, 4], 99, [1, 5, 99, 8, 99, 2], [IGNORE, IGNORE, 7, IGNORE, 9, IGNORE],
     "positions 2 and 4 are hidden behind the mask id in the input, and only they are graded, "
     "each against the id it hid"),
    ([1, 5, 7, 8, 9, 2], [4, 2], 99, [1, 5, 99, 8, 99, 2], [IGNORE, IGNORE, 7, IGNORE, 9, IGNORE],
     "the positions may come in any order"),
    ([1, 5, 7, 2], [], 99, [1, 5, 7, 2], [IGNORE] * 4,
     "nothing hidden: the input is unchanged and nothing is graded"),
    ([0, 3, 3, 3], [1, 3], 7, [0, 7, 3, 7], [IGNORE, 3, IGNORE, 3],
     "a repeated id is hidden only where its position is listed"),
]


def _mlm_labels(ids: list[int], hidden: list[int]) -> list[int]:
    return [t if p in hidden else IGNORE for p, t in enumerate(ids)]


def _mlm_diagnosis(ids: list[int], hidden: list[int], mask_id: int, got_ids: list[int],
                   got_labels: list[int]) -> str | None:
    """The learner's mistake in their terms, or None to fall back on the case's sentence."""
    keep = [p for p in range(len(ids)) if p not in hidden]
    if got_ids == got_labels and IGNORE in got_ids:
        return ("input_ids and labels are one list, so the -100s went into input_ids too: build "
                "two new lists")
    if hidden and got_labels == _mlm_labels(ids, [p - 1 for p in hidden]):
        return ("positions count from 0, as list indices do: position p is input_ids[p], not "
                "input_ids[p - 1]")
    shifted = [IGNORE] + got_labels[:-1], got_labels[1:] + [IGNORE]  # labels moved a position
    next_token = hidden and all(p + 1 < len(ids) and got_labels[p] == ids[p + 1] for p in hidden)
    if next_token or any(s == _mlm_labels(ids, hidden) for s in shifted):
        return ("no shift: with mlm=True a position is graded against its own token, the one it "
                "hid, not the next one")
    if hidden and all(got_ids[p] == ids[p] for p in hidden):
        return ("the input still shows the hidden tokens: mlm=True replaces each one with the "
                "mask id in input_ids, so the model must guess it")
    if hidden and all(got_labels[p] == mask_id for p in hidden):
        return ("a hidden position's label is the id it hid (what the model must guess), not the "
                "mask id")
    if all(got_labels[p] == IGNORE for p in hidden) and any(got_labels[p] != IGNORE for p in keep):
        return ("those are loss masking's labels, the other way round: with mlm=True the graded "
                "positions are the hidden ones, and every other label is -100")
    twins = [p for p in keep if ids[p] in {ids[h] for h in hidden}]  # same id, not hidden
    if any(got_ids[p] != ids[p] or got_labels[p] != IGNORE for p in twins):
        return ("a repeated id is hidden only where its position is listed: go by position, "
                "not by id")
    if any(got_labels[p] != IGNORE for p in keep):
        return "only the hidden positions are graded: every other label is -100"
    if any(got_ids[p] != ids[p] for p in keep):
        return "only the hidden positions change in the input; every other id stays as it was"
    return None


@exercise(
    "ex03_6",
    title="Two things called masking: what mlm=True does to a row",
    hints=[
        "Start from copies: masked = list(input_ids); labels = [-100] * len(input_ids).",
        "For each position p in `hidden`: labels[p] = input_ids[p] (the id to guess), then "
        "masked[p] = mask_id.",
        "No shift: with mlm=True a position is graded against its own token, not the next one.",
    ],
)
def check_mlm_row(mlm_row):
    for ids, hidden, mask_id, want_ids, want_labels, why in MLM_CASES:
        given = list(ids)
        out = mlm_row(given, list(hidden), mask_id)
        call = f"mlm_row({ids}, hidden={hidden}, mask_id={mask_id})"
        assert given == ids, (
            f"{call} changed the input_ids it was given (now {given}): build new lists.")
        assert isinstance(out, dict) and {"input_ids", "labels"} <= set(out), (
            f"{call} should return a dict with 'input_ids' and 'labels'"
            + (f", not the keys {sorted(out)}." if isinstance(out, dict)
               else f", not a {type(out).__name__}."))
        got_ids = token_ids(out["input_ids"], "input_ids")
        got_labels = token_ids(out["labels"], "labels")
        if (got_ids, got_labels) == (want_ids, want_labels):
            continue
        assert len(got_ids) == len(got_labels) == len(ids), (
            f"{call} should give one input id and one label per position ({len(ids)}), not "
            f"{len(got_ids)} and {len(got_labels)}: nothing is added or removed.")
        why = _mlm_diagnosis(ids, hidden, mask_id, got_ids, got_labels) or why
        raise AssertionError(f"{call} should give input_ids {want_ids} and labels "
                             f"{want_labels}, not {got_ids} and {got_labels}: {why}.")
    _check_against_the_collator(mlm_row)


def _check_against_the_collator(mlm_row) -> None:
    """With every ordinary token hidden, the answer is transformers' collator's with mlm=True."""
    # deferred: the grader's start imports every check module; these load torch
    from transformers import DataCollatorForLanguageModeling

    tokenizer = make_toy_tokenizer()
    tokenizer.add_special_tokens({"mask_token": "<mask>"})
    ids = tokenizer("### Instruction: What is 2+2? ### Response: 4")["input_ids"]
    ids = ids + [tokenizer.eos_token_id]
    collator = DataCollatorForLanguageModeling(
        tokenizer, mlm=True, mlm_probability=1.0, mask_replace_prob=1.0, random_replace_prob=0.0)
    batch = collator([{"input_ids": ids}])
    hidden = list(range(1, len(ids) - 1))  # every token but the BOS and the EOS (special ones)
    out = mlm_row(list(ids), hidden, tokenizer.mask_token_id)
    got = (token_ids(out["input_ids"], "input_ids"), token_ids(out["labels"], "labels"))
    want = (batch["input_ids"][0].tolist(), batch["labels"][0].tolist())
    assert got == want, (
        f"with every token but BOS and EOS hidden, DataCollatorForLanguageModeling(tokenizer, "
        f"mlm=True, mlm_probability=1.0, mask_replace_prob=1.0) gives input_ids {want[0]} and "
        f"labels {want[1]}, yours {got[0]} and {got[1]}.")
