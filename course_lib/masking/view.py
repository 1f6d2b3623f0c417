"""See every token's label: the mask, token by token.

Each token is a chip: its text (spaces shown as '·', newlines as '↵'), then its id and its
label underneath. Two cues tell masked from trained, so the view reads without colour too:
masked tokens (label -100) are hatched grey with a dashed border, trained tokens are blue
and underlined. Special tokens (BOS, EOS, pad) are outlined and bold; padding
(attention_mask 0) is plain with a dotted border and says "pad".

    >>> view = show_mask({"instruction": "What is 2+2?", "response": "4"}, tok)  # doctest: +SKIP
    >>> view            # in JupyterLab / Colab: chips (HTML, no JavaScript)  # doctest: +SKIP
    >>> print(view.to_ansi())   # a terminal, like Axolotl's `preprocess --debug` # doctest: +SKIP
    >>> view.to_figure()        # a matplotlib figure, for static export         # doctest: +SKIP

After training, pass per-token losses (masking.loss.example_token_losses) and each trained
token shows its loss under the chip, coloured from blue (learned, loss 0) through yellow to
orange (not yet, loss >= `loss_high`): a scale colour-blind readers can tell apart too.
The text around the chips takes JupyterLab's theme colours, so it reads in dark themes.
"""

from __future__ import annotations

import html
import math
import os
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from course_lib.display import THEME_ERROR, THEME_TEXT, THEME_TEXT2, new_figure, token_texts
from course_lib.errors import CourseError, shown
from course_lib.formatting.records import records_given
from course_lib.formatting.templates import format_as_trained
from course_lib.masking import MASKINGS
from course_lib.masking.audit import audit_labels
from course_lib.masking.labels import IGNORE_INDEX, as_rows
from course_lib.masking.loss import example_token_losses
from course_lib.masking.strategies import check_masking, label_examples

# Chip colours: light backgrounds with dark text, readable on light and dark pages alike.
MASKED_BG, MASKED_FG, MASKED_EDGE = "#e5e7eb", "#374151", "#6b7280"
MASKED_HATCH = "repeating-linear-gradient(135deg, #eceef2 0 4px, #d6dae1 4px 6px)"
TRAINED_BG, TRAINED_FG, TRAINED_EDGE = "#cfe2ff", "#0b2a55", "#1f5fbf"
PAD_BG = "#f9fafb"
SPECIAL_BORDER = "#111827"  # the outline inside a chip; the page-side outline uses THEME_TEXT
# The loss scale: blue (learned), yellow, orange (not yet). Blue-yellow-orange stays apart for
# the common colour-vision deficiencies, unlike red-green.
LOSS_STOPS = ((0.0, (107, 174, 214)), (0.5, (254, 227, 145)), (1.0, (253, 141, 60)))


@dataclass(frozen=True)
class TokenChip:
    """One token: what it reads as, its id, its label and, optionally, its loss."""

    text: str  # whitespace made visible
    token_id: int
    label: int
    special: bool = False
    padding: bool = False  # attention_mask 0
    loss: float | None = None  # per-token loss (NaN/None: not trained or not computed)

    @property
    def trained(self) -> bool:
        return self.label != IGNORE_INDEX

    @property
    def label_text(self) -> str:
        return "-100" if not self.trained else str(self.label)


@dataclass
class ExampleView:
    """The chips of one example, with a title and its counts."""

    title: str
    chips: list[TokenChip]

    @property
    def n_tokens(self) -> int:
        return sum(not c.padding for c in self.chips)

    @property
    def n_labels(self) -> int:
        return sum(c.trained for c in self.chips)

    @property
    def n_trained(self) -> int:
        """Trained predictions: labels not -100 after the first position (position t predicts
        token t + 1, so nothing predicts the first token and its label is never used)."""
        return sum(c.trained for c in self.chips[1:])

    def counts(self) -> str:
        """Axolotl's totals (its 'Count of labels' counts every label not -100), then in plain
        words the predictions trained, as audit_labels and the loss count them."""
        predictions = max(self.n_tokens - 1, 0)
        unused = ("; the first token's label is never used: no token before it predicts it"
                  if self.chips and self.chips[0].trained else "")
        return (f"Total input len: {self.n_tokens}  Count of labels: {self.n_labels}  "
                f"({self.n_trained} of {predictions} predictions trained, "
                f"{self.n_trained / max(predictions, 1):.0%}{unused})")


def loss_colour(loss: float, high: float) -> str:
    """The loss scale's colour for `loss` (0 -> blue, high/2 -> yellow, >= high -> orange).

        >>> loss_colour(0.0, 5.0), loss_colour(2.5, 5.0), loss_colour(9.0, 5.0)
        ('#6baed6', '#fee391', '#fd8d3c')
    """
    x = 0.0 if high <= 0 else max(0.0, min(1.0, loss / high))
    for (x0, c0), (x1, c1) in zip(LOSS_STOPS, LOSS_STOPS[1:], strict=False):
        if x <= x1:
            t = (x - x0) / (x1 - x0)
            r, g, b = (round(a + t * (b - a)) for a, b in zip(c0, c1, strict=True))
            return f"#{r:02x}{g:02x}{b:02x}"
    raise AssertionError("unreachable: x is clamped to [0, 1]")


def _finite(x: float | None) -> bool:
    return x is not None and not math.isnan(x)


def _chip_style(c: TokenChip, loss_high: float) -> str:
    """The chip's CSS: background and border say masked / trained, in two cues."""
    if c.trained:
        bg = loss_colour(c.loss, loss_high) if _finite(c.loss) else TRAINED_BG
        edge = f"border:1px solid {TRAINED_EDGE};border-bottom:3px solid {TRAINED_EDGE}"
        fg = TRAINED_FG
    else:
        bg = f"{MASKED_BG};background-image:{MASKED_HATCH}"
        edge, fg = f"border:1px dashed {MASKED_EDGE}", MASKED_FG
    if c.padding:  # plain and dotted, yet as readable as the rest (no fading)
        bg, edge, fg = PAD_BG, f"border:1px dotted {MASKED_EDGE}", MASKED_FG
    special = (f"outline:2px solid {THEME_TEXT};outline-offset:1px;font-weight:bold"
               if c.special else "font-weight:normal")
    return (f"display:inline-block;margin:3px;padding:2px 5px;border-radius:4px;"
            f"background:{bg};color:{fg};{edge};{special};text-align:center;vertical-align:top")


@dataclass
class MaskView:
    """Several examples' chips, renderable as HTML, ANSI text or a matplotlib figure."""

    examples: list[ExampleView]
    loss_high: float = 5.0  # the loss shown as full orange in the overlay

    # ---- terminal -------------------------------------------------------------------------
    def to_ansi(self, color: bool | None = None) -> str:
        """Axolotl-style: a key, then each token and (label, id); totals per example.

        color=None colours unless the NO_COLOR environment variable is set (no-color.org).
        """
        if color is None:
            color = not os.environ.get("NO_COLOR")
        blocks = [self.legend_text(color)]
        for ex in self.examples:
            parts = []
            for c in ex.chips:
                text = f"[{c.text}]" if c.special else c.text
                extra = f", loss {c.loss:.2f}" if c.trained and _finite(c.loss) else ""
                pad = ", pad" if c.padding else ""
                parts.append(self._paint(f"{text}({c.label_text}, {c.token_id}{extra}{pad})",
                                         c, color))
            blocks.append(f"{ex.title}\n" + " ".join(parts) + "\n" + ex.counts())
        return "\n\n".join(blocks)

    def legend_text(self, color: bool = False) -> str:
        """to_ansi's key, one line: what the numbers after a token are, and its marks."""
        masked = self._paint("label -100: masked, not trained", TokenChip("", 0, IGNORE_INDEX),
                             color)
        trained = self._paint("label = id: trained", TokenChip("", 0, 1), color)
        loss = ", loss" if self.has_losses else ""
        pad = any(c.padding for ex in self.examples for c in ex.chips)
        return (f"Key: text(label, token id{loss}); {masked}; {trained}"
                f"{'; pad: padding (attention_mask 0)' if pad else ''}; "
                f"· is a space, ↵ a newline, [ ] a special token.")

    def _paint(self, text: str, chip: TokenChip, color: bool) -> str:
        """`text` in the chip's terminal colour: grey masked, green trained, bold special."""
        if not color:
            return text
        if chip.padding:
            code = "2"  # faint
        elif chip.trained and _finite(chip.loss):
            hexcol = loss_colour(chip.loss, self.loss_high)
            r, g, b = (int(hexcol[k:k + 2], 16) for k in (1, 3, 5))
            code = f"38;2;{r};{g};{b}"
        elif chip.trained:
            code = "32"  # green
        else:
            code = "90"  # grey
        if chip.special:
            code += ";1"  # bold
        return f"\033[{code}m{text}\033[0m"

    def __str__(self) -> str:
        return self.to_ansi(color=False)

    # ---- notebook -------------------------------------------------------------------------
    def _chip_html(self, c: TokenChip) -> str:
        tip = f"id {c.token_id}, label {c.label_text}"
        if _finite(c.loss):
            tip += f", loss {c.loss:.3f}"
        if c.padding:
            tip += ", padding (attention_mask 0)"
        # Under the token: id and label, then the loss of a trained token when there is one.
        sub = f"{c.token_id}<br>{c.label_text}"
        if c.trained and _finite(c.loss):
            sub += f"<br>loss {c.loss:.2f}"
        if c.padding:
            sub += "<br>pad"
        return (
            f'<span title="{html.escape(tip)}" style="{_chip_style(c, self.loss_high)}">'
            f'<span style="font-family:monospace;font-size:14px;white-space:pre">'
            f"{html.escape(c.text)}</span>"
            f'<br><span style="font-size:11px;line-height:1.25">{sub}</span></span>'
        )

    def legend_html(self) -> str:
        """The key: a chip of each kind, and the loss scale when losses are shown."""
        masked = TokenChip("masked", 0, IGNORE_INDEX)
        trained = TokenChip("trained", 0, 1)
        special = TokenChip("special", 0, IGNORE_INDEX, special=True)
        swatch = '<span style="{}">{}</span>'
        parts = [swatch.format(_chip_style(c, self.loss_high), c.text)
                 for c in (masked, trained, special)]
        text = (" masked: label -100, not graded; trained: graded; · is a space, ↵ a newline;"
                " under each token: its id, then its label")
        if self.has_losses:
            steps = (0.0, self.loss_high / 2, self.loss_high)
            scale = "".join(
                swatch.format(_chip_style(TokenChip("", 0, 1, loss=x), self.loss_high),
                              f"{'≥ ' if x == self.loss_high else ''}{x:g}")
                for x in steps)
            text += f", then its loss. Loss scale: {scale} (low: learned; high: not yet)"
        return (f'<div style="font-size:13px;color:{THEME_TEXT}">'
                f"{''.join(parts)}{text}</div>")

    @property
    def has_losses(self) -> bool:
        return any(c.trained and _finite(c.loss) for ex in self.examples for c in ex.chips)

    def _repr_html_(self) -> str:
        body = "".join(
            f'<div style="margin:8px 0"><div style="font-weight:bold;color:{THEME_TEXT}">'
            f"{html.escape(ex.title)}</div><div>{''.join(self._chip_html(c) for c in ex.chips)}"
            f'</div><div style="font-size:13px;color:{THEME_TEXT2}">{html.escape(ex.counts())}'
            f"</div></div>"
            for ex in self.examples
        )
        return f'<div style="font-size:14px">{self.legend_html()}{body}</div>'

    # ---- static export --------------------------------------------------------------------
    def to_figure(self, chars_per_row: int = 90, figsize_width: float = 10.0):
        """A figure of the chips (an image in a notebook; rows wrap at ~`chars_per_row`).

        Masked chips are hatched, trained ones plain; trained tokens show their loss colour.
        """
        from matplotlib.patches import FancyBboxPatch

        # One axis unit per character, one per line, so chip widths follow their text's length.
        lines, key = self._figure_lines(chars_per_row), self.figure_key()
        fig = new_figure(figsize=(figsize_width, 0.45 * len(lines) + 0.4 + 0.2 * key.count("\n")))
        ax = fig.subplots()
        # The key on top: a saved PNG has no HTML legend beside it to say what marks mean.
        ax.set_title(key, fontsize=8, loc="left")
        ax.set_xlim(0, chars_per_row + 2)
        # y grows downwards, so the first example is at the top, as it reads in the notebook.
        ax.set_ylim(len(lines), 0)
        ax.axis("off")
        for y, (title, row) in enumerate(lines):
            if title:
                # A title line holds no chips: write it and go to the next line.
                ax.text(0, y + 0.6, title, fontsize=9, fontweight="bold", va="center")
                continue
            x = 0.0
            for c in row:
                w = len(c.text) + 0.6
                # Colour alone fails in print and for some readers: masked chips are hatched too.
                if c.trained:
                    bg = loss_colour(c.loss, self.loss_high) if _finite(c.loss) else TRAINED_BG
                else:
                    bg = MASKED_BG
                ax.add_patch(FancyBboxPatch(
                    (x, y + 0.15), w, 0.7, boxstyle="round,pad=0.02,rounding_size=0.1",
                    facecolor=bg, hatch=None if c.trained else "///",
                    edgecolor=SPECIAL_BORDER if c.special else MASKED_EDGE,
                    linewidth=1.5 if c.special else 0.5, alpha=0.45 if c.padding else 1.0,
                ))
                ax.text(x + w / 2, y + 0.5, c.text, ha="center", va="center", fontsize=8,
                        family="monospace", fontweight="bold" if c.special else "normal",
                        color=TRAINED_FG if c.trained else MASKED_FG)
                # A small gap, so two neighbouring chips never read as one token.
                x += w + 0.4
        fig.tight_layout()
        return fig

    def figure_key(self) -> str:
        """What the figure's marks mean: hatching, outline, fading and, with losses, colour."""
        marks = ["Key: hatched grey = masked (label -100, not trained)", "plain = trained",
                 "bold outline = special token", "· a space, ↵ a newline"]
        if any(c.padding for ex in self.examples for c in ex.chips):
            marks.append("faded = padding")
        if self.has_losses:
            marks.append(f"a trained token's colour is its loss: blue 0, yellow "
                         f"{self.loss_high / 2:g}, orange {self.loss_high:g} nats or more")
        return textwrap.fill("; ".join(marks), 130)  # 130 characters: 10 inches at 8 points

    def _figure_lines(self, chars_per_row: int) -> list[tuple[str, list[TokenChip]]]:
        """Title lines and rows of chips, each row at most about `chars_per_row` wide."""
        lines: list[tuple[str, list[TokenChip]]] = []
        for ex in self.examples:
            lines.append((ex.title + "  —  " + ex.counts(), []))
            row: list[TokenChip] = []
            width = 0
            for c in ex.chips:
                if row and width + len(c.text) + 1 > chars_per_row:
                    lines.append(("", row))
                    row, width = [], 0
                row.append(c)
                width += len(c.text) + 1
            lines.append(("", row))
        return lines


def mask_view(
    examples: Any,
    tokenizer,
    losses: Any = None,
    titles: Sequence[str] | None = None,
    loss_high: float = 5.0,
) -> MaskView:
    """Build the view from tokenized examples (dicts with input_ids and labels, or a batch).

    losses: per-token losses aligned with the tokens, one sequence per example (a list of
    lists or a (batch, seq) tensor; NaN where not trained), e.g. from
    masking.loss.example_token_losses. Without labels, every token is shown as trained.
    """
    # Any shape of input (a batch tensor, a list of dicts) becomes plain rows first.
    rows = as_rows(examples)
    if any("input_ids" not in row for row in rows):  # records, not tokenized: a KeyError
        raise CourseError("mask_view shows tokenized examples (input_ids and labels); for "
                          "records, call show_mask(records, tokenizer).")
    # A title short of the examples was an IndexError; a string, a letter per example.
    if titles is not None and (isinstance(titles, str) or len(titles) != len(rows)):
        given = "one string" if isinstance(titles, str) else f"{len(titles)} titles"
        raise CourseError(f"titles holds {given} for {len(rows)} examples; give a list with "
                          f"one title per example.")
    if losses is not None:
        # Losses misaligned with the examples would colour the wrong tokens: refuse them now.
        losses = losses.tolist() if hasattr(losses, "tolist") else list(losses)
        # A list of 1-D tensors (one per example) must not read as one example's losses.
        losses = [x.tolist() if hasattr(x, "tolist") else x for x in losses]
        if rows and losses and not isinstance(losses[0], list | tuple):
            losses = [losses]  # one example's losses
        if len(losses) != len(rows):
            raise CourseError(f"losses holds {len(losses)} sequences for {len(rows)} "
                              f"examples; give one list of per-token losses per example, e.g. "
                              f"[example_token_losses(model, ex) for ex in examples].")
    # BOS, EOS and pad are bold, since a missing or extra one is the usual masking mistake.
    special_ids = set(tokenizer.all_special_ids)
    views = []
    for i, row in enumerate(rows):
        ids = row["input_ids"]
        # No labels means plain language modelling: every token is trained.
        labels = row.get("labels", list(ids))
        # Padding is told by attention_mask, not by id: the pad id can be EOS.
        mask = row.get("attention_mask") or [1] * len(ids)
        row_losses = losses[i] if losses is not None else [None] * len(ids)
        # zip(strict=True) would fail too, but without saying which example or which list.
        if len(labels) != len(ids) or len(row_losses) != len(ids):
            raise CourseError(f"example {i} has {len(ids)} input_ids, {len(labels)} labels "
                              f"and {len(row_losses)} losses; give one entry per token in each "
                              f"(labels and losses as long as input_ids).")
        # Token by token, spaces as '·': ' 4' and '4' are different tokens and must look it.
        texts = token_texts(tokenizer, ids)
        chips = [
            TokenChip(text=t, token_id=int(tid), label=int(lab),
                      special=int(tid) in special_ids, padding=not m,
                      loss=None if loss is None else float(loss))
            for t, tid, lab, m, loss in zip(texts, ids, labels, mask, row_losses, strict=True)
        ]
        title = titles[i] if titles is not None else f"Example {i}"
        views.append(ExampleView(title=title, chips=chips))
    return MaskView(examples=views, loss_high=loss_high)


def show_mask(
    records: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    tokenizer,
    template: Any = "one_line",
    masking: str = "response",
    losses: Any = None,
    max_length: int | None = None,
    model: Any = None,
) -> MaskView:
    """Records (any schema the formatting stage reads) -> labels by `masking` -> the view.

    masking: "none", "response", "template" or "trl" (see strategies.MASKINGS).
    model: after training, pass the model to colour each trained token by its loss.
    """
    recs = records_to_view(records, tokenizer, "show_mask")
    if model is not None and not isinstance(model, torch.nn.Module):  # model="tiny", a tokenizer
        raise CourseError(f"model must be the model object whose loss colours the tokens "
                          f"(show_mask(record, tokenizer, model=model)), not "
                          f"{shown(model) if isinstance(model, str) else type(model).__name__}.")
    examples = label_examples(recs, tokenizer, masking, template, max_length=max_length)
    if model is not None and losses is None:
        losses = [example_token_losses(model, ex) for ex in examples]
    titles = [f"Example {i} ({masking})" for i in range(len(examples))]
    return mask_view(examples, tokenizer, losses=losses, titles=titles)


def records_to_view(records: Any, tokenizer, call: str) -> list:
    """show_mask's and mask_explorer's records as a list, or one sentence: swapped arguments,
    a data set's name and a DataFrame failed deep inside, as "not iterable" or "example 0:
    expected a JSON object, got str" (a string or a table iterates over characters, columns)."""
    if not hasattr(tokenizer, "convert_ids_to_tokens"):  # a model, the records, a name
        raise CourseError(f"Give {call} the records, then the tokenizer; got "
                          f"{type(records).__name__} and {type(tokenizer).__name__}.")
    if isinstance(records, Mapping):  # one record: shown alone
        return [records]
    return records_given(records, "records must be a record (a dict) or a list of them, not "
                                  "{name}; load a file or a set such as 'course:train' first, "
                                  "e.g. load_records('course:train')[:12].")


def mask_explorer(
    records: Sequence[Mapping[str, Any]],
    tokenizer,
    template: Any = "one_line",
    maskings: Sequence[str] = tuple(MASKINGS),
):
    """An ipywidgets explorer: pick an example and a masking strategy, watch the chips change.

    Returns a VBox to display in a notebook. Only the example shown is labelled, once per
    strategy, so a data set of any size opens at once (labelling 10k records for each
    strategy took 27 s to show one of them).
    """
    import ipywidgets as widgets  # deferred: widgets are only needed in a notebook

    recs = records_to_view(records, tokenizer, "mask_explorer")
    maskings = (maskings,) if isinstance(maskings, str) else tuple(maskings)  # one, by name
    # Checked here, not left to label_examples: each masking is labelled only when first shown.
    for name in maskings:
        check_masking(name)
    if not recs:
        raise CourseError("mask_explorer needs at least one record; give it some records, "
                          "e.g. mask_explorer(load_records('course:train')[:12], tokenizer).")
    cache: dict[tuple[str, int], dict[str, list[int]]] = {}  # by (masking, example)
    wide = widgets.Layout(width="100%", max_width="56em")
    picker = widgets.Dropdown(options=[(_caption(i, r), i) for i, r in enumerate(recs)],
                              value=0, description="Example", layout=wide,
                              style={"description_width": "initial"})
    # JupyterLab takes a closed dropdown's arrow and letter keys as notebook shortcuts
    # (ipywidgets#3912: ↓ goes to the next cell): a number box keeps them, for the keyboard.
    number = widgets.BoundedIntText(value=0, min=0, max=len(recs) - 1,
                                    description="or its number", layout=widgets.Layout(
                                        width="16em"), style={"description_width": "initial"})
    widgets.link((number, "value"), (picker, "value"))
    masking = widgets.ToggleButtons(
        options=[(m, m) for m in maskings], value=maskings[min(1, len(maskings) - 1)],
        description="Masking", tooltips=[MASKINGS[m] for m in maskings],
        style={"description_width": "initial"},
    )
    out = widgets.HTML()

    def render(*_: Any) -> None:
        key = (masking.value, picker.value)
        if key not in cache:  # each record is labelled on its own by every strategy
            cache[key] = label_examples([recs[key[1]]], tokenizer, key[0], template)[0]
        out.value = _explorer_html(recs, picker.value, cache[key], masking.value, tokenizer,
                                   template)

    picker.observe(render, names="value")
    masking.observe(render, names="value")
    render()
    box = widgets.VBox([picker, number, masking, out])
    box.render = render  # type: ignore[attr-defined]  # lets tests and lessons refresh it
    return box


def _caption(i: int, record: Mapping[str, Any]) -> str:
    """What tells examples apart in the menu: instruction, input and answer, not the template."""
    parts = [str(record.get("instruction", "")), str(record.get("input", "") or "")]
    text = " | ".join(p for p in parts if p) + " → " + str(record.get("response", ""))
    return f"{i}: {text if len(text) <= 90 else text[:89] + '…'}"


def _explorer_html(records: Sequence[Mapping[str, Any]], i: int, example: dict, masking: str,
                   tokenizer, template: Any) -> str:
    """The explorer's page for one example: its full text, the chips, the audit's warnings."""
    prompt, response = format_as_trained(records[i], template, where=f"example {i}")
    view = mask_view([example], tokenizer, titles=[f"Example {i}: {MASKINGS[masking]}"])
    warnings = audit_labels([example], tokenizer, indices=[i]).warnings
    notes = "".join(f"<li>{html.escape(w)}</li>" for w in warnings)
    full = (f'<div style="font-family:monospace;white-space:pre-wrap;margin:4px 0;'
            f'color:{THEME_TEXT}"><b>prompt:</b> {html.escape(prompt)}<br>'
            f"<b>response:</b> {html.escape(response)}</div>")
    return full + view._repr_html_() + (
        f'<ul style="color:{THEME_ERROR}">{notes}</ul>' if notes else "")
