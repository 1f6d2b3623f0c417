"""benchmarks/sharpness_aware: the SAM step leaves the weights where they were and the gradient
of the worst nearby point, w + rho * g / |g|."""

import torch

import benchmarks.sharpness_aware as sam


def _cubic_step(trainer, model, inputs, num_items_in_batch=None):
    """A stand-in for the Trainer's step: loss sum(w^3) / 3, so the gradient is w^2."""
    loss = (model.weight ** 3).sum() / 3
    loss.backward()
    return loss.detach()


def test_the_gradient_is_taken_at_the_climbed_point_and_the_weights_come_back(monkeypatch):
    monkeypatch.setattr(sam, "PLAIN_STEP", _cubic_step)
    model = torch.nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[1.0, 2.0]]))
    loss = sam.sam_step(0.5)(None, model, {})
    g = torch.tensor([[1.0, 4.0]])  # w^2 at w
    climbed = torch.tensor([[1.0, 2.0]]) + 0.5 * g / g.norm()
    assert torch.allclose(model.weight.grad, climbed ** 2)
    assert torch.equal(model.weight.detach(), torch.tensor([[1.0, 2.0]]))
    assert torch.isclose(loss, torch.tensor(3.0))  # the loss at w, as the Trainer logs it


def test_rho_zero_is_the_plain_step(monkeypatch):
    monkeypatch.setattr(sam, "PLAIN_STEP", _cubic_step)
    model = torch.nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[1.0, 2.0]]))
    sam.sam_step(0.0)(None, model, {})
    assert torch.equal(model.weight.grad, torch.tensor([[1.0, 4.0]]))
