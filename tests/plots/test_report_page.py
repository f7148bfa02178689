"""`dltool report`: one self-contained report.html per run or study, checked as text and in a real browser
(headless Chromium over the DevTools protocol: no console error, no request but the file itself, and a
page that is not blank)."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from dltool.results.table import ResultsTable
from dltool.study.page import results_html
from tests.conftest import CONFIGS, run_dir

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.fixture
def trained_run(dltool, runs_dir) -> Path:
    result = dltool("train", CONFIGS / "linreg_airfoil_scratch.yaml", "--set", "train.epochs=1", "-q")
    assert result.exit_code == 0, result.output
    return next(path for path in runs_dir.iterdir() if path.is_dir())


@pytest.fixture
def comparison(dltool, runs_dir) -> Path:
    args = ("--optimizers", "sgd,adam", "--impl", "scratch", "--jobs", "1", "--set", "train.epochs=1")
    result = dltool("compare-optimizers", "-q", *args)
    assert result.exit_code == 0, result.output
    return next(path for path in runs_dir.iterdir() if (path / "study.json").is_file())


def report(dltool, *args: str) -> Path:
    result = dltool("report", *args)
    assert result.exit_code == 0, result.output
    path = Path(result.stdout.strip())
    assert path.is_file() and result.stdout.count("\n") == 1
    return path


def assert_self_contained(text: str, plots: Path) -> None:
    """No URL anywhere, and every PNG of plots/ inlined as a data: URI."""
    assert "http://" not in text and "https://" not in text and "<script" not in text.lower()
    for match in re.finditer(r'(?:src|href)\s*=\s*"([^"]*)"', text):
        assert match.group(1).startswith("data:"), match.group(0)
    pictures = sorted(plots.glob("*.png"))
    assert pictures
    for picture in pictures:
        assert f"data:image/png;base64,{base64.b64encode(picture.read_bytes()).decode()}" in text, picture.name


def test_a_run_report_holds_its_config_metrics_plots_and_versions(dltool, trained_run):
    path = report(dltool, "latest")
    assert path == trained_run / "report.html"
    text = path.read_text(encoding="utf-8")
    assert_self_contained(text, trained_run / "plots")
    assert "<pre>" in text and "name: airfoil-scratch" in text  # config.yaml as saved
    summary = json.loads((trained_run / "summary.json").read_text())
    for key in summary["final"]:
        assert f"<td>{key}</td>" in text
    env = json.loads((trained_run / "env.json").read_text())
    assert env["python"] in text and env["torch"] in text and "completed" in text


def test_a_run_without_pictures_gets_them_drawn_first(dltool, trained_run):
    shutil.rmtree(trained_run / "plots")
    text = report(dltool, trained_run.name[:20]).read_text(encoding="utf-8")
    assert (trained_run / "plots" / "loss.png").is_file()
    assert_self_contained(text, trained_run / "plots")


def test_stored_text_is_escaped(dltool, trained_run):
    config = trained_run / "config.yaml"
    config.write_text(config.read_text() + "# <script>alert('x')</script> & <img src=http://example.com/x.png>\n")
    text = report(dltool, trained_run.name).read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &lt;img src=http://example.com/x.png&gt;" in text
    assert "<script" not in text and "<img src=http" not in text


def test_a_comparison_report_holds_its_table_plan_members_and_plots(dltool, runs_dir, comparison, tmp_path):
    out = tmp_path / "page.html"
    (comparison / "report.html").unlink(missing_ok=True)  # the comparison wrote its own at its end
    assert report(dltool, comparison.name, "--out", out) == out
    text = out.read_text(encoding="utf-8")
    assert_self_contained(text, comparison / "plots")
    assert "<th>optimizer</th>" in text and "<th>final loss (full)</th>" in text  # the verdict table, as HTML
    assert "<tr class=winner><td>★ best</td>" in text  # the best's row, marked
    assert "target loss" in text and "sgd, adam" in text and "vs best [95% sim.]" in text  # notes, plan, table
    study = json.loads((comparison / "study.json").read_text())
    member_ids = [member["run_id"] for member in study["members"]]
    assert all(f"<code>{run_id}</code>" in text for run_id in member_ids)
    env = json.loads((run_dir(runs_dir, member_ids[0]) / "env.json").read_text())
    assert env["torch"] in text and env["python"] in text
    assert not (comparison / "report.html").exists()  # --out, not the study's folder
    # the verdict before how it was made; values for people, never Python's (False, [], None)
    assert text.index("<h2>Results</h2>") < text.index("<h2>Plots</h2>") < text.index("<h2>Plan</h2>")
    assert "<tr><th>lr scan</th><td>no</td></tr>" in text
    assert not re.search(r"<td>(False|True|None|\[\]|\{\})</td>", text)


def test_a_runs_own_pictures_only_not_the_overlays_plotted_into_its_folder(dltool, trained_run):
    assert dltool("plot", trained_run.name, "--metric", "loss").exit_code == 0  # an overlay into its plots/
    assert any("-vs-" in path.name for path in (trained_run / "plots").glob("*.png"))
    text = report(dltool, trained_run.name).read_text(encoding="utf-8")
    assert "-vs-" not in text and "loss.png" in text


def test_a_study_without_pictures_gets_them_redrawn(dltool, comparison):
    shutil.rmtree(comparison / "plots")
    text = report(dltool, "latest").read_text(encoding="utf-8")
    assert_self_contained(text, comparison / "plots")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("nope",), "no run or study 'nope'"),
        (("latest", "--out", "missing-folder/report.html"), "does not exist"),
        (("latest", "--out", "."), "is a folder"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(dltool, trained_run, args, fragment):
    result = dltool("report", *args)
    assert result.exit_code == 2
    assert result.output.startswith("error: ") and result.output.count("\n") == 1 and fragment in result.output
    assert "Traceback" not in result.output and not (trained_run / "report.html").exists()


def test_a_results_table_becomes_an_html_table():
    """The page renders the study's table value itself (no Markdown parsed back): cells escaped, numbers
    aligned right, the best row marked, the lines around it as paragraphs."""
    rows = (("★", "0.25 ± 0.01"), ("<b>", "3"))
    page = results_html(ResultsTable("sorted <by> loss", ("k", "v"), rows, ("best", None), ("intro `x<y`",), ("end",)))
    assert "<h3>sorted &lt;by&gt; loss</h3><p>intro <code>x&lt;y</code></p>" in page
    assert "<thead><tr><th>k</th><th>v</th></tr></thead>" in page
    assert "<tr class=winner><td>★</td><td class=num>0.25 ± 0.01</td></tr>" in page
    assert "<tr><td>&lt;b&gt;</td><td class=num>3</td></tr>" in page and page.endswith("<p>end</p>")


class Browser:
    """Headless Chromium driven over the DevTools protocol: one page, its events collected."""

    def __init__(self, profile: Path) -> None:
        """Start the browser (in its own process group, so close() ends its helpers too)."""
        flags = ["--headless=new", "--no-sandbox", "--disable-gpu", "--remote-debugging-port=0", "--no-first-run"]
        self.profile, self.socket, self.events, self.next_id = profile, None, [], 0
        self.process = subprocess.Popen(
            [CHROMIUM, *flags, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def connect(self, websocket) -> None:
        """Attach to its blank page and enable the domains whose events the checks read."""
        port = self.wait_for_port(self.profile / "DevToolsActivePort")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as answer:
            target = next(t for t in json.load(answer) if t["type"] == "page")
        self.socket = websocket.create_connection(target["webSocketDebuggerUrl"], timeout=30, suppress_origin=True)
        for domain in ("Network", "Runtime", "Log", "Page"):
            self.call(f"{domain}.enable")
        self.call("Emulation.setDeviceMetricsOverride", width=1280, height=900, deviceScaleFactor=1, mobile=False)
        self.call("Emulation.setFocusEmulationEnabled", enabled=True)  # :focus styles as in a window in front

    def resize(self, width: int) -> None:
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=900, deviceScaleFactor=1, mobile=False)

    def page_scrolls_sideways(self) -> bool:
        answer = self.call("Runtime.evaluate", expression="document.documentElement.scrollWidth > window.innerWidth")
        return answer["result"]["value"]

    def enlarged_on_click(self) -> bool:
        """The first picture's height before and after it takes the focus (what a click gives it)."""
        expression = ("(() => { const i = document.images[0]; const before = i.getBoundingClientRect().height;"
                      " i.focus(); const after = i.getBoundingClientRect().height; i.blur();"
                      " return after > before * 1.1 || after >= window.innerHeight * 0.9; })()")  # fmt: skip
        return self.call("Runtime.evaluate", expression=expression)["result"]["value"]

    def wait_for_port(self, path: Path) -> int:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if path.is_file() and path.read_text().strip():
                return int(path.read_text().split()[0])
            assert self.process.poll() is None, "chromium exited at start"
            time.sleep(0.1)
        raise AssertionError("chromium did not open its DevTools port")

    def call(self, method: str, **params) -> dict:
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.next_id:
                assert "error" not in message, message
                return message["result"]
            self.events.append(message)

    def wait_for(self, method: str) -> None:
        while not any(event.get("method") == method for event in self.events):
            self.events.append(json.loads(self.socket.recv()))

    def load(self, path: Path) -> tuple[list[str], list[dict], np.ndarray]:
        """Open the file: the URLs it requested, the errors it caused, and a full-page screenshot (RGB(A))."""
        import matplotlib.image

        self.events.clear()
        self.call("Page.navigate", url=path.as_uri())
        self.wait_for("Page.loadEventFired")
        decoded = self.call("Runtime.evaluate", expression="[...document.images].every(i => i.naturalWidth > 0)")
        assert decoded["result"]["value"] is True, "a picture did not decode"
        shot = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        self.call("Runtime.evaluate", expression="1")  # events logged after the load have arrived
        urls = [e["params"]["request"]["url"] for e in self.events if e.get("method") == "Network.requestWillBeSent"]
        errors = [e for e in self.events if is_error(e)]
        return urls, errors, matplotlib.image.imread(io.BytesIO(base64.b64decode(shot["data"])), format="png")

    def close(self) -> None:
        if self.socket is not None:
            self.socket.close()
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)  # chromium and its helpers: the group it leads
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def is_error(event: dict) -> bool:
    method, params = event.get("method"), event.get("params", {})
    if method == "Runtime.consoleAPICalled":
        return params.get("type") == "error"
    if method == "Log.entryAdded":
        return params.get("entry", {}).get("level") == "error"
    return method in ("Runtime.exceptionThrown", "Network.loadingFailed")


@pytest.fixture
def browser(tmp_path):
    if CHROMIUM is None:
        if os.environ.get("CI"):  # .ci/run installs it: a browser test skipped there would prove nothing
            pytest.fail("chromium is not installed, and CI must run the browser test")
        pytest.skip("chromium is not installed (apt-get install chromium; .ci/run installs it)")
    import websocket  # websocket-client, in the test extra

    chromium = Browser(tmp_path / "chromium-profile")
    try:
        chromium.connect(websocket)
        yield chromium
    finally:
        chromium.close()


@pytest.mark.parametrize("width", [1280, 800])
def test_the_pages_load_offline_without_errors_in_a_browser(dltool, trained_run, comparison, browser, width):
    browser.resize(width)
    for page in (report(dltool, trained_run.name), report(dltool, comparison.name)):
        urls, errors, shot = browser.load(page)
        if os.environ.get("DLTOOL_REPORT_SHOTS"):  # to look at: DLTOOL_REPORT_SHOTS=/tmp pytest ...
            import matplotlib.image

            out = Path(os.environ["DLTOOL_REPORT_SHOTS"]) / f"{page.parent.name}-{width}.png"
            matplotlib.image.imsave(out, shot)
        assert errors == []
        assert [url for url in urls if url != page.as_uri() and not url.startswith("data:")] == []
        assert not browser.page_scrolls_sideways()  # a wide table scrolls in its box, never the page
        assert browser.enlarged_on_click()  # a picture fills the window when clicked
        assert shot.shape[0] > 900 and shot.shape[1] > width - 80  # the whole page (less a scroll bar)
        pixels = shot[..., :3].reshape(-1, 3)
        assert np.unique(pixels[:: max(1, len(pixels) // 200_000)], axis=0).shape[0] > 50, "the page looks blank"
