"""A run's template as a chat template: transformers renders chat messages into the very
tokens the course trained on, for every template, with and without a BOS."""

import pytest
from jinja2.exceptions import TemplateError

from course_lib.errors import CourseError
from course_lib.formatting.chat import (
    CHAT_TEMPLATE,
    attach_chat_template,
    chat_template,
    to_messages,
)
from course_lib.formatting.templates import TEMPLATES, Template
from course_lib.loading import load_tokenizer
from course_lib.masking.labels import IGNORE_INDEX, build_example
from course_lib.world.stand_in import sentencepiece_tokenizer, stand_in_tokenizer
from course_lib.world.toy import make_toy_model

# A template of one's own: the input first, braces, quotes and a backslash in its text.
ODD = Template(name="odd", prompt='{{% raw %}} <<{instruction}>> }}}} \\ "q" \'s\' ->',
               prompt_with_input="[{input}] {instruction} =>", response_prefix="\n")
RECORDS = [{"instruction": "What is 2+2?", "input": "", "response": "4"},
           {"instruction": "Translate.", "input": "line one\nline two", "response": "hola"}]


@pytest.fixture(scope="module", params=["tiny", "smollm2-135m", "llama-2", "gemma"])
def tokenizer(request):
    """The tiny model's (it adds a BOS), a SmolLM2-shaped one (it adds none), and two
    SentencePiece-style ones: Llama-2's (a "▁" in front of a text, not after a special token)
    and Gemma's."""
    if request.param in ("llama-2", "gemma"):
        return sentencepiece_tokenizer(request.param)
    return load_tokenizer("tiny") if request.param == "tiny" else stand_in_tokenizer(
        request.param)


def as_chat(record):
    """The record as chat messages: its input lines as system messages."""
    system = [{"role": "system", "content": line} for line in record["input"].split("\n")
              if record["input"]]
    return system + [{"role": "user", "content": record["instruction"]},
                     {"role": "assistant", "content": record["response"]}]


@pytest.mark.parametrize("name", [*TEMPLATES, ODD], ids=[*TEMPLATES, "a template of one's own"])
@pytest.mark.parametrize("record", RECORDS, ids=["two parts", "with input"])
def test_chat_messages_become_the_tokens_and_labels_the_course_trained_on(
        tokenizer, name, record):
    attach_chat_template(tokenizer, chat_template(name))
    messages = as_chat(record)
    chat = tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True,
                                         return_assistant_tokens_mask=True)
    trained = build_example(record, tokenizer, template=name)
    assert chat["input_ids"] == trained["input_ids"]
    assert chat["assistant_masks"] == [int(x != IGNORE_INDEX) for x in trained["labels"]]
    # Asked without the answer (as pipeline asks), the prompt ends where the answer starts.
    asked = tokenizer.apply_chat_template(messages[:-1], add_generation_prompt=True,
                                          tokenize=True, return_dict=True)["input_ids"]
    first_trained = trained["labels"].index(next(x for x in trained["labels"]
                                                 if x != IGNORE_INDEX))
    assert asked == trained["input_ids"][:first_trained]


@pytest.mark.parametrize("messages", [
    [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"},
     {"role": "user", "content": "And?"}],
    [{"role": "user", "content": "Hi"}, {"role": "user", "content": "And?"}],
    [{"role": "assistant", "content": "Yo"}],
    [{"role": "system", "content": "Be brief."}],
], ids=["a conversation", "two questions", "no question", "only a system message"])
def test_what_the_model_never_learnt_is_refused_with_what_to_do(messages):
    tokenizer = attach_chat_template(load_tokenizer("tiny"), chat_template("qa"))
    with pytest.raises(TemplateError, match=r"^This model was tuned on one user message and its "
                       r"answer, in the qa template; ask one question at a time"):
        tokenizer.apply_chat_template(messages, tokenize=False)


@pytest.mark.parametrize("record", RECORDS, ids=["two parts", "with input"])
def test_lesson_05s_chat_template_renders_what_the_saved_one_renders(record):
    # CHAT_TEMPLATE is the short one lesson 05 prints; the two must not drift apart.
    tokenizer = load_tokenizer("tiny")
    lesson = tokenizer.apply_chat_template(to_messages(record)["messages"], tokenize=False,
                                           chat_template=CHAT_TEMPLATE)
    saved = tokenizer.apply_chat_template(as_chat(record), tokenize=False,
                                          chat_template=chat_template("one_line"))
    assert lesson == saved


def test_attach_chat_template_takes_a_tokenizer_and_a_chat_template():
    tokenizer = load_tokenizer("tiny")
    # The model or a name were "AttributeError: ... has no attribute 'bos_token_id'".
    with pytest.raises(CourseError, match=r"takes the tokenizer \(and then a chat template\), "
                                          r"not LlamaForCausalLM; "):
        attach_chat_template(make_toy_model(tokenizer))
    with pytest.raises(CourseError, match=r"not the string 'tiny'; e\.g\. attach_chat_templ"):
        attach_chat_template("tiny")
    # A course template's name became the chat template's text: every chat rendered as "qa".
    for given in ("qa", TEMPLATES["qa"]):
        with pytest.raises(CourseError, match=r"not the course template 'qa'; give "
                                              r"attach_chat_template\(tokenizer, chat_template"):
            attach_chat_template(tokenizer, given)
    assert tokenizer.chat_template != "qa"
