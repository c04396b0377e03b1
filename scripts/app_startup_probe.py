"""Start-up probe for ``python -m gan_core bench``: run in a fresh process from the repository root.

Times ``import streamlit``, the app's first run (the home page) and a switch to each page named on
the command line, with Streamlit's AppTest, and prints them as one JSON line. It lives here, not in
gan_core, because the engine never imports streamlit.
"""

import json
import sys
import time
from pathlib import Path

t0 = time.perf_counter()
import streamlit  # noqa: E402,F401
from streamlit.testing.v1 import AppTest  # noqa: E402

t1 = time.perf_counter()
at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=120).run()
t2 = time.perf_counter()
pages = {}
for page in sys.argv[1:]:
    start = time.perf_counter()
    at.switch_page(page).run()
    pages[page] = {"seconds": time.perf_counter() - start, "exceptions": len(at.exception)}
print(json.dumps({"import_streamlit": t1 - t0, "home_first_run": t2 - t1, "pages": pages}))
