#!/usr/bin/env python3
"""report.html: written for every shipped scenario, self-contained, hostile
text escaped, bounded in size, never written through a link
(docs/report.md, docs/security.md).

usage: test_report.py DSIM SRCDIR [-k SUBSTR]...

A page is "self-contained" when nothing in it names the network: no
http:// or https:// anywhere (the charts are base64 data: images, so not
even an SVG namespace shows), every src and href is a data: URI or a #
anchor, and there is no <link>, @import, url(), fetch, XMLHttpRequest,
WebSocket or import().  Python 3 standard library only.
"""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dsim_testlib  # noqa: E402
from dsim_testlib import run_tests, sanitizer_env, take_filters  # noqa: E402

DSIM = SRCDIR = None
TIMEOUT_S = 300
# The page's bound (cli/report.c): charts at most 8 MiB before base64, the
# rest well under 2 MiB.
MAX_PAGE_BYTES = 14 << 20
HOSTILE = "</script><script>alert(1)</script><img src=x onerror=alert(2)>\u2028&amp;'\""


def dsim(*args, cwd, env_extra=None, plot=False):
    env = sanitizer_env(None, drop=("DSIM_NO_PLOT", "DSIM_NO_REPORT"))
    if not plot:
        env["DSIM_NO_PLOT"] = "1"
    env.update(env_extra or {})
    return dsim_testlib.run([DSIM] + list(args), cwd, TIMEOUT_S, env)


def shipped_scenarios():
    """Every shipped scenario, with the benchmarks shortened (as make valgrind)."""
    out = []
    top = os.path.join(SRCDIR, "scenarios")
    for root, _, files in sorted(os.walk(top)):
        for f in sorted(files):
            if not f.endswith(".json"):
                continue
            path = os.path.join(root, f)
            rel = os.path.relpath(path, top)
            extra = []
            if rel == os.path.join("bench", "phold.json"):
                extra = ["--set", "duration=20s"]
            elif rel.startswith("bench" + os.sep):
                extra = ["--set", "duration=200ms"]
            out.append((rel, path, extra))
    return out


def make_report(tmp, rel, path, extra, plot=False):
    """Runs one scenario into tmp/<name>/ and returns the folder."""
    out = os.path.join(tmp, rel.replace(os.sep, "_")[:-5])
    r = dsim("run", path, *extra, "-o", out, "--quiet", cwd=tmp, plot=plot)
    assert r.rc == 0, r
    return out


def page_data(html):
    m = re.search(r'<script type="application/json" id="dsim-data">(.*?)</script>', html, re.S)
    assert m, "no data element"
    return json.loads(m.group(1))


def assert_self_contained(html, where, scripts=2):
    for bad in ("http://", "https://", "<link", "@import", "url(", "fetch(", "XMLHttpRequest",
                "WebSocket", "import(", "<iframe", "<object", "<embed"):
        assert bad not in html, "%s: the page holds %r" % (where, bad)
    for m in re.finditer(r'\b(src|href|action)\s*=\s*"([^"]*)"', html):
        v = m.group(2)
        assert v.startswith("data:image/svg+xml;base64,") or v.startswith("#"), \
            "%s: %s=%r" % (where, m.group(1), v[:80])
    # Two scripts exactly: the data and the page's own.
    assert html.count("<script") == scripts and html.count("</script") == scripts, \
        "%s: %d <script" % (where, html.count("<script"))
    assert "default-src 'none'" in html, where


def assert_data_element_inert(html):
    """The data element cannot be closed from inside: no < or > or & and
    no U+2028/2029 in it at all (they are \\u escapes)."""
    m = re.search(r'id="dsim-data">(.*?)</script>', html, re.S)
    for ch in "<>&\u2028\u2029":
        assert ch not in m.group(1), "%r in the data element" % ch


def check_page(folder, where):
    path = os.path.join(folder, "report.html")
    assert os.path.isfile(path) and not os.path.islink(path), "%s: no report.html" % where
    size = os.path.getsize(path)
    assert size <= MAX_PAGE_BYTES, "%s: report.html is %d bytes" % (where, size)
    with open(path, encoding="utf-8") as f:
        html = f.read()
    assert_self_contained(html, where)
    data = page_data(html)
    for sec in ("what", "faults", "metrics", "diagram", "charts"):
        assert '<section id="%s">' % sec in html, "%s: no section %s" % (where, sec)
    return html, data


def test_report_for_every_shipped_scenario(tmp):
    for rel, path, extra in shipped_scenarios():
        folder = make_report(tmp, rel, path, extra)
        html, data = check_page(folder, rel)
        model = data["model"]
        if model in ("kv", "mq", "gossip"):
            assert "msgs" in data, "%s: no diagram data: %s" % (rel, data.get("unavailable"))
            assert data["window"]["same_run"] or not data["window"]["whole_run"], rel
            assert len(data["msgs"]) <= 3000, rel
        sec = {"kv": "stale", "mq": "lifecycle", "gossip": "rumour"}.get(model)
        if sec:
            assert '<section id="%s">' % sec in html, "%s: no section %s" % (rel, sec)


def test_quickstart_report_tells_stale_reads_and_inlines_charts(tmp):
    path = os.path.join(SRCDIR, "scenarios", "kv", "quickstart.json")
    folder = make_report(tmp, "kv/quickstart.json", path, [], plot=True)
    html, data = check_page(folder, "quickstart")
    assert html.count('<li data-t="') >= 20, "stale reads not listed"
    assert "The write it missed" in html and "Who answered" in html
    assert any(m[8] & 2 for m in data["msgs"]), "no stale read in the diagram's window"
    svgs = sorted(f for f in os.listdir(folder) if f.endswith(".svg"))
    if svgs:  # gnuplot is there
        assert html.count('<img alt="') == len(svgs), (svgs, html.count("<img"))


def test_report_rebuilt_by_dsim_report(tmp):
    path = os.path.join(SRCDIR, "scenarios", "mq", "order-flow.json")
    folder = make_report(tmp, "mq/order-flow.json", path, [])
    os.remove(os.path.join(folder, "report.html"))
    r = dsim("report", folder, cwd=tmp)
    assert r.rc == 0 and r.out == "report: %s/report.html\n" % folder, r
    check_page(folder, "rebuilt")


def test_hostile_description_and_name_stay_text(tmp):
    sc = {"name": "evil", "description": HOSTILE, "model": "kv", "duration": "2s",
          "nodes": [{"group": "n", "count": 3}],
          "kv": {"n": 3, "r": 1, "w": 1, "workload": {"clients": 1, "rate_per_s": 50}}}
    f = os.path.join(tmp, "evil.json")
    with open(f, "w") as fh:
        json.dump(sc, fh)
    folder = os.path.join(tmp, "out")
    r = dsim("run", f, "-o", folder, "--quiet", cwd=tmp)
    assert r.rc == 0, r
    html, data = check_page(folder, "hostile description")
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert_data_element_inert(html)


def test_hostile_file_name_in_folder_stays_text(tmp):
    path = os.path.join(SRCDIR, "scenarios", "gossip", "partition-heal.json")
    folder = make_report(tmp, "gossip/partition-heal.json", path, [])
    name = 'x"><img src=y onerror=alert(1)>.svg'
    with open(os.path.join(folder, name), "w") as fh:
        fh.write('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(3)</script></svg>')
    r = dsim("report", folder, "--quiet", cwd=tmp)
    assert r.rc == 0, r
    html, _ = check_page(folder, "hostile file name")
    assert "<img src=y" not in html and "alert(3)" not in html
    assert "x&quot;&gt;&lt;img src=y onerror=alert(1)&gt;.svg" in html


def test_report_refuses_to_write_through_a_link(tmp):
    path = os.path.join(SRCDIR, "scenarios", "gossip", "partition-heal.json")
    folder = make_report(tmp, "gossip/partition-heal.json", path, [])
    target = os.path.join(tmp, "precious.txt")
    with open(target, "w") as fh:
        fh.write("keep me\n")
    page = os.path.join(folder, "report.html")
    os.remove(page)
    os.symlink(target, page)
    r = dsim("report", folder, "--quiet", cwd=tmp)
    assert r.rc == 0, r
    with open(target) as fh:
        assert fh.read() == "keep me\n", "the link's target was written"
    assert not os.path.islink(page) and os.path.isfile(page)
    # A chart that is a link is not read either.
    os.symlink(target, os.path.join(folder, "leak.svg"))
    r = dsim("report", folder, "--quiet", cwd=tmp)
    assert r.rc == 0, r
    with open(page) as fh:
        html = fh.read()
    assert "leak.svg" not in html and "1 SVG file(s) left out" in html


def test_report_of_a_folder_that_is_not_a_run(tmp):
    empty = os.path.join(tmp, "empty")
    os.mkdir(empty)
    r = dsim("report", empty, cwd=tmp)
    assert r.rc == 2 and r.err.count("\n") == 1 and "summary.json" in r.err, r
    bad = os.path.join(tmp, "bad")
    os.mkdir(bad)
    with open(os.path.join(bad, "summary.json"), "w") as fh:
        fh.write('{"scenario": 3}')
    r = dsim("report", bad, cwd=tmp)
    assert r.rc == 2 and "not a run's summary" in r.err, r
    r = dsim("report", os.path.join(tmp, "missing"), cwd=tmp)
    assert r.rc == 2, r
    # A scenario that no longer loads: still a page, which says why.
    odd = os.path.join(tmp, "odd")
    os.mkdir(odd)
    with open(os.path.join(odd, "summary.json"), "w") as fh:
        json.dump({"scenario": {"model": "kv", "duration": HOSTILE, "name": HOSTILE}}, fh)
    r = dsim("report", odd, "--quiet", cwd=tmp)
    assert r.rc == 0, r
    html, data = check_page(odd, "odd")
    assert "unavailable" in data and "<script>alert" not in html, data
    assert_data_element_inert(html)


def test_long_run_page_is_bounded(tmp):
    path = os.path.join(SRCDIR, "scenarios", "kv", "quickstart.json")
    folder = os.path.join(tmp, "long")
    r = dsim("run", path, "--set", "duration=400s", "--set", "kv.workload.stop=400s",
             "-o", folder, "--quiet", cwd=tmp)
    assert r.rc == 0, r
    html, data = check_page(folder, "long run")
    w = data["window"]
    assert not w["whole_run"] and w["events"] == 1000000, w
    assert len(data["msgs"]) == 3000 and len(data["logs"]) <= 3000, w
    assert os.path.getsize(os.path.join(folder, "report.html")) < 3 << 20


def test_no_report_when_switched_off(tmp):
    path = os.path.join(SRCDIR, "scenarios", "gossip", "partition-heal.json")
    folder = os.path.join(tmp, "off")
    r = dsim("run", path, "-o", folder, "--quiet", cwd=tmp, env_extra={"DSIM_NO_REPORT": "1"})
    assert r.rc == 0 and not os.path.exists(os.path.join(folder, "report.html")), r


def run_with_input(args, cwd, text):
    env = sanitizer_env(None, drop=("DSIM_NO_REPORT",))
    env["DSIM_NO_PLOT"] = "1"
    p = subprocess.run([DSIM] + args, cwd=cwd, input=text.encode(), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=env, timeout=TIMEOUT_S)
    err = p.stderr.decode("utf-8", "replace")
    assert not any(m in err for m in dsim_testlib.SANITIZER_MARKS), err
    return p.returncode, p.stdout.decode("utf-8", "replace"), err


def test_predict_asks_then_grades_and_the_report_shows_it(tmp):
    path = os.path.join(SRCDIR, "scenarios", "kv", "quickstart.json")
    folder = os.path.join(tmp, "q")
    rc, out, err = run_with_input(["run", path, "-o", folder, "--predict"], tmp, "0.01\n30%\n")
    assert rc == 0, (out, err)
    assert "1. Before the partition" in out and "your prediction:" in out, out
    assert "1 of 2 right (2 answered)" in out, out
    with open(os.path.join(folder, "predictions.json")) as f:
        pred = json.load(f)
    q = pred["questions"]
    assert [x["answer"] for x in q] == [0.01, 0.3], q
    assert q[0]["correct"] is True and q[1]["correct"] is False, q
    assert 0.15 < q[1]["measured"] < 0.3, q
    html, _ = check_page(folder, "predict")
    assert '<section id="predict">' in html and "The prediction made with" in html
    assert "not right." in html and "<b>Why:</b>" in html
    # No answer on stdin: the questions stay unanswered, the run goes on.
    rc, out, err = run_with_input(["run", path, "-o", folder, "--predict", "--quiet"], tmp, "")
    assert rc == 0, (out, err)
    with open(os.path.join(folder, "predictions.json")) as f:
        assert [x["answer"] for x in json.load(f)["questions"]] == [None, None]
    # Without --predict the page still asks the questions, answers folded.
    r = dsim("run", path, "-o", os.path.join(tmp, "plain"), "--quiet", cwd=tmp)
    assert r.rc == 0, r
    html, _ = check_page(os.path.join(tmp, "plain"), "plain")
    assert '<section id="predict">' in html and "<summary>The answer</summary>" in html


def test_grade_a_folder_of_answers(tmp):
    path = os.path.join(SRCDIR, "scenarios", "kv", "quickstart.json")
    run = os.path.join(tmp, "run")
    r = dsim("run", path, "-o", run, "--quiet", cwd=tmp)
    assert r.rc == 0, r
    ans = os.path.join(tmp, "answers")
    os.mkdir(ans)
    for name, body in (("alice.json", '{"answers": [0, 0.2]}'),
                       ('bob"\x1b[31m.json', '{"answers": [0.5, null]}'),
                       ("carol.json", "not json")):
        with open(os.path.join(ans, name), "w") as f:
            f.write(body)
    r = dsim("grade", run, ans, cwd=tmp)
    assert r.rc == 0, r
    assert "alice.json: q1 right q2 right (2 of 2 right)" in r.out, r
    assert "\x1b" not in r.out and "q1 wrong q2 - (0 of 2 right)" in r.out, r
    assert "carol.json: not an answer file (skipped)" in r.out, r
    with open(os.path.join(ans, "grades.csv")) as f:
        rows = f.read().splitlines()
    assert rows[0] == "file,question,answer,measured,correct" and len(rows) == 5, rows
    r = dsim("grade", run, cwd=tmp)
    assert r.rc == 2, r
    other = os.path.join(tmp, "mq")
    r = dsim("run", os.path.join(SRCDIR, "scenarios", "mq", "order-flow.json"), "-o", other,
             "--quiet", cwd=tmp)
    r = dsim("grade", other, ans, cwd=tmp)
    assert r.rc == 2 and "no questions" in r.err, r


def test_sweep_report_heat_map_frontier_and_points(tmp):
    path = os.path.join(SRCDIR, "scenarios", "kv", "quickstart.json")
    folder = os.path.join(tmp, "sw")
    r = dsim("sweep", path, "--vary", "kv.r=1..2", "--vary", "kv.w=1..2", "--seeds", "2",
             "--set", "duration=4s", "--set", "faults[0].at=1s", "--set", "faults[1].at=2s",
             "--set", "description=" + HOSTILE, "-o", folder, "--quiet", cwd=tmp)
    assert r.rc == 0, r
    page = os.path.join(folder, "report.html")
    with open(page, encoding="utf-8") as f:
        html = f.read()
    assert_self_contained(html, "sweep", scripts=0)
    assert "&lt;/script&gt;&lt;script&gt;alert(1)" in html and "<img src=x" not in html
    assert '<table class="heat">' in html and html.count("<td style=\"background:") == 4
    assert html.count("--seed 1 -o out/point-") == 4, "a run command per point"
    assert "\u2605 on it" in html, "no point on the frontier"
    # Rebuilt by dsim report, through a link planted at report.html.
    target = os.path.join(tmp, "precious.txt")
    with open(target, "w") as fh:
        fh.write("keep\n")
    os.remove(page)
    os.symlink(target, page)
    r = dsim("report", folder, "--quiet", cwd=tmp)
    assert r.rc == 0 and not os.path.islink(page), r
    with open(target) as fh:
        assert fh.read() == "keep\n"


def main():
    global DSIM, SRCDIR
    args = sys.argv[1:]
    filters = take_filters(args)
    if len(args) != 2:
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    DSIM, SRCDIR = os.path.abspath(args[0]), os.path.abspath(args[1])
    return run_tests(globals(), filters, "dsim_report_")


if __name__ == "__main__":
    sys.exit(main())
