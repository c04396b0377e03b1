"""``startup``: fresh-process wall times: the bare interpreter, ``import gan_core.trainer``, and the
first render of the app and of every page (``scripts/app_startup_probe.py``: it imports streamlit,
so it is not part of gan_core)."""

from __future__ import annotations

import json
import statistics
import subprocess

from gan_core.bench.harness import BenchContext, Part, fresh_process_seconds, table
from gan_core.paths import REPO_ROOT

APP_PROBE = REPO_ROOT / "scripts" / "app_startup_probe.py"


def startup(ctx: BenchContext) -> dict:
    settings = ctx.settings
    repeat = lambda code: statistics.median(fresh_process_seconds(["-c", code])[0] for _ in range(ctx.sizes["repeats"]))  # noqa: E731
    result = {"python_bare_seconds": repeat("pass"), "import_gan_core_trainer_seconds": repeat("import gan_core.trainer")}
    pages = [] if settings.quick else [str(p.relative_to(REPO_ROOT)) for p in sorted((REPO_ROOT / "views").glob("[!_]*.py"))
                                       if p.name != "home.py"]
    try:
        seconds, out = fresh_process_seconds([str(APP_PROBE), *pages])
        probe = json.loads(out.strip().splitlines()[-1])
    except (RuntimeError, ValueError, IndexError, subprocess.TimeoutExpired) as exc:
        result["app"] = {"available": False, "reason": str(exc)[-300:]}
        return result
    result["app"] = {"available": True, "process_seconds": seconds, **probe,
                     "measured": "a fresh python process: import streamlit, then AppTest.from_file('app.py').run() "
                                 "(the home page), then switch_page(...).run() for every other page"}
    return result


def markdown(st: dict) -> list[str]:
    rows = [["`python -c pass`", f"{st['python_bare_seconds']:.2f}"],
            ["`python -c \"import gan_core.trainer\"`", f"{st['import_gan_core_trainer_seconds']:.2f}"]]
    app = st.get("app", {})
    if app.get("available"):
        rows += [["import streamlit + AppTest", f"{app['import_streamlit']:.2f}"],
                 ["first run of app.py (home page)", f"{app['home_first_run']:.2f}"]]
        rows += [[f"then switch to {page}", f"{p['seconds']:.2f}{' (exceptions!)' if p['exceptions'] else ''}"]
                 for page, p in app["pages"].items()]
    else:
        rows.append(["app", f"not measured: {app.get('reason')}"])
    return ["", "### Startup (fresh processes)", "", *table(["what", "seconds"], rows)]


PART = Part("startup", 80, startup, markdown, sizes={"repeats": (3, 1)})
