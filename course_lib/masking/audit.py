"""Audit labels before training: the masking mistakes people actually make, found in seconds.

    >>> audit = audit_labels(batch, tokenizer)      # doctest: +SKIP
    >>> print(audit)                                # doctest: +SKIP
    2 examples, 11 of 41 predictions trained (27%).
    Example 1 has no trained token: its loss is 0/0 = NaN. ...

One call checks, per example:
  * the trained fraction (how many next-token predictions are graded);
  * no trained token at all (the loss of that row is 0/0 = NaN, or a silent 0);
  * the prompt trained (plain language modelling);
  * EOS not trained (the model never learns to stop), and the pad == eos variant of it;
  * the response template not found (what made the old collator mask whole rows);
  * labels on padding (attention_mask 0 but label != -100).

Counting convention: position 0 is never predicted (nothing comes before it), so only labels
at positions 1.. are counted, exactly the ones the shifted cross-entropy uses.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from course_lib.display import THEME_ERROR, THEME_TEXT
from course_lib.errors import CourseError, advice
from course_lib.formatting.rows import listed
from course_lib.masking.labels import IGNORE_INDEX, PreparedData, as_rows, check_tokenizer
from course_lib.masking.template_search import find_subsequence


@dataclass
class ExampleAudit:
    """The audit of one example (`index` is its position in what was audited)."""

    index: int
    n_tokens: int  # real tokens (attention_mask 1)
    n_trained: int  # graded predictions (labels != -100 at positions 1..)
    eos_trained: bool
    problems: list[str] = field(default_factory=list)

    @property
    def trained_fraction(self) -> float:
        """Trained predictions / predictions (real tokens minus the first)."""
        return self.n_trained / max(self.n_tokens - 1, 1)


@dataclass
class LabelAudit:
    """Per-example audits and totals; `warnings` are plain sentences naming the example."""

    examples: list[ExampleAudit]

    @property
    def warnings(self) -> list[str]:
        return [p for e in self.examples for p in e.problems]

    @property
    def ok(self) -> bool:
        return not self.warnings

    @property
    def n_trained(self) -> int:
        return sum(e.n_trained for e in self.examples)

    @property
    def n_predictions(self) -> int:
        return sum(max(e.n_tokens - 1, 0) for e in self.examples)

    @property
    def trained_fraction(self) -> float:
        return self.n_trained / max(self.n_predictions, 1)

    @property
    def fully_masked(self) -> list[int]:
        """Indices of examples with no trained token (NaN or 0 loss)."""
        return [e.index for e in self.examples if e.n_trained == 0]

    @property
    def eos_untrained(self) -> list[int]:
        return [e.index for e in self.examples if not e.eos_trained]

    def summary(self) -> str:
        n = len(self.examples)
        return (f"{n} example{'s' if n != 1 else ''}, {self.n_trained} of {self.n_predictions} "
                f"predictions trained ({self.trained_fraction:.0%}).")

    def __str__(self) -> str:
        lines = [self.summary()]
        lines += self.warnings or ["No masking problem found."]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{e.index}</td><td>{e.n_tokens}</td><td>{e.n_trained}</td>"
            f"<td>{e.trained_fraction:.0%}</td><td>{'yes' if e.eos_trained else 'no'}</td>"
            # The theme's colours (a fixed red read at 3.5:1 on JupyterLab Dark's page).
            f"<td style='color:{THEME_ERROR if e.problems else THEME_TEXT}'>"
            f"{html.escape(' '.join(e.problems)) or 'ok'}</td></tr>"
            for e in self.examples
        )
        return (
            f"<div><p><b>{html.escape(self.summary())}</b></p>"
            "<table><tr><th>example</th><th>tokens</th><th>trained</th><th>fraction</th>"
            f"<th>EOS trained</th><th>problems</th></tr>{rows}</table></div>"
        )


def _rows(batch_or_examples: Any) -> list[dict[str, list[int]]]:
    """Rows with labels (as_rows), or an error saying labels must be built first."""
    if isinstance(batch_or_examples, PreparedData):  # was "'PreparedData' is not iterable"
        raise CourseError("audit_labels takes examples, not what prepare_examples returned; "
                          "give its examples: prepare_examples(records, tokenizer).examples.")
    rows = as_rows(batch_or_examples)
    for i, row in enumerate(rows):
        if "labels" not in row:  # records, tokenize_texts' rows: nothing to audit yet
            raise CourseError(f"example {i} has no labels to audit; give labelled examples, "
                              f"e.g. prepare_examples(records, tokenizer).examples or a "
                              f"collator's batch.")
    return rows


def _template_ids(tokenizer, response_template: str | Sequence[int] | None) -> list[int] | None:
    if response_template is None:
        return None
    if isinstance(response_template, str):
        return tokenizer.encode(response_template, add_special_tokens=False)
    return list(response_template)


def audit_labels(
    batch_or_examples: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    tokenizer,
    response_template: str | Sequence[int] | None = None,
    indices: Sequence[int] | None = None,
    names: Sequence[str] | None = None,
) -> LabelAudit:
    """Audit the labels of a batch (tensors) or a list of examples (lists of ids).

    `response_template` (text or ids) also checks that a template search would find it.
    `indices` numbers the examples (default 0, 1, ...), e.g. PreparedData.kept so that the
    numbers match the learner's records; `names` names them in the warnings instead of
    "Example 3" (e.g. "line 4", as `course show-mask` numbers a file's rows).
    """
    check_tokenizer(tokenizer, "audit_labels(examples, tokenizer)")
    rows = _rows(batch_or_examples)
    # Read once, by position: a generator had no len(), a Series was read by its index labels.
    indices, names = (None if given is None else listed(given) for given in (indices, names))
    for given, what in ((indices, "indices"), (names, "names")):
        if given is not None and len(given) != len(rows):
            raise CourseError(f"{what} holds {len(given)} entries for {len(rows)} examples; "
                              f"give one per example, or leave {what} out.")
    template_ids = _template_ids(tokenizer, response_template)
    return LabelAudit(examples=[
        audit_example(row, tokenizer, indices[pos] if indices is not None else pos, template_ids,
                      names[pos] if names is not None else None)
        for pos, row in enumerate(rows)
    ])


def audit_example(row: dict[str, list[int]], tokenizer, i: int,
                  template_ids: list[int] | None = None, name: str | None = None
                  ) -> ExampleAudit:
    """The audit of one example (input_ids, labels, optional attention_mask), numbered `i`
    and named `name` in its warnings (default "Example i")."""
    name = name or f"Example {i}"
    ids, labels = row["input_ids"], row["labels"]
    if len(ids) != len(labels):
        raise CourseError(f"example {i} has {len(ids)} input_ids but {len(labels)} labels; "
                          f"labels must line up with input_ids, one label per token.")
    # Padding is told by the mask, not by id: the pad id can be the EOS id.
    mask = row.get("attention_mask") or [1] * len(ids)
    real = [t for t in range(len(ids)) if mask[t]]
    # Position 0 is never predicted, so only labels from the second real token on count.
    trained = [t for t in real[1:] if labels[t] != IGNORE_INDEX]
    # An EOS that is never trained never teaches the model to stop.
    eos_positions = [t for t in real if ids[t] == tokenizer.eos_token_id]
    eos_trained = any(labels[t] != IGNORE_INDEX for t in eos_positions)
    problems = _mask_problems(name, labels, real, trained)
    problems += _eos_problems(name, tokenizer, trained, eos_positions, eos_trained)
    # A trained pad position teaches the model to predict padding, which it never reads.
    on_padding = [t for t in range(len(ids)) if not mask[t] and labels[t] != IGNORE_INDEX]
    if on_padding:
        problems.append(
            f"{name} trains on {len(on_padding)} padding position(s) "
            f"(attention_mask 0 but label != -100); pad labels with -100 "
            f"(masking.labels.pad_batch)."
        )
    # Only asked with template ids: the check is for template-search collators.
    if template_ids is not None and find_subsequence([ids[t] for t in real], template_ids) is None:
        problems.append(
            f"{name} does not contain the response template's ids {template_ids}, "
            f"so a template-search collator masks the whole row. The template "
            f"tokenizes differently in context; see template_search.explain_template_mismatch."
        )
    return ExampleAudit(index=i, n_tokens=len(real), n_trained=len(trained),
                        eos_trained=eos_trained, problems=problems)


def _mask_problems(name: str, labels: list[int], real: list[int], trained: list[int]) -> list[str]:
    """Nothing trained (0/0), or the prompt trained (plain language modelling)."""
    if not trained:
        return [f"{name} has no trained token: its loss is 0/0 = NaN (or a silent 0). "
                f"The response was probably truncated away or the response template was not "
                f"found; raise {advice('max_length', '--max-length')} or label by segment "
                f"({advice('labels.prepare_examples', '--masking response')})."]
    if len(real) > 1 and labels[real[1]] != IGNORE_INDEX:
        # Response-only labels never grade the prompt's first tokens.
        return [f"{name} trains on its prompt ({len(trained)} of {len(real) - 1} "
                f"predictions trained, from the first token on): that is plain language "
                f"modelling. Mask the prompt with -100 "
                f"({advice('labels.prepare_examples', '--masking response')})."]
    return []


def _eos_problems(name: str, tokenizer, trained: list[int], eos_positions: list[int],
                  eos_trained: bool) -> list[str]:
    """No EOS at all, or an EOS that is not trained (often: pad == eos, masked by id)."""
    if not trained or eos_trained:
        return []
    if not eos_positions:
        return [f"{name} has no EOS token, so the model never sees where an answer ends "
                f"and will not learn to stop; append tokenizer.eos_token to each response "
                f"(or raise {advice('max_length', '--max-length')} if truncation cut it off)."]
    if tokenizer.pad_token_id is not None and tokenizer.pad_token_id == tokenizer.eos_token_id:
        return [f"{name}'s EOS is not trained because pad == eos and the labels were "
                f"masked by token id: the real EOS was masked with the padding. Pad labels "
                f"by position instead (masking.labels.pad_batch), or give the tokenizer its "
                f"own pad token."]
    return [f"{name}'s EOS is not trained, so the model will not learn to stop; "
            f"keep the EOS after the response in the labels."]
