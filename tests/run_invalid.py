#!/usr/bin/env python3
"""Golden bad-input tests: every case must be refused with one exact message.

usage: run_invalid.py DSIM [CASES_DIR] [--update] [-k SUBSTR]... [-v]

CASES_DIR (default: tests/scenarios/invalid next to this script) holds one
folder per case:

    <case>/scenario.json   the input; absent for "missing file" cases, and it
                           may be a directory or hold any bytes the case needs
    <case>/args            optional: extra command-line words, one per line
                           (blank lines are skipped), e.g. "--set" then
                           "duration=5"
    <case>/expected.txt    the exact single line dsim must print on stderr
    <case>/README          optional: why the case exists, when it is not obvious

Convention, so that messages do not depend on the machine: dsim runs with its
working directory set to CASES_DIR and gets the RELATIVE path
"<case>/scenario.json", i.e. the command is

    cd CASES_DIR && DSIM validate <case>/scenario.json [args...]

and a message reads "error: <case>/scenario.json: $.path: ...".

A case passes when dsim
  - exits with status exactly 2 (bad input), not by a signal,
  - prints exactly the line in expected.txt on stderr (one line, then '\\n'),
  - prints nothing on stdout,
  - and no sanitizer report appears (AddressSanitizer, LeakSanitizer,
    UndefinedBehaviorSanitizer "runtime error:").

--update rewrites expected.txt from what dsim prints now, for the cases
selected by -k (all by default).  It refuses to record a case that does not
fail cleanly (wrong status, several lines, stdout output, sanitizer report).
Use it only after a deliberate message change, and review `git diff`: some
expected files hold the message dsim SHOULD print, ahead of a kernel fix.

Prints one line per failing case (all cases with -v) and a closing line
"N passed, M failed"; the exit status is non-zero if any case failed.
Python 3 standard library only.
"""
import argparse
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dsim_testlib  # noqa: E402

TIMEOUT_S = 60
SANITIZER_MARKS = dsim_testlib.SANITIZER_MARKS + ("ThreadSanitizer", "MemorySanitizer")


def case_args(case_dir):
    path = os.path.join(case_dir, "args")
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f if line.strip()]


def run_case(dsim, cases_dir, name):
    cmd = [dsim, "validate", name + "/scenario.json"] + case_args(os.path.join(cases_dir, name))
    env = dsim_testlib.sanitizer_env()
    try:
        p = subprocess.run(cmd, cwd=cases_dir, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=env, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return None, b"", b"", cmd
    return p.returncode, p.stdout, p.stderr, cmd


def problems_of(rc, out, err):
    """What is wrong with a run apart from the message text (list of strings)."""
    probs = []
    if rc is None:
        probs.append("timed out after %ds (hang?)" % TIMEOUT_S)
        return probs
    text = err.decode("utf-8", "replace")
    if any(m in text for m in SANITIZER_MARKS):
        probs.append("sanitizer report on stderr")
    if rc < 0:
        probs.append("killed by signal %d (crash)" % -rc)
    elif rc != 2:
        probs.append("exit status %d, expected 2%s" % (rc, " (accepted the input)" if rc == 0 else ""))
    if out:
        probs.append("stdout is not empty (%d bytes)" % len(out))
    if not err:
        probs.append("stderr is empty (no message)")
    elif not err.endswith(b"\n") or err.count(b"\n") != 1:
        probs.append("stderr is not exactly one line (%d line breaks)" % err.count(b"\n"))
    return probs


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dsim")
    ap.add_argument("cases_dir", nargs="?", default=os.path.join(here, "scenarios", "invalid"))
    ap.add_argument("--update", action="store_true", help="rewrite expected.txt files")
    ap.add_argument("-k", action="append", default=[], metavar="SUBSTR",
                    help="only cases whose name contains SUBSTR (repeatable)")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()

    dsim = os.path.abspath(a.dsim)
    cases_dir = os.path.abspath(a.cases_dir)
    if not os.access(dsim, os.X_OK):
        print("run_invalid: %s is not an executable" % dsim, file=sys.stderr)
        return 2
    names = sorted(n for n in os.listdir(cases_dir)
                   if os.path.isdir(os.path.join(cases_dir, n)) and not n.startswith("."))
    if a.k:
        names = [n for n in names if any(k in n for k in a.k)]
    if not names:
        print("run_invalid: no cases in %s" % cases_dir, file=sys.stderr)
        return 2

    passed = failed = 0
    for name in names:
        exp_path = os.path.join(cases_dir, name, "expected.txt")
        rc, out, err, cmd = run_case(dsim, cases_dir, name)
        probs = problems_of(rc, out, err)
        got = err.decode("utf-8", "backslashreplace").rstrip("\n")

        if a.update:
            if probs:
                failed += 1
                print("NOT UPDATED %s: %s" % (name, "; ".join(probs)))
                if err:
                    print("    stderr: %s" % got.replace("\n", "\n            "))
                continue
            old = None
            if os.path.exists(exp_path):
                with open(exp_path, encoding="utf-8") as f:
                    old = f.read().rstrip("\n")
            if old != got:
                with open(exp_path, "w", encoding="utf-8") as f:
                    f.write(got + "\n")
                print("updated %s\n    was: %s\n    now: %s" % (name, old, got))
            passed += 1
            continue

        if not os.path.exists(exp_path):
            probs.append("no expected.txt (write the message dsim should print, "
                         "or run with --update -k %s)" % name)
            want = None
        else:
            with open(exp_path, encoding="utf-8") as f:
                want = f.read()
            if want.count("\n") != 1 or not want.endswith("\n") or not want.strip():
                probs.append("expected.txt must hold exactly one non-empty line")
            want = want.rstrip("\n")
            if want != got:
                probs.append("message differs")

        if probs:
            failed += 1
            print("FAIL %s: %s" % (name, "; ".join(probs)))
            print("    command:  (cd %s && %s)" % (cases_dir, " ".join(_quote(c) for c in cmd)))
            if want is not None:
                print("    expected: %s" % want)
            print("    got:      %s" % got.replace("\n", "\n              "))
            if rc is not None and rc != 2:
                print("    status:   %s" % rc)
        else:
            passed += 1
            if a.verbose:
                print("ok   %s" % name)

    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


def _quote(s):
    if s and all(ch.isalnum() or ch in "-_./=[]:," for ch in s):
        return s
    return "'" + s.replace("'", "'\\''") + "'"


if __name__ == "__main__":
    sys.exit(main())
