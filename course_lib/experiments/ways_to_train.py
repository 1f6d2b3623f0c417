"""Lesson 08's experiment: every weight, LoRA, or the recipe's frozen parts, each at its rate.

    >>> for arm in ways_to_train().arms:
    ...     print(f"{arm.learning_rate} LoRA={arm.lora} freeze={arm.freeze}")
    0.001 LoRA=False freeze=()
    0.005 LoRA=True freeze=()
    0.002 LoRA=False freeze=('embed_tokens', 'mlp', 'v_proj', 'o_proj')

Lesson 07's forgetting experiment gave every arm the same rate, and LoRA barely moved in 40
steps. Here each way of training gets a rate that suits it, and every arm names what it
trains (`freeze`, `lora`) instead of leaving it to the recipe. The rates are the embedded
model's; for a real model (tiny=False) each arm takes `train()`'s default for it (5e-5, 2e-4
with LoRA).
"""

from __future__ import annotations

from course_lib.errors import CourseError, shown
from course_lib.experiments.design import EXACT_MATCH, SECONDS, STATEMENTS, UNSEEN, Arm, Experiment
from course_lib.training.settings import RECIPE

# The embedded model's rates: a full fine-tune's usual 1e-3; LoRA's adapters start at zero and
# take larger steps (40 steps, seeds 0-2, held-out response accuracy 0.24-0.30 at 1e-3,
# 0.89-0.92 at 5e-3); the recipe's own rate for its frozen parts.
TINY_RATES = {"every weight": 1e-3, "LoRA": 5e-3,
              "the recipe's frozen parts": RECIPE.tiny_learning_rate}


def ways_to_train(tiny: bool = True) -> Experiment:
    """The three arms of lesson 08 (tiny: the embedded model's learning rates)."""
    if not isinstance(tiny, bool):  # ways_to_train("smollm2-135m") took the tiny rates, unsaid
        raise CourseError(f"tiny must be True or False (the embedded model's learning rates or "
                          f"train()'s defaults), not {shown(tiny)}; for a model by name: "
                          f"ways_to_train(tiny=MODEL == 'tiny').")
    # None for a real model: TINY_RATES were measured on the embedded model only.
    def rate(name: str) -> float | None:
        return TINY_RATES[name] if tiny else None

    return Experiment(
        name="ways-to-train",
        title="Every weight, LoRA, or the recipe's frozen parts",
        claim="LoRA learns less and forgets less than a full fine-tune (Biderman et al., 2024); "
              "freezing the parts that hold the facts keeps them.",
        hypothesis="Each at its own learning rate, LoRA and the recipe's frozen parts keep more "
                   "of the base model's statement-form knowledge than a full fine-tune, with "
                   "exact match within the full fine-tune's spread over seeds.",
        # freeze and lora said outright: left to the recipe, "every weight" would freeze some.
        arms=(Arm("every weight", freeze=(), lora=False, learning_rate=rate("every weight")),
              Arm("LoRA", "adapters r 8 on q_proj and v_proj, merged", freeze=(), lora=True,
                  learning_rate=rate("LoRA")),
              Arm("the recipe's frozen parts", "embeddings, MLPs, v_proj and o_proj frozen",
                  freeze=RECIPE.freeze, lora=False,
                  learning_rate=rate("the recipe's frozen parts"))),
        # Statement knowledge first: the claim is about forgetting; exact match about learning.
        metrics=(STATEMENTS, EXACT_MATCH, UNSEEN, SECONDS),
        note="Same data (the recipe's), steps and seeds; only what trains, and its rate, differ.",
    )
