"""Every way of labelling (strategies.label_examples) reads the same text from a record."""

import pytest

from course_lib.masking.strategies import label_examples


@pytest.mark.parametrize("masking", ["none", "template", "trl", "response"])
def test_every_masking_reads_a_text_row_as_written(toy_tokenizer, masking):
    """A {"text"} row trains as it is written (its own template), whatever the maskings
    differ in; 'none', 'template' and 'trl' rewrote it in the template asked for, so on mixed
    data the maskings disagreed on the text itself, not only on the labels."""
    row = {"text": "Q: What is 2+2? A: 4"}
    [example] = label_examples([row], toy_tokenizer, masking, template="one_line")
    text = toy_tokenizer.decode(example["input_ids"], skip_special_tokens=True)
    assert text.startswith("Q: What is 2+2?") and "### Instruction" not in text
