"""Look inside a base model: what it thinks the next token is, and what it does with text.

Lesson 01's tools. A causal LM turns text into one probability distribution over its
vocabulary for the *next* token; everything else (generation, answers, training) is built
on that distribution:

    >>> top = next_token_probabilities(model, tok, "The capital of France is")  # doctest: +SKIP
    >>> print(top)                                                             # doctest: +SKIP
    'The capital of France is' -> next token:
      ·Paris   0.955
      ·Berlin  0.005
      ...
    >>> question = next_token_probabilities(model, tok, "What is 2+2?")    # doctest: +SKIP
    >>> plot_next_tokens([top, question])                                  # doctest: +SKIP
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from course_lib.display import CourseFigure, new_figure, token_texts, visible
from course_lib.env import evaluating
from course_lib.errors import CourseError, is_whole, shown
from course_lib.evaluation.generation import check_pair


@dataclass
class NextTokens:
    """The k most likely next tokens after `text`, with their probabilities (descending)."""

    text: str
    token_ids: list[int]
    tokens: list[str]  # decoded, whitespace made visible ('·' is a space, '↵' a newline)
    probs: list[float]

    def probability_of(self, token: str) -> float | None:
        """The probability of a token shown in the top k (by its visible text), or None."""
        for t, p in zip(self.tokens, self.probs, strict=True):
            if t == visible(token) or t == token:
                return p
        return None

    def __str__(self) -> str:
        width = max((len(t) for t in self.tokens), default=0)
        lines = [f"{self.text!r} -> next token:"]
        lines += [f"  {t:<{width}}  {p:.3f}" for t, p in zip(self.tokens, self.probs, strict=True)]
        return "\n".join(lines)

    def plot(self, ax=None):
        """A horizontal bar chart of the top-k tokens (most likely on top); returns the axes."""
        if ax is None:
            ax = new_figure(figsize=(4.5, 0.35 * len(self.tokens) + 1)).subplots()
        positions = list(range(len(self.tokens)))[::-1]
        ax.barh(positions, self.probs, color="#60a5fa")
        ax.set_yticks(positions, self.tokens)  # visible: no control character left
        ax.set_xlim(0, 1)
        ax.set_xlabel("probability of the next token")
        # A long prompt is wrapped: one line would be cut off at the figure's edges.
        ax.set_title(textwrap.fill(f"after {self.text!r}", 45), fontsize=10)
        for y, p in zip(positions, self.probs, strict=True):
            ax.text(min(p + 0.02, 0.85), y, f"{p:.2f}", va="center", fontsize=8)
        return ax


def next_token_probabilities(model, tokenizer, text: str, k: int = 10) -> NextTokens:
    """Softmax of the logits at the last position of `text` (BOS added as in training): top k.

    The model is left in the mode it was in (eval or train); nothing is generated.
    """
    check_arguments(model, tokenizer, text, k)
    enc = tokenizer(text, return_tensors="pt")
    with evaluating(model) as device:
        logits = model(input_ids=enc["input_ids"].to(device),
                       attention_mask=enc["attention_mask"].to(device)).logits[0, -1].float()
    probs = torch.softmax(logits, dim=-1)
    top = probs.topk(min(k, probs.numel()))
    ids = top.indices.tolist()
    tokens = token_texts(tokenizer, ids)
    return NextTokens(text=text, token_ids=ids, tokens=tokens, probs=top.values.tolist())


def check_arguments(model, tokenizer, text, k) -> None:
    """In the learner's words: k="5" or 2.5 were TypeErrors, a list of texts was answered for
    its first text under the list's repr, swapped model and tokenizer a TypeError in torch."""
    check_pair(model, tokenizer, "next_token_probabilities(model, tokenizer, text)")
    if not isinstance(text, str):
        raise CourseError(f"text must be one string, not a {type(text).__name__}; call "
                          f"next_token_probabilities once per text.")
    if not is_whole(k):
        raise CourseError(f"k must be a whole number, not {shown(k)}.")
    if k < 1:
        raise CourseError(f"k must be at least 1, not {k}.")


def plot_next_tokens(results: NextTokens | Sequence[NextTokens],
                     width: float = 4.5) -> CourseFigure:
    """Several NextTokens side by side, one bar chart each; returns the figure (an image)."""
    results = [results] if isinstance(results, NextTokens) else list(results)  # one is fine
    if not results:
        raise CourseError("plot_next_tokens needs at least one result of "
                          "next_token_probabilities.")
    height = 0.35 * max(len(r.tokens) for r in results) + 1.2
    fig = new_figure(figsize=(width * len(results), height))
    axes = fig.subplots(1, len(results), squeeze=False)
    for r, ax in zip(results, axes[0], strict=True):
        r.plot(ax)
    fig.tight_layout()
    return fig
