"""A link straight to a page, opened as the first request of a fresh server, gets the app's navigation.

An instructor shares http://host:8501/train with the class. Streamlit treats a folder named
``pages/`` next to the entry script as an old-style multipage app until ``st.navigation`` has run
once, so if the first request of a fresh server went straight to a page, the page ran without
``app.py``: the sidebar listed every module of that folder by file name and the app's navigation
was gone for everyone. The views therefore live in ``views/``; this test keeps it that way.
"""

from __future__ import annotations

import pytest

from conftest import StreamlitServer
from st_browser import OUTPUT_DIR, assert_no_errors, nav_links, screenshot, wait_for_app

pytestmark = pytest.mark.e2e

TITLES = ["Home", "Distributions in 1-D", "Train a DCGAN live", "Explore the latent space", "Mode collapse in 2-D"]


@pytest.fixture
def fresh_server(chromium_executable, tmp_path):
    OUTPUT_DIR.mkdir(exist_ok=True)
    srv = StreamlitServer(tmp_path / "runs", OUTPUT_DIR / "streamlit-direct-link.log")
    try:
        srv.wait_healthy()
        yield srv
    finally:
        srv.stop()


def test_a_direct_link_to_a_page_as_first_request_shows_the_app_navigation(fresh_server, new_context):
    page = new_context().new_page()
    page.goto(f"{fresh_server.url}/train")
    wait_for_app(page)
    page.get_by_text("Train a DCGAN live").first.wait_for()
    links = [t.strip() for t in nav_links(page).all_inner_texts()]
    assert len(links) == len(TITLES), links
    for title in TITLES:
        assert any(title in link for link in links), f"{title!r} missing from the sidebar: {links}"
    assert_no_errors(page)
    screenshot(page, "direct-link-train")


def test_students_opening_every_page_at_the_same_moment_on_a_fresh_server(fresh_server, browser):
    """Simultaneous first loads race on the first imports (pandas, Plotly): nobody may see an error."""
    paths = ["distributions", "latent", "train", "", "latent", "distributions"]
    contexts = [browser.new_context(viewport={"width": 1280, "height": 720}) for _ in paths]
    pages = [ctx.new_page() for ctx in contexts]
    try:
        # Playwright's sync API waits for each goto; start every navigation first, then wait for each page.
        for p, path in zip(pages, paths):
            p.evaluate(f"() => {{ window.location.href = '{fresh_server.url}/{path}'; }}")
        for p in pages:
            wait_for_app(p, timeout_s=120)
        for p, path in zip(pages, paths):
            assert_no_errors(p)
            assert p.locator('[data-testid="stMain"]').inner_text().strip(), f"/{path} is empty"
    finally:
        for ctx in contexts:
            ctx.close()
