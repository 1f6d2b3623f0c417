"""env: the device and precision chosen (CPU, CUDA, Apple), cpu_only, and the Hub's status."""

import os
import threading
import tomllib
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import huggingface_hub.constants as hub_constants
import pytest
import torch

from course_lib import cgroups, env
from course_lib.cgroups import cgroup_memory_limit
from course_lib.env import (
    cgroup_cpu_limit,
    choose_device,
    choose_threads,
    cpu_only,
    evaluating,
    find_constraints,
    hub_offline,
    hub_status,
    measured_versions,
)


def test_cpu_is_chosen_with_fp32_and_a_reason(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    choice = choose_device()
    assert (choice.device, choice.dtype) == ("cpu", torch.float32)
    assert choice.trainer_precision == {"bf16": False, "fp16": False, "use_cpu": True}
    assert "CPU" in choice.reason


@pytest.mark.parametrize("bf16, dtype", [(True, torch.bfloat16), (False, torch.float16)])
def test_cuda_picks_bf16_when_supported_else_fp16(monkeypatch, bf16, dtype):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda i=0: "Tesla T4")
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: bf16)
    choice = choose_device()
    assert (choice.device, choice.dtype) == ("cuda", dtype)
    assert choice.trainer_precision["bf16"] is bf16 and choice.trainer_precision["fp16"] is not bf16


def test_mps_is_chosen_on_apple(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert choose_device().device == "mps"


def test_cpu_only_picks_the_cpu_beside_a_gpu_and_then_puts_the_variable_back(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda i=0: "Tesla T4")
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    with cpu_only():
        choice = choose_device()
    assert (choice.device, choice.dtype) == ("cpu", torch.float32)
    assert "COURSE_DEVICE=cpu" in choice.reason
    assert choose_device().device == "cuda"  # a notebook's next cell has its GPU back
    with cpu_only(False):
        assert choose_device().device == "cuda"


def test_hub_status_reports_offline_mode(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert hub_status() == "offline mode"


def test_hub_status_asks_the_hub_that_huggingface_hub_uses(monkeypatch):
    # A mirror (HF_ENDPOINT) or a proxy is how many learners reach the Hub: a direct
    # connection to huggingface.co said "unreachable" where downloads work.
    server = HTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)  # answers 501 to anything
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", False)  # read once, on import
    monkeypatch.setattr(hub_constants, "ENDPOINT", f"http://127.0.0.1:{server.server_port}")
    try:
        assert hub_status() == "reachable"
        monkeypatch.setattr(hub_constants, "ENDPOINT", "http://127.0.0.1:9")  # nothing there
        assert hub_status() == "unreachable"
    finally:
        server.shutdown()


def test_the_measured_versions_are_found_in_a_wheel_and_in_a_checkout(tmp_path):
    package = tmp_path / "course_lib"
    package.mkdir()
    (tmp_path / "constraints.txt").write_text("trl==1.0\n")
    assert find_constraints(package) == tmp_path / "constraints.txt"  # a checkout
    (package / "constraints.txt").write_text("trl==1.1\n")
    assert measured_versions(find_constraints(package)) == {"trl": "1.1"}  # a wheel
    # The wheel gets it from pyproject.toml; without that, doctor compares nothing on Colab.
    config = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    forced = config["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    assert forced["constraints.txt"] == "course_lib/constraints.txt"


@pytest.mark.parametrize("value", ["CPU", " cpu\n", "Cpu"])
def test_course_device_is_read_whatever_its_case_and_spaces(monkeypatch, value):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda i=0: "Tesla T4")
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    monkeypatch.setenv("COURSE_DEVICE", value)  # e.g. `export COURSE_DEVICE=CPU` by hand
    assert choose_device().device == "cpu"
    monkeypatch.setenv("COURSE_DEVICE", "cuda")  # any other value leaves the choice alone
    assert choose_device().device == "cuda"


def test_cpu_only_puts_back_a_course_device_that_was_set_before(monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "cuda")  # the learner's own setting
    with cpu_only():
        assert os.environ["COURSE_DEVICE"] == "cpu"
    assert os.environ["COURSE_DEVICE"] == "cuda"
    with cpu_only(False):
        assert os.environ["COURSE_DEVICE"] == "cuda"
    assert os.environ["COURSE_DEVICE"] == "cuda"


@pytest.mark.parametrize("small_model", [True, False])
def test_threads_asked_for_are_used_for_any_model(small_model):
    choice = choose_threads(small_model=small_model, asked=3)
    assert choice.count == 3 and choice.reason.startswith("as asked")


@pytest.mark.parametrize(("value", "offline"), [("1", True), ("true", True), (" YES ", True),
                                                ("on", True), ("0", False), ("", False)])
def test_hf_hub_offline_is_read_as_huggingface_hub_reads_it(monkeypatch, value, offline):
    monkeypatch.setenv("HF_HUB_OFFLINE", value)
    assert hub_offline() is offline
    if offline:
        assert hub_status() == "offline mode"


def test_measured_versions_are_keyed_by_normalised_names(tmp_path):
    pins = tmp_path / "constraints.txt"
    pins.write_text("huggingface_hub==0.30.1\nJinja2==3.1.6  # templates\nruamel.yaml==0.18\n"
                    "# torch==0.0\nnot-pinned>=1\n")
    assert measured_versions(pins) == {"huggingface-hub": "0.30.1", "jinja2": "3.1.6",
                                       "ruamel-yaml": "0.18"}


@pytest.mark.parametrize("training", [True, False])
def test_evaluating_measures_without_gradients_and_leaves_the_mode_as_it_was(training):
    model = torch.nn.Linear(2, 1).train(training)
    with evaluating(model) as device:
        assert device == torch.device("cpu") and not model.training
        assert not model(torch.ones(1, 2)).requires_grad
    assert model.training is training  # a model in eval mode is not switched to training


def fake_cgroups(tmp_path, files: dict[str, str], own: str = "0::/\n"):
    """A cgroup mount under tmp_path holding `files` (path: content), and the file naming
    this process's cgroups (/proc/self/cgroup's format)."""
    for name, content in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(content)
    (tmp_path / "own").write_text(own)
    return tmp_path, tmp_path / "own"


@pytest.mark.parametrize(("files", "cpus"), [
    ({"cpu.max": "200000 100000\n"}, 2.0),  # v2: docker --cpus=2, a pod's limits.cpu: 2
    ({"cpu.max": "150000 100000\n"}, 1.5),
    ({"cpu.max": "max 100000\n"}, None),  # v2 without a quota
    ({"cpu/cpu.cfs_quota_us": "100000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 1.0),  # v1
    ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),
    ({"cpu.max": "200000\n"}, None),  # malformed: as without a quota
    ({"cpu.max": "lots 100000\n"}, None),
    ({}, None),
])
def test_a_cgroup_cpu_quota_is_read_in_v1_and_v2(tmp_path, files, cpus):
    assert cgroup_cpu_limit(*fake_cgroups(tmp_path, files)) == cpus


def test_a_quota_on_a_parent_cgroup_applies_and_the_smallest_wins(tmp_path):
    # A login node's user slice limits every session inside it.
    files = {"user.slice/cpu.max": "300000 100000", "user.slice/s1.scope/cpu.max": "max 100000",
             "user.slice/s1.scope/memory.max": "max", "user.slice/memory.max": "2147483648"}
    root, own = fake_cgroups(tmp_path, files, own="0::/user.slice/s1.scope\n")
    assert cgroup_cpu_limit(root, own) == 3.0 and cgroup_memory_limit(root, own) == 2**31


def test_a_container_sees_its_own_cgroup_as_the_mount_root(tmp_path):
    # cgroup v1 in Docker: /proc/self/cgroup names /docker/<id>, mounted at /sys/fs/cgroup/cpu.
    files = {"cpu/cpu.cfs_quota_us": "200000", "cpu/cpu.cfs_period_us": "100000",
             "memory/memory.limit_in_bytes": str(4 * 2**30)}
    own = "4:memory:/docker/abc\n2:cpu,cpuacct:/docker/abc\n"
    root, own_file = fake_cgroups(tmp_path, files, own=own)
    assert cgroup_cpu_limit(root, own_file) == 2.0
    assert cgroup_memory_limit(root, own_file) == 4 * 2**30


@pytest.mark.parametrize("content", ["max\n", "9223372036854771712\n", "4g\n"])
def test_no_memory_limit_is_none(tmp_path, content):
    # v2's "max", v1's "no limit" (about 2**63, more than the machine has), a malformed file.
    assert cgroup_memory_limit(*fake_cgroups(tmp_path, {"memory.max": content})) is None


def test_a_cpu_quota_lowers_the_cores_the_course_counts(tmp_path, monkeypatch):
    # A JupyterHub pod limited to 2 CPUs on a 64-core node sees all 64 in its affinity.
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(64)), raising=False)
    root, own = fake_cgroups(tmp_path, {"cpu.max": "150000 100000"})
    monkeypatch.setattr(cgroups, "CGROUP_ROOT", root)
    monkeypatch.setattr(cgroups, "OWN_CGROUPS", own)
    assert env.cpu_cores() == 2  # 1.5 CPUs, rounded up
    assert choose_threads(small_model=False).count == 2  # was 4: threads past the quota wait
    (root / "cpu.max").write_text("max 100000")
    assert env.cpu_cores() == 64 and choose_threads(small_model=False).count == 4
