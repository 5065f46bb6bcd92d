# shellcheck shell=bash
# Helpers to run moto's DynamoDB-compatible server for tests. Source this file, then call
# start_moto: it installs moto into .venv if needed, starts it on a free 127.0.0.1 port, exports
# DYNAMODB_TEST_ENDPOINT and stops the server when the calling shell exits.

MOTO_VERSION="5.2.5"
VENV="${VENV:-.venv}"

ensure_moto() {
  if [ ! -x "$VENV/bin/moto_server" ] || ! "$VENV/bin/python" -c "import moto, sys; sys.exit(moto.__version__ != '$MOTO_VERSION')" 2>/dev/null; then
    echo "installing moto[server]==$MOTO_VERSION into $VENV (once; about half a minute)"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

stop_moto() {
  if [ -n "${MOTO_PID:-}" ]; then
    kill "$MOTO_PID" 2>/dev/null || true
    wait "$MOTO_PID" 2>/dev/null || true
    MOTO_PID=""
  fi
}

start_moto() {
  ensure_moto
  mkdir -p target
  local port
  port=$(free_port)
  "$VENV/bin/moto_server" -H 127.0.0.1 -p "$port" >target/moto.log 2>&1 &
  MOTO_PID=$!
  trap stop_moto EXIT
  export DYNAMODB_TEST_ENDPOINT="http://127.0.0.1:$port"
  export MOTO_SERVER="$PWD/$VENV/bin/moto_server"
  for _ in $(seq 1 100); do
    if python3 -c "import urllib.request,sys; urllib.request.urlopen('$DYNAMODB_TEST_ENDPOINT/moto-api/', timeout=1)" 2>/dev/null; then
      return 0
    fi
    if ! kill -0 "$MOTO_PID" 2>/dev/null; then
      echo "moto server exited; its log:" >&2
      cat target/moto.log >&2
      return 1
    fi
    sleep 0.2
  done
  echo "moto server did not answer on $DYNAMODB_TEST_ENDPOINT within 20 s" >&2
  return 1
}
