#!/usr/bin/env python3
"""Every shipped scenario runs, deterministically.

usage: run_scenarios.py DSIM SCENARIOS_DIR [-j N]

For every *.json under SCENARIOS_DIR (recursively, in sorted order):
  1. `dsim run --quiet -o A FILE` succeeds (status 0, nothing printed);
  2. a second identical run into B gives the same trace_hash, byte-identical
     timeseries.csv and histograms.csv, and a summary.json identical to A's
     except engine.wall_s, engine.events_per_s and engine.peak_rss_bytes
     (which measure the machine, not the simulation);
  3. a run with --seed S+1 (S = the seed the run used; S-1 if S is the
     largest seed) reports seed S+1 and a different trace_hash.

Environment:
  DSIM_SCENARIO_FILTER=SUBSTR   only scenarios whose path relative to
                                SCENARIOS_DIR contains SUBSTR
  DSIM_BENCH=1                  also run scenarios under bench/ (long;
                                skipped by default)
  DSIM_SCENARIO_TIMEOUT=SECONDS per-run limit (default 900)

Scenarios run in parallel (-j N, default: the number of CPUs), each in its own
temporary folder which is removed when it passes.  Prints one line per
scenario and a closing line "N passed, M failed"; exit status 1 if any
failed.  Python 3 standard library only.
"""
import argparse
import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dsim_testlib import SANITIZER_MARKS, sanitizer_env  # noqa: E402

MAX_SEED = (1 << 53) - 1
MACHINE_FIELDS = ("wall_s", "events_per_s", "peak_rss_bytes")


class Failure(Exception):
    pass


def run(dsim, args, cwd, timeout):
    env = sanitizer_env()
    cmd = [dsim] + args
    try:
        p = subprocess.run(cmd, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise Failure("timed out after %ss: %s" % (timeout, " ".join(cmd)))
    err = p.stderr.decode("utf-8", "replace")
    out = p.stdout.decode("utf-8", "replace")
    if any(m in err for m in SANITIZER_MARKS):
        raise Failure("sanitizer report from %s:\n%s" % (" ".join(cmd), err[:4000]))
    if p.returncode != 0:
        raise Failure("status %d from %s\n%s" % (p.returncode, " ".join(cmd), (err or out).strip()[:2000]))
    if out or err:
        raise Failure("--quiet run printed something: %s\nstdout: %r\nstderr: %r" % (
            " ".join(cmd), out[:500], err[:500]))


def load_summary(folder):
    path = os.path.join(folder, "summary.json")
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise Failure("cannot read %s: %s" % (path, e))


def read_bytes(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise Failure("cannot read %s: %s" % (path, e))


def first_difference(a, b, path="$"):
    """Where two JSON values first differ, as a JSON path (or None)."""
    if type(a) is not type(b):
        return "%s: %r vs %r" % (path, a, b)
    if isinstance(a, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return "%s.%s: present in only one" % (path, k)
            d = first_difference(a[k], b[k], "%s.%s" % (path, k))
            if d:
                return d
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return "%s: %d vs %d elements" % (path, len(a), len(b))
        for i, (x, y) in enumerate(zip(a, b)):
            d = first_difference(x, y, "%s[%d]" % (path, i))
            if d:
                return d
        return None
    return None if a == b else "%s: %r vs %r" % (path, a, b)


def first_line_difference(a, b):
    la, lb = a.splitlines(), b.splitlines()
    for i, (x, y) in enumerate(zip(la, lb), 1):
        if x != y:
            return "line %d: %r vs %r" % (i, x[:200], y[:200])
    return "%d vs %d lines" % (len(la), len(lb))


def check_scenario(dsim, path, timeout):
    tmp = tempfile.mkdtemp(prefix="dsim_scn_")
    try:
        a, b, c = (os.path.join(tmp, d) for d in "abc")
        run(dsim, ["run", "--quiet", "-o", a, path], tmp, timeout)
        run(dsim, ["run", "--quiet", "-o", b, path], tmp, timeout)
        sa, sb = load_summary(a), load_summary(b)
        for s, d in ((sa, a), (sb, b)):
            h = s.get("trace_hash")
            if not isinstance(h, str) or len(h) != 16 or any(ch not in "0123456789abcdef" for ch in h):
                raise Failure("%s/summary.json: trace_hash %r is not 16 hex digits" % (d, h))
            if not isinstance(s.get("engine"), dict):
                raise Failure("%s/summary.json has no engine object" % d)
        if sa["trace_hash"] != sb["trace_hash"]:
            raise Failure("two runs with the same seed gave trace_hash %s and %s"
                          % (sa["trace_hash"], sb["trace_hash"]))
        for name in ("timeseries.csv", "histograms.csv"):
            x, y = read_bytes(os.path.join(a, name)), read_bytes(os.path.join(b, name))
            if x != y:
                raise Failure("%s differs between two identical runs (%s)" % (
                    name, first_line_difference(x.decode("utf-8", "replace"),
                                                y.decode("utf-8", "replace"))))
        for s in (sa, sb):
            for k in MACHINE_FIELDS:
                s["engine"].pop(k, None)
        d = first_difference(sa, sb)
        if d:
            raise Failure("summary.json differs between two identical runs at %s" % d)

        seed = sa.get("seed")
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise Failure("summary.json seed %r is not an integer" % (seed,))
        other = seed + 1 if seed < MAX_SEED else seed - 1
        run(dsim, ["run", "--quiet", "-o", c, "--seed", str(other), path], tmp, timeout)
        sc = load_summary(c)
        if sc.get("seed") != other:
            raise Failure("--seed %d: summary.json says seed %r" % (other, sc.get("seed")))
        if sc.get("trace_hash") == sa["trace_hash"]:
            raise Failure("seeds %d and %d gave the same trace_hash %s"
                          % (seed, other, sa["trace_hash"]))
        shutil.rmtree(tmp, ignore_errors=True)
        return None, "seed %d: %s, seed %d: %s" % (seed, sa["trace_hash"], other, sc["trace_hash"])
    except Failure as e:
        return "%s\n(files kept in %s)" % (e, tmp), None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dsim")
    ap.add_argument("scenarios_dir")
    ap.add_argument("-j", type=int, default=os.cpu_count() or 1)
    a = ap.parse_args()
    dsim = os.path.abspath(a.dsim)
    root = os.path.abspath(a.scenarios_dir)
    if not os.access(dsim, os.X_OK):
        print("run_scenarios: %s is not an executable" % dsim, file=sys.stderr)
        return 2
    if not os.path.isdir(root):
        print("run_scenarios: %s is not a folder" % root, file=sys.stderr)
        return 2
    flt = os.environ.get("DSIM_SCENARIO_FILTER", "")
    bench = os.environ.get("DSIM_BENCH") == "1"
    timeout = float(os.environ.get("DSIM_SCENARIO_TIMEOUT", "900"))

    found, skipped = [], []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for fn in sorted(filenames):
            if not fn.endswith(".json"):
                continue
            rel = os.path.relpath(os.path.join(dirpath, fn), root)
            if flt and flt not in rel:
                continue
            if not bench and rel.split(os.sep)[0] == "bench":
                skipped.append(rel)
                continue
            found.append(rel)
    found.sort()
    if skipped:
        print("skipping %d scenario(s) under bench/ (set DSIM_BENCH=1 to run them)" % len(skipped))
    if not found:
        print("no scenarios to run under %s%s" % (root, " matching %r" % flt if flt else ""))

    passed = failed = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, a.j)) as pool:
        futures = [pool.submit(check_scenario, dsim, os.path.join(root, rel), timeout)
                   for rel in found]
        for rel, fut in zip(found, futures):
            err, info = fut.result()
            if err:
                failed += 1
                print("FAIL %s\n    %s" % (rel, err.replace("\n", "\n    ")))
            else:
                passed += 1
                print("ok   %s (%s)" % (rel, info))
            sys.stdout.flush()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
