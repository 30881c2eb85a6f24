#!/usr/bin/env python3
"""Determinism across compilers and optimisation levels.

usage: compare_compilers.py SCENARIOS_DIR DSIM [DSIM...]

Runs every shipped scenario (scenarios/bench/ with a shortened duration)
with each dsim binary (e.g. gcc -O2, gcc -O0 with sanitizers, clang -O2)
and checks that every binary reports the same trace_hash and writes a
byte-identical timeseries.csv.  Prints 'N passed, M failed'.
"""
import json
import pathlib
import subprocess
import sys
import tempfile


def run(dsim, scenario, out, extra):
    cmd = [dsim, "run", "--quiet", "-o", out, str(scenario)] + extra
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {p.returncode}: {p.stderr.strip()}")
    with open(f"{out}/summary.json") as f:
        h = json.load(f)["trace_hash"]
    with open(f"{out}/timeseries.csv", "rb") as f:
        return h, f.read()


def main():
    root = pathlib.Path(sys.argv[1])
    binaries = sys.argv[2:]
    passed = failed = 0
    for scenario in sorted(root.rglob("*.json")):
        extra = ["--set", "duration=2s"] if "bench" in scenario.parts else []
        results = []
        with tempfile.TemporaryDirectory() as tmp:
            for i, dsim in enumerate(binaries):
                results.append(run(dsim, scenario, f"{tmp}/{i}", extra))
        hashes = {r[0] for r in results}
        series = {r[1] for r in results}
        name = scenario.relative_to(root)
        if len(hashes) == 1 and len(series) == 1:
            passed += 1
            print(f"ok   {name}  trace_hash {results[0][0]}")
        else:
            failed += 1
            print(f"FAIL {name}: hashes {[r[0] for r in results]}, "
                  f"time series identical: {len(series) == 1}")
    print(f"compilers: {passed} passed, {failed} failed")
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
