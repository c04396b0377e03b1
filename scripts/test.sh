#!/usr/bin/env bash
# The test command: install the project, its test tools and (on Debian/Ubuntu, as root or with
# sudo) Chromium, a Korean font (Noto CJK), Fashion-MNIST and HAProxy (for the class deployment's
# test), then run every test: unit, Streamlit AppTest, browser end-to-end.
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_DISABLE_PIP_VERSION_CHECK=1

if ! command -v chromium >/dev/null 2>&1 || ! command -v haproxy >/dev/null 2>&1 || [ ! -d /usr/share/datasets/fashion-mnist ] \
   || [ ! -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo -n"
  if command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian packages chromium, fonts-noto-cjk, dataset-fashion-mnist and haproxy ..."
    ($sudo apt-get update -q && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q chromium fonts-noto-cjk dataset-fashion-mnist haproxy) \
      >/tmp/gan-classroom-apt.log 2>&1 || echo "warning: apt-get failed (see /tmp/gan-classroom-apt.log); browser tests may skip"
  fi
fi

python -m pip install -q -r requirements-dev.txt
python -m pytest -q "$@"
