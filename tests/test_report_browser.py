#!/usr/bin/env python3
"""report.html in a real browser: headless Chromium loads every shipped
scenario's page with the network cut off; no console message, no error, no
request leaves the page, the time slider moves and the diagram changes, and
the page has the structure it should (sections, one image per chart, a lane
per node in the diagram, one line per message).  A few pages are also
rendered to a screenshot, checked for its size only: structure, not pixels.

usage: test_report_browser.py DSIM SRCDIR [-k SUBSTR]...

Needs Chromium (Debian's `chromium`; scripts/install-deps --browser): without
it the test says so and exits 77, which ctest counts as skipped.  The page
runs its own self-test when opened with #selftest (cli/report.js): it moves
the slider over five positions and writes what the diagram showed at each
to <body data-selftest>, which --dump-dom prints.  Python 3 standard
library only.
"""
import concurrent.futures
import html.parser
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_report  # noqa: E402
from dsim_testlib import take_filters  # noqa: E402

SKIP = 77
# Requests the browser makes by itself (updates, time, accounts), not the
# page's: the network is cut off for them too.
BROWSER_HOSTS = ("google.com", "googleapis.com", "gvt1.com", "gstatic.com")
SCREENSHOTS = ("kv/quickstart.json", "mq/order-flow.json", "gossip/partition-heal.json")


def find_chromium():
    for name in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def chromium(browser, tmp, url, extra):
    """Runs headless Chromium on url with the network cut off; returns
    (stdout, stderr, urls requested)."""
    prof = tempfile.mkdtemp(prefix="prof", dir=tmp)
    netlog = os.path.join(prof, "net.json")
    argv = [browser, "--headless", "--disable-gpu", "--no-sandbox", "--user-data-dir=" + prof,
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--disable-default-apps", "--disable-extensions",
            "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9",
            "--log-net-log=" + netlog, "--enable-logging=stderr", "--v=0"] + extra + [url]
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120)
    urls = []
    if os.path.exists(netlog):
        with open(netlog, encoding="utf-8", errors="replace") as f:
            urls = re.findall(r'"url":"([^"]*)"', f.read())
    shutil.rmtree(prof, ignore_errors=True)
    return (p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace"), urls)


class Dom(html.parser.HTMLParser):
    """What the checks need of the dumped DOM."""

    def __init__(self):
        super().__init__()
        self.body = {}
        self.sections = []
        self.images = []
        self.lane_count = None
        self.svg_lines = 0
        self.in_st = False
        self.stale_items = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "body":
            self.body = a
        elif tag == "section":
            self.sections.append(a.get("id"))
        elif tag == "img":
            self.images.append(a.get("src", ""))
        elif tag == "svg" and a.get("id") == "st-svg":
            self.lane_count = int(a.get("data-lanes", "0"))
            self.in_st = True
        elif tag == "line" and self.in_st and "msg" in a.get("class", ""):
            self.svg_lines += 1
        elif tag == "li" and "data-key" in a:
            self.stale_items += 1

    def handle_endtag(self, tag):
        if tag == "svg":
            self.in_st = False


def check(browser, tmp, rel, folder):
    """Loads one page; returns a list of problems (empty if none)."""
    page = os.path.join(folder, "report.html")
    url = "file://" + page + "#selftest"
    out, err, urls = chromium(browser, tmp, url, ["--dump-dom"])
    problems = []
    console = [ln for ln in err.splitlines() if ":CONSOLE" in ln]
    if console:
        problems.append("console: %s" % console[:3])
    theirs = [u for u in urls if not u.startswith(("file:", "data:")) and
              not any(re.match(r"^https?://([^/]*\.)?%s/" % re.escape(h), u)
                      for h in BROWSER_HOSTS)]
    if theirs:
        problems.append("requests: %s" % theirs[:3])
    dom = Dom()
    dom.feed(out)
    b = dom.body
    if b.get("data-ready") != "1":
        problems.append("the script did not finish (body %s)" % b)
    if b.get("data-errors") != "0":
        problems.append("errors: %s" % b.get("data-error-text"))
    if not b.get("data-selftest", "").startswith("pass"):
        problems.append("self-test: %s" % b.get("data-selftest"))
    with open(page, encoding="utf-8") as f:
        data = test_report.page_data(f.read())
    for sec in ("what", "faults", "metrics", "diagram", "charts"):
        if sec not in dom.sections:
            problems.append("no section %s" % sec)
    svgs = [f for f in os.listdir(folder) if f.endswith(".svg")]
    if len(dom.images) != len(svgs):
        problems.append("%d images for %d charts" % (len(dom.images), len(svgs)))
    if any(not s.startswith("data:image/svg+xml;base64,") for s in dom.images):
        problems.append("an image that is not a data: URI")
    if data.get("msgs"):
        if b.get("data-diagram") != "ready" or not dom.lane_count:
            problems.append("no diagram drawn")
        if dom.svg_lines != len(data["msgs"]):
            problems.append("%d message lines for %d messages" % (dom.svg_lines,
                                                                   len(data["msgs"])))
    if data["model"] == "kv":
        with open(os.path.join(folder, "summary.json")) as f:
            stale = json.load(f)["metrics"]["model"].get("stale_reads", 0)
        if stale and not dom.stale_items:
            problems.append("kv: %d stale reads, none listed" % stale)
    if rel in SCREENSHOTS:
        shot = os.path.join(tmp, rel.replace(os.sep, "_") + ".png")
        chromium(browser, tmp, "file://" + page,
                 ["--hide-scrollbars", "--window-size=1280,2400", "--screenshot=" + shot])
        try:
            with open(shot, "rb") as f:
                head = f.read(24)
            ok = head[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", head[16:24]) == (1280,
                                                                                          2400)
        except OSError:
            ok = False
        if not ok:
            problems.append("no screenshot of 1280 x 2400")
    return problems


def main():
    args = sys.argv[1:]
    filters = take_filters(args)
    if len(args) != 2:
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    browser = find_chromium()
    if not browser:
        print("skipped: Chromium is not installed (scripts/install-deps --browser installs it)")
        return SKIP
    test_report.DSIM, test_report.SRCDIR = os.path.abspath(args[0]), os.path.abspath(args[1])
    tmp = tempfile.mkdtemp(prefix="dsim_report_browser_")
    pages = []
    for rel, path, extra in test_report.shipped_scenarios():
        if filters and not any(k in rel for k in filters):
            continue
        plot = rel in SCREENSHOTS
        pages.append((rel, test_report.make_report(tmp, rel, path, extra, plot=plot)))
    failed = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        results = pool.map(lambda p: (p[0], check(browser, tmp, p[0], p[1])), pages)
        for rel, problems in results:
            if problems:
                failed += 1
                print("FAIL %s\n    %s" % (rel, "\n    ".join(problems)))
            else:
                print("ok   %s" % rel)
    print("%d passed, %d failed" % (len(pages) - failed, failed))
    if failed:
        print("(files kept in %s)" % tmp)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
