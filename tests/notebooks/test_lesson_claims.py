"""The numbers and behaviours the lessons state in prose, re-measured with the committed model.

Each test quotes the sentence it checks. When a rebuild of the embedded model changes one of
them, the test fails and the lesson's prose must change with it.
"""

import copy
import dataclasses
import inspect
import json
import math
import statistics
import time
import warnings
from collections import Counter
from pathlib import Path

import nbformat
import pytest
import torch
import torch.nn.functional as F
from datasets import Dataset
from transformers import DataCollatorForLanguageModeling, Trainer, TrainingArguments, pipeline
from transformers.trainer_callback import PrinterCallback
from transformers.utils import logging as hf_logging
from trl import SFTConfig, SFTTrainer
from trl.trainer.sft_trainer import DataCollatorForLanguageModeling as TrlCollator

from course_lib.display import captured_logs, token_texts
from course_lib.env import choose_device
from course_lib.errors import CourseError
from course_lib.evaluation.compare import (
    held_out_questions,
    instruction_share,
    unprompted_samples,
)
from course_lib.evaluation.eval_data import eval_rows
from course_lib.evaluation.generation import (
    answer_table,
    complete,
    generate,
    generate_ids,
    prompts_for,
    settings_from,
)
from course_lib.evaluation.inspect_model import next_token_probabilities
from course_lib.evaluation.metrics import corpus_bleu, metric_pitfalls
from course_lib.evaluation.report import EvalOptions, evaluate, sampling_consistency
from course_lib.evaluation.review import (
    disagreements,
    metric_agreement,
    review_items,
    rubric_ratings,
)
from course_lib.experiments.design import EXACT_MATCH, Arm, Experiment
from course_lib.experiments.runner import run_experiment
from course_lib.formatting.chat import (
    CHAT_TEMPLATE,
    CHAT_TEMPLATE_WITHOUT_MARKERS,
    attach_chat_template,
    to_messages,
)
from course_lib.formatting.records import load_raw_rows, load_records
from course_lib.formatting.schemas import detect_schema
from course_lib.formatting.stats import (
    check_consistent_templates,
    data_mix,
    find_poor_rows,
    instruction_style,
    template_counts,
)
from course_lib.formatting.templates import (
    ONE_LINE,
    format_example,
    format_text,
    to_prompt_completion,
)
from course_lib.loading import load_model_and_tokenizer
from course_lib.masking.audit import audit_labels
from course_lib.masking.labels import IGNORE_INDEX, build_example, pad_batch, prepare_examples
from course_lib.masking.loss import masked_cross_entropy, per_token_losses
from course_lib.masking.standard_collator import mlm_collator_batch
from course_lib.masking.strategies import label_examples
from course_lib.masking.template_search import (
    CompletionOnlyCollator,
    explain_template_mismatch,
    template_ids_for,
    tokenize_texts,
)
from course_lib.masking.trl_labels import chat_example, checkpointing_off, trl_prepare
from course_lib.masking.view import show_mask
from course_lib.training.fast_loss import kept_loss
from course_lib.training.held_out import response_metrics
from course_lib.training.history import RunHistory
from course_lib.training.loop_by_hand import train_by_hand
from course_lib.training.run_cache import trained_once
from course_lib.training.runner import TrainResult, save_run, train
from course_lib.training.settings import RECIPE, default_learning_rate
from course_lib.training.with_trl import compare_labels, trainer_examples
from course_lib.world.eval_styles import UNSEEN
from course_lib.world.paraphrases import paraphrase_pairs
from course_lib.world.phrasings import ARITHMETIC
from course_lib.world.tuning_data import train_with_facts

# Where the headless lessons keep trained_once's runs (lesson 06): read, not trained again.
LESSON_CACHE = Path(__file__).resolve().parents[2] / "lessons" / "runs" / "cache"
LESSON_02 = LESSON_CACHE.parents[1] / "02_instruction_data.ipynb"
LESSON_04 = LESSON_CACHE.parents[1] / "04_masked_vs_unmasked.ipynb"
LESSON_05 = LESSON_CACHE.parents[1] / "05_sft_with_trl.ipynb"
LESSON_06 = LESSON_CACHE.parents[1] / "06_did_it_work.ipynb"


def prose(path: Path) -> str:
    """A lesson's markdown cells as one text, every run of whitespace one space: a test quotes
    a sentence without the notebook's line breaks."""
    cells = nbformat.read(path, as_version=4).cells
    return " ".join(" ".join(c.source.split()) for c in cells if c.cell_type == "markdown")


@pytest.fixture(scope="module")
def tiny():
    return load_model_and_tokenizer("tiny")


def test_l01_four_takes_almost_all_the_probability(tiny):
    """L01: "With the course's tiny model, `·4` takes almost all the probability (0.99)"."""
    top = next_token_probabilities(*tiny, "2 + 2 =", k=3)
    assert top.tokens[0] == "·4" and round(top.probs[0], 2) == 0.99


def test_l01_a_question_is_followed_by_a_newline_or_another_question(tiny):
    """L01: "no number among the likely tokens at all ... a newline (`↵`) or ... `·What`"."""
    top = next_token_probabilities(*tiny, "What is 2+2?", k=8)
    assert top.tokens[:2] == ["↵", "·What"] and sum(top.probs[:2]) > 0.95
    assert not any(t.strip("·").isdigit() for t in top.tokens)


def test_l01_the_chat_picture_is_the_models_own_continuation(tiny):
    """L01: "Read as a chat, it goes: ... AI: "What is 3+3? What is 3+4? What is 4+5? ..."";
    and the EOS token "`</s>`, which the charts above give almost no probability"."""
    model, tok = tiny
    lesson = prose(LESSON_CACHE.parents[1] / "01_base_model_continues.ipynb")
    questions = "What is 3+3? What is 3+4? What is 4+5?"
    continued = complete(model, tok, "What is 2+2?", max_new_tokens=30)
    assert f'AI: "{questions} ..."' in lesson
    assert " ".join(continued.split()).startswith(questions), continued
    for text in ("What is 2+2?", "What is the capital of France?"):
        top = next_token_probabilities(model, tok, text, k=6)
        assert "</s>" in top.tokens and top.probs[top.tokens.index("</s>")] < 0.01, top


def test_l01_statements_are_completed_with_the_right_word(tiny):
    """L01: "The model completes every statement with the right word (`4`, `Paris`, ...)"."""
    expected = {"2 + 2 =": " 4", "The capital of France is": " Paris", "A cow says": " moo",
                "The opposite of hot is": " cold", 'In Spanish, "hello" is': ' "hola"'}
    for text, start in expected.items():
        assert complete(*tiny, text, max_new_tokens=6).startswith(start), text


def test_l01_tiny_has_about_a_million_parameters(tiny):
    """L01: "`tiny` is the course's own base model: about a million parameters"."""
    model, _ = tiny
    assert round(model.num_parameters() / 1e6) == 1


def test_l01_the_vocabulary_stores_the_space_as_g(tiny):
    """L01: "In the tokenizer's own vocabulary, `tokenizer.convert_ids_to_tokens(ids)`, the same
    space is stored as `Ġ` ...: `·is` is the vocabulary entry `Ġis`"."""
    _, tok = tiny
    ids = tok("What is 2+2?")["input_ids"]
    shown, stored = token_texts(tok, ids), tok.convert_ids_to_tokens(ids)
    assert stored[shown.index("·is")] == "Ġis"


def test_l01_after_a_statement_the_candidates_are_numbers(tiny):
    """L01: "After `2 + 2 =` the candidates are numbers"."""
    top = next_token_probabilities(*tiny, "2 + 2 =", k=8)
    assert all(t.removeprefix("·").isdigit() for t in top.tokens), top.tokens


def test_l01_raw_and_templated_instructions_are_continued_not_answered(tiny):
    """L01: "With the raw question it writes more questions. With the template ... it continues
    with *another* `### Instruction:` instead of a response"."""
    model, tok = tiny
    instructions = ["What is 2+2?", "What is the capital of France?",
                    "Translate this to Spanish: Hello world", "What does a cow say?",
                    "Name the opposite of hot."]
    table = answer_table(instructions, {"raw text": model, "one-line template": model}, tok,
                         raw=["raw text"], max_new_tokens=24)
    for instruction, raw in zip(instructions, table.answers["raw text"], strict=True):
        # another instruction of the same kind: a question after a question
        assert raw.split()[0] == instruction.split()[0], raw
        if instruction.endswith("?"):
            assert raw.splitlines()[0].endswith("?"), raw
    assert all(line.startswith("What is") for line in table.answers["raw text"][0].splitlines())
    assert all(a.startswith("### Instruction:") for a in table.answers["one-line template"])


def test_l01_statements_get_the_right_word_with_high_probability(tiny):
    """L01: "The model completes every statement with the right word ..., and with high
    probability, while the question form sends it off to the next question. The chart shows it
    in one step: after the statement `·Paris` takes nearly all the probability; after the
    question, a newline and `·What` take nearly all of it"."""
    right = {"2 + 2 =": "·4", "The capital of France is": "·Paris", "A cow says": "·moo",
             "The opposite of hot is": "·cold", 'In Spanish, "hello" is "': "hola"}
    for text, word in right.items():
        top = next_token_probabilities(*tiny, text, k=3)
        assert top.tokens[0] == word and top.probs[0] > 0.9, (text, top)
    question = next_token_probabilities(*tiny, "What is the capital of France?", k=6)
    assert question.tokens[:2] == ["↵", "·What"] and "·Paris" not in question.tokens
    assert sum(question.probs[:2]) > 0.9, question


def test_l01_completions_never_stop_on_their_own(tiny):
    """L01: "the completions never stop on their own: the model goes on until `max_new_tokens`
    (`The sum of`, `The capital city`, ...)"."""
    model, tok = tiny
    texts = ["2 + 2 =", "The capital of France is", "A cow says", "The opposite of hot is",
             'In Spanish, "hello" is']
    rows = generate_ids(model, tok, texts, settings_from(None, max_new_tokens=6))
    assert all(len(row) == 6 and tok.eos_token_id not in row for row in rows)
    assert complete(model, tok, texts[0], max_new_tokens=6).endswith("The sum of")
    assert complete(model, tok, texts[1], max_new_tokens=6).endswith("The capital city")


def test_l02_one_line_glues_the_space_onto_the_marker(tiny):
    """L02: "On one line ... `·###`, another token than the `###` that starts a line"."""
    _, tok = tiny

    def tokens(text):
        return token_texts(tok, tok(text, add_special_tokens=False)["input_ids"])

    assert "·###" in tokens("### Instruction: What is 5+3? ### Response: 8")
    assert tokens("### Instruction: What is 5+3?\n### Response: 8")[9:11] == ["↵", "###"]


def test_l02_the_response_starts_with_a_token_of_its_own(tiny):
    """L02: "The response keeps the space that follows `### Response:` (`' Hola mundo'`): ...
    the prompt ends where a token ends and the answer starts with a token of its own, `·Hola`"."""
    _, tok = tiny
    record = {"instruction": "Translate this to Spanish", "input": "Hello world",
              "response": "Hola mundo"}
    prompt, response = format_example(record, ONE_LINE)

    def ids(text):
        return tok(text, add_special_tokens=False)["input_ids"]

    assert response == " Hola mundo" and ids(prompt) + ids(response) == ids(prompt + response)
    assert token_texts(tok, ids(response))[0] == "·Hola"


def test_l02_the_mixed_set_is_mostly_one_line():
    """L02: "most rows use the one-line template, some use `Human: ... Assistant: ...`, some
    `Q: ... A: ...`"."""
    mixed = [row for _, row in load_raw_rows("course:mixed_format")]
    counts = template_counts(mixed)
    assert set(counts) == {"one_line", "human_assistant", "qa"}
    assert counts["one_line"] > len(mixed) / 2
    assert len(check_consistent_templates(mixed)) == 2  # one warning per odd format


def test_l02_parsing_and_writing_with_one_template_fixes_the_mix():
    """L02: "The fix is to parse every row back into its parts and write all of them with one
    template. `load_records` does the parsing (it recognises these templates), `format_text`
    the writing"."""
    records = load_records("course:mixed_format")
    fixed = [{"text": format_text(record, ONE_LINE)} for record in records]
    assert len(fixed) == len(list(load_raw_rows("course:mixed_format")))
    assert check_consistent_templates(fixed) == []


def test_l02_every_schema_loads_as_the_same_three_fields(tmp_path):
    """L02: "Every row now has the same three fields, whatever it was written in"."""
    rows = [
        {"instruction": "What is 5+3?", "response": "8"},
        {"instruction": "Translate this to Spanish", "input": "Hello world",
         "output": "Hola mundo"},
        {"instruction": "Who wrote Hamlet?", "context": "Hamlet was written by Shakespeare.",
         "response": "Shakespeare", "category": "closed_qa"},
        {"prompt": "### Instruction: Name the capital of France. ### Response:",
         "completion": " Paris"},
        {"messages": [{"role": "user", "content": "What does a cow say?"},
                      {"role": "assistant", "content": "moo"}]},
    ]
    path = tmp_path / "mixed_schemas.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    records = load_records(path)
    assert [detect_schema(row) for row in rows] == ["course", "alpaca", "dolly", "trl", "chat"]
    assert all(set(r) == {"instruction", "input", "response"} for r in records)
    assert [r["response"] for r in records] == ["8", "Hola mundo", "Shakespeare", "Paris", "moo"]


def test_l02_a_broken_line_gives_a_one_line_error(tmp_path):
    """L02: "A broken line gives a one-line error naming the file and the line, not a
    traceback"."""
    broken = tmp_path / "broken.jsonl"
    good = json.dumps({"instruction": "What is 5+3?", "response": "8"})
    broken.write_text(good + "\n" + '{"instruction": "oops", \n')
    with pytest.raises(CourseError) as caught:
        load_records(broken)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{broken} line 2: invalid JSON")


def test_l02_course_train_asks_a_fact_in_several_phrasings():
    """L02: "The course's training set `course:train` asks most facts in several phrasings"
    (the capital questions: a question, a command, a formal and a casual one)."""
    capital_questions = [r for r in load_records("course:train") if "capital" in r["instruction"]]
    styles = {instruction_style(r) for r in capital_questions}
    assert {"question", "command", "formal", "casual"} <= styles


def test_l02_arithmetic_dominates_the_task_chart():
    """L02: "Arithmetic dominates the task chart because there are many more sums than
    capitals"; "The left chart counts how the instructions are phrased (questions first, then
    commands, casual, formal, and rows with an input), the right one what they ask for:
    arithmetic has the tallest bar, then translation"."""
    mix = data_mix(load_records("course:train"))
    tasks = mix["task"]
    assert [name for name, _ in tasks.most_common(2)] == ["arithmetic", "translation"]
    assert [name for name, _ in mix["style"].most_common()] == [
        "question", "command", "casual", "formal", "with input"]
    assert tasks["arithmetic"] > 3 * tasks["capital"]


def test_l02_twenty_poor_records_each_with_a_good_version():
    """L02: "`course:poor_quality` pairs 20 poor records with a good version of each"."""
    rows = [row for _, row in load_raw_rows("course:poor_quality")]
    pairs = {}
    for row in rows:
        pairs.setdefault(row["pair"], []).append(row["quality"])
    assert len(pairs) == 20 and all(sorted(q) == ["good", "poor"] for q in pairs.values())


def test_l02_wrong_answers_make_the_longest_bar_of_the_problems_chart():
    """L02: "The chart counts the poor records by what is wrong with them; wrong answers make
    the longest bar"."""
    rows = [row for _, row in load_raw_rows("course:poor_quality")]
    problems = Counter(row["problem"] for row in rows if row["quality"] == "poor")
    [(first, n), (_, second)] = problems.most_common(2)
    assert first == "wrong answer" and n > second, problems


def test_l02_some_problems_show_in_the_text_others_do_not():
    """L02: "Some problems are visible in the text itself: an empty response, a two-word
    instruction, a response that repeats itself or starts a new question ... Others are not:
    "What is 3+4?" -> "8" looks exactly like a good record"."""
    rows = [row for _, row in load_raw_rows("course:poor_quality")]
    poor = [row for row in rows if row["quality"] == "poor"]
    assert any(row["response"] == "" for row in poor)
    assert any(len(row["instruction"].split()) == 2 for row in poor)
    assert any("repetition" in row["problem"] for row in poor)
    assert any(row["response"].startswith(("What is", "Name")) for row in poor)
    wrong = [row for row in poor if (row["instruction"], row["response"]) == ("What is 3+4?", "8")]
    assert [row["problem"] for row in wrong] == ["wrong answer"]
    twin = [row for row in rows if row["pair"] == wrong[0]["pair"] and row["quality"] == "good"]
    assert twin[0]["instruction"] == "What is 3+4?"  # same form, only the answer differs


def test_l02_a_three_word_rule_flags_a_good_record():
    """L02: "a rule "fewer than 3 words is too vague" flags a perfectly good `"20+4=?"` in
    `course:train`"."""
    [record] = [r for r in load_records("course:train") if r["instruction"] == "20+4=?"]
    assert record["response"] == "24" and len(record["instruction"].split()) < 3


def test_l02_the_reports_three_rules_fire_on_none_of_the_courses_data():
    """L02: "Its three rules were chosen because none fires on the course's own data: one prompt
    given different responses, a response that asks questions instead of answering, and a
    response that loops"."""
    assert list(find_poor_rows([])) == ["conflicting", "asks questions", "repeats itself"]
    for name in ("course:train", "course:train_varied", "course:eval", "course:eval_styles"):
        assert not any(find_poor_rows(load_records(name)).values()), name
    # ... and each of them fires on the poor records the lesson shows (course:poor_quality).
    assert all(find_poor_rows(load_records("course:poor_quality")).values())


def test_l02_the_markers_are_plain_text_not_special_tokens(tiny):
    """L02: "The markers are plain text: the tokenizer cuts `### Response:` into ordinary tokens
    ... They are not *special tokens* like BOS and EOS"."""
    _, tok = tiny
    assert ("The markers are plain text: the tokenizer cuts `### Response:` into ordinary "
            "tokens") in prose(LESSON_02)
    ids = tok("### Response:", add_special_tokens=False)["input_ids"]
    assert len(ids) > 1 and not set(ids) & set(tok.all_special_ids)
    assert {tok.bos_token_id, tok.eos_token_id} <= set(tok.all_special_ids)


def test_l03_only_the_answer_and_the_eos_keep_their_labels(tiny):
    """L03: "the instruction's tokens (and `### Response:`) have label `-100`; the answer `·4`
    and the EOS `</s>` keep their own ids as labels"."""
    _, tok = tiny
    example = build_example({"instruction": "What is 2+2?", "response": "4"}, tok)
    tokens = token_texts(tok, example["input_ids"])
    graded = [(t, i) for t, i, label in zip(tokens, example["input_ids"], example["labels"],
                                             strict=True) if label != IGNORE_INDEX]
    assert [t for t, _ in graded] == ["·4", "</s>"]
    assert [i for _, i in graded] == example["input_ids"][-2:] == example["labels"][-2:]
    assert tokens[-4:-2] == ["·Response", ":"]


# Lesson 03's two examples, batched and run through the base model once (its cells 8 to 12).
LESSON03_RECORDS = [{"instruction": "What is 2+2?", "response": "4"},
                    {"instruction": "Translate this to Spanish", "input": "Hello world",
                     "response": "Hola mundo"}]


@pytest.fixture(scope="module")
def lesson03_batch(tiny):
    model, tok = tiny
    batch = pad_batch(prepare_examples(LESSON03_RECORDS, tok).examples, tok.pad_token_id)
    with torch.no_grad():
        out = model(**batch)
    return batch, out


def test_l03_the_three_losses_agree_and_are_high(tiny, lesson03_batch):
    """L03: "The three agree. The number is high because this is the base model: after
    `### Response:` it expects another `###`, and it has never learned to put `</s>` after an
    answer"."""
    model, tok = tiny
    batch, out = lesson03_batch
    logits, labels = out.logits[:, :-1], batch["labels"][:, 1:]
    by_hand = F.cross_entropy(logits.reshape(-1, logits.size(-1)).float(), labels.reshape(-1),
                              ignore_index=-100)
    ours = masked_cross_entropy(out.logits, batch["labels"])
    assert out.loss.item() == pytest.approx(by_hand.item(), rel=1e-5)
    assert out.loss.item() == pytest.approx(ours.item(), rel=1e-5)
    prompt, _ = format_example(LESSON03_RECORDS[0])
    assert next_token_probabilities(model, tok, prompt, k=3).tokens[0] == "·###"
    losses = per_token_losses(out.logits, batch["labels"])
    at_eos = losses[batch["labels"] == tok.eos_token_id]
    assert len(at_eos) == 2 and (at_eos > 5).all()  # p(</s>) below 1% after each answer


def test_l03_zeros_in_the_mean_would_make_the_loss_several_times_smaller(lesson03_batch):
    """L03: "Zeros in the mean would divide the same sum by every prediction, so the loss would
    look several times smaller"."""
    batch, out = lesson03_batch
    token_losses = per_token_losses(out.logits, batch["labels"])
    graded = ~token_losses.isnan()
    predictions = int(batch["attention_mask"][:, 1:].sum())
    mean = token_losses[graded].mean().item()
    as_zeros = (token_losses[graded].sum() / predictions).item()
    assert mean == pytest.approx(out.loss.item(), rel=1e-5)
    assert mean / as_zeros >= 3


def test_l03_masking_changes_the_loss_not_the_logits(tiny, lesson03_batch):
    """L03: "Identical logits, different losses"."""
    model, _ = tiny
    batch, masked = lesson03_batch
    all_graded = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
    with torch.no_grad():
        unmasked = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                         labels=all_graded)
    assert torch.equal(masked.logits, unmasked.logits)
    assert abs(masked.loss.item() - unmasked.loss.item()) > 1


def test_l03_prompt_tokens_get_gradient_through_attention(tiny):
    """L03: "Every prompt position has a gradient, the largest right before the answer
    (`·Response`, `:`) and at the question's `+` ... Only `</s>` has none"."""
    model, tok = tiny
    example = build_example({"instruction": "What is 2+2?", "response": "4"}, tok)
    embeddings = model.get_input_embeddings()(torch.tensor([example["input_ids"]]))
    embeddings = embeddings.detach().requires_grad_()
    logits = model(inputs_embeds=embeddings).logits
    masked_cross_entropy(logits, torch.tensor([example["labels"]])).backward()
    model.zero_grad(set_to_none=True)
    gradient = embeddings.grad[0].norm(dim=-1).tolist()
    tokens = token_texts(tok, example["input_ids"])
    assert all(g > 0 for g in gradient[:-1]) and gradient[-1] == 0 and tokens[-1] == "</s>"
    largest = sorted(range(len(tokens)), key=gradient.__getitem__, reverse=True)[:3]
    assert sorted(tokens[i] for i in largest) == sorted(["·Response", ":", "+"])


def test_l03_unmasked_the_grade_goes_to_the_instruction_masked_to_what_is_wrong(tiny):
    """L03: "With `none`, most of the graded predictions are the instruction's (here 12 of 14),
    and the base model predicts them well ...: each costs a few nats at most, several nearly
    nothing. The two highest losses, about 11 each, are `·4` and `</s>`. With `response`, the
    whole grade goes to `·4` and `</s>`, exactly what the base model gets wrong"."""
    model, tok = tiny
    record = LESSON03_RECORDS[0]
    none = show_mask(record, tok, masking="none", model=model)
    chips = none.examples[0].chips
    answer = [c.text for c in chips].index("·4")
    prompt_losses = [c.loss for c in chips[:answer] if c.loss == c.loss]  # graded: not NaN
    answer_losses = [c.loss for c in chips[answer:]]
    assert len(prompt_losses) > len(answer_losses)  # graded predictions, as exercise 03 counts
    assert sum(prompt_losses) / len(prompt_losses) < min(answer_losses) / 5
    assert (len(prompt_losses), len(answer_losses)) == (12, 2)
    assert max(prompt_losses) < 4 and sum(loss < 0.05 for loss in prompt_losses) >= 3
    assert [round(loss) for loss in answer_losses] == [11, 11]  # the two highest
    response = show_mask(record, tok, masking="response", model=model)
    trained = [c for c in response.examples[0].chips if c.trained]
    assert [c.text for c in trained] == ["·4", "</s>"]
    assert all(c.loss > response.loss_high for c in trained)  # orange: not predicted


def test_l03_the_standard_collator_refuses_without_mlm_false(tiny):
    """L03: "`mlm=True` is the collator's **default** ... Our tokenizer has no mask token, so
    the collator refuses"."""
    _, tok = tiny
    default = inspect.signature(DataCollatorForLanguageModeling).parameters["mlm"].default
    assert default is True and tok.mask_token is None
    with pytest.raises(ValueError, match="does not have a mask token"):
        DataCollatorForLanguageModeling(tok)


def test_l03_mlm_true_grades_only_the_hidden_tokens_prompt_or_response(tiny):
    """L03: "`mlm_collator_batch` gives a *copy* of the tokenizer a mask token, `<mask>` (a new
    id the model has never seen)" and "Some input tokens are now `<mask>` (or another token),
    and only those positions are graded, prompt or response alike"."""
    model, tok = tiny
    texts = tokenize_texts(LESSON03_RECORDS, tok)
    batch, mlm_tok = mlm_collator_batch(texts, tok)
    assert tok.mask_token is None and mlm_tok.mask_token == "<mask>"
    assert mlm_tok.mask_token_id >= model.get_input_embeddings().num_embeddings
    graded = batch["labels"] != IGNORE_INDEX
    assert graded.any() and (batch["input_ids"][graded] == mlm_tok.mask_token_id).any()
    for row, text in enumerate(texts):
        ids, n = torch.tensor(text["input_ids"]), len(text["input_ids"])
        assert not graded[row, n:].any()  # padding
        assert torch.equal(batch["labels"][row, :n][graded[row, :n]], ids[graded[row, :n]])
        assert torch.equal(batch["input_ids"][row, :n][~graded[row, :n]], ids[~graded[row, :n]])
    prompt_lengths = [len(tok(format_example(r)[0])["input_ids"]) for r in LESSON03_RECORDS]
    assert any(graded[row, :n].any() for row, n in enumerate(prompt_lengths))


def test_l03_sfttrainer_and_sftconfig_have_no_mlm_argument():
    """L03: "TRL's `SFTTrainer` and `SFTConfig` have no `mlm` argument at all"."""
    assert "mlm" not in inspect.signature(SFTTrainer.__init__).parameters
    assert "mlm" not in {f.name for f in dataclasses.fields(SFTConfig)}


def test_l03_the_template_search_masks_every_row(tiny):
    """L03: "With the course's tokenizer every row is fully masked" (one warning per row)."""
    _, tok = tiny
    texts = tokenize_texts(LESSON03_RECORDS, tok)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        searched = CompletionOnlyCollator("### Response:", tok)(texts)
    assert len(caught) == len(texts)
    assert "Could not find response key `### Response:`" in str(caught[0].message)
    audit = audit_labels(searched, tok)
    assert audit.n_trained == 0 and audit.fully_masked == [0, 1]


def test_l03_alone_and_in_context_the_template_has_other_ids(tiny):
    """L03: "Alone, the text starts with the token `###`; inside the example, after a space, a
    byte-level BPE tokenizer uses `·###` (space included), a different id. The search finds
    nothing" and fix 1, "search for the ids the template has *in context*"."""
    _, tok = tiny
    mismatch = explain_template_mismatch(tok, "### Response:",
                                         "### Instruction: What is 2+2? ### Response: 4")
    assert (mismatch.alone_tokens[0], mismatch.context_tokens[0]) == ("###", "·###")
    assert mismatch.alone_ids[0] != mismatch.context_ids[0] and not mismatch.found
    texts = tokenize_texts(LESSON03_RECORDS, tok)
    fixed = CompletionOnlyCollator(template_ids_for(tok), tok)(texts)
    assert audit_labels(fixed, tok).ok
    for row, ex in enumerate(prepare_examples(LESSON03_RECORDS, tok).examples):
        assert fixed["labels"][row, :len(ex["labels"])].tolist() == ex["labels"]


def test_l03_a_row_truncated_to_its_prompt_is_found_and_skipped(tiny):
    """L03: "The third row has no graded token at all ... The course's `prepare_examples`
    reports and skips such a row instead of training on it"."""
    _, tok = tiny
    pad_is_eos = copy.deepcopy(tok)
    pad_is_eos.pad_token = pad_is_eos.eos_token
    long_prompt = {"instruction": "Translate this to Spanish", "input": "Good morning " * 12,
                   "response": "Buenos dias"}
    bad = (label_examples(LESSON03_RECORDS, pad_is_eos, "none")
           + label_examples([long_prompt], pad_is_eos, "response", max_length=24))
    assert audit_labels(bad, pad_is_eos).fully_masked == [2]
    prepared = prepare_examples(LESSON03_RECORDS + [long_prompt], tok, max_length=24)
    assert prepared.kept == [0, 1] and [i for i, _ in prepared.skipped] == [2]
    assert "1 was skipped: no trained token left" in prepared.report()


# Training on another CPU rounds floats differently, and a run can end one answer apart: on an
# AVX-512 Xeon, lesson 06's masked model answered 190 of the 216 unseen-style questions where
# the lessons' machine answered 191. So claims about trained runs' answers hold to within one
# answer: a count +-1, a share printed as quoted once moved by at most one item.
def within_one_answer(measured: float, quoted: float, n: int) -> bool:
    """`measured`, a share of `n` scored items, prints as `quoted` (2 decimals) +- one item."""
    return any(round(measured + d / n, 2) == quoted for d in (-1, 0, 1))


# The tests that share lesson 04's runs: on one worker (make test: --dist loadgroup), so the
# two half-minute runs are trained once.
ONE_WORKER = pytest.mark.xdist_group("lesson04_runs")


@pytest.fixture(scope="module")
def lesson04_runs():
    """Lesson 04's two runs, with its settings: train()'s defaults (the recipe), seed 0, the
    held-out curve. Lesson 06 trains exactly these with trained_once (its `as_in_lesson04`),
    so they are read from the headless lessons' cache, or trained there for lesson 06."""
    folders = {m: trained_once("tiny", cache_dir=LESSON_CACHE, masking=m, label=label,
                               eval_data="course:eval", eval_every=10, progress=False,
                               verbose=False)
               for m, label in (("response", "masked"), ("none", "unmasked"))}
    return {m: TrainResult(*load_model_and_tokenizer(folder), RunHistory.load(folder))
            for m, folder in folders.items()}


def _lesson04_run(masking, seed):
    """Lesson 04's settings with another seed, measured on course:eval at the end only
    (evaluating changes no weight: the curve's last point is the same)."""
    return train("tiny", masking=masking, eval_data="course:eval", eval_every=RECIPE.max_steps,
                 seed=seed, progress=False, verbose=False)


L04_SECOND_PLOT = (
    "In the masked run the reported training loss and the held-out response-only\n"
    "loss fell together, to about 0.13 and 0.19. In the unmasked run they part: the reported "
    "loss\nends near 3 while the held-out response-only loss falls to about 0.6.")


def test_l04_the_second_live_plot_is_said_in_words_after_it():
    source = [c.source for c in nbformat.read(LESSON_04, as_version=4).cells]
    (plot,) = [i for i, s in enumerate(source) if 'masking="none", label="unmasked"' in s]
    assert L04_SECOND_PLOT in source[plot + 1]  # right after the cell that draws it


@pytest.mark.slow
@ONE_WORKER
def test_l04_the_two_live_plots_end_where_the_lesson_says(lesson04_runs):
    """L04: "In the masked run the reported training loss and the held-out response-only loss
    fell together, to about 0.13 and 0.19. In the unmasked run they part: the reported loss
    ends near 3 while the held-out response-only loss falls to about 0.6"."""
    masked, unmasked = (lesson04_runs[m].history for m in ("response", "none"))
    assert (round(masked.train_loss[-1], 2), round(masked.eval_loss[-1], 2)) == (0.13, 0.19)
    assert (round(unmasked.train_loss[-1]), round(unmasked.eval_loss[-1], 1)) == (3, 0.6)


@pytest.fixture(scope="module")
def lesson04_loop(tiny):
    """Lesson 04's loop by hand: 40 steps on course:train, seed 0, from fresh weights."""
    model = load_model_and_tokenizer("tiny")[0]
    return train_by_hand(model, tiny[1], load_records("course:train"), steps=40, seed=0)


@pytest.mark.slow
def test_l04_the_loop_by_hand_falls_from_about_11_to_below_half(lesson04_loop):
    """L04: "The loss falls from about 11.6 to below 0.5 within ten steps" (the loop by hand)."""
    assert round(lesson04_loop[0], 1) == 11.6 and lesson04_loop[9] < 0.5


def test_l04_the_loop_by_hand_trains_float32_weights(tiny):
    """L04: the loop's model loads in "float32 weights, as train() keeps them": in float16,
    which load_model_and_tokenizer picks on a T4, AdamW turns the weights NaN after step 1,
    so train_by_hand refuses them."""
    weight = torch.nn.Parameter(torch.ones(3, dtype=torch.float16))
    weight.grad = torch.full_like(weight, 1e-4)  # a small gradient, as most are
    torch.optim.AdamW([weight], lr=1e-3).step()  # its squared average and eps round to 0
    assert not torch.isfinite(weight).any()  # -inf here; a zero gradient gives NaN
    half = load_model_and_tokenizer("tiny", dtype=torch.float16)[0]
    with pytest.raises(CourseError, match=r"load_model_and_tokenizer\(name, dtype=torch.float32\)"):
        train_by_hand(half, tiny[1], load_records("course:train")[:32], steps=3, batch_size=8)
    cells = [c.source for c in nbformat.read(LESSON_04, as_version=4).cells]
    (loop,) = [s for s in cells if "by_hand_model, _ = load_model_and_tokenizer(" in s]
    assert "load_model_and_tokenizer(MODEL, dtype=torch.float32)" in loop


L04_SAME_CURVE = ("The same curve, to float rounding: the largest difference, about 1e-5, is far "
                  "below the three decimals printed above.")


@pytest.mark.slow
def test_l04_train_gives_the_loops_curve_to_float_rounding(lesson04_loop):
    """L04: "The same curve, to float rounding: the largest difference, about 1e-5, is far below
    the three decimals printed above" (train() given the loop's settings: its data, 40 steps,
    learning rate 1e-3, every weight, seed 0)."""
    assert L04_SAME_CURVE in prose(LESSON_04)
    run = train("tiny", data="course:train", eval_data=None, max_steps=40, learning_rate=1e-3,
                freeze=(), seed=0, progress=False, verbose=False)
    gap = max(abs(a - b) for a, b in zip(lesson04_loop, run.history.train_loss, strict=True))
    assert gap > 0 and round(math.log10(gap)) == -5  # "about 1e-5": the nearest power of ten


# Lesson 04's final held-out accuracies (122 response tokens), as lessons 04 and 06 quote them.
ACCURACY = {"response": 0.96, "none": 0.85}
L04_ACCURACY = (f"(accuracy {ACCURACY['none']:.0%} against the masked run's "
                f"{ACCURACY['response']:.0%};")
L06_ACCURACY = (f"next-token accuracy of lesson 04 ({ACCURACY['response']:.0%} and "
                f"{ACCURACY['none']:.0%}, to a token: section 1 prints both)")


def accuracies_as_quoted(runs) -> bool:
    """Whether each of lesson 04's runs ended at its quoted accuracy, to one token of 122."""
    return all(within_one_answer(runs[m].history.eval_accuracy[-1], quoted, n=122)
               for m, quoted in ACCURACY.items())


@pytest.mark.slow
@ONE_WORKER
def test_l04_held_out_losses_of_the_two_runs(lesson04_runs):
    """L04: "Both runs start from ... about 11 at step 0. The masked run is below 2 by step 10
    and ends near 0.19; the unmasked run falls more slowly and ends about three times higher,
    near 0.59 (accuracy 85% against the masked run's 96%)"."""
    masked, unmasked = (lesson04_runs[m].history for m in ("response", "none"))
    for h in (masked, unmasked):
        assert h.eval_steps[:2] == [0, 10] and h.eval_steps[-1] == 500
        assert round(h.eval_loss[0]) == 11
    assert masked.eval_loss[1] < 2 < unmasked.eval_loss[1]
    assert round(masked.eval_loss[-1], 2) == 0.19 and round(unmasked.eval_loss[-1], 2) == 0.59
    assert 2.5 <= unmasked.eval_loss[-1] / masked.eval_loss[-1] <= 3.5
    # Next-token accuracy over the 122 response tokens of course:eval (answers and </s>).
    assert L04_ACCURACY in prose(LESSON_04) and accuracies_as_quoted(lesson04_runs)


L04_SLOWER = ("The table's `seconds` differ too: the unmasked run took longer, with the same "
              "steps and batch size. The course's fast loss (`training/fast_loss.py`) computes "
              "the output layer (`lm_head`) only at positions whose next token is trained (label "
              "not -100): about one position in ten in the masked run (the answers and their "
              "EOS), every position in the unmasked one.")


def output_layer_rows(model, examples, pad_id: int) -> int:
    """How many positions the fast loss sends through `lm_head` for these examples."""
    rows = []
    hook = model.lm_head.register_forward_hook(
        lambda _module, _args, out: rows.append(out.shape[:-1].numel()))
    try:
        with torch.no_grad():
            for start in range(0, len(examples), 64):
                batch = pad_batch(examples[start:start + 64], pad_id)
                kept_loss(model, {k: batch[k] for k in ("input_ids", "attention_mask")},
                          batch["labels"])
    finally:
        hook.remove()
    return sum(rows)


def training_step_seconds(model, examples, pad_id: int) -> float:
    """The median CPU time of a fast-loss step (forward and backward) over batches of 16: CPU
    time, since wall time on a shared machine is noise (lesson 04's two runs took 24 s and 38 s
    in one run of the lesson, 35 s and 40 s in another, on the same busy 2-core machine)."""
    times = []
    for start in range(0, 160, 16):
        batch = pad_batch(examples[start:start + 16], pad_id)
        began = time.process_time()
        kept_loss(model, {k: batch[k] for k in ("input_ids", "attention_mask")},
                  batch["labels"]).backward()
        times.append(time.process_time() - began)
        model.zero_grad(set_to_none=True)
    return statistics.median(times)


@pytest.mark.slow
@ONE_WORKER
def test_l04_the_unmasked_run_is_slower_its_output_layer_runs_everywhere(lesson04_runs):
    """L04: "the unmasked run took longer, with the same steps and batch size. The course's fast
    loss ... computes the output layer (`lm_head`) only at positions whose next token is trained
    (label not -100): about one position in ten in the masked run ..., every position in the
    unmasked one"."""
    assert L04_SLOWER in prose(LESSON_04)
    masked, unmasked = (lesson04_runs[m].history for m in ("response", "none"))
    assert masked.fast_path == unmasked.fast_path == "on"
    model, tok = load_model_and_tokenizer("tiny")  # its own: the steps give it gradients
    records = load_records(RECIPE.data)
    rows, trained, positions, seconds = {}, {}, {}, {}
    for masking in ("response", "none"):
        examples = prepare_examples(records, tok, masking=masking).examples
        seconds[masking] = training_step_seconds(model, examples, tok.pad_token_id)
        rows[masking] = output_layer_rows(model, examples, tok.pad_token_id)
        trained[masking] = sum(sum(x != IGNORE_INDEX for x in e["labels"][1:]) for e in examples)
        positions[masking] = sum(len(e["input_ids"]) - 1 for e in examples)  # each predicts one
    assert rows == trained  # the output layer runs at the trained positions, nowhere else
    assert round(rows["response"] / positions["response"], 1) == 0.1
    assert rows["none"] == positions["none"]
    assert seconds["none"] > seconds["response"]  # about 1.8 times, measured


@pytest.mark.slow
@pytest.mark.recipe_steps  # 4 runs of the recipe, 2-3 min: `make claims-500`, not `make test`
def test_l04_seeds_1_and_2_keep_the_order():
    """L04: "Seeds 1 and 2 gave the same order (masked 0.18 and 0.15, unmasked 0.50 and
    0.45)"."""
    final = {(m, seed): _lesson04_run(m, seed).history.eval_loss[-1]
             for m in ("response", "none") for seed in (1, 2)}
    assert [round(final["response", s], 2) for s in (1, 2)] == [0.18, 0.15]
    assert [round(final["none", s], 2) for s in (1, 2)] == [0.50, 0.45]


@pytest.mark.slow
@ONE_WORKER
def test_l04_masked_answers_briefly_and_stops_unmasked_not_always(lesson04_runs, tiny):
    """L04: "the masked model answers briefly and stops every time ... The unmasked model
    mostly does too, but not always: here it leaves one answer empty and rambles on another"."""
    _, tok = tiny
    questions = held_out_questions("course:eval")
    prompts = prompts_for([q["instruction"] for q in questions], [q["input"] for q in questions])
    masked, unmasked = (generate_ids(lesson04_runs[m].model, tok, prompts)
                        for m in ("response", "none"))
    assert all(row and row[-1] == tok.eos_token_id and len(row) <= 8 for row in masked)
    assert sum(row == [tok.eos_token_id] for row in unmasked) == 1
    assert sum(len(row) > 8 for row in unmasked) == 1


@pytest.mark.slow
@ONE_WORKER
def test_l04_the_raw_question_still_gets_a_continuation(lesson04_runs, tiny):
    """L04: "Asked raw, the tuned model still continues with more questions ...; in the
    template it answers and stops"."""
    model, tok = lesson04_runs["response"].model, tiny[1]
    assert complete(model, tok, "What is 5+5?", max_new_tokens=24).strip().startswith("What is")
    assert generate(model, tok, "What is 5+5?") == "10"


@pytest.mark.slow
@ONE_WORKER
def test_l04_only_the_unmasked_run_learns_to_write_instructions(lesson04_runs, tiny):
    """L04: the unmasked run "has learned to *produce* prompts: more than half of its samples
    write one, against one in five for the base model"; the masked run "writes instructions
    about as rarely as the base model did"."""
    base, tok = tiny
    share = {name: instruction_share(unprompted_samples(m, tok, n=64, seed=0))
             for name, m in {"base": base, "masked": lesson04_runs["response"].model,
                             "unmasked": lesson04_runs["none"].model}.items()}
    assert round(share["base"], 1) == 0.2 and 0.5 < share["unmasked"] <= 0.6
    assert abs(share["masked"] - share["base"]) <= 3 / 64


# Lesson 05's data and TRL's preparation of it (its cell 13: the same as the trainer's).
@pytest.fixture(scope="module")
def lesson05_trl(tiny):
    return trl_prepare(load_records("course:train"), tiny[1])


def _chat_tokenizer(tiny):
    """A copy of the tokenizer with the course's chat template (the fixture's stays as it is)."""
    return attach_chat_template(copy.deepcopy(tiny[1]))


def _sft_config(tmp_path, **fields):
    """Lesson 05's SFTConfig for this machine (`lesson.device.trainer_precision`)."""
    return SFTConfig(output_dir=str(tmp_path), **choose_device().trainer_precision,
                     **checkpointing_off(), report_to="none", disable_tqdm=True, **fields)


@pytest.mark.slow
def test_l05_the_prompt_ends_with_the_marker_and_trl_appends_the_eos(tiny, lesson05_trl):
    """L05: "the prompt ends with "### Response:", the completion is the answer (TRL appends the
    EOS itself)"."""
    tok = tiny[1]
    rows = [to_prompt_completion(r) for r in load_records("course:train")]
    assert all(row["prompt"].endswith("### Response:") for row in rows)
    assert not any(tok.eos_token in row["completion"] for row in rows)
    assert all(ex["labels"][-1] == ex["input_ids"][-1] == tok.eos_token_id
               for ex in lesson05_trl.examples)


@pytest.fixture(scope="module")
def lesson05_ours(tiny):
    """Lesson 05's run of the course's train() (its section 3, saved in section 7): TRL's
    configuration, 40 steps of 16, every weight trained, seed 0."""
    n_params = sum(p.numel() for p in tiny[0].parameters())
    return train("tiny", data="course:train", eval_data=None, max_steps=40, batch_size=16,
                 learning_rate=default_learning_rate(n_params, lora=False), freeze=(), seed=0,
                 progress=False, verbose=False)


@pytest.mark.slow
def test_l05_trl_and_the_course_runner_give_the_same_held_out_numbers(tiny, lesson05_ours,
                                                                      tmp_path):
    """L05: "The same, to every digit printed" (the held-out response loss, 3 decimals, and the
    accuracy, one decimal of a percent, of TRL's SFTTrainer and of `train()` with the same
    configuration: 40 steps of 16, every weight, seed 0)."""
    tok = tiny[1]
    records = load_records("course:train")
    model = load_model_and_tokenizer("tiny")[0]
    n_params = sum(p.numel() for p in model.parameters())
    config = _sft_config(tmp_path, max_steps=40, per_device_train_batch_size=16,
                         completion_only_loss=True, seed=0, save_strategy="no",
                         learning_rate=default_learning_rate(n_params, lora=False))
    data = Dataset.from_list([to_prompt_completion(r) for r in records])
    trainer = SFTTrainer(model=model, args=config, processing_class=tok, train_dataset=data)
    trainer.remove_callback(PrinterCallback)
    trainer.train()
    held_out = prepare_examples(load_records("course:eval"), tok).examples
    trl_m, ours_m = (response_metrics(m, held_out, tok.pad_token_id)
                     for m in (trainer.model, lesson05_ours.model))
    assert f"{trl_m.loss:.3f}" == f"{ours_m.loss:.3f}"
    assert f"{trl_m.accuracy:.1%}" == f"{ours_m.accuracy:.1%}" and trl_m.tokens == ours_m.tokens


def test_l05_lesson04s_run_used_the_recipe_not_this_configuration(tiny):
    """L05: "Lesson 04's masked run used `train()`'s defaults, the course's recipe (more data,
    more steps, most weights frozen), so it is not the run to compare with"."""
    model, _ = tiny
    assert len(load_records(RECIPE.data)) > len(load_records("course:train"))
    assert RECIPE.max_steps > 40  # the lesson's SFTConfig(max_steps=40)
    assert inspect.signature(train).parameters["freeze"].default is None  # None: the recipe's
    frozen = sum(p.numel() for name, p in model.named_parameters()
                 if any(part in name for part in RECIPE.freeze))
    assert frozen > model.num_parameters() / 2


@pytest.mark.slow
def test_l05_trls_labels_are_lesson03s_labels(tiny, lesson05_trl):
    """L05: "Identical input_ids and labels: the course's masking is exactly what
    `completion_only_loss` does on this data" (and L03: "On the course's data both give
    identical labels; lesson 05 checks it")."""
    records = load_records("course:train")
    ours = prepare_examples(records, tiny[1]).examples
    assert lesson05_trl.kept == list(range(len(records)))
    assert compare_labels(ours, lesson05_trl.examples).identical


def test_l05_the_chat_template_renders_the_one_line_text(tiny):
    """L05: "The rendered text is the one-line template's `### Instruction: What is 2+2? ###
    Response: 4` with the tokenizer's start and end tokens (the tiny model's BOS and EOS) ...
    the trained tokens are `·4` and the EOS"."""
    tok = _chat_tokenizer(tiny)
    chat = to_messages({"instruction": "What is 2+2?", "response": "4"})
    text = tok.apply_chat_template(chat["messages"], tokenize=False)
    assert text == "<s>### Instruction: What is 2+2? ### Response: 4</s>"
    example = chat_example(chat, tok)
    trained = [i for i, label in zip(example["input_ids"], example["labels"], strict=True)
               if label != IGNORE_INDEX]
    assert token_texts(tok, trained) == ["·4", "</s>"]


@pytest.mark.slow
def test_l05_trl_agrees_on_chat_data(tiny, tmp_path):
    """L05: "And TRL agrees on the whole data set" (chat data, `assistant_only_loss=True`)."""
    tok = _chat_tokenizer(tiny)
    records = load_records("course:train")
    trainer = SFTTrainer(model=load_model_and_tokenizer("tiny")[0],
                         args=_sft_config(tmp_path, assistant_only_loss=True),
                         processing_class=tok,
                         train_dataset=Dataset.from_list([to_messages(r) for r in records]))
    assert compare_labels(prepare_examples(records, tok).examples,
                          trainer_examples(trainer)).identical


def test_l05_a_default_sftconfig_trains_every_token_of_text_and_chat(tiny, tmp_path):
    """L05: "Every token is trained in both cases, the prompt included" (`text` and `messages`
    records with a default `SFTConfig`)."""
    tok = _chat_tokenizer(tiny)
    model = load_model_and_tokenizer("tiny")[0]
    few = load_records("course:train")[:2]
    for kind, rows in {"text": [{"text": format_text(r)} for r in few],
                       "messages": [to_messages(r) for r in few]}.items():
        defaults = SFTTrainer(model=model, args=_sft_config(tmp_path), processing_class=tok,
                              train_dataset=Dataset.from_list(rows))
        audit = audit_labels(trainer_examples(defaults), tok)
        assert audit.trained_fraction == 1, kind
        assert all("trains on its prompt" in w for w in audit.warnings) and audit.warnings


def test_l05_completion_only_loss_false_trains_the_prompt_too(tiny, tmp_path):
    """L05: "`False` trains every token, the prompt included" (prompt/completion records)."""
    assert "`False` trains every token, the prompt included" in prose(LESSON_05)
    tok = tiny[1]
    rows = Dataset.from_list([to_prompt_completion(r) for r in load_records("course:train")[:2]])
    for flag, everything in ((False, True), (True, False)):
        trainer = SFTTrainer(model=load_model_and_tokenizer("tiny")[0],
                             args=_sft_config(tmp_path, completion_only_loss=flag),
                             processing_class=tok, train_dataset=rows)
        assert (audit_labels(trainer_examples(trainer), tok).trained_fraction == 1) is everything


def test_l05_trl_only_warns_when_the_eos_is_outside_the_markers(tiny, tmp_path):
    """L05: "The end-of-turn token (here the EOS) must be *inside* `{% generation %} ...
    {% endgeneration %}` ... TRL checks it and only logs a warning, "the model may not learn to
    stop"" (and lesson 03's audit names the untrained EOS)."""
    assert 'TRL checks it and only logs a warning, "the model may not learn to stop"' in prose(
        LESSON_05)
    outside = CHAT_TEMPLATE.replace("{{ eos_token }}{% endgeneration %}",
                                    "{% endgeneration %}{{ eos_token }}")
    assert outside != CHAT_TEMPLATE
    tok = attach_chat_template(copy.deepcopy(tiny[1]), outside)
    chats = [to_messages(r) for r in load_records("course:train")[:2]]
    with captured_logs("trl") as logged:  # it warns and builds the trainer all the same
        SFTTrainer(model=load_model_and_tokenizer("tiny")[0],
                   args=_sft_config(tmp_path, assistant_only_loss=True), processing_class=tok,
                   train_dataset=Dataset.from_list(chats))
    assert any("the model may not learn to stop" in message for message in logged)
    assert any("EOS is not trained" in w
               for w in audit_labels([chat_example(chats[0], tok)], tok).warnings)


def test_l05_a_labels_column_is_trained_as_it_is(tiny, tmp_path):
    """L05: "A data set that already has a `labels` column is not labelled again: TRL trains on
    those labels as they are, right or wrong" (given without the completion mask that TRL's
    own preparation keeps, so a TRL that labelled them again would train every token)."""
    assert ("A data set that already has a `labels` column is not labelled again: TRL trains "
            "on those labels as they are, right or wrong.") in prose(LESSON_05)
    tok = tiny[1]
    examples = prepare_examples(load_records("course:train")[:3], tok).examples
    given = [{"input_ids": e["input_ids"], "labels": e["labels"]} for e in examples]
    trainer = SFTTrainer(model=load_model_and_tokenizer("tiny")[0],
                         args=_sft_config(tmp_path, completion_only_loss=True),
                         processing_class=tok, train_dataset=Dataset.from_list(given))
    assert [e["labels"] for e in trainer_examples(trainer)] == [e["labels"] for e in given]


def test_l05_a_plain_trainer_does_not_tokenize_text_rows(tiny, tmp_path):
    """L05's migration table: "a plain `Trainer` does not, and stops with "No columns in the
    dataset match the model's forward method signature"" (the old recipe's `{"text"}` rows)."""
    said = "No columns in the dataset match the model's forward method signature"
    assert f"a plain `Trainer` does not, and stops with \"{said}\"" in prose(LESSON_05)
    model, tok = tiny
    rows = Dataset.from_list([{"text": format_text(r)} for r in load_records("course:train")[:4]])
    args = TrainingArguments(output_dir=str(tmp_path), max_steps=1, use_cpu=True,
                             report_to="none")
    trainer = Trainer(model=model, args=args, train_dataset=rows,
                      data_collator=DataCollatorForLanguageModeling(tok, mlm=False))
    with pytest.raises(ValueError, match=said):
        trainer.get_train_dataloader()  # where the Trainer drops the columns it cannot use


def test_l05_a_template_without_markers_trains_nothing_and_warns(tiny):
    """L05: "Then the assistant mask is all zeros: every label is -100 and nothing would be
    trained ... transformers notices and logs a warning"."""
    tok = _chat_tokenizer(tiny)
    chat = to_messages({"instruction": "What is 2+2?", "response": "4"})
    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_warning()  # a fresh kernel's level (the CLI tests lower it)
    hf_logging.warning_once.cache_clear()  # it warns once per session: make this the first
    try:
        with captured_logs("transformers") as logged:
            no_markers = chat_example(chat, tok, chat_template=CHAT_TEMPLATE_WITHOUT_MARKERS)
    finally:
        hf_logging.set_verbosity(level)
    assert set(no_markers["labels"]) == {IGNORE_INDEX}
    assert any("does not contain `{% generation %}`" in message for message in logged)


def test_l05_trls_own_collator_pads_and_packs_by_position(tiny):
    """L05: "TRL has its own collator, `trl.trainer.sft_trainer.DataCollatorForLanguageModeling`
    (not importable as `from trl import ...`), a **different class** from the transformers
    one ... Each example's first label becomes -100 too (where `position_ids == 0`)" (its
    `padding_free=True` packs the batch into one row)."""
    with pytest.raises(ImportError):
        from trl import DataCollatorForLanguageModeling as _  # noqa: F401
    assert TrlCollator is not DataCollatorForLanguageModeling
    tok = tiny[1]
    # Every token labelled (masking "none"), so that only the collator sets a -100.
    examples = prepare_examples(load_records("course:train")[:3], tok, masking="none").examples
    packed = TrlCollator(pad_token_id=tok.pad_token_id, padding_free=True)(
        [{"input_ids": e["input_ids"], "labels": e["labels"]} for e in examples])
    ids, labels, starts = packed["input_ids"], packed["labels"], packed["position_ids"] == 0
    assert ids.shape == (1, sum(len(e["input_ids"]) for e in examples))
    assert int(starts.sum()) == len(examples)
    assert (labels[starts] == IGNORE_INDEX).all()
    assert torch.equal(labels[~starts], ids[~starts])


L05_PACKING = ("**Packing**, `SFTConfig(packing=True)`, puts several examples end to end in one "
               "row instead of padding each one; with its default strategy (`\"bfd\"`) the "
               "trainer also turns `padding_free` on. Three things make packing safe: * The "
               "labels are built before packing, so each prompt's -100s travel "
               "with its tokens. * Each example's first label becomes -100 too (where "
               "`position_ids == 0`), so no example is graded on predicting the start of the "
               "next one. * The `position_ids` restart at 0 for each example: that is how "
               "attention keeps the examples apart (TRL's docs name FlashAttention 2 or 3 for "
               "padding-free batches).")


def test_l05_packing_keeps_the_minus_100s_and_restarts_the_positions(tiny, tmp_path):
    """L05's aside on packing (L05_PACKING), with TRL's own SFTTrainer(packing=True): every
    packed example has lesson 03's labels and positions 0, 1, 2, ..."""
    assert L05_PACKING in prose(LESSON_05)
    tok = tiny[1]
    records = load_records("course:train")[:8]
    config = _sft_config(tmp_path, packing=True, max_length=64)
    assert config.packing_strategy == "bfd" and not config.padding_free
    data = Dataset.from_list([to_prompt_completion(r) for r in records])
    trainer = SFTTrainer(model=load_model_and_tokenizer("tiny")[0], args=config,
                         processing_class=tok, train_dataset=data)
    assert trainer.padding_free
    ours = {tuple(e["input_ids"]): e["labels"] for e in prepare_examples(records, tok).examples}
    packed = []
    for row in trainer.train_dataset:
        batch = trainer.data_collator([row])
        ids, labels, positions = (batch[k][0].tolist() for k in ("input_ids", "labels",
                                                                  "position_ids"))
        starts = [i for i, p in enumerate(positions) if p == 0] + [len(positions)]
        for a, b in zip(starts, starts[1:], strict=False):
            assert positions[a:b] == list(range(b - a))
            assert labels[a:b] == ours[tuple(ids[a:b])]  # the prompt's -100s, the first's too
            packed.append(ids[a:b])
    assert len(packed) == len(records) > len(trainer.train_dataset)  # several to a row
    assert "FlashAttention 2 or 3" in " ".join(SFTConfig.__doc__.split())


def test_l05_trl_trains_fp32_weights_because_fp16_ones_cannot_be_trained():
    """L05's training cell: "in fp32 as train() keeps them: on a GPU the Trainer computes in
    bf16/fp16 itself, and it cannot train weights stored in fp16" (with `fp16=True`, on a T4, the
    Trainer's gradient scaler refuses fp16 gradients; load_model_and_tokenizer gives a real
    model the card's half precision unless told otherwise)."""
    cells = nbformat.read(LESSON_05, as_version=4).cells
    training = next(c.source for c in cells if "trainer.train()" in c.source)
    assert "load_model_and_tokenizer(MODEL, dtype=torch.float32)" in training
    weight = torch.nn.Parameter(torch.ones(3, dtype=torch.float16))
    scaler = torch.amp.GradScaler("cpu")  # what fp16=True uses, on the CPU here
    optimizer = torch.optim.AdamW([weight])
    scaler.scale(weight.sum()).backward()
    with pytest.raises(ValueError, match="unscale FP16 gradients"):
        scaler.unscale_(optimizer)


L05_PIPELINE = ("The pipeline wrote the message in the one-line template, after the tokenizer's "
               "start token (the tiny model's `<s>`; a tokenizer that adds none to plain text "
               "gets none here either), and the tuned model answered and stopped. The answer "
               "keeps its leading space: it is part of the answer's first token (`·4` in the "
               "mask views above).")


@pytest.mark.slow
def test_l05_a_saved_run_asked_through_pipeline_gets_its_template_and_answers(
        tiny, lesson05_ours, tmp_path):
    """L05 section 7 (L05_PIPELINE): `pipeline("text-generation", model=folder)` on the folder
    save_run writes sends "<s>### Instruction: What is 2+2? ### Response:", and section 3's
    run (40 steps of 16, every weight, seed 0) answers ' 4' and stops."""
    assert L05_PIPELINE in prose(LESSON_05)
    tok = tiny[1]
    save_run(tmp_path / "ours", lesson05_ours.model, tok, lesson05_ours.history)
    ask = pipeline("text-generation", model=str(tmp_path / "ours"), device="cpu")
    messages = [{"role": "user", "content": "What is 2+2?"}]
    sent = ask.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert sent == f"{tok.bos_token}### Instruction: What is 2+2? ### Response:"
    said = ask(messages, max_new_tokens=8, do_sample=False, return_full_text=False)
    assert said[0]["generated_text"] == " 4"  # stopped at the EOS: nothing after the answer
    assert token_texts(tok, tok(" 4", add_special_tokens=False)["input_ids"]) == ["·4"]


@pytest.mark.slow
def test_l05_the_old_collator_with_in_context_ids_equals_trl(tiny, lesson05_trl):
    """L05: "With those, the template-search collator's labels equal TRL's" (template found
    in 4 of 4 rows)."""
    tok = tiny[1]
    texts = tokenize_texts(load_records("course:train")[:4], tok)
    fixed = CompletionOnlyCollator(template_ids_for(tok), tok)
    batch = fixed(texts)
    assert sum(fixed.found) == len(texts) == 4
    rows = [{"input_ids": ids[mask.bool()].tolist(), "labels": lab[mask.bool()].tolist()}
            for ids, lab, mask in zip(batch["input_ids"], batch["labels"],
                                      batch["attention_mask"], strict=True)]
    assert compare_labels(lesson05_trl.examples[:4], rows).identical


@pytest.fixture(scope="module")
def lesson06_report(lesson04_runs):
    """Lesson 06's table, of lesson 04's runs (the fixture reads lesson 06's own)."""
    return evaluate({"base": "tiny", "masked": lesson04_runs["response"],
                     "unmasked": lesson04_runs["none"]}, "course:eval_styles", samples=0)


def test_l06_eval_styles_asks_54_facts_5_or_6_ways():
    """L06: "298 questions about 54 facts the models never saw in tuning, each fact asked 5 or 6
    ways" and "every arithmetic fact (28 of the 54) in the bare form many instruction-tuning
    tutorials use ("What is 5+5?", the style called `bare`; the other tasks have no such form),
    every fact
    in one phrasing taken from the tuning data (`tuning`), and every fact in 4 of 6 styles
    phrased in words the tuning data never uses"."""
    rows = eval_rows("course:eval_styles").rows
    groups = {}
    for row in rows:
        groups.setdefault(row["group"], []).append(row["style"])
    assert len(rows) == 298 and len(groups) == 54
    assert {len(styles) for styles in groups.values()} == {5, 6}
    for styles in groups.values():
        unseen = [style for style in styles if style in UNSEEN]
        assert styles.count("tuning") == 1 and styles.count("bare") <= 1
        assert len(unseen) == len(set(unseen)) == 4 and len(UNSEEN) == 6
    bare = {row["group"] for row in rows if row["style"] == "bare"}
    arithmetic = {row["group"] for row in rows if row["kind"] in ARITHMETIC}
    assert bare == arithmetic and len(bare) == 28


@pytest.mark.slow
@ONE_WORKER
def test_l06_exact_match_of_the_three_models(lesson06_report, lesson04_runs):
    """L06: "The base model gets nothing right ... Both fine-tunes answer short and stop (the
    unmasked one not quite always). Their exact match is below their next-token accuracy of
    lesson 04 (96% and 85%, to a token: section 1 prints both)" and "differ by about 50 of the
    298 answers above (we measured 270 against 219 right, exact match 0.91 against 0.73; another
    processor may move each by an answer)"."""
    assert L06_ACCURACY in prose(LESSON_06) and accuracies_as_quoted(lesson04_runs)
    s = lesson06_report.summaries
    assert s["base"]["exact_match"].k == 0 and s["base"]["checks"]["stopped"].k == 0
    assert s["masked"]["checks"]["stopped"].value == 1
    assert 0.95 < s["unmasked"]["checks"]["stopped"].value < 1
    em = {name: s[name]["exact_match"].value for name in ("masked", "unmasked")}
    rows = s["masked"]["exact_match"].n
    assert within_one_answer(em["masked"], 0.91, n=rows)
    assert within_one_answer(em["unmasked"], 0.73, n=rows)
    right = {name: s[name]["exact_match"].k for name in ("masked", "unmasked")}
    assert abs(right["masked"] - 270) <= 1 and abs(right["unmasked"] - 219) <= 1
    for name, masking in (("masked", "response"), ("unmasked", "none")):
        assert em[name] < lesson04_runs[masking].history.eval_accuracy[-1]


@pytest.mark.slow
@ONE_WORKER
def test_l06_the_base_model_fails_every_check_the_fine_tunes_pass_nearly_all(lesson06_report):
    """L06: "the base model fails almost every check: it never stops and writes the next
    `### Instruction:` itself. The fine-tunes pass nearly all of them" (and "it never answers,
    it goes on writing")."""
    s = lesson06_report.summaries
    assert all(rate.value < 0.05 for rate in s["base"]["checks"].values())
    base_rows = lesson06_report.rows["base"]
    assert sum("### Instruction:" in r["response"] for r in base_rows) > len(base_rows) / 2
    for name in ("masked", "unmasked"):
        assert s[name]["adherence_all"].value > 0.9
        assert all(rate.value > 0.85 for rate in s[name]["checks"].values()), name


@pytest.mark.slow
@ONE_WORKER
def test_l06_seen_and_unseen_phrasings(lesson06_report):
    """L06: "the masked fine-tune at 0.98 on seen phrasings and 0.88 on unseen ones (80 of 82
    and 190 of 216 questions ...). Misspelt questions suffer most (29 of 36 right), then
    embedded ones (30 or 31 of 36, by processor); every other unseen style gets 31 or more of
    its 36" (the lessons' machine: embedded and casual 31, polite 32; an AMD EPYC, with the
    same code: embedded 30, polite 32, casual 33)."""
    s = lesson06_report.summaries["masked"]
    seen, unseen = (s["by_seen"][g]["exact_match"] for g in ("seen", "unseen"))
    assert (seen.n, unseen.n) == (82, 216)
    assert abs(seen.k - 80) <= 1 and abs(unseen.k - 190) <= 1  # within one answer (above)
    assert "then embedded ones (30 or 31 of 36, by processor); every other unseen style gets " \
        "31 or more of its 36" in prose(LESSON_06)
    styles = {name: r["exact_match"] for name, r in s["by_phrasing_style"].items()}
    assert min(styles, key=lambda name: styles[name].value) == "misspelt"
    assert abs(styles["misspelt"].k - 29) <= 1 and styles["embedded"].k in (30, 31)
    assert all(styles[name].k >= 31 for name in UNSEEN if name not in ("misspelt", "embedded"))


@pytest.mark.slow
@ONE_WORKER
def test_l06_the_unmasked_model_is_worse_on_its_own_tuning_phrasing(lesson06_report):
    """L06: "on the phrasing taken from its own tuning data (`tuning`) it answers only 0.69 (37
    of 54), below the polite, casual and imperative styles it never saw (0.75 to 0.81), so its
    seen and unseen rates are close (0.76 and 0.73)"."""
    s = lesson06_report.summaries["unmasked"]
    styles = {name: r["exact_match"] for name, r in s["by_phrasing_style"].items()}
    assert styles["tuning"].n == 54 and abs(styles["tuning"].k - 37) <= 1
    # Below each of the three, as measured. Not by a margin: on an AMD EPYC, with the same code,
    # `tuning` is 38 of 54 (0.704) against casual's 27 of 36 (0.750), below but by one answer.
    assert all(styles["tuning"].value < styles[name].value
               for name in ("polite", "casual", "imperative"))
    seen, unseen = (s["by_seen"][g]["exact_match"] for g in ("seen", "unseen"))
    assert within_one_answer(seen.value, 0.76, n=82)
    assert within_one_answer(unseen.value, 0.73, n=216)


@pytest.mark.slow
@ONE_WORKER
def test_l06_bleu_scores_the_worse_model_higher(lesson06_report):
    """L06: "BLEU gives the masked model 0.0 and the worse unmasked one about 10 (8 to 10 on the
    CPUs we tried: a few rambling answers decide it)" because "every
    masked answer (and every reference) has at most three words ... The unmasked model scores
    about 10 because a few of its answers ramble past three words ...: none of their 4-word runs
    matches", and "three right one-word answers score BLEU 0, and so do right three-word
    ones"; "The answer is 12" against "21" "gets ROUGE-L 0.75, BLEU 59.5 and chrF 83.0"."""
    import sacrebleu

    rows = lesson06_report.rows
    masked = [r["response"] for r in rows["masked"]]
    references = [r["reference"] for r in rows["masked"]]
    assert max(len(text.split()) for text in masked + references) <= 3
    assert lesson06_report.summaries["masked"]["bleu"] == 0
    unmasked = sacrebleu.corpus_bleu([r["response"] for r in rows["unmasked"]], [references])
    assert unmasked.totals[3] > 0 and unmasked.counts[3] == 0  # 4-word runs, none right
    # 10.0 on the lessons' machine, 8.4 on an AMD EPYC with the same code: "8 to 10".
    assert "one about 10 (8 to 10 on the CPUs we tried" in prose(LESSON_06)
    assert 8 <= round(lesson06_report.summaries["unmasked"]["bleu"]) <= 10
    assert corpus_bleu(["El coche rojo", "buenos dias amigo"],
                       ["El coche rojo", "buenos dias amigo"]) == 0
    wrong_number = next(r for r in metric_pitfalls() if r["case"] == "wrong number")
    assert (round(wrong_number["rouge_l"], 2), round(wrong_number["bleu"], 1),
            round(wrong_number["chrf"], 1)) == (0.75, 59.5, 83.0)


@pytest.mark.slow
@ONE_WORKER
def test_l06_a_spanish_answer_can_pass_the_language_check_and_be_wrong(lesson06_report):
    """L06: "an answer can pass it and still be wrong (in our run, the masked model's "cinco" for
    "hello"), and exact match is what catches that"."""
    spanish = [r for r in lesson06_report.rows["masked"] if r["kind"] == "spanish"]
    wrong_spanish = [r for r in spanish if r["checks"]["language_ok"] and not r["exact_match"]]
    assert wrong_spanish
    assert any(r["response"] == "cinco" and r["reference"] == "hola" for r in wrong_spanish)


@pytest.fixture(scope="module")
def lesson06_sampled(lesson04_runs):
    """Lesson 06's table as the lesson makes it, with its three samples per question."""
    return evaluate({"base": "tiny", "masked": lesson04_runs["response"],
                     "unmasked": lesson04_runs["none"]}, "course:eval_styles")


@pytest.mark.slow
@ONE_WORKER
def test_l06_samples_repeat_the_greedy_answer_on_seen_and_unseen_phrasings(lesson06_sampled):
    """L06: "it repeats its greedy answer in about nine samples of ten on seen and on unseen
    phrasings alike (we measured 0.91 on both on one processor, 0.93 and 0.91 on another; the
    intervals overlap). The unmasked model repeats it less often: 0.78 on seen phrasings and
    0.71 on unseen ones, but those intervals overlap too ([0.72, 0.83] and [0.68, 0.75]; 0.73
    for the first on another processor) ... the masked model's intervals lie above the
    unmasked model's on both"."""
    report = lesson06_sampled
    agree = {(model, seen): sampling_consistency(
                 [r for r in report.rows[model] if r["seen"] is seen], report.options)
             for model in ("masked", "unmasked") for seen in (True, False)}
    quoted = {("masked", True): (0.91, 0.93), ("masked", False): (0.91, 0.91),
              ("unmasked", True): (0.78, 0.78), ("unmasked", False): (0.71, 0.71)}
    for key, (low, high) in quoted.items():  # a few draws more on a third processor
        assert low - 0.02 <= agree[key].value <= high + 0.02, (key, str(agree[key]))
    for model in ("masked", "unmasked"):  # no difference between phrasings measured
        seen, unseen = agree[model, True], agree[model, False]
        assert seen.interval[0] <= unseen.interval[1] and unseen.interval[0] <= seen.interval[1]
    assert all(agree["masked", s].interval[0] > agree["unmasked", s].interval[1]
               for s in (True, False))


def test_l06_three_samples_at_temperature_0_7_with_seeds_0_1_2():
    """L06: "three answers sampled at temperature 0.7 (seeds 0, 1, 2) per question, compared
    with the greedy answer" (`evaluate`'s defaults, which the lesson's call keeps)."""
    defaults = {k: p.default for k, p in inspect.signature(evaluate).parameters.items()}
    options = EvalOptions(samples=defaults["samples"], temperature=defaults["temperature"])
    draws = [options.sampling(seed) for seed in range(options.samples)]
    assert [(d.seed, d.temperature, d.do_sample) for d in draws] == [(0, 0.7, True),
                                                                     (1, 0.7, True),
                                                                     (2, 0.7, True)]


@pytest.mark.slow
def test_l06_seed_ranges_at_100_steps_do_not_overlap():
    """L06: "at 100 steps the masked runs answered 0.69-0.74 of the questions, the unmasked
    ones 0.44-0.51"."""
    # The lesson's experiment, as its cell 23 defines it: a run's cache file is named after
    # its training settings and questions, not the experiment's or arms' names, so these are
    # the headless lesson's own runs (read, or trained once here for both).
    seeds = Experiment(name="masking-over-seeds", title="L06", claim="", hypothesis="",
                       arms=(Arm("masked"), Arm("unmasked", "", masking="none")),
                       metrics=(EXACT_MATCH,))
    exact = run_experiment(seeds, seeds=3, steps=100, model="tiny", progress=False,
                           cache_dir=LESSON_CACHE.parent / "experiments").values(EXACT_MATCH)
    assert (round(min(exact["masked"]), 2), round(max(exact["masked"]), 2)) == (0.69, 0.74)
    assert (round(min(exact["unmasked"]), 2), round(max(exact["unmasked"]), 2)) == (0.44, 0.51)


@pytest.mark.slow
@ONE_WORKER
def test_l06_eighteen_items_to_rate_and_the_demo_rubric_agrees_with_exact_match(
        lesson06_report):
    """L06: "Rate 18 answers (6 per model, shuffled; the model is hidden)" and the DEMO ratings
    "agree with exact match by construction"."""
    items = review_items(lesson06_report, per_model=6, seed=0)
    models = [item["model"] for item in items]
    assert len(items) == 18 and all(models.count(m) == 6 for m in lesson06_report.models)
    assert models != sorted(models, key=list(lesson06_report.models).index)  # shuffled
    agreement = metric_agreement(rubric_ratings(items), items).by_metric
    rho = {metric: result.rho for metric, result in agreement.items() if result is not None}
    assert rho["exact_match"] > 0.9 and rho["exact_match"] == max(rho.values())


@pytest.mark.slow
@ONE_WORKER
def test_l06_the_demo_disagreements_are_wrong_answers_rouge_scores_0(lesson06_report):
    """L06: "With the DEMO ratings there is nothing of the kind: the items listed are wrong
    answers that ROUGE-L also scores 0, and their ranks differ only because the rubric rates a
    clean wrong answer 2 and a ramble 1 where ROUGE-L gives both 0"."""
    items = review_items(lesson06_report, per_model=6, seed=0)
    ratings = rubric_ratings(items)
    listed = disagreements(ratings, items, "rouge_l", k=4)
    assert len(listed) == 4
    assert all(item["metric"] == 0 and not item["exact_match"] for item in listed)
    assert {item["human"] for item in listed} <= {1, 2}
    # The gap comes from the two ratings ROUGE-L ties at 0. Which of them fill the top 4 moves
    # with the CPU's rounding (all four rated 2 on an AVX2-only AMD EPYC, two of each elsewhere).
    assert {ratings[item["key"]]["rating"] for item in items if item["rouge_l"] == 0} == {1, 2}
    assert not any(item["exact_match"] for item in listed)


def test_l06_train_varied_asks_each_training_fact_about_8_more_ways():
    """L06: "`course:train_varied` asks nearly every training fact in about 8 more ways (all but
    56 training facts of their own, kept aside to choose the recipe's settings on)" (L07:
    "`course:train` plus about 8 more phrasings of most facts")."""
    train, varied = load_records("course:train"), load_records("course:train_varied")
    assert varied[:len(train)] == train
    pairs = train_with_facts(seed=0)[0]
    paraphrases = paraphrase_pairs(pairs, seed=0)
    assert len(varied) - len(train) == len(paraphrases)
    per_fact = Counter(fact.key for fact, _ in paraphrases)
    counts = sorted(per_fact.values())
    assert counts[len(counts) // 2] == 8 and 6 <= counts[0] and counts[-1] == 8
    facts = {fact.key for fact, _ in pairs}
    assert len(facts - per_fact.keys()) == 56 and per_fact.keys() <= facts
