"""Lesson 04's helpers: compare a masked and an unmasked fine-tune fairly.

    >>> questions = held_out_questions("course:eval")                     # doctest: +SKIP
    >>> loss_by_masking(model, tokenizer, records)                        # doctest: +SKIP
    {'none': 2.91, 'response': 1.07}     # one model, one batch, two "reported" losses
    >>> runs_table([masked.history, unmasked.history])                    # doctest: +SKIP
    >>> instruction_share(unprompted_samples(model, tokenizer))           # doctest: +SKIP

The reported training loss of an unmasked run averages over prompt tokens too, so it is a
different number from a masked run's even for the *same* model: `loss_by_masking` shows it.
The held-out response-only loss and accuracy (training.callbacks.ResponseEvalCallback) are measured
the same way for every run: those are compared.
"""

from __future__ import annotations

import html
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from course_lib.display import PALETTE, CourseFigure, log_loss_axis, new_figure, say_empty
from course_lib.env import evaluating
from course_lib.errors import CourseError, advice
from course_lib.evaluation.generation import GenerationSettings, check_pair, complete_batch
from course_lib.formatting.chat import adds_bos
from course_lib.formatting.records import load_raw_rows, records_given
from course_lib.formatting.rows import listed
from course_lib.formatting.schemas import normalize_record
from course_lib.formatting.templates import DEFAULT_TEMPLATE, Template, get_template
from course_lib.masking.labels import pad_batch, prepare_examples
from course_lib.masking.loss import masked_cross_entropy
from course_lib.training.history import RunHistory, as_history

# The two questions the course promises to answer after tuning: "4" and "10".
HEADLINE_QUESTIONS = ("What is 2+2?", "What is 5+5?")


def held_out_questions(
    source: str = "course:eval", first: Sequence[str] = HEADLINE_QUESTIONS, per_kind: int = 1
) -> list[dict[str, str]]:
    """The headline questions first, then `per_kind` record of every other kind in `source`.

    Records without a 'kind' field count as one kind. Returns normalized records.
    """
    rows = [(where, row) for where, row in load_raw_rows(source)]
    first = [first] if isinstance(first, str) else listed(first)  # one question, or any container
    chosen = [(w, r) for q in first for w, r in rows if r.get("instruction") == q][: len(first)]
    counts: dict[str, int] = {}
    for where, row in rows:
        kind = str(row.get("kind", ""))
        if any(row is r for _, r in chosen) or counts.get(kind, 0) >= per_kind:
            continue
        if kind == "add" and any(r.get("kind") == "add" for _, r in chosen):
            continue  # the headline questions already stand for the sums
        counts[kind] = counts.get(kind, 0) + 1
        chosen.append((where, row))
    return [normalize_record(row, where) for where, row in chosen]


def loss_by_masking(model, tokenizer, records: Sequence[dict[str, Any]],
                    template: str | Template = DEFAULT_TEMPLATE) -> dict[str, float]:
    """One model, one batch: the loss a trainer reports with masking 'none' and 'response'.

    Same weights, same tokens; only the labels differ. The 'none' number also averages over
    the prompt's tokens, which is why reported losses of the two kinds of runs differ.
    """
    check_pair(model, tokenizer, "loss_by_masking(model, tokenizer, records)")
    records = _one_batch(records)
    out = {}
    with evaluating(model) as device:
        for masking in ("none", "response"):
            examples = prepare_examples(records, tokenizer, template, masking).examples
            batch = pad_batch(examples, tokenizer.pad_token_id)
            logits = model(input_ids=batch["input_ids"].to(device),
                           attention_mask=batch["attention_mask"].to(device)).logits.cpu()
            out[masking] = float(masked_cross_entropy(logits, batch["labels"]))
    return out


def _one_batch(records: Any) -> list:
    """loss_by_masking's records as a list (see records_given): it is one batch, so a whole
    set is not loaded for a name."""
    records = records_given(records, "records must be a list of records, not {name}; load a "
                                     "few first, e.g. load_records('course:train')[:32] (they "
                                     "are one batch).")
    if not records:  # an empty batch failed inside the padding
        raise CourseError("records is empty; give a few, e.g. load_records('course:train')[:32].")
    return records


@dataclass
class RunsTable:
    """One row per run: the reported loss and the held-out response-only numbers."""

    rows: list[dict[str, Any]]

    COLUMNS = ("run", "masking", "steps", "reported train loss", "held-out response loss",
               "held-out response accuracy", "seconds")

    def _cells(self, row: dict[str, Any]) -> list[str]:
        def num(x, fmt):
            return "-" if x is None else format(x, fmt)

        return [row["run"], row["masking"], str(row["steps"]),
                num(row["train_loss"], ".3f"), num(row["eval_loss"], ".3f"),
                num(row["eval_accuracy"], ".1%"), num(row["seconds"], ".1f")]

    def __str__(self) -> str:
        widths = [max(len(c), *(len(self._cells(r)[i]) for r in self.rows))
                  for i, c in enumerate(self.COLUMNS)]
        lines = ["  ".join(c.ljust(w) for c, w in zip(self.COLUMNS, widths, strict=True))]
        lines += ["  ".join(c.ljust(w) for c, w in zip(self._cells(r), widths, strict=True))
                  for r in self.rows]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self.COLUMNS)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in self._cells(r))
                       + "</tr>" for r in self.rows)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def run_histories(runs: Any, call: str) -> list[RunHistory | str | Path]:
    """compare_runs' and runs_table's runs, a train() result as its history (pathlib's
    "expected str, not TrainResult", or "no attribute 'name'"); one run or none given is said
    in one sentence (one run was iterated: its letters, or "not iterable")."""
    example = f"{call}([masked.history, unmasked.history])"
    if isinstance(runs, RunHistory | str | Path) or hasattr(runs, "history"):
        raise CourseError(f"{call} takes a list of runs, not one run; give e.g. {example}.")
    runs = list(runs)
    if not runs:
        raise CourseError(f"{call} got an empty list of runs; give e.g. {example}.")
    return [r.history if isinstance(getattr(r, "history", None), RunHistory) else r
            for r in runs]


def runs_table(histories: Sequence[Any]) -> RunsTable:
    """A table of runs' last numbers (reported loss vs held-out metrics): RunHistory objects,
    train() results, or run folders."""
    rows = []
    for h in run_histories(histories, "runs_table"):
        h = as_history(h)
        rows.append({
            "run": h.name, "masking": h.masking, "steps": h.steps_done,
            "train_loss": h.train_loss[-1] if h.train_loss else None,
            "eval_loss": h.eval_loss[-1] if h.eval_loss else None,
            "eval_accuracy": h.eval_accuracy[-1] if h.eval_accuracy else None,
            "seconds": h.wall_time_s or None,
        })
    return RunsTable(rows)


def unprompted_samples(model, tokenizer, n: int = 8, max_new_tokens: int = 40,
                       seed: int = 0) -> list[str]:
    """Sample `n` texts from the model given nothing but the start of a text: what it writes
    freely. The start is the BOS token; a tokenizer that adds none (SmolLM2, Qwen) starts
    from its BOS or end-of-text token written out, the separator its documents were read with.
    """
    check_pair(model, tokenizer, "unprompted_samples(model, tokenizer)")
    settings = GenerationSettings(max_new_tokens=max_new_tokens, do_sample=True, seed=seed)
    start = "" if adds_bos(tokenizer) else (tokenizer.bos_token or tokenizer.eos_token)
    return complete_batch(model, tokenizer, [start] * n, settings)


def instruction_share(texts: Sequence[str], template: str | Template = DEFAULT_TEMPLATE) -> float:
    """Share of texts that write an instruction themselves (contain the template's marker).

        >>> instruction_share(["### Instruction: Say hi ### Response: hi", "Paris."])
        0.5
    """
    if isinstance(texts, str):  # its letters were counted as texts
        raise CourseError("texts must be a list of texts, not one string; put it in a list: "
                          "instruction_share([text]).")
    texts = listed(texts)  # a generator had no len(), `if not` of a Series was ambiguous
    if not texts:
        return 0.0
    marker = get_template(template).prompt.split("{instruction}")[0].strip()
    return sum(marker in t for t in texts) / len(texts)


NOT_COMPARABLE = (
    "Reported losses are not comparable: the unmasked run's loss also averages over prompt tokens. "
    "Compare the held-out response-only loss (right)."
)


def compare_runs(
    runs: Sequence[RunHistory | str | Path], labels: Sequence[str] | None = None
) -> CourseFigure:
    """Two or more runs side by side: reported training loss | held-out response-only loss.

    `runs` are RunHistory objects, train() results, or run folders / history.json files.
    Each run has its own colour and line style (for readers who do not tell the colours
    apart); the loss axes are logarithmic, so the first step's loss does not flatten the rest.
    """
    histories, names = named_runs(runs, labels)
    fig = new_figure(figsize=(11, 4.2))
    ax_train, ax_eval = fig.subplots(1, 2)
    for i, (h, name) in enumerate(zip(histories, names, strict=True)):
        # The held-out line takes the training line's colour: one run looks the same in both panels.
        style = LINE_STYLES[i % len(LINE_STYLES)]
        colour = PALETTE[i % len(PALETTE)]  # colour-blind safe; the line style is a second cue
        ax_train.plot(h.train_steps, h.train_loss, style, color=colour,
                      label=f"{name} (masking={h.masking})")
        ax_eval.plot(h.eval_steps, h.eval_loss, style, marker=MARKERS[i % len(MARKERS)],
                     color=colour, label=name)
    # Each panel scaled on its own: the reported loss and the held-out loss differ in size.
    log_loss_axis(ax_train, [x for h in histories for x in h.train_loss])
    log_loss_axis(ax_eval, [x for h in histories for x in h.eval_loss])
    ax_train.set(xlabel="step", title="Training loss, as each trainer reports it")
    ax_eval.set(xlabel="step", title="Held-out loss on response tokens only")
    for ax, what in ((ax_train, "training loss"), (ax_eval, "held-out loss")):
        # A legend of lines with no point would read as data: an empty panel says so instead.
        if any(len(line.get_xdata()) for line in ax.lines):
            ax.legend(fontsize=8)
        else:
            say_empty(ax, f"no {what} in these runs")
    # An unmasked run's reported loss includes prompt tokens, so the left panel would mislead.
    maskings = {h.masking for h in histories}
    notes = [
        NOT_COMPARABLE
        if "none" in maskings and len(maskings) > 1
        else ("All runs use the same masking, so their reported losses are measured alike."),
        *comparison_warnings(histories, names),
    ]
    # Room under the axes for as many note lines as there are, else the note covers the x labels.
    note = "\n".join(textwrap.fill(n, NOTE_WIDTH) for n in notes)
    fig.tight_layout(rect=(0, 0.035 + 0.035 * (note.count("\n") + 1), 1, 1))
    fig.text(0.5, 0.015, note, ha="center", va="bottom", fontsize=9, style="italic")
    return fig


NOTE_WIDTH = 150  # characters of a note line under the figure (11 inches at 9 points)


def named_runs(runs: Sequence[RunHistory | str | Path],
               labels: Sequence[str] | None = None) -> tuple[list[RunHistory], list[str]]:
    """compare_runs' runs read, and the name each has in the legend and the notes: `labels`,
    else the runs' own names, told apart (`course compare` prints the notes by these names)."""
    runs = run_histories(runs, "compare_runs")
    # One name is one label (its letters were counted); any container, read once.
    labels = None if labels is None else [labels] if isinstance(labels, str) else listed(labels)
    if labels is not None and len(labels) != len(runs):  # said before any run is read
        names = f"{len(labels)} name" + ("" if len(labels) == 1 else "s")
        said = f"has {names} for {len(runs)} runs; give one per run"
        raise CourseError(f"labels {said}, e.g. labels=['masked', 'unmasked'] for two runs.",
                          cli=f"--labels {said}, separated by commas, e.g. --labels "
                              f"masked,unmasked.")
    histories = [as_history(r) for r in runs]
    # Runs of the same recipe share a name; the legend must still tell them apart.
    return histories, list(labels) if labels else _unique_names(histories, _folder_names(runs))


def comparison_warnings(histories: Sequence[RunHistory], names: Sequence[str]) -> list[str]:
    """What makes the held-out panel unfair or incomplete, one sentence each: different held-out
    sets, and each run with no held-out curve (a legend entry with no line) and why."""
    missing = [no_held_out_note(h, name) for h, name in zip(histories, names, strict=True)
               if not h.eval_loss]
    return held_out_sets_note(histories, names) + missing


def no_held_out_note(history: RunHistory, name: str) -> str:
    """Why a run measured no held-out loss, from what its history.json kept."""
    every = advice("train(eval_every=0)", "--eval-every 0")
    if history.eval_data and not history.eval_examples:  # a set, but no row of it scored
        why = (f"no row of its held-out set {history.eval_data} could be scored (each was too "
               f"long or had no answer)")
    elif history.eval_data:  # a history.json from an older course, or written by hand
        why = f"no held-out loss on {history.eval_data} was recorded while it trained"
    else:  # no set: turned off, or "auto" found too few prompts in data of the user's own
        none = advice("train(eval_data=None)", "--eval-data none")
        why = f"it was trained with {none} or {every}"
        if not history.data.startswith("course"):
            why += ", or on data with too few different prompts to hold some out"
    return f"{name} has no held-out curve: {why}."


def held_out_sets_note(histories: Sequence[RunHistory], names: Sequence[str]) -> list[str]:
    """[a sentence naming each run's held-out set] when the runs' held-out losses come from
    different sets (their history's eval_data), else []: such curves are not comparable."""
    by_set: dict[str, list[str]] = {}
    for h, name in zip(histories, names, strict=True):
        if h.eval_loss and h.eval_data:  # "" : a history written before eval_data was kept
            by_set.setdefault(h.eval_data, []).append(name)
    if len(by_set) < 2:
        return []
    sets = "; ".join(f"{', '.join(runs)} on {held}" for held, runs in by_set.items())
    return [f"The held-out sets differ, so the held-out losses (right) are measured on "
            f"different questions: {sets}."]


LINE_STYLES = ("-", "--", ":", "-.")
MARKERS = ("o", "s", "^", "D")


def _folder_names(runs: Sequence[RunHistory | str | Path]) -> list[str | None]:
    """Each run's folder, by as few of its path's last parts as tell the folders apart
    ('masked', or 'seed1/masked' and 'seed2/masked'); None for a RunHistory object."""
    paths = [None if isinstance(r, RunHistory) else Path(r).expanduser().resolve()
             for r in runs]
    parts = [None if p is None else (p.parent if p.is_file() else p).parts for p in paths]
    deepest = max((len(x) for x in parts if x is not None), default=0)
    for depth in range(1, deepest + 1):
        tails = ["/".join(x[-depth:]) if x is not None else None for x in parts]
        known = [t for t in tails if t is not None]
        if len(set(known)) == len(known):
            return tails
    return [None if x is None else x[-1] for x in parts]  # one folder twice: numbered


def _unique_names(histories: Sequence[RunHistory], folders: Sequence[str | None]) -> list[str]:
    """The runs' names, told apart first by seed and model, then by folder, then by number."""
    names = [h.name for h in histories]
    if len(set(names)) == len(names):
        return names
    names = [f"{h.name} (seed {h.seed}, {h.model})" for h in histories]
    if len(set(names)) == len(names):
        return names
    names = [f"{h.name} ({folder})" if folder else name
             for h, name, folder in zip(histories, names, folders, strict=True)]
    if len(set(names)) == len(names):
        return names
    return [f"{name} #{i}" for i, name in enumerate(names, start=1)]
