"""A run's folder: never written over, its checkpoints, a resume of the same run only, and an
interrupt said with what was kept.

train(out_dir=...) saves a checkpoint every quarter of the run's steps and, at the end, the
model, history.json and loss.png (runner.save_run). A folder that holds anything else is
refused: the course never overwrites a learner's files. resume=True continues an interrupted
run from its newest whole checkpoint, with the settings it saved beside its checkpoints; a
finished run or other settings are refused, since either would be recorded as a run no
setting describes. With N processes (torchrun) only the main one writes.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from transformers.trainer import TRAINER_STATE_NAME
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

from course_lib.errors import (
    CourseError,
    ShortTraceback,
    shell_word,
    with_advice,
)
from course_lib.files import CHECKPOINT_DIR, RUN_SETTINGS, SETTING_FLAGS
from course_lib.training.callbacks import (
    ProgressBar,
)
from course_lib.training.history import (
    HISTORY_FILE,
)
from course_lib.training.trainer import CourseTrainer


def is_main_process() -> bool:
    """True unless this is process 1, 2, ... of a run launched as several (torchrun sets RANK)."""
    return int(os.environ.get("RANK", "0")) == 0


def run_folder(out_dir: str | Path | None, resume: bool) -> tuple[Path | None, str | None]:
    """The run's folder (None: none asked for) and the checkpoint it resumes from, if any."""
    out_path = Path(out_dir).expanduser() if out_dir is not None else None
    if is_main_process():  # only the main process prepares the folder (never overwritten)
        resume_from = _prepare_out_dir(out_path, resume)
    else:  # the others resume from the checkpoint it chose, the newest whole one
        resume_from = (newest_whole_checkpoint(out_path / CHECKPOINT_DIR)
                       if resume and out_path else None)
    check_unfinished(resume_from)
    return out_path, resume_from


def _prepare_out_dir(out_dir: Path | None, resume: bool) -> str | None:
    """Refuse to write into a learner's non-empty folder; find the checkpoint to resume."""
    if out_dir is None:
        if resume:
            raise CourseError("resume=True needs the out_dir of the interrupted run.")
        return None
    ckpt_root = out_dir / CHECKPOINT_DIR
    if resume:
        last = last_whole_checkpoint(ckpt_root)
        if last is None and out_dir.is_dir() and any(
                p.name != CHECKPOINT_DIR for p in out_dir.iterdir()):  # not a run: someone's
            raise with_advice(
                f"'{out_dir}' holds no checkpoint to resume but other files, so no run can "
                f"start there either; give the interrupted run's folder with {{fix}}, or a new "
                f"folder without it.", "resume=True", "--resume")
        if last is None:
            raise with_advice(
                f"No checkpoint to resume in '{ckpt_root}' (a run with an output folder saves "
                f"one every quarter of its steps); train without {{fix}} to start the run "
                f"there anew.", "resume=True", "--resume")
        return last
    blocked = next((p for p in (out_dir, *out_dir.parents) if p.exists() and not p.is_dir()),
                   None)
    if blocked is not None:  # said now, not as NotADirectoryError after the data is prepared
        raise CourseError(f"'{blocked}' is a file, so the output folder '{out_dir}' cannot be "
                          f"made; choose another output folder.")
    if never_checkpointed(out_dir):  # stopped before its first checkpoint: nothing to keep
        shutil.rmtree(ckpt_root, ignore_errors=True)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise with_advice(
            f"'{out_dir}' already exists and is not empty; the course never overwrites your files. "
            f"Choose a new output folder, or pass {{fix}} to continue a run there.",
            "resume=True", "--resume")
    return None


def check_unfinished(checkpoint: str | None) -> None:
    """A resume continues a run that stopped before its last step (interrupted, or stopped by
    a callback). A finished one is not continued: its learning rate fell to 0 over its steps,
    and more steps would restart the fall part way, a run no --steps describes, recorded as
    if trained from the start. (A run whose last save was cut short has no history.json:
    resumed, it saves.)"""
    if checkpoint is None:
        return
    run = Path(checkpoint).parents[1]
    state = json.loads((Path(checkpoint) / TRAINER_STATE_NAME).read_text(encoding="utf-8"))
    if not (run / HISTORY_FILE).is_file() or state["global_step"] < state["max_steps"]:
        return
    raise CourseError(
        f"The run in '{run}' finished its {state['global_step']} steps, and resume=True only "
        f"continues an interrupted run; to train it further, start a new run from it: "
        f"train(model={str(run)!r}, ..., out_dir=...) with a new out_dir.",
        cli=f"The run in '{run}' finished its {state['global_step']} steps, and --resume only "
            f"continues an interrupted run; to train it further, start a new run from it: "
            f"course train --model {shell_word(str(run))} --out NEW_FOLDER (and your other "
            f"flags).")


def last_whole_checkpoint(ckpt_root: Path) -> str | None:
    """The newest checkpoint that was written to the end, for a resume. One cut short by an
    interrupt (the Trainer writes trainer_state.json last) is removed: resumed, it failed
    deep in safetensors, and kept, a later save of fewer steps would be rotated away."""
    if not ckpt_root.is_dir():
        return None
    for folder in ckpt_root.glob(f"{PREFIX_CHECKPOINT_DIR}-*"):
        if folder.is_dir() and not (folder / TRAINER_STATE_NAME).is_file():
            shutil.rmtree(folder)
    return newest_whole_checkpoint(ckpt_root)


def newest_whole_checkpoint(ckpt_root: Path) -> str | None:
    """last_whole_checkpoint, only read (the other processes of a run launched as several)."""
    whole = [p for p in ckpt_root.glob(f"{PREFIX_CHECKPOINT_DIR}-*")
             if (p / TRAINER_STATE_NAME).is_file() and p.name.split("-")[-1].isdigit()]
    return str(max(whole, key=lambda p: int(p.name.split("-")[-1]))) if whole else None


def never_checkpointed(out_dir: Path) -> bool:
    """Whether `out_dir` holds only what a run interrupted before its first whole checkpoint
    left (its settings, a checkpoint cut short): the course's files, no learner's."""
    ckpt_root = out_dir / CHECKPOINT_DIR
    if not ckpt_root.is_dir() or {p.name for p in out_dir.iterdir()} != {CHECKPOINT_DIR}:
        return False
    return all(p.name == RUN_SETTINGS or (p.is_dir() and p.name.startswith(PREFIX_CHECKPOINT_DIR)
                                          and not (p / TRAINER_STATE_NAME).is_file())
               for p in ckpt_root.iterdir())


class RunInterrupted(ShortTraceback, KeyboardInterrupt):
    """Ctrl-C or a notebook's stop during train(): still a KeyboardInterrupt, whose message
    says what was kept and what to do next (`cli`: the same, in the command's flags)."""

    def __init__(self, message: str, cli: str):
        super().__init__(message)
        self.cli = cli


def interrupted(trainer: CourseTrainer, out_dir: Path | None, given_object: bool,
                ) -> RunInterrupted:
    """The interrupt of a run, said in one sentence: the checkpoint kept and how to resume it,
    or that there is none; and that a model object passed in is left part-trained."""
    for callback in trainer.callback_handler.callbacks:
        if isinstance(callback, ProgressBar):
            callback.close()
    at = f"Interrupted at step {trainer.state.global_step} of {trainer.state.max_steps}"
    # Only read: one cut short now is removed by the resume (every process says this).
    last = newest_whole_checkpoint(out_dir / CHECKPOINT_DIR) if out_dir is not None else None
    if last is None:
        # Not "pass out_dir": run_experiment and trained_once, which call train(), take none.
        python = cli = f"{at}; no checkpoint was kept, so run it again to start over."
    else:
        kept = (f"{at}; the checkpoint of step {Path(last).name.split('-')[-1]} is kept in "
                f"'{Path(last).parent}':")
        python = (f"{kept} train(..., out_dir={str(out_dir)!r}, resume=True) with the same "
                  f"settings continues from it.")
        cli = f"{kept} run the same command with --resume to continue from it."
    if given_object:  # trained in place: a rerun on it would start from these weights
        python += " The model you passed holds the part-trained weights; load it again."
    return RunInterrupted(python, cli)


def keep_settings(out_dir: Path | None, resuming: bool, settings: dict[str, Any]) -> None:
    """Write what a run trains with beside its checkpoints; on resume, refuse other settings:
    a run trained half on one data set and half on another would be recorded as neither."""
    if out_dir is None or not is_main_process():
        return
    path = out_dir / CHECKPOINT_DIR / RUN_SETTINGS
    if resuming and path.exists():
        refuse_other_settings(out_dir, settings)
        return
    try:  # the first write into out_dir: a read-only course folder is said here, once
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(settings, indent=1), encoding="utf-8")
    except OSError as err:
        raise with_advice(f"Cannot write the run into '{out_dir}' ({err.strerror}); give it a "
                          f"folder you can write to ({{fix}}).", "out_dir=...", "--out") from None


def refuse_other_settings(out_dir: Path, settings: dict[str, Any]) -> None:
    """A resume trains the run in out_dir on: each of `settings` must be the one it saved."""
    path = out_dir / CHECKPOINT_DIR / RUN_SETTINGS
    if not path.exists() or not is_main_process():  # a run of an older course saved none
        return
    saved = json.loads(path.read_text(encoding="utf-8"))
    settings = json.loads(json.dumps(settings))  # tuples as lists, as they come back
    changed = [k for k, v in settings.items() if k in saved and saved[k] != v]
    if changed:
        python = ", ".join(f"{k}={saved[k]!r}" for k in changed)
        cli = " ".join(_as_flag(k, saved[k]) for k in changed)
        rest = "; give the same settings to continue it, or a new output folder to train these."
        raise CourseError(
            f"resume=True continues the run in '{out_dir}', which trained with {python}{rest}",
            cli=f"--resume continues the run in '{out_dir}', which trained with {cli}{rest}")


def where_from(source: str) -> str:
    """A data source as one name: a file by its full path, however the command spelled it."""
    return str(Path(source).resolve()) if Path(source).exists() else source


def _as_flag(name: str, value: Any) -> str:
    """A saved setting as typed on the command line: '--lr 0.002', '--no-lora', '--freeze none'."""
    if isinstance(value, bool):
        return SETTING_FLAGS[name] if value else SETTING_FLAGS[name].replace("--", "--no-")
    if isinstance(value, list):
        return f"{SETTING_FLAGS[name]} {' '.join(map(str, value)) or 'none'}"
    return f"{SETTING_FLAGS[name]} {value}"
