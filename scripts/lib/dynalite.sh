# shellcheck shell=bash
# A second DynamoDB-compatible engine for the tests: dynalite from the npm registry, on a free
# 127.0.0.1 port. moto's conditional writes are not atomic under concurrency (two conditional
# puts of one key can both succeed), so the race tests also run on dynalite, which serialises
# them. Source this file after moto.sh, then call start_dynalite: it installs dynalite into
# .dynalite if needed, starts it, exports DYNALITE_TEST_ENDPOINT and stops it when the calling
# shell exits (with moto).

DYNALITE_VERSION="3.2.2"

ensure_dynalite() {
  if [ "$(node -e "try{console.log(require('./.dynalite/node_modules/dynalite/package.json').version)}catch(e){}" 2>/dev/null)" != "$DYNALITE_VERSION" ]; then
    echo "installing dynalite@$DYNALITE_VERSION into .dynalite (once; a few seconds)"
    mkdir -p .dynalite
    npm install --prefix .dynalite --no-audit --no-fund --silent "dynalite@$DYNALITE_VERSION"
  fi
}

stop_dynalite() {
  if [ -n "${DYNALITE_PID:-}" ]; then
    kill "$DYNALITE_PID" 2>/dev/null || true
    wait "$DYNALITE_PID" 2>/dev/null || true
    DYNALITE_PID=""
  fi
}

start_dynalite() {
  ensure_dynalite
  mkdir -p target
  local port
  port=$(free_port)
  DYNALITE_MODULE="$PWD/.dynalite/node_modules/dynalite" node scripts/lib/dynalite.js "$port" \
    >target/dynalite.log 2>&1 &
  DYNALITE_PID=$!
  trap 'stop_dynalite; stop_moto' EXIT
  export DYNALITE_TEST_ENDPOINT="http://127.0.0.1:$port"
  for _ in $(seq 1 100); do
    if grep -q "^$port$" target/dynalite.log 2>/dev/null; then
      return 0
    fi
    if ! kill -0 "$DYNALITE_PID" 2>/dev/null; then
      echo "dynalite exited; its log:" >&2
      cat target/dynalite.log >&2
      return 1
    fi
    sleep 0.2
  done
  echo "dynalite did not start on $DYNALITE_TEST_ENDPOINT within 20 s" >&2
  return 1
}
