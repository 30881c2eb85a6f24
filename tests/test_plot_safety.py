#!/usr/bin/env python3
"""`dsim plot` on folders someone else wrote: nothing runs, nothing outside
the folder is written, a malformed folder is refused (docs/security.md).

usage: test_plot_safety.py DSIM SRCDIR [-k SUBSTR]...

Each hostile text below tries to get gnuplot to run `touch PWNED` (a
command, through system(), backticks, a macro or a broken quote); a test
passes only if no file named PWNED appears anywhere under its folder or the
folder dsim ran in, and the charts are still drawn.  The folder tests need
gnuplot (skipped without it); the malformed-folder tests do not draw and
need gnuplot only to get past its check.  Python 3 standard library only.
"""
import json
import os
import shutil
import stat
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dsim_testlib  # noqa: E402
from dsim_testlib import Skip, run_tests, sanitizer_env, take_filters  # noqa: E402

DSIM = SRCDIR = None
TIMEOUT_S = 300

# Texts that would run `touch PWNED` if pasted into gnuplot code anywhere:
# in double quotes, in single quotes, as a macro, by backticks, on a new line.
HOSTILE = [
    'n0" at 0,0; system("touch PWNED"); set label 9 "',
    "n0' at 0,0; system('touch PWNED'); set label 9 '",
    "n0`touch PWNED`",
    "n0\nsystem('touch PWNED')\n",
    "n0\\\"; system(\"touch PWNED\"); x=\"",
    "@hack; system('touch PWNED')",
    "n0\u001b[31m\"; system(\"touch PWNED\") #",
]
KV_SHORT = ["--set", "duration=4s", "--set", "faults[0].at=1s", "--set", "faults[1].at=2s",
            "--set", "kv.workload.rate_per_s=200"]


def dsim(*args, cwd, env_extra=None):
    env = sanitizer_env(env_extra, drop=("DSIM_NO_PLOT",))
    return dsim_testlib.run([DSIM] + list(args), cwd, TIMEOUT_S, env)


def need_gnuplot():
    if not shutil.which("gnuplot"):
        raise Skip("gnuplot is not on the PATH")


def assert_nothing_ran(*folders):
    for top in folders:
        for root, dirs, files in os.walk(top):
            assert "PWNED" not in files, "a command ran: %s/PWNED" % root


def write(folder, name, text):
    path = os.path.join(folder, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text if isinstance(text, str) else json.dumps(text))
    return path


def kv_folder(tmp, name, faults, duration="10s"):
    """A kv run's folder as someone might hand it out: a summary with the
    given faults and a timeseries with one timeline column."""
    d = os.path.join(tmp, name)
    os.makedirs(d)
    write(d, "summary.json", {"scenario": {"model": "kv", "duration": duration,
                                           "faults": faults}, "metrics": {}})
    write(d, "timeseries.csv", "time_s,kv.divergent_keys\n0,1\n1,2\n2,3\n")
    return d


def check_png(path):
    with open(path, "rb") as f:
        head = f.read(8)
    assert head == b"\x89PNG\r\n\x1a\n", path


# ---------------------------------------------------------------- injection


def test_summary_fault_labels_are_data(tmp):
    need_gnuplot()
    # The reproducer of the issue first, then every fault kind with a label.
    kinds = []
    for i, h in enumerate(HOSTILE):
        kinds += [
            [{"at": "1s", "crash": [h]}, {"at": "2s", "recover": [h]}],
            [{"at": "1s", "crash": h}],
            [{"at": "1s", "fail": ["n1", h]}, {"at": "3s", "replace": h}],
            [{"at": "1s", "slow": h, "factor": 5}],
            [{"at": "1s", "clock": h, "offset": "5ms"}],
            [{"at": "1s", "slow_link": {"from": h, "to": "n1"}, "factor": 3}],
            [{"at": "1s", "partition": [[h], ["n1"]]}, {"at": "2s", "heal": True}],
        ]
    for i, faults in enumerate(kinds):
        d = kv_folder(tmp, "f%d" % i, faults)
        r = dsim("plot", d, cwd=tmp)
        assert r.rc == 0, (faults, r)
        check_png(os.path.join(d, "timeline.png"))
        assert_nothing_ran(tmp)
        # The labels went into a data file, cleaned to one field.
        with open(os.path.join(d, "chart-data", "faults.csv")) as f:
            wins = f.read()
        with open(os.path.join(d, "chart-data", "marks.csv")) as f:
            marks = f.read()
        for text in (wins, marks):
            assert '"' not in text and "\\" not in text, text
            assert all(len(line.split(",")) in (2, 5) for line in text.splitlines()), text


def test_output_folder_names_are_data(tmp):
    need_gnuplot()
    scen = os.path.join(SRCDIR, "scenarios", "kv", "quickstart.json")
    for i, name in enumerate(["x'; system('touch PWNED'); y='", "O'Brien/run",
                              'q"; system("touch PWNED"); "', "back`touch PWNED`tick",
                              "semi;colon system(1)"]):
        base = os.path.join(tmp, "o%d" % i)
        os.makedirs(base)
        r = dsim("run", scen, *KV_SHORT, "-o", name, cwd=base)
        assert r.rc == 0, (name, r)
        assert_nothing_ran(base)
        # Every chart of the run, the space-time diagram included.
        for chart in ("latency", "timeline", "per_node", "messages", "spacetime"):
            check_png(os.path.join(base, name, chart + ".png"))
        r = dsim("plot", name, cwd=base)
        assert r.rc == 0, (name, r)
        assert_nothing_ran(base)


def test_names_in_histograms_messages_and_sweeps_are_data(tmp):
    need_gnuplot()
    d = kv_folder(tmp, "h", [])
    h = HOSTILE[0]
    write(d, "summary.json", {"scenario": {"model": "kv", "duration": "2s"}, "metrics": {
        "histograms": {h: {"unit": "ns", "count": 2}},
        "messages": {h: {"sent": 5, "delivered": 4, "dropped": 1, "bytes": 100}}}})
    write(d, "histograms.csv", 'name,upper,count\n"%s",1000000,1\n"%s",2000000,1\n'
          % (h.replace('"', '""'), h.replace('"', '""')))
    r = dsim("plot", d, cwd=tmp)
    assert r.rc == 0, r
    for chart in ("latency", "messages"):
        check_png(os.path.join(d, chart + ".png"))
    assert_nothing_ran(tmp)


def test_sweep_folder_names_and_values_are_data(tmp):
    need_gnuplot()
    scen = os.path.join(SRCDIR, "scenarios", "kv", "quickstart.json")
    name = "sw'; system('touch PWNED'); x='"
    r = dsim("sweep", scen, *KV_SHORT, "--vary", "kv.r=1..2", "--vary", "kv.w=1..2",
             "--seeds", "2", "-o", name, cwd=tmp)
    assert r.rc == 0, r
    for chart in ("t_visibility", "stale_heatmap", "tradeoff"):
        check_png(os.path.join(tmp, name, chart + ".png"))
    assert_nothing_ran(tmp)
    # The sweep's tables edited: hostile values of the varied parameters
    # become the points' labels (tradeoff, t_visibility), as data.
    d = os.path.join(tmp, name)
    for table in ("points.csv", "t_visibility.csv"):
        with open(os.path.join(d, table)) as f:
            lines = f.read().split("\n")
        head = lines[0].split(",")
        col = head.index("kv.r")
        for i in range(1, len(lines)):
            cells = lines[i].split(",")
            if len(cells) == len(head):
                cells[col] = '"%s"' % HOSTILE[i % len(HOSTILE)].replace('"', '""')
                lines[i] = ",".join(cells)
        with open(os.path.join(d, table), "w") as f:
            f.write("\n".join(lines))
    r = dsim("plot", d, cwd=tmp)
    assert r.rc == 0, r
    check_png(os.path.join(d, "tradeoff.png"))
    check_png(os.path.join(d, "t_visibility.png"))
    assert_nothing_ran(tmp)


# ---------------------------------------------------------------- links


def test_outputs_never_follow_links(tmp):
    need_gnuplot()
    outside = os.path.join(tmp, "outside")
    os.makedirs(outside)
    victim = write(outside, "victim.txt", "precious\n")
    d = kv_folder(tmp, "l", [{"at": "1s", "crash": "n0"}])
    # Links planted where dsim plot writes: an image, chart-data itself,
    # then (in a real chart-data) its log and a data file.
    os.symlink(victim, os.path.join(d, "timeline.png"))
    os.symlink(outside, os.path.join(d, "chart-data"))
    r = dsim("plot", d, cwd=tmp)
    assert r.rc == 0, r
    assert not os.path.islink(os.path.join(d, "chart-data")), "chart-data is still a link"
    check_png(os.path.join(d, "timeline.png"))
    for name in ("gnuplot.log", "faults.csv", "commands.txt", "timeline.csv"):
        p = os.path.join(d, "chart-data", name)
        os.remove(p)
        os.symlink(victim, p)
    hard = os.path.join(d, "chart-data", "marks.csv")
    os.remove(hard)
    os.link(victim, hard)
    r = dsim("plot", d, cwd=tmp)
    assert r.rc == 0, r
    with open(victim) as f:
        assert f.read() == "precious\n", "a link was followed"
    assert sorted(os.listdir(outside)) == ["victim.txt"], os.listdir(outside)
    # dsim run: summary.json and the trace planted as links.
    scen = os.path.join(SRCDIR, "scenarios", "kv", "quickstart.json")
    run = os.path.join(tmp, "run")
    os.makedirs(run)
    for name in ("summary.json", "trace.jsonl", "timeseries.csv"):
        os.symlink(victim, os.path.join(run, name))
    r = dsim("run", scen, *KV_SHORT, "--trace", "-o", run, cwd=tmp)
    assert r.rc == 0, r
    with open(victim) as f:
        assert f.read() == "precious\n", "dsim run followed a link"
    assert not os.path.islink(os.path.join(run, "summary.json"))


def test_sweep_outputs_never_follow_links(tmp):
    outside = os.path.join(tmp, "outside")
    os.makedirs(outside)
    victim = write(outside, "victim.txt", "precious\n")
    s = os.path.join(tmp, "s")
    os.makedirs(s)
    os.symlink(outside, os.path.join(s, "runs"))
    for name in ("points.csv", "runs.csv", "sweep.json"):
        os.symlink(victim, os.path.join(s, name))
    scen = os.path.join(SRCDIR, "scenarios", "kv", "quickstart.json")
    r = dsim("sweep", scen, *KV_SHORT, "--vary", "kv.r=1..2", "--seeds", "2", "--no-plot",
             "-o", s, cwd=tmp)
    assert r.rc == 0, r
    with open(victim) as f:
        assert f.read() == "precious\n", "dsim sweep followed a link"
    assert sorted(os.listdir(outside)) == ["victim.txt"], os.listdir(outside)


# ---------------------------------------------------------------- malformed


def expect_refused(r, *words):
    assert r.rc == 2, r
    lines = r.err.strip().split("\n")
    assert len(lines) == 1 and lines[0].startswith("dsim: "), "not one message: %r" % r
    assert "Traceback" not in r.err and "Sanitizer" not in r.err, r
    for w in words:
        assert w in r.err, (w, r)


MALFORMED = [
    ({"summary.json": "{not json"}, ["summary.json:1", "not valid JSON"]),
    ({"summary.json": "[1, 2]"}, ["$: must be an object"]),
    ({"summary.json": {"metrics": {}}}, ["$.scenario: missing"]),
    ({"summary.json": {"scenario": {"model": 7}}}, ["$.scenario.model: must be"]),
    ({"summary.json": {"scenario": {"model": "nosuch"}}}, ["not a model"]),
    ({"summary.json": {"scenario": {"model": "kv", "duration": "10s", "faults": {}}}},
     ["$.scenario.faults: must be a list"]),
    ({"summary.json": {"scenario": {"model": "kv", "duration": "10s", "faults": [3]}}},
     ["$.scenario.faults[0]: must be an object"]),
    ({"summary.json": {"scenario": {"model": "kv", "duration": "10s",
                                    "faults": [{"at": "soon", "crash": "n0"}]}}},
     ["$.scenario.faults[0].at: not a time"]),
    ({"summary.json": {"scenario": {"model": "kv", "duration": "10s",
                                    "faults": [{"at": "1s", "crash": [1, 2]}]}}},
     ["$.scenario.faults[0]: the nodes must be names"]),
    ({"summary.json": {"scenario": {"model": "kv", "faults": [{"at": "1s", "crash": "n0"}]}}},
     ["$.scenario.duration: missing"]),
    ({"summary.json": {"scenario": {"model": "kv"}, "metrics": []}}, ["$.metrics: must be"]),
    ({"summary.json": {"scenario": {"model": "kv"}, "metrics": {"histograms": {"h": 3}}}},
     ["$.metrics.histograms.h: must be an object"]),
    ({"summary.json": {"scenario": {"model": "kv"},
                       "metrics": {"histograms": {"h": {"count": "many"}}}}},
     ["$.metrics.histograms.h.count: must be a number"]),
    ({"summary.json": {"scenario": {"model": "kv"},
                       "metrics": {"messages": {"put": {"sent": "x"}}}}},
     ["$.metrics.messages.put.sent: must be a number"]),
    ({"summary.json": {"scenario": {"model": "kv"}}, "timeseries.csv": "time_s,a\n0,1\n1\n"},
     ["timeseries.csv:3: 1 fields, but the header has 2"]),
    ({"summary.json": {"scenario": {"model": "kv"}}, "timeseries.csv": "time_s,a\n0,x\n"},
     ["timeseries.csv:2: column 2", "not a number"]),
    ({"summary.json": {"scenario": {"model": "kv"}}, "timeseries.csv": "time_s,a\n0,nan\n"},
     ["timeseries.csv:2", "not a number"]),
    ({"summary.json": {"scenario": {"model": "kv"}}, "timeseries.csv": "a,b\n0,1\n"},
     ["timeseries.csv:1: no time_s column"]),
    ({"summary.json": {"scenario": {"model": "kv"}}, "timeseries.csv": "time_s,a,a\n0,1,1\n"},
     ["timeseries.csv:1", "appears twice"]),
    ({"summary.json": {"scenario": {"model": "kv"}}, "timeseries.csv": 'time_s,"a\n0,1\n'},
     ["timeseries.csv:1: a quoted field is not closed"]),
    ({"summary.json": {"scenario": {"model": "kv"}}, "timeseries.csv": ""},
     ["timeseries.csv: empty"]),
    ({"summary.json": {"scenario": {"model": "kv"}}, "timeseries.csv": "time_s,a\n,1\n"},
     ["timeseries.csv:2: time_s is empty"]),
    ({"summary.json": {"scenario": {"model": "kv"},
                       "metrics": {"histograms": {"h": {"unit": "ns", "count": 1}}}},
      "histograms.csv": "name,count\nh,1\n"}, ["histograms.csv: the columns"]),
    ({"summary.json": {"scenario": {"model": "kv"}}, "per_node.csv": "node,keys\nn0\n"},
     ["per_node.csv:2"]),
    ({"summary.json": {"scenario": {"model": "kv"}},
      "t_visibility.csv": "t_to_s,reads,consistent\n1,x,1\n"}, ["t_visibility.csv:2"]),
    ({"sweep.json": {"vary": 3}}, ["sweep.json: $.vary: must be"]),
    ({"sweep.json": {"vary": [{"path": 1}]}}, ["sweep.json: $.vary[0].path: must be"]),
    ({"sweep.json": {"vary": [{"path": "kv.r"}]}, "points.csv": "point,kv.r,m\n0,1,x\n"},
     ["points.csv:2: column 3"]),
]


def test_malformed_folders_are_refused(tmp):
    need_gnuplot()
    for i, (files, words) in enumerate(MALFORMED):
        d = os.path.join(tmp, "m%d" % i)
        os.makedirs(d)
        for name, text in files.items():
            write(d, name, text)
        r = dsim("plot", d, cwd=tmp)
        expect_refused(r, *words)


def test_partial_folder_does_not_crash(tmp):
    need_gnuplot()
    # The reproducer of the issue: kv.reads and no other timeline column.
    d = os.path.join(tmp, "p")
    os.makedirs(d)
    write(d, "summary.json", {"scenario": {"model": "kv"}})
    write(d, "timeseries.csv", "time_s,kv.reads\n0,0\n1,5\n")
    r = dsim("plot", d, cwd=tmp)
    assert r.rc == 0 and "no chart applies" in r.out, r
    # Columns present but no value: no panel, no crash.
    write(d, "timeseries.csv", "time_s,kv.reads,kv.stale_reads,kv.writes,kv.failed_ops\n0,,,,\n")
    r = dsim("plot", d, cwd=tmp)
    assert r.rc == 0, r


def test_special_files_are_refused_without_hanging(tmp):
    need_gnuplot()
    d = os.path.join(tmp, "fifo")
    os.makedirs(d)
    os.mkfifo(os.path.join(d, "summary.json"))
    r = dsim("plot", d, cwd=tmp)
    expect_refused(r, "summary.json", "not a regular file")
    # A file past the size limit (sparse: nothing is written to disk).
    d = os.path.join(tmp, "big")
    os.makedirs(d)
    write(d, "summary.json", {"scenario": {"model": "kv"}})
    with open(os.path.join(d, "timeseries.csv"), "w") as f:
        f.truncate(300 << 20)
    r = dsim("plot", d, cwd=tmp)
    expect_refused(r, "timeseries.csv", "larger than")
    assert stat.S_ISREG(os.stat(os.path.join(d, "timeseries.csv")).st_mode)


def main():
    global DSIM, SRCDIR
    args = sys.argv[1:]
    filters = take_filters(args)
    if len(args) != 2:
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    DSIM, SRCDIR = os.path.abspath(args[0]), os.path.abspath(args[1])
    return run_tests(globals(), filters, "dsim_plot_safety_", count_skips=True)


if __name__ == "__main__":
    sys.exit(main())
