#!/usr/bin/env python3
"""Drives an interactive Ferrite boot through a pseudo-terminal, as a person
at the console would (`cargo xtask interactive`, and a step of
`cargo xtask test`).

usage: interactive.py QEMU-ARGV...   (the `cargo xtask run` command line)

Prints one line per check, `interactive: NAME ... ok` or
`interactive: NAME ... FAILED: why`, then `interactive: result: P passed,
F failed`. Only the Python standard library is used (pty, os, select).
"""
import os
import pty
import re
import select
import signal
import sys
import time

PROMPT = re.compile(rb"/root # ")


class Console:
    def __init__(self, argv):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execvp(argv[0], argv)
        self.buf = b""
        self.seen = 0  # expect() matches only output after this offset
        self.log = open(os.environ.get("INTERACTIVE_LOG", os.devnull), "wb")
        self.status = None

    def read_some(self, timeout):
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return False
        try:
            data = os.read(self.fd, 4096)
        except OSError:
            data = b""
        if not data:
            self.reap(block=True)
            return False
        self.buf += data
        self.log.write(data)
        self.log.flush()
        return True

    def expect(self, pattern, timeout):
        """Waits for `pattern` (bytes or regex) after the last match."""
        deadline = time.monotonic() + timeout
        while True:
            tail = self.buf[self.seen:]
            m = pattern.search(tail) if hasattr(pattern, "search") else None
            if m is None and not hasattr(pattern, "search"):
                i = tail.find(pattern)
                if i >= 0:
                    self.seen += i + len(pattern)
                    return True
            elif m is not None:
                self.seen += m.end()
                return True
            left = deadline - time.monotonic()
            if left <= 0 or self.status is not None:
                return False
            self.read_some(min(left, 0.5))

    def send(self, data, slow=False):
        for b in (data if slow else [data]):
            os.write(self.fd, bytes([b]) if slow else b)
            if slow:
                time.sleep(0.05)

    def reap(self, block=False):
        if self.status is not None:
            return self.status
        try:
            pid, st = os.waitpid(self.pid, 0 if block else os.WNOHANG)
        except ChildProcessError:
            return self.status
        if pid == self.pid:
            self.status = os.waitstatus_to_exitcode(st)
        return self.status

    def wait_exit(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.reap() is not None:
                return self.status
            self.read_some(0.2)
        return self.reap()

    def kill(self):
        if self.reap() is None:
            os.kill(self.pid, signal.SIGKILL)
            self.reap(block=True)

    def recent(self, n=300):
        return self.buf[-n:].decode("utf-8", "replace").replace("\r", "")


def main():
    argv = sys.argv[1:]
    if not argv:
        print(__doc__)
        return 2
    c = Console(argv)
    passed, failed = 0, 0

    def check(name, ok, why=""):
        nonlocal passed, failed
        if ok:
            passed += 1
            print(f"interactive: {name} ... ok", flush=True)
        else:
            failed += 1
            print(f"interactive: {name} ... FAILED: {why}", flush=True)
            print("    last output: " + repr(c.recent()), flush=True)
        return ok

    try:
        booted = c.expect(b"Welcome to Ferrite", 120) and c.expect(PROMPT, 60)
        if not check("boot to a shell prompt", booted, "no welcome line and prompt"):
            return 1
        # The command is typed, echoed, run: `hi2` appears only as output.
        # (The host pty adds a CR to each line end: QEMU keeps OPOST on.)
        c.send(b"echo hi$((1+1))\r")
        check("echo hi", c.expect(re.compile(rb"\nhi2\r*\n"), 30) and c.expect(PROMPT, 30), "no `hi2` line")
        # The kernel's canonical mode: `read` in ash uses the line
        # discipline (erase with DEL, kill with ^U).
        c.send(b"read x; echo got=$x.\r")
        c.expect(b"got=$x.", 30)
        time.sleep(1)
        c.send(b"junk\x15abX\x7fc\r", slow=True)
        check("line editing (erase, kill)", c.expect(b"got=abc.", 30) and c.expect(PROMPT, 30), "no `got=abc.`")
        # Each job is typed, then given time to start before the key.
        c.send(b"sleep 100\r")
        c.expect(b"sleep 100", 30)
        time.sleep(2)
        c.send(b"\x03")
        ok = c.expect(PROMPT, 30)
        c.send(b"echo status=$?\r")
        check("^C interrupts sleep 100", ok and c.expect(b"status=130", 30) and c.expect(PROMPT, 30), "no prompt or status 130 after ^C")
        c.send(b"sleep 100\r")
        c.expect(b"sleep 100", 30)
        time.sleep(2)
        c.send(b"\x1a")
        stopped = c.expect(re.compile(rb"Stopped.*sleep 100"), 30) and c.expect(PROMPT, 30)
        if stopped:
            c.send(b"fg\r")
            time.sleep(2)
            c.send(b"\x03")
            stopped = c.expect(PROMPT, 30)
        check("^Z stops a job, fg resumes it", stopped, "no `Stopped` job or no prompt after fg and ^C")
        c.send(b"poweroff -f\r")
        st = c.wait_exit(60)
        check("poweroff -f ends QEMU", st is not None, "QEMU still running 60 s after `poweroff -f`")
    finally:
        c.kill()
        print(f"interactive: result: {passed} passed, {failed} failed", flush=True)
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
