"""trained_once and cached: a finished run is trained once, then loaded; who waits for whom."""

import errno
import inspect
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pandas
import pytest
from transformers import TrainerCallback

import course_lib
from course_lib.errors import CourseError
from course_lib.formatting import records as records_module
from course_lib.formatting.templates import ONE_LINE
from course_lib.training import run_cache
from course_lib.training.history import RunHistory
from course_lib.training.run_cache import (
    cache_path,
    cached,
    cached_in_turn,
    code_fingerprint,
    plain,
    records_fingerprint,
    run_key,
    trained_once,
)
from course_lib.training.runner import train
from course_lib.training.settings import RECIPE

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture()
def counted_train(monkeypatch):
    """run_cache.train, counting the runs it actually trains."""
    calls = []

    def counting(*args, **kwargs):
        calls.append(kwargs.get("seed"))
        return train(*args, **kwargs)

    counting.__signature__ = inspect.signature(train)  # the same defaults, the same names
    monkeypatch.setattr(run_cache, "train", counting)
    return calls


def quick(toy_model_dir, data_files, **extra):
    return dict(data=str(data_files[0]), eval_data=None, max_steps=2, progress=False,
                verbose=False, **extra)


def test_a_second_call_loads_the_run_instead_of_training(
        toy_model_dir, data_files, tmp_path, counted_train, capsys):
    settings = quick(toy_model_dir, data_files)
    first = trained_once(str(toy_model_dir), cache_dir=tmp_path, **settings)
    assert "kept in" in capsys.readouterr().out
    again = trained_once(str(toy_model_dir), cache_dir=tmp_path, **settings)
    assert again == first and len(counted_train) == 1
    assert "loaded" in capsys.readouterr().out
    assert RunHistory.load(first).steps_done == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == [".locks", Path(first).name]
    assert not (tmp_path / first).joinpath("checkpoints").exists()
    # Another seed is another run; progress and verbosity are not part of the name.
    other = trained_once(str(toy_model_dir), cache_dir=tmp_path, seed=1, **settings)
    assert other != first and len(counted_train) == 2
    assert trained_once(str(toy_model_dir), cache_dir=tmp_path,
                        **{**settings, "progress": True}) == first and len(counted_train) == 2


def test_the_name_changes_with_the_records_and_the_step_cap(
        toy_model_dir, data_files, tmp_path, monkeypatch):
    settings = quick(toy_model_dir, data_files)
    key = run_key(str(toy_model_dir), settings)
    assert run_key(str(toy_model_dir), {**settings, "verbose": True}) == key
    # A default said out loud is the default (lesson 06 says masking="response").
    assert run_key(str(toy_model_dir), {**settings, "masking": "response"}) == key
    # The same records under another file name are the same data; changed records are not.
    same, changed = tmp_path / "same.jsonl", tmp_path / "changed.jsonl"
    same.write_text(data_files[0].read_text())
    changed.write_text(data_files[0].read_text().replace('"2"', '"3"', 1))
    assert run_key(str(toy_model_dir), {**settings, "data": str(same)}) == key
    assert run_key(str(toy_model_dir), {**settings, "data": str(changed)}) != key
    # No data given: the recipe's data, by its records.
    assert run_key(str(toy_model_dir), {})["train"]["data"] == records_fingerprint(RECIPE.data)
    monkeypatch.setenv("COURSE_MAX_STEPS", "1")
    assert run_key(str(toy_model_dir), settings) != key


def test_your_own_run_is_used_only_when_it_tuned_the_same_model(
        toy_model_dir, data_files, tmp_path, counted_train, capsys):
    settings = quick(toy_model_dir, data_files)
    yours = tmp_path / "runs" / "masked"
    train(str(toy_model_dir), out_dir=yours, **settings)
    assert trained_once(str(toy_model_dir), cache_dir=tmp_path / "cache",
                        yours=[tmp_path / "none", yours], **settings) == str(yours)
    assert counted_train == [] and "your run" in capsys.readouterr().out
    history = RunHistory.load(yours)
    history.model = "smollm2-135m"  # a run of another base model must not stand in
    history.save(yours, overwrite=True)
    used = trained_once(str(toy_model_dir), cache_dir=tmp_path / "cache", yours=yours,
                        **settings)
    assert used != str(yours) and len(counted_train) == 1
    assert "not used here" in capsys.readouterr().out
    # An unmasked run saved as runs/masked (the flags mixed up) is not the masked run asked for.
    history.model, history.masking = str(toy_model_dir), "none"
    history.save(yours, overwrite=True)
    assert trained_once(str(toy_model_dir), cache_dir=tmp_path / "cache", yours=yours,
                        masking="response", **settings) == used
    assert "used masking 'none', not 'response': not used here" in capsys.readouterr().out


def test_a_failed_run_leaves_nothing_to_load(toy_model_dir, data_files, tmp_path):
    class Interrupt(TrainerCallback):  # as if the learner pressed stop after the first step
        def on_step_end(self, args, state, control, **kwargs):
            raise KeyboardInterrupt

    settings = quick(toy_model_dir, data_files)
    with pytest.raises(KeyboardInterrupt):
        trained_once(str(toy_model_dir), cache_dir=tmp_path, callbacks=[Interrupt()], **settings)
    assert [p.name for p in tmp_path.iterdir()] == [".locks"]  # nothing a learner sees


def test_a_model_object_or_an_out_dir_is_refused(tmp_path):
    with pytest.raises(CourseError, match="not a model object"):
        trained_once(object(), cache_dir=tmp_path)
    # A generator's repr named a new folder each call, and train() read it once.
    with pytest.raises(CourseError, match=r"^trained_once\(\) names its folder after the records, "
                                          r"which a generator gives only once; pass "
                                          r"data=list\(\.\.\.\) instead\.$"):
        trained_once("tiny", cache_dir=tmp_path, data=(r for r in [{"instruction": "a"}]))
    with pytest.raises(CourseError, match="chooses the run folder itself"):
        trained_once("tiny", cache_dir=tmp_path, out_dir=tmp_path / "x")


def test_two_askers_of_one_run_train_it_once(tmp_path):
    """The headless lesson, the browser's lesson and the claims tests share one cache: while
    one computes an entry, another that asks for it waits and reads it."""
    computed, results = [], []

    def compute():
        computed.append(threading.get_ident())
        time.sleep(0.5)  # long enough for the second asker to arrive meanwhile
        return {"loss": 1.0}

    path = tmp_path / "cache" / "run.json"
    askers = [threading.Thread(target=lambda: results.append(cached(path, {}, compute)))
              for _ in range(2)]
    for asker in askers:
        asker.start()
    for asker in askers:
        asker.join()
    assert len(computed) == 1
    assert sorted(hit for _, hit in results) == [False, True]
    assert all(result == {"loss": 1.0} for result, _ in results)
    assert sorted(p.name for p in path.parent.iterdir()) == [".locks", "run.json"]  # no lock shown
    assert cached(None, {}, compute) == ({"loss": 1.0}, False) and len(computed) == 2


def test_two_askers_of_one_list_compute_different_entries(tmp_path):
    """cached_in_turn: while one asker computes an entry, the other computes the next one
    instead of waiting (lesson 07 in the browser and its headless claims, side by side); each
    entry is computed once, and each asker gets every result in its order."""
    computed, results = [], {}

    def job(i):
        def compute():
            computed.append((i, threading.get_ident()))
            time.sleep(0.3)  # long enough for the other asker to arrive meanwhile
            return {"entry": i}
        return tmp_path / f"{i}.json", {"entry": i}, compute

    askers = [threading.Thread(target=lambda n=n: results.__setitem__(
        n, cached_in_turn([job(i) for i in range(4)]))) for n in range(2)]
    for asker in askers:
        asker.start()
    for asker in askers:
        asker.join()
    assert sorted(i for i, _ in computed) == [0, 1, 2, 3]
    assert len({who for _, who in computed}) == 2  # both computed, neither only waited
    for mine in results.values():
        assert [result for result, _ in mine] == [{"entry": i} for i in range(4)]
    assert sorted(hit for mine in results.values() for _, hit in mine) == [False] * 4 + [True] * 4


def test_two_askers_of_one_run_wait_for_one_training(
        toy_model_dir, data_files, tmp_path, counted_train):
    settings = quick(toy_model_dir, data_files)
    folders = []
    askers = [threading.Thread(target=lambda: folders.append(
        trained_once(str(toy_model_dir), cache_dir=tmp_path, **settings))) for _ in range(2)]
    for asker in askers:
        asker.start()
    for asker in askers:
        asker.join()
    assert len(counted_train) == 1 and len(set(folders)) == 1 and len(folders) == 2


def test_no_cache_folder_is_said_to_be_train(tmp_path):
    # A TypeError from pathlib: "expected str, bytes or os.PathLike object, not NoneType".
    with pytest.raises(CourseError, match=r"^trained_once\(\) keeps its runs in cache_dir; give "
                                          r"a folder .*, or call train\(\) to keep nothing\.$"):
        trained_once("tiny", cache_dir=None)


def test_an_edited_or_moved_file_is_read_again_in_the_same_kernel(
        toy_model_dir, data_files, tmp_path, monkeypatch):
    """A notebook edits its data file, or changes folder, and asks again: the fingerprints are
    remembered per file state, not per name (the name alone kept the first run's)."""
    data = tmp_path / "mine.jsonl"
    data.write_text(data_files[0].read_text())
    key = run_key(str(toy_model_dir), {"data": str(data)})
    data.write_text(data.read_text().replace('"2"', '"3"', 1))
    os.utime(data, ns=(time.time_ns() + 10**9,) * 2)  # as an edit a moment later
    assert run_key(str(toy_model_dir), {"data": str(data)}) != key
    # "mine.jsonl" from another folder is another file.
    monkeypatch.chdir(tmp_path)
    relative = run_key(str(toy_model_dir), {"data": "mine.jsonl"})
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "mine.jsonl").write_text(data_files[0].read_text())
    os.utime(tmp_path / "other" / "mine.jsonl", ns=(data.stat().st_mtime_ns,) * 2)
    monkeypatch.chdir(tmp_path / "other")
    assert run_key(str(toy_model_dir), {"data": "mine.jsonl"}) != relative
    # A model folder whose weights were saved again.
    model = tmp_path / "model"
    shutil.copytree(toy_model_dir, model)
    before = run_key(str(model), {})["model"]
    (model / "config.json").write_text((model / "config.json").read_text() + " ")
    assert run_key(str(model), {})["model"] != before
    # The course's own set, rebuilt in place (`course build-tuning-data`, then --force).
    monkeypatch.setattr(records_module, "EMBEDDED_DATA_DIR", tmp_path / "embedded")
    (tmp_path / "embedded").mkdir()
    shutil.copy(data_files[0], tmp_path / "embedded" / "train.jsonl")
    embedded = records_fingerprint("course:train")
    shutil.copy(data, tmp_path / "embedded" / "train.jsonl")  # same size, other records
    os.utime(tmp_path / "embedded" / "train.jsonl", ns=(time.time_ns() + 2 * 10**9,) * 2)
    assert records_fingerprint("course:train") != embedded


def test_settings_are_named_by_what_they_hold(toy_model_dir, records):
    """A template edited under its name, a table changed below its first rows: another run.
    eval_data "none" is None (it was read as a file called 'none'); freeze "mlp" is ("mlp",)."""
    def key(**settings):
        return run_key(str(toy_model_dir), settings)["train"]

    assert key(template=ONE_LINE) == key(template="one_line")
    assert key(template=replace(ONE_LINE, prompt="Q: {instruction} A:")) != key(template=ONE_LINE)
    table = pandas.DataFrame(records)
    changed = table.copy()
    changed.loc[50, "response"] = "wrong"
    assert key(data=table) == key(data=table.copy())
    assert key(data=changed) != key(data=table)
    assert key(eval_data="none") == key(eval_data=" Off") == key(eval_data=None)
    assert key(freeze="mlp") == key(freeze=["mlp"]) == key(freeze=("mlp",)) != key(freeze=())


class ReadOnlyLock:
    """FileLock in a folder that cannot be written (a teacher's read-only copy; root ignores
    chmod, so the error is raised here)."""

    def __init__(self, path):
        pass

    def acquire(self, timeout=-1):
        raise OSError(errno.EROFS, "Read-only file system")

    __enter__ = acquire


def test_a_read_only_cache_is_read_and_a_bad_entry_is_named(
        toy_model_dir, data_files, tmp_path, monkeypatch, counted_train, capsys):
    settings = quick(toy_model_dir, data_files)
    run = trained_once(str(toy_model_dir), cache_dir=tmp_path / "runs", **settings)
    path = tmp_path / "cache" / "entry.json"
    assert cached(path, {}, lambda: {"loss": 1.0}) == ({"loss": 1.0}, False)
    monkeypatch.setattr(run_cache, "FileLock", ReadOnlyLock)
    # What is there is read; what is not is one sentence naming the folder.
    assert trained_once(str(toy_model_dir), cache_dir=tmp_path / "runs", **settings) == run
    assert cached(path, {}, lambda: {"loss": 2.0}) == ({"loss": 1.0}, True)
    with pytest.raises(CourseError, match=r"^Cannot write to the cache folder .*cache \(Read-"):
        cached(path.with_name("new.json"), {}, lambda: {"loss": 2.0})
    monkeypatch.undo()
    path.write_text('{"settings": {}, "ru')  # cut short: a traceback from json before
    with pytest.raises(CourseError, match=r"^The cache entry .*entry.json cannot be read .*"
                                          r"delete it to compute it again\.$"):
        cached(path, {}, lambda: {"loss": 2.0})
    # A run folder without its history: said before training, not after (the rename failed).
    (Path(run) / "history.json").unlink()
    with pytest.raises(CourseError, match="holds no finished run .*delete the folder"):
        trained_once(str(toy_model_dir), cache_dir=tmp_path / "runs", **settings)
    assert len(counted_train) == 1


QPROJ = ['q_proj', 'k_proj', 'v_proj', 'o_proj']
PIECES = {'mlp', 'v_proj', 'o_proj', 'embed'}
NAMES = ("from peft import LoraConfig; from course_lib.training.run_cache import plain; "
         f"print(plain(LoraConfig(target_modules={QPROJ})), plain({PIECES}))")


def _set_orders(seed: str | None = None) -> str:
    """How the two sets iterate under a hash seed (None: this process's own)."""
    code = f"print(list(set({QPROJ})), list({PIECES}))"
    if seed is None:
        return f"{list(set(QPROJ))} {list(PIECES)}\n"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, env={**os.environ, "PYTHONHASHSEED": seed}).stdout


def test_a_lora_config_or_a_set_names_one_run_in_every_process(tmp_path):
    """LoraConfig keeps target_modules as a set, whose repr changes order with each process's
    hash seed: the next kernel never found the run. Callbacks in a tuple were a TypeError."""
    from peft import LoraConfig

    # One other process (it imports torch: seconds), under a hash seed that orders both sets
    # otherwise than this process does (found with bare Pythons: milliseconds each).
    seed = next(s for s in map(str, range(1, 100))
                if all(a != b for a, b in zip(_set_orders(s).split("] "),
                                              _set_orders().split("] "), strict=True)))
    there = subprocess.run([sys.executable, "-c", NAMES], capture_output=True, text=True,
                           check=True, env={**os.environ, "PYTHONHASHSEED": seed}).stdout
    assert there == f"{plain(LoraConfig(target_modules=QPROJ))} {plain(PIECES)}\n"
    key = run_key("tiny", {"callbacks": (TrainerCallback(),)})
    assert cached(cache_path(tmp_path, key), key, lambda: {"ok": 1}) == ({"ok": 1}, False)


def _fingerprints_around(edit, tmp_path, monkeypatch) -> tuple[str, str]:
    """The code's fingerprint before and after `edit` (text -> text) of a copy's runner.py."""
    copy = tmp_path / "course_lib"
    shutil.copytree(Path(course_lib.__file__).parent, copy,
                    ignore=shutil.ignore_patterns("assets", "__pycache__"))
    monkeypatch.setattr(course_lib, "__file__", str(copy / "__init__.py"))
    before = code_fingerprint()
    trainer = copy / "training" / "runner.py"
    source = trainer.read_text(encoding="utf-8")
    assert edit(source) != source
    trainer.write_text(edit(source), encoding="utf-8")
    os.utime(trainer, ns=(time.time_ns() + 10**9,) * 2)  # a newer file, as an editor leaves it
    return before, code_fingerprint()


def test_the_code_is_fingerprinted_again_once_it_changed(tmp_path, monkeypatch):
    """A notebook with %autoreload runs the edited trainer: its runs must not load the old
    trainer's (the code's fingerprint was remembered for the whole session)."""
    before, after = _fingerprints_around(
        lambda text: text.replace("seed: int = 0", "seed: int = 1"), tmp_path, monkeypatch)
    assert after != before


def test_an_edit_that_only_explains_the_code_keeps_its_runs(tmp_path, monkeypatch):
    """A course update that rewords a comment or a docstring must not retrain every lesson."""
    def explain(text: str) -> str:
        text = text.replace('"""Fine-tune `model`', '"""Fine-tune (reworded) `model`', 1)
        return text.replace("\n", "\n# a new comment\n", 1)

    before, after = _fingerprints_around(explain, tmp_path, monkeypatch)
    assert after == before


def test_the_course_eval_set_is_in_the_name_of_a_run_held_out_on_it(
        data_files, tmp_path, monkeypatch):
    """eval_data left at "auto" holds course data out on course:eval: a course update that
    fixes that set must train anew (the key named it "auto", so the old curves came back)."""
    monkeypatch.setattr(records_module, "EMBEDDED_DATA_DIR", tmp_path)
    shutil.copy(data_files[0], tmp_path / "train.jsonl")
    shutil.copy(data_files[1], tmp_path / "eval.jsonl")
    before = run_key("tiny", {"data": "course:train"})
    (tmp_path / "eval.jsonl").write_text(data_files[0].read_text())
    os.utime(tmp_path / "eval.jsonl", ns=(time.time_ns() + 10**9,) * 2)
    assert run_key("tiny", {"data": "course:train"}) != before
    assert run_key("tiny", {"data": "course:train", "eval_data": None}) == run_key(
        "tiny", {"data": "course:train", "eval_data": "none"})


def test_a_run_kept_under_other_package_versions_is_loaded_and_said_so(
        toy_model_dir, data_files, tmp_path, counted_train, capsys):
    """After `pip install -U`, a cached run is still loaded (an upgrade must not retrain every
    lesson), but its line names the versions it was trained with and how to train it anew."""
    settings = quick(toy_model_dir, data_files)
    run = trained_once(str(toy_model_dir), cache_dir=tmp_path, **settings)
    history = RunHistory.load(run)
    now = history.versions["transformers"]
    assert trained_once(str(toy_model_dir), cache_dir=tmp_path, **settings) == run
    assert "transformers" not in capsys.readouterr().out  # the same versions: nothing to say
    history.versions["transformers"] = "4.57.1"
    history.versions["torch"] += "+patched"  # a local tag or a patch release: not said
    history.save(run, overwrite=True)
    assert trained_once(str(toy_model_dir), cache_dir=tmp_path, **settings) == run
    out = capsys.readouterr().out.strip()
    assert len(counted_train) == 1 and "\n" not in out
    assert "torch" not in out
    assert out.endswith(f"trained earlier with the same settings but transformers 4.57.1 "
                        f"(now {now}): delete the folder to train it again with these")


def test_a_run_kept_by_earlier_course_code_is_named_when_it_trains_anew(
        toy_model_dir, data_files, tmp_path, monkeypatch, counted_train, capsys):
    """After `git pull`, a lesson that loaded its run in seconds trains for minutes: the line
    says why, and which folder of the old code's can go (they piled up unseen in runs/cache)."""
    settings = quick(toy_model_dir, data_files)
    old = Path(trained_once(str(toy_model_dir), cache_dir=tmp_path, **settings))
    trained_once(str(toy_model_dir), cache_dir=tmp_path, seed=1, **settings)  # another run
    monkeypatch.setattr(run_cache, "code_fingerprint", lambda *extra: "newer code")
    capsys.readouterr()
    new = Path(trained_once(str(toy_model_dir), cache_dir=tmp_path, **settings))
    said = [line for line in capsys.readouterr().out.splitlines() if str(old) in line]
    assert new != old and old.is_dir() and len(counted_train) == 3
    size = sum(p.stat().st_size for p in old.rglob("*") if p.is_file()) / 1e6
    assert said == [f"{old} holds this run trained by another version of the course's code: "
                    f"training it with this one (delete that folder to free {size:.1f} MB)"]
    # Two earlier versions: one line for both.
    monkeypatch.setattr(run_cache, "code_fingerprint", lambda *extra: "newest code")
    trained_once(str(toy_model_dir), cache_dir=tmp_path, **settings)
    said = [line for line in capsys.readouterr().out.splitlines() if "hold this run" in line]
    both = ", ".join(sorted([old.name, new.name]))
    assert len(said) == 1 and said[0].startswith(f"2 folders in {tmp_path} ({both}) hold this ")
    assert said[0].endswith(f"(delete them to free {2 * size:.1f} MB)")
