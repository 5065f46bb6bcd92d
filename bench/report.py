"""Turns bench/out/ (emulator runs, micro-benchmarks, built binaries) into bench/RESULTS.md and
bench/chart.png. Called by bench/run.sh; can be re-run on its own over an existing bench/out/."""
import argparse
import datetime
import glob
import importlib.metadata
import json
import os
import platform
import subprocess
import zipfile

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("--root", required=True)
p.add_argument("--out", required=True)
p.add_argument("--quick", default="0")
p.add_argument("--target-dir", required=True)
p.add_argument("--functions", required=True)
args = p.parse_args()
ROOT, OUT, BENCH = args.root, args.out, os.path.join(args.root, "bench")
FUNCTIONS = args.functions.split()
MB = 1_000_000  # targets in MB are read as 10^6 bytes (the stricter reading)


def q(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, round((len(v) - 1) * p))] if v else float("nan")


def load(path):
    with open(path) as f:
        return json.load(f)


def summarize(run):
    s = {"name": run["name"], "ok": run["ok"], "failures": run["failures"]}
    cold = run["cold"]
    if cold:
        for key in ("init_ns", "first_invocation_ns", "cold_total_ns", "init_cpu_ns",
                    "first_invocation_cpu_ns"):
            vals = [c[key] / 1e6 for c in cold]
            s[key.replace("_ns", "_ms")] = (q(vals, 0.5), q(vals, 0.99), sum(vals) / len(vals))
        s["cold_runs"] = len(cold)
        s["cold_rss_kb"] = max(c["rss_kb"] for c in cold)
    w = run.get("warm")
    if w:
        cpu = [x / 1e3 for x in w["cpu_ns"]]
        wall = [x / 1e6 for x in w["wall_ns"]]
        s["cpu_us"] = (q(cpu, 0.5), q(cpu, 0.99), sum(cpu) / max(1, len(cpu)))
        s["wall_ms"] = (q(wall, 0.5), q(wall, 0.99))
        s["warm_n"] = w["invocations"]
        s["warm_rss_kb"] = w["rss_kb"]
        s["threads"] = w["threads"]
    s["rss_kb"] = max(s.get("cold_rss_kb", 0), s.get("warm_rss_kb", 0))
    return s


runs = {}
for path in sorted(glob.glob(os.path.join(OUT, "runs", "*.json"))):
    r = load(path)
    runs[r["name"]] = summarize(r)
micro = load(os.path.join(OUT, "microbench.json"))

# ---- sizes ------------------------------------------------------------------------------------


def zip_bootstrap(binary, dest):
    info = zipfile.ZipInfo("bootstrap", date_time=(2026, 1, 1, 0, 0, 0))
    info.external_attr = 0o100755 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    with open(binary, "rb") as f, zipfile.ZipFile(dest, "w") as z:
        z.writestr(info, f.read(), compresslevel=6)
    return os.path.getsize(dest)


def zip_files(files, dest):
    """files: list of (path on disk, name in zip)."""
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as z:
        for src, arc in files:
            z.write(src, arc)
    return os.path.getsize(dest)


sizes = {}  # name -> {arch: (binary bytes, zip bytes)}
TD = args.target_dir
for name in FUNCTIONS + ["hello"]:
    sizes[name] = {}
    for arch, path in (("x86_64", os.path.join(TD, "release", name)),
                       ("arm64", os.path.join(TD, "lambda", name, "bootstrap"))):
        if os.path.exists(path):
            z = zip_bootstrap(path, os.path.join(OUT, "zips", f"{arch}-{name}.zip"))
            sizes[name][arch] = (os.path.getsize(path), z)


def file_kind(path):
    try:
        return subprocess.run(["file", "-b", path], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "?"


# Peers as deployed: the handler and what the runtime does not provide (python3.x runtimes ship
# boto3, nodejs20.x ships the AWS SDK v3), so Python adds PyJWT and Node adds jsonwebtoken.
pyjwt = importlib.metadata.distribution("PyJWT")
py_files = [(os.path.join(BENCH, "peers/python", f), f) for f in ("runtime.py", "authorizer.py")]
py_files += [(str(pyjwt.locate_file(f)), str(f)) for f in pyjwt.files
             if "__pycache__" not in str(f) and not str(f).startswith("..")]
peer_zip = {"python-authorizer": zip_files(py_files, os.path.join(OUT, "zips", "python-authorizer.zip"))}
lock = load(os.path.join(BENCH, "node", "package-lock.json"))["packages"]
needed, stack = set(), ["node_modules/jsonwebtoken"]
while stack:
    key = stack.pop()
    if key in needed:
        continue
    needed.add(key)
    for dep in (lock[key].get("dependencies") or {}):
        base = key
        while True:  # Node's resolution: nearest node_modules up the tree
            cand = f"{base}/node_modules/{dep}"
            if cand in lock:
                stack.append(cand)
                break
            if "/node_modules/" not in base:
                stack.append(f"node_modules/{dep}")
                break
            base = base.rsplit("/node_modules/", 1)[0]
node_files = [(os.path.join(BENCH, "node", f), f) for f in ("runtime.js", "authorizer.js")]
for pkg in sorted(needed):
    for dirpath, _, names in os.walk(os.path.join(BENCH, "node", pkg)):
        for n in names:
            full = os.path.join(dirpath, n)
            node_files.append((full, os.path.relpath(full, os.path.join(BENCH, "node"))))
peer_zip["node-authorizer"] = zip_files(node_files, os.path.join(OUT, "zips", "node-authorizer.zip"))

# ---- targets --------------------------------------------------------------------------------


def med(name, key):
    s = runs.get(name)
    return s[key][0] if s and s.get("ok") and key in s else float("nan")


def fmt_ratio(x):
    return f"{x:.2f}×" if x == x else "n/a"


targets = []  # (target, measured, met)

# The deployed configuration (keys from Secrets Manager, JSON logs, kept-alive connections), and
# the same at 128 MB's share of a CPU: the headline targets.


def rtt(name):
    path = os.path.join(OUT, name)
    return q([float(x) for x in open(path).read().split()], 0.5) if os.path.exists(path) else float("nan")


sm_rtt, sm_rtt3 = rtt("secrets-roundtrip.txt"), rtt("secrets-roundtrip-3.txt")


def paired(first, second, second_label, usable, fallback):
    """The interleaved rounds of run.sh (bench/out/paired/FIRST-R.json beside SECOND-R.json)
    where both runs are `usable`: the pairs of loaded runs, and the rounds left out, each
    named with its first failure (`fallback` where a run has none)."""
    pairs, left_out = [], []
    for path in sorted(glob.glob(os.path.join(OUT, "paired", f"{first}-*.json")),
                       key=lambda x: int(x.rsplit("-", 1)[1].removesuffix(".json"))):
        r = path.rsplit("-", 1)[1].removesuffix(".json")
        other = os.path.join(OUT, "paired", f"{second}-{r}.json")
        pair = [load(path)] + ([load(other)] if os.path.exists(other) else [])
        if len(pair) < 2 or not all(usable(p) for p in pair):
            why = [(p["failures"] or [fallback])[0][:80] for p in pair if not usable(p)]
            left_out.append(f"round {r} ({'; '.join(why) if why else f'no {second_label} run'})")
            continue
        pairs.append(pair)
    return pairs, left_out


def paired_rounds():
    """The init rounds where both the floor's and the authorizer's runs passed their checks:
    their init times (ms), and the rounds left out."""
    pairs, left_out = paired("hello", "authorizer", "authorizer", lambda p: p["ok"], "?")
    floor = [c["init_ns"] / 1e6 for f, _ in pairs for c in f["cold"]]
    ours = [c["init_ns"] / 1e6 for _, a in pairs for c in a["cold"]]
    return floor, ours, left_out


def paired_warm():
    """The warm rounds where both the authorizer's and Python's runs passed their checks: per
    round, the two median CPU times per warm invocation (µs); and the rounds left out."""
    pairs, left_out = paired("warm-rust", "warm-python", "Python",
                             lambda p: p["ok"] and p.get("warm"), "no warm invocations")
    return [tuple(q(p["warm"]["cpu_ns"], 0.5) / 1e3 for p in pair) for pair in pairs], left_out


def paired_first():
    """Per warm round where our run passed (whether or not Python's did): its cold start's
    first invocation and its median warm wall time (ms)."""
    first = []
    for path in glob.glob(os.path.join(OUT, "paired", "warm-rust-*.json")):
        ours = load(path)
        if ours["ok"] and ours.get("warm") and ours["cold"]:
            first.append((q([c["first_invocation_ns"] for c in ours["cold"]], 0.5) / 1e6,
                          q(ours["warm"]["wall_ns"], 0.5) / 1e6))
    return first


p_floor_inits, p_ours_inits, p_left_out = paired_rounds()
p_warm, p_warm_left_out = paired_warm()
p_first = paired_first()
p_rtt = rtt(os.path.join("paired", "roundtrip.txt"))
d_floor = d_ours = allowance = d_cpu = d_py_cpu = warm_ratio = float("nan")
init_how = warm_how = ""
# Only where the run has the rows (an old out/ or a run without them: no target, not a "no").
if "deployed-rust-authorizer" in runs:
    if p_floor_inits and p_ours_inits and p_rtt == p_rtt:
        # Judged on the interleaved rounds: the three numbers measured side by side.
        d_floor, d_ours, init_rtt = q(p_floor_inits, 0.5), q(p_ours_inits, 0.5), p_rtt
        init_how = (f"interleaved: {len(p_floor_inits)} floor and {len(p_ours_inits)} authorizer "
                    f"cold starts" + (f", left out {', '.join(p_left_out)}" if p_left_out else "")
                    + "; ")
    else:
        d_floor, d_ours = med("deployed-hello-floor", "init_ms"), med("deployed-rust-authorizer", "init_ms")
        init_rtt = sm_rtt
        init_how = "sequential rows (no interleaved rounds" + (
            f": {', '.join(p_left_out)}" if p_left_out else "") + "); "
    allowance = (d_floor + init_rtt) * 1.1
    targets.append(("deployed authorizer: init ≤ (floor + one Secrets Manager round trip) + 10%",
                    f"{init_how}{d_ours:.2f} ms vs ({d_floor:.2f} + {init_rtt:.2f} ms) × 1.1 = "
                    f"{allowance:.2f} ms", d_ours <= allowance))
    for fn in ("authorizer", "user-info"):
        first = med(f"deployed-rust-{fn}", "first_invocation_ms")
        warm_wall = med(f"deployed-rust-{fn}", "wall_ms")
        rows_how = f"{first:.2f} ms vs {warm_wall:.2f} ms = {fmt_ratio(first / warm_wall)}"
        ratio = first / warm_wall
        if fn == "authorizer" and p_first:
            # Judged on the interleaved warm rounds, as the warm CPU (bench/README.md says why).
            ratios = [f / w for f, w in p_first]
            ratio = q(ratios, 0.5)
            rows_how = (f"interleaved: median of {len(ratios)} rounds' ratios {fmt_ratio(ratio)} "
                        f"(rounds {fmt_ratio(min(ratios))}–{fmt_ratio(max(ratios))}; each round's "
                        f"cold start against the warm invocations seconds after it); the rows "
                        f"above: {rows_how}")
        elif fn == "authorizer":
            rows_how = f"sequential rows (no interleaved rounds): {rows_how}"
        targets.append((f"deployed {fn}: first invocation ≤ 1.5× the median warm invocation (wall)",
                        rows_how, ratio <= 1.5))
    # Init spans many quota periods: its median. A first invocation fits in one period or waits
    # for the next (~100 ms) depending on how much of the period init left, so its times are
    # two clusters and their median flips between them from run to run: judged on the mean,
    # the latency a caller can expect (bench/NOTES.md).
    for key, what, stat, i in (("init_ms", "init", "median", 0),
                               ("first_invocation_ms", "first invocation", "mean", 2)):
        ours_s, theirs_s = runs.get("mb128-rust-authorizer"), runs.get("mb128-python-authorizer")
        if not (ours_s and theirs_s and ours_s.get("ok") and theirs_s.get("ok") and key in ours_s
                and key in theirs_s):
            break
        ours, theirs = ours_s[key][i], theirs_s[key][i]
        targets.append((f"128 MB of CPU, deployed: authorizer {what} ≥ 10× faster than Python",
                        f"{stat}s: {theirs:.1f} ms vs {ours:.2f} ms = {fmt_ratio(theirs / ours)}"
                        + (f" (medians {theirs_s[key][0]:.1f} vs {ours_s[key][0]:.2f} ms)" if i else ""),
                        theirs / ours >= 10))
    d_cpu, d_py_cpu = med("deployed-rust-authorizer", "cpu_us"), med("deployed-python-authorizer", "cpu_us")
    rows_how = f"the rows above: {d_py_cpu:.0f} µs vs {d_cpu:.0f} µs = {fmt_ratio(d_py_cpu / d_cpu)}"
    if p_warm:
        # Judged on the interleaved rounds: the median of the rounds' ratios.
        ratios = [py / rust for rust, py in p_warm]
        warm_ratio = q(ratios, 0.5)
        warm_how = (f"interleaved: median of {len(p_warm)} rounds' ratios {fmt_ratio(warm_ratio)} "
                    f"(rounds {fmt_ratio(min(ratios))}–{fmt_ratio(max(ratios))}; medians of the rounds: "
                    f"ours {q([a for a, _ in p_warm], 0.5):.0f} µs, Python's "
                    f"{q([b for _, b in p_warm], 0.5):.0f} µs"
                    + (f"; left out {', '.join(p_warm_left_out)}" if p_warm_left_out else "")
                    + f"); {rows_how}")
    else:
        warm_ratio = d_py_cpu / d_cpu
        warm_how = ("sequential rows (no interleaved rounds"
                    + (f": {', '.join(p_warm_left_out)}" if p_warm_left_out else "") + "); " + rows_how)
    targets.append(("deployed, kept-alive: authorizer warm CPU ≥ 10× lower than Python",
                    warm_how, warm_ratio >= 10))

floor_init = med("hello-floor", "init_ms")
for fn in ("authorizer", "user-info"):
    ours = med(f"rust-{fn}", "init_ms")
    r = ours / floor_init
    targets.append((f"{fn}: init ≤ 1.5× the hello-world floor",
                    f"{ours:.2f} ms vs {floor_init:.2f} ms = {fmt_ratio(r)}", r <= 1.5))
    for peer, need in (("python", 20), ("node", 10)):
        theirs = med(f"{peer}-{fn}", "init_ms")
        r = theirs / ours
        targets.append((f"{fn}: init ≥ {need}× faster than {peer.capitalize()}",
                        f"{theirs:.1f} ms vs {ours:.2f} ms = {fmt_ratio(r)}", r >= need))
ours_cpu = med("rust-authorizer", "cpu_us")
for peer, need in (("python", 10), ("node", 5)):
    theirs = med(f"{peer}-authorizer", "cpu_us")
    r = theirs / ours_cpu
    targets.append((f"authorizer: warm CPU ≥ {need}× lower than {peer.capitalize()}",
                    f"{theirs:.0f} µs vs {ours_cpu:.0f} µs = {fmt_ratio(r)}", r >= need))
for fn in FUNCTIONS:
    if "arm64" in sizes.get(fn, {}):
        limit = 2.5 if fn == "authorizer" else 4.5
        z = sizes[fn]["arm64"][1] / MB
        targets.append((f"{fn}: arm64 zip ≤ {limit} MB", f"{z:.2f} MB", z <= limit))
for fn in ("authorizer", "user-info"):
    s = runs.get(f"rust-{fn}")
    if s:
        rss = s["rss_kb"] * 1024 / MB
        targets.append((f"{fn}: peak RSS ≤ 20 MB", f"{rss:.1f} MB", rss <= 20))
jv, hm = micro["jwt_verify"]["median_ns"], micro["hmac_sha256_sign"]["median_ns"]
targets.append(("JWT verification ≤ 3× raw HMAC-SHA256 of the same bytes",
                f"{jv:.0f} ns vs {hm:.0f} ns = {fmt_ratio(jv / hm)}", jv / hm <= 3))

# ---- machine --------------------------------------------------------------------------------


def cmd(*c):
    try:
        return subprocess.run(c, capture_output=True, text=True, timeout=20).stdout.strip()
    except Exception:
        return "?"


cpu_model = "?"
with open("/proc/cpuinfo") as f:
    for line in f:
        if line.startswith("model name"):
            cpu_model = line.split(":", 1)[1].strip()
            break
machine = (f"{os.cpu_count()} cores, {platform.machine()} ({cpu_model}), Linux {platform.release()}; "
           f"{cmd('rustc', '--version')}; Python {platform.python_version()}; "
           f"Node {cmd('node', '--version')}; boto3 {importlib.metadata.version('boto3')}, "
           f"PyJWT {importlib.metadata.version('PyJWT')}; "
           f"@aws-sdk/client-dynamodb {load(os.path.join(BENCH, 'node/package.json'))['dependencies']['@aws-sdk/client-dynamodb']}, "
           f"jsonwebtoken {load(os.path.join(BENCH, 'node/package.json'))['dependencies']['jsonwebtoken']}")

# ---- RESULTS.md -----------------------------------------------------------------------------
ORDER = ["hello-floor", "hello-floor-mt", "rust-authorizer", "python-authorizer", "node-authorizer",
         "rust-user-info", "python-user-info", "node-user-info", "rust-authorizer-hostcerts"]
L = []
w = L.append
# The run's time (its micro-benchmark output), so that re-running the report alone keeps it.
now = datetime.datetime.fromtimestamp(os.path.getmtime(os.path.join(OUT, "microbench.json")),
                                      datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
mode = "QUICK run (fewer invocations; not for quoting)" if args.quick == "1" else "full run"
any_s = next((s for s in runs.values() if "warm_n" in s), {})
w("# Benchmark results\n")
w(f"Generated by `bash bench/run.sh` on {now}, {mode}. Machine: {machine}. "
  "x86_64 numbers are measured; arm64 numbers are sizes only (cross-built with cargo lambda).\n")
w(f"Each function ran as a real process against the Runtime API emulator (bench/rust/emulator) "
  f"with DynamoDB on moto, all on 127.0.0.1. Cold: {any_s and runs[ORDER[0]].get('cold_runs', '?')} fresh "
  f"processes per function (after one discarded start that warms the page cache). Warm: one "
  f"process, {any_s.get('warm_n', '?')} invocations after a warm-up. Every response was checked "
  f"(`isAuthorized: true` with exactly the context `{{user_id, username, jti, sid}}` of the sample "
  f"token and session; 200 with the sample user's account). The authorizers (ours and the peers) "
  f"verify the token, then read the session item (`pk` = the token's `sid`) and the owner's "
  f"revocation marker (`pk` = `user#<sub>`) in one strongly consistent BatchGetItem. "
  + (f"CPU placement: {os.environ['BENCH_PLACEMENT']}.\n" if os.environ.get("BENCH_PLACEMENT") else "\n"))
DEPLOYED = ["hello-floor", "rust-authorizer", "python-authorizer", "node-authorizer", "rust-user-info"]
PREVIOUS_LABEL = ("rust-authorizer, first token signed with `AWSPREVIOUS` (cold only; that token "
                  "makes it read every version)")


def row(name, label):
    s = runs.get(name)
    if not s:
        return
    if not s["ok"]:
        w(f"| {label} | FAILED: {s['failures'][0][:120] if s['failures'] else '?'} | | | | | no |")
        return
    warm = "cpu_us" in s
    w(f"| {label} | {s['init_ms'][0]:.2f} / {s['init_ms'][1]:.2f} "
      f"| {s['first_invocation_ms'][0]:.2f} / {s['first_invocation_ms'][1]:.2f} "
      + (f"| {s['cpu_us'][0]:.0f} / {s['cpu_us'][1]:.0f} / {s['cpu_us'][2]:.0f} "
         f"| {s['wall_ms'][0]:.2f} / {s['wall_ms'][1]:.2f} " if warm else "| – | – ")
      + f"| {s['rss_kb'] * 1024 / MB:.1f} | yes ({s.get('warm_n', 0) + s['cold_runs']}) |")


HEAD = ("| function | init ms (median / p99) | first invocation ms (median / p99) | warm CPU µs per "
        "invocation (median / p99 / mean) | warm wall ms (median / p99) | peak RSS MB | checked |\n"
        "|---|---|---|---|---|---|---|")
if any(n.startswith("deployed-") for n in runs):
    w("## As deployed (the headline)\n")
    w("The configuration `template.yaml` deploys: the signing key from Secrets Manager "
      "(`JWT_SECRET_ARN`; the secret has an `AWSCURRENT` and an `AWSPREVIOUS` version, as after a "
      "rotation), JSON logs "
      "(`AWS_LAMBDA_LOG_FORMAT=JSON`), and DynamoDB and Secrets Manager reached over kept-alive "
      "connections (moto closes every connection, so the functions call it through a keep-alive "
      "front, `emulator --proxy`, as they would keep connections to AWS). Our authorizer's init "
      "reads the `AWSCURRENT` version only (one call); on AWS it opens its DynamoDB connection "
      "meanwhile (TCP and TLS, no request), here, where both services are one origin, the key "
      "read's kept-alive connection serves the first request instead; a token signed with another key makes it read every version, once "
      "(the `previous-key` row: cold starts whose first token is signed with `AWSPREVIOUS`). The "
      "Python peer reads every version at init, one after another with boto3, the Node peer at "
      "once (`Promise.all`). One Secrets Manager round trip (a new connection through the front, "
      f"`GetSecretValue`, `emulator --roundtrip`, median of 31) took **{sm_rtt:.2f} ms** in this "
      f"run; three at once, as the reload sends them, {sm_rtt3:.2f} ms (moto, one Python "
      f"process, serves them largely in turn; Secrets Manager would not).\n")
    w(HEAD)
    for n in DEPLOYED:
        row(f"deployed-{n}", n)
        if n == "rust-authorizer":
            row("deployed-rust-authorizer-previous-key", PREVIOUS_LABEL)
    w("")
    if any(n.startswith("mb128-") for n in runs):
        limit = open(os.path.join(OUT, "cpu-limit.txt")).read().strip()
        w("### At 128 MB's share of a CPU\n")
        w("The same, each process under test in a cgroup with a CPU quota of 128/1769 of one CPU, "
          f"as Lambda sizes CPU by memory (1,769 MB = one vCPU) — `{limit}`. Fewer warm "
          "invocations per row (a peer's warm invocation takes ~90 ms of wall time at this limit); "
          "each process starts with the full quota, as a new sandbox does. A first invocation "
          "either fits in what init left of the period or waits for the next one, so its times "
          "fall in two clusters: the target compares the means. The quota is "
          "enforced per 100 ms period (the cgroup default); Lambda's own period, and whether it "
          "gives a function more CPU during init, are not published, so read these rows as an "
          "estimate of the limit's effect, not as Lambda's numbers.\n")
        w(HEAD)
        for n in DEPLOYED:
            row(f"mb128-{n}", n)
            if n == "rust-authorizer":
                row("mb128-rust-authorizer-previous-key", PREVIOUS_LABEL)
        w("")
    w("## Inline key, text logs, no CPU limit (the earlier configuration)\n")
else:
    w("## Side by side\n")
w(HEAD)
LABELS = {"rust-authorizer-hostcerts": "rust-authorizer, this host's /etc/ssl/certs (cold only)",
          "hello-floor": "hello-floor (current-thread runtime, as ours)",
          "hello-floor-mt": "hello-floor-mt (multi-thread runtime, reference)"}
for name in ORDER:
    row(name, LABELS.get(name, name))
w("")
w("- init: process spawn until its first `GET …/invocation/next`. First invocation: event handed "
  "out until its response arrives (includes the first DynamoDB call: connection set-up, signing, "
  "moto's answer). Warm CPU: user + system time of all the process's threads between consecutive "
  "`next` requests (`/proc/PID/task/*/schedstat`, ns resolution). Warm wall is dominated by moto "
  "(a Python server on the same 2 cores), not by the function. At 128 MB a function gets about 7% "
  "of a vCPU, so 100 µs of CPU here is about 1.4 ms billed there.\n")
w("## Sizes\n")
w("| function | x86_64 binary | x86_64 zip | arm64 binary | arm64 zip |")
w("|---|---|---|---|---|")
for name in FUNCTIONS + ["hello"]:
    row = sizes.get(name, {})
    cells = []
    for arch in ("x86_64", "arm64"):
        if arch in row:
            cells += [f"{row[arch][0] / MB:.2f} MB", f"{row[arch][1] / MB:.2f} MB"]
        else:
            cells += ["–", "–"]
    w(f"| {name if name != 'hello' else 'hello (floor)'} | " + " | ".join(cells) + " |")
w(f"| python-authorizer (handler + PyJWT; boto3 is in the runtime) | | {peer_zip['python-authorizer'] / MB:.3f} MB | | same |")
w(f"| node-authorizer (handler + jsonwebtoken; SDK v3 is in the runtime) | | {peer_zip['node-authorizer'] / MB:.3f} MB | | same |")
w("")
w("Zips hold one `bootstrap` entry (deflate level 6), as `cargo lambda build --output-format zip` "
  "makes them. MB = 10^6 bytes. The peers' zips are small because their runtimes bring the "
  "interpreter and the AWS SDK (tens of MB, loaded at every cold start: see init).\n")
a = micro["argon2"]
w("## Micro-benchmarks (single thread)\n")
w("| what | median | p99 |")
w("|---|---|---|")
w(f"| Argon2id hash, m = {a['memory_kib']} KiB, t = {a['iterations']}, p = {a['parallelism']} | "
  f"{a['hash']['median_ns'] / 1e6:.1f} ms | {a['hash']['p99_ns'] / 1e6:.1f} ms |")
w(f"| Argon2id verify, same cost | {a['verify']['median_ns'] / 1e6:.1f} ms | {a['verify']['p99_ns'] / 1e6:.1f} ms |")
w(f"| JWT verification (`TokenVerifier::verify`, {micro['token_bytes']}-byte token) | "
  f"{micro['jwt_verify']['median_ns']:.0f} ns | {micro['jwt_verify']['p99_ns']:.0f} ns |")
w(f"| raw HMAC-SHA256 of the signing input ({micro['signing_input_bytes']} bytes, aws-lc-rs) | "
  f"{micro['hmac_sha256_sign']['median_ns']:.0f} ns | {micro['hmac_sha256_sign']['p99_ns']:.0f} ns |")
w(f"| HMAC-SHA256 verify (constant-time compare) | {micro['hmac_sha256_verify']['median_ns']:.0f} ns | "
  f"{micro['hmac_sha256_verify']['p99_ns']:.0f} ns |")
w(f"| lean one-pass prototype, fewer checks (no `sid`, ids not validated; bench/rust/microbench) | "
  f"{micro['lean_verify']['median_ns']:.0f} ns | {micro['lean_verify']['p99_ns']:.0f} ns |")
w("")
w("Argon2id at m = 19 MiB is memory-bound; on Lambda at 1024 MB (≈0.6 vCPU) expect roughly this "
  "time ÷ 0.6, at 128 MB (≈0.07 vCPU) roughly ÷ 0.07.\n")

variants = sorted(glob.glob(os.path.join(OUT, "variants", "*.meta.json")))
variant_zip, variant_runs = {}, {}  # variant -> authorizer arm64 zip bytes; -> summaries
if variants:
    w("## Alternatives measured (same run)\n")
    w("Release-profile variants, each the workspace's profile with one override "
      "(`CARGO_PROFILE_RELEASE_*`), built into its own target directory. Init and warm CPU are "
      "measured on x86_64 exactly as above; the arm64 zip is the authorizer cross-built with "
      "cargo lambda and zipped as above (the 2.5 MB target).\n")
    w("| variant | authorizer x86_64 binary | authorizer arm64 zip | authorizer init ms (median / p99) | authorizer warm CPU µs (median / mean) | authorizer peak RSS MB | user-info binary | user-info init ms | user-info warm CPU µs (median) |")
    w("|---|---|---|---|---|---|---|---|---|")
    base_a, base_u = runs.get("rust-authorizer"), runs.get("rust-user-info")
    if base_a and base_u and base_a["ok"] and base_u["ok"]:
        az = sizes["authorizer"].get("arm64")
        zcell = f"{az[1] / MB:.2f} MB" if az else "–"
        w(f"| current (the workspace's `[profile.release]`) | "
          f"{sizes['authorizer']['x86_64'][0] / MB:.2f} MB | {zcell} | "
          f"{base_a['init_ms'][0]:.2f} / {base_a['init_ms'][1]:.2f} | "
          f"{base_a['cpu_us'][0]:.0f} / {base_a['cpu_us'][2]:.0f} | {base_a['rss_kb'] * 1024 / MB:.1f} | "
          f"{sizes['user-info']['x86_64'][0] / MB:.2f} MB | "
          f"{base_u['init_ms'][0]:.2f} | {base_u['cpu_us'][0]:.0f} |")
    for meta_path in variants:
        meta = load(meta_path)
        v = meta["variant"]
        ra = os.path.join(OUT, "variants", f"{v}-authorizer.json")
        ru = os.path.join(OUT, "variants", f"{v}-user-info.json")
        if not (os.path.exists(ra) and os.path.exists(ru)):
            continue
        sa, su = summarize(load(ra)), summarize(load(ru))
        arm = meta.get("authorizer_arm64_path")
        if arm and os.path.exists(arm):
            variant_zip[v] = zip_bootstrap(arm, os.path.join(OUT, "zips", f"arm64-authorizer-{v}.zip"))
        zcell = f"{variant_zip[v] / MB:.2f} MB" if v in variant_zip else "–"
        if not (sa["ok"] and su["ok"]):
            w(f"| {v} (`{meta['env']}`) | {meta['authorizer_bytes'] / MB:.2f} MB | {zcell} | FAILED | | | | | |")
            continue
        variant_runs[v] = (sa, su, meta)
        w(f"| {v} (`{meta['env']}`) | {meta['authorizer_bytes'] / MB:.2f} MB | {zcell} | "
          f"{sa['init_ms'][0]:.2f} / {sa['init_ms'][1]:.2f} | "
          f"{sa['cpu_us'][0]:.0f} / {sa['cpu_us'][2]:.0f} | {sa['rss_kb'] * 1024 / MB:.1f} | "
          f"{meta['user_info_bytes'] / MB:.2f} MB | "
          f"{su['init_ms'][0]:.2f} | {su['cpu_us'][0]:.0f} |")
    w("")
    deployed_variants = [m for m in variants if os.path.exists(os.path.join(
        OUT, "variants", f"{load(m)['variant']}-deployed-authorizer.json"))]
    if deployed_variants:
        w("The same variants as deployed (keys from Secrets Manager, JSON logs), beside this "
          "run's own deployed rows:\n")
        w("| build | authorizer init ms (median / p99) | authorizer first invocation ms | authorizer warm CPU µs (median) | user-info init ms | user-info first invocation ms | user-info warm CPU µs (median) |")
        w("|---|---|---|---|---|---|---|")

        def drow(label, sa, su):
            if not (sa and su and sa["ok"] and su["ok"]):
                w(f"| {label} | FAILED | | | | | |")
                return
            w(f"| {label} | {sa['init_ms'][0]:.2f} / {sa['init_ms'][1]:.2f} | "
              f"{sa['first_invocation_ms'][0]:.2f} | {sa['cpu_us'][0]:.0f} | {su['init_ms'][0]:.2f} | "
              f"{su['first_invocation_ms'][0]:.2f} | {su['cpu_us'][0]:.0f} |")
        drow("current", runs.get("deployed-rust-authorizer"), runs.get("deployed-rust-user-info"))
        for m in deployed_variants:
            v = load(m)["variant"]
            drow(v, summarize(load(os.path.join(OUT, "variants", f"{v}-deployed-authorizer.json"))),
                 summarize(load(os.path.join(OUT, "variants", f"{v}-deployed-user-info.json"))))
        w("")

w("## Targets\n")
w("| target | measured | met |")
w("|---|---|---|")
for t, m, ok in targets:
    w(f"| {t} | {m} | {'yes' if ok else '**no**'} |")
w("")

# ---- missed targets: by how much, computed from this run ---------------------------------------
missed = []
if d_ours > allowance:  # False where not measured (NaN)
    missed.append(
        f"- **deployed authorizer init {d_ours:.2f} ms vs (floor {d_floor:.2f} + one Secrets Manager "
        f"round trip {init_rtt:.2f} ms) × 1.1 = {allowance:.2f} ms: over by {d_ours - allowance:.2f} ms.** "
        f"Init sends one `GetSecretValue` (here the first request reuses its connection); what it "
        f"spends beyond the floor and the round trip is its own start-up (a larger binary to load "
        f"and relocate, the TLS configuration, the request's signing): bench/NOTES.md.")
if warm_ratio < 10:  # False where not measured (NaN)
    missed.append(
        f"- **deployed authorizer warm CPU: {warm_how} (target ≥ 10×): ours needs "
        f"{(1 - warm_ratio / 10) * 100:.0f}% less CPU per invocation.** The floor costs "
        f"{med('deployed-hello-floor', 'cpu_us'):.0f} µs of the row's {d_cpu:.0f} µs.")
floor_cpu = med("hello-floor", "cpu_us")
for fn in ("authorizer", "user-info"):
    ours = med(f"rust-{fn}", "init_ms")
    if ours > 1.5 * floor_init:
        missed.append(
            f"- **{fn} init {ours:.2f} ms vs the floor's {floor_init:.2f} ms = {ours / floor_init:.2f}× "
            f"(target ≤ 1.5×, i.e. ≤ {1.5 * floor_init:.2f} ms): over by {ours - 1.5 * floor_init:.2f} ms.** "
            f"What the function does before its first `next` beyond the floor costs "
            f"{ours - floor_init:.2f} ms; the target leaves {0.5 * floor_init:.2f} ms for it.")
    for peer, need in (("python", 20), ("node", 10)):
        theirs = med(f"{peer}-{fn}", "init_ms")
        if theirs / ours < need:
            missed.append(f"- **{fn} init vs {peer.capitalize()}: {theirs / ours:.2f}× (target ≥ {need}×)**: "
                          f"needs ≤ {theirs / need:.2f} ms, measured {ours:.2f} ms.")
for peer, need in (("python", 10), ("node", 5)):
    theirs = med(f"{peer}-authorizer", "cpu_us")
    if theirs / ours_cpu < need:
        budget = theirs / need
        line = (f"- **authorizer warm CPU vs {peer.capitalize()}: {theirs:.0f} µs vs {ours_cpu:.0f} µs = "
                f"{theirs / ours_cpu:.2f}× (target ≥ {need}×, i.e. ours ≤ {budget:.0f} µs): ours is "
                f"{ours_cpu - budget:.0f} µs over ({ours_cpu / budget:.2f}× the budget).** The hello-world floor "
                f"(a `lambda_runtime` loop that does nothing) costs {floor_cpu:.0f} µs per invocation, so "
                f"our handler's own cost is about {ours_cpu - floor_cpu:.0f} µs. ")
        if floor_cpu >= budget:
            line += (f"The floor alone is already over the budget ({floor_cpu:.0f} ≥ {budget:.0f} µs): "
                     f"even a handler that cost nothing would be only {theirs / floor_cpu:.2f}× below "
                     f"{peer.capitalize()}, so this target cannot be met on `lambda_runtime` on this host.")
        else:
            line += (f"A handler that cost nothing would be {theirs / floor_cpu:.2f}× below "
                     f"{peer.capitalize()}; meeting the target leaves {budget - floor_cpu:.0f} µs for the "
                     f"handler (one signed DynamoDB round trip included), "
                     f"{ours_cpu - floor_cpu:.0f} µs measured.")
        missed.append(line)
if "arm64" in sizes.get("authorizer", {}):
    z = sizes["authorizer"]["arm64"][1] / MB
    if z > 2.5:
        line = (f"- **authorizer arm64 zip {z:.2f} MB (target ≤ 2.5 MB): over by {z - 2.5:.2f} MB "
                f"({(z / 2.5 - 1) * 100:.0f}%).**")
        if "arm64" in sizes.get("hello", {}):
            line += f" The floor's arm64 zip is {sizes['hello']['arm64'][1] / MB:.2f} MB"
        if variant_zip:
            best = min(variant_zip, key=variant_zip.get)
            bz = variant_zip[best] / MB
            line += (f"; the smallest profile variant measured, `{best}`, makes it {bz:.2f} MB "
                     f"({(1 - bz / z) * 100:.0f}% smaller), "
                     + ("within the target." if bz <= 2.5 else f"still {bz - 2.5:.2f} MB over."))
            if best in variant_runs:
                sa = variant_runs[best][0]
                line += (f" Its cost: init {sa['init_ms'][0]:.2f} ms (default profile "
                         f"{med('rust-authorizer', 'init_ms'):.2f} ms), warm CPU {sa['cpu_us'][0]:.0f} µs "
                         f"(default {ours_cpu:.0f} µs).")
        else:
            line += "."
        missed.append(line)
for fn in FUNCTIONS:
    if fn != "authorizer" and "arm64" in sizes.get(fn, {}) and sizes[fn]["arm64"][1] / MB > 4.5:
        z = sizes[fn]["arm64"][1] / MB
        missed.append(f"- **{fn} arm64 zip {z:.2f} MB (target ≤ 4.5 MB): over by {z - 4.5:.2f} MB.**")
if jv / hm > 3:
    missed.append(f"- **JWT verification {jv:.0f} ns vs raw HMAC-SHA256 {hm:.0f} ns = {jv / hm:.2f}× "
                  f"(target ≤ 3×, i.e. ≤ {3 * hm:.0f} ns): over by {jv - 3 * hm:.0f} ns.**")
# Every other missed target (first invocations, the 128 MB ratios, RSS): what it measured.
EXPLAINED = ("deployed authorizer: init ≤", "deployed, kept-alive: authorizer warm CPU",
             "authorizer: warm CPU ≥", "JWT verification")
for t, m, ok in targets:
    if not ok and not (t.startswith(EXPLAINED) or ": init ≤ 1.5× the hello-world floor" in t
                       or ": init ≥ " in t or ": arm64 zip" in t):
        missed.append(f"- **{t}: {m}.**")
w("## Missed targets: by how much (computed from this run)\n")
w("\n".join(missed) if missed else "None: every target above is met in this run.")
w("\nWhy, with the measurements behind it, is in \"Why targets are missed\" below.\n")
notes = os.path.join(BENCH, "NOTES.md")
if os.path.exists(notes):
    with open(notes) as f:
        w(f.read())
w("![chart](chart.png)\n")
with open(os.path.join(BENCH, "RESULTS.md"), "w") as f:
    f.write("\n".join(L))

# ---- chart ----------------------------------------------------------------------------------
COLORS = {"rust": "#b7410e", "python": "#3776ab", "node": "#3c873a", "hello": "#888888"}
# The headline rows when the run has them (as deployed, then at 128 MB's share of a CPU).
HEADLINE = ([f"deployed-{n}" for n in DEPLOYED] + [f"mb128-{n}" for n in DEPLOYED]
            if any(n.startswith("deployed-") for n in runs) else ORDER)
fig, axes = plt.subplots(2, 2, figsize=(13, 9))
# What the bars' names mean is said once, here: a panel's title is only as wide as its panel.
fig.suptitle(f"JWT session service vs peers — {now}, {os.cpu_count()} cores {platform.machine()}"
             + (" (QUICK)" if args.quick == "1" else "")
             + ("\ndeployed- = as deployed; mb128- = the same at 128 MB's share of a CPU"
                if HEADLINE is not ORDER else ""))


def bars(ax, metric, title, unit, log=True):
    names = [n for n in HEADLINE if n in runs and runs[n]["ok"] and "cpu_us" in runs[n]]
    vals = [metric(runs[n]) for n in names]
    cols = [COLORS[n.split("-")[1 if n.startswith(("deployed-", "mb128-")) else 0]] for n in names]
    ax.bar(range(len(names)), vals, color=cols)
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=30, ha="right", fontsize=8)
    ax.set_title(title)
    ax.set_ylabel(unit)
    if log:
        ax.set_yscale("log")
    for i, v in enumerate(vals):
        ax.text(i, v, f"{v:.3g}", ha="center", va="bottom", fontsize=7)


bars(axes[0][0], lambda s: s["init_ms"][0], "init (median)", "ms, log")
bars(axes[0][1], lambda s: s["cpu_us"][0], "warm CPU per invocation (median)", "µs, log")
bars(axes[1][0], lambda s: s["rss_kb"] * 1024 / MB, "peak RSS", "MB", log=False)
ax = axes[1][1]
names = [n for n in FUNCTIONS + ["hello"] if "arm64" in sizes.get(n, {})]
vals = [sizes[n]["arm64"][1] / MB for n in names]
ax.bar(range(len(names)), vals, color=[COLORS["hello"] if n == "hello" else COLORS["rust"] for n in names])
ax.set_xticks(range(len(names)))
ax.set_xticklabels(names, rotation=30, ha="right", fontsize=8)
ax.set_title("arm64 zip size (ours)")
ax.set_ylabel("MB")
for i, v in enumerate(vals):
    ax.text(i, v, f"{v:.2f}", ha="center", va="bottom", fontsize=7)
if not names:
    ax.set_yticks([])
    ax.text(0.5, 0.5, "not measured in this run (BENCH_SKIP_ARM64=1);\nCI's sam build prints them",
            ha="center", va="center", transform=ax.transAxes, fontsize=9)
fig.tight_layout()
fig.savefig(os.path.join(BENCH, "chart.png"), dpi=110)
print(open(os.path.join(BENCH, "RESULTS.md")).read())
