"""benchmarks/gpu_sft.py runs its CPU smoke configuration and prints every figure it promises."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NAMES = [
    "device", "runner_tokens_per_s", "trl_tokens_per_s", "runner_vs_trl_tokens_ratio",
    "loss_max_rel_diff_vs_trl", "runner_mfu", "trl_mfu", "qwen_lora_fp16_peak_memory_gb",
    "qwen_lora_fp16_estimate_gb", "memory_smollm2_full_measured_over_estimate",
    "memory_smollm2_recipe_measured_over_estimate", "memory_qwen25_lora_measured_over_estimate",
]


@pytest.mark.slow
def test_the_smoke_configuration_prints_name_value_lines():
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu_sft.py"), "--smoke"],
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    values = dict(re.findall(r"^(\w+): (.+)$", done.stdout, flags=re.M))
    assert [n for n in NAMES if n not in values] == []
    assert float(values["runner_tokens_per_s"]) > 0 and float(values["trl_tokens_per_s"]) > 0
    # Same examples, seed and learning rate: on CPU (fp32) the curves agree to the 4 decimals
    # the Trainer logs.
    assert float(values["loss_max_rel_diff_vs_trl"]) < 1e-3
    assert 0 < float(values["qwen_lora_fp16_estimate_gb"]) < 5
