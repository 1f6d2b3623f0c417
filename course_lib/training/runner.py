"""Short fine-tunes on top of transformers' Trainer: `train()` and what it returns.

    >>> result = train("tiny", "course:train", masking="response", max_steps=100)  # doctest: +SKIP
    >>> print(result.history.summary())                                           # doctest: +SKIP
    masked: 100 steps of tiny on cpu in 21.3 s; held-out response loss 0.412, accuracy 88.0% on
    course:eval

`train()` runs five named steps, one function each (the comments in `train()` number them),
after `check_arguments` has checked what needs no model (a typo fails before it loads):

1. `prepare_data`: records -> labelled examples (-100 on the prompt); problems are
   reported before any training starts.
2. `choose_weights` (weights.py): which weights train (the recipe's frozen parts, LoRA) and
   how fast.
3. `trainer_for`: TrainingArguments for this machine (settings.py), then `build_trainer`:
   CourseTrainer (trainer.py) and callbacks (held-out response-only loss and accuracy every
   `eval_every` steps, progress, live plot).
4. `run`: `trainer.train()` with the speed tricks of fast_loss.py and the frozen parts.
5. `collect`: the model in eval mode, a RunHistory, and the run folder when asked for.

The loop itself (forward, `loss.backward()`, `optimizer.step()`) is the Trainer's;
loop_by_hand.py writes the same loop out in forty lines.
"""

from __future__ import annotations

import importlib.metadata
import inspect
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch
from peft import LoraConfig
from transformers import TrainerCallback
from transformers.trainer_callback import PrinterCallback, ProgressCallback
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

from course_lib.env import SMALL_MODEL_PARAMS, DeviceChoice, choose_device, choose_threads
from course_lib.errors import (
    CourseError,
    advice,
    shown,
    with_advice,
)
from course_lib.files import CHECKPOINT_DIR
from course_lib.formatting.chat import attach_chat_template, chat_template
from course_lib.formatting.records import kind_of_records, own_held_out_split, source_splits
from course_lib.formatting.rows import WATCHED_SPLITS
from course_lib.formatting.templates import DEFAULT_TEMPLATE, Template, get_template
from course_lib.loading import default_lora, load_model_and_tokenizer, quiet_loading
from course_lib.masking.labels import IGNORE_INDEX, Masking, PadCollator, PreparedData
from course_lib.training.callbacks import (
    LiveLossPlot,
    ProgressBar,
    ResponseEvalCallback,
    StopAtNonFiniteLoss,
    weights_finite,
)
from course_lib.training.data import (
    HOLD_OUT_MIN_ROWS,
    DataSource,
    Records,
    also_in_training,
    check_sources,
    different_prompts,
    far_from_world,
    held_out_note,
    hold_out,
    is_tokenized,
    left_out_note,
    load_data,
    prepare_eval_examples,
    prepare_training_data,
)
from course_lib.training.fast_loss import FastLoss, fast_run
from course_lib.training.history import (
    HISTORY_FILE,
    RunHistory,
    history_from_log,
    history_of_run,
)
from course_lib.training.memory import (
    estimate_memory,
    is_counted,
    memory_budget,
    still_too_big,
)
from course_lib.training.plots import plot_history
from course_lib.training.run_folder import (
    interrupted,
    is_main_process,
    keep_settings,
    refuse_other_settings,
    run_folder,
    where_from,
)
from course_lib.training.settings import (
    RECIPE,
    check_numbers,
    check_overrides,
    is_no_eval,
    step_cap,
    training_arguments,
)
from course_lib.training.trainer import CourseTrainer
from course_lib.training.weights import Weights, check_adapters, choose_weights, freeze_pieces


@dataclass
class TrainResult:
    """The fine-tuned model (in eval mode), its tokenizer, and what the run measured."""

    model: Any
    tokenizer: Any
    history: RunHistory
    out_dir: Path | None = None

    def __repr__(self) -> str:  # a cell ending in train(...) showed the whole model's repr
        saved = f", saved in {self.out_dir}" if self.out_dir else ""
        return (f"TrainResult({self.history.summary()}{saved}; "
                f"see .model, .tokenizer, .history)")


def train(
    model: str | Path | Any = "tiny",
    data: DataSource = RECIPE.data,
    eval_data: DataSource | None = "auto",
    masking: Masking = "response",
    max_steps: int | None = RECIPE.max_steps,
    num_epochs: float | None = None,
    learning_rate: float | None = None,
    batch_size: int = RECIPE.batch_size,
    seed: int = 0,
    lora: bool | Any | None = None,
    eval_every: int | None = 10,
    out_dir: str | Path | None = None,
    live_plot: bool = False,
    resume: bool = False,
    *,
    tokenizer: Any = None,
    eval_limit: int | None = 128,
    logging_steps: int = 1,
    max_length: int | None = None,
    template: str | Template = DEFAULT_TEMPLATE,
    save_every: int | None = None,
    progress: bool = True,
    verbose: bool = True,
    label: str = "",
    num_threads: int | None = None,
    freeze: Sequence[str] | None = None,
    fast: bool = True,
    gradient_checkpointing: bool | None = None,
    callbacks: Sequence[TrainerCallback] = (),
    skip_bad_rows: bool = False,
    **training_args: Any,
) -> TrainResult:
    """Fine-tune `model` on `data` and return the model, tokenizer and a RunHistory.

    model:      'tiny' (embedded), a folder, a Hub id, or a model object (then pass tokenizer=).
    data:       'course:train', a data file (JSON Lines, JSON, CSV, TSV, Parquet) or a
                save_to_disk folder, a Hub id, records (a list, a generator, a pandas DataFrame
                or a datasets.Dataset; of a DatasetDict, one split), or tokenized examples.
    eval_data:  held out; measured every `eval_every` steps on response tokens only (None or
                "none": off), on its first `eval_limit` rows ("auto" holds at most that many
                prompts out of data; 0 or None: no limit).
                "auto": course:eval for the course's data and a list (or generator) of
                records; for a file, Hub id, DataFrame or Dataset, a seeded slice of it
                (data.hold_out), so that the score is about the same kind of data; for a
                folder or JSON file of splits, its validation split (else its test split).
    masking:    'response' (labels -100 on the prompt) or 'none' (train on every token).
    max_steps:  optimizer steps; set None and give num_epochs to train by epochs instead.
    eval_every: steps between held-out measurements (also at step 0 and at the end); None or
                0: none, and eval_data is not read.
    template:   how a record becomes text (templates.TEMPLATES: 'one_line', 'alpaca', ...);
                a run folder's tokenizer keeps it as its chat template. Training a run
                further in another template than its own is allowed, and said in a note.
    out_dir:    save the model, history.json, loss.png and checkpoints there (never overwrites).
    resume:     continue from the last checkpoint in out_dir. An interrupted run (Ctrl-C, the
                notebook's stop button) raises RunInterrupted, a KeyboardInterrupt that says
                which checkpoint was kept; one stopped before its first checkpoint starts
                over in the same out_dir, without resume.
    lora:       True for LoRA adapters (or a LoraConfig); None: the preset's choice (LoRA for
                qwen2.5-0.5b), else a full fine-tune.
    freeze:     parts of the model not to train, as pieces of parameter names: ("mlp",) or
                "mlp" keeps every `...mlp...` weight as it is, for this run only. Default
                (None): the recipe's (settings.RECIPE: embeddings, MLPs, v_proj, o_proj)
                unless lora, with its learning rate for tiny models; () trains every weight.
                Not with lora: LoRA already keeps every base weight as it is.
    fast:       the speed tricks of fast_loss.py (same numbers); False computes the plain loss.
    max_length: tokens per example (default and upper bound: the model's context, at most 1024).
    num_threads: CPU threads for this run only (default: env.choose_threads for this model).
    gradient_checkpointing: recompute activations in the backward pass to save memory; None:
                on a GPU only when estimate_memory says the run would not fit otherwise.
    skip_bad_rows: leave out the rows of data and eval_data (a file, a list, a DataFrame) that
                cannot be used, counted and named in a note before training, instead of
                refusing them all; data with no usable row, or a file broken as a whole, is
                still refused.
    training_args: anything else for transformers' TrainingArguments (overrides our defaults).

    The model is trained in place (a model object you pass changes too: trained again, a note
    says it goes on from the weights its earlier runs left) and returned in eval mode, with
    its KV cache on (config.use_cache) and gradient checkpointing off, ready to
    generate; a tokenizer you pass with no pad token is given its EOS token as one (padding
    is masked by position, so the real EOS still trains). With lora=True the adapters are
    merged into it before it is returned.
    Launched as N processes (`course train --processes N`, torchrun), each process trains
    on its share of every batch; only the main one prints and writes out_dir.
    """
    # 0. Every check that needs no model: a typo fails in a second, not after the model loads.
    lora, freeze, out_path, resume_from = check_arguments(
        model, tokenizer, data, eval_data, out_dir, resume, masking=masking, lora=lora,
        freeze=freeze, template=template, callbacks=callbacks, training_args=training_args,
        learning_rate=learning_rate, num_epochs=num_epochs, max_steps=max_steps,
        batch_size=batch_size, seed=seed, eval_every=eval_every, num_threads=num_threads,
        eval_limit=eval_limit, max_length=max_length, logging_steps=logging_steps,
        save_every=save_every)
    verbose = verbose and is_main_process()  # N processes, one report
    if verbose:
        note_other_template(model, template)
    given_object = not isinstance(model, str | Path)  # trained in place, even if interrupted
    model, tokenizer, model_name = _load(model, tokenizer, bool(lora))
    loaded, again = model, trained_before(model, verbose)  # a model this function trained

    # 1. The data: labelled examples, -100 on the prompt; problems reported before training.
    ready, held_out = prepare_data(
        data, eval_data if eval_every else None, tokenizer, model, masking=masking,
        max_length=max_length, template=template, eval_limit=eval_limit, verbose=verbose,
        progress=progress, skip_bad_rows=skip_bad_rows)
    ready = replace(ready, warnings=ready.warnings + again)  # in history.json's notes too
    # 2. The weights that train (the recipe's frozen parts, or LoRA's adapters) and the rate.
    weights = choose_weights(model, lora, freeze, learning_rate, seed)
    settings = dict(model=model_name, masking=masking, template=get_template(template).name,
                    learning_rate=weights.learning_rate, batch_size=batch_size, seed=seed,
                    lora=bool(lora), freeze=weights.freeze)
    keep_settings(out_path, resume_from is not None, {  # a resume must train the same run
        **settings, "model": where_from(model_name), "data": where_from(ready.source),
        "max_steps": max_steps})

    # 3. The Trainer: TrainingArguments for this machine, the course's loss and callbacks.
    checkpoints = (out_path / CHECKPOINT_DIR if out_path
                   else Path(tempfile.mkdtemp(prefix="course-")))
    trainer, machine = trainer_for(
        weights, tokenizer, ready, held_out, checkpoints, lora=lora, max_steps=max_steps,
        num_epochs=num_epochs, batch_size=batch_size, seed=seed, logging_steps=logging_steps,
        save_every=save_every, saving=out_path is not None, fast=fast,
        overrides=training_args, gradient_checkpointing=gradient_checkpointing,
        num_threads=num_threads, eval_every=eval_every, progress=progress,
        live_plot=live_plot, title=label or masking, callbacks=callbacks, verbose=verbose)
    meta = dict(settings, **machine, label=label, eval_data=held_out.name,
                eval_examples=len(held_out.examples), not_trained=held_out.not_trained)
    try:
        # 4. Train: the Trainer's loop (forward, loss.backward(), optimizer.step()); see run().
        wall = run(trainer, weights.frozen, fast=fast, num_threads=machine["num_threads"],
                   resume_from=resume_from)
        check_finite(trainer, out_path, weights)  # a NaN run is said, not saved as a success
        # 5. Collect: the model in eval mode, its history, and the run folder if asked for.
        result = collect(trainer, tokenizer, ready, meta, wall, lora=bool(lora),
                         out_dir=out_path if trainer.is_world_process_zero() else None,
                         template=template)
    except KeyboardInterrupt:  # Ctrl-C, a notebook's stop: what was kept, and what next
        raise interrupted(trainer, out_path, given_object) from None
    finally:
        if out_path is None:
            shutil.rmtree(checkpoints, ignore_errors=True)
        # Its weights changed, interrupted or not: a later train() of this object says so.
        setattr(loaded, TRAINED_STEPS, trained_steps(loaded) + trainer.state.global_step)
    if verbose:
        print(result.history.summary())
    return result


def check_arguments(model, tokenizer, data, eval_data, out_dir, resume, *, masking, lora,
                    freeze, template, callbacks, training_args: dict[str, Any], eval_every,
                    learning_rate, num_epochs, max_steps, batch_size, seed, **counts: Any):
    """Step 0: train()'s arguments checked before the model loads. Returns `lora` and `freeze`
    as the run reads them (None: the preset's LoRA choice, the recipe's frozen parts), the
    run folder and the checkpoint to resume from (run_folder)."""
    check_numbers(learning_rate, num_epochs, eval_every=eval_every, max_steps=max_steps,
                  batch_size=batch_size, seed=seed, **counts)
    # A misspelt keyword lands in **training_args: named now, not by TrainingArguments later.
    check_overrides(training_args, inspect.signature(train).parameters)
    check_kinds(model, tokenizer, masking, lora, callbacks)
    check_eval_data(eval_data)
    check_sources(data, eval_data if eval_every else None)  # a missing file, say
    out_path, resume_from = run_folder(out_dir, resume)
    if lora is None:
        lora = default_lora(model) if isinstance(model, str | Path) else False
    freeze = freeze_pieces(freeze, lora)  # a clash with LoRA fails before the model loads
    check_adapters(model, lora, freeze)  # a model object wrapped by get_peft_model already
    if resume_from is not None:  # a resume must train the same run: what is known so far
        known = dict(masking=masking, template=get_template(template).name,
                     batch_size=batch_size, seed=seed, lora=bool(lora), learning_rate=learning_rate,
                     model=where_from(str(model)) if isinstance(model, str | Path) else None,
                     max_steps=max_steps)  # the schedule is laid out over the steps
        refuse_other_settings(out_path, {k: v for k, v in known.items() if v is not None})
    return lora, freeze, out_path, resume_from


def trainer_for(weights: Weights, tokenizer, ready: PreparedData, held_out: HeldOut,
                checkpoints: Path, *, lora: Any, batch_size: int, fast: bool,
                gradient_checkpointing: bool | None,
                num_threads: int | None, eval_every: int | None, progress: bool,
                live_plot: bool, title: str, callbacks: Sequence[TrainerCallback],
                verbose: bool, **arguments: Any) -> tuple[CourseTrainer, dict[str, Any]]:
    """Step 3: TrainingArguments for this machine and the Trainer (build_trainer); with what
    the run's history records of the machine: device, threads, processes, checkpointing."""
    model, device = weights.model, choose_device()
    if gradient_checkpointing is None:  # only when the run would not fit in memory otherwise
        gradient_checkpointing = checkpointing_needed(
            model, ready, batch_size, lora, weights.freeze, device, verbose)
    args = training_arguments(checkpoints, device, batch_size=batch_size, fast=fast,
                              learning_rate=weights.learning_rate,
                              gradient_checkpointing=gradient_checkpointing, **arguments)
    threads = threads_for(weights, device, num_threads, args.max_steps, verbose)
    trainer = build_trainer(model, tokenizer, ready, held_out.examples, args,
                            eval_every=eval_every, fast=fast, progress=progress,
                            live_plot=live_plot, title=title, callbacks=callbacks)
    return trainer, dict(device=device.device, num_threads=threads.count,
                         world_size=args.world_size,
                         gradient_checkpointing=gradient_checkpointing)


# On a model object train() has trained: how many steps, over all its runs in this session.
TRAINED_STEPS = "course_steps_trained"


def trained_steps(model: Any) -> int:
    """The steps train() has trained this model object for (0: never, e.g. freshly loaded)."""
    return getattr(model, TRAINED_STEPS, 0)


def trained_before(model: Any, verbose: bool) -> list[str]:
    """A note (printed when verbose) when train() trained this model object before: trained in
    place, a cell run again went on from the weights the first run left, and its numbers
    (10 more steps, a lower loss) said nothing of it."""
    if not (steps := trained_steps(model)):
        return []
    note = (f"train() has fine-tuned this model object already ({steps} steps), and this "
            f"run trains it further from those weights, so its numbers are not a fresh run's "
            f"(a cell run again goes on where it stopped); to start over, load a fresh copy "
            f"with load_model_and_tokenizer(...) in the same cell.")
    if verbose:
        print(f"note: {note}")
    return [note]  # as the data's notes are kept: without "note: "


def threads_for(weights: Weights, device: DeviceChoice, asked: int | None, max_steps: int,
                verbose: bool):
    """The CPU threads this run trains with (env.choose_threads), said with why."""
    threads = choose_threads(weights.n_params < SMALL_MODEL_PARAMS, device.device, asked=asked)
    if verbose:
        if step_cap() is not None:
            print(f"COURSE_MAX_STEPS is set: this run stops after {max_steps} steps.")
        print(f"threads: {threads.count} - {threads.reason}")
    return threads


@dataclass
class HeldOut:
    """The held-out examples (response-only labels) and the name of the set they come from."""

    examples: list[dict]
    name: str = ""  # e.g. "course:eval" or "12 rows held out of data.jsonl (seed 0)"
    # The training data's rows that did not train: held out of it, or skipped (no trained
    # token left), by place ("line 3"), so `course eval` knows which questions it never saw.
    not_trained: list[str] = field(default_factory=list)


def prepare_data(data: DataSource, eval_data: DataSource | None, tokenizer, model, *,
                 masking: Masking, max_length: int | None, template: str | Template,
                 eval_limit: int | None, verbose: bool, progress: bool = False,
                 skip_bad_rows: bool = False) -> tuple[PreparedData, HeldOut]:
    """Step 1: labelled training examples (reported) and held-out examples (response only)."""
    limit, notes = length_limit(model.config, max_length)
    if not is_tokenized(data):
        # Once: the hold-out and the checks below read the same records.
        data = load_data(data, skip_bad_rows=skip_bad_rows)
    given = data
    data, eval_data, split_note = _eval_source(data, eval_data, eval_limit)
    # Rows held out of the data itself (the data shrank): they never train.
    held_places = (eval_data.where if isinstance(given, Records) and isinstance(eval_data, Records)
                   and len(data.records) < len(given.records) else [])
    ready = prepare_training_data(data, tokenizer, masking, limit, template, progress=progress)
    far = None
    if isinstance(data, Records) and not data.source.startswith("course:"):  # ours fits
        far = far_from_world(data.records, ready, tokenizer, model)
    ready = replace(ready, warnings=notes + ready.warnings + ([far] if far else []),
                    context=getattr(model.config, "max_position_embeddings", None))
    if verbose or not ready.examples:  # the report says why none is left
        # The held-out line first: "3 rows held out", then "27 of 27 examples ... ready" reads
        # as the 30 rows of the file, where the other order read as 3 rows lost.
        print("\n".join(([split_note] if split_note else []) + [ready.report()]))
    if not ready.examples:
        raise CourseError(
            f"No example of {ready.source} is left to train on; see the report above.")
    skipped_places = [ready.where[i] for i, _ in ready.skipped] if ready.where else []
    if eval_data is None:
        return ready, HeldOut([], not_trained=skipped_places)
    if not isinstance(eval_data, Records) and not is_tokenized(eval_data):
        # Once: read for the overlap check and the labels; a saved DatasetDict's test split.
        eval_data = load_data(eval_data, WATCHED_SPLITS, "eval_data", skip_bad_rows)
    held = replace(prepare_eval_examples(eval_data, tokenizer, limit, template, eval_limit),
                   context=ready.context)  # for held_out_note's advice
    # New rows only: the course's own held-out set is checked by tests/world, not every run.
    notes = [held_out_note(held, eval_limit)] if not _name_of(eval_data).startswith(
        "course:") else []
    if isinstance(eval_data, Records) and eval_data.whole is None:  # a file of its own
        notes += left_out_note(eval_data)
    if isinstance(data, Records) and isinstance(eval_data, Records):
        notes.append(also_in_training(data, eval_data))
    if verbose and any(notes):
        print("\n".join(n for n in notes if n))
    # Kept with the training data's own notes, so the run's history.json has them too.
    ready = replace(ready, warnings=ready.warnings + [n for n in notes if n])
    return ready, HeldOut(held.examples, _name_of(eval_data), held_places + skipped_places)


def length_limit(config, asked: int | None) -> tuple[int, list[str]]:
    """The tokens an example is cut to: as asked, but never past the model's context (said
    when cut); unasked, the context, at most 1024. Its config is all it reads (show-mask)."""
    context = getattr(config, "max_position_embeddings", None)
    if asked is None:
        return min(context or 1024, 1024), []
    if asked < 1:
        raise with_advice(f"{{fix}} must be at least 1 token, not {asked}.", "max_length",
                          "--max-length")
    if context and asked > context:
        return context, [f"max_length={asked} is more than the model's context of {context} "
                         f"tokens, so {context} is used."]
    return asked, []


def _eval_source(data: DataSource, eval_data: DataSource | None, eval_limit: int | None,
                 ) -> tuple[DataSource, DataSource | None, str]:
    """Resolve eval_data="auto": course:eval for course data, else a slice of the user's;
    "none" (or "off", "", as the CLI's --eval-data takes them) is no held-out set."""
    if is_no_eval(eval_data):
        return data, None, ""
    if not (isinstance(eval_data, str) and eval_data == "auto"):
        return data, eval_data, ""
    users = (isinstance(data, Records) and not data.listed
             and not data.source.startswith("course"))
    if not users:  # the course's own data, or records and examples given in Python
        return data, "course:eval", ""
    own = own_held_out_split(data.source, WATCHED_SPLITS)
    unread = _unread_splits(data.source, ["train", own])
    if own:  # a data set that comes split: its validation split is the held-out set
        return data, data.source, (
            f"Held-out score: the '{own}' split of {data.source}{unread}; {_other_eval_data()}")
    train_part, held = hold_out(data, most=eval_limit)
    if held is None:
        prompts, rows = different_prompts(data.records), len(data.records)
        return train_part, None, (
            f"{data.source} has only {prompts} different prompt{'s' if prompts != 1 else ''} "
            f"in {rows} row{'s' if rows != 1 else ''}, too few to hold some out (it takes "
            f"{HOLD_OUT_MIN_ROWS}), so there is no held-out score; give a held-out set with "
            f"{advice('eval_data=...', '--eval-data FILE')}{unread}.")
    return train_part, held, (
        f"Held-out score: {held.source}, set aside from training{unread}; "
        f"{_other_eval_data()}")


def _unread_splits(source: str, read: list[str | None]) -> str:
    """', and its 'extra' split is not read' for the splits of a data set that training
    leaves alone, so none goes unsaid; a test split is left for the final score."""
    unread = [name for name in source_splits(source) if name not in read]
    if not unread:
        return ""
    final = f" ({advice('evaluate(...)', 'course eval')} scores a test split)"
    names = " and ".join(f"'{name}'" for name in unread)
    return (f", and its {names} split{'s are' if len(unread) > 1 else ' is'} not read"
            f"{final if 'test' in unread else ''}")


def _other_eval_data() -> str:
    """How to choose the held-out set, in the reader's spelling (Python, or the command line)."""
    return (f"{advice('eval_data=...', '--eval-data FILE')} chooses another set, "
            f"{advice('eval_data=None', '--eval-data none')} turns it off.")


def note_other_template(model: Any, template: str | Template) -> None:
    """A note when a run folder is trained further in a template other than its own: allowed
    (a new format on purpose), but it was silent, and the default is rarely the run's."""
    tuned = history_of_run(model) if isinstance(model, str | Path) else None
    own, asked = tuned.template if tuned is not None else None, get_template(template).name
    if own and own != asked:
        print(f"note: {model} was tuned in the {own} template; this run trains it in the "
              f"{asked} template, a format it has not seen "
              f"({advice(f'template={own!r}', f'--template {own}')} keeps its own).")


def _name_of(data: DataSource) -> str:
    if isinstance(data, Records | PreparedData):
        return data.source
    if isinstance(data, str | Path):
        return str(data)
    return f"{len(data)} given {'examples' if is_tokenized(data) else 'records'}"


def build_trainer(model, tokenizer, ready: PreparedData, eval_examples: list[dict], args, *,
                  eval_every: int | None, fast: bool, progress: bool, live_plot: bool,
                  title: str, callbacks: Sequence[TrainerCallback] = ()) -> CourseTrainer:
    """Step 3: the Trainer with the course's loss, collator and callbacks."""
    # The KV cache only helps generation; during training it costs time on every forward.
    model.config.use_cache = False
    trainer = CourseTrainer(
        model=model, args=args, train_dataset=ready.examples,
        data_collator=PadCollator(tokenizer.pad_token_id),  # pads labels with -100 by position
        fast_loss=FastLoss() if fast else None,
    )
    for quiet in (PrinterCallback, ProgressCallback):  # they print a dict per logged step
        trainer.remove_callback(quiet)
    trainer.add_callback(StopAtNonFiniteLoss())
    if eval_examples and eval_every:
        trainer.add_callback(
            ResponseEvalCallback(eval_examples, tokenizer.pad_token_id, eval_every))
    if progress and is_main_process():  # N processes, one bar
        trainer.add_callback(ProgressBar())
    if live_plot:
        trainer.add_callback(LiveLossPlot(title=title))
    for callback in callbacks:
        trainer.add_callback(callback)
    return trainer


def run(trainer: CourseTrainer, frozen: Sequence[torch.nn.Parameter], *, fast: bool,
        num_threads: int | None, resume_from: str | None) -> float:
    """Step 4: train; returns the wall time in seconds. Frozen parts are frozen meanwhile only."""
    start = time.perf_counter()
    for param in frozen:
        param.requires_grad_(False)
    try:
        # Only the course's bar: none for each checkpoint's save ("Writing model shards").
        with fast_run(fast, num_threads), quiet_loading():
            trainer.train(resume_from_checkpoint=resume_from)
    finally:
        for param in frozen:  # frozen for this run only: the model you keep trains whole
            param.requires_grad_(True)
    return time.perf_counter() - start


def check_finite(trainer: CourseTrainer, out_dir: Path | None, weights: Weights) -> None:
    """Step 4b: weights that became NaN or infinite end the run with what to change, not as a
    saved model that answers nothing and exit code 0. Their checkpoints go too."""
    stop = next(c for c in trainer.callback_handler.callbacks
                if isinstance(c, StopAtNonFiniteLoss))
    # The loss of the last step was computed before its update: the weights are read too.
    if stop.at is None and weights_finite(trainer.model):
        return
    at = stop.at or trainer.state.global_step
    for folder in (out_dir / CHECKPOINT_DIR).glob(f"{PREFIX_CHECKPOINT_DIR}-*") if out_dir else ():
        if int(folder.name.split("-")[-1]) >= at:  # saved from that step on: NaN weights too
            shutil.rmtree(folder)
    # A tenth, but no more than the recipe's own rate: from 1e9, 1e8 diverges too.
    rate = weights.learning_rate
    lower = min(rate / 10, weights.default_rate)
    when = f"at step {at} of {trainer.state.max_steps} with a learning rate of {rate:g}, so"
    what = (f"The loss became NaN {when} the weights are no longer numbers and" if stop.at
            else f"The weights became NaN or infinite {when}")  # the last step's update
    def said(fix: str, out: str) -> str:  # in the reader's terms: a keyword, or a flag
        # The same out_dir again is refused (it is not empty), and a resume the new rate.
        again = f" into a new {out} ({out_dir} keeps the stopped run)" if out_dir else ""
        return (f"{what} the run was stopped without saving them; lower it, say to {fix}, and "
                f"train again{again}.")

    raise CourseError(said(f"learning_rate={lower:g}", "out_dir"),
                      cli=said(f"--lr {lower:g}", "--out"))


def collect(trainer: CourseTrainer, tokenizer, ready: PreparedData, meta: dict[str, Any],
            wall: float, *, lora: bool, out_dir: Path | None,
            template: str | Template = DEFAULT_TEMPLATE) -> TrainResult:
    """Step 5: the model ready to generate, its history, and the run folder if asked for."""
    # LoRA folded into the weights: a plain model that saves whole and generates at full speed.
    model = trainer.model.merge_and_unload() if lora else trainer.model
    # build_trainer turned the KV cache off; generating without it re-reads the prompt per token.
    model.config.use_cache = True
    # The run's way to save memory, not the model's: a later fine-tune of it chooses again.
    if meta["gradient_checkpointing"]:  # transformers 5.2x renamed it activation_checkpointing
        getattr(model, "activation_checkpointing_disable", model.gradient_checkpointing_disable)()
        model.disable_input_require_grads()  # the embeddings' hook that enabling added
    # Dropout off: greedy answers to the same prompt are the same every time.
    model.eval()
    # Which loss path ran goes in the record, so two runs' losses are compared knowing how.
    fast = trainer.fast_loss.status if trainer.fast_loss is not None else "off (fast=False)"
    # The skipped, cut and empty examples go in too: a summary says what the run really saw.
    history = history_from_log(
        RunHistory(
            **meta, data=ready.source, max_length=ready.max_length or 0,
            max_steps=trainer.state.max_steps,
            steps_done=trainer.state.global_step, wall_time_s=round(wall, 3),
            examples_used=len(ready.examples), examples_skipped=len(ready.skipped),
            examples_truncated=len(ready.truncated),
            examples_empty_response=len(ready.empty_response),
            rows_left_out=ready.rows_left_out, rows_left_out_named=ready.left_out,
            warnings=list(ready.warnings), versions=package_versions(), fast_path=fast,
        ),
        trainer.state.log_history,
    )
    if out_dir is not None:
        # Only into a folder the learner named: the course never writes anywhere unasked.
        save_run(out_dir, model, tokenizer, history, template)
    return TrainResult(model, tokenizer, history, out_dir)


def save_run(out_dir: Path, model, tokenizer, history: RunHistory,
             template: str | Template = DEFAULT_TEMPLATE) -> None:
    """Model folder (loadable with from_pretrained / `course ask`), history.json and loss.png.

    The saved tokenizer's chat template is the run's template (chat.chat_template), so
    transformers' `pipeline` and `apply_chat_template` ask the model the way it was tuned.
    Written aside first, then moved in, history.json last: a save cut short by an interrupt
    leaves no half-written model under the run's name, and history.json marks a finished run.
    """
    out_dir = check_save_run(out_dir, model, tokenizer, history)
    staging = out_dir / ".saving"
    shutil.rmtree(staging, ignore_errors=True)  # left by a save interrupted before
    staging.mkdir(parents=True)
    try:
        with quiet_loading():  # no "Writing model shards" bar: a local save takes a blink
            model.save_pretrained(staging)
        own = tokenizer.chat_template  # the caller's tokenizer keeps its own
        try:
            attach_chat_template(tokenizer, chat_template(template))
            tokenizer.save_pretrained(staging)
        finally:
            tokenizer.chat_template = own
        plot_history(history).savefig(staging / "loss.png", dpi=100)
        history.save(staging)
    except BaseException:  # an interrupt, a full disk: the checkpoint is what stays
        shutil.rmtree(staging, ignore_errors=True)
        raise
    # config.json makes it a model folder, history.json a finished run: those two last.
    last = {"config.json": 1, HISTORY_FILE: 2}
    for path in sorted(staging.iterdir(), key=lambda p: last.get(p.name, 0)):
        path.replace(out_dir / path.name)
    staging.rmdir()


SAVE_RUN = "save_run(folder, run.model, run.tokenizer, run.history)"
SAVE_ARGS = {"out_dir": "a folder", "model": "the model", "tokenizer": "the tokenizer",
             "history": "the run's history"}


def check_save_run(out_dir: Any, model: Any, tokenizer: Any, history: Any) -> Path:
    """The folder as a Path, or one sentence saying which argument goes where: swapped ones
    were TypeErrors ("unsupported operand type(s) for /") or AttributeErrors half-way through
    the save, and a folder given as a string was a TypeError."""
    given = {"out_dir": out_dir, "model": model, "tokenizer": tokenizer, "history": history}
    if any(isinstance(value, TrainResult) for value in given.values()):
        raise CourseError(f"save_run takes the parts of a run, not the TrainResult train() "
                          f"returned; give them: {SAVE_RUN}.")
    for name, value in given.items():
        kind = _save_kind(value, first=name == "out_dir")
        if kind is None:  # of no kind save_run knows: name what goes there
            what = shown(value) if isinstance(value, str) else f"a {type(value).__name__}"
            raise CourseError(f"{name} must be {SAVE_ARGS[name]}, not {what}: {SAVE_RUN}.")
        if kind != name:
            raise CourseError(f"save_run got {SAVE_ARGS[kind]} where {name} goes; give them "
                              f"in this order: {SAVE_RUN}.")
    if Path(out_dir).is_file():  # was NotADirectoryError for out_dir/.saving
        raise CourseError(f"out_dir {str(out_dir)!r} is a file; give a folder (new or not).")
    return Path(out_dir)


def _save_kind(value: Any, first: bool) -> str | None:
    """Which of save_run's arguments `value` is ('model', ...), or None for none of them."""
    if isinstance(value, os.PathLike) or (isinstance(value, str) and first):
        return "out_dir"  # a string elsewhere is more likely a model's name: said as such
    if isinstance(value, torch.nn.Module):
        return "model"
    if hasattr(value, "convert_ids_to_tokens"):
        return "tokenizer"
    return "history" if isinstance(value, RunHistory) else None


# --- Helpers of the steps ------------------------------------------------------------------
def checkpointing_needed(model, ready: PreparedData, batch_size: int, lora,
                         freeze: Sequence[str], device: DeviceChoice, verbose: bool) -> bool:
    """True when estimate_memory says the run, with what it trains (LoRA or the parts not
    frozen), would not fit in 90% of the GPU's memory, or on a CPU of the container's limit
    or the machine's memory (memory_budget)."""
    if device.device != "cuda" and not is_counted(model):
        return False  # a model estimate_memory does not know trains as it is
    longest = max(len(ex["input_ids"]) for ex in ready.examples)
    # Counted example by example: one list of every label was 25M items for 100k examples.
    tokens = sum(len(ex["labels"]) for ex in ready.examples)
    trained = sum(sum(label != IGNORE_INDEX for label in ex["labels"])
                  for ex in ready.examples) / max(1, tokens)
    sizes = dict(lora=lora, dtype=device.dtype, freeze=freeze, logits_share=trained)
    # A batch holds every example at most: --batch-size 100000 on 855 rows trains 855 a step.
    batch_size = min(batch_size, len(ready.examples))
    estimate = estimate_memory(model, batch_size, longest, **sizes)
    memory, whose = memory_budget(device.device)
    if estimate.total <= 0.9 * memory:
        return False
    if verbose:
        print(f"gradient checkpointing on: without it this run needs about "
              f"{estimate.total / 1e9:.1f} GB, more than 90% of {whose} (estimate_memory).")
        still = estimate_memory(model, batch_size, longest, gradient_checkpointing=True, **sizes)
        if still.total > 0.9 * memory:  # past a cgroup's limit the kernel kills it, unsaid
            print(still_too_big(still, whose))
    return True


def package_versions() -> dict[str, str]:
    """The versions of the packages that decide a run's numbers (kept in its history)."""
    out = {}
    for pkg in ("torch", "transformers", "trl", "peft"):
        try:
            out[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            pass
    return out


def check_kinds(model, tokenizer, masking, lora, callbacks) -> None:
    """Settings of the wrong kind, named before the model loads: unchecked, masking="responses"
    failed after it loaded, lora="no" meant LoRA (any true value did), and a tokenizer given
    as the model was told to pass the tokenizer it had just passed."""
    if masking not in ("response", "none"):
        raise with_advice(f"{{fix}} must be 'response' or 'none', not {shown(masking)}.",
                          "masking", "--masking")
    if not (lora is None or isinstance(lora, bool | LoraConfig)):
        raise CourseError(f"lora must be True, False, None or a LoraConfig, not {shown(lora)}.")
    if isinstance(callbacks, TrainerCallback | type) or not isinstance(callbacks, Iterable):
        raise CourseError("callbacks must be a list of TrainerCallbacks; put one in a list: "
                          "callbacks=[callback].")
    _check_model(model, tokenizer)


def check_eval_data(eval_data) -> None:
    """A held-out set that cannot score: [] turned the score off without a word, and False
    (meaning "none") was a TypeError from inside the data loading."""
    if isinstance(eval_data, bool):
        raise CourseError(f"eval_data must be data (a file, an embedded set such as "
                          f"'course:eval', or records), 'auto', or None for no held-out score, "
                          f"not {eval_data}.")
    if isinstance(eval_data, list | tuple) and not eval_data:
        raise CourseError(f"eval_data={eval_data!r} holds no rows to score; give held-out "
                          f"records, or eval_data=None for no held-out score.")


def _check_model(model, tokenizer) -> None:
    """A model is a name or folder, or a model object with tokenizer= beside it."""
    if isinstance(model, str | Path):
        if tokenizer is not None:  # it was ignored: the named model's own one was loaded
            raise CourseError("tokenizer= goes with a model object; a model given by name "
                              "loads its own tokenizer, so leave it out.")
        return
    if isinstance(model, tuple) and len(model) == 2:
        raise CourseError("model is a (model, tokenizer) pair; pass "
                          "train(model, tokenizer=tokenizer).")
    if hasattr(model, "decode") and not isinstance(model, torch.nn.Module):
        raise CourseError("model is a tokenizer, not a model; pass the model first and the "
                          "tokenizer as tokenizer=: train(model, tokenizer=tokenizer).")
    if kind := kind_of_records(model):  # train(records), no model: the data set was printed
        raise CourseError(f"model is data ({kind}), not a model; give the model first and the "
                          f"data second: train('tiny', data), or train(data=data) for the "
                          f"default model.")
    if not isinstance(model, torch.nn.Module):
        raise CourseError(f"model must be a preset name such as 'tiny', a model folder, a Hub "
                          f"id or a model object, not {shown(model)}.")
    if tokenizer is not None and not hasattr(tokenizer, "decode"):
        raise CourseError(f"tokenizer must be a tokenizer object (load_tokenizer(...) gives "
                          f"one), not {shown(tokenizer)}.")


def _load(model, tokenizer, lora: bool):
    if not isinstance(model, str | Path):
        if tokenizer is None:
            raise CourseError(
                "When you pass a model object, pass its tokenizer too: train(model, tokenizer=tok)."
            )
        if tokenizer.pad_token is None:  # as load_model_and_tokenizer does: pads by position
            tokenizer.pad_token = tokenizer.eos_token
        return model, tokenizer, getattr(model, "name_or_path", type(model).__name__)
    # A full fine-tune keeps fp32 master weights (the Trainer autocasts to bf16/fp16 on a GPU);
    # LoRA trains few weights, so the frozen base may stay in the card's half precision.
    dtype = None if lora else torch.float32
    loaded, tok = load_model_and_tokenizer(model, dtype=dtype)
    return loaded, tok, str(model)


