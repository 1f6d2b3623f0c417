"""See every token's label: the mask, token by token.

Each token is a chip: its text (spaces shown as '·', newlines as '↵'), its id and its label.
Masked tokens (label -100) are grey, trained tokens green, special tokens (BOS, EOS, pad) are
outlined and bold, padding (attention_mask 0) is faded.

    >>> view = show_mask({"instruction": "What is 2+2?", "response": "4"}, tok)  # doctest: +SKIP
    >>> view            # in JupyterLab / Colab: chips (HTML, no JavaScript)  # doctest: +SKIP
    >>> print(view.to_ansi())   # a terminal, like Axolotl's `preprocess --debug` # doctest: +SKIP
    >>> view.to_figure()        # a matplotlib figure, for static export         # doctest: +SKIP

After training, pass per-token losses (masking.loss.example_token_losses) and trained tokens are
coloured by their loss instead: green is learned, red is not yet.
"""

from __future__ import annotations

import html
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from course_lib.formatting.templates import format_example
from course_lib.masking import MASKINGS
from course_lib.masking.audit import audit_labels
from course_lib.masking.labels import IGNORE_INDEX, as_rows
from course_lib.masking.loss import example_token_losses
from course_lib.masking.strategies import label_examples

VISIBLE_WHITESPACE = {" ": "·", "\n": "↵", "\t": "→", "\r": "␍"}

# Colours, shared by the HTML and figure renderers.
MASKED_BG, MASKED_FG = "#e5e7eb", "#6b7280"
TRAINED_BG, TRAINED_FG = "#bbf7d0", "#14532d"
SPECIAL_BORDER = "#1f2937"


def visible(text: str) -> str:
    """Make whitespace visible: visible(" a\\n") == "·a↵"."""
    return "".join(VISIBLE_WHITESPACE.get(ch, ch) for ch in text)


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


CONTINUED = "⋯"  # the chip of a byte token that continues the character shown before it


def _token_texts(tokenizer, ids: Sequence[int]) -> list[str]:
    """Each token's text. A character written in several byte tokens ('é' = 'Ã' + '©', every
    Cyrillic or CJK character here) is shown on its first token, its other tokens as '⋯'."""
    ids = list(ids)
    raw = tokenizer.convert_ids_to_tokens(ids)
    texts: list[str] = []
    while len(texts) < len(ids):
        i = len(texts)
        text = tokenizer.decode([ids[i]], skip_special_tokens=False)
        if "\ufffd" not in text:
            texts.append(text)
            continue
        # The shortest run of tokens from here that decodes whole (UTF-8: at most 4 bytes).
        for j in range(i + 2, min(i + 4, len(ids)) + 1):
            whole = tokenizer.decode(ids[i:j], skip_special_tokens=False)
            if "\ufffd" not in whole:
                texts += [whole] + [CONTINUED] * (j - i - 1)
                break
        else:
            texts.append(raw[i])  # a stray byte: keep the tokenizer's own piece, e.g. 'Ã'
    return texts


@dataclass
class ExampleView:
    """The chips of one example, with a title and its counts."""

    title: str
    chips: list[TokenChip]

    @property
    def n_tokens(self) -> int:
        return sum(not c.padding for c in self.chips)

    @property
    def n_trained(self) -> int:
        return sum(c.trained for c in self.chips)

    def counts(self) -> str:
        return (f"Total input len: {self.n_tokens}  Count of labels: {self.n_trained}  "
                f"(trained {self.n_trained / max(self.n_tokens, 1):.0%})")


def _loss_colour(loss: float, high: float) -> str:
    """Green (low loss) to red (high loss), as an HTML hex colour."""
    x = 0.0 if high <= 0 else max(0.0, min(1.0, loss / high))
    r, g, b = int(34 + x * (220 - 34)), int(197 - x * (197 - 38)), int(94 - x * (94 - 38))
    return f"#{r:02x}{g:02x}{b:02x}"


def _finite(x: float | None) -> bool:
    return x is not None and not math.isnan(x)


@dataclass
class MaskView:
    """Several examples' chips, renderable as HTML, ANSI text or a matplotlib figure."""

    examples: list[ExampleView]
    loss_high: float = 5.0  # the loss shown as full red in the overlay

    # ---- terminal -------------------------------------------------------------------------
    def to_ansi(self, color: bool | None = None) -> str:
        """Axolotl-style: each token then (label, id); totals per example.

        color=None colours unless the NO_COLOR environment variable is set (no-color.org).
        """
        if color is None:
            color = not os.environ.get("NO_COLOR")

        def paint(text: str, chip: TokenChip) -> str:
            if not color:
                return text
            if chip.padding:
                code = "2"  # faint
            elif chip.trained and _finite(chip.loss):
                hexcol = _loss_colour(chip.loss, self.loss_high)
                r, g, b = (int(hexcol[k:k + 2], 16) for k in (1, 3, 5))
                code = f"38;2;{r};{g};{b}"
            elif chip.trained:
                code = "32"  # green
            else:
                code = "90"  # grey
            if chip.special:
                code += ";1"  # bold
            return f"\033[{code}m{text}\033[0m"

        blocks = []
        for ex in self.examples:
            parts = []
            for c in ex.chips:
                text = f"[{c.text}]" if c.special else c.text
                extra = f", loss {c.loss:.2f}" if c.trained and _finite(c.loss) else ""
                pad = ", pad" if c.padding else ""
                parts.append(paint(f"{text}({c.label_text}, {c.token_id}{extra}{pad})", c))
            blocks.append(f"{ex.title}\n" + " ".join(parts) + "\n" + ex.counts())
        return "\n\n".join(blocks)

    def __str__(self) -> str:
        return self.to_ansi(color=False)

    # ---- notebook -------------------------------------------------------------------------
    def _chip_html(self, c: TokenChip) -> str:
        if c.trained and _finite(c.loss):
            bg, fg = _loss_colour(c.loss, self.loss_high), "#ffffff"
        elif c.trained:
            bg, fg = TRAINED_BG, TRAINED_FG
        else:
            bg, fg = MASKED_BG, MASKED_FG
        border = f"2px solid {SPECIAL_BORDER}" if c.special else "1px solid transparent"
        weight = "bold" if c.special else "normal"
        opacity = "0.45" if c.padding else "1"
        tip = f"id {c.token_id}, label {c.label_text}"
        if _finite(c.loss):
            tip += f", loss {c.loss:.3f}"
        if c.padding:
            tip += ", padding (attention_mask 0)"
        sub = f"{c.token_id}<br>{c.label_text}"
        return (
            f'<span title="{html.escape(tip)}" style="display:inline-block;margin:2px;'
            f"padding:2px 4px;border-radius:4px;background:{bg};color:{fg};border:{border};"
            f'font-weight:{weight};opacity:{opacity};text-align:center;vertical-align:top">'
            f'<span style="font-family:monospace;white-space:pre">{html.escape(c.text)}</span>'
            f'<br><span style="font-size:0.7em">{sub}</span></span>'
        )

    def _repr_html_(self) -> str:
        legend = (
            f'<span style="background:{MASKED_BG};color:{MASKED_FG};padding:1px 4px">'
            f"masked (-100)</span> "
            f'<span style="background:{TRAINED_BG};color:{TRAINED_FG};padding:1px 4px">'
            f"trained</span> "
            f'<span style="border:2px solid {SPECIAL_BORDER};font-weight:bold;padding:0 4px">'
            f"special</span> · is a space, ↵ a newline; under each token: id, label"
        )
        if any(_finite(c.loss) for ex in self.examples for c in ex.chips):
            legend += (f"; trained tokens coloured by loss, green 0 to red ≥ "
                       f"{self.loss_high:g}")
        body = "".join(
            f'<div style="margin:6px 0"><div style="font-weight:bold">'
            f"{html.escape(ex.title)}</div><div>{''.join(self._chip_html(c) for c in ex.chips)}"
            f'</div><div style="font-size:0.85em;color:#374151">{html.escape(ex.counts())}'
            f"</div></div>"
            for ex in self.examples
        )
        legend = f'<div style="font-size:0.85em">{legend}</div>'
        return f'<div style="font-size:13px">{legend}{body}</div>'

    # ---- static export --------------------------------------------------------------------
    def to_figure(self, chars_per_row: int = 90, figsize_width: float = 10.0):
        """A matplotlib Figure of the chips (rows wrap at about `chars_per_row` characters)."""
        import matplotlib.pyplot as plt
        from matplotlib.patches import FancyBboxPatch

        lines: list[tuple[str, list[TokenChip]]] = []
        for ex in self.examples:
            lines.append((ex.title + "  —  " + ex.counts(), []))
            row: list[TokenChip] = []
            width = 0
            for c in ex.chips:
                w = len(c.text) + 1
                if row and width + w > chars_per_row:
                    lines.append(("", row))
                    row, width = [], 0
                row.append(c)
                width += w
            lines.append(("", row))
        fig_h = 0.45 * len(lines) + 0.4
        fig, ax = plt.subplots(figsize=(figsize_width, fig_h))
        ax.set_xlim(0, chars_per_row + 2)
        ax.set_ylim(len(lines), 0)
        ax.axis("off")
        for y, (title, row) in enumerate(lines):
            if title:
                ax.text(0, y + 0.6, title, fontsize=9, fontweight="bold", va="center")
                continue
            x = 0.0
            for c in row:
                w = len(c.text) + 0.6
                if c.trained and _finite(c.loss):
                    bg = _loss_colour(c.loss, self.loss_high)
                else:
                    bg = TRAINED_BG if c.trained else MASKED_BG
                ax.add_patch(FancyBboxPatch(
                    (x, y + 0.15), w, 0.7, boxstyle="round,pad=0.02,rounding_size=0.1",
                    facecolor=bg, edgecolor=SPECIAL_BORDER if c.special else "none",
                    linewidth=1.5 if c.special else 0, alpha=0.45 if c.padding else 1.0,
                ))
                ax.text(x + w / 2, y + 0.5, c.text, ha="center", va="center", fontsize=8,
                        family="monospace", fontweight="bold" if c.special else "normal",
                        color=TRAINED_FG if c.trained else MASKED_FG)
                x += w + 0.4
        fig.tight_layout()
        return fig


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
    rows = as_rows(examples)
    if losses is not None:
        losses = losses.tolist() if hasattr(losses, "tolist") else list(losses)
        if rows and losses and not isinstance(losses[0], list | tuple):
            losses = [losses]  # one example's losses
        if len(losses) != len(rows):
            raise ValueError(f"got losses for {len(losses)} examples but {len(rows)} examples")
    special_ids = set(tokenizer.all_special_ids)
    views = []
    for i, row in enumerate(rows):
        ids = row["input_ids"]
        labels = row.get("labels", list(ids))
        mask = row.get("attention_mask") or [1] * len(ids)
        row_losses = losses[i] if losses is not None else [None] * len(ids)
        if len(labels) != len(ids) or len(row_losses) != len(ids):
            raise ValueError(f"example {i}: input_ids, labels and losses must have one entry "
                             f"per token ({len(ids)}, {len(labels)}, {len(row_losses)})")
        texts = _token_texts(tokenizer, ids)
        chips = [
            TokenChip(text=visible(t), token_id=int(tid), label=int(lab),
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
    recs = [records] if isinstance(records, Mapping) else list(records)
    examples = label_examples(recs, tokenizer, masking, template, max_length=max_length)
    if model is not None and losses is None:
        losses = [example_token_losses(model, ex) for ex in examples]
    titles = [f"Example {i} ({masking})" for i in range(len(examples))]
    return mask_view(examples, tokenizer, losses=losses, titles=titles)


def mask_explorer(
    records: Sequence[Mapping[str, Any]],
    tokenizer,
    template: Any = "one_line",
    maskings: Sequence[str] = tuple(MASKINGS),
):
    """An ipywidgets explorer: pick an example and a masking strategy, watch the chips change.

    Returns a VBox to display in a notebook. Labels per strategy are computed once for all
    records, so switching is instant (TRL's preparation runs on first use of "trl").
    """
    import ipywidgets as widgets  # deferred: widgets are only needed in a notebook

    recs = list(records)
    if not recs:
        raise ValueError("mask_explorer needs at least one record")
    cache: dict[str, list[dict[str, list[int]]]] = {}

    def labelled(masking: str) -> list[dict[str, list[int]]]:
        if masking not in cache:
            cache[masking] = label_examples(recs, tokenizer, masking, template)
        return cache[masking]

    def caption(i: int, r: Mapping[str, Any]) -> str:
        prompt, _ = format_example(r, "one_line", where=f"example {i}")
        text = prompt.removeprefix("### Instruction: ").removesuffix(" ### Response:")
        return f"{i}: {text[:50]}"

    picker = widgets.Dropdown(options=[(caption(i, r), i) for i, r in enumerate(recs)],
                              value=0, description="Example")
    masking = widgets.ToggleButtons(
        options=[(m, m) for m in maskings], value=maskings[min(1, len(maskings) - 1)],
        description="Masking", tooltips=[MASKINGS[m] for m in maskings],
    )
    out = widgets.HTML()

    def render(*_: Any) -> None:
        ex = labelled(masking.value)[picker.value]
        view = mask_view([ex], tokenizer, titles=[f"Example {picker.value}: "
                                                  f"{MASKINGS[masking.value]}"])
        audit = audit_labels([ex], tokenizer, indices=[picker.value])
        notes = "".join(f"<li>{html.escape(w)}</li>" for w in audit.warnings)
        out.value = view._repr_html_() + (f"<ul style='color:#cf222e'>{notes}</ul>" if notes
                                          else "")

    picker.observe(render, names="value")
    masking.observe(render, names="value")
    render()
    box = widgets.VBox([picker, masking, out])
    box.render = render  # type: ignore[attr-defined]  # lets tests and lessons refresh it
    return box
