"""The limits a container or a shared server sets through Linux's cgroups: a CPU quota and a
memory limit, which the host's core count and memory do not show (a JupyterHub pod limited
to 2 CPUs and 4 GiB on a 64-core node; `docker run --cpus=2 --memory=4g`). Without torch, so
that the CLI can read them before torch loads; and COURSE_WORKERS, the processes a user lets
the course run at once (`workers_from_env`), which `course grade` reads without torch too.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import psutil

from course_lib.errors import CourseError

CGROUP_ROOT = Path("/sys/fs/cgroup")  # Linux's cgroup mounts (tests point at a folder)
OWN_CGROUPS = Path("/proc/self/cgroup")  # which cgroup this process is in


def cgroup_folders(v1_name: str, root: Path | None = None, own: Path | None = None,
                   ) -> list[Path]:
    """The cgroup folders whose limits apply to this process: its own, then each parent up
    to the mount (a login node limits the user's slice, a container its own root). cgroup
    v2's one hierarchy first, then v1's `v1_name` one ("cpu" or "memory"). `root` and `own`
    default to CGROUP_ROOT and OWN_CGROUPS."""
    root, own = root or CGROUP_ROOT, own or OWN_CGROUPS
    try:
        lines = own.read_text(encoding="utf-8").splitlines()
    except OSError:  # not Linux: no folders, no limits
        return []
    paths = dict(line.split(":", 2)[1:] for line in lines if line.count(":") >= 2)
    v1 = next((path for names, path in paths.items() if v1_name in names.split(",")), "/")
    folders = []
    for mount, path in ((root, paths.get("", "/")), (root / v1_name, v1)):
        # A container's cgroup may be mounted as the root: then the named path is not there.
        start = mount if ".." in path else mount / path.strip("/")
        folders += [f for f in (start, *start.parents) if f.is_relative_to(mount) and f.is_dir()]
    return folders


def _quota(folder: Path) -> float | None:
    """One cgroup folder's CPU quota in CPUs: v2's cpu.max "200000 100000" is 2.0, v1's
    cpu.cfs_quota_us over cpu.cfs_period_us too; None for none ("max", -1) or no file."""
    try:
        if (folder / "cpu.max").is_file():
            quota, period = (folder / "cpu.max").read_text(encoding="ascii").split()
        else:
            quota = (folder / "cpu.cfs_quota_us").read_text(encoding="ascii")
            period = (folder / "cpu.cfs_period_us").read_text(encoding="ascii")
        return int(quota) / int(period) if int(quota) > 0 and int(period) > 0 else None
    except (OSError, ValueError):  # no quota here, or a file the kernel did not write so
        return None


def cgroup_cpu_limit(root: Path | None = None, own: Path | None = None) -> float | None:
    """The CPUs a cgroup quota lets this process use (Docker's --cpus=2, a pod's CPU limit),
    the smallest along its cgroups; None when there is no quota (a laptop)."""
    quotas = [q for q in map(_quota, cgroup_folders("cpu", root, own)) if q]
    return min(quotas, default=None)


def cgroup_memory_limit(root: Path | None = None, own: Path | None = None) -> int | None:
    """The bytes a cgroup lets this process's group hold before the kernel kills it
    (Docker's --memory=4g, a pod's memory limit), the smallest along its cgroups; None when
    there is none. v2 writes memory.max ("max": none), v1 memory.limit_in_bytes."""
    limits = []
    for folder in cgroup_folders("memory", root, own):
        for name in ("memory.max", "memory.limit_in_bytes"):
            try:
                limits.append(int((folder / name).read_text(encoding="ascii")))
            except (OSError, ValueError):  # "max", no file here
                pass
    # v1 writes "no limit" as about 2**63; a limit above the machine's memory is none either.
    return min((n for n in limits if n < psutil.virtual_memory().total), default=None)


def process_memory() -> tuple[int, bool]:
    """The bytes this process may hold, and whether a cgroup limits it (True: past the limit
    the kernel kills it) or they are the machine's memory (False). `course doctor` says it
    and training plans by it (training.memory.memory_budget)."""
    limit = cgroup_memory_limit()
    return (limit, True) if limit else (psutil.virtual_memory().total, False)


def cpu_cores() -> int:
    """The cores this process may run on: its affinity (taskset, a container's cpuset), at
    most a cgroup CPU quota rounded up (a pod limited to 1.5 CPUs runs 2 threads), not the
    host's 64 cores."""
    if hasattr(os, "sched_getaffinity"):
        cores = len(os.sched_getaffinity(0))
    else:
        cores = os.cpu_count() or 1
    quota = cgroup_cpu_limit()
    return max(1, min(cores, math.ceil(quota))) if quota else cores


def limit_threads_to_quota() -> None:
    """Before torch loads: OMP_NUM_THREADS, torch's default thread count, at most the cores a
    cgroup quota gives, unless it is set already. Torch counts the host's cores: 64 threads
    in a pod limited to 2 CPUs, each waiting for the quota."""
    if "OMP_NUM_THREADS" not in os.environ and cgroup_cpu_limit():
        os.environ["OMP_NUM_THREADS"] = str(cpu_cores())


# The processes `course grade` and `course experiment` run at once when no flag says; the test
# suite sets 1, and `course doctor` advises 1 on a machine short of memory (env.memory_line).
WORKERS_VARIABLE = "COURSE_WORKERS"


def workers_from_env(unset: str) -> int | None:
    """COURSE_WORKERS as a number of processes, or None when it is not set; `unset` says what
    the caller does then, for the error on a value that is not a number."""
    value = os.environ.get(WORKERS_VARIABLE, "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise CourseError(f"{WORKERS_VARIABLE}={value!r} is not a number of processes; set "
                          f"it to 1 or more, or unset it for {unset}.")
    return int(value)
