#!/usr/bin/env bash
# The performance benchmark: our functions against Python and Node.js peers and a hello-world
# floor, side by side in one run. Builds what it needs, starts moto (DynamoDB) and, per
# function, the Runtime API emulator (bench/rust/emulator), measures, and writes
# bench/RESULTS.md and bench/chart.png. See bench/README.md.
#
#   bash bench/run.sh                 # full run (10,000 warm invocations per function)
#   BENCH_QUICK=1 bash bench/run.sh   # quick run while developing
#
# Knobs: BENCH_QUICK=1; BENCH_COLD (cold starts per function), BENCH_WARM (warm invocations),
# BENCH_SKIP_ARM64=1 (no arm64 cross build: arm64 sizes left out), BENCH_VARIANTS (profile
# alternatives to measure for the authorizer and user-info, x86_64, plus the authorizer's arm64
# size, e.g. "opt-s opt-z panic-abort"; see variant_env).
# Everything binds 127.0.0.1; every wait has a deadline.
set -euo pipefail
BENCH="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$BENCH")"
cd "$ROOT"

QUICK="${BENCH_QUICK:-0}"
if [ "$QUICK" = 1 ]; then
  COLD="${BENCH_COLD:-5}"; WARM="${BENCH_WARM:-500}"; WARMUP=50
else
  COLD="${BENCH_COLD:-20}"; WARM="${BENCH_WARM:-10000}"; WARMUP=200
fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target/bench}"
OUT="$BENCH/out"
mkdir -p "$OUT/runs" "$OUT/logs" "$OUT/zips"
rm -f "$OUT"/runs/*.json "$OUT"/logs/*.log
rm -rf "$OUT/paired"
PY="$BENCH/.venv/bin/python"
FUNCTIONS=(register login user-info logout authorizer refresh sessions logout-all)
log() { printf '\n== %s\n' "$*" >&2; }

# --- build --------------------------------------------------------------------------------
# Each function on its own, as `sam build` builds it (its CodeUri is the function's crate): one
# cargo command for all eight would unify their dependencies' features, and the authorizer
# would carry code only the HTTP functions use (60 KB more, bench/NOTES.md, 2026-12-04).
log "building our functions (release, x86_64, each on its own) into $CARGO_TARGET_DIR"
for f in "${FUNCTIONS[@]}"; do cargo build --release --locked --quiet -p "$f"; done
# The floor on its own too: built with the micro-benchmarks it would share their features
# (through `auth`), 7 KB more.
log "building the hello-world floor and the bench tools"
cargo build --release --quiet --manifest-path "$BENCH/rust/Cargo.toml" -p hello
cargo build --release --quiet --manifest-path "$BENCH/rust/Cargo.toml" -p emulator -p microbench
REL="$CARGO_TARGET_DIR/release"

if [ "${BENCH_SKIP_ARM64:-0}" != 1 ]; then
  # cargo lambda (with zig) from PyPI into .venv-sam, as scripts/check-template installs it.
  (source scripts/lib/tools.sh && ensure_sam_tools >/dev/null)
  CL="$ROOT/.venv-sam/bin/cargo-lambda"
  log "cross-building arm64 (cargo lambda, zig), each function on its own, for sizes"
  for f in "${FUNCTIONS[@]}"; do
    PATH="$ROOT/.venv-sam/bin:$PATH" "$CL" lambda build --release --arm64 --quiet -p "$f" \
      >>"$OUT/logs/arm64-build.log" 2>&1 ||
      { tail -20 "$OUT/logs/arm64-build.log" >&2
        echo "the arm64 build of $f failed: $OUT/logs/arm64-build.log has its output" >&2; exit 1; }
  done
  (cd "$BENCH/rust" && PATH="$ROOT/.venv-sam/bin:$PATH" "$CL" lambda build --release --arm64 \
    --quiet -p hello >>"$OUT/logs/arm64-build.log" 2>&1)
fi

# --- peers' dependencies --------------------------------------------------------------------
if [ ! -x "$PY" ] || ! "$PY" -c 'import boto3, jwt, matplotlib' 2>/dev/null; then
  log "installing the Python peers' dependencies into bench/.venv"
  python3 -m venv "$BENCH/.venv"
  "$PY" -m pip install --quiet --disable-pip-version-check -r "$BENCH/peers/python/requirements.txt"
fi
if [ ! -d "$BENCH/node/node_modules/jsonwebtoken" ]; then
  log "installing the Node.js peers' dependencies (npm ci)"
  (cd "$BENCH/node" && npm ci --no-audit --no-fund --silent)
fi

# --- CPU placement --------------------------------------------------------------------------
# With two or more CPUs, the servers (moto and its keep-alive front) run on CPU 0 and each process
# under test (with the emulator that spawns it) on the last CPU, as on Lambda, where a function
# does not share its CPU with DynamoDB. Unpinned, a function's CPU time per invocation swung by
# up to 50% between runs with moto's Python on the same core (bench/NOTES.md). BENCH_PIN=0 turns
# it off.
SERVER_PIN=(); FN_PIN=()
if [ "${BENCH_PIN:-1}" = 1 ] && command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  SERVER_PIN=(taskset -c 0); FN_PIN=(taskset -c "$(( $(nproc) - 1 ))")
  export BENCH_PLACEMENT="moto and its keep-alive front pinned to CPU 0, each function under test (and the emulator that runs it) and the micro-benchmarks to CPU $(( $(nproc) - 1 ))"
else
  export BENCH_PLACEMENT="not pinned"
fi

# --- DynamoDB on moto -----------------------------------------------------------------------
# moto's server from PyPI into .venv, the version the tests use (scripts/lib/moto.sh).
(source scripts/lib/moto.sh && ensure_moto)
MOTO="$ROOT/.venv/bin/moto_server"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
"${SERVER_PIN[@]}" "$MOTO" -H 127.0.0.1 -p "$PORT" >"$OUT/logs/moto.log" 2>&1 &
MOTO_PID=$!
trap 'kill "$MOTO_PID" 2>/dev/null || true; wait "$MOTO_PID" 2>/dev/null || true' EXIT
ENDPOINT="http://127.0.0.1:$PORT"
for i in $(seq 1 100); do
  python3 -c "import urllib.request; urllib.request.urlopen('$ENDPOINT/moto-api/', timeout=1)" 2>/dev/null && break
  kill -0 "$MOTO_PID" 2>/dev/null || { cat "$OUT/logs/moto.log" >&2; exit 1; }
  [ "$i" = 100 ] && { echo "moto did not start within 20 s" >&2; exit 1; }
  sleep 0.2
done
SAMPLE_SECRET=local-sample-secret-for-events-only-0123456789
# The secret's AWSPREVIOUS version: the key before the last rotation.
PREVIOUS_SECRET=the-key-before-the-last-rotation-0123456789abcdef
SECRET_ARN=$("$PY" "$BENCH/seed.py" "$ENDPOINT" bench-users bench-sessions "$SAMPLE_SECRET" "$PREVIOUS_SECRET")
# moto answers every request with `Connection: close`; DynamoDB keeps connections alive. The
# functions talk to moto through a keep-alive front (emulator --proxy) so that a warm invocation
# does not pay a TCP connect that it would not pay on AWS.
"${SERVER_PIN[@]}" "$REL/emulator" --proxy "127.0.0.1:$PORT" >"$OUT/proxy.port" 2>"$OUT/logs/proxy.log" &
PROXY_PID=$!
trap 'kill "$PROXY_PID" "$MOTO_PID" 2>/dev/null || true; wait "$MOTO_PID" 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do [ -s "$OUT/proxy.port" ] && break; sleep 0.1; done
ENDPOINT="http://127.0.0.1:$(cat "$OUT/proxy.port")"

export USERS_TABLE=bench-users SESSIONS_TABLE=bench-sessions
export JWT_SECRET="$SAMPLE_SECRET"
# The sample token is signed afresh for the run, living a day (a run takes ~15 min); the
# authorizer takes the access-token lifetime as the longest it accepts.
export TOKEN_TTL_SECONDS=86400
export DYNAMODB_ENDPOINT_URL="$ENDPOINT" DYNAMODB_TIMEOUT_MS=2000
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128 AWS_LAMBDA_FUNCTION_VERSION='$LATEST'
export AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/bench AWS_LAMBDA_LOG_STREAM_NAME=bench
export AWS_LAMBDA_RUNTIME_API=unset  # the emulator sets it per process
# Keep the peers from reading ~/.aws or writing byte code next to the sources.
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
export PYTHONDONTWRITEBYTECODE=1
# Lambda's provided.al2023 has one CA bundle (/etc/pki/tls/certs/ca-bundle.crt); this host's
# /etc/ssl/certs holds ~300 files that rustls-native-certs would read one by one at every cold
# start. Point the TLS root loading at the bundle alone, as on Lambda (the "host certs" row
# measures the difference). The peers talk plain HTTP to moto and load no roots either way.
HOST_CERT_ENV=()
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  export SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt SSL_CERT_DIR=/var/empty
  HOST_CERT_ENV=(-u SSL_CERT_FILE -u SSL_CERT_DIR)
fi

# --- the runs -------------------------------------------------------------------------------
# measure NAME EXPECT EVENT COMMAND...: with the environment above plus RUN_ENV (an array of
# `env` arguments), in cgroup RUN_CGROUP if set, RUN_COLD cold starts and RUN_WARM warm
# invocations (default COLD and WARM).
RUN_ENV=(); RUN_CGROUP=""; RUN_COLD=""; RUN_WARM=""
measure() {
  local name=$1 expect=$2 event=$3; shift 3
  local cg=(); [ -n "$RUN_CGROUP" ] && cg=(--cgroup "$RUN_CGROUP")
  log "measuring $name"
  env "${RUN_ENV[@]}" AWS_LAMBDA_FUNCTION_NAME="$name" "${FN_PIN[@]}" "$REL/emulator" --name "$name" \
    --event "$event" --expect "$expect" --cold "${RUN_COLD:-$COLD}" --warmup "$WARMUP" \
    --warm "${RUN_WARM:-$WARM}" "${cg[@]}" \
    --out "$OUT/runs/$name.json" --log "$OUT/logs/$name.log" -- "$@" || true
}
EVENTS=$(python3 "$ROOT/scripts/fresh-events" --lifetime "$TOKEN_TTL_SECONDS" "$OUT/events")
EV_AUTH="$EVENTS/authorizer-valid.json"
# The same token signed with the secret's previous key, still valid after a rotation.
EV_AUTH_PREVIOUS="$(python3 "$ROOT/scripts/fresh-events" --lifetime "$TOKEN_TTL_SECONDS" \
  --key "$PREVIOUS_SECRET" "$OUT/events-previous")/authorizer-valid.json"
EV_ME="$EVENTS/me.json"

# The deployed configuration first (the headline rows): the keys from Secrets Manager (the
# secret seed.py made, with the versions a rotated secret has), JSON logs as template.yaml sets
# them (LoggingConfig: LogFormat JSON, ApplicationLogLevel INFO), DynamoDB and Secrets Manager
# through the keep-alive front. Then the same under a CPU limit, as Lambda gives a function CPU
# in proportion to its memory (1,769 MB = one vCPU): 128 MB, the authorizer's size in
# template.yaml, is 7.2% of a CPU.
DEPLOYED_ENV=(-u JWT_SECRET JWT_SECRET_ARN="$SECRET_ARN" AWS_ENDPOINT_URL_SECRETS_MANAGER="$ENDPOINT"
  AWS_LAMBDA_LOG_FORMAT=JSON AWS_LAMBDA_LOG_LEVEL=INFO)
deployed_runs() { # name prefix
  local p=$1
  RUN_ENV=("${DEPLOYED_ENV[@]}")
  measure "$p-hello-floor"      hello      "$EV_AUTH" "$REL/hello"
  measure "$p-rust-authorizer"  authorizer "$EV_AUTH" "$REL/authorizer"
  # Cold starts whose first token is signed with the previous key: the authorizer's init reads
  # only AWSCURRENT, so that first token makes it read every version (one more round trip).
  RUN_WARM=0 measure "$p-rust-authorizer-previous-key" authorizer "$EV_AUTH_PREVIOUS" "$REL/authorizer"
  measure "$p-rust-user-info"   http200    "$EV_ME"   "$REL/user-info"
  measure "$p-python-authorizer" authorizer "$EV_AUTH" "$PY" "$BENCH/peers/python/authorizer.py"
  measure "$p-node-authorizer"  authorizer "$EV_AUTH" node "$BENCH/node/authorizer.js"
  RUN_ENV=()
}
# One Secrets Manager round trip (GetSecretValue on a new connection through the front, as a
# cold start makes it), measured in the same run: the init target's allowance. And three at once,
# what the authorizer's reload (a token naming a key it lacks) asks for: moto (one Python process
# on one CPU) serves them in turn.
log "measuring Secrets Manager round trips (one, and three at once)"
"${FN_PIN[@]}" "$REL/emulator" --roundtrip "127.0.0.1:$(cat "$OUT/proxy.port")" "$SECRET_ARN" 31 1 >"$OUT/secrets-roundtrip.txt"
"${FN_PIN[@]}" "$REL/emulator" --roundtrip "127.0.0.1:$(cat "$OUT/proxy.port")" "$SECRET_ARN" 31 3 >"$OUT/secrets-roundtrip-3.txt"
deployed_runs deployed
# The deployed init target weighs three numbers (the floor's init, one round trip, the
# authorizer's init) that this VM moves by up to 70% within minutes (bench/NOTES.md). So they are
# measured again interleaved, in rounds of three floor cold starts, three round trips and three
# authorizer cold starts, and the target is judged on the pooled rounds where both functions'
# runs passed their checks (bench/out/paired).
PAIRED_ROUNDS=$([ "$QUICK" = 1 ] && echo 5 || echo 10)
mkdir -p "$OUT/paired"; rm -f "$OUT"/paired/*
log "measuring the deployed init target interleaved ($PAIRED_ROUNDS rounds)"
for r in $(seq 1 "$PAIRED_ROUNDS"); do
  for fn in hello authorizer; do
    env "${DEPLOYED_ENV[@]}" AWS_LAMBDA_FUNCTION_NAME="$fn" "${FN_PIN[@]}" "$REL/emulator" \
      --name "paired-$fn-$r" --event "$EV_AUTH" --expect "$fn" --cold 3 --warm 0 \
      --out "$OUT/paired/$fn-$r.json" --log "$OUT/logs/paired-$fn-$r.log" -- "$REL/$fn" || true
    if [ "$fn" = hello ]; then
      "${FN_PIN[@]}" "$REL/emulator" --roundtrip "127.0.0.1:$(cat "$OUT/proxy.port")" \
        "$SECRET_ARN" 3 1 >>"$OUT/paired/roundtrip.txt" || true
    fi
  done
done
# The warm-CPU target against Python is a ratio of two numbers that this VM moves by 20-70%
# within minutes, and the two sequential rows are measured minutes apart. So they are measured
# again interleaved too: rounds of one authorizer run and one Python run (Python's first in
# even rounds), each long enough for about a second of invocations, and the target is judged on
# the median of the rounds' ratios (bench/out/paired/warm-*).
WARM_ROUNDS=$([ "$QUICK" = 1 ] && echo 5 || echo 15)
log "measuring the deployed warm CPU against Python interleaved ($WARM_ROUNDS rounds)"
for r in $(seq 1 "$WARM_ROUNDS"); do
  order="rust python"; [ $(( r % 2 )) = 0 ] && order="python rust"
  for who in $order; do
    if [ "$who" = rust ]; then cmd=("$REL/authorizer"); n=$(( WARM / 7 )); else
      cmd=("$PY" "$BENCH/peers/python/authorizer.py"); n=$(( WARM / 35 )); fi
    env "${DEPLOYED_ENV[@]}" AWS_LAMBDA_FUNCTION_NAME=authorizer "${FN_PIN[@]}" "$REL/emulator" \
      --name "paired-warm-$who-$r" --event "$EV_AUTH" --expect authorizer --cold 1 --warmup 50 \
      --warm "$n" --out "$OUT/paired/warm-$who-$r.json" --log "$OUT/logs/paired-warm-$who-$r.log" \
      -- "${cmd[@]}" || true
  done
done
CPU_CGROUP=""
cpu_cgroup() { # name, memory size in MB -> sets CPU_CGROUP to a cgroup with that share of a CPU
  # (left empty, and any half-made directory removed, where the cgroup cannot be written)
  local quota=$(( $2 * 100000 / 1769 ))
  CPU_CGROUP=""
  if [ -f /sys/fs/cgroup/cgroup.controllers ] && grep -qw cpu /sys/fs/cgroup/cgroup.controllers; then
    echo +cpu >/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null || true
    mkdir -p "/sys/fs/cgroup/bench-$1" && echo "$quota 100000" >"/sys/fs/cgroup/bench-$1/cpu.max" \
      && CPU_CGROUP="/sys/fs/cgroup/bench-$1"
  elif [ -w /sys/fs/cgroup/cpu ]; then
    mkdir -p "/sys/fs/cgroup/cpu/bench-$1" && echo 100000 >"/sys/fs/cgroup/cpu/bench-$1/cpu.cfs_period_us" \
      && echo "$quota" >"/sys/fs/cgroup/cpu/bench-$1/cpu.cfs_quota_us" && CPU_CGROUP="/sys/fs/cgroup/cpu/bench-$1"
  fi
  if [ -z "$CPU_CGROUP" ]; then
    rmdir "/sys/fs/cgroup/bench-$1" "/sys/fs/cgroup/cpu/bench-$1" 2>/dev/null || true
  fi
  return 0
}
cpu_cgroup mb128 128 2>/dev/null || true
if [ -n "$CPU_CGROUP" ]; then
  trap 'rmdir "$CPU_CGROUP" 2>/dev/null; kill "$PROXY_PID" "$MOTO_PID" 2>/dev/null || true; wait "$MOTO_PID" 2>/dev/null || true' EXIT
  echo "$CPU_CGROUP: $(( 128 * 100000 / 1769 )) µs of CPU per 100 ms period" >"$OUT/cpu-limit.txt"
  # Fewer warm invocations: at 7% of a CPU a peer's warm invocation takes ~90 ms of wall time
  # here. As many cold starts as above: under the quota a first invocation either fits in what
  # init left of its period or waits for the next one, so its times fall in two clusters.
  RUN_CGROUP="$CPU_CGROUP" RUN_WARM=$(( WARM / 10 ))
  deployed_runs mb128
  RUN_CGROUP=""; RUN_COLD=""; RUN_WARM=""
else
  echo "no writable cgroup CPU controller (cgroup v2 cpu.max or v1 cpu.cfs_quota_us): no CPU-limited rows" \
    | tee "$OUT/cpu-limit.txt" >&2
fi

# The second table: unconstrained, the inline key (JWT_SECRET), text logs.
measure hello-floor      hello      "$EV_AUTH" "$REL/hello"
measure hello-floor-mt   hello      "$EV_AUTH" "$REL/hello-mt"
measure rust-authorizer  authorizer "$EV_AUTH" "$REL/authorizer"
measure rust-user-info   http200    "$EV_ME"   "$REL/user-info"
if [ ${#HOST_CERT_ENV[@]} -gt 0 ]; then
  log "measuring rust-authorizer-hostcerts (cold starts only, this host's /etc/ssl/certs)"
  env "${HOST_CERT_ENV[@]}" AWS_LAMBDA_FUNCTION_NAME=authorizer "${FN_PIN[@]}" "$REL/emulator" \
    --name rust-authorizer-hostcerts --event "$EV_AUTH" --expect authorizer --cold "$COLD" \
    --warm 0 --out "$OUT/runs/rust-authorizer-hostcerts.json" \
    --log "$OUT/logs/rust-authorizer-hostcerts.log" -- "$REL/authorizer" || true
fi
measure python-authorizer authorizer "$EV_AUTH" "$PY" "$BENCH/peers/python/authorizer.py"
measure python-user-info http200    "$EV_ME"   "$PY" "$BENCH/peers/python/user_info.py"
measure node-authorizer  authorizer "$EV_AUTH" node "$BENCH/node/authorizer.js"
measure node-user-info   http200    "$EV_ME"   node "$BENCH/node/user-info.js"

# --- profile alternatives (authorizer only, x86_64) -----------------------------------------
variant_env() { # the CARGO_PROFILE_RELEASE_* overrides of a variant
  case "$1" in
    opt-s) echo CARGO_PROFILE_RELEASE_OPT_LEVEL=s ;;
    opt-z) echo CARGO_PROFILE_RELEASE_OPT_LEVEL=z ;;
    opt-2) echo CARGO_PROFILE_RELEASE_OPT_LEVEL=2 ;;
    opt-3) echo CARGO_PROFILE_RELEASE_OPT_LEVEL=3 ;;
    panic-abort) echo CARGO_PROFILE_RELEASE_PANIC=abort ;;
    opt-s-panic-abort) echo CARGO_PROFILE_RELEASE_OPT_LEVEL=s CARGO_PROFILE_RELEASE_PANIC=abort ;;
    thin-lto) echo CARGO_PROFILE_RELEASE_LTO=thin ;;
    *) echo "unknown variant $1" >&2; return 1 ;;
  esac
}
rm -rf "$OUT/variants"; mkdir -p "$OUT/variants"
# BENCH_PREBUILT="label=DIR [label=DIR ...]": also measure the authorizer and user-info binaries
# in each DIR (built elsewhere, e.g. from another commit), reported as variant "label". Build them
# each on its own (`cargo build --release -p authorizer`, then `-p user-info`), as the main rows
# and the profile variants are built.
declare -A PREBUILT=()
for entry in ${BENCH_PREBUILT:-}; do
  PREBUILT[${entry%%=*}]="${entry#*=}"
  BENCH_VARIANTS="${BENCH_VARIANTS:-} ${entry%%=*}"
done
for variant in ${BENCH_VARIANTS:-}; do
  if [ -n "${PREBUILT[$variant]:-}" ]; then
    vrel="${PREBUILT[$variant]}"
    desc="binaries from $vrel"
  else
    vdir="$ROOT/target/bench-$variant"
    vrel="$vdir/release"
    desc="$(variant_env "$variant")"
    log "variant $variant: $desc"
    for f in authorizer user-info; do # each on its own, as the main rows
      env $(variant_env "$variant") CARGO_TARGET_DIR="$vdir" \
        cargo build --release --locked --quiet -p "$f"
    done
    if [ "${BENCH_SKIP_ARM64:-0}" != 1 ]; then
      # The authorizer's arm64 zip is the size target the profile is chosen for.
      log "variant $variant: cross-building the authorizer for arm64"
      env $(variant_env "$variant") CARGO_TARGET_DIR="$vdir" PATH="$ROOT/.venv-sam/bin:$PATH" \
        "$CL" lambda build --release --arm64 --quiet -p authorizer \
        >>"$OUT/logs/arm64-build-$variant.log" 2>&1 || true
    fi
  fi
  arm64_bin="$(dirname "$vrel")/lambda/authorizer/bootstrap"
  for f in authorizer user-info; do
    expect=authorizer; event="$EV_AUTH"
    [ "$f" = user-info ] && { expect=http200; event="$EV_ME"; }
    AWS_LAMBDA_FUNCTION_NAME="$f" "${FN_PIN[@]}" "$REL/emulator" --name "$variant-$f" --event "$event" \
      --expect "$expect" --cold "$COLD" --warmup "$WARMUP" --warm "$WARM" \
      --out "$OUT/variants/$variant-$f.json" --log "$OUT/logs/variant-$variant-$f.log" \
      -- "$vrel/$f" || true
    # And as deployed (keys from Secrets Manager, JSON logs), beside this run's deployed rows.
    env "${DEPLOYED_ENV[@]}" AWS_LAMBDA_FUNCTION_NAME="$f" "${FN_PIN[@]}" "$REL/emulator" \
      --name "$variant-deployed-$f" --event "$event" --expect "$expect" --cold "$COLD" \
      --warmup "$WARMUP" --warm "$WARM" --out "$OUT/variants/$variant-deployed-$f.json" \
      --log "$OUT/logs/variant-$variant-deployed-$f.log" -- "$vrel/$f" || true
  done
  arm64_path=null
  [ -f "$arm64_bin" ] && arm64_path="\"$arm64_bin\""
  echo "{\"variant\": \"$variant\", \"env\": \"$desc\", \"authorizer_bytes\": $(stat -c %s "$vrel/authorizer"), \"user_info_bytes\": $(stat -c %s "$vrel/user-info"), \"authorizer_path\": \"$vrel/authorizer\", \"authorizer_arm64_path\": $arm64_path}" \
    >"$OUT/variants/$variant.meta.json"
done

# --- micro-benchmarks -----------------------------------------------------------------------
log "micro-benchmarks: Argon2id, JWT verification vs HMAC-SHA256"
BENCH_QUICK="$QUICK" "${FN_PIN[@]}" "$REL/microbench" >"$OUT/microbench.json"

# --- report ---------------------------------------------------------------------------------
log "writing bench/RESULTS.md and bench/chart.png"
"$PY" "$BENCH/report.py" --root "$ROOT" --out "$OUT" --quick "$QUICK" \
  --target-dir "$CARGO_TARGET_DIR" --functions "${FUNCTIONS[*]}"
