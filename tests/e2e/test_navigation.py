"""Home opens, and every page opens from the sidebar navigation with no error on screen."""

from __future__ import annotations

import pytest

from st_browser import assert_no_errors, main_text, nav_links, open_from_nav, screenshot

pytestmark = pytest.mark.e2e

PAGES = ["Distributions in 1-D", "Train a DCGAN live", "Explore the latent space", "Mode collapse in 2-D", "Home"]


def test_home_and_every_page_open_from_the_navigation(page):
    assert "GAN Classroom" in main_text(page)
    assert_no_errors(page)
    links = [t.strip() for t in nav_links(page).all_inner_texts()]
    for title in PAGES:
        assert any(title in link for link in links), f"{title!r} missing from the sidebar: {links}"
    screenshot(page, "home")

    for title in PAGES:
        open_from_nav(page, title)
        assert_no_errors(page)
        assert main_text(page).strip(), f"page {title!r} is empty"
        screenshot(page, f"nav-{title}")
