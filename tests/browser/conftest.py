"""Fixtures for the browser tests: one JupyterLab, one Chromium, each notebook run once.

The lessons run from a temporary copy (the repository's notebooks stay clean), sharing the
headless lessons' cache of experiment runs. Screenshots go to tests/browser/artifacts/
(git-ignored): one per notebook, and one per failing test.
"""

import json
import re
import shutil
from pathlib import Path

import pytest
from lab_driver import (
    ARTIFACTS,
    CHROMIUM_ARGS,
    INSTALL_HINT,
    ROOT,
    browser_lessons,
    browser_solution,
    find_chromium,
    run_notebook_in_lab,
    slug,
    start_lab,
)

VIEWPORT = {"width": 1280, "height": 900}


@pytest.fixture(scope="session")
def chromium():
    """The system Chromium's path (test modules skip themselves when it is missing)."""
    path = find_chromium()
    if path is None:
        pytest.skip(INSTALL_HINT)
    return path


@pytest.fixture(scope="session")
def lab(chromium, tmp_path_factory):
    """JupyterLab serving copies of the browser lessons and of one solution notebook."""
    home = tmp_path_factory.mktemp("jupyterlab")
    root = home / "notebooks"
    (root / "solutions").mkdir(parents=True)
    for name in [*browser_lessons(), browser_solution()]:
        source = ROOT / (name if name.startswith("solutions/") else f"lessons/{name}")
        shutil.copy(source, root / name)
    # Experiments' runs (lessons 07 and 08) and lesson 06's trained_once runs are cached where
    # the headless lessons keep them: each trains once per suite, whichever run gets to it
    # first (training/run_cache.py makes a second asker wait). What the browser checks, the
    # display, runs either way.
    (root / "runs").mkdir()
    for cache in ("experiments", "cache"):
        shared = ROOT / "lessons" / "runs" / cache
        shared.mkdir(parents=True, exist_ok=True)
        (root / "runs" / cache).symlink_to(shared, target_is_directory=True)
    with start_lab(root, home) as server:
        yield server


@pytest.fixture(scope="session")
def browser(chromium):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


TIMINGS: dict[str, float] = {}


@pytest.fixture(scope="session")
def notebook_runs(lab, browser):
    """notebook_runs(name) -> NotebookRun: Run All in its own tab, once per session."""
    runs: dict[str, object] = {}

    def run(name: str):
        if name not in runs:
            page = browser.new_page(viewport=VIEWPORT)
            try:
                runs[name] = run_notebook_in_lab(page, lab, name, artifacts=ARTIFACTS)
                TIMINGS[name] = round(runs[name].seconds, 1)
                # Also on disk: under xdist the summary line below prints in a worker only.
                (ARTIFACTS / "timings.json").write_text(json.dumps(TIMINGS, indent=1))
            except Exception as err:  # keep it: the next test of this notebook fails at once
                _screenshot(page, ARTIFACTS / "failures" / f"{slug(name)}-run-all.png")
                runs[name] = err
        if isinstance(runs[name], Exception):
            raise runs[name]
        return runs[name]

    yield run
    for value in runs.values():
        if not isinstance(value, Exception):
            value.page.close()


@pytest.fixture
def run(request, notebook_runs):
    """The run of the notebook named by the test's parameter (use indirect=True)."""
    return notebook_runs(request.param)


def _screenshot(page, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        page.screenshot(path=str(path))
    except Exception as err:  # a screenshot must never hide the real failure
        print(f"could not save {path}: {err}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing browser test leaves a screenshot of its notebook's tab."""
    report = yield
    run = item.funcargs.get("run") if hasattr(item, "funcargs") else None
    if report.when == "call" and report.failed and run is not None:
        safe = re.sub(r"[^\w.-]+", "_", item.name)
        _screenshot(run.page, ARTIFACTS / "failures" / f"{safe}.png")
    return report


def pytest_terminal_summary(terminalreporter):
    if TIMINGS:
        times = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in TIMINGS.items())
        terminalreporter.write_line(f"browser: Run All took {times}; screenshots in {ARTIFACTS}")
