"""The lecture hall, in Chromium: every page in Korean with projector mode, and in English without it, at 1280x720.

For every page and every tab of it: no exception, Hangul drawn with a real font (no missing-glyph
boxes, Korean only), no formula that overflows its container and no button whose label is cut off,
at 100% and at 150% browser zoom (150% zoom of a 1280x720 screen is an 853x480 CSS-pixel viewport at device
scale 1.5); the browser makes no request to anywhere but the app's own server (an offline room).
Screenshots go to test-output/classroom-*.png.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from st_browser import assert_no_errors, screenshot, wait_for_app, wait_idle

pytestmark = pytest.mark.e2e

# url paths (home is "/"), and the training page's two other views: the lecture's replay, a CLI run watched
PAGES = ["home", "distributions", "train", "train?mode=replay", "train?mode=watch", "latent", "modes"]
ZOOMS = {"100": ({"width": 1280, "height": 720}, 1), "150": ({"width": 853, "height": 480}, 1.5)}

# Draw two Hangul syllables and a private-use code point (which no font has: the missing-glyph box)
# with the page's own font; real glyphs differ from each other and from that box.
_HANGUL_JS = """() => {
  const el = document.querySelector('[data-testid="stMain"] h1') || document.body;
  const font = getComputedStyle(el).fontFamily;
  const draw = (ch) => {
    const c = document.createElement('canvas'); c.width = 64; c.height = 64;
    const g = c.getContext('2d'); g.fillStyle = '#fff'; g.fillRect(0, 0, 64, 64);
    g.fillStyle = '#000'; g.font = '40px ' + font; g.fillText(ch, 4, 48);
    return Array.from(g.getImageData(0, 0, 64, 64).data).join(',');
  };
  const ga = draw('가'), na = draw('나'), box = draw('\\ue000');
  return {font, distinct: ga !== na, notBox: ga !== box && na !== box,
          hangulOnPage: /[\\uac00-\\ud7a3]/.test(document.querySelector('[data-testid="stMain"]').innerText)};
}"""

# Formulas (KaTeX) wider than the box they sit in, and button labels wider than their button.
_OVERFLOW_JS = """() => {
  const bad = [];
  const visible = (el) => el.offsetParent !== null && el.getClientRects().length > 0;
  // a display formula is a block that scrolls or clips what does not fit; an inline one must stay in its text box
  for (const k of document.querySelectorAll('[data-testid="stMain"] .katex-display')) {
    if (visible(k) && k.scrollWidth > k.clientWidth + 4) bad.push('formula: ' + k.innerText.slice(0, 60).replace(/\s+/g, ' '));
  }
  for (const k of document.querySelectorAll('[data-testid="stMain"] .katex')) {
    const box = k.closest('[data-testid="stMarkdownContainer"]');
    if (!visible(k) || !box || k.closest('.katex-display')) continue;
    if (k.getBoundingClientRect().right > box.getBoundingClientRect().right + 1)
      bad.push('formula: ' + k.innerText.slice(0, 60).replace(/\s+/g, ' '));
  }
  for (const a of document.querySelectorAll('[data-testid="stSidebarNavLink"] span')) {
    if (visible(a) && a.scrollWidth > a.clientWidth + 1) bad.push('page link: ' + a.innerText);
  }
  for (const b of document.querySelectorAll('button')) {
    if (!visible(b)) continue;
    const text = b.innerText.trim();
    if (!text) continue;
    // Streamlit cuts a long label with an ellipsis inside a nested box: check every box of the button
    if ([b, ...b.querySelectorAll('*')].some((e) => e.scrollWidth > e.clientWidth + 1))
      bad.push('button: ' + text.slice(0, 60));
  }
  return bad;
}"""


def _tabs(page):
    return page.locator('[data-testid="stMain"] [role="tab"]')


def _check_view(page, name: str) -> list[str]:
    assert_no_errors(page)
    problems = page.evaluate(_OVERFLOW_JS)
    screenshot(page, name, full_page=False)
    return problems


VIEWS = {"ko-projector": ("ko", "1"), "en": ("en", "0")}


@pytest.mark.parametrize("zoom", list(ZOOMS))
@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("view", list(VIEWS))
def test_every_page_fits_the_lecture_hall_screen(browser, server, view, path, zoom):
    lang, projector = VIEWS[view]
    viewport, scale = ZOOMS[zoom]
    ctx = browser.new_context(viewport=viewport, device_scale_factor=scale, locale="ko-KR" if lang == "ko" else "en-US")
    ctx.set_default_timeout(30_000)
    requests: list[str] = []
    ctx.on("request", lambda r: requests.append(r.url))
    try:
        page = ctx.new_page()
        base, _, query = path.partition("?")
        page.goto(f"{server.url}/{'' if base == 'home' else base}?{query + '&' if query else ''}"
                  f"lang={lang}&projector={projector}")
        wait_for_app(page)
        name = f"classroom-{path.replace('?mode=', '-')}-{view}-{zoom}"
        problems = _check_view(page, name)
        if lang == "ko":
            hangul = page.evaluate(_HANGUL_JS)
            assert hangul["hangulOnPage"], "the page is not in Korean"
            assert hangul["distinct"] and hangul["notBox"], f"Hangul is drawn as missing-glyph boxes ({hangul['font']})"
        for i in range(_tabs(page).count()):
            _tabs(page).nth(i).click()
            wait_idle(page)
            problems += [f"tab {i + 1}: {p}" for p in _check_view(page, f"{name}-tab{i + 1}")]
        assert problems == [], problems
    finally:
        ctx.close()
    own = urlsplit(server.url).netloc
    outside = sorted({u for u in requests if not u.startswith(("data:", "blob:")) and urlsplit(u).netloc != own})
    assert outside == [], f"the page asked the internet for: {outside}"


def test_language_and_projector_survive_a_page_change(page, server):
    page.goto(f"{server.url}/?lang=ko&projector=1")
    wait_for_app(page)
    page.locator('[data-testid="stSidebarNavLink"]').nth(1).click()
    wait_idle(page)
    assert "lang=ko" in page.url and "projector=1" in page.url
    assert page.evaluate("() => getComputedStyle(document.documentElement).fontSize") == "20px"
