"""Click latency of the review pages in chromium: verdict click → next item rendered, per page, as JSON.

Seeds the demo workspace once (as `make run` does) into --workspace, copies its database into a fresh
run folder, starts `streamlit run app/main.py` on 127.0.0.1, logs an annotator in and gives N verdicts
on each review page by clicking the page's main button.

"Shown" is the first DOM change that names the next item (the Instance dropdown on Geometry review, the
clip key elsewhere), timed inside the page with performance.now() from just before the click.
"Idle" is when, after that, Streamlit also reports the script run finished (the whole redraw done).

    .venv/bin/python bench/app/click_latency.py --verdicts 10
    .venv/bin/python bench/app/click_latency.py --keyboard-tile --tile-size 1024   # 80 buildings by keyboard
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
PYTHON = sys.executable
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--headless"]
USER, PASSWORD = "bench", "bench-password-1"
IDLE = '[data-testid="stApp"][data-test-connection-state="CONNECTED"][data-test-script-state="notRunning"]'

# Each page: menu link, JS expression naming the item shown (null while none / ambiguous), the main
# verdict button's accessible name (a regular expression) and text that says the page is ready.
ITEM_JS = {
    # the one Instance dropdown left (after a rerun old and new can show together for a moment)
    "geometry": """(() => { const b = [...document.querySelectorAll('input[aria-label="Instance"]')];
        return b.length === 1 ? b[0].value.split(' ')[0] : null; })()""",
    # the clip key: the subheader of the boxes and sound pages
    "clip_subheader": """(() => { const h = [...document.querySelectorAll('[data-testid="stMain"] h3')]
        .filter(e => !e.closest('[data-stale="true"]')).map(e => e.innerText.split(' · ')[0]);
        return h.length === 1 ? h[0] : null; })()""",
    # the sync page's bold clip key beside the player
    "sync": """(() => { const s = [...document.querySelectorAll('[data-testid="stMain"] p strong')]
        .filter(e => !e.closest('[data-stale="true"]') && /^clip|\\d/.test(e.innerText)
                && e.parentElement.innerText.includes(' · ')).map(e => e.innerText);
        return s.length === 1 ? s[0] : null; })()""",
    # clip verification: the caption 'Clip `key` · keys Y / N / S'
    "verification": """(() => { const c = [...document.querySelectorAll('[data-testid="stMain"] code')]
        .filter(e => !e.closest('[data-stale="true"]') && e.parentElement.innerText.startsWith('Clip '))
        .map(e => e.innerText); return c.length === 1 ? c[0] : null; })()""",
}
PAGES = (  # (name, menu link, item expression, button name, text once ready, text once the queue is done)
    ("geometry", "Geometry review", ITEM_JS["geometry"], "^Accept correction$|^Keep original$", "Tile ",
     "No tile left"),
    ("boxes", "Sound-source boxes", ITEM_JS["clip_subheader"], "^Save boxes$", "Save boxes",
     "Every clip of this project has its boxes"),
    ("sound_check", "Sound check", ITEM_JS["clip_subheader"], "^Yes$", "Does the", "No boxed clip waits"),
    ("sync", "Sync review", ITEM_JS["sync"], "^In sync as", "What is this clip?", "No clip left"),
    ("clip_verification", "Clip verification", ITEM_JS["verification"], "^Yes$", "Does this clip show",
     "Every sampled clip here is answered"),
)

# Clicks the button and resolves with {old, new, shown_ms, idle_ms}: polled every animation frame.
CLICK_JS = """async ([itemJs, buttonRe, doneText, timeoutMs]) => {
  const item = () => eval(itemJs);
  const idle = () => !!document.querySelector('%s');
  const old = item();
  const re = new RegExp(buttonRe);
  const button = [...document.querySelectorAll('[data-testid="stMain"] button')]
      .find(b => !b.disabled && !b.closest('[data-stale="true"]')
                 && b.innerText.split('\\n').some(line => re.test(line.trim())));
  if (!button) return {error: 'no enabled button ' + buttonRe, old};
  const start = performance.now();
  button.click();
  let shown = null, now = item();
  while (performance.now() - start < timeoutMs) {
    await new Promise(r => requestAnimationFrame(r));
    now = item();
    if (shown === null && now !== null && now !== old) shown = performance.now() - start;
    const main = document.querySelector('[data-testid="stMain"]');
    if (main && main.innerText.includes(doneText) && idle()) return {old, done: true};
    if (shown !== null && idle()) return {old, new: now, shown_ms: shown, idle_ms: performance.now() - start};
  }
  return {error: 'timeout', old, new: now, shown_ms: shown};
}""" % IDLE.replace("'", "\\'")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(data_dir: Path) -> dict[str, str]:
    env = dict(os.environ, DATA_DIR=str(data_dir), DATABASE_URL=f"sqlite:///{data_dir / 'annotation.db'}",
               PYTHONUNBUFFERED="1")
    return env


def seed(workspace: Path) -> None:
    """The demo workspace as `make run` makes it (database migrated, demo projects with proposals)."""
    if (workspace / "annotation.db").is_file() and (workspace / "seeded").is_file():
        return
    workspace.mkdir(parents=True, exist_ok=True)
    env = _env(workspace)
    for command in (["annotation_db", "init"], ["training", "seed-demo"]):  # their lines to stderr: stdout is JSON
        subprocess.run([PYTHON, "-m", *command], cwd=REPO, env=env, check=True, stdout=sys.stderr)
    (workspace / "seeded").write_text(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))


def fresh_run_dir(workspace: Path) -> Path:
    """A data dir with a copy of the seeded database (media stay where they were seeded) and an annotator."""
    run = Path(tempfile.mkdtemp(prefix="click-latency-"))
    shutil.copy2(workspace / "annotation.db", run / "annotation.db")
    env = dict(_env(run), BENCH_PASSWORD=PASSWORD)
    subprocess.run([PYTHON, "-m", "annotation_db", "create-user", USER, "--role", "annotator",
                    "--password-env", "BENCH_PASSWORD"], cwd=REPO, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return run


def start_server(run: Path) -> tuple[subprocess.Popen, str]:
    """`streamlit run app/main.py` on a free loopback port, healthy."""
    port = _free_port()
    with (run / "streamlit.log").open("wb") as log:  # the server keeps its own handle
        process = subprocess.Popen(
            [PYTHON, "-m", "streamlit", "run", "app/main.py", "--server.address", "127.0.0.1", "--server.port",
             str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false"],
            cwd=REPO, env=dict(_env(run), SEED_DEMO="0"), stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    for _ in range(300):
        try:
            with opener.open(f"{url}/_stcore/health", timeout=2):
                return process, url
        except OSError:
            time.sleep(0.2)
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=20)
    raise RuntimeError("streamlit did not start:\n" + (run / "streamlit.log").read_text()[-3000:])


def _idle(page, text: str | None = None) -> None:
    page.wait_for_selector(IDLE, timeout=60_000)
    if text:
        page.get_by_text(text).filter(visible=True).first.wait_for(timeout=60_000)
        page.wait_for_selector(IDLE, timeout=60_000)


def _percentile(values: list[float], q: float) -> float:
    """The q-quantile by linear interpolation between order statistics."""
    ordered = sorted(values)
    at = (len(ordered) - 1) * q
    low = int(at)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (at - low)


def _type_a_box_if_none(page) -> None:
    """Where the model proposed no box (Save disabled), type one, so that the clip reaches the sound check."""
    save = page.get_by_role("button", name="Save boxes")
    if save.is_enabled():
        return
    text = page.get_by_label("Boxes (x1, y1, x2, y2 per line, fractions of the frame)")
    if not text.is_visible():  # folded away under the box editor
        page.get_by_text("Boxes as numbers").click()
    text.fill("0.2, 0.2, 0.6, 0.7")
    text.press("Control+Enter")
    save.and_(page.locator(":enabled")).wait_for(timeout=20_000)
    _idle(page)


def measure_page(page, spec: tuple, verdicts: int, settle_ms: int) -> dict:
    """N verdicts on one page; latencies of those whose next item showed."""
    name, link, item_js, button, ready, done = spec
    page.get_by_role("link", name=link).click()
    _idle(page, ready)
    page.wait_for_timeout(settle_ms)
    shown, idle, errors, items = [], [], [], []
    for _ in range(verdicts):
        if name == "boxes":
            _type_a_box_if_none(page)
        result = page.evaluate(CLICK_JS, [item_js, button, done, 20_000])
        if result.get("done"):  # the queue ran out: that click has no next item to time
            break
        if "error" in result:
            errors.append(result)
            break
        items.append(result["old"])
        shown.append(result["shown_ms"])
        idle.append(result["idle_ms"])
        page.wait_for_timeout(settle_ms)  # late deltas (media, iframes) land before the next click
    summary = {"verdicts": len(shown), "items": items}
    for label, values in (("shown", shown), ("idle", idle)):
        if values:
            summary[f"{label}_median_ms"] = round(statistics.median(values), 1)
            summary[f"{label}_p95_ms"] = round(_percentile(values, 0.95), 1)
            summary[f"{label}_max_ms"] = round(max(values), 1)
    if errors:
        summary["error"] = errors[0]
    return summary


KEYBOARD_PROJECT = "a-keyboard-tile"  # listed first on Geometry review, so the page opens on it


def add_keyboard_tile(run: Path, size: int) -> None:
    """A buildings project of one generated `size` px tile (1,024 px: 80 buildings) with AutoCorrect
    proposals, in the run's database."""
    from core.synthetic.geo import generate_geo

    data = generate_geo(kind="buildings", tiles=1, size=size, seed=8, out=run / "keyboard-tile")
    for command in (["annotation_db", "import-geo", "--project", KEYBOARD_PROJECT, "--kind", "buildings",
                     "--rasters", str(data / "rasters"), "--annotations", str(data / "annotations.geojson")],
                    ["training", "predict", "autocorrect", "--project", KEYBOARD_PROJECT]):
        subprocess.run([PYTHON, "-m", *command], cwd=REPO, env=_env(run), check=True, stdout=subprocess.DEVNULL)


def review_tile_by_keyboard(page, run: Path, max_keys: int = 400) -> dict:
    """Geometry review of one whole tile with the keyboard alone: A where a confident correction can be
    accepted, else K (keep original), until the tile is done; verdicts counted in the run's database."""
    import sqlite3

    page.get_by_role("link", name="Geometry review").click()
    _idle(page, "Tile ")
    tile = page.locator("h3").filter(has_text="Tile ").first.inner_text()
    left = int(page.get_by_text("instances left").first.inner_text().split()[0])
    page.locator("h1").click()  # the focus on the page, not on a widget
    started, keys = time.monotonic(), 0
    while keys < max_keys:
        heading = page.locator("h3").filter(has_text="Tile ")
        if not heading.count() or heading.first.inner_text() != tile:  # the tile is done: the next, or none
            break
        accept = page.get_by_role("button", name="Accept correction")
        page.keyboard.press("a" if accept.count() == 1 and accept.is_enabled() else "k")
        keys += 1
        page.wait_for_timeout(50)  # the run starts
        page.wait_for_selector(IDLE, timeout=60_000)
    seconds = time.monotonic() - started
    with sqlite3.connect(run / "annotation.db") as db:
        verdicts = db.execute("SELECT count(DISTINCT v.instance_id) FROM verdicts v JOIN users u ON u.id = v.user_id "
                              "WHERE u.name = ? AND v.kind = 'geometry'", (USER,)).fetchone()[0]
    return {"tile": tile, "instances": left, "keys": keys, "instances_with_verdict": verdicts,
            "seconds": round(seconds, 1), "per_instance_ms": round(1000 * seconds / max(keys, 1), 1)}


def machine() -> dict:
    """What ran it."""
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    load = os.getloadavg()
    import streamlit

    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "streamlit": streamlit.__version__, "chromium": CHROMIUM, "load_avg_1m": round(load[0], 2),
            "platform": platform.platform()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verdicts", type=int, default=10, help="verdicts per page")
    parser.add_argument("--workspace", type=Path, default=Path(tempfile.gettempdir()) / "click-latency-demo",
                        help="where the demo workspace is seeded once and reused (its database is copied)")
    parser.add_argument("--pages", nargs="*", default=[p[0] for p in PAGES], help="pages to measure")
    parser.add_argument("--settle-ms", type=int, default=300, help="pause after each item is idle")
    parser.add_argument("--keep-run", action="store_true", help="keep the run folder (server log, database)")
    parser.add_argument("--screenshots", type=Path, help="save a screenshot of a page that fails here")
    parser.add_argument("--tile-size", type=int,
                        help="with --keyboard-tile: review a generated buildings tile of this many px a side "
                             "(1024: 80 buildings) instead of the demo's first tile")
    parser.add_argument("--keyboard-tile", action="store_true",
                        help="instead: review one whole Geometry review tile with the keyboard alone")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    seed(args.workspace)
    run = fresh_run_dir(args.workspace)
    if args.keyboard_tile and args.tile_size:
        add_keyboard_tile(run, args.tile_size)
    process, url = start_server(run)
    results = {"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "machine": machine(),
               "verdicts_per_page": args.verdicts, "pages": {}}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
            page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            page.goto(url)
            _idle(page, "Log in")
            page.get_by_label("User name").fill(USER)
            page.get_by_label("Password", exact=True).fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            _idle(page, "Signed in as")
            if args.keyboard_tile:
                results["keyboard_tile"] = review_tile_by_keyboard(page, run)
            for spec in PAGES if not args.keyboard_tile else ():
                if spec[0] in args.pages:
                    try:
                        results["pages"][spec[0]] = measure_page(page, spec, args.verdicts, args.settle_ms)
                    except Exception as error:  # report the page, measure the others
                        if args.screenshots:
                            page.screenshot(path=str(args.screenshots / f"{spec[0]}.png"), full_page=True)
                        results["pages"][spec[0]] = {"error": str(error).splitlines()[0]}
            browser.close()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    print(json.dumps(results, indent=2))
    if args.keep_run:
        print(f"run folder (server log, database) kept: {run}", file=sys.stderr)
    else:
        shutil.rmtree(run, ignore_errors=True)
    return 0 if all("error" not in r for r in results["pages"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
