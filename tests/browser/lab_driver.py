"""Drive JupyterLab in a real Chromium, as a learner does: open a notebook, Run All, read it.

    >>> with start_lab(root, home) as lab:                              # doctest: +SKIP
    ...     run = run_notebook_in_lab(browser.new_page(), lab, "03_loss_masking.ipynb")
    ...     [c.index for c in run.cells if c.errors]                    # doctest: +SKIP
    []

JupyterLab runs from this Python (`sys.executable -m jupyter lab`), with its own settings,
workspace and config folders under `home`, so a learner's own setup never leaks in and nothing
the tests change (the theme) leaks out.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).parent / "artifacts"  # git-ignored
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--no-first-run",
    "--disable-sync",
]
INSTALL_HINT = ("Chromium is missing: install it with `apt-get install chromium` "
                "to run the browser tests")
IDLE = "idle"
# What only a traceback shows (a SyntaxError has no "Traceback" line, but "Cell In[n]").
TRACEBACK = re.compile(
    r"Traceback \(most recent call last\)|^Cell In\[\d+\]|^\s*\w*(Error|Exception)\b:",
    re.MULTILINE)


def find_chromium() -> str | None:
    """The system Chromium (Playwright cannot download its own browsers here)."""
    for candidate in (os.environ.get("COURSE_CHROMIUM"), "/usr/bin/chromium",
                      shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def free_port() -> int:
    """A port nobody listens on now (the OS picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_settings(settings: Path) -> None:
    """Settings a clean JupyterLab would otherwise differ in from run to run."""
    files = {
        # Every cell stays in the page: with windowing, cells far below are not in the DOM.
        "notebook-extension/tracker": {"windowingMode": "none"},
        # No news or update toast over the notebook.
        "apputils-extension/notification": {"checkForUpdates": False, "fetchNews": "false"},
    }
    for name, values in files.items():
        path = settings / "@jupyterlab" / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


@dataclass
class LabServer:
    url: str
    root: Path
    log: Path
    process: subprocess.Popen = field(repr=False)


def _lab_env(home: Path) -> dict[str, str]:
    """The learner's environment, minus anything that would make the kernel differ from theirs."""
    env = dict(os.environ)
    # The kernel imports this checkout's course_lib (the notebooks run from a temporary folder).
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    # The test suite sets MPLBACKEND=Agg; a learner's kernel uses the inline backend.
    env.pop("MPLBACKEND", None)
    for var, sub in (("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_DATA_DIR", "data"),
                     ("JUPYTER_RUNTIME_DIR", "runtime"), ("JUPYTERLAB_SETTINGS_DIR", "settings"),
                     ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"), ("IPYTHONDIR", "ipython")):
        env[var] = str(home / sub)
    return env


@contextlib.contextmanager
def start_lab(root: Path, home: Path, timeout: float = 120) -> Iterator[LabServer]:
    """JupyterLab serving `root` on a free local port, without token; stopped on exit."""
    _write_settings(home / "settings")
    port, log = free_port(), home / "jupyterlab.log"
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}",
           "--ServerApp.port_retries=0", "--ServerApp.token=", "--ServerApp.password=",
           "--ServerApp.ip=127.0.0.1", f"--ServerApp.root_dir={root}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # containers run as root; Jupyter refuses root without it
    with open(log, "w", encoding="utf-8") as out:
        process = subprocess.Popen(cmd, env=_lab_env(home), stdout=out, stderr=subprocess.STDOUT)
    server = LabServer(f"http://127.0.0.1:{port}", root, log, process)
    try:
        _wait_until_up(server, timeout)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_up(server: LabServer, timeout: float) -> None:
    """Poll the REST API until it answers; fail with the log's end if the server died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited ({server.process.returncode}):\n"
                               + server.log.read_text()[-3000:])
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(f"{server.url}/api/status", timeout=5) as response:
                if response.status == 200:
                    return
        time.sleep(0.3)
    raise TimeoutError(f"JupyterLab did not answer within {timeout:.0f} s:\n"
                       + server.log.read_text()[-3000:])


# ---- which notebooks -----------------------------------------------------------------------

# What a headless run cannot judge: widgets and figures. A later lesson that shows one of
# these runs in the browser too.
SHOWS_WIDGET_OR_FIGURE = re.compile(
    r"mask_explorer\(|live_plot\s*=\s*True|LiveLossPlot\(|ProgressBar\(|compare_runs\(|"
    r"plot_history\(|\.to_figure\(|new_figure\(|ipywidgets|matplotlib|plt\.")


def browser_lessons() -> list[str]:
    """Lessons 03 and 04, and every later lesson that shows a widget or a figure."""
    names = []
    for path in sorted((ROOT / "lessons").glob("0[3-9]_*.ipynb")):
        sources = "".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"])
        if path.name[:2] in ("03", "04") or SHOWS_WIDGET_OR_FIGURE.search(sources):
            names.append(path.name)
    return names


def browser_solution() -> str:
    """One solution notebook (lesson 04's: its checks take seconds) to see check()'s boxes."""
    return f"solutions/{min(p.name for p in (ROOT / 'solutions').glob('04_*.ipynb'))}"


# ---- one notebook in the browser ----------------------------------------------------------

@dataclass
class Output:
    """One output area child, as the page shows it."""

    mime: str  # data-mime-type of the rendered output
    text: str  # what it reads as (innerText)
    images: list[str]  # src of each <img> (data: URLs for inline figures)
    alts: list[str]  # alt of each <img>: what a screen reader says for it
    widgets: int  # number of .jupyter-widgets elements

    @property
    def is_stderr(self) -> bool:
        return self.mime == "application/vnd.jupyter.stderr"

    @property
    def is_error(self) -> bool:
        """A traceback, not a warning: both are drawn on the same red background."""
        return self.is_stderr and bool(TRACEBACK.search(self.text))


@dataclass
class Cell:
    index: int  # position in the notebook (all cells, markdown included)
    code: bool
    prompt: str  # "[3]:", "[*]:", "[ ]:" ...
    source: str  # from the notebook file
    outputs: list[Output]

    @property
    def executed(self) -> bool:
        return bool(re.fullmatch(r"\[\d+\]:", self.prompt.strip()))

    @property
    def errors(self) -> list[Output]:
        return [o for o in self.outputs if o.is_error]

    @property
    def warnings(self) -> list[Output]:
        return [o for o in self.outputs if o.is_stderr and not o.is_error]

    def where(self) -> str:
        first = self.source.strip().splitlines()[0] if self.source.strip() else ""
        return f"cell {self.index} {self.prompt.strip() or '[ ]:'} `{first[:60]}`"


@dataclass
class NotebookRun:
    name: str
    page: object = field(repr=False)  # playwright Page, left open for widget tests
    seconds: float
    cells: list[Cell]
    screenshot: Path | None = None

    def code_cells(self, pattern: str = "") -> list[Cell]:
        """Code cells whose source matches `pattern` (a regular expression)."""
        return [c for c in self.cells if c.code and re.search(pattern, c.source)]


_READ_CELLS = """() => Array.from(document.querySelectorAll('.jp-Notebook .jp-Cell')).map(cell => ({
  code: cell.classList.contains('jp-CodeCell'),
  prompt: (cell.querySelector('.jp-InputArea-prompt') || {}).textContent || '',
  outputs: Array.from(cell.querySelectorAll('.jp-OutputArea-output')).map(o => ({
    mime: o.getAttribute('data-mime-type') || '',
    text: o.innerText,
    images: Array.from(o.querySelectorAll('img')).map(i => i.src),
    alts: Array.from(o.querySelectorAll('img')).map(i => i.alt),
    widgets: o.querySelectorAll('.jupyter-widgets').length,
  })),
}))"""

_BUSY = """() => {
  const prompts = Array.from(
      document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputArea-prompt'));
  const status = document.querySelector('.jp-Notebook-ExecutionIndicator');
  return {busy: prompts.filter(p => p.textContent.trim() === '[*]:').length,
          started: prompts.some(p => /\\[(\\*|\\d+)\\]/.test(p.textContent)),
          kernel: status ? status.getAttribute('data-status') : null};
}"""


def slug(name: str) -> str:
    """A file-name-safe name for a notebook: 'solutions/04_x.ipynb' -> 'solutions-04_x'."""
    return re.sub(r"\W", "-", name.removesuffix(".ipynb"))


def open_notebook(page, lab: LabServer, name: str, timeout: float = 120) -> None:
    """Open `name` in its own workspace (so tabs from other pages are not restored here)."""
    page.goto(f"{lab.url}/lab/workspaces/{slug(name)}/tree/{name}", timeout=timeout * 1000)
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=timeout * 1000)
    deadline = time.monotonic() + timeout
    while not _kernel_idle(lab, name):
        # On a cold server JupyterLab may ask which kernel to start: take its proposal, as a
        # learner would (the notebook's own kernelspec, python3).
        accept = page.locator(".jp-Dialog:has-text('Select Kernel') .jp-mod-accept")
        if accept.count():
            accept.click()
        if time.monotonic() > deadline:
            raise TimeoutError(f"{name}: no idle kernel after {timeout:.0f} s")
        time.sleep(0.25)
    page.wait_for_function(
        "() => { const s = document.querySelector('.jp-Notebook-ExecutionIndicator');"
        " return s && s.getAttribute('data-status') === 'idle'; }", timeout=timeout * 1000)


def _kernel_idle(lab: LabServer, name: str) -> bool:
    """The server's own word: a session for this notebook whose kernel is idle."""
    with urllib.request.urlopen(f"{lab.url}/api/sessions", timeout=5) as response:
        sessions = json.load(response)
    return any(s.get("path") == name and (s.get("kernel") or {}).get("execution_state") == IDLE
               for s in sessions)


def run_all_cells(page, timeout: float) -> None:
    """Menu Run > Run All Cells, then wait until no prompt shows [*] and the kernel is idle."""
    page.click(".lm-MenuBar-itemLabel:text-is('Run')")
    page.click(".lm-Menu-itemLabel:text-is('Run All Cells')")
    deadline = time.monotonic() + timeout
    quiet_since = None
    while time.monotonic() < deadline:
        state = page.evaluate(_BUSY)
        done = state["started"] and state["busy"] == 0 and state["kernel"] == IDLE
        # Idle for a whole second: between two cells the kernel can look idle for a moment.
        if done and quiet_since is not None and time.monotonic() - quiet_since >= 1.0:
            return
        quiet_since = (quiet_since or time.monotonic()) if done else None
        time.sleep(0.25)
    raise TimeoutError(f"Run All did not finish within {timeout:.0f} s: {page.evaluate(_BUSY)}")


def read_cells(page, notebook: Path) -> list[Cell]:
    """Every cell as shown, with its source from the file (the editor may not render it all)."""
    shown = page.evaluate(_READ_CELLS)
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    sources = ["".join(c["source"]) for c in cells]
    if len(shown) != len(sources):
        raise AssertionError(f"{notebook.name}: the page shows {len(shown)} cells, "
                             f"the file has {len(sources)}")
    return [Cell(index=i, code=c["code"], prompt=c["prompt"], source=src,
                 outputs=[Output(**o) for o in c["outputs"]])
            for i, (c, src) in enumerate(zip(shown, sources, strict=True))]


def screenshot_notebook(page, path: Path, max_height: int = 16000) -> Path:
    """The whole notebook in one image: grow the viewport to its height, then shoot."""
    # The notebook scrolls inside its panel: grow the page by what is hidden, from the top.
    scroller = "document.querySelector('.jp-NotebookPanel .jp-WindowedPanel-outer')"
    hidden = page.evaluate(f"() => {{ const n = {scroller};"
                           " return n ? n.scrollHeight - n.clientHeight : 0; }")
    size = page.viewport_size
    path.parent.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": size["width"],
                            "height": min(max_height, size["height"] + hidden)})
    try:
        page.evaluate(f"() => {{ const n = {scroller}; if (n) n.scrollTop = 0; }}")
        page.wait_for_timeout(300)  # let the page repaint at its new size
        page.screenshot(path=str(path))
    finally:
        page.set_viewport_size(size)
    return path


# The limit catches a hang, not slowness: a lesson whose runs are not cached yet trains them
# while the other test worker holds the second core (lesson 07 took 312 s so on CI).
def run_notebook_in_lab(page, lab: LabServer, name: str, timeout: float = 900,
                        artifacts: Path | None = None) -> NotebookRun:
    """Open, Run All, wait, read every cell; a full-notebook screenshot goes to `artifacts`."""
    open_notebook(page, lab, name)
    start = time.monotonic()
    run_all_cells(page, timeout)
    seconds = time.monotonic() - start
    run = NotebookRun(name, page, seconds, read_cells(page, lab.root / name))
    if artifacts is not None:
        run.screenshot = screenshot_notebook(page, artifacts / f"{slug(name)}.png")
    return run


def set_theme(page, theme: str) -> None:
    """Settings > Theme > `theme`, as a learner picks it; wait until the page uses it."""
    page.click(".lm-MenuBar-itemLabel:text-is('Settings')")
    page.hover(".lm-Menu-itemLabel:text-is('Theme')")
    page.click(f".lm-Menu-itemLabel:text-is('{theme}')")
    page.wait_for_function(f"() => document.body.dataset.jpThemeName === '{theme}'")
    page.wait_for_timeout(500)  # the theme's CSS applies after the attribute flips


# ---- figures ------------------------------------------------------------------------------

def decode_image(src: str):
    """An <img> src (data: URL) as an RGB array of shape (height, width, 3), floats in [0, 1]."""
    from PIL import Image

    header, _, data = src.partition(",")
    if not header.startswith("data:image") or ";base64" not in header:
        raise ValueError(f"not an inline image: {header[:40]}")
    image = Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB")
    return np.asarray(image, dtype=float) / 255


def coloured_share(rgb) -> float:
    """Share of pixels with a clear hue: data lines and markers, not text, axes or background."""
    spread = rgb.max(axis=-1) - rgb.min(axis=-1)
    return float((spread > 0.25).mean())


# Inside a panel's frame: a curve colours 1-2% of the pixels, grid, text and a legend < 0.2%.
MIN_DATA_SHARE = 0.004


def _dark_lines(dark) -> list[tuple[int, int]]:
    """Runs of adjacent columns that are dark over much of the image: the axes' side spines."""
    lines: list[list[int]] = []
    for x in np.flatnonzero(dark.mean(axis=0) > 0.4):
        if lines and x - lines[-1][-1] <= 2:
            lines[-1].append(int(x))
        else:
            lines.append([int(x)])
    return [(line[0], line[-1]) for line in lines]


def panel_data_shares(rgb) -> list[float]:
    """For each panel (a matplotlib axes with its frame), the coloured share inside its frame.

    Frames are found from their black spines: pairs of long dark columns, and the rows that
    are dark between them. A panel with no data line shows only grid and text inside (< 0.2%
    coloured, a legend's samples included); one with a curve shows about 1-2%.
    """
    dark = rgb.max(axis=-1) < 0.6
    lines = _dark_lines(dark)
    shares = []
    for (_, left), (right, _) in zip(lines[0::2], lines[1::2], strict=False):
        rows = np.flatnonzero(dark[:, left:right + 1].mean(axis=1) > 0.8)
        if len(rows) >= 2:
            inside = rgb[rows.min() + 3:rows.max() - 2, left + 3:right - 2]
            if inside.size:  # a "frame" a few pixels across (a table rule in lesson 08): no panel
                shares.append(coloured_share(inside))
    return shares
