"""Notebook 12's 2-D optimizer lab in a real browser: its sliders render and redraw.

JupyterLab (started here directly, on a free port) opens a notebook made of the lab's own
cells, taken from the built source notebook; Playwright drives Debian's Chromium. The
screenshots land in artifacts/browser/optimizer-lab-*.png. Kept apart from
tests/test_browser.py, from which it reuses only Chromium's setup.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request

import nbformat
import pytest

from autograder import paths
from tests.test_browser import CHROMIUM_ARGS, SHOTS, ensure_chromium, free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TOPIC = "12_schedules_clipping"
TOKEN = "course-optimizer-lab"


def lab_notebook() -> nbformat.NotebookNode:
    """The topic's first code cell (its imports) and the cells of its lab section."""
    nb = nbformat.read(paths.source_notebook(TOPIC), as_version=4)
    cells = nb.cells
    start = next(i for i, c in enumerate(cells) if c.source.startswith("## A 2-D lab"))
    end = next(i for i, c in enumerate(cells) if c.source.startswith("## L-BFGS"))
    setup = next(c for c in cells if c.cell_type == "code")
    nb.cells = [setup, *cells[start:end]]
    return nb


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    chromium = ensure_chromium()
    root = tmp_path_factory.mktemp("lab")
    nbformat.write(lab_notebook(), root / "lab.ipynb")
    port = free_port()
    log = open(root / "server.log", "w+")  # noqa: SIM115
    env = {**os.environ, "PYTHONPATH": str(paths.ROOT)}
    process = subprocess.Popen(
        [
            sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}",
            "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={TOKEN}",
            f"--ServerApp.root_dir={root}",
            f"--LabApp.workspaces_dir={tmp_path_factory.mktemp('workspaces')}",
            *(["--allow-root"] if os.geteuid() == 0 else []),
        ],
        cwd=root, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=2)
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                pytest.fail(f"JupyterLab did not start:\n{log.read()[-3000:]}")
            time.sleep(1)
    try:
        yield {"url": url, "chromium": chromium}
    finally:
        os.killpg(process.pid, 15)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
        log.close()


def test_the_lab_shows_sliders_that_redraw_it(server):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(server["chromium"]), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1600, "height": 1100})
        page.set_default_timeout(120_000)
        try:
            page.goto(f"{server['url']}/lab/tree/lab.ipynb?token={TOKEN}")
            page.locator(".jp-Notebook .jp-Cell").first.wait_for()
            try:  # JupyterLab may ask which kernel to start
                page.locator(".jp-Dialog").get_by_role("button", name="Select").click(timeout=5_000)
            except Exception:
                pass
            page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for()
            page.get_by_role("menuitem", name="Run", exact=True).click()
            page.get_by_role("menuitem", name="Run All Cells", exact=True).click()

            # The static picture, then the sliders with their own redrawn picture.
            sliders = page.locator(".optimizer-lab .widget-slider")
            sliders.first.wait_for()
            assert sliders.count() == 4, "SGD lr, adaptive lr, β and weight decay"
            plot = page.locator(".optimizer-lab img")
            plot.first.wait_for()
            before = plot.first.get_attribute("src")
            page.locator(".optimizer-lab").scroll_into_view_if_needed()
            page.wait_for_timeout(1_000)
            page.screenshot(path=str(SHOTS / "optimizer-lab-sliders.png"), full_page=False)

            # Move the SGD rate up with the keyboard: the picture must be redrawn.
            handle = sliders.first.locator(".noUi-handle")
            handle.focus()
            for _ in range(5):
                page.keyboard.press("ArrowRight")
            page.wait_for_function(
                "([sel, old]) => { const img = document.querySelector(sel);"
                " return img && img.getAttribute('src') !== old; }",
                arg=[".optimizer-lab img", before],
            )
            # Each key press redraws; the last redraw is done when the kernel is idle again.
            page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for()
            try:  # JupyterLab's news prompt would cover the picture's corner
                page.get_by_role("button", name="No", exact=True).click(timeout=2_000)
            except Exception:
                pass
            plot.first.scroll_into_view_if_needed()
            page.wait_for_timeout(1_500)
            page.screenshot(path=str(SHOTS / "optimizer-lab-moved.png"), full_page=False)
            text = page.locator(".optimizer-lab").inner_text()
            assert "SGD lr" in text and "0.063" in text, text  # 10^(-1.7 + 0.5)
        except Exception:
            page.screenshot(path=str(SHOTS / "FAILED-optimizer-lab.png"))
            raise
        finally:
            browser.close()
