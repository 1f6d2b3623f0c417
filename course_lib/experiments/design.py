"""What an experiment is: a baseline, variants that change one thing, and what is measured.

    >>> arm = Arm("unmasked", change="loss on every token", masking="none")
    >>> arm.train_settings()
    {'masking': 'none'}
    >>> run = ArmRun(rows=[{"reference": "4", "exact_match": True, "kind": "add"},
    ...                    {"reference": "6", "exact_match": False, "kind": "add"}])
    >>> print(EXACT_MATCH.measure(run))
    1/2 = 0.50 [0.09, 0.91]

An arm leaves everything it does not name to the default recipe (`train()`'s defaults), so
an experiment follows the recipe when the recipe changes. A metric reads one `ArmRun`: the
scored answers of one trained model (evaluation/report.py's rows), its statement-form
knowledge, and its training time. Metrics are plain functions of those rows, so a cached run
can be measured again without training again.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from course_lib.evaluation.metrics import exact_match, normalize_answer
from course_lib.evaluation.uncertainty import Rate
from course_lib.world.phrasings import ARITHMETIC
from course_lib.world.variants import copies_poor_style


@dataclass(frozen=True)
class Arm:
    """One way to fine-tune: its name, the one thing it changes, and train() settings.

    `None` (and masking "response") means "as the default recipe does"; `freeze=()` says
    explicitly "train every weight", whatever the recipe freezes.
    """

    name: str
    change: str = ""  # what differs from the baseline, in a few words ("" for the baseline)
    # None: the default recipe's data; else a file, a course set ("course:...") or records
    # in memory (a list of dicts), as train() takes them
    data: str | list[dict[str, Any]] | None = None
    masking: str = "response"
    freeze: tuple[str, ...] | None = None
    lora: bool | None = None  # None: train()'s choice (the preset's: LoRA for qwen2.5-0.5b)
    learning_rate: float | None = None  # None: train()'s default for the model and settings
    optional: bool = False  # left out when it trains exactly like another arm

    def __post_init__(self) -> None:
        # As train() reads freeze: "mlp" is one piece, not the letters m, l and p (which
        # froze every weight); a list is kept as a tuple (the arm stays hashable).
        if isinstance(self.freeze, str):
            object.__setattr__(self, "freeze", (self.freeze,))
        elif self.freeze is not None:
            object.__setattr__(self, "freeze", tuple(self.freeze))

    def train_settings(self) -> dict[str, Any]:
        """The keywords this arm passes to `train()` (everything else: the defaults)."""
        settings: dict[str, Any] = {}
        if self.data is not None:
            settings["data"] = self.data
        if self.masking != "response":
            settings["masking"] = self.masking
        if self.freeze is not None:
            settings["freeze"] = tuple(self.freeze)
        if self.lora is not None:
            settings["lora"] = self.lora
        if self.learning_rate is not None:
            settings["learning_rate"] = self.learning_rate
        return settings


@dataclass
class ArmRun:
    """What one arm measured with one training seed (what the cache keeps on disk)."""

    rows: list[dict[str, Any]]  # evaluate()'s scored rows: response, reference, checks, ...
    statements: list[bool] = field(default_factory=list)  # statement-form facts completed
    train_seconds: float = 0.0
    eval_seconds: float = 0.0
    final_loss: float | None = None
    cached: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "statements": self.statements,
                "train_seconds": self.train_seconds, "eval_seconds": self.eval_seconds,
                "final_loss": self.final_loss}


@dataclass(frozen=True)
class Metric:
    """A number read from an ArmRun: a Rate (k/n) or a float (a time, or another number)."""

    key: str
    label: str
    measure: Callable[[ArmRun], Rate | float]
    higher_is_better: bool = True
    timed: bool = False  # seconds: a verdict says they move with the machine's load


@dataclass(frozen=True)
class Experiment:
    """A baseline (arms[0]) and variants that each change one thing, measured the same way."""

    name: str  # for `course experiment NAME`
    title: str
    claim: str  # what instruction-tuning guides say, in their words
    hypothesis: str  # the claim as a measurable prediction, written before any result
    arms: tuple[Arm, ...]
    metrics: tuple[Metric, ...]
    templates: tuple[str, ...] = ("one_line",)  # the templates the questions are asked in
    eval_data: str = "course:eval_styles"
    note: str = ""  # what is held equal and why, when it needs saying

    def __post_init__(self) -> None:
        # templates="qa" is one template, not the letters q and a.
        if isinstance(self.templates, str):
            object.__setattr__(self, "templates", (self.templates,))

    @property
    def baseline(self) -> Arm:
        return self.arms[0]


# --- measuring rows ------------------------------------------------------------------------
def rate(rows: Iterable[dict[str, Any]], test: Callable[[dict[str, Any]], bool]) -> Rate:
    """The share of `rows` for which `test(row)` holds, as k/n."""
    return Rate.of(test(r) for r in rows)


def where(run: ArmRun, **labels: Any) -> list[dict[str, Any]]:
    """The rows whose labels equal the given values: where(run, seen=False, template="qa")."""
    return [r for r in run.rows if all(r.get(k) == v for k, v in labels.items())]


def with_reference(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if r.get("reference") is not None]


def exact_match_rate(**labels: Any) -> Callable[[ArmRun], Rate]:
    """Exact match over the rows with these labels (all rows with a reference if none)."""
    return lambda run: rate(with_reference(where(run, **labels)), lambda r: r["exact_match"])


def on_kinds(kinds: Iterable[str], arithmetic: bool) -> Callable[[ArmRun], Rate]:
    """Exact match on the arithmetic kinds (True) or on every other kind (False)."""
    kinds = set(kinds)
    return lambda run: rate(
        [r for r in with_reference(run.rows) if (r.get("kind") in kinds) == arithmetic],
        lambda r: r["exact_match"])


def template_leak(run: ArmRun) -> Rate:
    """Answers holding a template marker ("### Instruction:", "Human:", "Q:", ...)."""
    return rate(run.rows, lambda r: not r["checks"]["no_template_leak"])


def every_check(run: ArmRun) -> Rate:
    """Answers that pass every adherence check (answered, stopped, no marker, length, ...)."""
    return rate(run.rows, lambda r: all(r["checks"].values()))


def poor_style(run: ArmRun) -> Rate:
    """Answers that copy a poor style: a non-answer, rambling, or more questions."""
    return rate(run.rows, lambda r: copies_poor_style(r["response"]) is not None)


ANSWER_IS = re.compile(r"^\s*the answer is\b", re.IGNORECASE)


def answer_in_any_style(response: str, reference: str) -> bool:
    """The reference, bare, as "The answer is X." or at the end of a sentence stating it.

    >>> [answer_in_any_style(t, "perro") for t in
    ...  ("perro", "The answer is perro.", 'In Spanish, "dog" is "perro".', "gato")]
    [True, True, True, False]
    """
    bare = ANSWER_IS.sub("", response)
    if exact_match(bare, reference):
        return True
    words, want = normalize_answer(response).split(), normalize_answer(reference).split()
    strip = '."\''
    return bool(want) and [w.strip(strip) for w in words[-len(want):]] == want


def right_in_any_style(run: ArmRun) -> Rate:
    """Answers right in any style the data uses (bare, "The answer is X.", a sentence)."""
    return rate(with_reference(run.rows),
                lambda r: answer_in_any_style(r["response"], r["reference"]))


def style_leak(run: ArmRun) -> Rate:
    """'The answer is ...' where it does not belong: answers to the non-arithmetic tasks."""
    return rate([r for r in run.rows if r.get("kind") not in ARITHMETIC],
                lambda r: bool(ANSWER_IS.match(r["response"])))


def statement_knowledge(run: ArmRun) -> Rate:
    """Held-out facts the model still completes in statement form ("2 + 2 =" -> 4)."""
    return Rate.of(run.statements)


def train_seconds(run: ArmRun) -> float:
    return run.train_seconds


# The metrics most experiments share.
EXACT_MATCH = Metric("exact_match", "exact match", exact_match_rate())
UNSEEN = Metric("unseen_exact_match", "exact match, unseen styles", exact_match_rate(seen=False))
SEEN = Metric("seen_exact_match", "exact match, seen styles", exact_match_rate(seen=True))
ADHERENCE = Metric("adherence_all", "every adherence check passed", every_check)
LEAK = Metric("template_leak", "template marker in the answer", template_leak,
              higher_is_better=False)
POOR_STYLE = Metric("poor_style", "copies a poor style", poor_style, higher_is_better=False)
STATEMENTS = Metric("statement_knowledge", "statement knowledge", statement_knowledge)
SECONDS = Metric("train_seconds", "training time (s)", train_seconds, higher_is_better=False,
                 timed=True)
