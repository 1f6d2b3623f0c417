import torch

from course_lib.evaluation.generation import AnswerTable, complete, generate, generate_batch


class ScriptedModel(torch.nn.Module):
    """Pretends to generate: appends the same scripted tokens to every prompt."""

    def __init__(self, new_tokens: list[int]):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(1))
        self.new_tokens = new_tokens
        self.seen = None

    def generate(self, input_ids, attention_mask, **kwargs):
        self.seen = {"input_ids": input_ids, "attention_mask": attention_mask, **kwargs}
        tail = torch.tensor([self.new_tokens] * input_ids.shape[0])
        return torch.cat([input_ids, tail], dim=1)


def test_response_only_cut_at_eos(toy_tokenizer):
    tok = toy_tokenizer
    four = tok(" 4", add_special_tokens=False)["input_ids"]
    junk = tok(" ### Instruction", add_special_tokens=False)["input_ids"]
    model = ScriptedModel(four + [tok.eos_token_id] + junk)
    assert generate(model, tok, "What is 2+2?") == "4"
    assert model.seen["eos_token_id"] == tok.eos_token_id
    assert model.seen["do_sample"] is False
    prompt = tok.decode(model.seen["input_ids"][0], skip_special_tokens=True)
    assert prompt == "### Instruction: What is 2+2? ### Response:"


def test_batch_is_left_padded_and_raw_completion_has_no_template(toy_tokenizer):
    tok = toy_tokenizer
    model = ScriptedModel([tok.eos_token_id])
    answers = generate_batch(model, tok, ["Hi", "What is the capital of france?"])
    assert answers == ["", ""]
    assert model.seen["attention_mask"][0, 0] == 0  # the shorter prompt is padded on the left
    assert tok.padding_side == "right"  # and the tokenizer is left as it was
    complete(model, tok, "What is 2+2?")
    assert "###" not in tok.decode(model.seen["input_ids"][0])


def test_answer_table_text_html_and_exact_match():
    table = AnswerTable(
        ["What is 2+2?", "Say <hi>"],
        {"before": ["2+2=", "hi"], "after": ["4", "<hi>"]},
        ["4", "<hi>"],
    )
    assert table.exact_match() == {"before": 0.0, "after": 1.0}
    text = table.to_text()
    assert text.splitlines()[0].split("|")[1].strip() == "before"
    assert "exact match: before 0%, after 100%" in text
    html = table._repr_html_()
    assert "&lt;hi&gt;" in html and "<hi>" not in html  # answers are escaped
