"""WCAG contrast for the masking stage's HTML outputs (imported by its tests)."""

import re

# JupyterLab's page behind an output and the colours of its variables, light and dark theme
# (themes/@jupyterlab/theme-*-extension): what a colour in an output's HTML is read against.
PAGES = {"light": {"page": "#ffffff", "--jp-error-color1": "#d32f2f",
                   "--jp-content-font-color1": "#212121"},
         "dark": {"page": "#111111", "--jp-error-color1": "#f44336",
                  "--jp-content-font-color1": "#ffffff"}}


def contrast(a: str, b: str) -> float:
    """WCAG's contrast ratio of two #rrggbb colours (1 to 21; AA body text needs 4.5)."""
    def luminance(colour):
        c = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        c = [x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4 for x in c]
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]
    high, low = sorted([luminance(a), luminance(b)], reverse=True)
    return (high + 0.05) / (low + 0.05)


def text_contrasts(html: str) -> list[float]:
    """Each text colour of `html` against the page, in both themes (a theme variable as the
    theme sets it)."""
    found = re.findall(r"(?<![-\w])color:\s*(var\((--[\w-]+)[^;'\"]*|#[0-9a-fA-F]{6})", html)
    assert found, "no text colour to check"
    return [contrast(page.get(var, value) if var else value, page["page"])
            for value, var in found for page in PAGES.values()]
