"""AppTest of the training page's broken DCGAN guidelines (issue 31): chosen in the sidebar for a live
run, only those the preset can take, each shown by its guideline in the session's language; the model
table follows, the link ``?ablations=relu-d,pooling`` restores them, the defaults they change (β1, the
small preset's hidden layer) follow, and a run trains with them and saves them in its checkpoint."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from gan_core import i18n
from gan_core.ablations import ABLATIONS
from gan_core.checkpoint import checkpoint_zip_bytes, load_checkpoint
from test_page_train import PAGE, layer_table, page  # noqa: F401 -- page: the fixture

HANGUL = re.compile(r"[\uac00-\ud7a3]")
BN = ("BatchNorm1d", "BatchNorm2d")


def in_language(monkeypatch, lang: str) -> None:
    from views import _i18n

    monkeypatch.setattr(_i18n, "current_language", lambda: lang)  # AppTest formats options in its own thread


def layers(at: AppTest, which: int) -> list[str]:
    return list(layer_table(at, which).iloc[:, 0])  # the first column, named in the page's language


def guideline(name: str, lang: str = "en") -> str:
    return i18n.translate(ABLATIONS[name].guideline.key, lang)


def short(name: str, lang: str = "en") -> str:
    """An option's label: a few words (a chip in the sidebar is narrow; the model table has the guideline)."""
    return i18n.translate(ABLATIONS[name].short.key, lang)


def linked(at: AppTest, name: str) -> str | None:
    value = at.query_params.get(name)
    return value[0] if isinstance(value, list) else value


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_choosing_an_ablation_rebuilds_the_model_table_and_says_which_guideline_it_breaks(page, monkeypatch, lang):
    in_language(monkeypatch, lang)
    at = page()
    choice = at.multiselect(key="train_ablations_small")
    assert choice.value == [] and choice.label == i18n.translate("train.ablate", lang)
    assert choice.options == [short(name, lang) for name in ABLATIONS]  # small follows every guideline
    assert lang == "en" or all(HANGUL.search(o) for o in choice.options)
    assert choice.proto.placeholder == i18n.translate("train.ablate_none", lang)
    assert not choice.proto.select_all  # Streamlit's own "Select all" is in English only
    assert any(r.startswith(BN) for r in layers(at, 0)) and not at.warning
    assert linked(at, "ablations") is None  # none chosen: not in the link

    choice.set_value(["no-bn-g"]).run()
    assert not at.exception, [e.value for e in at.exception]
    g, d = layers(at, 0), layers(at, 1)
    assert not any(r.startswith(BN) for r in g) and any(r.startswith(BN) for r in d)  # G's BatchNorm only
    assert "Identity" in g
    warned = [w.value for w in at.warning if guideline("no-bn-g", lang) in w.value]
    assert len(warned) == 1 and (lang == "en" or HANGUL.search(warned[0]))
    assert linked(at, "ablations") == "no-bn-g"

    at.multiselect(key="train_ablations_small").set_value([]).run()  # back to the preset as designed
    assert any(r.startswith(BN) for r in layers(at, 0)) and not at.warning
    assert linked(at, "ablations") is None


def test_only_the_ablations_a_preset_can_take_are_offered(page):
    at = page()
    at.selectbox(key="train_preset").set_value("tf-tutorial").run()
    offered = at.multiselect(key="train_ablations_tf-tutorial").options
    assert short("no-bn-d") not in offered and short("adam-beta1-0.9") not in offered  # nothing to break
    assert offered == [short(n) for n in ABLATIONS if n not in ("no-bn-d", "adam-beta1-0.9")]


def test_a_link_restores_the_ablations_and_an_unknown_name_is_a_notice(page):
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params["ablations"] = "relu-d,pooling"
    at.run()
    assert not at.exception and not at.toast
    assert at.multiselect(key="train_ablations_small").value == ["relu-d", "pooling"]
    d = layers(at, 1)
    assert "ReLU" in d and not any(r.startswith("LeakyReLU") for r in d) and "AvgPool2d" in d
    assert "Upsample" in layers(at, 0)
    assert guideline("relu-d") in at.warning[0].value and guideline("pooling") in at.warning[0].value

    for link, kept in (("relu-d,no-such-guideline", ["relu-d"]), ("relu-d,relu-d", ["relu-d"])):
        at = AppTest.from_file(PAGE, default_timeout=60)
        at.query_params["ablations"] = link
        at.run()
        assert not at.exception and not at.error
        assert at.multiselect(key="train_ablations_small").value == kept
        assert [n.value for n in at.toast] == [i18n.translate("common.url_ignored", names="ablations")]
        assert linked(at, "ablations") == "relu-d"

    at = AppTest.from_file(PAGE, default_timeout=60)  # one the preset cannot take is unknown to its link
    at.query_params["preset"] = "tf-tutorial"
    at.query_params["ablations"] = "no-bn-d"
    at.run()
    assert not at.exception and at.toast and at.multiselect(key="train_ablations_tf-tutorial").value == []


def test_the_defaults_an_ablation_changes_follow_it_and_a_contradiction_is_a_sentence_on_start(page):
    at = page()
    assert at.number_input(key="train_fc_small").value == 256
    at.multiselect(key="train_ablations_small").set_value(["fc-hidden", "adam-beta1-0.9"]).run()
    assert not at.exception
    # small loses its hidden layers: no width to set (a width with fc-hidden is refused)
    assert "train_fc_small" not in [w.key for w in at.number_input]
    assert layers(at, 0)[0] == "Linear 64→3136" and layers(at, 1)[-1] == "Linear 1568→1"
    betas = ("train_beta1_d_small", "train_beta1_g_small")
    assert [at.number_input(key=k).value for k in betas] == [0.9, 0.9]  # the ablation's β1
    assert linked(at, "beta1_d") == "0.9"

    at.multiselect(key="train_ablations_small").set_value([]).run()  # both come back
    assert at.number_input(key="train_fc_small").value == 256
    assert [at.number_input(key=k).value for k in betas] == [0.5, 0.5]

    at.number_input(key="train_beta1_d_small").set_value(0.6).run()  # set by hand: it stays
    at.multiselect(key="train_ablations_small").set_value(["adam-beta1-0.9"]).run()
    assert [at.number_input(key=k).value for k in betas] == [0.6, 0.9]
    at.button(key="train_start").click().run()
    assert not at.exception and "train_run" not in at.session_state
    shown = [e.value.replace("\\", "") for e in at.error]  # the value is escaped for Markdown
    assert shown == [i18n.translate("train.start_failed",
                                    reason=i18n.translate("errors.ablations.beta1_given", value="0.6"))]


@pytest.mark.slow
def test_a_live_run_trains_with_the_ablations_saves_them_and_resumes_with_them(page, monkeypatch):
    in_language(monkeypatch, "ko")
    at = page()
    at.session_state["lang"] = "ko"
    at.number_input(key="train_batch_small").set_value(8).run()
    at.multiselect(key="train_ablations_small").set_value(["adam-beta1-0.9", "no-bn-g"]).run()
    at.button(key="train_start").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    run = at.session_state["train_run"]
    assert run.config.ablations == ("no-bn-g", "adam-beta1-0.9") and run.config.betas_d[0] == 0.9
    assert at.multiselect(key="train_ablations_small").disabled  # locked while it trains
    deadline = time.monotonic() + 90
    while run.snapshot().step < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert run.snapshot().step >= 3
    at.button(key="train_stop").click().run()
    assert not run.is_alive()
    at.button(key="train_save").click().run()
    saved = Path(at.session_state["train_saved"])
    assert any(b.key == "train_dl_checkpoint" for b in at.get("download_button"))
    download = checkpoint_zip_bytes(saved)  # what the download button sends
    ckpt = load_checkpoint(download)
    assert ckpt.model_config.ablations == ("no-bn-g", "adam-beta1-0.9") == tuple(ckpt.train_config["ablations"])
    assert not any(type(m).__name__.startswith("BatchNorm") for m in ckpt.raw_generator.modules())

    # resumed on a fresh page: the checkpoint's ablations, not a choice; β1 follows them, so Start works
    again = page()
    again.session_state["lang"] = "ko"
    again.file_uploader(key="train_resume_file").set_value(("ablated.zip", download, "application/zip")).run()
    assert not again.exception
    assert "train_ablations_small" not in [m.key for m in again.multiselect]
    said = i18n.translate("train.model.ablated", "ko", guidelines="; ".join(
        guideline(n, "ko") for n in ("no-bn-g", "adam-beta1-0.9")))
    assert said in [c.value for c in again.caption] and said in [w.value for w in again.warning]
    assert again.number_input(key="train_beta1_g_small").value == 0.9
    again.button(key="train_start").click().run()
    assert not again.exception and not again.error, [e.value for e in again.error]
    resumed = again.session_state["train_run"]
    assert resumed.config.ablations == ("no-bn-g", "adam-beta1-0.9")
    assert resumed.stop(timeout=30)
