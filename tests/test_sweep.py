#!/usr/bin/env python3
"""`dsim sweep` and `dsim plot` as a user runs them.

usage: test_sweep.py DSIM SRCDIR [--mpi MPIEXEC DSIM_MPI] [-k SUBSTR]...

DSIM is the dsim binary, SRCDIR the source tree (for the golden files in
tests/golden/ and the kv quickstart).  With --mpi, the MPI tests run
DSIM_MPI under MPIEXEC with 2 ranks; without it they are skipped (say so).
The chart tests run only when gnuplot is on the PATH.  Every test works in
a fresh temporary folder; scenarios are shortened with --set so that the
whole file takes a few seconds.  Prints "ok"/"FAIL"/"skip" per test and a
closing line "N passed, M failed, K skipped".  Python 3 standard library only.
"""
import csv
import io
import json
import os
import shutil
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dsim_testlib  # noqa: E402
from dsim_testlib import Skip, run_tests, sanitizer_env, take_filters  # noqa: E402
from dsim_testlib import read_bytes as read  # noqa: E402

DSIM = SRCDIR = MPIEXEC = DSIM_MPI = None
TIMEOUT_S = 300

PHOLD = {"model": "phold", "duration": "1s", "seed": 3, "phold": {"lps": 4},
         "network": {"latency": "1ms"}}
# The kv quickstart, shortened: 4 s, the partition from 1 s to 2 s.
KV_SHORT = ["--set", "duration=4s", "--set", "faults[0].at=1s", "--set", "faults[1].at=2s",
            "--set", "kv.workload.rate_per_s=200"]


def run(argv, cwd, env_extra=None):
    env = sanitizer_env(env_extra, drop=("DSIM_NO_PLOT",))
    return dsim_testlib.run(argv, cwd, TIMEOUT_S, env)


def dsim(*args, cwd, env=None):
    return run([DSIM] + list(args), cwd, env)


def write_phold(folder, name="p.json"):
    with open(os.path.join(folder, name), "w") as f:
        json.dump(PHOLD, f)
    return name


def kv_quickstart():
    return os.path.join(SRCDIR, "scenarios", "kv", "quickstart.json")


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def without_command(path):
    """sweep.json minus the command, which names -j and the launcher."""
    d = json.loads(read(path))
    assert d["command"][:2] == ["dsim", "sweep"], d["command"]
    del d["command"]
    return d


def expect_bad_input(r, *words):
    assert r.rc == 2, r
    assert r.out == "", r
    lines = r.err.strip().split("\n")
    assert lines[0].startswith("dsim: ") or lines[0].startswith("error: "), r
    assert len(lines) <= 2, "more than one message: %r" % r
    for w in words:
        assert w in r.err, "%r not in the message: %r" % (w, r)


KV_GRID = ["--vary", "kv.r=1..3", "--vary", "kv.w=1,2,3", "--where", "r + w <= n + 1",
           "--seeds", "3", "--no-plot", "--quiet"] + KV_SHORT

SWEEP_FILES = ("runs.csv", "points.csv", "t_visibility.csv")


# ---------------------------------------------------------------- the sweep


def test_j1_and_j2_are_byte_identical(tmp):
    a = dsim("sweep", kv_quickstart(), *KV_GRID, "-j", "1", "-o", "a", cwd=tmp)
    assert a.rc == 0, a
    b = dsim("sweep", kv_quickstart(), *KV_GRID, "-j", "2", "-o", "b", cwd=tmp)
    assert b.rc == 0, b
    for f in SWEEP_FILES:
        assert read(os.path.join(tmp, "a", f)) == read(os.path.join(tmp, "b", f)), f
    assert without_command(os.path.join(tmp, "a", "sweep.json")) == \
        without_command(os.path.join(tmp, "b", "sweep.json"))
    rows = read_csv(os.path.join(tmp, "a", "runs.csv"))
    # r + w <= 4 keeps 6 of the 9 points; 3 seeds each.
    assert len(rows) == 1 + 6 * 3, len(rows)
    head = rows[0]
    assert head[:6] == ["point", "kv.r", "kv.w", "seed", "trace_hash", "events"], head
    points = {(r[1], r[2]) for r in rows[1:]}
    assert points == {("1", "1"), ("1", "2"), ("1", "3"), ("2", "1"), ("2", "2"),
                      ("3", "1")}, points
    # Common random numbers: every point runs seeds 1, 2, 3.
    for p in points:
        seeds = [r[3] for r in rows[1:] if (r[1], r[2]) == p]
        assert seeds == ["1", "2", "3"], (p, seeds)
    # A run of the sweep is the run dsim run makes with the same settings.
    r = dsim("run", kv_quickstart(), *KV_SHORT, "--set", "kv.r=2", "--set", "kv.w=1",
             "--seed", "2", "-o", "one", "--quiet", "--no-plot", cwd=tmp)
    assert r.rc == 0, r
    h = json.loads(read(os.path.join(tmp, "one", "summary.json")))["trace_hash"]
    row = [x for x in rows[1:] if x[1:4] == ["2", "1", "2"]][0]
    assert row[4] == h, (row[4], h)


def test_points_have_mean_sd_and_ci(tmp):
    assert dsim("sweep", kv_quickstart(), *KV_GRID, "-o", "s", cwd=tmp).rc == 0
    runs = list(csv.DictReader(io.StringIO(read(os.path.join(tmp, "s", "runs.csv")).decode())))
    pts = list(csv.DictReader(io.StringIO(read(os.path.join(tmp, "s", "points.csv")).decode())))
    assert len(pts) == 6
    m = "model.stale_read_fraction"
    for p in pts:
        xs = [float(r[m]) for r in runs if r["point"] == p["point"]]
        assert len(xs) == 3 and p["runs"] == "3"
        mean = sum(xs) / 3
        sd = (sum((x - mean) ** 2 for x in xs) / 2) ** 0.5
        assert abs(float(p[m + ".mean"]) - mean) < 1e-12
        assert abs(float(p[m + ".sd"]) - sd) < 1e-12
        assert abs(float(p[m + ".ci95"]) - 4.302653 * sd / 3 ** 0.5) < 1e-9
    tv = read_csv(os.path.join(tmp, "s", "t_visibility.csv"))
    assert tv[0] == ["point", "kv.r", "kv.w", "t_from_s", "t_to_s", "reads", "consistent",
                     "p_consistent"], tv[0]


def test_csv_schema_matches_golden(tmp):
    """The column layout of runs.csv and points.csv, pinned on phold (whose
    metrics do not change with the kv model's development)."""
    f = write_phold(tmp)
    r = dsim("sweep", f, "--vary", "phold.lps=2,4", "--vary", "network.latency=1ms..2ms:1ms",
             "--seeds", "2", "-o", "s", "--no-plot", "--quiet", cwd=tmp)
    assert r.rc == 0, r
    golden = os.path.join(SRCDIR, "tests", "golden", "sweep")
    for name in ("runs.csv", "points.csv"):
        rows = read_csv(os.path.join(tmp, "s", name))
        with open(os.path.join(golden, name.replace(".csv", "-header.txt"))) as g:
            want = g.read().split()
        assert rows[0] == want, "%s header changed:\n got  %s\n want %s" % (
            name, rows[0], want)
        assert all(len(x) == len(want) for x in rows), name
    rows = read_csv(os.path.join(tmp, "s", "runs.csv"))
    assert [x[1:4] for x in rows[1:]] == [
        ["2", "1ms", "3"], ["2", "1ms", "4"], ["2", "2ms", "3"], ["2", "2ms", "4"],
        ["4", "1ms", "3"], ["4", "1ms", "4"], ["4", "2ms", "3"], ["4", "2ms", "4"]], rows
    s = json.loads(read(os.path.join(tmp, "s", "sweep.json")))
    for k in ("dsim_version", "command", "vary", "set", "where", "seeds", "points", "runs",
              "base_scenario"):
        assert k in s, k
    assert s["base_scenario"]["model"] == "phold" and s["points"] == 4 and s["runs"] == 8


def test_resume_skips_finished_runs(tmp):
    f = write_phold(tmp)
    args = ["sweep", f, "--vary", "phold.lps=2..4", "--seeds", "2", "-o", "s", "--no-plot"]
    r = dsim(*args, cwd=tmp)
    assert r.rc == 0 and "6 run now, 0 resumed" in r.out, r
    first = read(os.path.join(tmp, "s", "runs.csv"))
    # An interrupted sweep: two runs and the tables missing, a temporary file left.
    os.remove(os.path.join(tmp, "s", "runs", "run-1-0.json"))
    os.remove(os.path.join(tmp, "s", "runs", "run-2-1.json"))
    os.remove(os.path.join(tmp, "s", "runs.csv"))
    with open(os.path.join(tmp, "s", "runs", "run-0-0.json"), "w") as g:
        g.write('{"point": 0, "se')  # a torn file is not a result
    r = dsim(*args, "-j", "2", cwd=tmp)
    assert r.rc == 0 and "3 run now, 3 resumed" in r.out, r
    assert read(os.path.join(tmp, "s", "runs.csv")) == first
    # Another sweep into the same folder is refused.
    r = dsim("sweep", f, "--vary", "phold.lps=2..5", "-o", "s", "--no-plot", cwd=tmp)
    expect_bad_input(r, "different sweep")


def test_kill_9_then_resume_gives_the_same_tables(tmp):
    # A sweep killed with SIGKILL at several moments (no chance to clean up),
    # then resumed, ends with tables byte for byte those of a sweep never
    # interrupted: run records are written whole (temporary + rename) or not
    # at all, and a torn or missing one is run again.
    import signal
    import subprocess
    import time
    scen = kv_quickstart()
    args = ["sweep", scen, "--vary", "kv.r=1..3", "--vary", "kv.w=1..3", "--seeds", "4",
            "--no-plot", "--quiet", "-j", "2"] + KV_SHORT
    r = dsim(*args, "-o", "whole", cwd=tmp)
    assert r.rc == 0, r
    for delay in (0.1, 0.3, 0.6):
        out = "k%g" % delay
        p = subprocess.Popen([DSIM] + args + ["-o", out], cwd=tmp, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, env=sanitizer_env(None))
        time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        p.wait()
        r = dsim(*args, "-o", out, cwd=tmp)
        assert r.rc == 0, r
        for name in SWEEP_FILES:
            assert read(os.path.join(tmp, out, name)) == read(os.path.join(tmp, "whole", name)), \
                (delay, name)


def test_independent_seeds(tmp):
    f = write_phold(tmp)
    r = dsim("sweep", f, "--vary", "phold.lps=2,3", "--seeds", "2", "--independent-seeds",
             "--seed", "10", "-o", "s", "--no-plot", "--quiet", cwd=tmp)
    assert r.rc == 0, r
    rows = read_csv(os.path.join(tmp, "s", "runs.csv"))
    assert [x[2] for x in rows[1:]] == ["10", "11", "12", "13"], rows


def test_bad_input_exits_2_before_any_run(tmp):
    f = write_phold(tmp)
    cases = [
        (["--vary", "phold.lsp=1,2"], ["$.phold.lsp", "unknown key", "lps", "sweep point"]),
        (["--vary", "phold.lps=0,2"], ["$.phold.lps", "phold.lps=0"]),
        (["--vary", "phold.lps=3..1"], ["empty"]),
        (["--vary", "phold.lps=1..3:0"], ["step must be positive"]),
        (["--vary", "phold.mean=1ms..3ms"], ["needs a step"]),
        (["--vary", "phold.lps"], ["PATH=VALUES"]),
        (["--vary", "phold.lps=1,2", "--where", "lps >"], ["--where", "unexpected end"]),
        (["--vary", "phold.lps=1,2", "--where", "lsp > 1"], ["unknown name \"lsp\""]),
        (["--vary", "phold.lps=1,2", "--where", "lps = 1"], ["=="]),
        (["--vary", "phold.lps=1,2", "--where", "lps > 5"], ["no point"]),
        (["--vary", "phold.lps=1,2", "--vary", "phold.lps=3"], ["twice"]),
        (["--vary", "phold.lps=1,2", "--set", "phold.lps=3"], ["both varied and set"]),
        (["--set", "duration=2s", "--set", "phold.mean=1s", "--set", "phold.lps=3",
          "--vary", "phold.lps=1,2"], ["both varied and set"]),
        (["--vary", "seed=1,2"], ["--seeds"]),
        (["--vary", "phold.lps=1,2", "--seeds", "0"], ["--seeds"]),
        (["--vary", "phold.lps=1,2", "-j", "0"], ["-j"]),
        (["--vary", "phold.lps=1,2", "--bogus"], ["unknown option"]),
        ([], ["--vary"]),
    ]
    for extra, words in cases:
        r = dsim("sweep", f, *extra, "-o", "s", "--no-plot", cwd=tmp)
        expect_bad_input(r, *words)
        assert not os.path.exists(os.path.join(tmp, "s")), "output written for %r" % extra
    r = dsim("sweep", "missing.json", "--vary", "phold.lps=1", cwd=tmp)
    expect_bad_input(r, "missing.json")


def test_varying_a_limiter_key_its_algorithm_does_not_use_exits_2(tmp):
    # The token bucket reads rate_per_s, burst and tick; varying limit would
    # change nothing, so every point is refused before any run.
    scen = os.path.join(tmp, "w.json")
    with open(scen, "w") as f:
        f.write('{"model": "web", "duration": "2s", "web": {"users": {"count": 10},'
                ' "limiter": {"algorithm": "token_bucket", "rate_per_s": 5}}}')
    r = dsim("sweep", scen, "--vary", "web.limiter.limit=10,20", "-o", "s", "--no-plot", cwd=tmp)
    expect_bad_input(r, "$.web.limiter.limit", 'token_bucket does not use "limit"',
                     "sweep point web.limiter.limit=10")
    assert not os.path.exists(os.path.join(tmp, "s"))


def test_help_sweep_and_plot(tmp):
    r = dsim("help", "sweep", cwd=tmp)
    assert r.rc == 0 and "--vary" in r.out and "--where" in r.out and "-j" in r.out, r
    r = dsim("help", "plot", cwd=tmp)
    assert r.rc == 0 and r.out.startswith("usage: dsim plot DIR"), r
    r = dsim("help", cwd=tmp)
    assert "sweep FILE" in r.out and "plot DIR" in r.out, r


# ---------------------------------------------------------------- charts


def need_gnuplot():
    if not shutil.which("gnuplot"):
        raise Skip("gnuplot is not on the PATH")


def check_chart(folder, name):
    png = read(os.path.join(folder, name + ".png"))
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "%s.png is not a PNG" % name
    assert len(png) > 5000, "%s.png is only %d bytes" % (name, len(png))
    svg = read(os.path.join(folder, name + ".svg"))
    root = ET.fromstring(svg)  # raises if the SVG does not parse
    assert root.tag.endswith("svg"), (name, root.tag)
    assert len(svg) > 5000, "%s.svg is only %d bytes" % (name, len(svg))


def test_run_draws_charts(tmp):
    need_gnuplot()
    r = dsim("run", kv_quickstart(), *KV_SHORT, "-o", "r", cwd=tmp)
    assert r.rc == 0, r
    assert "charts: r/" in r.out, r
    for name in ("latency", "timeline", "per_node", "messages", "t_visibility", "spacetime"):
        check_chart(os.path.join(tmp, "r"), name)
    # The charts are made from files anyone can re-plot by hand.
    assert os.path.isfile(os.path.join(tmp, "r", "chart-data", "commands.txt"))
    # dsim plot draws them again; --no-plot draws none.
    r = dsim("plot", "r", cwd=tmp)
    assert r.rc == 0 and "spacetime" in r.out, r
    r = dsim("run", kv_quickstart(), *KV_SHORT, "-o", "q", "--no-plot", cwd=tmp)
    assert r.rc == 0 and "charts" not in r.out, r
    assert not os.path.exists(os.path.join(tmp, "q", "latency.png"))


def test_runs_without_reads_and_mq_runs_draw_timelines(tmp):
    need_gnuplot()
    # A kv run with no reads: its timeline (divergent keys) but no
    # t-visibility chart, and a line saying why.
    scen = os.path.join(SRCDIR, "scenarios", "kv", "anti-entropy-merkle.json")
    r = dsim("run", scen, "--set", "duration=8s", "-o", "w", cwd=tmp)
    assert r.rc == 0, r
    check_chart(os.path.join(tmp, "w"), "timeline")
    assert not os.path.exists(os.path.join(tmp, "w", "t_visibility.png"))
    assert "no t-visibility chart" in r.err, r
    # An mq run: the queues' timeline.
    scen = os.path.join(SRCDIR, "scenarios", "mq", "order-flow.json")
    r = dsim("run", scen, "-o", "m", cwd=tmp)
    assert r.rc == 0, r
    check_chart(os.path.join(tmp, "m"), "timeline")
    with open(os.path.join(tmp, "m", "chart-data", "timeline.csv")) as f:
        head = f.readline().strip().split(",")
    assert "lag: inventory" in head and "backlog: orders" in head, head
    # The panels' titles come from mq's chart table, the topic filled in.
    with open(os.path.join(tmp, "m", "chart-data", "timeline-panels.tsv")) as f:
        panels = [line.rstrip("\n").split("\t") for line in f][1:]
    assert ["backlog: orders", "messages waiting",
            "topic orders: messages queued, all partitions", "0", "0"] in panels, panels


def test_sweep_draws_charts(tmp):
    need_gnuplot()
    args = [a for a in KV_GRID if a != "--no-plot"]
    r = dsim("sweep", kv_quickstart(), *args, "-o", "s", cwd=tmp)
    assert r.rc == 0, r
    for name in ("t_visibility", "stale_heatmap", "tradeoff"):
        check_chart(os.path.join(tmp, "s"), name)


def test_web_run_and_sweep_draw_the_models_charts(tmp):
    need_gnuplot()
    # A web run: its timeline and per-server bars, from web's chart table
    # (no chart of the sweep kind in a run folder).
    scen = os.path.join(tmp, "w.json")
    with open(scen, "w") as f:
        f.write('{"model": "web", "duration": "10s", "web": {"users": {"count": 100},'
                ' "servers": {"count": 3}, "scale": [{"at": "5s", "action": "add"}]}}')
    r = dsim("run", scen, "-o", "w", cwd=tmp)
    assert r.rc == 0, r
    for name in ("timeline", "per_server"):
        check_chart(os.path.join(tmp, "w"), name)
    assert not os.path.exists(os.path.join(tmp, "w", "points.png"))
    # A sweep over the policy: one bar per point in each panel.
    r = dsim("sweep", scen, "--vary", "web.balancer.policy=round_robin,random,power_of_choices",
             "--seeds", "2", "-o", "s", cwd=tmp)
    assert r.rc == 0, r
    check_chart(os.path.join(tmp, "s"), "points")
    head, *rows = read_csv(os.path.join(tmp, "s", "chart-data", "points.csv"))
    assert head[:3] == ["point", "p99", "p99_ci95"], head
    assert [row[0] for row in rows] == [
        "policy=round_robin", "policy=random", "policy=power_of_choices"], rows
    avail = head.index("availability")
    assert all(float(row[avail]) == 100 for row in rows), rows


def test_without_gnuplot_the_csvs_stay(tmp):
    f = write_phold(tmp)
    env = {"PATH": os.path.join(tmp, "empty")}
    r = dsim("run", f, "-o", "r", cwd=tmp, env=env)
    assert r.rc == 0, r
    assert r.err.count("gnuplot is not on the PATH") == 1, r
    assert os.path.isfile(os.path.join(tmp, "r", "timeseries.csv"))
    r = dsim("run", f, "-o", "r", "--quiet", cwd=tmp, env=env)
    assert r.rc == 0 and r.err == "", r
    r = dsim("plot", "r", cwd=tmp, env=env)
    assert r.rc == 1 and "gnuplot is not on the PATH" in r.err, r


def test_plot_bad_input(tmp):
    r = dsim("plot", cwd=tmp)
    expect_bad_input(r, "folder")
    os.mkdir(os.path.join(tmp, "empty"))
    r = dsim("plot", "empty", cwd=tmp)
    expect_bad_input(r, "neither summary.json")
    r = dsim("plot", "empty", "--bogus", cwd=tmp)
    expect_bad_input(r, "unknown option")


# ---------------------------------------------------------------- MPI


def test_mpi_two_ranks_byte_identical(tmp):
    if not MPIEXEC:
        raise Skip("built without MPI")
    a = dsim("sweep", kv_quickstart(), *KV_GRID, "-o", "serial", cwd=tmp)
    assert a.rc == 0, a
    argv = [MPIEXEC, "-n", "2", "--oversubscribe"]
    if os.geteuid() == 0:
        argv.append("--allow-run-as-root")
    # Containers often forbid the shared-memory single copy (ptrace): off.
    env = {"OMPI_MCA_rmaps_base_oversubscribe": "1",
           "OMPI_MCA_btl_vader_single_copy_mechanism": "none"}
    r = run(argv + [DSIM_MPI, "sweep", kv_quickstart()] + KV_GRID + ["-o", "mpi"], tmp, env)
    assert r.rc == 0, r
    for f in SWEEP_FILES:
        assert read(os.path.join(tmp, "serial", f)) == read(os.path.join(tmp, "mpi", f)), f
    assert without_command(os.path.join(tmp, "serial", "sweep.json")) == \
        without_command(os.path.join(tmp, "mpi", "sweep.json"))
    # Bad input under MPI: status 2, said once.
    r = run(argv + [DSIM_MPI, "sweep", kv_quickstart(), "--vary", "kv.rr=1", "-o", "bad"], tmp,
            env)
    assert r.rc == 2, r
    assert r.err.count("unknown key") == 1, r


# ---------------------------------------------------------------- main


def main():
    global DSIM, SRCDIR, MPIEXEC, DSIM_MPI
    args = sys.argv[1:]
    filters = take_filters(args)
    if "--mpi" in args:
        i = args.index("--mpi")
        MPIEXEC, DSIM_MPI = args[i + 1], os.path.abspath(args[i + 2])
        del args[i:i + 3]
    if len(args) != 2:
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    DSIM, SRCDIR = os.path.abspath(args[0]), os.path.abspath(args[1])
    return run_tests(globals(), filters, "dsim_sweep_", count_skips=True)


if __name__ == "__main__":
    sys.exit(main())
