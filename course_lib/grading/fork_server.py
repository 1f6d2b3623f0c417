"""An optional speed trick for grading: each exercise starts from an already-imported Python.

A fresh Python per exercise spends most of its time importing torch and transformers (about
3 s of the 2-16 s an exercise takes on a busy 2-core machine), 26 times per learner. Here a
"zygote" process, started like a worker (the teacher's environment less its credentials, a
session of its own), imports them once: torch, transformers and the classes the checks load
(AutoModelForCausalLM, AutoTokenizer, the Llama model module), peft, and the course's checks
and helpers (`PRELOAD`). For each exercise it forks a child that grades it as a worker would
(`worker.grade_and_exit`: its own session, the notebook's folder, the same lowered limits,
the verdict written to a file, stdin /dev/null, its output into a pipe of its own that the
runner drains). The zygote never runs a learner's code, so every child starts from the same
pristine state, and what a child changes (a module global, a monkeypatched torch) dies with it.

Why fork is safe here: the zygote only imports; it runs no torch computation (a fork after an
OpenMP parallel region can deadlock the child) and has no thread of its own when it forks
(`preload` refuses one: `datasets`, and so trl's trainer, start pyarrow's allocator thread,
so they are imported by the exercises that need them). A zygote that cannot start, or a
system other than Linux (no fork on Windows; macOS untested), leaves grading to the
fresh-Python path, said in a note.

Why not `multiprocessing`'s forkserver: its server starts with the teacher's whole
environment, credentials included, writes to the teacher's terminal, forks children that
share its process group (a timeout could not kill what they start), and is one per program;
here each zygote gets the worker's environment and each child the worker's isolation.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from course_lib.grading import worker
from course_lib.grading.registry import load_checks

# What every exercise would import anyway; nothing here may start a thread.
PRELOAD = ("torch", "transformers", "transformers.models.llama.modeling_llama", "peft",
           "course_lib.loading", "course_lib.masking.labels", "course_lib.formatting.records",
           "course_lib.world.toy", "course_lib.grading.evaluate")
READY_SECONDS = 300.0  # the imports take 3-5 s on a busy machine; far longer means stuck
REPLY_SECONDS = 10.0  # from a kill to the zygote saying how its child ended


def why_not_here() -> str | None:
    """Why this system grades without a zygote, or None. Linux only: macOS can fork, but a
    child forked after system libraries load may crash there, and it was never tested."""
    if not (hasattr(os, "fork") and hasattr(socket, "send_fds") and hasattr(os, "setsid")):
        return f"no fork on {platform.system() or 'this system'}"
    if not sys.platform.startswith("linux"):
        return f"the fork server is used on Linux only, not on {platform.system()}"
    return None


class ZygoteLost(Exception):
    """The zygote ended or stopped answering while it graded an exercise."""


@dataclass
class Ended:
    """How one forked child ended: its exit code (negative: a signal), as Popen says it."""

    returncode: int | None
    timed_out: bool


class Zygote:
    """The runner's side of one zygote: start it, grade one exercise at a time through it."""

    def __init__(self, env: dict[str, str], log: Path):
        ours, theirs = socket.socketpair()
        with log.open("wb") as out:  # its own output (an import error), read if it fails
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "course_lib.grading.fork_server", str(theirs.fileno())],
                env=env, cwd=log.parent, stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True, pass_fds=(theirs.fileno(),))
        theirs.close()
        self.sock, self.log, self.buffer, self.child = ours, log, b"", None

    def wait_ready(self) -> str | None:
        """None once the imports are done, else why the zygote cannot serve."""
        try:
            return self._reply(READY_SECONDS).get("error")
        except (ZygoteLost, TimeoutError):
            said = self.log.read_text(errors="replace").strip().splitlines()
            return "it ended during its imports" + (f" ({said[-1][:200]})" if said else "")

    def run(self, request: dict, output_fd: int, timeout: float) -> Ended:
        """Fork a child for `request` (notebook, exercise, out), its output into
        `output_fd`; killed with what it started after `timeout` seconds."""
        try:
            socket.send_fds(self.sock, [json.dumps(request).encode() + b"\n"], [output_fd])
            self.child = self._reply(REPLY_SECONDS)["pid"]
            try:
                return Ended(self._reply(timeout)["returncode"], False)
            except TimeoutError:
                _kill_group(self.child)  # the learner's code and every process it started
            return Ended(self._reply(REPLY_SECONDS)["returncode"], True)
        except TimeoutError:
            raise ZygoteLost("it did not answer") from None
        except OSError as err:  # the socket broken: the zygote is gone
            raise ZygoteLost(str(err)) from None
        finally:
            self.child = None

    def _reply(self, seconds: float) -> dict:
        """The zygote's next line of JSON; TimeoutError after `seconds`, ZygoteLost at its end."""
        deadline = time.monotonic() + seconds
        while b"\n" not in self.buffer:
            self.sock.settimeout(max(deadline - time.monotonic(), 0.001))
            try:
                chunk = self.sock.recv(4096)
            except ConnectionError:  # reset by a dying zygote
                chunk = b""
            if not chunk:
                _kill_group(self.child)  # a child the zygote left alive must not run on
                raise ZygoteLost("it ended")
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return json.loads(line)

    def close(self) -> None:
        """End the zygote and the child it may be grading: nothing outlives grading."""
        self.sock.close()  # the zygote's loop ends at this
        if self.proc.returncode is not None:  # waited for: its pid may be another's now
            return
        _kill_group(self.child)
        _kill_group(self.proc.pid)  # not yet waited for: still its group's id
        self.proc.wait()


def _kill_group(pid: int | None) -> None:
    """SIGKILL a process group (a child's: it called setsid); gone already is fine."""
    if pid is not None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)


# The zygote's side: `python -m course_lib.grading.fork_server SOCKET_FD`.

def preload() -> None:
    """Import what the exercises import; refuse to serve if that started a thread."""
    for name in PRELOAD:
        importlib.import_module(name)
    import transformers

    # Lazy attributes: their modules load on first use, and the checks use them.
    transformers.AutoModelForCausalLM, transformers.AutoTokenizer  # noqa: B018
    load_checks()
    threads = _thread_count()
    if threads > 1:
        raise RuntimeError(f"the imports started {threads - 1} thread(s); forking is unsafe")


def _thread_count() -> int:
    """Threads of this process, native ones included where the system says (Linux)."""
    tasks = Path("/proc/self/task")
    return len(os.listdir(tasks)) if tasks.is_dir() else len(sys._current_frames())


def serve(sock: socket.socket) -> None:
    """Fork one child per request until the runner closes the socket."""
    while True:
        data, fds, _, _ = socket.recv_fds(sock, 65536, 1)
        while data and not data.endswith(b"\n"):  # the rest of a long request
            more = sock.recv(65536)
            data = data + more if more else b""
        if not data or not fds:
            return
        _fork_one(sock, json.loads(data), fds[0])


def _fork_one(sock: socket.socket, request: dict, output_fd: int) -> None:
    """Fork a child for one exercise, say its pid, wait for it, kill what it left, say how
    it ended."""
    sys.stdout.flush()  # nothing of ours buffered may be printed twice
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        _child(sock, request, output_fd)
    os.close(output_fd)  # the runner sees the end of output once the child's group ends
    _say(sock, {"pid": pid})
    # Waited on, not yet reaped: its pid (its group's id) cannot be reused while we kill.
    if hasattr(os, "waitid"):
        os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
    _kill_group(pid)  # what the learner's code started and left running, as a worker's end
    _, status = os.waitpid(pid, 0)
    _say(sock, {"returncode": os.waitstatus_to_exitcode(status)})


def _child(sock: socket.socket, request: dict, output_fd: int) -> None:
    """Become a worker for one exercise; never returns into the zygote's loop."""
    try:
        os.setsid()  # a group of its own: a timeout kills it and what it starts
        sock.close()  # the learner's code must neither read nor forge the zygote's replies
        os.dup2(output_fd, 1)  # its output to its own pipe, drained by the runner
        os.dup2(output_fd, 2)
        os.close(output_fd)
        notebook, exercise_id, out = request["notebook"], request["exercise"], request["out"]
        os.chdir(Path(notebook).parent)  # a cell opens files next to its notebook
        sys.argv = [worker.__file__, notebook, exercise_id, out]  # as a worker is started
        if "numpy" in sys.modules:  # its own random numbers, as a fresh Python would draw
            sys.modules["numpy"].random.seed()
        worker.grade_and_exit(Path(notebook), exercise_id, Path(out))
    except BaseException:  # noqa: B036 - said on its output, as a worker's crash would be
        traceback.print_exc()
        sys.stderr.flush()
    os._exit(1)


def _say(sock: socket.socket, message: dict) -> None:
    with contextlib.suppress(OSError):  # the runner gone: it kills us next
        sock.sendall(json.dumps(message).encode() + b"\n")


def main(argv: list[str]) -> None:
    sock = socket.socket(fileno=int(argv[0]))
    try:
        preload()
    except BaseException as err:  # noqa: B036 - any failure means: grade without us
        traceback.print_exc()
        _say(sock, {"error": f"{type(err).__name__}: {err}"[:300]})
        return
    _say(sock, {"ready": True})
    serve(sock)


if __name__ == "__main__":
    main(sys.argv[1:])
