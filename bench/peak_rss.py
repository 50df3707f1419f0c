#!/usr/bin/env python3
"""Peak resident memory of a command: its own (VmHWM, sampled every 2 ms
until it exits; VmHWM only grows, so the last sample is the peak) and the
largest of it and its children (wait4's ru_maxrss).

  peak_rss.py CMD ARGS...   prints "OWN_MB MB itself, TREE_MB MB the largest process"
"""
import os
import subprocess
import sys
import time


def main():
    p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    own = 0
    while True:
        try:
            with open("/proc/%d/status" % p.pid) as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        own = max(own, int(line.split()[1]))
        except (OSError, ValueError):
            pass
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        time.sleep(0.002)
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        print("exit %d: %s" % (p.returncode, " ".join(sys.argv[1:])), file=sys.stderr)
        return 1
    print("%.1f MB itself, %.1f MB the largest process" % (own / 1024, ru.ru_maxrss / 1024))
    return 0


if __name__ == "__main__":
    sys.exit(main())
