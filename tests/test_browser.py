"""The course in a real browser: JupyterLab started by `make lab`, driven by Playwright.

Acts as a student (open a release notebook, run it, see a plot, type an answer, see the
public check pass, press nbgrader's Validate) and as an instructor (open the formgrader).
Screenshots land in artifacts/browser/.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from autograder import paths

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = paths.ROOT / "artifacts" / "browser"
TOPIC = "01_basic_losses"
TOKEN = "course-browser-test"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def ensure_chromium() -> Path:
    """Debian's Chromium, installed through apt when missing; skip (saying why) if impossible."""
    if CHROMIUM.exists():
        return CHROMIUM
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        pytest.skip("Chromium is missing and cannot be installed here (needs root and apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
        result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900)
        if result.returncode != 0:
            pytest.skip(f"could not install Chromium with apt: {result.stderr.strip()[-500:]}")
    if not CHROMIUM.exists():
        pytest.skip("apt installed chromium but /usr/bin/chromium is still missing")
    return CHROMIUM


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(target: str, tmp_path_factory, *extra: str):
    """`make <target>` with a fixed token and no browser; yields its URL until torn down."""
    port = free_port()
    workspaces = tmp_path_factory.mktemp("workspaces")
    args = (
        f"--no-browser --port {port} --ServerApp.ip=127.0.0.1 --IdentityProvider.token={TOKEN} "
        f"--LabApp.workspaces_dir={workspaces}"
    )
    log = open(tmp_path_factory.mktemp("lab") / "lab.log", "w+")  # noqa: SIM115
    process = subprocess.Popen(
        ["make", "--no-print-directory", target, *extra, f"LAB_ARGS={args}"],
        cwd=paths.ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=2)
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                pytest.fail(f"`make {target}` did not start JupyterLab:\n{log.read()[-3000:]}")
            time.sleep(1)
    try:
        yield url
    finally:
        os.killpg(process.pid, 15)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
        log.close()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """`make lab` on a temporary working copy of release/."""
    chromium = ensure_chromium()
    student = tmp_path_factory.mktemp("student")
    for url in start("lab", tmp_path_factory, f"STUDENT_DIR={student}"):
        yield {"url": url, "student": student, "chromium": chromium}


@pytest.fixture(scope="module")
def browser(lab):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(lab["chromium"]), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def step(page, name: str, action, what: str) -> None:
    """Run one step of the scenario; on failure, save a screenshot and say which step."""
    try:
        action()
    except Exception as error:
        page.screenshot(path=str(SHOTS / f"FAILED-{name}.png"))
        pytest.fail(f"step '{name}' did not happen: {what}\n{type(error).__name__}: {error}")
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def code_cell(page, text: str):
    """The notebook code cell whose editor contains ``text``."""
    return page.locator(".jp-Notebook .jp-CodeCell").filter(
        has=page.locator(".jp-InputArea-editor", has_text=text)
    )


def test_student_runs_fills_in_checks_and_validates(lab, browser):
    assert (lab["student"] / TOPIC / f"{TOPIC}.ipynb").exists(), "working copy not created"
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(90_000)
    notebook = f"{lab['url']}/lab/tree/{TOPIC}/{TOPIC}.ipynb?token={TOKEN}"

    def open_notebook():
        page.goto(notebook)
        page.locator(".jp-Notebook .jp-Cell").first.wait_for()
        select_kernel = page.locator(".jp-Dialog").get_by_role("button", name="Select")
        try:  # JupyterLab may ask which kernel to start
            select_kernel.click(timeout=5_000)
        except Exception:
            pass
        page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for()

    step(page, "1-open", open_notebook, "the release notebook opens with an idle kernel")

    def run_all():
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        page.locator(".jp-OutputArea-output img").first.wait_for(timeout=120_000)
        page.locator(".jp-OutputArea-output img").first.scroll_into_view_if_needed()
        page.wait_for_timeout(1_500)  # let the windowed notebook paint before the screenshot

    step(page, "2-run-all-plot", run_all, "Run All Cells renders a plot as an image")

    answer = code_cell(page, "YOUR CODE HERE").first
    tests = code_cell(page, "the logits (2.0, 1.0, 0.1) and class 2")

    def fill_in():
        page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for()
        answer.scroll_into_view_if_needed()
        answer.locator(".cm-content").click()
        page.keyboard.press("Control+a")
        page.keyboard.type(
            "def ce_by_hand(logits, target): "
            "return -logits[target] + math.log(sum(math.exp(x) for x in logits))"
        )
        page.keyboard.press("Shift+Enter")
        answer.locator(".jp-InputPrompt", has_text="[").filter(has_not_text="[*]").wait_for()

    step(page, "3-fill-in", fill_in, "typing an answer into the first answer cell and running it")

    def check_passes():
        tests.locator(".cm-content").click()
        page.keyboard.press("Shift+Enter")
        prompt = tests.locator(".jp-InputPrompt")
        page.wait_for_function(
            "el => /\\[\\d+\\]/.test(el.textContent)", arg=prompt.element_handle()
        )
        errors = tests.locator(".jp-OutputArea-output[data-mime-type*='stderr']")
        assert errors.count() == 0, f"the public check failed: {tests.inner_text()}"
        assert "CheckFailed" not in tests.inner_text()

    step(page, "4-public-check-passes", check_passes, "the public check runs silently")

    def validate():
        page.keyboard.press("Control+s")
        page.locator(".jp-mod-dirty").wait_for(state="detached")
        page.locator(".validate-button").first.click()
        dialog = page.locator(".jp-Dialog")
        dialog.get_by_text("Validation Results").wait_for(timeout=180_000)
        text = dialog.inner_text()
        # Four answers are still unanswered, so nbgrader must report failures by name.
        assert "NotImplementedError" in text or "failed" in text.lower(), text

    step(page, "5-validate", validate, "nbgrader's Validate button shows its results")
    page.close()


def test_instructor_opens_the_formgrader(browser, tmp_path_factory):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.set_default_timeout(90_000)
    server = start("instructor", tmp_path_factory)
    url = next(server)

    def formgrader():
        page.goto(f"{url}/formgrader?token={TOKEN}")
        page.get_by_text("Manage Assignments").first.wait_for()
        page.get_by_text(TOPIC).first.wait_for()

    try:
        step(page, "6-formgrader", formgrader, "the formgrader lists the course's assignments")
    finally:
        page.close()
        server.close()
