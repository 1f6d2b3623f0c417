"""What a training run measured, as a small JSON file a lesson can reload anywhere.

A run recorded on a Colab GPU is replayed on a laptop by loading its `history.json`:

    >>> h = RunHistory(model="tiny", masking="response", seed=0, max_steps=2)
    >>> h.add_train_loss(1, 2.5); h.add_eval(1, loss=2.1, accuracy=0.4)
    >>> RunHistory.from_json(h.to_json()).train_loss
    [2.5]

Two kinds of numbers are kept apart on purpose:

* `train_loss` is the loss *as the trainer reports it*. For an unmasked run it averages
  over prompt tokens too, so it cannot be compared with a masked run's.
* `eval_loss` / `eval_accuracy` are measured on a held-out set, always over response tokens
  only, the same way for every run: these are the apples-to-apples numbers.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from course_lib.errors import CourseError, with_advice
from course_lib.files import stopped_run_check
from course_lib.formatting.templates import DEFAULT_TEMPLATE

HISTORY_FILE = "history.json"


@dataclass
class RunHistory:
    """Metadata and curves of one fine-tune. Serialise with to_json / save."""

    model: str = ""
    masking: str = "response"
    seed: int = 0
    max_steps: int = 0
    learning_rate: float = 0.0
    batch_size: int = 0  # per process: the batch of one optimizer step is this x world_size
    device: str = "cpu"
    world_size: int = 1  # processes that trained together (each on its share of a batch)
    lora: bool = False
    freeze: list[str] = field(default_factory=list)  # pieces of the names of weights not trained
    gradient_checkpointing: bool = False
    max_length: int = 0  # tokens an example was cut to: as asked, else the model's context
    data: str = ""
    template: str = ""  # how records became text, e.g. "one_line"
    eval_data: str = ""  # the held-out set the eval curves come from, e.g. "course:eval"
    eval_examples: int = 0
    not_trained: list[str] = field(default_factory=list)  # rows of `data` held out or skipped
    label: str = ""  # how plots name the run, e.g. "masked"
    steps_done: int = 0
    wall_time_s: float = 0.0
    examples_used: int = 0
    examples_skipped: int = 0  # no trained token left (would give a NaN loss)
    examples_truncated: int = 0
    examples_empty_response: int = 0
    rows_left_out: int = 0  # rows of `data` that could not be used, left out (skip_bad_rows)
    rows_left_out_named: list[str] = field(default_factory=list)  # each, with its problem
    batches_skipped: int = 0  # batches with no trained token, skipped instead of NaN
    fast_path: str = ""  # how the loss was computed: see training/fast_loss.py
    num_threads: int = 0  # CPU threads torch trained with (env.choose_threads)
    warnings: list[str] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)
    train_steps: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    eval_steps: list[int] = field(default_factory=list)
    eval_loss: list[float] = field(default_factory=list)  # held-out, response tokens only
    eval_accuracy: list[float] = field(default_factory=list)  # held-out, response tokens only

    @property
    def name(self) -> str:
        """The label plots use: `label`, else 'masked' / 'unmasked'."""
        return self.label or ("masked" if self.masking == "response" else "unmasked")

    def add_train_loss(self, step: int, loss: float) -> None:
        self.train_steps.append(int(step))
        self.train_loss.append(float(loss))

    def add_eval(self, step: int, loss: float, accuracy: float) -> None:
        self.eval_steps.append(int(step))
        self.eval_loss.append(float(loss))
        self.eval_accuracy.append(float(accuracy))

    def summary(self) -> str:
        """One line: the run, its last held-out numbers and its wall time."""
        on = f" on {self.eval_data}" if self.eval_data else ""
        last = (
            f"held-out response loss {self.eval_loss[-1]:.3f}, "
            f"accuracy {self.eval_accuracy[-1]:.1%}{on}"
            if self.eval_loss
            else "no held-out evaluation"
        )
        on_device = self.device if self.world_size <= 1 else (  # a batch is shared out
            f"{self.world_size} processes ({self.device}), {self.batch_size} examples each")
        return (
            f"{self.name}: {self.steps_done} step{'' if self.steps_done == 1 else 's'} of "
            f"{self.model} on {on_device} in "
            f"{self.wall_time_s:.1f} s; {last}"
        )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        # One key per line, each curve on one line: readable in a diff, small on disk.
        items = [f" {json.dumps(k)}: {json.dumps(v)}" for k, v in self.to_dict().items()]
        return "{\n" + ",\n".join(items) + "\n}\n"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunHistory:
        """The history `data` holds; a TypeError (why, in words) if it cannot be one."""
        if not isinstance(data, dict):
            raise TypeError(f"it holds a JSON {_KINDS.get(type(data), 'value')}, not an object")
        # Unknown keys are ignored so a history written by a newer course still loads; a null
        # is the field's default (what a history without that field gets).
        defaults = {f.name: f.default if f.default is not dataclasses.MISSING
                    else f.default_factory() for f in dataclasses.fields(cls)}
        known = {k: v for k, v in data.items() if k in defaults and v is not None}
        for key, value in known.items():  # else a plot or a summary fails on it later
            kind = _KINDS[type(defaults[key])]
            if _KINDS.get(type(value)) != kind and not (kind == "number" and _is_int(value)):
                raise TypeError(f"its {key} is {json.dumps(value)[:40]}, not a {kind}")
        return cls(**known)

    @classmethod
    def from_json(cls, text: str) -> RunHistory:
        return cls.from_dict(json.loads(text))

    def save(self, path: str | Path, overwrite: bool = False) -> Path:
        """Write to `path` (a folder gets `history.json` inside it). Returns the file written.
        A file already there is kept unless it holds these very numbers, or `overwrite=True`:
        it may be a learner's notes, or the history of another run in its folder."""
        path = Path(path)
        if path.is_dir():
            path = path / HISTORY_FILE
        text = self.to_json()
        if path.is_file() and not overwrite and path.read_bytes() != text.encode("utf-8"):
            raise CourseError(f"{path} already exists; save to a new file name, or pass "
                              f"overwrite=True to replace it.")
        path.parent.mkdir(parents=True, exist_ok=True)  # save("runs/new/h.json"), as save_run
        path.write_text(text, encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | Path) -> RunHistory:
        """Read a `history.json`, or the one inside a run folder."""
        path = Path(path)
        if path.is_dir():
            stopped_run_check(path, str(path))  # interrupted: said as such, with its resume
            path = path / HISTORY_FILE
        if not path.is_file():
            raise with_advice(
                f"No run history at '{path}'; give a folder written by {{fix}} "
                f"(it holds {HISTORY_FILE}) or the file itself.",
                "train(..., out_dir=...)", "`course train --out`")
        try:
            return cls.from_json(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, TypeError, UnicodeDecodeError) as err:
            raise with_advice(
                f"{path} is not a run history ({err}); train the run again, into a new "
                f"folder: {{fix}}.", "train(..., out_dir=...)", "`course train --out DIR`"
            ) from None


# A field's kind as JSON says it: what a history.json of another course version must keep.
_KINDS = {str: "string", int: "whole number", float: "number", bool: "boolean", list: "list",
          dict: "JSON object", type(None): "null"}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def history_from_log(history: RunHistory, log_history: list[dict[str, Any]]) -> RunHistory:
    """Fill a RunHistory's curves from a Trainer's `state.log_history`."""
    for entry in log_history:
        if "loss" in entry:
            history.add_train_loss(entry["step"], entry["loss"])
        if "response_eval_loss" in entry:
            history.add_eval(
                entry["step"], entry["response_eval_loss"], entry["response_eval_accuracy"]
            )
        history.batches_skipped += int(entry.get("skipped_batch", 0))
    return history


def load_run(run: str | Path) -> RunHistory:
    """A run's history from its folder or its history.json; a file that is no history (a data
    file given by mistake) is said to be no run, not told to re-run training."""
    path = Path(run).expanduser()
    if path.is_file() and path.name != HISTORY_FILE and not _holds_history(path):
        raise with_advice(f"'{run}' is not a run folder (a run folder, written by {{fix}}, "
                          f"holds {HISTORY_FILE}); give run folders or their {HISTORY_FILE}.",
                          "train(..., out_dir=...)", "`course train --out`")
    return RunHistory.load(path)


def _holds_history(path: Path) -> bool:
    """A file of a run's history under another name: a JSON object with its curves."""
    try:
        data = json.loads(path.read_bytes())
    except (ValueError, OSError):  # ValueError: not JSON, or not text at all
        return False
    return isinstance(data, dict) and {"masking", "train_loss"} <= data.keys()


def as_history(run: Any, call: str = "plot_history") -> RunHistory:
    """A run's history from what a notebook holds: a RunHistory, a train() result, or a run
    folder or its history.json (plot_history(result) was "'TrainResult' object has no
    attribute 'train_loss'", and a run folder the same of 'str')."""
    if isinstance(run, RunHistory):
        return run
    if isinstance(getattr(run, "history", None), RunHistory):  # a TrainResult
        return run.history
    if isinstance(run, str | os.PathLike):
        return load_run(run)
    raise CourseError(f"{call} takes a run: result.history, a train() result or a run "
                      f"folder, not {type(run).__name__}.")


def history_of_run(model: Any) -> RunHistory | None:
    """A `course train` run's record: a TrainResult's, or a run folder's history.json; None
    for anything else (a preset, a Hub id, a model object)."""
    if isinstance(getattr(model, "history", None), RunHistory):  # a TrainResult
        return model.history
    path = Path(model).expanduser() / HISTORY_FILE if isinstance(model, str | Path) else None
    return RunHistory.load(path) if path is not None and path.is_file() else None


def asked_template(run: RunHistory | None) -> tuple[str, str]:
    """The template to ask a model in, and why: the one its run was trained with (its
    history.json), else the default, for a model that is not a run (or an old history)."""
    if run is not None and run.template:
        return run.template, "the run's, from its history.json"
    return DEFAULT_TEMPLATE.name, "the default"
