"""In a real browser, a user's name that went through ``views._i18n.user_text`` shows as exactly its
characters in every Markdown place the pages put one (text, captions, alerts, image captions,
progress text, expander and button labels): no link, bold, colour, image, emoji or KaTeX formula."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
import urllib.request

import pytest

from conftest import free_port
from st_browser import REPO, wait_for_app

pytestmark = pytest.mark.e2e

HOSTILE = ["See www.example.com **NOW** :red[ALERT] ![i](x) $x^2$.zip", "md **bold** https://example.com",
           "<b>b</b> &amp; :smile: :material/home: `code` ~~s~~ _i_", "# h | a | b |"]

SCRIPT = textwrap.dedent('''
    import numpy as np
    import streamlit as st
    from views._i18n import user_text

    NAMES = {names!r}
    for i, name in enumerate(NAMES):
        shown = user_text(name)
        st.markdown("Going now: " + shown)
        st.caption(shown)
        st.error(shown)
        st.image(np.zeros((8, 8), dtype=np.uint8), caption=shown)
        st.progress(0.5, text=shown)
        with st.expander(shown):
            st.write("inside")
        st.button(shown, key=f"b{{i}}")
''')


@pytest.fixture
def names_page(browser, tmp_path):
    script = tmp_path / "names.py"
    script.write_text(SCRIPT.format(names=HOSTILE))
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true",
                               "--server.port", str(port), "--server.address", "127.0.0.1",
                               "--browser.gatherUsageStats", "false"], cwd=REPO, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "streamlit did not start"
                time.sleep(0.3)
        page = context.new_page()
        page.goto(f"http://127.0.0.1:{port}/")
        wait_for_app(page)
        yield page
    finally:
        context.close()
        server.terminate()
        server.wait(15)


def test_escaped_names_show_as_their_characters_everywhere(names_page):
    main = names_page.locator("section.stMain, [data-testid='stMain']").first
    assert main.locator("a").count() == 0  # no link (www..., https://..., [l](x))
    assert main.locator("strong, em, del, h1, h2, h3, table, .katex, span.stMarkdownColoredText").count() == 0
    assert main.locator("img:not([data-testid='stImage'] img)").count() == 0  # only the 8x8 pictures
    assert main.locator("[data-testid='stMarkdownContainer'] [data-testid='stIconMaterial']").count() == 0
    text = " ".join(main.inner_text().replace("\u200b", "").split())  # less the zero-width spaces
    for name in HOSTILE:
        assert text.count(" ".join(name.split())) >= 5, (name, text[:2000])  # text, caption, alert, image, button
    assert "😄" not in text
