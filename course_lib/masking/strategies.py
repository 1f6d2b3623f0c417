"""Every way of building labels side by side: the menu of the mask explorer and `course show-mask`.

    >>> label_examples([{"instruction": "Hi", "response": "hi"}], tok, "template")  # doctest: +SKIP
    [{'input_ids': [...], 'attention_mask': [...], 'labels': [-100, -100, ...]}]

`train(masking=...)` takes the first two; the other two exist to be *looked at*: the old
template search and TRL's own preparation, next to the course's way.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, Literal

from course_lib.errors import CourseError, shown
from course_lib.formatting.templates import DEFAULT_TEMPLATE, Template, get_template
from course_lib.masking import MASKINGS
from course_lib.masking.labels import (
    check_max_length,
    check_records,
    check_tokenizer,
    prepare_examples,
)
from course_lib.masking.standard_collator import lm_collator_batch
from course_lib.masking.template_search import CompletionOnlyCollator, tokenize_texts
from course_lib.masking.trl_labels import trl_prepare

LabelMasking = Literal["none", "response", "template", "trl"]  # the names in MASKINGS


def check_masking(masking: Any) -> None:
    """An unknown masking in one sentence (show_mask, the explorer and label_examples)."""
    if not isinstance(masking, str) or masking not in MASKINGS:
        raise CourseError(f"masking must be one of {', '.join(MASKINGS)}, not {shown(masking)}.")


def label_examples(
    records: Sequence[dict[str, Any]],
    tokenizer,
    masking: LabelMasking = "response",
    template: str | Template = DEFAULT_TEMPLATE,
    max_length: int | None = None,
) -> list[dict[str, list[int]]]:
    """One example (input_ids, attention_mask, labels) per record, labelled by `masking`.

    Nothing is dropped: an example whose labels end up all -100 is returned as it is, so a
    view or an audit can show it. "none" runs transformers' standard collator and "template"
    the old TRL one on the whole text, the way old tutorials used them (the latter fails on
    the one-line template); "response" is labels.prepare_examples, "trl" TRL's own preparation.
    """
    check_masking(masking)
    check_tokenizer(tokenizer, "label_examples(records, tokenizer, masking)")
    records = check_records(records, "label_examples(records, tokenizer, masking)")
    check_max_length(max_length)  # 0 gave empty examples; "24" a TypeError at the cut
    t = get_template(template)
    # No max_length in any branch: every strategy is cut the same way, at the end.
    if masking == "response":
        examples = prepare_examples(records, tokenizer, t).examples
    elif masking == "none":
        # The real transformers collator, one example at a time (no padding): with pad == eos
        # it masks the EOS, exactly as in training.
        examples = tokenize_texts(records, tokenizer, t)
        for ex in examples:
            ex["labels"] = lm_collator_batch([ex], tokenizer)["labels"][0].tolist()
    elif masking == "template":
        # The old collator finds the response marker in the whole text's tokens, as in training.
        examples = tokenize_texts(records, tokenizer, t)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the view shows the masked row instead
            collator = CompletionOnlyCollator(t.response_marker, tokenizer)
            for ex in examples:
                ex["labels"] = collator([ex["input_ids"]])["labels"][0].tolist()
    else:
        trl = trl_prepare(records, tokenizer, t, max_length=None)
        # TRL's examples have no attention_mask; unpadded, every token is attended to.
        examples = [{**e, "attention_mask": [1] * len(e["input_ids"])} for e in trl.examples]
    if max_length is not None:
        examples = [{k: v[:max_length] for k, v in e.items()} for e in examples]
    return examples
