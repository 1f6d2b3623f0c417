"""The token-by-token mask view: chips, HTML, ANSI, figure, loss overlay, explorer."""

import math
import re

import pytest

from course_lib.masking.labels import IGNORE_INDEX, pad_batch, prepare_examples
from course_lib.masking.view import mask_explorer, mask_view, show_mask, visible

RECORDS = [
    {"instruction": "What is 2+2?", "response": "4"},
    {"instruction": "Translate this to Spanish", "input": "Hello world", "response": "Hola\nmundo"},
]
ANSI = re.compile(r"\033\[[0-9;]*m")


def test_visible_whitespace():
    assert visible(" a\nb\t") == "·a↵b→"


def test_chips_match_tokens_and_labels(toy_tokenizer):
    ex = prepare_examples(RECORDS[:1], toy_tokenizer).examples[0]
    view = mask_view([ex], toy_tokenizer)
    chips = view.examples[0].chips
    assert [c.token_id for c in chips] == ex["input_ids"]
    assert [c.label for c in chips] == ex["labels"]
    assert [c.text for c in chips][-2:] == ["·4", "</s>"]
    assert chips[0].special and chips[-1].special and not chips[1].special
    assert [c.trained for c in chips] == [lab != IGNORE_INDEX for lab in ex["labels"]]


def test_ansi_like_axolotl_with_totals(toy_tokenizer):
    view = show_mask(RECORDS[0], toy_tokenizer)
    text = view.to_ansi(color=False)
    four = toy_tokenizer.convert_tokens_to_ids("Ġ4")
    assert f"·4({four}, {four})" in text
    assert "[</s>](1, 1)" in text and "###(-100, " in text
    assert text.rstrip().endswith("Total input len: 15  Count of labels: 2  (trained 13%)")
    assert not ANSI.search(text)


def test_ansi_colours_and_no_color(toy_tokenizer, monkeypatch):
    view = show_mask(RECORDS[0], toy_tokenizer)
    monkeypatch.delenv("NO_COLOR", raising=False)
    coloured = view.to_ansi()
    assert "\033[32m·4(" in coloured  # trained: green
    assert "\033[90m###(" in coloured  # masked: grey
    assert "\033[32;1m[</s>]" in coloured  # special: bold
    monkeypatch.setenv("NO_COLOR", "1")
    assert not ANSI.search(view.to_ansi())
    assert ANSI.sub("", coloured) == view.to_ansi()


def test_html_is_inline_css_without_script(toy_tokenizer):
    html = show_mask(RECORDS, toy_tokenizer)._repr_html_()
    assert "<script" not in html and "<style" not in html
    assert html.count('title="id ') == sum(
        len(e["input_ids"]) for e in prepare_examples(RECORDS, toy_tokenizer).examples)
    assert "Hola" in html and "↵" in html
    assert "#bbf7d0" in html and "#e5e7eb" in html  # trained and masked colours
    assert "Count of labels" in html


def test_padding_is_shown_as_padding(toy_tokenizer_pad_is_eos):
    tok = toy_tokenizer_pad_is_eos
    batch = pad_batch(prepare_examples(RECORDS, tok).examples, tok.pad_token_id)
    view = mask_view(batch, tok)
    assert len(view.examples) == 2
    short = min(view.examples, key=lambda e: e.n_tokens)
    pads = [c for c in short.chips if c.padding]
    assert pads and all(not c.trained for c in pads)
    real_eos = short.chips[short.n_tokens - 1]
    assert real_eos.trained and not real_eos.padding  # pad == eos, yet trained
    assert "pad)" in view.to_ansi(color=False)


def test_loss_overlay(toy_tokenizer):
    ex = prepare_examples(RECORDS[:1], toy_tokenizer).examples[0]
    losses = [float("nan")] * (len(ex["input_ids"]) - 2) + [0.1, 4.9]
    view = mask_view(ex, toy_tokenizer, losses=losses)
    assert view.examples[0].chips[-1].loss == pytest.approx(4.9)
    assert math.isnan(view.examples[0].chips[0].loss)
    text = view.to_ansi(color=False)
    assert "loss 0.10" in text and "loss 4.90" in text
    html = view._repr_html_()
    assert "coloured by loss" in html and "loss 4.900" in html
    assert "38;2;" in view.to_ansi(color=True)  # truecolour by loss
    with pytest.raises(ValueError, match="one entry per token"):
        mask_view(ex, toy_tokenizer, losses=[0.0])


def test_figure_has_a_patch_per_token(toy_tokenizer):
    import matplotlib.pyplot as plt

    view = show_mask(RECORDS, toy_tokenizer)
    fig = view.to_figure()
    n_tokens = sum(len(e.chips) for e in view.examples)
    assert len(fig.axes[0].patches) == n_tokens
    plt.close(fig)


def test_explorer_updates_with_example_and_strategy(toy_tokenizer):
    box = mask_explorer(RECORDS, toy_tokenizer, maskings=("none", "response", "template"))
    picker, strategy, out = box.children
    assert strategy.value == "response" and "Example 0: response only" in out.value
    before = out.value
    strategy.value = "template"
    assert out.value != before
    assert "Example 0 has no trained token" in out.value  # the seed template is never found
    picker.value = 1
    assert "Example 1 has no trained token" in out.value
    strategy.value = "none"
    assert "Example 1 trains on its prompt" in out.value


def test_show_mask_with_a_model_overlays_its_losses(toy_model_dir, toy_tokenizer):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(toy_model_dir)
    view = show_mask(RECORDS[0], toy_tokenizer, model=model)
    chips = view.examples[0].chips
    with_loss = [c.trained for c in chips if c.loss is not None and not math.isnan(c.loss)]
    assert with_loss == [True, True]  # " 4" and EOS, the trained tokens, have a loss
    assert all(c.loss > 0 for c in chips if c.trained)
