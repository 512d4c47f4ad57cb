"""The dashboard in headless Chromium: a running job's loss curve grows while it trains.

Needs Debian's `chromium` (/usr/bin/chromium) and the `playwright` package (its driver
only: Playwright's own browser downloads are never used).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import numpy as np
import pytest

from tests.conftest import ARTIFACTS, Service, Stack, start_api
from tests.helpers import upload, wait_for_job

if TYPE_CHECKING:
    from playwright.sync_api import ConsoleMessage, Page

CHROMIUM = Path("/usr/bin/chromium")
# This machine's network refuses Chromium's own background connections: ask for none.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-proxy-server",
]
EPOCHS = 12
SAMPLES = 12_000  # 2400 batches of 4 an epoch: half a second or more each

if not CHROMIUM.exists():
    pytest.skip(
        f"{CHROMIUM} is missing: install Debian's chromium (`apt-get install -y chromium`)",
        allow_module_level=True,
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="pip install the dev extras")


def unexpected(message: ConsoleMessage) -> bool:
    """A console error other than an HTTP error status (the page shows those itself)."""
    return bool(message.type == "error" and "Failed to load resource" not in message.text)


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Page]:
    """A fresh Chromium profile and page; a script error fails the test."""
    errors: list[str] = []
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            tmp_path / "profile",
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1280, "height": 900},
        )
        try:
            page = context.new_page()
            page.set_default_timeout(30_000)
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("console", lambda m: errors.append(m.text) if unexpected(m) else None)
            yield page
        finally:
            context.close()
    assert not errors, f"the page logged errors: {errors}"


def submit_training(http: httpx.Client, epochs: int = EPOCHS) -> str:
    """A job that trains for about a second an epoch, with validation."""
    rng = np.random.default_rng(0)
    x = upload(http, rng.normal(size=(SAMPLES, 64)).astype(np.float32))
    y = upload(http, rng.integers(0, 4, SAMPLES))
    spec = {
        "model": {
            "layers": [
                {"type": "Dense", "units": 256, "activation": "relu", "input_shape": [64]},
                {"type": "Dense", "units": 4, "activation": "softmax"},
            ]
        },
        "compile": {"loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]},
        "fit": {"epochs": epochs, "batch_size": 4, "validation_split": 0.2, "seed": 0},
        "data": {"x": x, "y": y},
    }
    response = http.post("/v1/jobs", json=spec)
    assert response.status_code == 201, response.text
    job_id: str = response.json()["id"]
    return job_id


STATUS = "document.getElementById('job-view').dataset.status"
POINTS = "Number(document.querySelector('[data-metric=\"loss\"]')?.dataset.points || 0)"


def chart_state(page: Page) -> tuple[str, int]:
    """The job's status and the number of training-loss points drawn, as the page has them."""
    status, points = page.evaluate(f"() => [{STATUS} || '', {POINTS}]")
    return str(status), int(points)


def enter_key(page: Page, url: str, key: str) -> None:
    page.goto(f"{url}/")
    page.get_by_role("textbox", name="API key").fill(key)
    page.get_by_role("button", name="Save key").click()


def dollars(text: str) -> float:
    """The amount in a text that shows one in US dollars: `…, $0.0412` → 0.0412."""
    return float(text.rsplit("$", 1)[1].replace(",", ""))


def key_of(http: httpx.Client) -> str:
    return http.headers["Authorization"].removeprefix("Bearer ")


def wait_until_running(http: httpx.Client, job_id: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s  # the job may wait for another test's job
    while http.get(f"/v1/jobs/{job_id}").json()["status"] != "running":
        assert time.monotonic() < deadline, "the job never started"
        time.sleep(0.1)


def test_a_running_jobs_loss_curve_grows_live(
    page: Page, api_url: str, http: httpx.Client, worker: Service
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    job_id = submit_training(http)
    enter_key(page, api_url, key_of(http))
    page.wait_for_selector(f'#jobs-body tr[data-job="{job_id}"]', timeout=15_000)
    wait_until_running(http, job_id)
    page.get_by_role("link", name=job_id).click()
    page.wait_for_function(f"() => {STATUS} === 'running'", timeout=15_000)

    samples: list[tuple[str, int]] = []
    deadline = time.monotonic() + 120
    while not samples or samples[-1][0] == "running":
        assert time.monotonic() < deadline, f"the job did not end in time: {samples[-5:]}"
        samples.append(chart_state(page))
        if samples[-1] == ("running", 3) and samples[-2:-1] != [("running", 3)]:
            page.screenshot(path=str(ARTIFACTS / "dashboard-running.png"), full_page=True)
        time.sleep(0.1)
    page.wait_for_function(f"() => {POINTS} === {EPOCHS}", timeout=10_000)
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)

    counts = [points for _, points in samples]
    assert counts == sorted(counts), "points are only ever added"
    while_running = {points for status, points in samples if status == "running"}
    assert len(while_running) >= 3, f"the curve grew while the job ran: {sorted(while_running)}"
    assert chart_state(page) == ("succeeded", EPOCHS)
    assert page.locator('[data-metric="val_loss"]').count() == 0  # drawn with loss
    assert page.locator('[data-metric="accuracy"]').count() == 1
    # The events list is fetched again just after the stream's `end` (a bounded wait).
    sync_api.expect(page.locator("#events li").filter(has_text="succeeded")).to_have_count(1)
    with page.expect_download() as download:
        page.get_by_role("link", name="Weights (safetensors)").click()
    assert download.value.suggested_filename == f"{job_id}.safetensors"
    weights = Path(download.value.path()).read_bytes()
    header = int.from_bytes(weights[:8], "little")  # safetensors: length, then JSON
    assert weights[8 : 8 + header].startswith(b"{")


def test_a_refused_key_cancel_and_problem_details(
    page: Page, api_url: str, http: httpx.Client, worker: Service
) -> None:
    enter_key(page, api_url, "not-a-key")
    page.wait_for_selector("#error:not([hidden])")
    assert page.locator("#error").inner_text()  # the problem's detail
    assert page.evaluate("localStorage.getItem('cornu.apiKey')") is None  # not kept

    enter_key(page, api_url, key_of(http))
    job_id = submit_training(http, epochs=1000)
    page.wait_for_selector(f'#jobs-body tr[data-job="{job_id}"]', timeout=15_000)
    page.screenshot(path=str(ARTIFACTS / "dashboard-jobs.png"), full_page=True)
    page.get_by_role("link", name=job_id).click()
    page.wait_for_function(f"() => {STATUS}")
    page.get_by_role("button", name="Cancel job").click()  # 200 if queued, 202 if running
    page.wait_for_function(f"() => {STATUS} === 'cancelled'", timeout=30_000)
    assert page.get_by_role("button", name="Cancel job").is_disabled()

    page.get_by_role("link", name="Weights (safetensors)").click()  # a cancelled job has none
    error = page.locator("#error")
    error.wait_for(state="visible")
    assert f"job {job_id!r} has no weights yet (status: cancelled)" in error.inner_text()

    page.get_by_role("button", name="Forget key").click()
    page.wait_for_selector("#key-view:not([hidden])")
    assert page.evaluate("localStorage.getItem('cornu.apiKey')") is None


def test_the_stream_resumes_when_the_api_restarts(
    page: Page, make_stack: Callable[..., Stack]
) -> None:
    stack = make_stack()
    streams: list[dict[str, str]] = []
    page.on("request", lambda r: streams.append(r.headers) if r.url.endswith("/stream") else None)
    with stack.client() as http:
        job_id = submit_training(http, epochs=8)
        enter_key(page, stack.api_url, key_of(http))
        wait_until_running(http, job_id)
    page.goto(f"{stack.api_url}/#/jobs/{job_id}")
    page.wait_for_function(f"() => {POINTS} >= 2", timeout=60_000)

    port = int(stack.api_url.rsplit(":", 1)[1])
    stack.services[0].stop()  # the API: the stream ends without its `end` event
    stack.services[0] = start_api(stack.env, stack.directory / "api-again.log", port)
    page.wait_for_function(f"() => {STATUS} === 'succeeded' && {POINTS} === 8", timeout=90_000)
    assert len(streams) >= 2 and "last-event-id" not in streams[0]
    assert all("last-event-id" in headers for headers in streams[1:])


def test_three_runs_selected_from_a_tag_share_one_validation_loss_chart(
    page: Page, api_url: str, http: httpx.Client, worker: Service
) -> None:
    """The book's chapter 4: an original, a smaller and a bigger network, compared by their
    validation loss. The list filtered by the runs' tag shows just them; ticking the three
    and comparing draws three lines on one validation-loss chart."""
    rng = np.random.default_rng(4)
    x = upload(http, rng.normal(size=(400, 16)).astype(np.float32))
    y = upload(http, rng.integers(0, 2, 400))
    ids = {}
    for name, units in (("original", 16), ("smaller", 4), ("bigger", 64)):
        spec = {
            "name": name,
            "tags": ["chapter4"],
            "model": {"layers": [
                {"type": "Dense", "units": units, "activation": "relu", "input_shape": [16]},
                {"type": "Dense", "units": 1, "activation": "sigmoid"}]},
            "compile": {"loss": "binary_crossentropy", "optimizer": "rmsprop"},
            "fit": {"epochs": 4, "batch_size": 32, "validation_split": 0.25, "seed": 0},
            "data": {"x": x, "y": y},
        }  # fmt: skip
        response = http.post("/v1/jobs", json=spec)
        assert response.status_code == 201, response.text
        ids[name] = response.json()["id"]
    untagged = submit_training(http, epochs=1)
    for job_id in ids.values():
        wait_for_job(http, job_id)

    enter_key(page, api_url, key_of(http))
    page.wait_for_selector(f'#jobs-body tr[data-job="{untagged}"]')
    page.get_by_role("searchbox", name="Tag").fill("chapter4")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_function(
        f"() => !document.querySelector('#jobs-body tr[data-job=\"{untagged}\"]') && "
        "document.querySelectorAll('#jobs-body tr').length === 3"
    )
    for name in ids:
        page.get_by_role("checkbox", name=f"Select {name}").check()
    page.screenshot(path=str(ARTIFACTS / "dashboard-jobs-tagged.png"), full_page=True)
    page.get_by_role("button", name="Compare selected (3)").click()
    chart = '[data-metric="val_loss"]'
    page.wait_for_function(f"() => document.querySelector('{chart}')?.dataset.series === '3'")
    caption = page.locator(f"{chart} figcaption").inner_text()
    assert all(name in caption for name in ids), caption
    assert page.locator("#compare-jobs li").count() == 3
    page.screenshot(path=str(ARTIFACTS / "dashboard-compare.png"), full_page=True)

    # A run's page: what it is (name, tags, model summary, settings), where it ran, how
    # long, and its per-epoch checkpoints folded into one line.
    page.get_by_role("link", name="bigger").click()
    page.wait_for_function("() => document.querySelectorAll('#summary-body tr').length === 2")
    assert page.locator("#job-name").inner_text() == "bigger"
    assert page.locator("#job-tags").inner_text() == "chapter4"
    assert page.locator("#job-device").inner_text() == "cpu"
    assert page.locator("#job-duration").inner_text().endswith(" s")
    rows = page.locator("#summary-body tr").all_inner_texts()
    assert "1,088" in rows[0] and "[64]" in rows[0]  # Dense(64) on 16 features: 16·64 + 64
    assert "Total params: 1,153" in page.locator("#summary-total").inner_text()
    settings = page.locator("#settings").inner_text()
    assert "RMSprop (learning_rate=0.001" in settings and "validation_split\n0.25" in settings
    folded = page.locator("#events li.checkpoints summary")
    assert folded.inner_text().startswith("4 checkpoints")
    page.screenshot(path=str(ARTIFACTS / "dashboard-job.png"), full_page=True)

    # What the runs cost: the job's device time at the session's CPU price, and the
    # tenant's usage this month, by class and by day, summing the four jobs.
    http.post(f"/v1/jobs/{untagged}/cancel")
    wait_for_job(http, untagged)  # no job charges any more while the figures are compared
    job = http.get(f"/v1/jobs/{ids['bigger']}").json()
    assert dollars(page.locator("#job-cost").inner_text()) == pytest.approx(job["cost"], rel=0.01)
    page.get_by_role("link", name="Usage").click()
    page.wait_for_function("() => document.querySelectorAll('#usage-days tr').length === 1")
    usage = http.get("/v1/usage").json()
    shown = dollars(page.locator("#usage-period-cost").inner_text())
    assert shown == pytest.approx(usage["period"]["cost"], rel=0.01)
    [cpu] = page.locator("#usage-classes tr").all_inner_texts()
    assert cpu.startswith("cpu\t") and dollars(cpu) == pytest.approx(usage["cost"], rel=0.01)
    held = page.locator("#usage-held").inner_text()
    assert "jobs_kept\t4\t" in held
    page.screenshot(path=str(ARTIFACTS / "dashboard-usage.png"), full_page=True)


def test_a_studys_page_sorts_its_trials_and_plots_the_objective_by_hyperparameter(
    page: Page, api_url: str, http: httpx.Client, worker: Service
) -> None:
    """A study of four trials: the list links it; its page shows the trials (the best
    first, the order flipped by the objective's header), the objective against each
    numeric hyperparameter (one point per trial), the best trial's curves, and a trial's
    job links back to its study."""
    rng = np.random.default_rng(5)
    x = upload(http, rng.normal(size=(256, 8)).astype(np.float32))
    y = upload(http, (rng.normal(size=256) > 0).astype(np.int64))
    job = {
        "model": {"layers": [
            {"type": "Dense", "units": {"$hp": "units"}, "activation": "relu",
             "input_shape": [8]},
            {"type": "Dense", "units": 1, "activation": "sigmoid"}]},
        "compile": {"loss": "binary_crossentropy",
                    "optimizer": {"type": "Adam", "learning_rate": {"$hp": "lr"}}},
        "fit": {"epochs": 3, "batch_size": 32, "validation_split": 0.25, "seed": 0},
        "data": {"x": x, "y": y},
    }  # fmt: skip
    spec = {
        "name": "widths",
        "objective": {"name": "val_loss", "direction": "min"},
        "space": [
            {"type": "choice", "name": "units", "values": [2, 16]},
            {"type": "choice", "name": "lr", "values": [0.001, 0.01]},
        ],
        "templates": [{"job": job}],
        "algorithm": {"sampler": "grid", "seed": 0},
        "max_parallel": 2,
    }
    created = http.post("/v1/studies", json=spec)
    assert created.status_code == 201, created.text
    study_id = created.json()["id"]
    deadline = time.monotonic() + 120
    while (study := http.get(f"/v1/studies/{study_id}").json())["status"] == "running":
        assert time.monotonic() < deadline, study
        time.sleep(0.2)
    assert study["status"] == "completed" and len(study["trials"]) == 4

    enter_key(page, api_url, key_of(http))
    page.get_by_role("link", name="Studies").click()
    page.get_by_role("link", name=study_id).click()
    page.wait_for_function("() => document.querySelectorAll('#trials-body tr').length === 4")
    scores = sorted(t["score"] for t in study["trials"])
    first = page.locator("#trials-body tr").first.get_attribute("data-trial")
    assert first == str(study["best"]["number"])  # lowest val_loss first
    assert "best" in (page.locator("#trials-body tr").first.get_attribute("class") or "")
    page.locator("#sort-score").click()  # flip: the worst first
    worst = next(t for t in study["trials"] if t["score"] == scores[-1])
    assert page.locator("#trials-body tr").first.get_attribute("data-trial") == str(worst["number"])
    for name in ("units", "lr"):
        chart = f'#study-scatter [data-metric="{name}"]'
        page.wait_for_function(f"() => document.querySelector('{chart}')?.dataset.points === '4'")
    page.wait_for_function(
        "() => document.querySelector('#study-curves [data-metric=\"loss\"]')"
        "?.dataset.points === '3'"
    )
    assert page.locator("#study-best-link").inner_text() == study["best"]["jobs"][0]
    page.screenshot(path=str(ARTIFACTS / "dashboard-study.png"), full_page=True)

    page.locator("#trials-body tr a").first.click()  # a trial's job
    page.wait_for_selector("#job-trial a")
    assert study_id in page.locator("#job-trial").inner_text()
