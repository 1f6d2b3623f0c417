"""benchmarks/weight_averaging: the callback swaps in the average of the trained weights only."""

from types import SimpleNamespace

import torch

from benchmarks.weight_averaging import WeightAverage


def _steps(callback, model, values, frozen_values):
    for step, (value, frozen) in enumerate(zip(values, frozen_values, strict=True), start=1):
        with torch.no_grad():
            model.weight.fill_(value)
            model.bias.fill_(frozen)  # a frozen weight that (against the rule) moved
        callback.on_step_end(None, SimpleNamespace(global_step=step), None, model=model)
    callback.on_train_end(None, None, None, model=model)


def test_swa_from_a_step_gives_the_mean_of_the_later_weights_and_leaves_frozen_ones():
    model = torch.nn.Linear(2, 2)
    model.bias.requires_grad_(False)
    _steps(WeightAverage("swa", start=3), model, [1.0, 2.0, 3.0, 4.0, 8.0], [0, 0, 0, 0, 5.0])
    assert torch.allclose(model.weight, torch.full((2, 2), 5.0))  # (3 + 4 + 8) / 3: steps 3-5
    assert torch.equal(model.bias, torch.full((2,), 5.0))  # the model's own, not an average


def test_ema_weighs_the_last_steps_most():
    model = torch.nn.Linear(2, 2)
    _steps(WeightAverage("ema", decay=0.5), model, [0.0, 0.0, 4.0], [0, 0, 0])
    assert torch.allclose(model.weight, torch.full((2, 2), 2.0))  # 0.5 * 0 + 0.5 * 4
