"""Helpers to drive a Streamlit app in Playwright by what a person sees: labels, text, images.

Streamlit test ids used here were checked against the installed frontend bundle
(streamlit/static/static/js): stApp (with data-test-script-state), stStatusWidget, stException,
stAlertContentError (built as `stAlertContent${Kind}`), stSidebarNav, stSidebarNavLink, stMain,
stSlider, stFileUploader, stImage, stDownloadButton, stPlotlyChart.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OUTPUT_DIR = REPO / "test-output"
# The server's GAN_ORPHAN_TIMEOUT: short enough that the orphan checks finish quickly, long enough that
# a busy 2-core machine does not orphan a live tab (the page's fragment heartbeats every second or so).
ORPHAN_TIMEOUT_S = 8

ERROR_SELECTOR = '[data-testid="stException"], [data-testid="stAlertContentError"]'

# True while the app has not rendered, a script run is going on, or the status widget
# ("Running...", "Connecting") is on screen. Kept as one JS predicate so a check is atomic.
_BUSY_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app) return true;
  const state = app.getAttribute('data-test-script-state');
  if (state !== 'notRunning') return true;
  return document.querySelector('[data-testid="stStatusWidget"]') !== null;
}"""


def safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:120]


def wait_idle(page, timeout_s: float = 60, settle_s: float = 0.6) -> None:
    """Wait until no script run is going on, and has not been for ``settle_s`` seconds.

    The settle time matters: after a widget change the frontend may take a moment to start the
    rerun, and pages with timed fragments rerun parts of themselves every second or so.
    """
    deadline = time.monotonic() + timeout_s
    idle_since = None
    while time.monotonic() < deadline:
        busy = page.evaluate(_BUSY_JS)
        now = time.monotonic()
        if busy:
            idle_since = None
        elif idle_since is None:
            idle_since = now
        elif now - idle_since >= settle_s:
            return
        time.sleep(0.1)
    raise AssertionError(f"the app was still running after {timeout_s} s")


def wait_for_app(page, timeout_s: float = 60) -> None:
    """Wait for the app frame, then for its first script run to finish and its placeholders to fill.

    A page's first paint can be Streamlit's grey loading skeletons (the script state already says
    "not running" while the elements stream in): wait until none is left.
    """
    page.locator('[data-testid="stApp"]').wait_for(state="visible", timeout=timeout_s * 1000)
    wait_idle(page, timeout_s)
    page.wait_for_function("() => document.querySelectorAll('[data-testid=\"stSkeleton\"]').length === 0",
                           timeout=timeout_s * 1000)
    wait_idle(page, timeout_s)


def error_messages(page) -> list[str]:
    """The text of every exception box and error alert on screen."""
    return [t.strip() for t in page.locator(ERROR_SELECTOR).all_inner_texts()]


def assert_no_errors(page) -> None:
    errors = error_messages(page)
    assert not errors, f"error elements on screen: {errors}"


def main_text(page) -> str:
    """All visible text of the main area (not the sidebar)."""
    return page.locator('[data-testid="stMain"]').inner_text()


def screenshot(page, name: str, full_page: bool = True) -> Path:
    OUTPUT_DIR.mkdir(exist_ok=True)
    path = OUTPUT_DIR / f"{safe_name(name)}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def nav_links(page):
    return page.locator('[data-testid="stSidebarNav"] [data-testid="stSidebarNavLink"]')


def open_from_nav(page, title: str) -> None:
    """Click the sidebar navigation link whose text contains ``title`` and wait for the page."""
    link = nav_links(page).filter(has_text=title)
    assert link.count() == 1, f"expected one sidebar link {title!r}, found {nav_links(page).all_inner_texts()}"
    link.click()
    page.wait_for_function(
        """(title) => { const a = document.querySelector('[data-testid="stSidebarNavLink"][aria-current="page"]');
                       return a && a.innerText.includes(title); }""", arg=title)
    wait_idle(page, settle_s=0.3)  # a page with a running training refreshes every second


def button(page, label: str):
    """The button of the main area with exactly this label (also matches download buttons).

    Only the main area: Streamlit's own header has a "Stop" button while a script runs.
    """
    return page.locator('[data-testid="stMain"]').get_by_role("button", name=label, exact=True)


def click_button(page, label: str, wait: bool = True) -> None:
    btn = button(page, label)
    try:
        wait_until(lambda: btn.count() >= 1, 30, message=f"a button labelled {label!r}")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; buttons: {button_labels(page)}") from None
    btn.first.click()
    if wait:
        wait_idle(page)


def button_labels(page) -> list[str]:
    return [t.strip() for t in page.get_by_role("button").all_inner_texts() if t.strip()]


def slider_thumb(page, label: str):
    """The thumb of the slider whose label contains ``label`` (keyboard-drivable).

    Streamlit 1.67 renders a react-aria slider: each thumb is a visually hidden
    ``input[type=range]`` that takes focus and arrow keys.
    """
    widget = page.locator('[data-testid="stSlider"]').filter(has_text=label)
    # The page may still be rendering (a figure can arrive before the sliders of the same run).
    wait_until(lambda: widget.count() >= 1, 30, message=f"a slider labelled {label!r}")
    return widget.first.locator('input[type="range"]').first


def slider_value(page, label: str) -> float:
    return float(slider_thumb(page, label).input_value())


def press_slider(page, label: str, key: str, times: int = 1) -> None:
    """Focus a slider's thumb and press a key (ArrowRight/ArrowLeft/Home/End) ``times`` times."""
    thumb = slider_thumb(page, label)
    thumb.focus()
    for _ in range(times):
        thumb.press(key)
    wait_idle(page, settle_s=0.3)  # a page with a running training refreshes every second


def uploader_input(page, label: str):
    """The ``input[type=file]`` inside the file uploader whose label contains ``label``."""
    widget = page.locator('[data-testid="stFileUploader"]').filter(has_text=label).first
    try:
        widget.wait_for(timeout=60_000)  # it may appear only when the rerun after a choice finishes
    except Exception as exc:  # noqa: BLE001 -- Playwright's TimeoutError: say what was missing
        raise AssertionError(f"no file uploader labelled {label!r}") from exc
    return widget.locator('input[type="file"]')


def image_sources(page) -> list[str]:
    """The src of every image Streamlit shows with st.image, in page order."""
    return page.locator('[data-testid="stImage"] img').evaluate_all("els => els.map(e => e.src)")


def wait_until(predicate, timeout_s: float, interval_s: float = 0.3, message: str = "condition"):
    """Poll ``predicate`` until it returns a truthy value; return that value."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {message}")
        time.sleep(interval_s)


def numbers_after(text: str, label: str) -> list[float]:
    """Numbers printed right after ``label`` in a page's text, e.g. "step 120" -> [120.0]."""
    pattern = re.escape(label) + r"\s*[:=]?\s*(-?[\d,]*\.?\d+(?:e-?\d+)?)"
    return [float(m.replace(",", "")) for m in re.findall(pattern, text, flags=re.IGNORECASE)]


def choose_option(page, label: str, option: str) -> None:
    """Pick ``option`` (visible text, substring) in the selectbox labelled ``label``."""
    box = page.get_by_role("combobox", name=label).first
    # scrolled there first: a click that scrolls the sidebar on its way (projector mode's larger widgets
    # put the dataset below the fold at 1280x720) opens the list and closes it again
    box.scroll_into_view_if_needed()
    box.click()
    page.get_by_role("option").filter(has_text=option).first.click()
    wait_idle(page, settle_s=0.3)  # a page with a running training refreshes every second


def choose_radio(page, option: str) -> None:
    """Click the radio option with exactly this text (in any st.radio on the page)."""
    page.locator('[data-testid="stRadio"] label').filter(
        has_text=re.compile(rf"^\s*{re.escape(option)}\s*$")).first.click()
    wait_idle(page, settle_s=0.3)  # a page with a running training refreshes every second


def image_src_with_caption(page, caption: str) -> str:
    """The src of the st.image whose caption contains ``caption``."""
    image = page.locator('[data-testid="stImageContainer"]').filter(has_text=caption).first.locator("img")
    return image.get_attribute("src")


def metric_value(page, label: str) -> str:
    """The value shown by the st.metric whose label is exactly ``label``."""
    metric = page.locator('[data-testid="stMetric"]').filter(
        has=page.locator('[data-testid="stMetricLabel"]', has_text=re.compile(rf"^\s*{re.escape(label)}\s*$")))
    return metric.first.locator('[data-testid="stMetricValue"]').inner_text().strip()


def set_number(page, label: str, value: float) -> None:
    """Type ``value`` into the st.number_input labelled ``label`` (sidebar or main) and submit it."""
    box = page.get_by_label(label, exact=True).first
    box.fill(str(value))
    box.press("Enter")
    wait_idle(page, settle_s=0.3)  # a page with a running training refreshes every second


def plotly_trace_lengths(page, css: str) -> list[int]:
    """Point counts of every trace of the Plotly charts matching ``css`` (e.g. ".st-key-my_chart").

    Read from ``_fullData``: plotly.js keeps numpy arrays in ``data`` as undecoded {dtype, bdata}.
    """
    return page.locator(f"{css} .js-plotly-plot").evaluate_all(
        "els => els.flatMap(el => (el._fullData || []).map(t => (t.x || []).length))")


def chart_picture_step(page, css: str) -> int | None:
    """The last step of a live chart drawn as a picture (its alt text ends "... up to step 1,234")."""
    alts = page.locator(f"{css} img").evaluate_all("els => els.map(el => el.alt)")
    steps = [int(m.group(1).replace(",", "")) for alt in alts for m in [re.search(r"([\d,]+)\D*$", alt)] if m]
    return max(steps) if steps else None


def exception_count(page) -> int:
    """How many Streamlit exception boxes (tracebacks) are on screen."""
    return page.locator('[data-testid="stException"]').count()


def selectbox_value(page, label: str) -> str:
    """The option shown by the st.selectbox labelled ``label`` (a react-aria combobox input)."""
    return page.get_by_role("combobox", name=label, exact=True).first.input_value()


def upload_expecting_error(page, uploader_label: str, path, reason: str, timeout_s: float = 60) -> list[str]:
    """Upload ``path`` and wait for an error naming ``reason``; check that no traceback is shown.

    Returns the error messages on screen, for the caller's own checks.
    """
    uploader_input(page, uploader_label).set_input_files(str(path))
    wait_until(lambda: any(reason in m for m in error_messages(page)), timeout_s,
               message=f"an error message about {reason!r} for {Path(path).name}")
    wait_idle(page, settle_s=0.3)  # a page with a running training refreshes every second
    messages = error_messages(page)
    assert exception_count(page) == 0, "a traceback is on screen"
    assert not any("Traceback" in m for m in messages), messages
    return messages


def image_pixels(page, caption: str):
    """The grey levels (int16 array) of the st.image captioned ``caption``, as the browser decoded them."""
    import numpy as np

    image = page.locator('[data-testid="stImageContainer"]').filter(has_text=caption).first.locator("img")
    width, height, values = image.evaluate("""img => new Promise(done => {
        const read = () => {
            const c = document.createElement('canvas');
            c.width = img.naturalWidth; c.height = img.naturalHeight;
            const ctx = c.getContext('2d');
            ctx.drawImage(img, 0, 0);
            const rgba = ctx.getImageData(0, 0, c.width, c.height).data;
            const grey = [];
            for (let i = 0; i < rgba.length; i += 4) grey.push(rgba[i]);
            done([c.width, c.height, grey]);
        };
        if (img.complete && img.naturalWidth) read(); else img.addEventListener('load', read, {once: true});
    })""")
    return np.asarray(values, dtype=np.int16).reshape(height, width)
