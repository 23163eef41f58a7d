"""Fixtures for real-browser tests: a `streamlit run` server and an offline-only chromium page."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

REPO_ROOT = Path(__file__).resolve().parents[2]
BROWSER_TESTS_DIR = Path(__file__).resolve().parent
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--headless",
]
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
INERT_SCHEMES = frozenset({"data", "blob", "about"})
SERVER_START_TIMEOUT_S = 60.0
DEFAULT_TIMEOUT_MS = 30_000
ARTIFACTS_DIR = Path(
    os.environ.get("BROWSER_ARTIFACTS_DIR", Path(tempfile.gettempdir()) / "browser-artifacts")
)
IDLE_APP = (
    '[data-testid="stApp"][data-test-connection-state="CONNECTED"][data-test-script-state="notRunning"]'
)
FOLIUM_IFRAME = 'iframe[title="streamlit_folium.st_folium"]'


# --------------------------------------------------------------------------- markers / skip


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test under tests/browser with `browser`."""
    for item in items:
        if BROWSER_TESTS_DIR in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)


def _browser_problem() -> str | None:
    if not CHROMIUM.is_file():
        return f"{CHROMIUM} not found (apt-get install chromium, or set CHROMIUM_PATH)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        return f"playwright is not importable: {exc}"
    return None


def require_browser() -> None:
    """Skip when no browser can run here, but fail instead when CI=true."""
    problem = _browser_problem()
    if problem is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"browser tests must run in CI (CI=true): {problem}", pytrace=False)
    pytest.skip(f"browser tests need chromium + playwright: {problem}")


# --------------------------------------------------------------------------- streamlit server


@dataclass
class StreamlitServer:
    """One `streamlit run` subprocess bound to 127.0.0.1."""

    url: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    data_dir: Path

    def log_tail(self, chars: int = 4000) -> str:
        """The end of the server's combined stdout/stderr."""
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""

    def stop(self) -> None:
        """Terminate the server's whole process group (SIGTERM, then SIGKILL)."""
        if self.process.poll() is not None:
            return
        _signal_group(self.process, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            _signal_group(self.process, signal.SIGKILL)
            self.process.wait(timeout=10)


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stage_script(script: Path, static_dir: Path, workdir: Path) -> Path:
    """Symlink the script next to a `static` folder, since Streamlit serves <script dir>/static."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "static").symlink_to(static_dir.resolve(), target_is_directory=True)
    staged = workdir / script.name
    staged.symlink_to(script.resolve())
    return staged


def _server_command(script: Path, port: int) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(script),
        "--server.address",
        "127.0.0.1",
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]
    setpriv = shutil.which("setpriv")
    # The server dies with pytest even if pytest itself is killed hard.
    return [setpriv, "--pdeathsig", "TERM", *command] if setpriv else command


def _server_env(data_dir: Path, extra: Mapping[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATA_DIR=str(data_dir),
        DATABASE_URL=f"sqlite:///{data_dir / 'annotation.db'}",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def _health_ok(url: str) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"{url}/_stcore/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _listen_addresses(port: int) -> set[str]:
    """Hex local addresses of LISTEN sockets on `port`, from /proc/net/tcp{,6}."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, state = fields[1], fields[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:
                found.add(address)
    return found


def _assert_loopback_only(server: StreamlitServer) -> None:
    loopback = {"0100007F", "00000000000000000000000001000000"}
    stray = _listen_addresses(server.port) - loopback
    assert not stray, f"streamlit listens beyond 127.0.0.1 on port {server.port}: {stray}"


def _wait_healthy(server: StreamlitServer, timeout_s: float = SERVER_START_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {server.process.returncode}:\n{server.log_tail()}")
        if _health_ok(server.url):
            return
        time.sleep(0.2)
    raise TimeoutError(f"streamlit not healthy after {timeout_s:.0f}s:\n{server.log_tail()}")


def start_streamlit(
    script: Path, workdir: Path, data_dir: Path, env: Mapping[str, str], static_dir: Path | None
) -> StreamlitServer:
    """Start `streamlit run script` on a free 127.0.0.1 port and wait until it is healthy."""
    target = _stage_script(script, static_dir, workdir) if static_dir else script
    port = _free_port()
    log_path = workdir / "streamlit.log"
    workdir.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            _server_command(target, port),
            cwd=REPO_ROOT,
            env=_server_env(data_dir, env),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    server = StreamlitServer(f"http://127.0.0.1:{port}", port, process, log_path, data_dir)
    try:
        _wait_healthy(server)
        _assert_loopback_only(server)
    except BaseException:
        server.stop()
        raise
    return server


@pytest.fixture(scope="session")
def streamlit_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., str]]:
    """Factory `(script, *, env=None, data_dir=None, static_dir=None, fresh=False) -> base URL`.

    Servers are shared per (script, env, data_dir, static_dir) for the session unless
    fresh=True, and all are terminated at session end.
    """
    servers: dict[tuple[Any, ...], StreamlitServer] = {}
    started: list[StreamlitServer] = []

    def start(
        script: str | Path,
        *,
        env: Mapping[str, str] | None = None,
        data_dir: Path | None = None,
        static_dir: Path | None = None,
        fresh: bool = False,
    ) -> str:
        script = Path(script).resolve()
        key = (script, tuple(sorted((env or {}).items())), data_dir, static_dir)
        if not fresh and key in servers and servers[key].process.poll() is None:
            return servers[key].url
        workdir = tmp_path_factory.mktemp(f"streamlit-{script.stem}")
        server = start_streamlit(script, workdir, data_dir or workdir / "data", env or {}, static_dir)
        started.append(server)
        servers[key] = server
        return server.url

    try:
        yield start
    finally:
        for server in started:
            server.stop()


# --------------------------------------------------------------------------- network log


@dataclass
class NetworkLog:
    """Every URL a test's browser context requested (pages, iframes, websockets)."""

    urls: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    reported: int = 0

    def record(self, url: str) -> None:
        """Remember one requested URL."""
        self.urls.append(url)

    def record_failure(self, url: str, why: str) -> None:
        """Remember a request that failed or answered with an HTTP error."""
        self.failures.append(f"{url} ({why})")

    def external(self) -> list[str]:
        """Requested URLs whose host is not this machine's loopback."""
        return [url for url in self.urls if not is_local_request(url)]

    def unreported(self) -> list[str]:
        """External URLs not yet turned into a test failure; marks them reported."""
        fresh = self.external()[self.reported :]
        self.reported += len(fresh)
        return fresh


def is_local_request(url: str) -> bool:
    """Whether a browser request stays on 127.0.0.1/localhost (or needs no network)."""
    parts = urlsplit(url)
    return parts.scheme in INERT_SCHEMES or parts.hostname in LOCAL_HOSTS


def _external_failure(urls: list[str]) -> str:
    return "the page requested hosts other than 127.0.0.1/localhost:\n  " + "\n  ".join(urls)


@pytest.fixture
def network_log() -> NetworkLog:
    """The current test's request log (filled by the `page` fixture)."""
    return NetworkLog()


# --------------------------------------------------------------------------- browser / page


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Debian chromium driven by Playwright (skips, or fails when CI=true, if absent)."""
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
        )
        try:
            yield instance
        finally:
            instance.close()


def _check_status(response: Any, log: NetworkLog) -> None:
    if response.status >= 400:
        log.record_failure(response.url, f"HTTP {response.status}")


def _watch(context: Any, log: NetworkLog) -> None:
    context.on("request", lambda request: log.record(request.url))
    context.on("requestfailed", lambda request: log.record_failure(request.url, request.failure or "failed"))
    context.on("response", lambda response: _check_status(response, log))
    context.on("page", lambda page: page.on("websocket", lambda ws: log.record(ws.url)))
    # Nothing may actually leave the machine even where a network exists.
    context.route(
        re.compile(r"^(https?|wss?)://(?!(127\.0\.0\.1|localhost|\[::1\])[:/])"), lambda r: r.abort()
    )


@pytest.fixture
def page(browser: Browser, network_log: NetworkLog) -> Iterator[Page]:
    """A page in a fresh browser context; the test fails if it requests any non-local host."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    _watch(context, network_log)
    try:
        yield context.new_page()
    finally:
        context.close()
    late = network_log.unreported()
    if late:
        pytest.fail(_external_failure(late), pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    """Fail the test itself (not just its teardown) when its page went off-machine."""
    result = yield
    log = getattr(item, "funcargs", {}).get("network_log")
    external = log.unreported() if log else []
    if external:
        pytest.fail(_external_failure(external), pytrace=False)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Save a full-page screenshot of a failed browser test and name it in the report."""
    report = yield
    page_ = getattr(item, "funcargs", {}).get("page")
    if report.when == "call" and report.failed and page_ is not None:
        report.sections.append(("browser screenshot", _screenshot(page_, item.nodeid)))
    return report


def _screenshot(page_: Page, nodeid: str) -> str:
    from playwright.sync_api import Error as PlaywrightError

    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS_DIR / (re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid) + ".png")
    try:
        page_.screenshot(path=str(path), full_page=True)
    except PlaywrightError as exc:  # a crashed page must not hide the real failure
        return f"screenshot failed: {exc}"
    return str(path)


# --------------------------------------------------------------------------- waiting


def wait_for_streamlit(
    page: Page,
    text: str | None = None,
    timeout_ms: float = DEFAULT_TIMEOUT_MS,
    allow_exceptions: bool = False,
) -> None:
    """Wait until the app is connected and idle, and `text` (if given) is visible.

    Fails with the message of any st.exception box on the page unless allow_exceptions.
    After a click that reruns the script, pass `text` that only the new run shows:
    the idle state alone can be observed before the rerun starts.
    """
    from playwright.sync_api import expect

    page.wait_for_selector(IDLE_APP, timeout=timeout_ms)
    if text is not None:
        expect(page.get_by_text(text).filter(visible=True).first).to_be_visible(timeout=timeout_ms)
        page.wait_for_selector(IDLE_APP, timeout=timeout_ms)
    errors = page.locator('[data-testid="stException"]')
    if not allow_exceptions and errors.count():
        pytest.fail("the Streamlit script raised:\n" + errors.first.inner_text(), pytrace=False)


@pytest.fixture
def wait_for_app() -> Callable[..., None]:
    """`wait_for_streamlit` as a fixture, so test modules need not import conftest."""
    return wait_for_streamlit


@pytest.fixture
def folium_frame() -> Callable[..., Any]:
    """`(page, index=0) -> FrameLocator` for the n-th streamlit-folium map iframe."""
    return lambda page_, index=0: page_.frame_locator(FOLIUM_IFRAME).nth(index)


# --------------------------------------------------------------------------- app database


@pytest.fixture
def app_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A migrated database in tmp_path that this test process and the app server share."""
    from annotation_db.engine import get_engine
    from annotation_db.migrate import upgrade_database
    from core.config import get_settings

    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'annotation.db'}")
    get_settings.cache_clear()
    get_engine.cache_clear()
    upgrade_database()
    yield tmp_path
    get_engine.cache_clear()
    get_settings.cache_clear()


@pytest.fixture
def buildings_tile(app_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, Any], Path]:
    """`(user name, role) -> data dir`: a buildings project "blocks" of one generated 256 px tile with
    AutoCorrect proposals, and that user (password "password123") in the app database."""
    from annotation_db.engine import session_scope
    from annotation_db.import_geo import import_geo
    from annotation_db.projects import get_project
    from annotation_db.users import create_user
    from core.synthetic.geo import generate_geo
    from training.autocorrect.predict import predict_project

    def _make(name: str, role: Any) -> Path:
        data = generate_geo(kind="buildings", tiles=1, size=256, seed=8, out=tmp_path_factory.mktemp("bld"))
        with session_scope() as session:
            import_geo(session, "blocks", "buildings", data / "rasters", data / "annotations.geojson")
            assert predict_project(session, get_project(session, "blocks")) >= 4
            create_user(session, name, role, "password123")
        return app_db

    return _make


@pytest.fixture
def log_in() -> Callable[..., None]:
    """`(page, url, name, password)`: open the app and log in through the login form."""

    def _log_in(page_: Page, url: str, name: str, password: str) -> None:
        page_.goto(url)
        wait_for_streamlit(page_, text="Log in")
        page_.get_by_label("User name").fill(name)
        page_.get_by_label("Password", exact=True).fill(password)
        page_.get_by_role("button", name="Log in").click()
        wait_for_streamlit(page_, text="Signed in as")

    return _log_in
