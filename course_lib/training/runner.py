"""Short fine-tunes on top of transformers' Trainer, with fair measurements and sane defaults.

    >>> result = train("tiny", "course:train", masking="response", max_steps=100)  # doctest: +SKIP
    >>> result.history.summary()                                                  # doctest: +SKIP
    'masked: 100 steps of tiny on cpu in 21.3 s; held-out response loss 0.412, accuracy 88.0%'

What this adds to a bare Trainer, and why:

* Defaults that suit the device (`choose_device`): on CPU fp32, no gradient checkpointing
  and a learning rate of 1e-3 for a tiny model (TRL's 2e-5 barely moves it); on a GPU bf16 or
  fp16 as the card supports, and a smaller rate for real models.
* Labels from `labels.prepare_examples` (-100 on the prompt), problems reported up front.
* Every `eval_every` steps the held-out response-only loss and accuracy, measured the same
  way for masked and unmasked runs (`ResponseEvalCallback`), kept in a `RunHistory`.
* A batch with no trained token is skipped and counted instead of producing a NaN loss.
* `freeze=("embed_tokens", "mlp")` trains only the other weights (here: attention and
  norms), a cheap way to teach the format while the layers that hold the facts stay as
  pretraining left them.
* Checkpoints in `out_dir/checkpoints`, so `resume=True` continues an interrupted run.
"""

from __future__ import annotations

import gc
import importlib.metadata
import inspect
import shutil
import tempfile
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from transformers import Trainer, TrainerCallback, TrainingArguments
from transformers.trainer_callback import PrinterCallback, ProgressCallback
from transformers.trainer_utils import get_last_checkpoint

from course_lib.env import choose_device
from course_lib.errors import CourseError
from course_lib.formatting import DEFAULT_TEMPLATE, Template
from course_lib.history import RunHistory
from course_lib.kept_logits import can_skip_last_layer, kept_logits
from course_lib.labels import IGNORE_INDEX, Masking, PadCollator
from course_lib.response_metrics import response_metrics
from course_lib.training_data import DataSource, prepare_eval_examples, prepare_training_data

CHECKPOINT_DIR = "checkpoints"
TINY_MODEL_PARAMS = 50_000_000  # below this a model is "tiny": high learning rate, fp32


@dataclass
class TrainResult:
    """The fine-tuned model (in eval mode), its tokenizer, and what the run measured."""

    model: Any
    tokenizer: Any
    history: RunHistory
    out_dir: Path | None = None


def default_learning_rate(n_params: int, lora: bool) -> float:
    """1e-3 for tiny models; for real ones 2e-4 with LoRA, 5e-5 for a full fine-tune.

    >>> default_learning_rate(1_200_000, lora=False)
    0.001
    """
    if n_params < TINY_MODEL_PARAMS:
        return 1e-3
    return 2e-4 if lora else 5e-5


class CourseTrainer(Trainer):
    """transformers' Trainer with two changes, each explained where it is made.

    1. A batch with no trained token is skipped and counted instead of giving a NaN loss.
       Mean cross-entropy over zero targets is 0/0. Such a batch returns a zero loss with no
       gradient, so the optimizer leaves every weight alone (AdamW skips parameters whose
       gradient is None), and the step is recorded in the log history as `skipped_batch`.
    2. The loss is computed only where it is needed (`compute_loss`): the same number as the
       Trainer's, measurably faster, most of all for a masked run.
    """

    skipped_batches: int = 0
    _fast_loss: bool | None = None
    _fast_loss_checked: bool = False

    def _can_use_fast_loss(self, model) -> bool:
        if self._fast_loss is None:
            base = self.accelerator.unwrap_model(model)
            if hasattr(base, "get_base_model"):  # a PEFT model passes keywords through
                base = base.get_base_model()
            accepts = "logits_to_keep" in inspect.signature(base.forward).parameters
            plain = self.label_smoother is None and self.compute_loss_func is None
            self._fast_loss = accepts and plain
        return self._fast_loss

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        """Cross-entropy over trained tokens only, exactly as the model's own loss computes it.

        Why it is faster, with the same result:
        * The output layer and softmax run only at positions whose next token is trained
          (`logits_to_keep` as a boolean mask). In a masked run that skips every prompt
          position: most of the sequence, and the output layer is the widest matrix.
        * The attention mask is dropped when the batch is right-padded (our collator's way).
          Under a causal mask no real token can see the padding after it anyway, and without
          the explicit mask attention takes its faster causal path.
        * For a Llama model the last decoder layer, too, runs only where a target is trained
          (`kept_logits`): its output feeds nothing but the output layer.
        """
        labels = inputs.get("labels")
        if return_outputs or labels is None or not self._can_use_fast_loss(model):
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        targets = labels[:, 1:]  # position t predicts token t+1
        trained = targets != IGNORE_INDEX
        keep = torch.nn.functional.pad(trained, (0, 1), value=False)
        model_inputs = {k: v for k, v in inputs.items() if k != "labels"}
        mask = model_inputs.get("attention_mask")
        if mask is not None and bool((mask[:, 1:] <= mask[:, :-1]).all()):
            del model_inputs["attention_mask"]
        try:
            if set(model_inputs) == {"input_ids"} and can_skip_last_layer(model):
                logits = kept_logits(model, model_inputs["input_ids"], keep)
            else:
                logits = model(**model_inputs, logits_to_keep=keep, use_cache=False).logits
        except (IndexError, RuntimeError, TypeError):
            if self._fast_loss_checked:
                raise
            logits = None
        targets_kept = targets[trained]
        if logits is None or logits.shape[:-1] != targets_kept.shape:
            # An architecture that takes logits_to_keep but not as a boolean mask: use the
            # Trainer's own loss from now on.
            self._fast_loss = False
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        self._fast_loss_checked = True
        count = num_items_in_batch if num_items_in_batch is not None else trained.sum()
        return (
            torch.nn.functional.cross_entropy(logits.float(), targets_kept, reduction="sum")
            / count
        )

    def training_step(self, model, inputs, num_items_in_batch=None):
        labels = inputs.get("labels")
        # Causal LMs shift labels by one: position 0's label is never a target.
        if labels is not None and not bool((labels[..., 1:] != IGNORE_INDEX).any()):
            self.skipped_batches += 1
            step = self.state.global_step + 1
            self.state.log_history.append({"step": step, "skipped_batch": 1})
            warnings.warn(
                f"step {step}: batch has no trained token (all labels -100); skipped instead of a "
                f"NaN loss. Check the data report for examples cut by max_length.",
                stacklevel=2,
            )
            if self.args.fp16:
                # fp16's GradScaler insists on finite-checked gradients: give it zeros.
                trainable = [p for p in model.parameters() if p.requires_grad]
                zero = sum(p.sum() for p in trainable) * 0.0
                self.accelerator.backward(zero)
                return zero.detach()
            return torch.zeros((), device=self.args.device)
        return super().training_step(model, inputs, num_items_in_batch)


class ResponseEvalCallback(TrainerCallback):
    """Every `every` steps (and at step 0 and the end): held-out response-only loss/accuracy.

    The numbers go into `state.log_history`, so they are saved with each checkpoint and
    survive a resume.
    """

    def __init__(
        self,
        examples: Sequence[dict[str, list[int]]],
        pad_token_id: int,
        every: int,
        batch_size: int = 32,
    ):
        self.examples, self.pad_token_id, self.every = examples, pad_token_id, every
        self.batch_size = batch_size

    def _evaluate(self, state, model) -> None:
        m = response_metrics(model, self.examples, self.pad_token_id, self.batch_size)
        state.log_history.append(
            {
                "step": state.global_step,
                "response_eval_loss": m.loss,
                "response_eval_accuracy": m.accuracy,
            }
        )

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        if state.global_step == 0:
            self._evaluate(state, model)

    def on_step_end(self, args, state, control, model=None, **kwargs):
        if state.global_step % self.every == 0 or state.global_step >= state.max_steps:
            self._evaluate(state, model)


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


def _versions() -> dict[str, str]:
    out = {}
    for pkg in ("torch", "transformers", "trl", "peft"):
        try:
            out[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            pass
    return out


def _prepare_out_dir(out_dir: Path | None, resume: bool) -> str | None:
    """Refuse to write into a learner's non-empty folder; find the checkpoint to resume."""
    if out_dir is None:
        if resume:
            raise CourseError("resume=True needs the out_dir of the interrupted run.")
        return None
    if resume:
        ckpt_root = out_dir / CHECKPOINT_DIR
        last = get_last_checkpoint(str(ckpt_root)) if ckpt_root.is_dir() else None
        if last is None:
            raise CourseError(
                f"No checkpoint to resume in '{ckpt_root}'; train without --resume first "
                f"(checkpoints are saved every save_every steps)."
            )
        return last
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise CourseError(
            f"'{out_dir}' already exists and is not empty; the course never overwrites your files. "
            f"Choose a new output folder, or pass resume=True (--resume) to continue a run there."
        )
    return None


def _load(model, tokenizer, lora: bool):
    if not isinstance(model, str | Path):
        if tokenizer is None:
            raise CourseError(
                "When you pass a model object, pass its tokenizer too: train(model, tokenizer=tok)."
            )
        return model, tokenizer, getattr(model, "name_or_path", type(model).__name__)
    from course_lib.loading import load_model_and_tokenizer

    # A full fine-tune keeps fp32 master weights (the Trainer autocasts to bf16/fp16 on a GPU);
    # LoRA trains few weights, so the frozen base may stay in the card's half precision.
    dtype = None if lora else torch.float32
    loaded, tok = load_model_and_tokenizer(model, dtype=dtype)
    return loaded, tok, str(model)


def parameters_to_freeze(model, names: Sequence[str]) -> list[torch.nn.Parameter]:
    """The trainable parameters whose names contain one of `names` (an error if none do).

    >>> len(parameters_to_freeze(model, ["embed_tokens", "mlp"]))  # doctest: +SKIP
    13
    """
    chosen = [
        param
        for name, param in model.named_parameters()
        if param.requires_grad and any(piece in name for piece in names)
    ]
    if not chosen:
        pieces = dict.fromkeys(  # e.g. embed_tokens, self_attn, q_proj, mlp: first-seen order
            piece
            for name, _ in model.named_parameters()
            for piece in name.split(".")[:-1]
            if not piece.isdigit() and piece not in ("model", "layers")
        )
        raise CourseError(
            f"freeze={list(names)} matches no trainable parameter of this model; use pieces "
            f"of its parameter names: {', '.join(list(pieces)[:8])}."
        )
    return chosen


def _add_lora(model, lora, seed: int):
    from peft import LoraConfig, get_peft_model

    config = (
        lora
        if isinstance(lora, LoraConfig)
        else LoraConfig(
            r=8,
            lora_alpha=16,
            lora_dropout=0.0,
            target_modules=["q_proj", "v_proj"],
            task_type="CAUSAL_LM",
        )
    )
    torch.manual_seed(seed)  # LoRA's A matrices are random: same seed, same run
    return get_peft_model(model, config)


def train(
    model: str | Path | Any = "tiny",
    data: DataSource = "course:train",
    eval_data: DataSource | None = "course:eval",
    masking: Masking = "response",
    max_steps: int | None = 100,
    num_epochs: float | None = None,
    learning_rate: float | None = None,
    batch_size: int = 16,
    seed: int = 0,
    lora: bool | Any = False,
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
    freeze: Sequence[str] = (),
    callbacks: Sequence[TrainerCallback] = (),
    **training_args: Any,
) -> TrainResult:
    """Fine-tune `model` on `data` and return the model, tokenizer and a RunHistory.

    model:      'tiny' (embedded), a folder, a Hub id, or a model object (then pass tokenizer=).
    data:       'course:train', a JSONL/JSON file, a Hub id, records, or tokenized examples.
    eval_data:  held out; measured every `eval_every` steps on response tokens only (None: off).
    masking:    'response' (labels -100 on the prompt) or 'none' (train on every token).
    max_steps:  optimizer steps; set None and give num_epochs to train by epochs instead.
    out_dir:    save the model, history.json, loss.png and checkpoints there (never overwrites).
    resume:     continue from the last checkpoint in out_dir.
    num_threads: CPU threads for this run only (default: torch's current setting, untouched).
                A tiny model trains as fast on 1 thread, and far faster when other programs
                keep the cores busy (OpenMP threads then wait for each other).
    freeze:     parts of the model not to train, as pieces of parameter names: ("mlp",) keeps
                every `...mlp...` weight as it is. Applied before LoRA (which freezes all).
    training_args: anything else for transformers' TrainingArguments (overrides our defaults).

    The model is trained in place (a model object you pass changes too) and returned in
    eval mode. With lora=True the adapters are merged into it before it is returned.
    """
    choice = choose_device()
    out_path = Path(out_dir).expanduser() if out_dir is not None else None
    resume_from = _prepare_out_dir(out_path, resume)
    model, tokenizer, model_name = _load(model, tokenizer, bool(lora))
    if max_length is None:
        max_length = min(getattr(model.config, "max_position_embeddings", 1024) or 1024, 1024)

    ready = prepare_training_data(data, tokenizer, masking, max_length, template)
    if verbose:
        print(ready.report())
    if not ready.examples:
        raise CourseError(
            f"No example of {ready.source} is left to train on; see the report above."
        )
    eval_examples = []
    if eval_data is not None and eval_every:
        eval_examples = prepare_eval_examples(
            eval_data, tokenizer, max_length, template, eval_limit
        )

    n_params = sum(p.numel() for p in model.parameters())
    # Chosen now (a typo fails before any slow work), frozen only while the Trainer runs.
    frozen = parameters_to_freeze(model, freeze) if freeze else []
    lr = learning_rate if learning_rate is not None else default_learning_rate(n_params, bool(lora))
    if lora:
        model = _add_lora(model, lora, seed)
    # The KV cache only helps generation; during training it costs time on every forward.
    model.config.use_cache = False

    saving = out_path is not None  # checkpoints only where the learner asked for files
    ckpt_dir = (
        out_path / CHECKPOINT_DIR
        if out_path is not None
        else Path(tempfile.mkdtemp(prefix="course-"))
    )
    steps = max_steps if max_steps is not None else -1
    settings: dict[str, Any] = dict(
        output_dir=str(ckpt_dir),
        max_steps=steps,
        num_train_epochs=num_epochs if num_epochs is not None else 1.0,
        per_device_train_batch_size=batch_size,
        learning_rate=lr,
        seed=seed,
        data_seed=seed,
        logging_steps=logging_steps,
        save_strategy="steps" if saving else "no",
        save_steps=save_every or max(1, (max_steps or 400) // 4),
        save_total_limit=1,  # only the last checkpoint: enough to resume, small on disk
        report_to="none",
        disable_tqdm=True,  # our own progress bar (below) works in notebooks and terminals
        # Gradient (activation) checkpointing stays off, the Trainer default: TRL turns it on,
        # which is ~1.5x slower for a tiny model whose memory is no issue.
        dataloader_num_workers=0,  # workers cost more than they save on small batches
        dataloader_pin_memory=choice.device == "cuda",
        remove_unused_columns=False,  # our examples carry exactly what the model takes
        # The same AdamW update in one fused kernel instead of a dozen small ops per step;
        # it matters when the model is tiny and each op's overhead is most of its cost.
        optim="adamw_torch_fused" if choice.device in ("cpu", "cuda") else "adamw_torch",
        **choice.trainer_precision,
    )
    settings.update(training_args)  # the caller's TrainingArguments win over our defaults
    args = TrainingArguments(**settings)
    trainer = CourseTrainer(
        model=model,
        args=args,
        train_dataset=ready.examples,
        data_collator=PadCollator(tokenizer.pad_token_id),
    )
    # Trainer's printers would print a dict per logged step (every step here).
    for quiet in (PrinterCallback, ProgressCallback):
        trainer.remove_callback(quiet)
    if eval_examples:
        trainer.add_callback(
            ResponseEvalCallback(eval_examples, tokenizer.pad_token_id, eval_every)
        )
    from course_lib.plots import LiveLossPlot, ProgressBar

    if progress:
        trainer.add_callback(ProgressBar())
    if live_plot:
        trainer.add_callback(LiveLossPlot(title=label or masking))
    for cb in callbacks:
        trainer.add_callback(cb)

    start = time.perf_counter()
    # The Trainer runs gc.collect() as it starts, and Python runs full collections as the
    # loop allocates: each walks every object of the (large) imported libraries, ~0.3 s on
    # a laptop. Freezing them first makes those collections skip them; nothing else changes.
    gc.freeze()
    threads_before = torch.get_num_threads()
    if num_threads:
        torch.set_num_threads(num_threads)
    for param in frozen:
        param.requires_grad_(False)
    try:
        trainer.train(resume_from_checkpoint=resume_from)
    finally:
        gc.unfreeze()
        torch.set_num_threads(threads_before)
        for param in frozen:  # frozen for this run only: the model you keep trains whole
            param.requires_grad_(True)
    wall = time.perf_counter() - start

    model = trainer.model
    if lora:
        model = model.merge_and_unload()
    model.config.use_cache = True
    model.eval()
    history = history_from_log(
        RunHistory(
            model=model_name,
            masking=masking,
            seed=seed,
            max_steps=trainer.state.max_steps,
            learning_rate=lr,
            batch_size=batch_size,
            device=choice.device,
            lora=bool(lora),
            data=ready.source,
            label=label,
            steps_done=trainer.state.global_step,
            wall_time_s=round(wall, 3),
            examples_used=len(ready.examples),
            examples_skipped=len(ready.skipped),
            examples_truncated=len(ready.truncated),
            examples_empty_response=len(ready.empty_response),
            warnings=list(ready.warnings),
            versions=_versions(),
        ),
        trainer.state.log_history,
    )
    if out_path is not None:
        save_run(out_path, model, tokenizer, history)
    else:
        shutil.rmtree(ckpt_dir, ignore_errors=True)
    if verbose:
        print(history.summary())
    return TrainResult(model, tokenizer, history, out_path)


def save_run(out_dir: Path, model, tokenizer, history: RunHistory) -> None:
    """Model folder (loadable with from_pretrained / `course ask`), history.json and loss.png."""
    from course_lib.plots import plot_history

    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    history.save(out_dir)
    plot_history(history).savefig(out_dir / "loss.png", dpi=100)
