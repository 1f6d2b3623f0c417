"""The lessons as a learner sees them: JupyterLab in Chromium, menu Run > Run All Cells.

A headless kernel run (tests/notebooks) cannot see what the page shows: a figure printed as
the text `<Figure size ...>`, a widget printed as `VBox(...)`, a red stderr box. These can.

    HF_HUB_OFFLINE=1 python -m pytest tests/browser -q -p no:cacheprovider
"""

import re
import time
import warnings

import pytest
from lab_driver import (
    ARTIFACTS,
    INSTALL_HINT,
    MIN_DATA_SHARE,
    browser_lessons,
    browser_solution,
    decode_image,
    find_chromium,
    panel_data_shares,
    set_theme,
)

# Without Chromium or Playwright: one skip line for the whole module, saying what to install.
if find_chromium() is None:
    pytest.skip(INSTALL_HINT, allow_module_level=True)
pytest.importorskip("playwright.sync_api",
                    reason="Playwright is missing: install it with `pip install playwright`")
# One xdist worker runs them all (`pytest -n 2 --dist loadgroup`): they share one JupyterLab.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]

LESSONS = browser_lessons()
SOLUTION = browser_solution()
LESSON_03 = next(name for name in LESSONS if name.startswith("03_"))
# Cells whose output must include a figure (an <img> in the page).
DRAWS_A_FIGURE = r"compare_runs\(|live_plot\s*=\s*True|LiveLossPlot\(|plot_history\(|\.to_figure\("
MASK_VIEWS = r"show_mask\(|mask_view\(|mask_explorer\("
# WCAG 2.x level AA: 4.5:1 for body text (3:1 only for large text, which the chips are not).
MIN_CONTRAST = 4.5


class StderrOutput(UserWarning):
    """A lesson cell printed to stderr (JupyterLab draws it in a red box): not an error."""


def _stem(name: str) -> str:
    return name.removesuffix(".ipynb")


@pytest.mark.parametrize("run", [*LESSONS, SOLUTION], indirect=True, ids=_stem)
def test_every_cell_runs_without_an_error(run):
    # Run All stops at the first error: the cells after it keep an empty prompt.
    not_run = [c.where() for c in run.code_cells() if not c.executed]
    errors = [f"{c.where()}: {o.text.strip().splitlines()[-1][:200]}"
              for c in run.cells for o in c.errors]
    for cell in run.cells:
        for output in cell.warnings:  # reported in the warnings summary, not failed
            first = output.text.strip().splitlines()[0][:200] if output.text.strip() else ""
            warnings.warn(StderrOutput(f"{run.name} {cell.where()} prints to stderr: {first}"),
                          stacklevel=1)
    assert not errors and not not_run, (
        f"{run.name}: cells show an error: {errors}; cells did not run: {not_run}")


def _figure_cells(run):
    """Cells that draw a figure: a plotting call, or train() given a dict of arguments that
    turns the live plot on (lesson 04: `common = dict(..., live_plot=True)`, `**common`)."""
    sources = "\n".join(c.source for c in run.code_cells())
    live = re.findall(r"(\w+)\s*=\s*dict\([^)]*live_plot\s*=\s*True", sources)
    live_call = rf"\btrain\([^)]*\*\*({'|'.join(live)})\b" if live else None
    return [c for c in run.code_cells()
            if re.search(DRAWS_A_FIGURE, c.source)
            or (live_call and re.search(live_call, c.source))]


@pytest.mark.parametrize("run", LESSONS, indirect=True, ids=_stem)
def test_figures_show_as_images(run):
    as_text = [c.where() for c in run.cells for o in c.outputs if "<Figure size" in o.text]
    no_image = [c.where() for c in _figure_cells(run) if not any(o.images for o in c.outputs)]
    assert not as_text, f"{run.name}: figures shown as text, not drawn: {as_text}"
    assert not no_image, f"{run.name}: cells that draw a figure show no image: {no_image}"
    # JupyterLab gives an image/png output no alt text: a screen reader would say nothing.
    no_alt = [c.where() for c in _figure_cells(run) for o in c.outputs
              for alt in o.alts if not alt.startswith("Figure. ")]
    assert not no_alt, f"{run.name}: figures without alt text: {no_alt}"


@pytest.mark.parametrize("run", LESSONS, indirect=True, ids=_stem)
def test_no_figure_panel_is_empty(run):
    # A panel (axes) with data shows 1-2% coloured pixels inside its frame; an empty one shows
    # only its grid and text (under 0.2%, legend samples included).
    empty = []
    for cell in run.cells:
        for output in cell.outputs:
            for src in output.images:
                shares = panel_data_shares(decode_image(src))
                if any(share < MIN_DATA_SHARE for share in shares):
                    empty.append(f"{cell.where()}: coloured share per panel "
                                 + ", ".join(f"{share:.4f}" for share in shares))
    assert not empty, f"{run.name}: a figure has a panel with no data: {empty}"


def _cell(run, pattern: str):
    (cell,) = run.code_cells(pattern)
    return cell, run.page.locator(".jp-Notebook .jp-Cell").nth(cell.index)


def _wait_for_change(locator, before: str, what: str, timeout: float = 30) -> str:
    """The element's new HTML once it differs from `before` (the kernel redraws it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        after = locator.inner_html()
        if after != before:
            return after
        time.sleep(0.2)
    raise AssertionError(f"the mask explorer did not redraw within {timeout:.0f} s after {what}")


@pytest.mark.parametrize("run", [LESSON_03], indirect=True, ids=_stem)
def test_mask_explorer_is_a_live_widget(run):
    cell, element = _cell(run, r"mask_explorer\(")
    text = " ".join(o.text for o in cell.outputs)
    assert "VBox(" not in text, f"{cell.where()}: the explorer shows as text: {text[:120]}"
    assert sum(o.widgets for o in cell.outputs), f"{cell.where()}: no widget on the page"
    chips = element.locator(".widget-html-content")
    before = chips.inner_html()
    assert "Count of labels" in before, "the explorer shows no chips"
    # Another example from the dropdown, then another strategy from the toggle buttons.
    element.locator(".widget-dropdown select").select_option(index=1)
    after_dropdown = _wait_for_change(chips, before, "a dropdown change")
    element.locator(".widget-toggle-button:not(.mod-active)").first.click()
    _wait_for_change(chips, after_dropdown, "a toggle button click")
    element.screenshot(path=str(ARTIFACTS / "03-mask-explorer-after-clicks.png"))


@pytest.mark.parametrize("run", [SOLUTION], indirect=True, ids=_stem)
def test_check_shows_a_green_passed_box(run):
    checks = run.code_cells(r"(?m)^check\(")
    assert checks, f"{run.name} has no check() cell"
    for cell in checks:
        text = " ".join(o.text for o in cell.outputs)
        assert re.search(r"✓ \w+ passed", text), f"{cell.where()}: no passed box: {text[:200]}"
        box = run.page.locator(".jp-Notebook .jp-Cell").nth(cell.index).locator(
            ".jp-RenderedHTML div[style*='border-left']")
        assert box.is_visible(), f"{cell.where()}: the verdict box is not visible"
        colour = box.evaluate("el => getComputedStyle(el).borderLeftColor")
        assert colour == "rgb(26, 127, 55)", f"{cell.where()}: the box is not green: {colour}"


# The mask views' own HTML (not JupyterLab's prompts, not ipywidgets' controls): every element
# with its own text, its colour against what is drawn behind it, opacity included.
_CONTRASTS = """(cell) => {
  const rgba = c => { const p = c.match(/[\\d.]+/g).map(Number);
                      return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
  const over = (top, under, a) => ({r: top.r * a + under.r * (1 - a),
      g: top.g * a + under.g * (1 - a), b: top.b * a + under.b * (1 - a), a: 1});
  const lum = c => [c.r, c.g, c.b].map(v => { v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); })
      .reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
  const found = [];
  const views = '.jp-OutputArea-output.jp-RenderedHTMLCommon *, .widget-html-content *';
  for (const el of cell.querySelectorAll(views)) {
    const own = Array.from(el.childNodes).filter(n => n.nodeType === 3)
        .map(n => n.textContent.trim()).join(' ');
    if (!own || el.offsetParent === null) continue;
    const chain = []; for (let e = el; e; e = e.parentElement) chain.unshift(e);
    let bg = {r: 255, g: 255, b: 255, a: 1}, outside = null, alpha = 1;
    for (const e of chain) {
      const style = getComputedStyle(e), opacity = Number(style.opacity);
      if (opacity < 1) { if (outside === null) outside = bg; alpha *= opacity; }
      const c = rgba(style.backgroundColor);
      if (c.a > 0) bg = over(c, bg, c.a);
    }
    const style = getComputedStyle(el), fg0 = rgba(style.color);
    let fg = over(fg0, bg, fg0.a), back = bg;
    if (outside !== null) { fg = over(fg, outside, alpha); back = over(bg, outside, alpha); }
    const [hi, lo] = [lum(fg), lum(back)].sort((x, y) => y - x);
    found.push({text: own.slice(0, 30), ratio: (hi + 0.05) / (lo + 0.05),
                size: parseFloat(style.fontSize), color: style.color,
                background: [back.r, back.g, back.b].map(Math.round).join(', ')});
  }
  return found;
}"""


@pytest.mark.parametrize("theme", ["JupyterLab Light", "JupyterLab Dark"])
@pytest.mark.parametrize("run", [LESSON_03], indirect=True, ids=_stem)
def test_mask_views_are_readable(run, theme):
    set_theme(run.page, theme)
    try:
        low = {}
        for cell in run.code_cells(MASK_VIEWS):
            element = run.page.locator(".jp-Notebook .jp-Cell").nth(cell.index)
            slug = theme.split()[-1].lower()
            element.locator(".jp-OutputArea").screenshot(
                path=str(ARTIFACTS / f"03-cell{cell.index}-{slug}.png"))
            for item in element.evaluate(_CONTRASTS):
                if item["ratio"] < MIN_CONTRAST:
                    key = (item["color"], item["background"], item["size"])
                    low.setdefault(key, [cell.index, item["text"], item["ratio"], 0])[3] += 1
        assert not low, (
            f"{theme}: mask-view text below {MIN_CONTRAST}:1 contrast (WCAG AA): "
            + "; ".join(f"{n} like {text!r} in cell {i}: {fg} on {bg}, {size:g}px, "
                        f"{ratio:.2f}:1" for (fg, bg, size), (i, text, ratio, n) in low.items()))
    finally:
        set_theme(run.page, "JupyterLab Light")
