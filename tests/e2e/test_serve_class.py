"""The deployment for a class (scripts/serve_class.py): two app processes behind HAProxy, started by
the script ("here") or already running elsewhere and given as ``--backends`` ("elsewhere": two app
processes on loopback ports stand for two lab servers). Two students' browsers land on different
processes, and each one's page, websocket and images keep coming from its own process (an image is
kept in the memory of the process that drew it)."""

from __future__ import annotations

import os
import secrets
import shutil
import sys

import pytest

from conftest import StreamlitServer
from st_browser import REPO, assert_no_errors, image_src_with_caption, open_from_nav, press_slider, wait_for_app, \
    wait_until

sys.path.insert(0, str(REPO / "scripts"))
from serve_class import COOKIE, ClassServers  # noqa: E402

pytestmark = pytest.mark.e2e

MAIN_IMAGE = "G(z)"  # caption of the big image in "Move z"


@pytest.fixture(scope="module", params=["here", "elsewhere"])
def class_servers(request, tmp_path_factory):
    if shutil.which("haproxy") is None:
        if os.environ.get("CI"):
            pytest.fail("haproxy is not installed, and this test must run in CI (apt-get install haproxy)")
        pytest.skip("haproxy is not installed (apt-get install haproxy)")
    folder = tmp_path_factory.mktemp("serve-class")
    runs = {"GAN_RUNS_DIR": str(folder / "runs")}
    if request.param == "here":
        servers, labs = ClassServers(2, log_dir=folder / "logs", extra_env=runs), []
    else:  # as the administrator starts them on the lab servers: the same cookie secret on each
        secret = {"STREAMLIT_SERVER_COOKIE_SECRET": secrets.token_hex(16)}
        labs = [StreamlitServer(folder / f"runs{i}", folder / f"lab{i}.log", extra_env=secret) for i in range(2)]
        servers = ClassServers(0, log_dir=folder / "logs", backends=[("127.0.0.1", lab.port) for lab in labs])
    try:
        for lab in labs:
            lab.wait_healthy()
        assert servers.wait_healthy() == []
        yield servers
    finally:
        servers.stop()
        for lab in labs:
            lab.stop()


def _loaded_image_status(page, src: str) -> int:
    """The HTTP status of fetching ``src`` again from this browser (its cookies: its process)."""
    return page.evaluate("async (src) => (await fetch(src)).status", src)


def test_two_students_stay_each_on_their_own_process(new_context, class_servers):
    students = []
    for _ in range(2):
        context = new_context()
        page = context.new_page()
        page.goto(class_servers.url)
        wait_for_app(page)
        open_from_nav(page, "Explore the latent space")
        students.append((context, page))
    processes = {next(c["value"] for c in ctx.cookies() if c["name"] == COOKIE) for ctx, _ in students}
    assert processes == {"app0", "app1"}  # the second browser went to the other (idle) process
    for _, page in students:
        before = wait_until(lambda: image_src_with_caption(page, MAIN_IMAGE), 30, message="the G(z) image")
        press_slider(page, "Direction 1", "ArrowRight", 5)
        after = wait_until(lambda: (src := image_src_with_caption(page, MAIN_IMAGE)) != before and src, 30,
                           message="a new G(z) image after moving Direction 1")
        assert _loaded_image_status(page, after) == 200  # served by the process that drew it
        assert page.locator('[data-testid="stImageContainer"] img').first.evaluate("img => img.naturalWidth") > 0
        assert_no_errors(page)
