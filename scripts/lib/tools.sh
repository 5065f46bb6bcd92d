# shellcheck shell=bash
# Deployment tools from PyPI, each in a virtualenv of its own under .venv-*, installed once:
# aws-sam-cli, cfn-lint and cargo-lambda (which brings zig for arm64 cross builds) together;
# checkov apart (its pinned dependencies clash with SAM's).

SAM_VERSION="1.170.0"
CFN_LINT_VERSION="1.58.0"
CARGO_LAMBDA_VERSION="1.9.2"
CHECKOV_VERSION="3.3.30"

export SAM_CLI_TELEMETRY=0
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"

_venv_install() { # venv, marker command, packages...
  local venv=$1 marker=$2
  shift 2
  local stamp="$venv/.installed"
  if [ ! -x "$venv/bin/$marker" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$*" ]; then
    echo "installing $* into $venv (once; a minute or two)"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "$@"
    echo "$*" >"$stamp"
  fi
}

ensure_sam_tools() {
  _venv_install .venv-sam sam "aws-sam-cli==$SAM_VERSION" "cfn-lint==$CFN_LINT_VERSION" \
    "cargo-lambda==$CARGO_LAMBDA_VERSION"
  export PATH="$PWD/.venv-sam/bin:$PATH"
}

ensure_checkov() {
  _venv_install .venv-checkov checkov "checkov==$CHECKOV_VERSION"
}
