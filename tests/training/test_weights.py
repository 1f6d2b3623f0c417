"""Which weights train: LoRA's adapters (merged back into a plain model), the parts freeze=
names, and the refusals that come before the model loads."""

import math

import pytest
import torch
from transformers import AutoModelForCausalLM

from course_lib.errors import CourseError
from course_lib.training.runner import train

pytestmark = pytest.mark.slow
# One thread: as fast for the toy model, and immune to other programs keeping cores busy.
QUIET = {"progress": False, "verbose": False, "num_threads": 1}


def test_lora_trains_adapters_and_returns_a_plain_model(toy_model_dir, records, eval_records):
    base = AutoModelForCausalLM.from_pretrained(toy_model_dir)
    result = train(
        toy_model_dir, records, eval_records, lora=True, max_steps=3, eval_every=3, **QUIET
    )
    assert result.history.lora
    assert result.history.freeze == []  # LoRA's base weights stay as they are, not "frozen"
    assert type(result.model).__name__ == "LlamaForCausalLM"  # adapters merged in
    q_before = base.model.layers[0].self_attn.q_proj.weight
    q_after = result.model.model.layers[0].self_attn.q_proj.weight
    assert not torch.equal(q_before, q_after)  # the merged adapter changed q_proj
    k_before = base.model.layers[0].self_attn.k_proj.weight
    assert torch.equal(k_before, result.model.model.layers[0].self_attn.k_proj.weight)


def test_a_lora_run_gives_back_a_model_that_trains_whole(toy_model_dir, records):
    tuned = train(toy_model_dir, records, None, lora=True, max_steps=2, **QUIET)
    assert all(p.requires_grad for p in tuned.model.parameters())  # peft had turned them off
    # Fine-tuned further as a whole: was "element 0 of tensors does not require grad".
    again = train(tuned.model, records, None, tokenizer=tuned.tokenizer, lora=False, freeze=(),
                  max_steps=1, **QUIET)
    assert math.isfinite(again.history.train_loss[0])


def test_freeze_trains_only_the_other_weights(toy_model_dir, toy_tokenizer, records):
    model = AutoModelForCausalLM.from_pretrained(toy_model_dir)
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    train(model, records, None, tokenizer=toy_tokenizer, freeze=("embed_tokens", "mlp"),
          max_steps=3, **QUIET)
    changed = {name for name, p in model.named_parameters() if not torch.equal(before[name], p)}
    assert changed, "nothing trained"
    assert not any("mlp" in name or "embed_tokens" in name for name in changed)
    assert any("self_attn" in name for name in changed)
    # Frozen for that run only: the model the learner keeps trains whole next time.
    assert all(p.requires_grad for p in model.parameters())


def test_freeze_that_matches_nothing_names_a_real_parameter(toy_model_dir, records):
    with pytest.raises(CourseError, match="matches no trainable .*embed_tokens, self_attn"):
        train(toy_model_dir, records, None, freeze=("feed_forward",), max_steps=1, **QUIET)


def test_freeze_names_each_piece_that_matches_nothing(toy_model_dir, records):
    # "mlp" matched, so the run used to train and record "embeddings" as frozen.
    with pytest.raises(CourseError) as err:
        train(toy_model_dir, records, None, freeze=["mlp", "embeddings"], max_steps=1, **QUIET)
    assert str(err.value).startswith("'embeddings' of freeze=['mlp', 'embeddings'] matches no "
                                     "trainable parameter of this model; use pieces of")
    assert err.value.cli.startswith("'embeddings' of --freeze mlp embeddings matches no")
    # Every piece of a name, not the first eight: the MLP's parts and the norms too.
    assert all(part in str(err.value) for part in ("up_proj", "down_proj", "input_layernorm",
                                                   "post_attention_layernorm", "norm."))


def test_a_freeze_of_every_weight_is_refused_before_training(toy_model_dir, records, tmp_path):
    # "model" is part of every name: the first backward() failed, "element 0 of tensors does
    # not require grad", after the run's folder was made.
    with pytest.raises(CourseError) as err:
        train(toy_model_dir, records, None, freeze="model", max_steps=1, out_dir=tmp_path / "run",
              **QUIET)
    assert str(err.value) == (
        "freeze=['model'] freezes every weight of this model, which leaves none to train; freeze "
        "fewer parts (the recipe freezes embed_tokens, mlp, v_proj, o_proj).")
    assert err.value.cli.startswith("--freeze model freezes every weight")
    assert not (tmp_path / "run").exists() or not any((tmp_path / "run").iterdir())


def test_freeze_given_as_one_string_is_one_piece(toy_model_dir, toy_tokenizer, records):
    # "mlp" was read letter by letter: every weight frozen, then a crash inside torch.
    model = AutoModelForCausalLM.from_pretrained(toy_model_dir)
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    result = train(model, records, None, tokenizer=toy_tokenizer, freeze="mlp", max_steps=1,
                   **QUIET)
    changed = {name for name, p in model.named_parameters() if not torch.equal(before[name], p)}
    assert result.history.freeze == ["mlp"]
    assert changed and not any("mlp" in name for name in changed)


def test_freeze_given_as_a_generator_freezes_its_pieces(toy_model_dir, toy_tokenizer, records):
    # A type check read the generator first: the run then froze nothing and said freeze=[].
    model = AutoModelForCausalLM.from_pretrained(toy_model_dir)
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    result = train(model, records, None, tokenizer=toy_tokenizer, max_steps=1, **QUIET,
                   freeze=(piece for piece in ["embed_tokens", "mlp"]))
    changed = {name for name, p in model.named_parameters() if not torch.equal(before[name], p)}
    assert result.history.freeze == ["embed_tokens", "mlp"]
    assert changed and not any("mlp" in name or "embed_tokens" in name for name in changed)


def test_freeze_given_as_a_dict_is_refused():
    # Its keys were frozen, whatever the values said ({"mlp": False} froze the MLPs).
    with pytest.raises(CourseError) as err:
        train("no-such-model-is-loaded", freeze={"mlp": False})
    assert str(err.value) == ("freeze must be pieces of parameter names such as ['mlp'], not "
                              "{'mlp': False}.")


def test_freeze_with_lora_is_refused_before_the_model_loads():
    # LoRA keeps every base weight as it is: the freeze changed nothing, yet was recorded.
    with pytest.raises(CourseError) as err:
        train("no-such-model-is-loaded", lora=True, freeze=["mlp"])
    assert str(err.value) == (
        "LoRA trains only its adapters and keeps every base weight as it is, so freeze=['mlp'] "
        "with lora=True would change nothing; leave out the freeze, or train without LoRA to "
        "freeze parts of a full fine-tune.")
    assert "so --freeze mlp with --lora would change nothing" in err.value.cli


def test_parts_the_caller_froze_are_kept_and_the_recipe_freezes_the_rest(toy_model_dir,
                                                                         toy_tokenizer, records):
    """The recipe's frozen parts are those the model still trains: a model whose embeddings
    the learner froze was refused ("'embed_tokens' ... matches no trainable parameter") for a
    freeze it never passed."""
    model = AutoModelForCausalLM.from_pretrained(toy_model_dir)
    model.model.embed_tokens.weight.requires_grad_(False)
    result = train(model, records[:32], None, tokenizer=toy_tokenizer, max_steps=1, **QUIET)
    assert "embed_tokens" not in result.history.freeze
    assert "mlp" in result.history.freeze  # the rest of the recipe still applies
    assert not model.model.embed_tokens.weight.requires_grad  # the learner's own, kept


def test_a_model_that_carries_adapters_already_is_refused_in_one_sentence(toy_model_dir,
                                                                          toy_tokenizer, records):
    # `model = get_peft_model(model, settings)` (a cell run twice wraps it twice), then
    # train(model, ...): lora=True failed inside peft ("property 'peft_config' of
    # 'PeftModelForCausalLM' object has no deleter"), the recipe at the first backward().
    from peft import get_peft_model

    from course_lib.training.settings import lora_settings

    base = AutoModelForCausalLM.from_pretrained(toy_model_dir)
    wrapped = get_peft_model(base, lora_settings())
    for model in (wrapped, base):  # peft put the adapters into the model it was given too
        for lora, why in ((True, "lora=True would add a second set"),
                          (None, "the recipe's frozen parts are those of a model without")):
            with pytest.raises(CourseError) as err:
                train(model, records, None, tokenizer=toy_tokenizer, lora=lora, max_steps=1,
                      **QUIET)
            assert str(err.value).startswith(
                f"This model carries LoRA adapters already (get_peft_model adds them to the "
                f"model it is given too), and {why}")
            assert str(err.value).endswith("or train these adapters as they are with "
                                           "lora=False, freeze=().")
    # As the sentence says: its adapters train, and nothing else.
    before = {name: p.detach().clone() for name, p in wrapped.named_parameters()}
    train(wrapped, records, None, tokenizer=toy_tokenizer, lora=False, freeze=(), max_steps=2,
          **QUIET)
    changed = {name for name, p in wrapped.named_parameters() if not torch.equal(before[name], p)}
    assert changed and all("lora_" in name for name in changed)
    # A model whose adapters train() merged is a plain model again: LoRA once more is fine.
    tuned = train(toy_model_dir, records, None, lora=True, max_steps=1, **QUIET)
    again = train(tuned.model, records, None, tokenizer=tuned.tokenizer, lora=True, max_steps=1,
                  **QUIET)
    assert math.isfinite(again.history.train_loss[0])
