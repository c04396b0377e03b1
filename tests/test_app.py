"""AppTest of app.py: the home page renders, links to the three lesson pages, and stays light."""

import subprocess
import sys
from pathlib import Path

from streamlit.testing.v1 import AppTest

REPO = Path(__file__).resolve().parents[1]
LESSON_PAGES = {"distributions": "How a GAN matches distributions", "train": "Train a DCGAN live",
                "latent": "Explore the latent space"}


def run_app() -> AppTest:
    return AppTest.from_file(str(REPO / "app.py"), default_timeout=60).run()


def test_home_page_renders_with_title_and_links_to_the_three_pages():
    at = run_app()
    assert not at.exception, [e.message for e in at.exception]
    assert [t.value for t in at.title] == ["GAN Classroom"]
    links = {link.proto.page: link.proto.label for link in at.get("page_link")}
    assert links == LESSON_PAGES
    # the explanation of the colours used on every page
    assert any("p_data black" in info.value for info in at.info)


def test_opening_the_home_page_does_not_import_torch():
    """The landing page must appear at once: torch (seconds to import) loads only on the lesson pages."""
    code = (
        "import sys\n"
        "from streamlit.testing.v1 import AppTest\n"
        f"at = AppTest.from_file({str(REPO / 'app.py')!r}, default_timeout=60).run()\n"
        "assert not at.exception, at.exception\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "False"
