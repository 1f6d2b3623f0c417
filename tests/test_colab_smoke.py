"""colab.smoke_check, the Colab figures, runs the whole path on a SmolLM2-shaped stand-in."""

import re

import pytest

from course_lib.colab import smoke_check
from course_lib.training.settings import RECIPE
from course_lib.world.stand_in import save_stand_in


@pytest.mark.slow
def test_smoke_check_prints_every_figure(tmp_path, capsys):
    folder = save_stand_in("smollm2-135m", tmp_path / "smollm2", num_hidden_layers=2)
    figures = smoke_check(str(folder), steps=2, batch_size=4, limit=12)
    printed = dict(re.findall(r"^(\w+): (.+)$", capsys.readouterr().out, flags=re.M))
    assert set(figures) <= set(printed)
    assert figures["steps"] == 2 and figures["fast_path"] == "on"
    assert figures["frozen"] == " ".join(RECIPE.freeze)  # the course's recipe, as train() runs it
    assert re.fullmatch(r"\d+/12 = .+ -> \d+/12 = .+", printed["exact_match"])
    assert figures["peak_memory_gb"] == "n/a (CPU)" and figures["estimate_gb"] > 0
