import copy

import pytest
import torch

from course_lib.evaluation.base_model import greedy_generate
from course_lib.evaluation.generation import (
    AnswerTable,
    GenerationSettings,
    complete,
    generate,
    generate_batch,
)
from course_lib.world.stand_in import sentencepiece_tokenizer


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


def test_an_empty_answer_says_so_and_an_empty_input_stays_blank():
    # Lesson 04's unmasked model "leaves one answer empty": a blank cell read as missing.
    table = AnswerTable(["What is 2+2?", "Say hi"], {"masked": ["4", "hi"], "unmasked": ["", " "]},
                        ["4", ""], inputs=["", "x"])
    assert table.rows(shown=True) == [["What is 2+2?", "", "4", "(empty)", "4"],
                                      ["Say hi", "x", "hi", "(empty)", ""]]
    assert table.rows()[0][3] == ""  # the data as it is: only the view says "(empty)"
    assert str(table).count("(empty)") == 2 and table._repr_html_().count("(empty)") == 2


def _says(call, start: str) -> None:
    import pytest

    from course_lib.errors import CourseError

    with pytest.raises(CourseError) as err:
        call()
    assert str(err.value).startswith(start), str(err.value)


def test_wrong_arguments_are_one_sentence_before_generating(toy_tokenizer):
    from course_lib.evaluation.generation import answer_table, complete_batch

    tok, model = toy_tokenizer, ScriptedModel([toy_tokenizer.eos_token_id])
    # Were transformers' ValueError/TypeError in its own terms (`max_new_tokens` must be...).
    _says(lambda: complete(model, tok, "2 + 2 =", max_new_tokens=0),
          "max_new_tokens must be at least 1, not 0.")
    _says(lambda: complete(model, tok, "2 + 2 =", max_new_tokens="5"),
          "max_new_tokens must be a whole number, not the string '5'.")
    _says(lambda: generate(model, tok, "Hi", do_sample=True, temperature=0),
          "temperature must be a number above 0 when sampling, not 0;")
    # A misspelt keyword: "GenerationSettings.__init__() got an unexpected keyword argument".
    _says(lambda: complete(model, tok, "2 + 2 =", max_new_token=5),
          "max_new_token is not a generation setting (did you mean max_new_tokens?);")
    # One string where a list goes was answered letter by letter; a list where one string
    # goes was answered for its first text only, or formatted as "['a', 'b']".
    _says(lambda: generate_batch(model, tok, "What is 2+2?"),
          "instructions must be a list of strings; for one, call generate(model, tokenizer, ")
    _says(lambda: complete(model, tok, ["a", "b"]),
          "text must be one string, not a list; for several, call complete_batch(")
    _says(lambda: generate(model, tok, ["a", "b"]),
          "instruction must be one string, not a list; for several, call generate_batch(")
    # zip() argument 2 is shorter than argument 1.
    _says(lambda: generate_batch(model, tok, ["a", "b"], ["x"]),
          "inputs has 1 entry for 2 instructions; give one per instruction ('' for none).")
    # AttributeErrors from inside: swapped or a name for the tokenizer.
    _says(lambda: complete_batch(tok, model, ["a"]),
          "Give the model, then its tokenizer: complete_batch(model, tokenizer, texts);")
    _says(lambda: complete(tok, model, "a"),
          "Give the model, then its tokenizer: complete(model, tokenizer, text);")
    _says(lambda: answer_table(["a"], {"base": model}, "tiny"),
          "Give the model, then its tokenizer: answer_table(")


def test_empty_lists_and_answer_table_mistakes(toy_tokenizer):
    from course_lib.evaluation.generation import answer_table, complete_batch

    tok, model = toy_tokenizer, ScriptedModel([toy_tokenizer.eos_token_id])
    # An IndexError from inside the tokenizer: nothing to answer is no answers.
    assert generate_batch(model, tok, []) == [] and complete_batch(model, tok, []) == []
    _says(lambda: answer_table([], {"base": model}, tok), "answer_table needs at least one")
    # 'list' object has no attribute 'items'.
    _says(lambda: answer_table(["a"], [model], tok),
          "models must be a dict of column titles and models, e.g. {'base': model}")
    # A typo in raw= was ignored (the column got the template), and raw="base" was a substring
    # test ("b" in "base").
    _says(lambda: answer_table(["a"], {"base": model}, tok, raw=["bsae"]),
          "raw names 'bsae', which is not a column of models; use one of: 'base'.")
    table = answer_table(["a"], {"base": model, "b": model}, tok, raw="base")
    assert model.seen is not None and set(table.answers) == {"base", "b"}
    # A reference list of the wrong length failed only when the table was printed.
    _says(lambda: answer_table(["a", "b"], {"base": model}, tok, expected=["x"]),
          "expected has 1 entry for 2 prompts; give one reference per prompt.")


def test_a_prompt_past_the_context_is_cut_from_the_left_leaving_room_for_the_answer(
        toy_tokenizer):
    tok = toy_tokenizer
    model = ScriptedModel([tok.eos_token_id])
    model.config = type("Config", (), {"max_position_embeddings": 64})()
    generate_batch(model, tok, ["Add " + "one and " * 200 + "one.", "What is 2+2?"],
                   settings=GenerationSettings(max_new_tokens=16))
    ids = model.seen["input_ids"]
    assert ids.shape[1] == 64 - 16  # room for 16 new tokens within the 64 positions
    assert tok.decode(ids[0]).endswith("one. ### Response:")  # the end kept, the start cut
    assert tok.truncation_side == "right"  # the tokenizer is left as it was


def test_a_tokenizer_without_a_pad_token_answers_and_is_left_without_one(toy_tokenizer):
    # Was transformers' ValueError "Asking to pad but the tokenizer does not have a padding
    # token" from evaluate() and generate(), where train() pads with EOS.
    tok = copy.deepcopy(toy_tokenizer)
    tok.pad_token = None
    model = ScriptedModel([tok.eos_token_id])
    assert generate_batch(model, tok, ["Hi", "What is the capital of france?"]) == ["", ""]
    assert model.seen["input_ids"][0, 0] == tok.eos_token_id  # padded on the left with EOS
    assert model.seen["attention_mask"][0, 0] == 0  # and masked
    assert tok.pad_token is None  # the tokenizer is left as it was


def test_inputs_and_references_in_other_containers_give_the_list_result(toy_tokenizer):
    # A generator of inputs or references had no len(); a Series or an array raised "truth
    # value is ambiguous"; prompts_for("What is 2+2?") made one prompt per letter.
    import numpy as np
    import pandas as pd
    import pytest

    from course_lib.errors import CourseError
    from course_lib.evaluation.generation import answer_table, prompts_for

    tok, model = toy_tokenizer, ScriptedModel([toy_tokenizer.eos_token_id])
    questions, inputs, refs = ["Hi", "Add them", "Bye"], ["", "2 and 3", ""], ["a", "5", "b"]
    want = str(answer_table(questions, {"m": model}, tok, refs, inputs=inputs))
    assert "2 and 3" in want and "exact match" in want
    for make in (lambda v: (x for x in v), lambda v: pd.Series(v, index=[5, 4, 3]), np.array,
                 tuple):
        assert str(answer_table(make(questions), {"m": model}, tok, make(refs),
                                inputs=make(inputs))) == want
        assert prompts_for(make(questions), make(inputs)) == prompts_for(questions, inputs)
        assert generate_batch(model, tok, make(questions), make(inputs)) == generate_batch(
            model, tok, questions, inputs)
    with pytest.raises(CourseError, match=r"^instructions must be a list of strings; for one, "):
        prompts_for("What is 2+2?")
    with pytest.raises(CourseError, match=r"^expected must be a list of strings, one per "):
        answer_table(["a"], {"m": model}, tok, "x")


# A SentencePiece-style tokenizer (Llama-2's set-up): every text starts with <s>, and a token
# decoded alone loses the space in front ("▁Paris" is "Paris").
@pytest.fixture(scope="module")
def llama_tok():
    return sentencepiece_tokenizer("llama-2")


def _ids(tok, text):
    return tok(text, add_special_tokens=False)["input_ids"]


@pytest.mark.parametrize("template, written", [("one_line", " 4"), ("alpaca", "4")])
def test_a_llama_answer_stops_at_eos_without_the_prompt_or_a_space(llama_tok, template, written):
    tok = llama_tok
    model = ScriptedModel(_ids(tok, written) + [tok.eos_token_id] + _ids(tok, " ### Instruction"))
    assert generate(model, tok, "What is 2+2?", template=template) == "4"
    assert model.seen["input_ids"][0, 0] == tok.bos_token_id  # asked as trained: <s> first


def test_a_llama_continuation_keeps_the_space_that_follows_the_text(llama_tok):
    model = ScriptedModel(_ids(llama_tok, " Paris is") + [llama_tok.eos_token_id])
    assert complete(model, llama_tok, "The capital of France is") == " Paris is"


def test_the_base_model_benchmark_keeps_a_llama_continuation_s_space(llama_tok):
    # benchmarks/base_model_behaviour's greedy_generate decoded the new ids alone: 'Paris is'.
    model = ScriptedModel(_ids(llama_tok, " Paris is") + [llama_tok.eos_token_id])
    assert greedy_generate(model, llama_tok, "The capital of France is") == (" Paris is", True)
