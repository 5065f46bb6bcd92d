"""Fixtures of the browser tests: the local API (`local-api`, started here on a free 127.0.0.1
port, once on the in-memory store and once on DynamoDB at DYNAMODB_TEST_ENDPOINT), headless
Chromium instances driven by Debian's chromedriver, a page on another origin, and axe-core.

Everything is bounded: the server must answer within 60 s, every Chromium command has a time
limit, and every process started here is stopped at teardown.
"""

import http.server
import os
import pathlib
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from pages import AccountPage

ROOT = pathlib.Path(__file__).resolve().parents[2]
TARGET = ROOT / os.environ.get("CARGO_TARGET_DIR", "target")
LOCAL_API = pathlib.Path(os.environ.get("LOCAL_API_BIN", TARGET / "debug" / "local-api"))
LOGS = TARGET / "browser-test"
STORES = ["memory", "dynamodb"]
START_SECONDS = 60


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One `local-api` process on 127.0.0.1."""

    def __init__(self, store):
        if not LOCAL_API.is_file():
            pytest.fail(f"{LOCAL_API} is missing: build it with `cargo build -p local-api`")
        self.store = store
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        args = [
            str(LOCAL_API), "--host", "127.0.0.1", "--port", str(self.port),
            # Any second presentation of a rotated refresh token is reuse: a rotation the tests
            # did not see would end the session instead of passing unnoticed.
            "--refresh-reuse-grace-seconds", "0",
        ]
        # Nothing from the caller's environment chooses the store, its tables or AWS credentials.
        env = {
            k: v for k, v in os.environ.items()
            if not k.startswith("AWS_") and k not in {
                "DYNAMODB_ENDPOINT_URL", "CREATE_TABLES", "USERS_TABLE", "SESSIONS_TABLE",
                "ATTEMPTS_TABLE", "PORT", "HOST", "JWT_ALGORITHM",
            }
        }
        env["JWT_SECRET"] = secrets.token_hex(32)
        env["RUST_LOG"] = "info"
        if store == "dynamodb":
            endpoint = os.environ.get("DYNAMODB_TEST_ENDPOINT")
            if not endpoint:
                pytest.fail(
                    "DYNAMODB_TEST_ENDPOINT is not set: run `bash scripts/browser-test`, "
                    "which starts moto and sets it")
            suffix = secrets.token_hex(4)
            args += [
                "--dynamodb-endpoint", endpoint, "--create-tables",
                "--users-table", f"browser-users-{suffix}",
                "--sessions-table", f"browser-sessions-{suffix}",
                "--attempts-table", f"browser-attempts-{suffix}",
            ]
        LOGS.mkdir(parents=True, exist_ok=True)
        self.log_path = LOGS / f"server-{store}-{self.port}.log"
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            args, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
        self._wait_until_up()

    def _wait_until_up(self):
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.stop()
                pytest.fail(f"local-api exited: {self.log_path.read_text()}")
            try:
                with urllib.request.urlopen(self.base + "/", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        self.stop()
        pytest.fail(f"local-api did not answer within {START_SECONDS} s: {self.log_path}")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log.close()


@pytest.fixture(scope="session")
def servers():
    """The servers started so far, by store: each starts when a test first needs it."""
    started = {}
    yield started
    for server in started.values():
        server.stop()


@pytest.fixture(params=STORES)
def api(request, servers):
    """The local API on each store in turn."""
    store = request.param
    if store not in servers:
        servers[store] = Server(store)
    return servers[store]


@pytest.fixture
def memory_api(servers):
    """The local API on the in-memory store, for tests that do not depend on the store."""
    if "memory" not in servers:
        servers["memory"] = Server("memory")
    return servers["memory"]


@pytest.fixture
def own_server():
    """A server of the test's own, on the in-memory store, which the test may stop."""
    started = []

    def start():
        started.append(Server("memory"))
        return started[-1]

    yield start
    for server in started:
        server.stop()


def chromium(tmpdir, user_agent=None):
    """A fresh headless Chromium with a profile of its own (its own cookie jar). `tmpdir` is its
    TMPDIR: Chromium leaves its process-singleton directory (`org.chromium.Chromium.*`) behind
    there, which the caller removes after quitting it."""
    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CHROMIUM_BINARY", "/usr/bin/chromium")
    for argument in [
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-extensions", "--no-first-run", "--window-size=1000,700", "--lang=en-US",
    ]:
        options.add_argument(argument)
    if user_agent:
        options.add_argument(f"--user-agent={user_agent}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(
        os.environ.get("CHROMEDRIVER_BINARY", "/usr/bin/chromedriver"),
        env={**os.environ, "TMPDIR": str(tmpdir)},
    )
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(30)
    return driver


@pytest.fixture
def browser():
    """Opens separate Chromium instances (`browser()`, `browser(user_agent=...)`), each an
    AccountPage on it; all are closed at teardown, and their temporary files removed."""
    drivers = []
    tmpdirs = []

    def open_browser(server, user_agent=None):
        # A short path, not pytest's tmp_path: Chromium puts a Unix socket in it, and a
        # socket's path is limited to 107 bytes.
        tmpdirs.append(tempfile.mkdtemp(prefix="browser-test-"))
        drivers.append(chromium(tmpdirs[-1], user_agent))
        return AccountPage(drivers[-1], server.base)

    yield open_browser
    try:
        failures = []
        for driver in drivers:
            try:
                driver.quit()
            except Exception as e:  # every browser is quit, whichever fails
                failures.append(e)
        if failures:
            raise failures[0]
    finally:
        for tmpdir in tmpdirs:
            shutil.rmtree(tmpdir, ignore_errors=True)


class _Blank(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (the standard library's name)
        body = b"<!doctype html><title>Another site</title><p>Another origin.</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def other_origin():
    """A tiny page on another origin: 127.0.0.1 on another port (same site, other origin, so
    the browser sends the SameSite=Strict cookie with its requests to the API)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Blank)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def axe_source():
    """axe-core's script (installed into .browser by scripts/lib/browser.sh)."""
    path = pathlib.Path(os.environ.get(
        "AXE_CORE_SCRIPT", ROOT / ".browser" / "node_modules" / "axe-core" / "axe.min.js"))
    if not path.is_file():
        pytest.fail(f"{path} is missing: run `bash scripts/browser-test`, which installs axe-core")
    return path.read_text()
