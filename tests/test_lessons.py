#!/usr/bin/env python3
"""Every lesson runs as written (issue 14).

usage: test_lessons.py DSIM SOURCE_DIR [LESSON.md...]

docs/lessons/*.md are read in front of a class, so a figure that drifted
from what the command prints is a wrong lesson.  For each lesson, every
code block that holds commands is run, in order, in a scratch folder that
looks like the top of the repository (scenarios/, plots/ and build/dsim are
links to the real ones, so "./build/dsim run scenarios/... -o out/x" works
as written and out/ is the scratch folder's own).  Every output block that
follows a command block (a fenced block of what the terminal prints) must
match what those commands printed:

- each line must appear in the output, whole, as a substring;
- a line may start with a label the lesson added ("fast reads:", "range:",
  "vertical:"): a line that is only a label is skipped, and a label in front
  of printed text may be left out;
- "..." inside a line stands for anything (the reader's own answers), and a
  line that is only "..." skips lines.

Lines "make ..." are left out of the command blocks (the suite has built
dsim already), and so are blocks with placeholders (SCENARIO, NAME, "[--set
KEY=VALUE]").  A lesson in a blockquote ("> " at the start of each line) is
read without it.  A command block that prints "error:" fails the test unless
its output block shows that error.  Commands that ask (dsim run
--predict) read "0" for every question.  gnuplot lines are left out when gnuplot
is not installed, and charts are not drawn (DSIM_NO_PLOT) unless a lesson's
block runs gnuplot itself.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

COMMAND_START = re.compile(r"^(\./)?(build/dsim|make|for |gnuplot|diff|cut|awk|python3|printf)")
PLACEHOLDER = re.compile(r"SCENARIO|\bNAME\b|\[--set")
LABEL = re.compile(r"^[A-Za-z][\w -]*:\s+")


def blocks(text):
    """Fenced code blocks as (language, lines), blockquote marks removed."""
    out = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        raw = lines[i]
        quoted = raw.lstrip().startswith(">")
        line = re.sub(r"^\s*>\s?", "", raw) if quoted else raw
        m = re.match(r"^\s*```(\w*)\s*$", line)
        if not m:
            i += 1
            continue
        lang = m.group(1)
        body = []
        i += 1
        while i < len(lines):
            l2 = re.sub(r"^\s*>\s?", "", lines[i]) if quoted else lines[i]
            if re.match(r"^\s*```\s*$", l2):
                break
            body.append(l2)
            i += 1
        i += 1
        out.append((lang, body))
    return out


def is_command(lang, body):
    if lang in ("sh", "bash", "shell"):
        return True
    first = next((l for l in body if l.strip()), "")
    return lang == "" and bool(COMMAND_START.match(first.strip()))


def runnable(body, have_gnuplot):
    """The block's commands as one script, or None to skip the block."""
    text = "\n".join(body)
    if PLACEHOLDER.search(text):
        return None
    kept = []
    skipping = False
    for l in body:
        # A continued line belongs to the command it continues.
        start = not skipping
        if start and (l.strip().startswith("make ") or (l.strip().startswith("gnuplot") and not have_gnuplot)):
            skipping = l.rstrip().endswith("\\")
            continue
        if skipping:
            skipping = l.rstrip().endswith("\\")
            continue
        kept.append(l)
    script = "\n".join(kept).strip()
    return script or None


def line_matches(line, output):
    """Whether one expected line appears in the output."""
    want = line.strip()
    if not want or want == "...":
        return True
    if re.fullmatch(r"[A-Za-z][\w -]*:", want):
        return True  # a label alone
    candidates = [want]
    if LABEL.match(want):
        candidates.append(LABEL.sub("", want, count=1))
    for c in candidates:
        pieces = [p for p in c.split("...")]
        if len(pieces) == 1:
            if c in output:
                return True
            continue
        for out_line in output.split("\n"):
            pos = 0
            ok = True
            for p in pieces:
                j = out_line.find(p, pos)
                if j < 0:
                    ok = False
                    break
                pos = j + len(p)
            if ok:
                return True
    return False


def scratch(src, dsim, tmp):
    """A folder that looks like the top of the repository."""
    os.symlink(os.path.join(src, "scenarios"), os.path.join(tmp, "scenarios"))
    os.symlink(os.path.join(src, "plots"), os.path.join(tmp, "plots"))
    os.mkdir(os.path.join(tmp, "build"))
    os.symlink(os.path.abspath(dsim), os.path.join(tmp, "build", "dsim"))


def show(script, output):
    return ("    $ " + script.replace("\n", "\n      ") + "\n" +
            "".join("    | " + o + "\n" for o in output.rstrip("\n").split("\n")[:60]))


def check_lesson(dsim, src, path, have_gnuplot):
    """Runs one lesson; returns (failures, command blocks run, output blocks checked)."""
    failures = []
    with open(path, encoding="utf-8") as f:
        bl = blocks(f.read())
    name = os.path.relpath(path, src)
    env = dict(os.environ, DSIM_NO_PLOT="1", LC_ALL="C")
    ran = checked = 0
    with tempfile.TemporaryDirectory(prefix="dsim-lesson-") as tmp:
        scratch(src, dsim, tmp)
        last = None
        for k, (lang, body) in enumerate(bl):
            if is_command(lang, body):
                script = runnable(body, have_gnuplot)
                last = None
                if script is None:
                    continue
                p = subprocess.run(["bash", "-e", "-c", script], cwd=tmp, env=env, input=b"0\n" * 20,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
                output = p.stdout.decode("utf-8", "replace")
                ran += 1
                last = (script, output)
                nxt = bl[k + 1] if k + 1 < len(bl) else None
                shows_error = (nxt is not None and not is_command(*nxt) and nxt[0] == "" and
                               "error:" in "\n".join(nxt[1]))
                # diff exits 1 when the files differ, which is what it is shown for
                # (so a block may end with it).
                ends_diff = [l for l in script.split("\n") if l.strip()][-1].strip().startswith("diff ")
                ok = (p.returncode == 0 or (ends_diff and p.returncode == 1) or
                      (shows_error and p.returncode == 2))
                if not ok or ("error:" in output and not shows_error):
                    failures.append("%s: exit status %d:\n%s" % (name, p.returncode, show(script, output)))
                continue
            if lang != "" or last is None:
                continue
            checked += 1
            for line in body:
                if not line_matches(line, last[1]):
                    failures.append("%s: the lesson shows the line\n    %s\n  which this did not print:\n%s" %
                                    (name, line.strip(), show(*last)))
                    break
    return failures, ran, checked


def main():
    if len(sys.argv) < 3:
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    dsim, src = sys.argv[1], os.path.abspath(sys.argv[2])
    lessons = sys.argv[3:] or sorted(
        os.path.join(src, "docs", "lessons", f) for f in os.listdir(os.path.join(src, "docs", "lessons"))
        if f.endswith(".md"))
    have_gnuplot = shutil.which("gnuplot") is not None
    failures = []
    for path in lessons:
        f, ran, checked = check_lesson(dsim, src, path, have_gnuplot)
        print("%s: %d command blocks run, %d output blocks checked, %s" %
              (os.path.relpath(path, src), ran, checked, "ok" if not f else "%d wrong" % len(f)))
        failures += f
    for f in failures:
        print("\nFAIL " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
