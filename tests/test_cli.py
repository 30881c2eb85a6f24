#!/usr/bin/env python3
"""The `dsim` command as a user runs it.

usage: test_cli.py DSIM SRCDIR [-k SUBSTR]...

DSIM is the dsim binary, SRCDIR the source tree (for the version in
sim/sim.h and CMakeLists.txt).  Every test writes its own scenario into a
fresh temporary folder and runs dsim there, so nothing depends on the
shipped scenarios or the current directory.  The scenarios use the phold
model (always built; the engine benchmark) because these tests are about the
command, not a model.

Each test is a function named test_*; a failed assert fails that test only.
Besides what each test checks, every dsim invocation is checked for
sanitizer reports on stderr.  Prints "ok"/"FAIL" per test and a closing line
"N passed, M failed"; exit status 1 if any test failed.  Python 3 standard
library only.
"""
import json
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dsim_testlib import read_bytes, run, run_tests, take_filters  # noqa: E402

DSIM = None
SRCDIR = None
TIMEOUT_S = 120

# A small, fast scenario.  network.latency is given explicitly so that these
# tests do not depend on the network defaults; test_minimal_scenario_* covers
# those.
BASE = {
    "model": "phold",
    "duration": "2s",
    "seed": 7,
    "phold": {"lps": 8},
    "network": {"latency": "1ms"},
}


def dsim(*args, cwd):
    return run([DSIM] + list(args), cwd, TIMEOUT_S)


def write_scenario(folder, name="scn.json", **overrides):
    d = json.loads(json.dumps(BASE))
    for k, v in overrides.items():
        if v is None:
            d.pop(k, None)
        else:
            d[k] = v
    path = os.path.join(folder, name)
    with open(path, "w") as f:
        json.dump(d, f, indent=2)
    return name


def read_json(path):
    with open(path) as f:
        return json.load(f)


def expect_usage_error(r, *words):
    """Usage errors: status 2, nothing on stdout, a message naming the problem."""
    assert r.rc == 2, r
    assert r.out == "", r
    assert r.err.strip(), r
    assert r.err.startswith("dsim: ") or r.err.startswith("error: ") or \
        r.err.startswith("usage: "), r
    for w in words:
        assert w in r.err, "%r not in the message: %r" % (w, r)


def source_version():
    with open(os.path.join(SRCDIR, "sim", "sim.h")) as f:
        m = re.search(r'#define\s+DSIM_VERSION\s+"([^"]+)"', f.read())
    assert m, "DSIM_VERSION not found in sim/sim.h"
    return m.group(1)


# ---------------------------------------------------------------- version, help


def test_version(tmp):
    r = dsim("--version", cwd=tmp)
    assert r.rc == 0, r
    assert r.out == "dsim %s\n" % source_version(), r
    assert r.err == "", r


def test_version_matches_cmake(tmp):
    with open(os.path.join(SRCDIR, "CMakeLists.txt")) as f:
        m = re.search(r"project\(dsim\s+VERSION\s+([0-9.]+)", f.read())
    assert m, "project(dsim VERSION ...) not found in CMakeLists.txt"
    assert m.group(1) == source_version(), (m.group(1), source_version())


def test_help(tmp):
    r = dsim("help", cwd=tmp)
    assert r.rc == 0, r
    assert r.err == "", r
    assert r.out.startswith("usage: dsim"), r
    for cmd in ("run", "validate", "models", "help"):
        assert re.search(r"^\s+%s\b" % cmd, r.out, re.M), "%s not listed: %r" % (cmd, r)
    assert dsim("--help", cwd=tmp).out == r.out
    assert dsim("-h", cwd=tmp).out == r.out


def test_help_run(tmp):
    r = dsim("help", "run", cwd=tmp)
    assert r.rc == 0, r
    assert r.out.startswith("usage: dsim run"), r
    for opt in ("-o", "--seed", "--set", "--trace", "--quiet", "summary.json",
                "timeseries.csv", "histograms.csv", "trace.jsonl"):
        assert opt in r.out, "%s not in help run: %r" % (opt, r)


def test_help_validate(tmp):
    r = dsim("help", "validate", cwd=tmp)
    assert r.rc == 0, r
    assert r.out.startswith("usage: dsim validate"), r


def test_help_unknown_command(tmp):
    r = dsim("help", "frobnicate", cwd=tmp)
    expect_usage_error(r, "frobnicate")


def test_no_arguments(tmp):
    r = dsim(cwd=tmp)
    assert r.rc == 2, r
    assert r.out == "", r
    assert "usage: dsim" in r.err, r


def test_unknown_command(tmp):
    r = dsim("frobnicate", cwd=tmp)
    expect_usage_error(r, "frobnicate")


def test_models(tmp):
    r = dsim("models", cwd=tmp)
    assert r.rc == 0, r
    names = [line.split()[0] for line in r.out.splitlines() if line.strip()]
    assert "phold" in names, r
    assert names == sorted(names), "models not in alphabetical order: %r" % names
    for line in r.out.splitlines():
        assert len(line.split(None, 1)) == 2, "model without a summary: %r" % line


# ---------------------------------------------------------------- usage errors


def test_seed_junk(tmp):
    f = write_scenario(tmp)
    for cmd in ("run", "validate"):
        r = dsim(cmd, f, "--seed", "junk", cwd=tmp)
        expect_usage_error(r, "--seed", "junk")
    assert not os.path.exists(os.path.join(tmp, "out")), "run wrote output after a usage error"


def test_seed_out_of_range(tmp):
    f = write_scenario(tmp)
    for bad in ("-1", "1000000000000000", "1.5", "", "12abc", "99999999999999999999999"):
        expect_usage_error(dsim("validate", f, "--seed", bad, cwd=tmp), "--seed")
    r = dsim("validate", f, "--seed", "999999999999999", cwd=tmp)
    assert r.rc == 0, r


def test_seed_without_value(tmp):
    f = write_scenario(tmp)
    expect_usage_error(dsim("validate", f, "--seed", cwd=tmp), "--seed")


def test_set_without_value(tmp):
    f = write_scenario(tmp)
    expect_usage_error(dsim("validate", f, "--set", cwd=tmp), "--set")


def test_unknown_option(tmp):
    f = write_scenario(tmp)
    expect_usage_error(dsim("run", f, "--frobnicate", cwd=tmp), "--frobnicate")
    # -o belongs to run, not to validate.
    expect_usage_error(dsim("validate", f, "-o", "x", cwd=tmp), "-o")


def test_two_files(tmp):
    f = write_scenario(tmp)
    g = write_scenario(tmp, name="other.json")
    expect_usage_error(dsim("validate", f, g, cwd=tmp), g)


def test_no_file(tmp):
    expect_usage_error(dsim("run", cwd=tmp))
    expect_usage_error(dsim("validate", cwd=tmp))


def test_o_without_folder(tmp):
    f = write_scenario(tmp)
    expect_usage_error(dsim("run", f, "-o", cwd=tmp), "-o")


# ---------------------------------------------------------------- run


def check_outputs(folder):
    for name in ("summary.json", "timeseries.csv", "histograms.csv"):
        path = os.path.join(folder, name)
        assert os.path.isfile(path), "%s missing (folder holds %s)" % (
            path, os.listdir(folder) if os.path.isdir(folder) else "nothing")
    s = read_json(os.path.join(folder, "summary.json"))
    ts = read_bytes(os.path.join(folder, "timeseries.csv")).decode()
    assert ts.splitlines()[0].startswith("time_s,"), ts[:200]
    assert len(ts.splitlines()) >= 2, "timeseries.csv has no rows"
    hs = read_bytes(os.path.join(folder, "histograms.csv")).decode()
    assert hs.splitlines() and "," in hs.splitlines()[0], "histograms.csv has no header"
    return s


def test_run_writes_o_dir(tmp):
    f = write_scenario(tmp)
    r = dsim("run", f, "-o", "results/a", cwd=tmp)
    assert r.rc == 0, r
    check_outputs(os.path.join(tmp, "results", "a"))
    assert not os.path.exists(os.path.join(tmp, "out")), "wrote out/ although -o was given"
    assert not os.path.exists(os.path.join(tmp, "results", "a", "trace.jsonl")), \
        "trace.jsonl written without --trace"
    r = dsim("run", f, "--out", "results/b", cwd=tmp)
    assert r.rc == 0, r
    check_outputs(os.path.join(tmp, "results", "b"))


def test_run_default_out_dir(tmp):
    f = write_scenario(tmp, name="my_scn.json")
    r = dsim("run", f, cwd=tmp)
    assert r.rc == 0, r
    check_outputs(os.path.join(tmp, "out", "my_scn"))
    # The "name" key, when given, names the folder.
    d = json.loads(json.dumps(BASE))
    d["name"] = "named-run.v2"
    with open(os.path.join(tmp, "other.json"), "w") as fh:
        json.dump(d, fh)
    r = dsim("run", "other.json", cwd=tmp)
    assert r.rc == 0, r
    s = check_outputs(os.path.join(tmp, "out", "named-run.v2"))
    assert s["scenario"]["name"] == "named-run.v2", s["scenario"]


def test_run_rerun_overwrites(tmp):
    f = write_scenario(tmp)
    assert dsim("run", f, "-o", "o", "--quiet", cwd=tmp).rc == 0
    first = read_json(os.path.join(tmp, "o", "summary.json"))
    r = dsim("run", f, "-o", "o", "--quiet", cwd=tmp)
    assert r.rc == 0, r
    assert read_json(os.path.join(tmp, "o", "summary.json"))["trace_hash"] == first["trace_hash"]


def test_summary_fields(tmp):
    f = write_scenario(tmp)
    r = dsim("run", f, "-o", "o", cwd=tmp)
    assert r.rc == 0, r
    s = check_outputs(os.path.join(tmp, "o"))
    for key in ("dsim_version", "seed", "trace_hash", "scenario", "engine", "metrics"):
        assert key in s, "summary.json lacks %s: keys %s" % (key, list(s))
    assert s["dsim_version"] == source_version(), s["dsim_version"]
    assert s["seed"] == 7, s["seed"]
    assert isinstance(s["trace_hash"], str) and re.fullmatch(r"[0-9a-f]{16}", s["trace_hash"]), \
        s["trace_hash"]
    assert isinstance(s["scenario"], dict) and s["scenario"]["model"] == "phold", s["scenario"]
    assert s["scenario"]["seed"] == 7, s["scenario"]
    eng = s["engine"]
    for key in ("events", "wall_s", "events_per_s", "peak_rss_bytes"):
        assert key in eng, "engine lacks %s: %s" % (key, eng)
        assert isinstance(eng[key], (int, float)) and eng[key] >= 0, (key, eng[key])
    assert eng["events"] > 0 and eng["events"] == int(eng["events"]), eng
    assert eng["peak_rss_bytes"] > 0, eng
    assert isinstance(s["metrics"], dict) and s["metrics"], s["metrics"]
    # The human summary names the trace hash too.
    assert s["trace_hash"] in r.out, r
    assert r.err == "", r


def test_summary_scenario_equals_validate(tmp):
    """summary.json embeds the same resolved scenario that validate prints."""
    f = write_scenario(tmp)
    v = dsim("validate", f, cwd=tmp)
    assert v.rc == 0, v
    assert dsim("run", f, "-o", "o", "--quiet", cwd=tmp).rc == 0
    s = read_json(os.path.join(tmp, "o", "summary.json"))
    assert s["scenario"] == json.loads(v.out), (s["scenario"], v.out)


def test_same_seed_same_outputs(tmp):
    f = write_scenario(tmp)
    assert dsim("run", f, "-o", "a", "--quiet", cwd=tmp).rc == 0
    assert dsim("run", f, "-o", "b", "--quiet", cwd=tmp).rc == 0
    for name in ("timeseries.csv", "histograms.csv"):
        assert read_bytes(os.path.join(tmp, "a", name)) == read_bytes(os.path.join(tmp, "b", name)), name
    sa = read_json(os.path.join(tmp, "a", "summary.json"))
    sb = read_json(os.path.join(tmp, "b", "summary.json"))
    assert sa["trace_hash"] == sb["trace_hash"]
    assert sa["metrics"] == sb["metrics"]


def test_seed_changes_hash(tmp):
    f = write_scenario(tmp)
    assert dsim("run", f, "-o", "a", "--quiet", cwd=tmp).rc == 0
    assert dsim("run", f, "-o", "b", "--quiet", "--seed", "8", cwd=tmp).rc == 0
    # --seed equal to the scenario's seed changes nothing.
    assert dsim("run", f, "-o", "c", "--quiet", "--seed", "7", cwd=tmp).rc == 0
    sa, sb, sc = (read_json(os.path.join(tmp, d, "summary.json")) for d in "abc")
    assert sb["seed"] == 8 and sb["scenario"]["seed"] == 8, (sb["seed"], sb["scenario"]["seed"])
    assert sa["seed"] == 7
    assert sa["trace_hash"] != sb["trace_hash"], "--seed 8 gave the same trace_hash as seed 7"
    assert sc["trace_hash"] == sa["trace_hash"], "--seed 7 differs from the scenario's seed 7"
    # Seed 0 and the largest seed are allowed (test_large_seed_printed_exactly
    # checks that the latter is reported exactly).
    assert dsim("run", f, "-o", "d", "--quiet", "--seed", "0", cwd=tmp).rc == 0
    assert dsim("run", f, "-o", "e", "--quiet", "--seed", "999999999999999", cwd=tmp).rc == 0


def test_set_overrides(tmp):
    f = write_scenario(tmp)
    r = dsim("run", f, "-o", "o", "--quiet", "--set", "phold.lps=5", "--set",
             "duration=1500ms", "--set=network.loss=0.25", cwd=tmp)
    assert r.rc == 0, r
    sc = read_json(os.path.join(tmp, "o", "summary.json"))["scenario"]
    assert sc["phold"]["lps"] == 5, sc["phold"]
    assert sc["duration"] == "1.5s", sc["duration"]
    assert sc["network"]["loss"] == 0.25, sc["network"]
    v = json.loads(dsim("validate", f, "--set", "phold.lps=5", cwd=tmp).out)
    assert v["phold"]["lps"] == 5, v["phold"]
    # The later --set wins.
    v = json.loads(dsim("validate", f, "--set", "phold.lps=5", "--set", "phold.lps=6", cwd=tmp).out)
    assert v["phold"]["lps"] == 6, v["phold"]
    # A key the file leaves out can be set too (it takes its default otherwise).
    v = json.loads(dsim("validate", f, "--set", "max_events=100", cwd=tmp).out)
    assert v["max_events"] == 100, v
    # --set changes the run, not only the printed scenario.
    assert dsim("run", f, "-o", "p", "--quiet", cwd=tmp).rc == 0
    a = read_json(os.path.join(tmp, "o", "summary.json"))["trace_hash"]
    b = read_json(os.path.join(tmp, "p", "summary.json"))["trace_hash"]
    assert a != b, "--set did not change the run"


def test_set_list_element(tmp):
    f = write_scenario(tmp, faults=[{"at": "1s", "crash": "lp1"}, {"at": "1.5s", "recover": "lp1"}])
    v = dsim("validate", f, "--set", "faults[0].at=500ms", cwd=tmp)
    assert v.rc == 0, v
    assert json.loads(v.out)["faults"][0]["at"] == "500ms", v.out


def test_set_distribution_as_json(tmp):
    f = write_scenario(tmp)
    v = dsim("validate", f, "--set", 'network.latency={"type":"uniform","min":"1ms","max":"3ms"}',
             cwd=tmp)
    assert v.rc == 0, v
    lat = json.loads(v.out)["network"]["latency"]
    assert lat == {"type": "uniform", "min": "1ms", "max": "3ms"}, lat


def test_set_bad_key_fails(tmp):
    f = write_scenario(tmp)
    r = dsim("run", f, "-o", "o", "--set", "phold.lsp=5", cwd=tmp)
    assert r.rc == 2, r
    assert "$.phold.lsp" in r.err and "lps" in r.err, r
    assert not os.path.exists(os.path.join(tmp, "o")), "output written for a bad scenario"


def test_trace(tmp):
    f = write_scenario(tmp)
    r = dsim("run", f, "-o", "o", "--trace", "--quiet", cwd=tmp)
    assert r.rc == 0, r
    path = os.path.join(tmp, "o", "trace.jsonl")
    assert os.path.isfile(path), os.listdir(os.path.join(tmp, "o"))
    text = read_bytes(path).decode("utf-8")
    lines = text.split("\n")
    assert lines[-1] == "", "trace.jsonl does not end with a newline"
    lines = lines[:-1]
    assert lines, "trace.jsonl is empty"
    for i, line in enumerate(lines, 1):
        try:
            obj = json.loads(line)
        except ValueError as e:
            raise AssertionError("trace.jsonl line %d is not JSON (%s): %r" % (i, e, line))
        assert isinstance(obj, dict), "trace.jsonl line %d is not an object: %r" % (i, line)
    events = read_json(os.path.join(tmp, "o", "summary.json"))["engine"]["events"]
    assert len(lines) >= 1 and events > 0
    # Tracing does not change the run.
    assert dsim("run", f, "-o", "p", "--quiet", cwd=tmp).rc == 0
    a = read_json(os.path.join(tmp, "o", "summary.json"))
    b = read_json(os.path.join(tmp, "p", "summary.json"))
    assert a["trace_hash"] == b["trace_hash"], "--trace changed the trace_hash"


def test_trace_narrates_kv_stale_reads(tmp):
    """--trace explains a kv run: who acknowledged each write, who answered
    each read with what, and why a read was stale; the narration changes
    neither the run nor its hash."""
    scen = os.path.join(SRCDIR, "scenarios", "kv", "quickstart.json")
    short = ["--set", "duration=14s", "--set", "faults[1].at=14s", "--no-plot", "--quiet"]
    r = dsim("run", scen, "-o", "t", "--trace", *short, cwd=tmp)
    assert r.rc == 0, r
    logs = [json.loads(x) for x in read_bytes(os.path.join(tmp, "t", "trace.jsonl"))
            .decode("utf-8").splitlines() if '"ev":"log"' in x]
    texts = [x["text"] for x in logs]
    stale = [t for t in texts if t.startswith("STALE read of key ")]
    assert stale, "no stale read narrated"
    # The stale read's story: the newer write committed, then the read that
    # answered with the older version.
    key = stale[0].split()[4].rstrip(":")
    newer = stale[0].split(", but ")[1].split()[0]
    assert any(t.startswith("write %s of key %s committed" % (newer, key)) for t in texts), key
    assert any(t.startswith("read of key %s: replies" % key) for t in texts), key
    assert dsim("run", scen, "-o", "u", *short, cwd=tmp).rc == 0
    a = read_json(os.path.join(tmp, "t", "summary.json"))
    b = read_json(os.path.join(tmp, "u", "summary.json"))
    assert a["trace_hash"] == b["trace_hash"], "narration changed the trace_hash"


def test_quiet(tmp):
    f = write_scenario(tmp)
    r = dsim("run", f, "-o", "o", "--quiet", cwd=tmp)
    assert r.rc == 0, r
    assert r.out == "" and r.err == "", r
    check_outputs(os.path.join(tmp, "o"))
    r = dsim("run", f, "-o", "o2", cwd=tmp)
    assert r.rc == 0 and r.out.strip(), "a run without --quiet printed nothing: %r" % r


def test_run_output_under_regular_file(tmp):
    f = write_scenario(tmp)
    with open(os.path.join(tmp, "plain"), "w") as fh:
        fh.write("not a folder\n")
    r = dsim("run", f, "-o", "plain/sub", cwd=tmp)
    assert r.rc == 1, r
    assert r.out == "", r
    assert "plain/sub" in r.err, "the message does not name the folder: %r" % r
    assert len(r.err.strip().splitlines()) == 1, "expected one line: %r" % r
    # -o naming the regular file itself.
    r = dsim("run", f, "-o", "plain", cwd=tmp)
    assert r.rc == 1, r
    assert "plain" in r.err, r
    assert read_bytes(os.path.join(tmp, "plain")) == b"not a folder\n", "the file was changed"


def test_run_invalid_scenario(tmp):
    f = write_scenario(tmp, duration="10")
    r = dsim("run", f, "-o", "o", cwd=tmp)
    assert r.rc == 2, r
    assert r.out == "", r
    assert r.err.startswith("error: %s: $.duration: " % f), r
    assert not os.path.exists(os.path.join(tmp, "o")), "output written for a bad scenario"


# ---------------------------------------------------------------- validate


def check_round_trip(tmp, f, r):
    """r is `dsim validate f`: validating its output gives it again, and the
    resolved scenario runs exactly like the original."""
    with open(os.path.join(tmp, "resolved.json"), "w") as fh:
        fh.write(r.out)
    r2 = dsim("validate", "resolved.json", cwd=tmp)
    assert r2.rc == 0, r2
    assert r2.out == r.out, "resolving the resolved scenario changed it:\n%s\n---\n%s" % (
        r.out, r2.out)
    assert dsim("run", f, "-o", "a", "--quiet", cwd=tmp).rc == 0
    assert dsim("run", "resolved.json", "-o", "b", "--quiet", cwd=tmp).rc == 0
    a = read_json(os.path.join(tmp, "a", "summary.json"))
    b = read_json(os.path.join(tmp, "b", "summary.json"))
    assert a["trace_hash"] == b["trace_hash"], "the resolved scenario runs differently"


def test_validate_round_trip(tmp):
    f = write_scenario(tmp, faults=[{"at": "1s", "partition": [["lp0", "lp1"], ["lp2"]]},
                                    {"at": "1.5s", "heal": True}])
    r = dsim("validate", f, cwd=tmp)
    assert r.rc == 0, r
    # stderr holds the cost estimates, one line each, and nothing else;
    # stdout is the resolved scenario alone.
    lines = r.err.splitlines()
    assert len(lines) == 3 and all(l.startswith("estimate: ") for l in lines), r
    assert "time series" in lines[0] and "memory" in lines[1] and "events" in lines[2], r
    resolved = json.loads(r.out)
    assert isinstance(resolved, dict)
    # Defaults are filled in.  (No "nodes": phold creates its own.)
    for key in ("name", "model", "seed", "duration", "max_events", "metrics",
                "network", "faults"):
        assert key in resolved, "validate output lacks %s: %s" % (key, list(resolved))
    check_round_trip(tmp, f, r)


def test_validate_round_trip_rich(tmp):
    """Round trip through every kind of section: node groups, distributions,
    link rules, each fault shape, random faults."""
    f = write_scenario(
        tmp, nodes=2,
        network={"latency": {"type": "mixture", "components": [
                     {"weight": 1, "type": "lognormal", "median": "1ms", "sigma": 0.5},
                     {"weight": 2, "type": "empirical", "cdf": [["1ms", 0.2], ["3ms", 1]]}]},
                 "loss": 0.01, "duplicate": 0.001,
                 "links": [{"from": "lp0", "to": "n", "latency": "5ms", "message": "event"},
                           {"from": "n0", "to": "*", "one_way": True, "loss": 0.5}]},
        faults=[{"at": "1s", "partition": [["lp0", "lp1"], ["lp2"]]},
                {"at": "1.5s", "heal": True},
                {"at": "1s", "clock": "lp3", "offset": "-5ms", "drift_ppm": 10},
                {"at": "1s", "slow_link": {"from": "lp0", "to": "lp1"}, "factor": 3},
                {"at": "1s", "slow": ["lp4", "lp5"], "factor": 2},
                {"at": "1s", "partition_one_way": {"from": "lp0", "to": ["lp1", "lp2"]}},
                {"at": "0.5s", "crash": "n1"}, {"at": "0.7s", "recover": "n1"}],
        random_faults={"crash": {"nodes": "n", "mttr": "1s"}, "partition": {}})
    r = dsim("validate", f, cwd=tmp)
    assert r.rc == 0, r
    check_round_trip(tmp, f, r)


def test_large_seed_printed_exactly(tmp):
    """Seeds go up to 10^15-1; the resolved scenario must carry them exactly,
    or re-running from summary.json uses another seed."""
    f = write_scenario(tmp)
    for seed in (123456789012345, 999999999999999):
        r = dsim("validate", f, "--seed", str(seed), cwd=tmp)
        assert r.rc == 0, r
        got = json.loads(r.out)["seed"]
        assert got == seed and isinstance(got, int), \
            "--seed %d printed as %s" % (seed, re.search(r'"seed":\s*([^,]+),', r.out).group(1))


def test_validate_with_seed(tmp):
    f = write_scenario(tmp)
    r = dsim("validate", f, "--seed", "123", cwd=tmp)
    assert r.rc == 0, r
    assert json.loads(r.out)["seed"] == 123, r.out


def test_minimal_scenario_validates(tmp):
    """The documented defaults work: a scenario of only a model and its object."""
    with open(os.path.join(tmp, "min.json"), "w") as fh:
        fh.write('{"model": "phold", "phold": {"lps": 4}}\n')
    r = dsim("validate", "min.json", cwd=tmp)
    assert r.rc == 0, r
    resolved = json.loads(r.out)
    assert resolved["name"] == "min", resolved["name"]
    assert resolved["duration"] in ("60s", "1m"), resolved["duration"]
    assert "latency" in resolved["network"], resolved["network"]


def test_minimal_scenario_runs(tmp):
    with open(os.path.join(tmp, "min.json"), "w") as fh:
        fh.write('{"model": "phold", "duration": "1s", "phold": {"lps": 4}}\n')
    r = dsim("run", "min.json", "-o", "o", "--quiet", cwd=tmp)
    assert r.rc == 0, r
    check_outputs(os.path.join(tmp, "o"))


def test_validate_bad_scenario_message_form(tmp):
    """One line on stderr, "error: FILE: $.path: ...", exit status 2."""
    f = write_scenario(tmp, duraton="5s")
    r = dsim("validate", f, cwd=tmp)
    assert r.rc == 2, r
    assert r.out == "", r
    assert r.err == 'error: %s: $.duraton: unknown key; did you mean "duration"?\n' % f, r


def test_validate_absolute_path(tmp):
    f = write_scenario(tmp)
    r = dsim("validate", os.path.join(tmp, f), cwd="/")
    assert r.rc == 0, r
    assert json.loads(r.out)["name"] == "scn"


def test_ctrl_c_writes_results_marked_incomplete(tmp):
    # A run far too long to finish: Ctrl-C (SIGINT) stops it after the
    # current event; the results are written, summary.json says incomplete,
    # and the status is 130 as for any command stopped by Ctrl-C.
    f = os.path.join(SRCDIR, "scenarios", "kv", "quickstart.json")
    # --max-work off: the budget would refuse a run this long up front.
    p = subprocess.Popen([DSIM, "run", f, "--set", "duration=100000s", "--max-work", "off",
                          "-o", "r", "--no-plot"],
                         cwd=tmp,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 130, (p.returncode, out, err)
    assert "interrupted at" in err and "incomplete" in err, err
    s = read_json(os.path.join(tmp, "r", "summary.json"))
    assert s["incomplete"].startswith("interrupted"), s
    assert s["end_time"] != "100000s", s["end_time"]
    assert os.path.getsize(os.path.join(tmp, "r", "timeseries.csv")) > 0
    # Without Ctrl-C the same run (shortened) is not marked.
    r = dsim("run", f, "--set", "duration=2s", "--set", "faults=[]", "-o", "q", "--no-plot",
             cwd=tmp)
    assert r.rc == 0, r
    assert "incomplete" not in read_json(os.path.join(tmp, "q", "summary.json"))


# ---------------------------------------------------------------- driver


def main():
    global DSIM, SRCDIR
    args = sys.argv[1:]
    filters = take_filters(args)
    if len(args) != 2:
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    DSIM, SRCDIR = os.path.abspath(args[0]), os.path.abspath(args[1])
    if not os.access(DSIM, os.X_OK):
        print("test_cli: %s is not an executable" % DSIM, file=sys.stderr)
        return 2
    return run_tests(globals(), filters, "dsim_cli_")


if __name__ == "__main__":
    sys.exit(main())
