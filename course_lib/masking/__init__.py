"""Stage 2, masking: every token gets a label; -100 on the prompt means "not graded" (lesson 03).

Read first: labels.py (the response cut after the prompt's ids; padding by position), then
loss.py (the masked cross-entropy written out, where 0/0 shows).
Then the other ways to build labels, to see why they fail: template_search.py (the old
collator), standard_collator.py (`mlm=False`, the wrong one), trl_labels.py (TRL's own),
strategies.py (all side by side). audit.py finds the mistakes; view.py shows every token's
label in a notebook or a terminal. packing.py: several examples in one row, and how that can
break the labels and the attention (lesson 08).
"""

# The ways this stage builds labels, by name: `train(masking=...)` takes the first two; all
# four are on the menu of the mask explorer and of `course show-mask --masking`.
MASKINGS: dict[str, str] = {
    "none": "no masking: the standard collator, DataCollatorForLanguageModeling(mlm=False)",
    "response": "response only: the response cut after the prompt's ids (labels.py)",
    "template": "template search: look for '### Response:' ids (the old TRL collator)",
    "trl": "TRL 1.x SFTTrainer with completion_only_loss=True",
}
