"""Three ways to build labels, and why the course uses the third.

1. Template search (the seed's `DataCollatorForCompletionOnlyLM`, removed in TRL 0.20):
   tokenize "### Response:" alone, look for those ids in every example, mask up to them.
   `CompletionOnlyCollator` re-implements it so its classic failure can be *seen*:

       >>> collator = CompletionOnlyCollator("### Response:", tok)          # doctest: +SKIP
       >>> collator([tok("### Instruction: What is 2+2? ### Response: 4")])  # doctest: +SKIP
       UserWarning: Could not find response key `### Response:` ... This instance will be
       ignored in loss calculation.

   Alone, "### Response:" starts with the token "###"; inside the seed's one-line text it
   follows a space and a byte-level BPE makes it " ###" (another id). The search fails and
   the whole row is masked: the example teaches nothing. `explain_template_mismatch` shows
   both tokenizations; `template_ids_in_context` gives the ids to search for instead.

2. The "wrong collator" of the seed, `transformers.DataCollatorForLanguageModeling(tok,
   mlm=False)`: labels = input_ids with -100 only where input_ids == pad id. It trains on the
   prompt, and when pad == eos it masks the real EOS too. `lm_collator_batch` runs it.

3. Segments (labels.py): tokenize prompt and response separately, so the boundary is known.
   TRL 1.x's SFTTrainer does the same when it prepares prompt/completion data;
   `trl_prepare` runs TRL's own preparation so the two can be compared.

`strategy_examples` builds one example's labels with any strategy, for the mask explorer.
"""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import torch

from course_lib.formatting import DEFAULT_TEMPLATE, Template, format_example, get_template
from course_lib.labels import IGNORE_INDEX, pad_batch, prepare_examples

Strategy = Literal["none", "response", "template", "trl"]
STRATEGIES: dict[str, str] = {
    "none": "no masking: DataCollatorForLanguageModeling(mlm=False), the seed's 'wrong collator'",
    "response": "response only: prompt and response tokenized as segments (labels.py)",
    "template": "template search: look for '### Response:' ids (the old TRL collator)",
    "trl": "TRL 1.x SFTTrainer with completion_only_loss=True",
}


# --- 0. Texts as the old recipes tokenized them ---------------------------------------------
def tokenize_texts(
    records: Sequence[dict[str, Any]],
    tokenizer,
    template: str | Template = DEFAULT_TEMPLATE,
    add_eos: bool = True,
) -> list[dict[str, list[int]]]:
    """Tokenize each record's whole text in one piece (prompt + response [+ EOS]), no labels.

    This is what the seed's recipe feeds its collator: one formatted string per example.
    """
    texts = ["".join(format_example(r, template, where=f"example {i}"))
             for i, r in enumerate(records)]
    if not texts:
        return []
    ids = tokenizer(texts)["input_ids"]
    eos = [tokenizer.eos_token_id] if add_eos else []
    return [{"input_ids": list(x) + eos, "attention_mask": [1] * (len(x) + len(eos))} for x in ids]


def _as_id_lists(examples: Sequence[Any], tokenizer) -> list[list[int]]:
    """Accept texts, token id lists, or dicts with input_ids (what a collator is given)."""
    out = []
    for e in examples:
        if isinstance(e, str):
            out.append(tokenizer(e)["input_ids"])
        elif isinstance(e, dict) or hasattr(e, "keys"):
            out.append(list(e["input_ids"]))
        else:
            out.append(list(e))
    return out


# --- 1. Template search, the historical DataCollatorForCompletionOnlyLM ----------------------
def find_subsequence(haystack: Sequence[int], needle: Sequence[int]) -> int | None:
    """Index where `needle` starts in `haystack` (first match), or None.

        >>> find_subsequence([5, 1, 2, 3], [2, 3])
        2
    """
    n = len(needle)
    if n == 0:
        return None
    for start in range(len(haystack) - n + 1):
        if list(haystack[start:start + n]) == list(needle):
            return start
    return None


@dataclass
class CompletionOnlyCollator:
    """A readable re-implementation of TRL's removed `DataCollatorForCompletionOnlyLM`.

    What the original did, step by step (TRL 0.7-0.19, causal LM, one response template):
      1. tokenize `response_template` alone, without special tokens;
      2. pad the batch and copy input_ids to labels, masking pad tokens *by id* (it inherited
         that from transformers' DataCollatorForLanguageModeling: with pad == eos the real EOS
         is masked as well);
      3. in every row, find the first place where the template's ids occur and set labels to
         -100 up to and including the template;
      4. if the ids occur nowhere, warn and mask the whole row.

    `response_template` may be text or a list of token ids; ids taken from context are the
    fix TRL's docs gave (trl#622): `CompletionOnlyCollator(template_ids_in_context(...), tok)`.
    `found` records, per row of the last batch, whether the template was found.
    """

    response_template: str | list[int]
    tokenizer: Any
    mlm: bool = False
    ignore_index: int = IGNORE_INDEX
    found: list[bool] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        if self.mlm:
            raise ValueError(
                "mlm=True means BERT-style random masking; a causal LM is trained with mlm=False"
            )
        if isinstance(self.response_template, str):
            # Step 1: the template alone. This is where the trouble starts (see module doc).
            self.response_token_ids = self.tokenizer.encode(
                self.response_template, add_special_tokens=False
            )
        else:
            self.response_token_ids = list(self.response_template)
        if not self.response_token_ids:
            raise ValueError("the response template is empty; pass '### Response:' or its ids")

    def __call__(self, examples: Sequence[Any]) -> dict[str, torch.Tensor]:
        rows = _as_id_lists(examples, self.tokenizer)
        pad_id = self.tokenizer.pad_token_id
        if pad_id is None:
            raise ValueError("the tokenizer has no pad token; set tokenizer.pad_token first")
        # Step 2: pad, copy to labels, mask padding by id (the original's behaviour).
        longest = max(len(r) for r in rows)
        input_ids = torch.tensor([r + [pad_id] * (longest - len(r)) for r in rows])
        attention_mask = torch.tensor([[1] * len(r) + [0] * (longest - len(r)) for r in rows])
        labels = input_ids.clone()
        labels[labels == pad_id] = self.ignore_index
        # Steps 3 and 4: search each row for the template's ids.
        self.found = []
        for i, row in enumerate(rows):
            start = find_subsequence(row, self.response_token_ids)
            self.found.append(start is not None)
            if start is None:
                warnings.warn(
                    f"Could not find response key `{self.response_template}` in the following "
                    f"instance: {self.tokenizer.decode(row)} This instance will be ignored in "
                    f"loss calculation. Note, if this happens often, consider increasing the "
                    f"`max_seq_length`. (course: example {i} of the batch is fully masked; "
                    f"see explain_template_mismatch)",
                    UserWarning,
                    stacklevel=2,
                )
                labels[i, :] = self.ignore_index
            else:
                labels[i, : start + len(self.response_token_ids)] = self.ignore_index
        return {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels}


def template_ids_in_context(tokenizer, marker: str, context: str) -> list[int]:
    """The token ids `marker` gets where it sits *inside* `context` (the fix for template search).

        >>> template_ids_in_context(tok, "### Response:", "### Instruction: Hi ### Response: 4")
        ... # doctest: +SKIP
        [291, 286, 29]     # ' ###', ' Response', ':'  (alone it would start with '###')

    Tokens are kept when their characters overlap the marker, so a token that glues the space
    before the marker on (" ###") is included. TRL's docs did the same by hand:
    `tokenizer.encode("\\n### Assistant:", add_special_tokens=False)[2:]`.
    """
    start = context.find(marker)
    if start < 0:
        raise ValueError(f"{marker!r} does not occur in the context {context!r}")
    end = start + len(marker)
    if getattr(tokenizer, "is_fast", False):
        enc = tokenizer(context, add_special_tokens=False, return_offsets_mapping=True)
        return [tid for tid, (s, e) in zip(enc["input_ids"], enc["offset_mapping"], strict=True)
                if s < end and e > start and e > s]
    # Slow tokenizers have no offsets: take the tokens that appear when the marker is added.
    before = tokenizer.encode(context[:start], add_special_tokens=False)
    upto = tokenizer.encode(context[:end], add_special_tokens=False)
    common = 0
    while common < min(len(before), len(upto)) and before[common] == upto[common]:
        common += 1
    return upto[common:]


def template_ids_for(tokenizer, template: str | Template = DEFAULT_TEMPLATE) -> list[int]:
    """Ids of the template's response marker as they occur in a formatted prompt."""
    t = get_template(template)
    context = t.format_prompt("What is 2+2?")
    return template_ids_in_context(tokenizer, t.response_marker, context)


@dataclass
class TemplateMismatch:
    """Both tokenizations of the response template, and whether the search would succeed."""

    template: str
    alone_ids: list[int]
    alone_tokens: list[str]
    context_ids: list[int]
    context_tokens: list[str]
    found: bool

    def __str__(self) -> str:
        lines = [
            f"{self.template!r} tokenized alone:    {self.alone_tokens}  ids {self.alone_ids}",
            f"the same text inside the example: {self.context_tokens}  ids {self.context_ids}",
        ]
        if self.found:
            lines.append("The ids match, so searching for the template works for this example.")
            return "\n".join(lines)
        diff = next((k for k, (a, b) in enumerate(zip(self.alone_ids, self.context_ids,
                                                       strict=False)) if a != b),
                    min(len(self.alone_ids), len(self.context_ids)))
        a = self.alone_tokens[diff] if diff < len(self.alone_tokens) else "(nothing)"
        c = self.context_tokens[diff] if diff < len(self.context_tokens) else "(nothing)"
        lines += [
            f"They differ at token {diff}: {a!r} alone but {c!r} in context (Ġ is a space, "
            f"Ċ a newline: in context the text before the template is glued onto it).",
            f"A search for {self.alone_ids} finds nothing, so the whole example is masked "
            f"and teaches nothing.",
            f"Fix: search for the in-context ids {self.context_ids} "
            f"(CompletionOnlyCollator({self.context_ids}, tokenizer)), or tokenize prompt and "
            f"response as separate segments (labels.prepare_examples), as TRL 1.x does.",
        ]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        import html

        colour = "#1a7f37" if self.found else "#cf222e"
        return f'<pre style="color:{colour}">{html.escape(str(self))}</pre>'


def explain_template_mismatch(tokenizer, template: str, text: str) -> TemplateMismatch:
    """Show how `template` tokenizes alone and inside `text`, and why a search fails.

        >>> print(explain_template_mismatch(tok, "### Response:",
        ...       "### Instruction: What is 2+2? ### Response: 4"))   # doctest: +SKIP
        '### Response:' tokenized alone:    ['###', 'ĠResponse', ':']  ids [262, 286, 29]
        the same text inside the example: ['Ġ###', 'ĠResponse', ':']  ids [291, 286, 29]
        They differ at token 0: '###' alone but 'Ġ###' in context ...
    """
    alone = tokenizer.encode(template, add_special_tokens=False)
    in_context = template_ids_in_context(tokenizer, template, text)
    full = tokenizer.encode(text, add_special_tokens=False)
    return TemplateMismatch(
        template=template,
        alone_ids=alone,
        alone_tokens=tokenizer.convert_ids_to_tokens(alone),
        context_ids=in_context,
        context_tokens=tokenizer.convert_ids_to_tokens(in_context),
        found=find_subsequence(full, alone) is not None,
    )


# --- 2. The standard collator: the seed's "wrong collator" -----------------------------------
def lm_collator_batch(examples: Sequence[Any], tokenizer) -> dict[str, torch.Tensor]:
    """Run `transformers.DataCollatorForLanguageModeling(tokenizer, mlm=False)` on examples.

    Examples are texts, id lists or dicts with input_ids (their labels, if any, are ignored:
    this collator makes its own). The returned labels are input_ids with -100 only where the
    token id equals the pad id: the prompt is trained, and with pad == eos the real EOS is
    masked too, so the model never learns to stop.
    """
    from transformers import DataCollatorForLanguageModeling

    rows = _as_id_lists(examples, tokenizer)
    collator = DataCollatorForLanguageModeling(tokenizer, mlm=False)
    return collator([{"input_ids": r} for r in rows])


def mlm_collator_batch(
    examples: Sequence[Any], tokenizer, mlm_probability: float = 0.15, seed: int | None = 0,
):
    """What `mlm=True` would do: transformers' DataCollatorForLanguageModeling in masked-LM mode.

    BERT-style training picks about `mlm_probability` of the (non-special) tokens at random,
    hides most of them behind a mask token in the *input*, and grades only those positions:
    every other label is -100. Causal instruction tuning wants none of this, hence the seed's
    `mlm=False`. A causal tokenizer has no mask token, so a copy gets one ("<mask>", a new id
    the model has never seen). Returns (batch, tokenizer used); `seed` makes the draw repeatable.
    """
    import copy

    from transformers import DataCollatorForLanguageModeling

    if tokenizer.mask_token is None:
        tokenizer = copy.deepcopy(tokenizer)
        tokenizer.add_special_tokens({"mask_token": "<mask>"})
    rows = _as_id_lists(examples, tokenizer)
    collator = DataCollatorForLanguageModeling(tokenizer, mlm=True,
                                               mlm_probability=mlm_probability)
    if seed is not None:
        torch.manual_seed(seed)
    return collator([{"input_ids": r} for r in rows]), tokenizer


# --- 3. TRL 1.x's own dataset preparation ---------------------------------------------------
@dataclass
class TRLPrepared:
    """What SFTTrainer prepared: examples (input_ids, labels) and the records it dropped."""

    examples: list[dict[str, list[int]]]
    kept: list[int]  # index in the records given, for each example
    dropped: list[int]  # TRL (>= 1.9) drops fully masked rows without saying which


def trl_prepare(
    records: Sequence[dict[str, Any]],
    tokenizer,
    template: str | Template = DEFAULT_TEMPLATE,
    max_length: int | None = 1024,
    completion_only_loss: bool = True,
    model=None,
) -> TRLPrepared:
    """Build labels exactly as TRL's SFTTrainer does, by running its dataset preparation.

    Records become {"prompt", "completion"}; SFTTrainer (TRL >= 1.7) appends EOS, tokenizes
    prompt and prompt+completion, masks the prompt (completion_only_loss=True), truncates to
    max_length and drops rows left with no trained token. No training happens. `model`
    defaults to a throwaway toy model sized to the tokenizer (the model plays no part in
    label building).
    """
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    if model is None:
        from course_lib.toy import make_toy_model

        model = make_toy_model(tokenizer)
    rows = []
    for i, r in enumerate(records):
        prompt, completion = format_example(r, template, where=f"example {i}")
        rows.append({"prompt": prompt, "completion": completion, "course_index": i})
    if not rows:
        return TRLPrepared(examples=[], kept=[], dropped=[])
    with tempfile.TemporaryDirectory() as tmp, _quiet_datasets():
        # transformers >= 5.2x renamed gradient_checkpointing (TRL defaults it to True).
        fields = SFTConfig.__dataclass_fields__
        no_ckpt = ("activation_checkpointing" if "activation_checkpointing" in fields
                   else "gradient_checkpointing")
        config = SFTConfig(
            output_dir=tmp, completion_only_loss=completion_only_loss, max_length=max_length,
            use_cpu=True, bf16=False, report_to="none", shuffle_dataset=False,
            **{no_ckpt: False},
        )
        trainer = SFTTrainer(model=model, args=config, processing_class=tokenizer,
                             train_dataset=Dataset.from_list(rows))
        prepared = trainer.train_dataset
    kept = list(prepared["course_index"])
    examples = [{"input_ids": list(ids), "labels": list(lab)}
                for ids, lab in zip(prepared["input_ids"], prepared["labels"], strict=True)]
    dropped = sorted(set(range(len(rows))) - set(kept))
    return TRLPrepared(examples=examples, kept=kept, dropped=dropped)


class _quiet_datasets:
    """Hide datasets' progress bars while TRL prepares (they flood a notebook cell)."""

    def __enter__(self):
        import datasets

        self.was_enabled = datasets.is_progress_bar_enabled()
        datasets.disable_progress_bars()

    def __exit__(self, *exc):
        import datasets

        if self.was_enabled:
            datasets.enable_progress_bars()


# --- All strategies side by side (the mask explorer's menu) ---------------------------------
def strategy_examples(
    records: Sequence[dict[str, Any]],
    tokenizer,
    strategy: Strategy = "response",
    template: str | Template = DEFAULT_TEMPLATE,
    max_length: int | None = None,
) -> list[dict[str, list[int]]]:
    """One example (input_ids, attention_mask, labels) per record, labelled by `strategy`.

    Nothing is dropped: an example whose labels end up all -100 is returned as it is, so a
    view or an audit can show it. "none" runs transformers' standard collator and "template"
    the old TRL one on the whole text, the way the seed used them (the latter fails on the
    seed template); "response" is labels.prepare_examples, "trl" TRL's own preparation.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {', '.join(STRATEGIES)}, not {strategy!r}")
    t = get_template(template)
    if strategy == "response":
        examples = prepare_examples(records, tokenizer, t).examples
    elif strategy == "none":
        # The real transformers collator, one example at a time (no padding): with pad == eos
        # it masks the EOS, exactly as in training.
        examples = tokenize_texts(records, tokenizer, t)
        for ex in examples:
            ex["labels"] = lm_collator_batch([ex], tokenizer)["labels"][0].tolist()
    elif strategy == "template":
        examples = tokenize_texts(records, tokenizer, t)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the view shows the masked row instead
            collator = CompletionOnlyCollator(t.response_marker, tokenizer)
            for ex in examples:
                ex["labels"] = collator([ex["input_ids"]])["labels"][0].tolist()
    else:
        trl = trl_prepare(records, tokenizer, t, max_length=None)
        examples = [{**e, "attention_mask": [1] * len(e["input_ids"])} for e in trl.examples]
    if max_length is not None:
        examples = [{k: v[:max_length] for k, v in e.items()} for e in examples]
    return examples


def pad_examples(examples: Sequence[dict[str, list[int]]], tokenizer) -> dict[str, torch.Tensor]:
    """Pad examples that carry labels into a batch (labels padded by position, see labels.py)."""
    return pad_batch(examples, tokenizer.pad_token_id)
