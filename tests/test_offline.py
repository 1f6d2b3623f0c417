"""The embedded paths touch no network, for a learner who never set HF_HUB_OFFLINE.

The suite sets HF_HUB_OFFLINE=1 (conftest), so these run the course in a child process with
the Hub variables removed and Python's sockets refusing to connect: every attempt is logged,
and the test fails on the first one. TRL pings the Hub from a background thread when a
trainer is made; the guard waits for that thread at exit, so the ping is not missed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import datasets
import huggingface_hub.constants as hub_constants
import pytest

import course_lib
from course_lib.env import TELEMETRY_VARIABLE, keep_usage_private
from course_lib.errors import CourseError
from course_lib.formatting.records import load_records
from course_lib.loading import EMBEDDED_MODEL_DIR

GUARD = '''
import atexit, os, socket, sys, threading, traceback

def _refuse(what):
    stack = "".join(traceback.format_stack()[:-2])
    what = f"{what} (thread {threading.current_thread().name})"
    with open(os.environ["NET_GUARD_LOG"], "a") as log:
        log.write(f"{what}\\n{stack}\\n")
    raise OSError(101, "the test's guard refuses every network connection")

_connect, _getaddrinfo = socket.socket.connect, socket.getaddrinfo

def connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _refuse(f"connect {address}")
    return _connect(self, address)

socket.socket.connect = connect
socket.getaddrinfo = lambda host, *args, **kwargs: _refuse(f"getaddrinfo {host}")

@atexit.register
def _wait_for_pings():  # huggingface_hub sends telemetry from a daemon thread
    telemetry = sys.modules.get("huggingface_hub.utils._telemetry")
    if telemetry is not None:
        telemetry._TELEMETRY_QUEUE.join()
'''

# What a learner's shell has never heard of (CI: TRL sends nothing when it is set).
HUB_VARIABLES = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE",
                 TELEMETRY_VARIABLE, "DISABLE_TELEMETRY", "DO_NOT_TRACK", "CI")


def run_unplugged(tmp_path: Path, args: list[str], **changes: str,
                  ) -> tuple[subprocess.CompletedProcess, str]:
    """Run python `args` with no Hub variables and a socket guard (and the variables in
    `changes`); its result and the log of connection attempts ('' when none)."""
    guard, log = tmp_path / "guard", tmp_path / "connections.log"
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(GUARD, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in HUB_VARIABLES}
    # The guard first, then this checkout's course_lib (the child runs in tmp_path).
    paths = [str(guard), str(Path(course_lib.__file__).parent.parent), env.get("PYTHONPATH")]
    env.update(NET_GUARD_LOG=str(log), OMP_NUM_THREADS="1", COURSE_WORKERS="1",
               PYTHONPATH=os.pathsep.join(filter(None, paths)), **changes)
    done = subprocess.run([sys.executable, *args], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)
    return done, log.read_text(encoding="utf-8") if log.exists() else ""


def assert_connects_nowhere(tmp_path: Path, args: list[str], what: str) -> None:
    """Run python `args` unplugged: it must succeed without trying the network."""
    done, log = run_unplugged(tmp_path, args)
    assert done.returncode == 0, done.stderr
    assert log == "", f"{what} tried the network:\n{log}"


def test_the_guard_sees_a_hub_lookup(tmp_path):
    done, log = run_unplugged(tmp_path, ["-c", "import huggingface_hub as h\ntry:\n"
                                         "    h.model_info('HuggingFaceTB/SmolLM2-135M')\n"
                                         "except Exception:\n    pass"])
    assert done.returncode == 0, done.stderr
    assert "huggingface.co" in log


def test_training_the_embedded_model_connects_nowhere(tmp_path):
    assert_connects_nowhere(tmp_path, ["-m", "course_lib.cli", "train", "--data",
                                       "course:train", "--steps", "1", "--quiet",
                                       "--eval-data", "none", "--out", "run"],
                            "`course train` on the embedded model")


def test_a_lesson_that_makes_a_trl_trainer_sends_no_usage_ping(tmp_path):
    # Lesson 05 makes an SFTTrainer after its first cell; TRL pings the Hub for each one.
    lesson = ("from course_lib.colab import lesson_setup\n"
              "lesson_setup('tiny')\n"
              "import tempfile\n"
              "from datasets import Dataset\n"
              "from trl import SFTConfig, SFTTrainer\n"
              "from course_lib.loading import load_model_and_tokenizer\n"
              "model, tokenizer = load_model_and_tokenizer('tiny')\n"
              "config = SFTConfig(output_dir=tempfile.mkdtemp(), use_cpu=True, bf16=False,\n"
              "                   report_to='none')\n"
              "data = Dataset.from_list([{'prompt': 'Hi', 'completion': 'Yo'}])\n"
              "SFTTrainer(model=model, args=config, processing_class=tokenizer,\n"
              "           train_dataset=data)\n")
    assert_connects_nowhere(tmp_path, ["-c", lesson], "a lesson's TRL trainer")


def test_trl_prepare_sends_no_usage_ping_from_any_script(tmp_path):
    # It makes an SFTTrainer only to build labels: no training for TRL to count.
    script = ("from course_lib.formatting.records import load_records\n"
              "from course_lib.loading import load_tokenizer\n"
              "from course_lib.masking.trl_labels import trl_prepare\n"
              "trl_prepare(load_records('course:train')[:2], load_tokenizer('tiny'))\n")
    assert_connects_nowhere(tmp_path, ["-c", script], "trl_prepare")


def test_course_show_mask_with_trl_sends_no_usage_ping(tmp_path):
    assert_connects_nowhere(tmp_path, ["-m", "course_lib.cli", "show-mask", "Name a colour.",
                                       "Red.", "--masking", "trl", "--color", "never"],
                            "`course show-mask --masking trl`")


def test_a_hub_id_with_the_network_down_fails_in_seconds(tmp_path):
    # huggingface_hub retries each file five times (1+2+4+8+8 s): a minute before the sentence,
    # and minutes more where a proxy drops packets. One short question to the Hub instead.
    code = "from course_lib.loading import load_model_and_tokenizer as load\nload('smollm2-135m')"
    start = time.perf_counter()
    done, log = run_unplugged(tmp_path, ["-c", code], HF_HUB_CACHE=str(tmp_path / "cache"))
    seconds = time.perf_counter() - start
    assert "Hub cannot be reached" in done.stderr and "model='tiny'" in done.stderr, done.stderr
    assert "file_download" not in log, f"files were asked for, with retries:\n{log}"
    assert seconds < 30, f"{seconds:.0f} s to say the Hub cannot be reached"


def test_a_hub_model_cached_before_loads_at_once_with_the_network_down(tmp_path):
    cache, revision = tmp_path / "cache" / "models--course-test--tiny", "0" * 40
    shutil.copytree(EMBEDDED_MODEL_DIR, cache / "snapshots" / revision)
    (cache / "refs").mkdir()
    (cache / "refs" / "main").write_text(revision, encoding="utf-8")
    code = "from course_lib.loading import load_model_and_tokenizer\n" \
           "load_model_and_tokenizer('course-test/tiny')"
    start = time.perf_counter()
    done, log = run_unplugged(tmp_path, ["-c", code], HF_HUB_CACHE=str(tmp_path / "cache"))
    seconds = time.perf_counter() - start
    assert done.returncode == 0, done.stderr
    assert "file_download" not in log, f"files were asked for, with retries:\n{log}"
    assert seconds < 30, f"{seconds:.0f} s to load a cached model with the network down"


LOAD_HUB_SET = ("from course_lib.formatting.records import load_records\n"
                "print([r['response'] for r in load_records('course-test/tiny')])")


def test_a_hub_data_set_with_the_network_down_fails_in_seconds(tmp_path):
    # datasets retries the Hub five times (1+2+4+8+8 s) before its error; one short question.
    start = time.perf_counter()
    done, log = run_unplugged(tmp_path, ["-c", LOAD_HUB_SET],
                              HF_DATASETS_CACHE=str(tmp_path / "cache"))
    seconds = time.perf_counter() - start
    assert "Hub cannot be reached and it is not in the local cache" in done.stderr, done.stderr
    assert "Retrying" not in done.stderr, done.stderr
    assert seconds < 15, f"{seconds:.0f} s to say the Hub cannot be reached"


def _cache_a_hub_set(cache: Path, rows: list[dict[str, str]]) -> None:
    """What load_dataset('course-test/tiny') leaves in the cache: a set built by datasets'
    json builder, moved to the folder and file names a Hub set of that name gets."""
    data = cache.parent / "rows.jsonl"
    data.write_text("\n".join(map(json.dumps, rows)), encoding="utf-8")
    datasets.load_dataset("json", data_files=str(data), split="train", cache_dir=str(cache))
    built = next((cache / "json").glob("*/*/*"))
    copy = cache / "course-test___tiny" / "default" / "0.0.0" / built.name
    shutil.copytree(built, copy)
    (copy / "json-train.arrow").rename(copy / "tiny-train.arrow")
    shutil.rmtree(cache / "json")


def test_a_hub_data_set_cached_before_loads_at_once_with_the_network_down(tmp_path):
    _cache_a_hub_set(tmp_path / "cache", [{"instruction": "What is 2+2?", "response": "4"},
                                          {"instruction": "Name a colour.", "response": "Red."}])
    start = time.perf_counter()
    done, _ = run_unplugged(tmp_path, ["-c", LOAD_HUB_SET],
                            HF_DATASETS_CACHE=str(tmp_path / "cache"))
    seconds = time.perf_counter() - start
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['4', 'Red.']"
    assert seconds < 15, f"{seconds:.0f} s to load a cached data set with the network down"


def test_a_hub_data_set_with_the_network_down_names_the_embedded_data(monkeypatch, tmp_path):
    # datasets' own words (5.2) once its retries give up, with HF_HUB_OFFLINE unset.
    def load_dataset(hub_id, split):
        raise ConnectionError(f"Couldn't reach '{hub_id}' on the Hub (LocalEntryNotFoundError)")

    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setattr(datasets, "load_dataset", load_dataset)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CourseError) as caught:
        load_records("owner/set")
    assert str(caught.value) == (
        "Cannot load data set 'owner/set' from the Hugging Face Hub because the Hub cannot be "
        "reached and it is not in the local cache; use the embedded data instead: "
        "'course:train' to train, 'course:eval_styles' to evaluate.")


@pytest.mark.parametrize("asked, off", [(None, True), ("0", False), ("1", True)])
def test_usage_pings_are_off_unless_the_learner_turned_them_on(monkeypatch, asked, off):
    monkeypatch.delenv(TELEMETRY_VARIABLE, raising=False)
    if asked is not None:
        monkeypatch.setenv(TELEMETRY_VARIABLE, asked)
    monkeypatch.setattr(hub_constants, "HF_HUB_DISABLE_TELEMETRY", False)
    keep_usage_private()
    assert hub_constants.HF_HUB_DISABLE_TELEMETRY is off
    assert os.environ[TELEMETRY_VARIABLE] == (asked or "1")  # and the processes it starts
