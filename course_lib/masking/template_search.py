"""The old way to find the response: search the tokens for "### Response:", and how it fails.

TRL's `DataCollatorForCompletionOnlyLM` (removed in TRL 0.20) tokenized "### Response:" alone,
looked for those ids in every example and masked everything up to them.
`CompletionOnlyCollator` re-implements it so its classic failure can be *seen* (one difference:
where a row holds the template twice it masks up to the first, TRL's loop went on to the last
and masked the start of an answer that quotes the template):

    >>> collator = CompletionOnlyCollator("### Response:", tok)          # doctest: +SKIP
    >>> collator([tok("### Instruction: What is 2+2? ### Response: 4")])  # doctest: +SKIP
    UserWarning: Could not find response key `### Response:` ... This instance will be
    ignored in loss calculation.

Alone, "### Response:" starts with the token "###"; inside the one-line template's text it
follows a space and a byte-level BPE makes it " ###" (another id). The search fails and the
whole row is masked: the example teaches nothing. `explain_template_mismatch` shows both
tokenizations; `template_ids_in_context` gives the ids to search for instead. The course's
own way (labels.py) tokenizes the prompt alone and the whole text, and never searches.
"""

from __future__ import annotations

import html
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from course_lib.display import THEME_ERROR, THEME_TEXT, token_texts
from course_lib.errors import CourseError
from course_lib.formatting.rows import listed
from course_lib.formatting.templates import (
    DEFAULT_TEMPLATE,
    Template,
    format_as_trained,
    get_template,
)
from course_lib.masking.labels import IGNORE_INDEX, as_rows, check_records, check_tokenizer
from course_lib.masking.standard_collator import check_pad_token


def tokenize_texts(
    records: Sequence[dict[str, Any]],
    tokenizer,
    template: str | Template = DEFAULT_TEMPLATE,
    add_eos: bool = True,
) -> list[dict[str, list[int]]]:
    """Tokenize each record's whole text in one piece (prompt + response [+ EOS]), no labels.

    This is what the old recipes fed their collator: one formatted string per example.
    """
    check_tokenizer(tokenizer, "tokenize_texts(records, tokenizer)")
    records = check_records(records, "tokenize_texts(records, tokenizer)")
    texts = ["".join(format_as_trained(r, template, where=f"example {i}"))
             for i, r in enumerate(records)]
    if not texts:
        return []
    ids = tokenizer(texts)["input_ids"]
    eos = [tokenizer.eos_token_id] if add_eos else []
    return [{"input_ids": list(x) + eos, "attention_mask": [1] * (len(x) + len(eos))} for x in ids]


def find_subsequence(haystack: Sequence[int], needle: Sequence[int]) -> int | None:
    """Index where `needle` starts in `haystack` (first match), or None.

        >>> find_subsequence([5, 1, 2, 3], [2, 3])
        2
    """
    haystack, needle = listed(haystack), listed(needle)  # a generator, a tensor: read once
    n = len(needle)
    if n == 0:
        return None
    for start in range(len(haystack) - n + 1):
        if haystack[start:start + n] == needle:
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
        check_tokenizer(self.tokenizer, "CompletionOnlyCollator(template_ids, tokenizer)")
        if self.mlm:
            raise CourseError("mlm=True means BERT-style random masking, which a causal LM "
                              "does not train with; leave mlm out (it is False).")
        if isinstance(self.response_template, str):
            # Step 1: the template alone. This is where the trouble starts (see module doc).
            self.response_token_ids = self.tokenizer.encode(
                self.response_template, add_special_tokens=False
            )
        else:
            self.response_token_ids = list(self.response_template)
        if not self.response_token_ids:
            raise CourseError(f"the response template {self.response_template!r} has no "
                              f"tokens; give the marker before the answer, e.g. "
                              f"'### Response:', or its ids: template_ids_for(tokenizer).")

    def __call__(self, examples: Sequence[Any]) -> dict[str, torch.Tensor]:
        """Pad the batch, then mask each row up to the end of the template's ids found in it."""
        given = as_rows(examples, self.tokenizer)
        if any("input_ids" not in row for row in given):  # records: a KeyError from below
            raise CourseError("the collator takes tokenized examples (input_ids), not records; "
                              "make them first: tokenize_texts(records, tokenizer).")
        rows = [row["input_ids"] for row in given]
        if not rows:  # was "max() arg is an empty sequence"
            raise CourseError("the collator got no examples; give it a list of them, e.g. "
                              "tokenize_texts(records, tokenizer).")
        check_pad_token(self.tokenizer)  # rows of different lengths cannot be padded
        pad_id = self.tokenizer.pad_token_id
        # Step 2: pad, copy to labels, mask padding by id (the original's behaviour).
        longest = max(len(r) for r in rows)
        input_ids = torch.tensor([r + [pad_id] * (longest - len(r)) for r in rows])
        attention_mask = torch.tensor([[1] * len(r) + [0] * (longest - len(r)) for r in rows])
        labels = input_ids.clone()
        labels[labels == pad_id] = self.ignore_index
        # Steps 3 and 4: search each row for the template's ids. Which rows had it is kept, for
        # the lesson's check (a row without it is fully masked).
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
        raise CourseError(f"the marker {marker!r} does not occur in the context "
                          f"{context!r}; give a context that contains it, e.g. a formatted "
                          f"example of the template.")
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
    check_tokenizer(tokenizer, "template_ids_for(tokenizer)")
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
        # Both tokenizations one above the other, so the eye finds the odd token.
        lines = [
            f"{self.template!r} tokenized alone:    {self.alone_tokens}  ids {self.alone_ids}",
            f"the same text inside the example: {self.context_tokens}  ids {self.context_ids}",
        ]
        if self.found:
            # Said for this example only: other text before the marker may tokenize otherwise.
            lines.append("The ids match, so searching for the template works for this example.")
            return "\n".join(lines)
        # The first token that differs, or where the shorter list ends if it is the other's start.
        diff = next((k for k, (a, b) in enumerate(zip(self.alone_ids, self.context_ids,
                                                       strict=False)) if a != b),
                    min(len(self.alone_ids), len(self.context_ids)))
        # Lists of unequal length would index past the shorter one: that side reads "(nothing)".
        a = self.alone_tokens[diff] if diff < len(self.alone_tokens) else "(nothing)"
        c = self.context_tokens[diff] if diff < len(self.context_tokens) else "(nothing)"
        # Why it fails, what it costs (a fully masked example) and the two fixes, in that order.
        lines += [
            f"They differ at token {diff}: {a!r} alone but {c!r} in context (· is a space, "
            f"↵ a newline: in context the text before the template is glued onto it).",
            f"A search for {self.alone_ids} finds nothing, so the whole example is masked "
            f"and teaches nothing.",
            f"Fix: search for the in-context ids {self.context_ids} "
            f"(CompletionOnlyCollator({self.context_ids}, tokenizer)), or take the response "
            f"from after the prompt's own ids (labels.prepare_examples), so nothing is searched.",
        ]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        # The theme's colours: a fixed green or red read at 3.5:1 on JupyterLab Dark's page.
        colour = THEME_TEXT if self.found else THEME_ERROR
        return f'<pre style="color:{colour}">{html.escape(str(self))}</pre>'


def explain_template_mismatch(tokenizer, template: str, text: str) -> TemplateMismatch:
    """Show how `template` tokenizes alone and inside `text`, and why a search fails.

        >>> print(explain_template_mismatch(tok, "### Response:",
        ...       "### Instruction: What is 2+2? ### Response: 4"))   # doctest: +SKIP
        '### Response:' tokenized alone:    ['###', '·Response', ':']  ids [262, 286, 29]
        the same text inside the example: ['·###', '·Response', ':']  ids [291, 286, 29]
        They differ at token 0: '###' alone but '·###' in context ...
    """
    check_tokenizer(tokenizer, "explain_template_mismatch(tokenizer, template, text)")
    alone = tokenizer.encode(template, add_special_tokens=False)
    in_context = template_ids_in_context(tokenizer, template, text)
    full = tokenizer.encode(text, add_special_tokens=False)
    return TemplateMismatch(
        template=template,
        alone_ids=alone,
        alone_tokens=token_texts(tokenizer, alone),
        context_ids=in_context,
        context_tokens=token_texts(tokenizer, in_context),
        found=find_subsequence(full, alone) is not None,
    )
