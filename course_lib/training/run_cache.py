"""Train once, load after: a finished run kept on disk, named after everything that decides it.

    >>> masked = trained_once("tiny", masking="response", eval_data=None)  # doctest: +SKIP
    >>> masked   # a run folder, for evaluate(), `course ask` or from_pretrained  # doctest: +SKIP
    'runs/cache/1f0c...'

The first call trains with `train()` and saves the run (model, tokenizer, history.json) under
`runs/cache/`; every later call with the same settings loads that folder instead of training
again, so a lesson runs again in seconds. The folder's name is a hash of what decides the run:
the settings given and `train()`'s defaults (the recipe), fingerprints of the model and the
data (course:eval too, which eval_data="auto" holds course data out on), the step cap, the
course's version and code, and the device. Change any of them and the run trains anew (a run
kept by other code of the course is named then, with the space its folder takes); delete the
folder to train it again by hand. Files are named by what they
hold (an edited data file or model is another run, even within one notebook session); settings
by their value (masking="response" said or left out is one run). Not in the name, on purpose:
CPU threads and package versions (torch, transformers), which seldom move the numbers beyond
rounding; a cache that every upgrade emptied would retrain each lesson on each new Colab image
(a run trained with another release of torch, transformers, trl or peft is loaded, and its line
names them: delete its folder to see the new versions' own numbers).

`cached()` is the same idea for a JSON result (the experiments keep their scored answers so).
"""

from __future__ import annotations

import ast
import hashlib
import importlib.metadata
import inspect
import json
import os
import shutil
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, is_dataclass
from functools import cache
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

import course_lib
from course_lib.env import choose_device
from course_lib.errors import CourseError, shell_word, with_advice
from course_lib.files import CHECKPOINT_DIR, written_whole
from course_lib.formatting.records import embedded_sets, load_records
from course_lib.formatting.rows import is_table, table_rows
from course_lib.formatting.templates import TEMPLATES, Template
from course_lib.loading import resolve_model_name
from course_lib.training.history import HISTORY_FILE, RunHistory
from course_lib.training.runner import package_versions, train
from course_lib.training.settings import as_pieces, is_no_eval, step_cap

DEFAULT_CACHE = Path("runs") / "cache"
# How a run is shown, not what it learns: left out of the name.
NOT_IN_KEY = ("progress", "verbose", "live_plot", "num_threads")


def trained_once(model: str | Path = "tiny", *, cache_dir: str | Path = DEFAULT_CACHE,
                 yours: str | Path | Sequence[str | Path] = (), **settings: Any) -> str:
    """The folder of a finished `train(model, **settings)` run: loaded if there is one, else
    trained now and kept in `cache_dir`. Prints which, with the run's summary.

    yours:  run folders of your own (e.g. from `course train --out runs/masked`), used
            instead when one exists and fine-tuned the same model with the same masking.
    """
    if not isinstance(model, str | Path):
        raise CourseError("trained_once() names its folder after the model, so pass the model's "
                          "name or folder (e.g. 'tiny'), not a model object; or call train().")
    if cache_dir is None:  # a TypeError from pathlib, after the model was fingerprinted
        raise CourseError("trained_once() keeps its runs in cache_dir; give a folder (default "
                          f"{DEFAULT_CACHE}), or call train() to keep nothing.")
    for name in ("data", "eval_data"):  # hashed by repr, a generator named a new run each call
        if isinstance(settings.get(name), Iterator):
            raise CourseError(f"trained_once() names its folder after the records, which a "
                              f"generator gives only once; pass {name}=list(...) instead.")
    if "out_dir" in settings or "resume" in settings:
        raise CourseError("trained_once() chooses the run folder itself; call train(..., "
                          "out_dir=...) to save a run where you want it.")
    # The learner's own runs first: a matching one is used, and nothing is trained again.
    for folder in [yours] if isinstance(yours, str | Path) else yours:
        if own := _your_run(Path(folder), str(model), settings):
            print(f"{own.summary()}; your run, loaded from {folder}")
            return str(folder)
    # Named by a hash of everything that decides the run: a changed setting trains anew.
    key = run_key(model, settings)
    folder = Path(cache_dir).expanduser() / _name(key)
    # A run is renamed into place whole, so a finished one is read without the lock (which
    # a teacher's read-only copy of runs/cache could not give).
    if not _loaded(folder):
        # One process trains a run at a time: another that asks for it meanwhile (the same
        # lesson in a second tab, a class sharing one folder) waits, then loads it.
        lock = _locked(folder, wait=True)
        try:
            # Checked again under the lock: the process we waited for may have just trained it.
            if not _loaded(folder):
                _train_into(folder, model, key, settings)
        finally:
            lock.release()
    return str(folder)


def _loaded(folder: Path) -> bool:
    """Whether `folder` holds a finished run (said, with its summary)."""
    if not (folder / HISTORY_FILE).is_file():
        return False
    try:
        history = RunHistory.load(folder)
    except CourseError as err:  # "train the run again, into a new folder" is not the way here
        raise CourseError(f"The cached run {folder} cannot be read ({err}); delete the folder "
                          f"to train it again.") from None
    if other := other_versions(history.versions):  # its numbers may not be these versions'
        print(f"{history.summary()}; loaded from {folder}, trained earlier with the same "
              f"settings but {other}: delete the folder to train it again with these")
    else:
        print(f"{history.summary()}; loaded from {folder}, trained earlier with the same "
              f"settings (delete the folder to train again)")
    return True


def other_versions(recorded: dict[str, str]) -> str:
    """'transformers 5.20.0 (now 5.24.0)' for each package a run was trained with whose
    release (major.minor) differs from the one installed; '' when none does. A patch release
    or a local tag (+cpu) is not said: it seldom moves the numbers."""
    other = []
    for package, then in sorted(recorded.items()):
        try:
            now = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            continue
        if _release(then) != _release(now):
            other.append(f"{package} {then} (now {now})")
    return ", ".join(other)


def _release(version: str) -> list[str]:
    """The major.minor of a version: ['2', '13'] of '2.13.1+cpu'."""
    return version.split("+")[0].split(".")[:2]


def _train_into(folder: Path, model: str | Path, key: dict[str, Any],
                settings: dict[str, Any]) -> None:
    """Train the run and keep it in `folder`, which a later call loads."""
    if folder.exists():  # else the rename below fails, after all the training
        raise CourseError(f"The cache folder {folder} holds no finished run ({HISTORY_FILE} is "
                          f"missing); delete the folder to train it again.")
    # Saved aside, then renamed: never a half-written run under the real name.
    if old := _earlier(folder, key):  # why a run loaded before trains now, and what can go
        size = sum(p.stat().st_size for o in old for p in o.rglob("*") if p.is_file()) / 1e6
        which = (f"{old[0]} holds" if len(old) == 1 else f"{len(old)} folders in {folder.parent} "
                 f"({', '.join(o.name for o in old)}) hold")
        print(f"{which} this run trained by another version of the course's code: training "
              f"it with this one (delete {'that folder' if len(old) == 1 else 'them'} to free "
              f"{size:.1f} MB)")
    partial = folder.with_name(f"{folder.name}.{os.getpid()}.partial")
    # Any process's: one killed (a lost runtime) left its own; none writes one without our lock.
    for stale in folder.parent.glob(f"{folder.name}.*.partial"):
        shutil.rmtree(stale, ignore_errors=True)
    try:  # no checkpoints: the finished run is all a later call loads
        result = train(model, out_dir=partial, **{"save_strategy": "no", **settings})
        shutil.rmtree(partial / CHECKPOINT_DIR, ignore_errors=True)
        (partial / "settings.json").write_text(json.dumps(key, indent=1), encoding="utf-8")
    except BaseException:  # an error, an interrupt or a full disk leaves nothing behind
        shutil.rmtree(partial, ignore_errors=True)
        raise
    partial.rename(folder)
    print(f"{result.history.summary()}; kept in {folder}")


def _earlier(folder: Path, key: dict[str, Any]) -> list[Path]:
    """The cache folders beside `folder` that hold its run trained by other code of the course
    (their settings.json is its key but for the code and the course's version)."""
    def run(settings: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in settings.items() if k not in ("code", "course")}

    found = []
    for kept in sorted(folder.parent.glob("*/settings.json")):
        try:
            if run(json.loads(kept.read_text(encoding="utf-8"))) == run(key):
                found.append(kept.parent)
        except (OSError, ValueError, AttributeError):  # not one of ours: not this run
            continue
    return found


def _locked(entry: Path, wait: bool) -> FileLock | None:
    """The acquired lock of a cache entry (None if wait=False and another process holds it), in
    a hidden `.locks` folder beside it: a learner looking at runs/ sees the runs only (a lock
    file stays after use; deleting one while in use is racy)."""
    locks = entry.parent / ".locks"
    lock = FileLock(locks / f"{entry.stem}.lock")
    try:
        locks.mkdir(parents=True, exist_ok=True)
        lock.acquire(timeout=-1 if wait else 0)
    except Timeout:
        return None
    except OSError as err:  # a read-only folder, a full disk: say which folder, not a traceback
        raise with_advice(f"Cannot write to the cache folder {entry.parent} ({err.strerror}); "
                          f"give the cache a folder you can write to ({{fix}}).", "cache_dir=...",
                          "--out") from None
    return lock


def _your_run(folder: Path, model: str, settings: dict[str, Any]) -> RunHistory | None:
    """The history of a learner's run folder if it fine-tuned `model` with the masking asked
    for (a masked run must not stand in for an unmasked one); None (and why) if not."""
    if not (folder / HISTORY_FILE).is_file():
        if (folder / CHECKPOINT_DIR).is_dir():  # interrupted: said, not silently trained anew
            print(f"{folder} is a run that did not finish (no {HISTORY_FILE}): not used here; "
                  f"finish it with `course train --out {shell_word(folder)} --resume`")
        return None
    history = RunHistory.load(folder)
    masking = settings.get("masking", inspect.signature(train).parameters["masking"].default)
    for what, theirs, wanted in (("fine-tuned", history.model, model),
                                 ("used masking", history.masking, masking)):
        if theirs != wanted:
            print(f"{folder} {what} {theirs!r}, not {wanted!r}: not used here")
            return None
    return history


def run_key(model: str | Path, settings: dict[str, Any], *code: Path) -> dict[str, Any]:
    """Everything that decides a run's weights and history (what its folder is named after);
    `code`: more files whose change must train anew (the experiments' runner)."""
    params = inspect.signature(train).parameters
    given = {k: v for k, v in settings.items() if k not in NOT_IN_KEY}
    # The default data named too, so its records are fingerprinted below like any other's.
    given.setdefault("data", params["data"].default)
    if is_no_eval(given.get("eval_data")):  # "none", "off", "": no held-out set, as None
        given["eval_data"] = None
    if isinstance(given.get("freeze"), str | list | tuple):  # "mlp", ["mlp"], ("mlp",): one run
        given["freeze"] = as_pieces(given["freeze"])
    eval_data = given.get("eval_data", params["eval_data"].default)
    if isinstance(eval_data, str) and eval_data == "auto":  # course data is held out on this
        given["auto_eval"] = records_fingerprint("course:eval")
    for source in ("data", "eval_data"):  # the records themselves, not just their name
        if isinstance(given.get(source), str | Path) and given[source] != "auto":
            given[source] = records_fingerprint(str(given[source]))
    defaults = {k: repr(v.default) for k, v in params.items()
                if v.default is not inspect.Parameter.empty}
    # A setting given as its default is the default: masking="response" said or left out is
    # one run (the recipe's defaults are in the key below).
    named = {k: plain(v) for k, v in sorted(given.items())}
    return {
        "train": {k: v for k, v in named.items()
                  if k not in params or v != plain(params[k].default)},
        "recipe": defaults,
        "model": model_fingerprint(str(model)),
        # COURSE_MAX_STEPS stops every run early: a capped run must not stand in for a full one.
        "step_cap": step_cap(),
        "course": course_lib.__version__,
        "code": code_fingerprint(*code),
        "device": choose_device().device,
    }


def cached(path: Path | None, settings: dict[str, Any], compute: Callable[[], dict[str, Any]],
           wait: bool = True) -> tuple[dict[str, Any], bool] | None:
    """compute()'s result and whether it came from `path` (path None: always compute, keep
    nothing). wait=False: None at once, instead of waiting, while another process computes
    this entry.
    """
    if path is None:
        return compute(), False
    # As in trained_once: a finished entry is read without the lock; a second asker waits
    # for the first, then reads its entry.
    if (run := _entry(path)) is not None:
        return run, True
    if (lock := _locked(path, wait)) is None:
        return None
    try:
        if (run := _entry(path)) is not None:
            return run, True
        result = compute()
        entry = {"settings": settings, "versions": package_versions(), "run": result}
        with written_whole(path) as partial:  # a full disk leaves no half-written entry
            partial.write_text(json.dumps(entry, ensure_ascii=False), encoding="utf-8")
    finally:
        lock.release()
    return result, False


def _entry(path: Path) -> dict[str, Any] | None:
    """The result kept in `path`, or None when there is none yet."""
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))["run"]
    except (ValueError, KeyError, TypeError) as err:  # cut short, or edited by hand
        raise CourseError(f"The cache entry {path} cannot be read ({type(err).__name__}: "
                          f"{err}); delete it to compute it again.") from None


def entry_versions(path: Path) -> dict[str, str]:
    """The package versions the entry at `path` was computed with ({} if it does not say)."""
    return json.loads(path.read_text(encoding="utf-8")).get("versions", {})


Job = tuple[Path | None, dict[str, Any], Callable[[], dict[str, Any]]]


OnDone = Callable[[int, tuple[dict[str, Any], bool]], Any]  # (job index, (result, read))


def cached_in_turn(jobs: Sequence[Job], on_done: OnDone | None = None,
                   ) -> list[tuple[dict[str, Any], bool]]:
    """cached(path, settings, compute) for each job, in order, but an entry that another
    process is computing now is left for later. Two askers of one list (a lesson in the
    browser and its headless test, two learners sharing a folder) then compute different
    entries side by side, instead of one computing while the other waits. `on_done(i, result)`
    is called as each entry is had, in the order they come (a progress line)."""
    done: dict[int, tuple[dict[str, Any], bool]] = {}
    held: list[int] = []
    for i in range(len(jobs)):
        for k in [*held, i]:  # what another process held is often finished by now: read it
            if (result := cached(*jobs[k], wait=False)) is not None:
                done[k] = result
                if on_done is not None:
                    on_done(k, result)
        held = [k for k in [*held, i] if k not in done]
    for k in held:  # still held: wait for it
        done[k] = cached(*jobs[k])
        if on_done is not None:
            on_done(k, done[k])
    return [done[i] for i in range(len(jobs))]


def cache_path(cache_dir: str | Path | None, settings: dict[str, Any]) -> Path | None:
    """The JSON file `cached()` keeps a result in, named after its settings."""
    return None if cache_dir is None else Path(cache_dir).expanduser() / f"{_name(settings)}.json"


def _name(settings: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:24]


def plain(value: Any) -> Any:
    """A setting as JSON: tuples and sets as lists, a course template by its name (an edited
    one by its fields), records, tables and other dataclasses (a LoraConfig) hashed, else repr."""
    if isinstance(value, tuple | set | frozenset):  # a set's repr has no fixed order
        return [plain(v) for v in _in_order(value)]
    if isinstance(value, Template):
        return value.name if TEMPLATES.get(value.name) == value else asdict(value)
    if is_dataclass(value) and not isinstance(value, type):  # LoraConfig keeps a set: no repr
        return f"{type(value).__name__}:{digest(_json(asdict(value)).encode())}"
    if is_table(value) or _is_dataset(value):  # their repr shows a few rows, or only the count
        value = table_rows(value)
    if isinstance(value, list):
        return digest(_json(value).encode())
    return value if isinstance(value, str | int | float | bool | None) else repr(value)


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=_in_order)


def _in_order(value: Any) -> Any:
    """A tuple as a list, a set as a sorted one (its order changes between processes)."""
    if isinstance(value, tuple):
        return list(value)
    return sorted(value, key=repr) if isinstance(value, set | frozenset) else repr(value)


def _is_dataset(value: Any) -> bool:
    """A datasets.Dataset, tokenized ones too (is_table is for records only)."""
    hf = sys.modules.get("datasets")  # not imported here: such data brings it
    return hf is not None and isinstance(value, hf.Dataset)


def digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part)
    return h.hexdigest()[:16]


def model_fingerprint(model: str) -> str:
    """The model's files hashed (weights, config, tokenizer), or its Hub id when not local."""
    folder = Path(resolve_model_name(model)).expanduser()
    if not folder.is_dir():
        return str(model)  # a Hub id: the name is all we know without downloading
    return _files_digest(file_stamp(folder))


@cache
def _files_digest(stamp: tuple) -> str:
    """A folder's files (not .md) hashed, read once per stamp (a model is large)."""
    files = sorted(p for p in Path(stamp[0]).iterdir() if p.is_file() and p.suffix != ".md")
    return digest(*(p.name.encode() + p.read_bytes() for p in files))


def records_fingerprint(source: str) -> str:
    """The records as the course reads them, hashed: an edited data file trains anew."""
    return _records_digest(source, file_stamp(source))


@cache
def _records_digest(source: str, stamp: tuple) -> str:
    return digest(json.dumps(load_records(source), sort_keys=True, ensure_ascii=False).encode())


def file_stamp(source: str | Path) -> tuple:
    """Which local file or folder `source` names now, and its files' sizes and change times:
    the memo key of a fingerprint, so that a file edited since, or another file under the same
    relative name (the notebook's folder changed), is read again. () for a Hub id."""
    path = Path(str(source)).expanduser()
    if not path.exists():  # a file named "course:train" would come first, as in load_records
        path = embedded_sets().get(str(source), path)
    if not path.exists():
        return ()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    return (str(path.resolve()), *((str(p), p.stat().st_size, p.stat().st_mtime_ns)
                                   for p in files))


def code_fingerprint(*extra: Path) -> str:
    """The course's code that makes a run (and `extra` files): a changed trainer trains anew,
    in a notebook that reloads the course (%autoreload) too."""
    root = Path(course_lib.__file__).parent
    stages = ("formatting", "masking", "training", "evaluation")
    files = sorted(p for stage in stages for p in (root / stage).rglob("*.py"))
    files += [root / "loading.py", root / "env.py", *extra]
    return _code_digest(str(root), tuple(file_stamp(p) for p in files))


@cache
def _code_digest(root: str, stamps: tuple) -> str:
    """The files of `stamps` hashed, read once per state of theirs."""
    files = [Path(stamp[0]) for stamp in stamps]
    return digest(*(os.path.relpath(p, Path(root).resolve()).encode() + _code_only(p)
                    for p in files))


def _code_only(path: Path) -> bytes:
    """A Python file's syntax tree without comments, docstrings or layout: an edit that only
    explains the code keeps its runs (a file that does not parse counts as it is)."""
    try:
        tree = ast.parse(path.read_bytes())
    except SyntaxError:
        return path.read_bytes()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(body, list) and body and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]  # the docstring, not the code after it
    return ast.dump(tree).encode()
