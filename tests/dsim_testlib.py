"""Helpers shared by the Python tests that run the dsim command
(test_cli.py, test_sweep.py; run_invalid.py and run_scenarios.py take the
environment and the sanitizer marks).

They run as `python3 tests/X.py DSIM ...`, so this folder is on sys.path and
`import dsim_testlib` finds this module.  Python 3 standard library only.
"""
import os
import shutil
import subprocess
import tempfile
import traceback

SANITIZER_MARKS = ("AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer",
                   "runtime error:")


class Skip(Exception):
    """Raised by a test that cannot run here (says why); counted apart."""


class Result:
    def __init__(self, args, cwd, rc, out, err):
        self.args, self.cwd, self.rc, self.out, self.err = args, cwd, rc, out, err

    def __repr__(self):
        return "%s (in %s) -> status %s\n  stdout: %r\n  stderr: %r" % (
            " ".join(self.args), self.cwd, self.rc, self.out[:800], self.err[:800])


def sanitizer_env(extra=None, drop=()):
    """The environment for a dsim child: this one without the variables in
    drop, sanitizer findings loud (what the caller chose is kept), then
    extra on top."""
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
    for name in drop:
        env.pop(name, None)
    env.update(extra or {})
    return env


def run(argv, cwd, timeout, env=None):
    """Runs argv in cwd and returns its Result; fails (AssertionError) on a
    sanitizer report or a death by signal."""
    p = subprocess.run(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=env or sanitizer_env(), timeout=timeout)
    r = Result(list(argv), cwd, p.returncode, p.stdout.decode("utf-8", "replace"),
               p.stderr.decode("utf-8", "replace"))
    assert not any(m in r.err for m in SANITIZER_MARKS), "sanitizer report: %r" % r
    assert r.rc >= 0, "killed by signal %d: %r" % (-r.rc, r)
    return r


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def take_filters(args):
    """Removes every `-k SUBSTR` from args (a list) and returns the SUBSTRs."""
    filters = []
    while "-k" in args:
        i = args.index("-k")
        filters.append(args[i + 1])
        del args[i:i + 2]
    return filters


def run_tests(namespace, filters, tmp_prefix, count_skips=False):
    """Runs every function test_* of namespace (a module's globals()) whose
    name holds one of filters (all if none), each in a fresh temporary
    folder that is removed unless it failed.  Prints ok/FAIL/skip per test
    and a closing line "N passed, M failed" (", K skipped" with
    count_skips); returns the exit status, 1 if any test failed."""
    tests = [(n, f) for n, f in sorted(namespace.items())
             if n.startswith("test_") and callable(f)]
    if filters:
        tests = [(n, f) for n, f in tests if any(k in n for k in filters)]
    passed = failed = skipped = 0
    for name, fn in tests:
        tmp = tempfile.mkdtemp(prefix=tmp_prefix)
        try:
            fn(tmp)
        except Skip as e:
            skipped += 1
            print("skip %s (%s)" % (name, e))
            shutil.rmtree(tmp, ignore_errors=True)
            continue
        except Exception as e:  # AssertionError, or a broken test
            failed += 1
            print("FAIL %s" % name)
            if isinstance(e, AssertionError):
                print("    " + (str(e) or "assertion failed").replace("\n", "\n    "))
                tb = traceback.extract_tb(e.__traceback__)
                print("    at %s:%d" % (os.path.basename(tb[-1].filename), tb[-1].lineno))
            else:
                print("    " + traceback.format_exc().replace("\n", "\n    "))
            print("    (files kept in %s)" % tmp)
            continue
        passed += 1
        print("ok   %s" % name)
        shutil.rmtree(tmp, ignore_errors=True)
    if count_skips:
        print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    else:
        print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0
