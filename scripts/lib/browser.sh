# shellcheck shell=bash
# What the browser tests (tests/browser/) need, each installed only when it is missing:
# Chromium and its driver from Debian's packages (apt-get, as root, as on CI's fresh machine),
# Selenium and pytest from PyPI in .venv-browser, and axe-core from the npm registry in .browser.
# Source this file (after tools.sh, for _venv_install), then call ensure_browser.
#
# Selenium 4.51.0, not 4.52.0: 4.52.0 requires a certifi release newer than the registry has.

SELENIUM_VERSION="4.51.0"
PYTEST_VERSION="9.0.2"
AXE_CORE_VERSION="4.14.1"

ensure_chromium() {
  if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
    return 0
  fi
  echo "installing chromium and chromium-driver from Debian's packages (once; a minute or two)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
}

ensure_axe_core() {
  if [ "$(node -e "try{console.log(require('./.browser/node_modules/axe-core/package.json').version)}catch(e){}" 2>/dev/null)" != "$AXE_CORE_VERSION" ]; then
    echo "installing axe-core@$AXE_CORE_VERSION into .browser (once; a few seconds)"
    mkdir -p .browser
    npm install --prefix .browser --no-audit --no-fund --silent "axe-core@$AXE_CORE_VERSION"
  fi
}

ensure_browser() {
  ensure_chromium
  _venv_install .venv-browser pytest "selenium==$SELENIUM_VERSION" "pytest==$PYTEST_VERSION"
  ensure_axe_core
  export CHROMIUM_BINARY="${CHROMIUM_BINARY:-$(command -v chromium)}"
  export CHROMEDRIVER_BINARY="${CHROMEDRIVER_BINARY:-$(command -v chromedriver)}"
  export AXE_CORE_SCRIPT="$PWD/.browser/node_modules/axe-core/axe.min.js"
}
