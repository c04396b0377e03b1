"""The deployment for a class (scripts/serve_class.py): two app processes behind HAProxy. Two
students' browsers land on different processes, and each one's page, websocket and images keep
coming from its own process (an image is kept in the memory of the process that drew it)."""

from __future__ import annotations

import os
import shutil
import sys

import pytest

from st_browser import REPO, assert_no_errors, image_src_with_caption, open_from_nav, press_slider, wait_for_app, \
    wait_until

sys.path.insert(0, str(REPO / "scripts"))
from serve_class import COOKIE, ClassServers  # noqa: E402

pytestmark = pytest.mark.e2e

MAIN_IMAGE = "G(z)"  # caption of the big image in "Move z"


@pytest.fixture(scope="module")
def class_servers(tmp_path_factory):
    if shutil.which("haproxy") is None:
        if os.environ.get("CI"):
            pytest.fail("haproxy is not installed, and this test must run in CI (apt-get install haproxy)")
        pytest.skip("haproxy is not installed (apt-get install haproxy)")
    folder = tmp_path_factory.mktemp("serve-class")
    servers = ClassServers(2, log_dir=folder / "logs", extra_env={"GAN_RUNS_DIR": str(folder / "runs")})
    try:
        servers.wait_healthy()
        yield servers
    finally:
        servers.stop()


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
