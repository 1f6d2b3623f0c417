"""How many CPU threads should a lesson's training run use? Quiet and contended, measured.

    python benchmarks/threads.py [--repeats 5] [--steps 40] [--configs active:1 passive:2]

Each trial is a fresh process running lesson 04's run: `train("tiny", "course:train",
"course:eval", max_steps=40, eval_every=10)` with `num_threads=N`; the time of `train()`'s
training loop (history.wall_time_s) is printed. Conditions:

  policy  'active': OpenMP's default (idle threads spin, as in a Jupyter kernel that did not
          set OMP_WAIT_POLICY); 'passive': OMP_WAIT_POLICY=PASSIVE (the CLI sets it).
  load    'quiet': nothing else of ours runs; 'contended': one other torch process computes
          matrix products in a loop with torch's default thread count, the whole time.

The configurations run interleaved, in a rotating order, within each repeat. Prints one
line per condition: the median wall time over --repeats, min and max, and the range of the
1-minute load average seen before each trial (the machine may be shared with others).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import os, sys
sys.path.insert(0, {root!r})
from course_lib.training.runner import train
h = train("tiny", "course:train", "course:eval", max_steps={steps}, eval_every=10,
          num_threads={threads}, progress=False, verbose=False).history
print(h.wall_time_s)
"""

CONTENDER = """
import torch
a = torch.randn(384, 384)
while True:
    a = torch.tanh(a @ a)
"""


def run_trial(threads: int, policy: str, steps: int) -> float:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    env.pop("OMP_NUM_THREADS", None)  # the run sets its own count; the default must not cap it
    env.pop("OMP_WAIT_POLICY", None)
    if policy == "passive":
        env["OMP_WAIT_POLICY"] = "PASSIVE"
    code = CHILD.format(root=str(ROOT), steps=steps, threads=threads)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True)
    return float(out.stdout.strip().splitlines()[-1])


def start_contender() -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY")}
    proc = subprocess.Popen([sys.executable, "-c", CONTENDER], env=env)
    time.sleep(3)  # let it import torch and start computing
    return proc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--configs", nargs="+", default=["active:1", "passive:1", "passive:2"],
                        help="policy:threads pairs, run interleaved in each repeat")
    parser.add_argument("--loads", nargs="+", default=["quiet", "contended"])
    args = parser.parse_args()
    configs = [(c.split(":")[0], int(c.split(":")[1])) for c in args.configs]
    print(f"cores: {len(os.sched_getaffinity(0))}, python: {sys.executable}")
    for load in args.loads:
        contender = start_contender() if load == "contended" else None
        times: dict[tuple[str, int], list[float]] = {c: [] for c in configs}
        loads = []
        try:
            for repeat in range(args.repeats):
                # Interleaved, in a rotating order: drift in the machine's load hits all alike.
                shift = repeat % len(configs)
                for policy, threads in configs[shift:] + configs[:shift]:
                    loads.append(os.getloadavg()[0])
                    times[(policy, threads)].append(run_trial(threads, policy, args.steps))
        finally:
            if contender is not None:
                contender.kill()
                contender.wait()
        for (policy, threads), ts in times.items():
            print(f"load={load:<9} policy={policy:<7} threads={threads}  median "
                  f"{statistics.median(ts):6.2f} s  (min {min(ts):.2f}, max {max(ts):.2f}, "
                  f"n={len(ts)}; load average {min(loads):.1f}-{max(loads):.1f})", flush=True)


if __name__ == "__main__":
    main()
