"""train()'s defaults are the measured recipe (settings.RECIPE): its data, steps, frozen parts."""

import inspect

import pytest
import torch
from transformers import AutoModelForCausalLM

from course_lib.formatting.records import embedded_sets
from course_lib.training.runner import train
from course_lib.training.settings import RECIPE
from course_lib.training.weights import default_freeze

QUIET = {"progress": False, "verbose": False, "num_threads": 1}


def test_train_defaults_are_the_recipe():
    defaults = {k: p.default for k, p in inspect.signature(train).parameters.items()}
    assert defaults["data"] == RECIPE.data and RECIPE.data in embedded_sets()
    assert (defaults["max_steps"], defaults["batch_size"]) == (RECIPE.max_steps,
                                                               RECIPE.batch_size)


def test_default_freeze_keeps_the_pieces_a_model_has(toy_model_dir):
    model = AutoModelForCausalLM.from_pretrained(toy_model_dir)
    assert default_freeze(model, lora=False) == RECIPE.freeze
    assert default_freeze(model, lora=True) == ()  # LoRA freezes the base model itself
    gpt2_like = torch.nn.Module()
    gpt2_like.mlp = torch.nn.Linear(2, 2)  # has an "mlp", no "embed_tokens"
    assert default_freeze(gpt2_like, lora=False) == ("mlp",)


@pytest.mark.slow
def test_by_default_the_recipes_frozen_parts_do_not_train(toy_model_dir, toy_tokenizer, records):
    model = AutoModelForCausalLM.from_pretrained(toy_model_dir)
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    run = train(model, records, None, tokenizer=toy_tokenizer, max_steps=2, **QUIET)
    changed = {name for name, p in model.named_parameters() if not torch.equal(before[name], p)}
    assert changed and not [n for n in changed if any(piece in n for piece in RECIPE.freeze)]
    assert run.history.learning_rate == RECIPE.tiny_learning_rate
    # Asked for every weight: every weight trains, at the tiny model's usual rate.
    run = train(model, records, None, tokenizer=toy_tokenizer, max_steps=2, freeze=(), **QUIET)
    assert not torch.equal(before["model.embed_tokens.weight"], model.model.embed_tokens.weight)
    assert run.history.learning_rate == 1e-3
