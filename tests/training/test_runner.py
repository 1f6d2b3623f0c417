"""Short fine-tunes of the toy model: measurement, determinism, NaN safety, saving, and what
train() refuses before the model loads. Which weights train: test_weights.py; a run's
folder and resume: test_run_folder.py; an interrupt: test_interrupts.py."""

import math
import re

import pytest
import torch
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    TrainerCallback,
    TrainingArguments,
    pipeline,
)

from course_lib.errors import CourseError
from course_lib.evaluation.generation import generate
from course_lib.formatting.records import load_records
from course_lib.masking.labels import IGNORE_INDEX, PadCollator, prepare_examples
from course_lib.training import runner
from course_lib.training.history import RunHistory, history_from_log
from course_lib.training.runner import TrainResult, save_run, train
from course_lib.training.settings import RECIPE
from course_lib.training.trainer import CourseTrainer

pytestmark = pytest.mark.slow
# One thread: as fast for the toy model, and immune to other programs keeping cores busy.
QUIET = {"progress": False, "verbose": False, "num_threads": 1}


def test_masked_and_unmasked_are_measured_alike(toy_model_dir, records, eval_records):
    runs = {
        masking: train(
            toy_model_dir,
            records,
            eval_records,
            masking=masking,
            max_steps=4,
            eval_every=2,
            batch_size=8,
            **QUIET,
        ).history
        for masking in ("response", "none")
    }
    masked, unmasked = runs["response"], runs["none"]
    for h in (masked, unmasked):
        assert h.train_steps == [1, 2, 3, 4]
        assert h.eval_steps == [0, 2, 4]
        assert all(math.isfinite(x) for x in h.train_loss + h.eval_loss)
        assert h.steps_done == 4 and h.device == "cpu"
        assert h.learning_rate == RECIPE.tiny_learning_rate  # the recipe's rate by default
        assert h.examples_used == len(records) and h.examples_skipped == 0
    # Same starting model, same held-out yardstick: the step-0 evaluations are identical...
    assert masked.eval_loss[0] == pytest.approx(unmasked.eval_loss[0], rel=1e-6)
    # ...while the reported training losses average over different tokens from step 1.
    assert masked.train_loss[0] != pytest.approx(unmasked.train_loss[0], rel=1e-3)


def test_same_seed_gives_identical_curves(toy_model_dir, records, eval_records):
    def curves(seed):
        h = train(
            toy_model_dir,
            records,
            eval_records,
            max_steps=5,
            eval_every=5,
            batch_size=8,
            seed=seed,
            **QUIET,
        ).history
        return h.train_loss, h.eval_loss

    first = curves(0)
    assert curves(0) == first
    assert curves(1)[0] != first[0]  # a different seed shuffles differently


def test_batch_without_trained_token_is_skipped_not_nan(
    toy_model_dir, toy_tokenizer, records, tmp_path
):
    examples = prepare_examples(records[:2], toy_tokenizer).examples
    empty = dict(examples[0], labels=[IGNORE_INDEX] * len(examples[0]["labels"]))
    model = AutoModelForCausalLM.from_pretrained(toy_model_dir)
    args = TrainingArguments(
        output_dir=str(tmp_path),
        per_device_train_batch_size=1,
        max_steps=3,
        logging_steps=1,
        report_to="none",
        use_cpu=True,
        learning_rate=1e-3,
        save_strategy="no",
        disable_tqdm=True,
    )
    trainer = CourseTrainer(
        model=model,
        args=args,
        train_dataset=[examples[0], empty, examples[1]],
        data_collator=PadCollator(toy_tokenizer.pad_token_id),
    )
    with pytest.warns(UserWarning, match="no trained token"):
        trainer.train()
    assert trainer.skipped_batches == 1
    history = history_from_log(RunHistory(), trainer.state.log_history)
    assert history.batches_skipped == 1
    assert all(math.isfinite(x) for x in history.train_loss)
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_a_saved_run_is_asked_by_transformers_pipeline_as_it_was_tuned(
        toy_model_dir, records, tmp_path):
    out = tmp_path / "run"
    result = train(toy_model_dir, records, None, max_steps=2, template="qa", out_dir=out,
                   **QUIET)
    assert result.tokenizer.chat_template is None  # the caller's tokenizer is left as it was
    question = records[0]["instruction"]
    chat = pipeline("text-generation", model=str(out), device="cpu")
    said = chat([{"role": "user", "content": question}], max_new_tokens=8, do_sample=False)
    ours = generate(result.model, result.tokenizer, question, template="qa", max_new_tokens=8)
    assert said[0]["generated_text"][-1] == {"role": "assistant", "content": ours}
    assert AutoTokenizer.from_pretrained(out).apply_chat_template(
        [{"role": "user", "content": question}], tokenize=False
    ).endswith(f"Q: {question} A:")


def test_a_run_trained_further_in_another_template_is_said(toy_model_dir, records, tmp_path,
                                                            capsys):
    # Trained further from its folder, a 'qa' run was silently taught the default template.
    out = tmp_path / "run"
    train(toy_model_dir, records, None, max_steps=1, template="qa", out_dir=out, **QUIET)
    capsys.readouterr()
    train(out, records, None, max_steps=1, progress=False)
    assert (f"note: {out} was tuned in the qa template; this run trains it in the one_line "
            f"template, a format it has not seen (template='qa' keeps its own).\n"
            ) in capsys.readouterr().out
    train(out, records, None, max_steps=1, template="qa", progress=False)
    assert "was tuned in" not in capsys.readouterr().out


def test_a_loss_that_becomes_nan_stops_the_run_unsaved_with_what_to_change(
        toy_model_dir, records, tmp_path):
    # Was: the bar showed loss=0.000 (the Trainer's NaN filter), the NaN weights were saved
    # as a finished run, and `course train` exited 0.
    out = tmp_path / "run"
    with pytest.raises(CourseError) as err:
        train(toy_model_dir, records, None, learning_rate=1e9, max_steps=8, save_every=1,
              out_dir=out, **QUIET)
    assert re.fullmatch(
        r"The loss became NaN at step (\d) of 8 with a learning rate of 1e\+09, so the weights "
        r"are no longer numbers and the run was stopped without saving them; lower it, say to "
        r"learning_rate=0\.002, and train again into a new out_dir \(\S+ keeps the stopped "
        r"run\)\.", str(err.value))  # the recipe's rate, not 1e+08
    at = int(re.search(r"step (\d)", str(err.value)).group(1))
    # Was "and train again.": the same --out is refused as not empty, and --resume the new --lr.
    assert at < 8 and err.value.cli.endswith(
        f"say to --lr 0.002, and train again into a new --out ({out} keeps the stopped run).")
    kept = sorted(int(p.name.split("-")[-1]) for p in (out / "checkpoints").glob("checkpoint-*"))
    assert all(step < at for step in kept) and not (out / "history.json").exists()


@pytest.mark.parametrize("rate, lower", [(1e40, "0.002"), (1e-3, "0.0001")])
def test_weights_that_the_last_step_made_infinite_are_said_too(toy_model_dir, records, rate,
                                                               lower, monkeypatch):
    # The last step's loss was computed before its update: only the weights show it. Below the
    # recipe's rate (fp16 overflows at any rate: made so here), a tenth of it is suggested.
    if rate < 1:
        monkeypatch.setattr(runner, "weights_finite", lambda model: False)
    with pytest.raises(CourseError) as err:
        train(toy_model_dir, records, None, learning_rate=rate, max_steps=1, **QUIET)
    assert str(err.value) == (
        f"The weights became NaN or infinite at step 1 of 1 with a learning rate of {rate:g}, "
        f"so the run was stopped without saving them; lower it, say to learning_rate={lower}, "
        f"and train again.")


def test_a_row_cut_at_the_models_context_is_not_told_to_raise_max_length(toy_model_dir, capsys):
    # The toy model reads 256 tokens, max_length's default here: "raise max_length" could not
    # help, and --max-length 512 is capped back to 256 with a note.
    long = [{"instruction": "Count.", "response": "1 2 3 4 " * 100}] * 2
    run = train(toy_model_dir, long, None, max_steps=1, progress=False, verbose=True,
                num_threads=1)
    out = capsys.readouterr().out
    assert "2 were cut to max_length=256 tokens" in out
    assert run.history.max_length == 256  # the run's record of its cut (lesson 04's ex04_3)
    assert "the model reads at most 256 tokens, so shorten them." in out
    assert "raise max_length" not in out


def test_the_history_records_the_max_length_asked(toy_model_dir, records):
    run = train(toy_model_dir, records, None, max_length=20, max_steps=1, **QUIET)
    assert run.history.max_length == 20


def test_a_batch_larger_than_the_data_is_sized_by_the_data(capsys):
    # 100,000 x 256 tokens was estimated at about 115 GB: gradient checkpointing went on, with
    # a warning, for a run whose every step is the 20 examples there are.
    records = load_records("course:train")[:20]
    run = train("tiny", records, None, batch_size=100_000, max_steps=1, progress=False,
                verbose=True, num_threads=1)
    assert run.history.gradient_checkpointing is False
    assert "gradient checkpointing on" not in capsys.readouterr().out


def test_a_nan_loss_with_whole_weights_does_not_stop_the_run():
    # float16's loss scaler skips a step whose numbers overflowed: its loss is logged as NaN,
    # yet the weights are untouched and the next steps train.
    from transformers import TrainerControl, TrainerState

    from course_lib.training.callbacks import StopAtNonFiniteLoss

    model, stop, control = torch.nn.Linear(2, 2), StopAtNonFiniteLoss(), TrainerControl()
    state = TrainerState(global_step=3)
    stop.on_log(None, state, control, logs={"loss": float("nan")}, model=model)
    assert stop.at is None and not control.should_training_stop
    with torch.no_grad():
        model.weight[0, 0] = float("nan")
    stop.on_log(None, state, control, logs={"loss": float("nan")}, model=model)
    assert stop.at == 3 and control.should_training_stop


def test_a_dataframe_trains_and_eval_data_none_is_no_held_out_set(toy_model_dir, records):
    import pandas as pd

    # A DataFrame used to fail on `bool(df)`; "none" was looked for as a file.
    history = train(toy_model_dir, pd.DataFrame(records), "None", max_steps=1, eval_every=1,
                    **QUIET).history
    assert history.data == f"a DataFrame of {len(records)} rows"
    assert history.eval_examples == 0 and history.eval_steps == []


@pytest.mark.parametrize("kind", ["DataFrame", "Dataset"])
def test_a_table_is_the_users_data_named_by_row_and_held_out_from(toy_model_dir, records, capsys,
                                                                 kind):
    import datasets
    import pandas as pd

    rows = records + [{"instruction": "### Instruction: What is 1+1? ### Response:",
                       "response": "2"}]
    # A Dataset was taken as a list of records: "81 given records", scored on course:eval.
    table = pd.DataFrame(rows) if kind == "DataFrame" else datasets.Dataset.from_list(rows)
    history = train(toy_model_dir, table, max_steps=1, eval_every=1,
                    progress=False, num_threads=1).history
    printed = capsys.readouterr().out
    # Warnings count rows from 1, as its errors do ("row 2: 'instruction' is empty").
    assert "(row 81)" in printed and "examples 80" not in printed
    # Scored on rows set aside from the table, not on the course's arithmetic questions.
    assert history.eval_data.endswith(f"held out of a {kind} of 81 rows (seed 0)")
    assert 0 < history.eval_examples < 81


def test_a_list_s_bad_records_are_left_out_with_skip_bad_rows_and_it_still_scores_on_the_course_s(
        toy_model_dir, records, capsys):
    # Was: train(a list, skip_bad_rows=True) stopped at the list's first bad record.
    rows = records[:40] + [{"instruction": "What is 9+9?"}] + records[40:]
    held = records[:5] + [{"prompt": "What is 3+3?"}]
    history = train(toy_model_dir, rows, held, max_steps=1, eval_every=1, skip_bad_rows=True,
                    progress=False, num_threads=1).history
    printed = capsys.readouterr().out
    assert history.rows_left_out == 1 and history.data == f"{len(rows)} given records"
    assert f"{len(rows)} given records: 1 of {len(rows)} rows left out" in printed
    assert "6 given records: 1 of 6 rows left out" in printed  # the held-out list's own
    # Both notes kept in the run's history.json, the held-out set's after the data's.
    said = [w.splitlines()[0] for w in history.warnings if "rows left out" in w]
    assert said == [f"{len(rows)} given records: 1 of {len(rows)} rows left out "
                    f"(skip_bad_rows=True):", "6 given records: 1 of 6 rows left out "
                                              "(skip_bad_rows=True):"]
    assert history.eval_examples == 5
    # A list is still scored on the course's held-out set, not on a slice of itself.
    auto = train(toy_model_dir, rows, max_steps=1, eval_every=1, skip_bad_rows=True,
                 **QUIET).history
    assert auto.eval_data == "course:eval"


@pytest.mark.parametrize("data, says", [
    ({"instruction": "What is 1+1?", "response": "2"}, "wrap it in a list: [record]"),
    (["What is 1+1?"], "not of records; give records like"),
])
def test_one_record_or_bare_strings_are_said_in_one_sentence(toy_model_dir, data, says):
    # Both were "record 0: expected a JSON object, got str", or a KeyError for the dict.
    with pytest.raises(CourseError, match=re.escape(says)):
        train(toy_model_dir, data, max_steps=1, **QUIET)


def test_problems_are_reported_before_training_starts(toy_model_dir, records, capsys):
    rows = records[:20] + [
        {"instruction": "What is 1+1?", "response": ""},
        {"text": "Q: What is 2+2? A: 4"},
    ]
    train(toy_model_dir, rows, None, max_steps=1, progress=False, verbose=True)
    out = capsys.readouterr().out
    report_at = out.index("21 of 22") if "21 of 22" in out else out.index("22 of 22")
    assert out.index("empty response") > report_at
    assert out.index("'qa' format") < out.index("1 step of")


def test_training_arguments_override_the_defaults(toy_model_dir, records):
    result = train(
        toy_model_dir,
        records,
        None,
        max_steps=4,
        logging_steps=2,
        lr_scheduler_type="constant",
        save_steps=3,
        **QUIET,
    )
    assert result.history.train_steps == [2, 4]


@pytest.mark.parametrize(("given", "python", "cli"), [
    ({"max_steps": -5}, "max_steps must be at least 1, not -5.", "--steps must be at least 1"),
    ({"batch_size": 0}, "batch_size must be at least 1, not 0.", "--batch-size must be"),
    ({"learning_rate": 0.0}, "learning_rate must be above 0, not 0.0.", "--lr must be above 0"),
    ({"seed": 2**32}, "seed must be below 2**32", "--seed must be below 2**32"),
    ({"seed": None}, "seed must be a whole number such as 0, not None.", "--seed must be"),
    ({"max_steps": None, "num_epochs": 0}, "num_epochs must be above 0, not 0.", "num_epochs"),
    # Wrong types: these ended in TypeErrors from inside the checks or the Trainer.
    ({"learning_rate": "1e-3"}, "learning_rate must be a number, not the string '1e-3'.",
     "--lr must be a number"),
    ({"max_steps": "5"}, "max_steps must be a whole number, not the string '5'.", "--steps must"),
    ({"batch_size": "4"}, "batch_size must be a whole number, not the string '4'.",
     "--batch-size must be a whole number"),
    ({"max_steps": 2.5}, "max_steps must be a whole number, not 2.5.", "--steps must be a whole"),
    ({"max_steps": True}, "max_steps must be a whole number, not True.", "--steps must be"),
    # A bool is no rate either: True would train at 1.0.
    ({"learning_rate": True}, "learning_rate must be a number, not True.", "--lr must be"),
    # These were TypeErrors, a ValueError in TrainingArguments' terms (--logging_steps), or
    # silent: eval_limit=-3 scored all but the last 3 rows, save_every=0 saved at the default.
    ({"max_length": "64"}, "max_length must be a whole number, not the string '64'.",
     "--max-length must be a whole number"),
    ({"logging_steps": 0}, "logging_steps must be at least 1, not 0.", "logging_steps must"),
    ({"eval_limit": -3}, "eval_limit must be at least 0, not -3.", "--eval-limit must be"),
    ({"save_every": 0}, "save_every must be at least 1, not 0.", "save_every must be"),
    # num_epochs lost to the default max_steps: 500 steps ran, silently.
    ({"num_epochs": 1}, "num_epochs=1 is ignored while max_steps is set (max_steps=500); pass "
                        "max_steps=None to train by epochs.", "num_epochs=1 is ignored"),
])
def test_numbers_no_run_can_use_are_one_sentence_errors(given, python, cli):
    # Checked before the model loads; max_steps=-5 used to train by epochs, silently.
    with pytest.raises(CourseError) as err:
        train("no-such-model-is-loaded", **given)
    assert str(err.value).startswith(python)
    assert err.value.cli.startswith(cli)


@pytest.mark.parametrize(("given", "says"), [
    # A misspelt keyword went on to TrainingArguments: a TypeError in its terms, after the data
    # was prepared.
    ({"max_step": 5}, "train() has no setting max_step (did you mean max_steps?);"),
    ({"lr": 1e-3}, "train() has no setting lr (did you mean learning_rate?);"),
    ({"epochs": 1}, "train() has no setting epochs (did you mean num_epochs?);"),
    # TrainingArguments' own names for train()'s settings: num_train_epochs was ignored under
    # the default max_steps, and the batch size trained was not the one recorded.
    ({"num_train_epochs": 3}, "num_train_epochs is TrainingArguments' name for num_epochs; "
                              "give num_epochs=... instead."),
    ({"per_device_train_batch_size": 8}, "per_device_train_batch_size is TrainingArguments' "
                                         "name for batch_size; give batch_size=... instead."),
])
def test_a_keyword_train_cannot_use_is_named_before_the_model_loads(given, says):
    with pytest.raises(CourseError) as err:
        train("no-such-model-is-loaded", **given)
    assert str(err.value).startswith(says)


@pytest.mark.parametrize(("given", "says"), [
    # A ValueError from the labelling, after the model had loaded.
    ({"masking": "responses"}, "masking must be 'response' or 'none', not the string "
                               "'responses'."),
    # Any true value meant LoRA: lora="no" trained adapters, silently.
    ({"lora": "no"}, "lora must be True, False, None or a LoraConfig, not the string 'no'."),
    # TypeErrors from deep inside.
    ({"freeze": 5}, "freeze must be pieces of parameter names such as ['mlp'], not 5."),
    ({"callbacks": TrainerCallback()}, "callbacks must be a list of TrainerCallbacks; put one "
                                       "in a list: callbacks=[callback]."),
])
def test_settings_of_the_wrong_kind_are_named_before_the_model_loads(given, says):
    with pytest.raises(CourseError) as err:
        train("no-such-model-is-loaded", **given)
    assert str(err.value) == says


def test_a_tokenizer_or_a_pair_given_as_the_model_is_said_so(toy_model_dir, toy_tokenizer):
    model = AutoModelForCausalLM.from_pretrained(toy_model_dir)
    # Each was "pass its tokenizer too" (the learner had), or an AttributeError.
    for given, says in [
        ({"model": toy_tokenizer}, "model is a tokenizer, not a model;"),
        ({"model": toy_tokenizer, "tokenizer": toy_tokenizer}, "model is a tokenizer, not a"),
        ({"model": (model, toy_tokenizer)}, "model is a (model, tokenizer) pair; pass "
                                            "train(model, tokenizer=tokenizer)."),
        ({"model": model, "tokenizer": "tiny"}, "tokenizer must be a tokenizer object"),
        ({"model": None}, "model must be a preset name such as 'tiny', a model folder"),
        # The tokenizer was ignored: a model given by name loads its own.
        ({"model": str(toy_model_dir), "tokenizer": toy_tokenizer}, "tokenizer= goes with a "
         "model object; a model given by name loads its own tokenizer, so leave it out."),
    ]:
        with pytest.raises(CourseError) as err:
            train(**given)
        assert str(err.value).startswith(says), str(err.value)


def test_data_given_as_the_model_is_said_to_be_data(records):
    # Was "model must be a preset name ..., not [" and then every record, or the whole table.
    import pandas as pd

    for data, kind in [(records, "a list of 80 records"),
                       (pd.DataFrame(records), "a DataFrame of 80 rows")]:
        with pytest.raises(CourseError) as err:
            train(data)
        assert str(err.value) == (f"model is data ({kind}), not a model; give the model first "
                                  f"and the data second: train('tiny', data), or "
                                  f"train(data=data) for the default model.")


def test_records_from_a_generator_train_as_a_list_would(toy_model_dir, records, eval_records):
    # Both were "TypeError: 'generator' object is not subscriptable"; evaluate() took them.
    result = train(toy_model_dir, (r for r in records), (r for r in eval_records[:6]),
                   max_steps=1, eval_every=1, batch_size=8, **QUIET)
    assert result.history.examples_used == len(records)
    assert result.history.eval_examples == 6


@pytest.mark.parametrize(("eval_data", "says"), [
    # An empty list turned the held-out score off without a word; False was a TypeError.
    ([], "eval_data=[] holds no rows to score; give held-out records, or eval_data=None for no "
         "held-out score."),
    (False, "eval_data must be data (a file, an embedded set such as 'course:eval', or "
            "records), 'auto', or None for no held-out score, not False."),
])
def test_an_eval_set_that_cannot_score_is_said_before_the_model_loads(eval_data, says):
    with pytest.raises(CourseError) as err:
        train("no-such-model-is-loaded", eval_data=eval_data)
    assert str(err.value) == says


@pytest.mark.parametrize(("given", "says"), [
    ({"data": "trian.jsonl"}, "data: No such file or folder: 'trian.jsonl'"),
    ({"eval_data": "course:evl"}, "eval_data: There is no embedded data set 'course:evl' (did "
                                  "you mean 'course:eval'?)")])
def test_data_that_is_not_there_is_said_by_its_argument_before_the_model_loads(
        tmp_path, monkeypatch, given, says):
    # Was: said after the model had loaded and the data report had printed, naming no argument.
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CourseError) as err:
        train("no-such-model-is-loaded", **given, out_dir="run")
    assert str(err.value).startswith(says) and not (tmp_path / "run").exists()
    if "eval_data" in given:  # with no held-out score it is never read: the model is said
        with pytest.raises(CourseError, match="no-such-model-is-loaded"):
            train("no-such-model-is-loaded", **given, eval_every=0)


def test_save_run_says_which_argument_goes_where(toy_tokenizer, toy_history, tmp_path):
    """Lesson 05's save_run(folder, model, tokenizer, history) with its arguments swapped or a
    TrainResult given whole: were TypeErrors ("unsupported operand type(s) for /") or
    AttributeErrors half-way through the save. A folder given as a string was a TypeError."""
    from course_lib.world.toy import make_toy_model

    model, history = make_toy_model(toy_tokenizer), toy_history("response", 0.0)
    order = r"give them in this order: save_run\(folder, run.model, run.tokenizer, run.history\)"
    for args, where in (((model, tmp_path, toy_tokenizer, history), "the model where out_dir"),
                        ((tmp_path, toy_tokenizer, model, history), "the tokenizer where model"),
                        ((tmp_path, model, history, toy_tokenizer),
                         "the run's history where tokenizer")):
        with pytest.raises(CourseError, match=f"save_run got {where} goes; {order}"):
            save_run(*args)
    with pytest.raises(CourseError, match="not the TrainResult train"):
        save_run(tmp_path, TrainResult(model, toy_tokenizer, history), toy_tokenizer, history)
    with pytest.raises(CourseError, match="model must be the model, not the string 'tiny'"):
        save_run(tmp_path, "tiny", toy_tokenizer, history)
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(CourseError, match="is a file; give a folder"):
        save_run(tmp_path / "notes.txt", model, toy_tokenizer, history)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]  # nothing written
    save_run(str(tmp_path / "run"), model, toy_tokenizer, history)  # a string is a folder too
    assert (tmp_path / "run" / "config.json").exists()


def test_a_model_passed_in_comes_back_without_the_runs_gradient_checkpointing(toy_model_dir,
                                                                               toy_tokenizer,
                                                                               records):
    """Checkpointing is the run's way to save memory: left on, the learner's model recomputed
    its activations in every later fine-tune or timing of it."""
    model = AutoModelForCausalLM.from_pretrained(toy_model_dir)
    result = train(model, records[:32], None, tokenizer=toy_tokenizer, max_steps=1,
                   gradient_checkpointing=True, **QUIET)
    assert result.history.gradient_checkpointing
    assert not any(getattr(m, "gradient_checkpointing", False) for m in model.modules())
    assert sum(len(m._forward_hooks) for m in model.modules()) == 0


def test_a_model_object_trained_again_says_it_goes_on_from_its_trained_weights(
        toy_model_dir, toy_tokenizer, records, capsys):
    # A cell `result = train(model, tokenizer=tok, max_steps=10)` run twice trained the same
    # object 10 steps more: the held-out loss went from 3.000 to 0.868 with no word of why.
    model = AutoModelForCausalLM.from_pretrained(toy_model_dir)
    first = train(model, records, None, tokenizer=toy_tokenizer, max_steps=2,
                  progress=False, num_threads=1)
    assert "note: train() has fine-tuned" not in capsys.readouterr().out
    assert not any("fine-tuned this model object" in w for w in first.history.warnings)
    again = train(model, records, None, tokenizer=toy_tokenizer, max_steps=3,
                  progress=False, num_threads=1)
    note = ("train() has fine-tuned this model object already (2 steps), and this run "
            "trains it further from those weights, so its numbers are not a fresh run's (a cell "
            "run again goes on where it stopped); to start over, load a fresh copy with "
            "load_model_and_tokenizer(...) in the same cell.")
    assert f"note: {note}" in capsys.readouterr().out.splitlines()
    assert note in again.history.warnings  # history.json keeps it
    # Counted over the runs, LoRA's too (its adapters are merged into the same object).
    train(model, records, None, tokenizer=toy_tokenizer, lora=True, max_steps=1, **QUIET)
    assert runner.trained_steps(model) == 6
    # A freshly loaded model is a fresh run: nothing to say.
    fresh = train(toy_model_dir, records, None, max_steps=1, **QUIET)
    assert not any("fine-tuned this model object" in w for w in fresh.history.warnings)
