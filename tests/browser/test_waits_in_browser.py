"""The waiting rules of the browser tests, checked on a tiny page: a slow load is retried once
and reported, a load that is still not ready fails, and a page error is never retried away.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

READY = "<p id='ready'>ready</p>"
LOADING = "<p>still loading</p>"


def _short(waits, seconds: float = 8.0) -> None:
    """Give the test a few seconds instead of the full budget (the rules do not depend on it)."""
    waits.deadline = type(waits.deadline)(seconds)


def test_a_slow_load_is_retried_once_and_the_retry_is_reported(page_and_log, waits):
    page, _ = page_and_log
    _short(waits)
    attempts: list[float] = []

    def load(deadline) -> None:
        attempts.append(deadline.seconds)
        page.set_content(READY if len(attempts) > 1 else LOADING)
        waits.selector("#ready", "the ready marker", deadline)

    with pytest.warns(UserWarning, match="the tiny page: first load not ready .* reloading once"):
        waits.load(load, "the tiny page")
    assert len(attempts) == 2 and waits.retries == 1
    assert attempts[0] <= 4.0, "the first attempt gets at most half of the budget"


def test_a_load_that_is_never_ready_fails_after_one_retry(page_and_log, waits):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page, _ = page_and_log
    _short(waits, 4.0)
    attempts: list[float] = []

    def load(deadline) -> None:
        attempts.append(deadline.seconds)
        page.set_content(LOADING)
        waits.selector("#ready", "the ready marker", deadline)

    with pytest.warns(UserWarning, match="reloading once"), pytest.raises(PlaywrightTimeout, match="the ready marker"):
        waits.load(load, "the tiny page")
    assert len(attempts) == 2


def test_a_page_error_fails_at_once_and_is_not_retried(page_and_log, waits):
    page, log = page_and_log
    _short(waits)
    attempts: list[float] = []

    def load(deadline) -> None:
        attempts.append(deadline.seconds)
        page.set_content("<script>throw new Error('boom')</script>" + LOADING)
        waits.selector("#ready", "the ready marker", deadline)

    with pytest.raises(pytest.fail.Exception, match="boom"):
        waits.load(load, "the tiny page")
    assert len(attempts) == 1
    log.errors.clear()  # the error was the point of this test


def test_the_retry_warning_can_cross_from_an_xdist_worker(waits):
    """pytest-xdist re-creates a worker's warning in the controller by importing its class's
    module by name; a class only a conftest defines crashed a whole parallel run once."""
    import subprocess
    import sys

    cls = sys.modules[type(waits).__module__].RETRY_WARNING
    code = f"import importlib; assert issubclass(getattr(importlib.import_module({cls.__module__!r}), {cls.__name__!r}), Warning)"
    subprocess.run([sys.executable, "-c", code], check=True, cwd="/")


def test_the_lab_server_shuts_its_kernels_down_for_a_retry(lab):
    """`Waits.lab_run` needs it before it runs a notebook once more (a 403 here failed that retry once)."""
    import json
    import urllib.request

    body = json.dumps({"path": "x.ipynb", "type": "notebook", "name": "x.ipynb", "kernel": {"name": "python3"}})
    request = urllib.request.Request(lab.url + "/api/sessions", data=body.encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=120).close()
    lab.shut_down_kernels()
    with urllib.request.urlopen(lab.url + "/api/sessions", timeout=30) as r:
        assert json.loads(r.read()) == []
