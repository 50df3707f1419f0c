#!/usr/bin/env python3
"""Requests and round trips of one operation, from the bench proxy's log
(tests/fakes.py proxy: "METHOD PATH STATUS t=ARRIVAL d=SECONDS ua=CLIENT").

  timeline.py LOG T0 T1 [--show]

The operation is every request that arrived between T0 and T1 (Unix
times; the bench runs one operation at a time). A
round trip is counted the way latency adds up: the largest number of
those requests that ran one after another without overlapping (earliest
end first), i.e. the sequential exchanges on the critical path.
Prints "N requests (regpush R, engine E), K round trips, T s"; --brief
only "N requests, K round trips"; --show adds the timeline, one request per line (start and end in ms from the
first request).
"""
import sys


def parse(path, lo, hi):
    rows = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) < 6 or not parts[3].startswith("t="):
                continue
            t, d = float(parts[3][2:]), float(parts[4][2:])
            rows.append((t, t + d, parts[0], parts[1], parts[2], parts[5][3:]))
    return sorted(r for r in rows if lo <= r[0] <= hi)


def round_trips(rows):
    n, end = 0, float("-inf")
    for r in sorted(rows, key=lambda r: r[1]):
        if r[0] >= end:
            n += 1
            end = r[1]
    return n


def main():
    rows = parse(sys.argv[1], float(sys.argv[2]), float(sys.argv[3]))
    if not rows:
        print("no requests")
        return 0
    ours = [r for r in rows if r[5] == "regpush"]
    t0 = rows[0][0]
    if "--brief" in sys.argv:
        print("%d requests, %d round trips" % (len(rows), round_trips(rows)))
        return 0
    print("%d requests (regpush %d, engine %d), %d round trips (regpush %d), %.2f s" % (
        len(rows), len(ours), len(rows) - len(ours), round_trips(rows), round_trips(ours),
        max(r[1] for r in rows) - t0))
    if "--show" in sys.argv:
        for r in rows:
            print("  %7.1f %7.1f ms  %-10s %-6s %s %s" % ((r[0] - t0) * 1e3, (r[1] - t0) * 1e3, r[5],
                                                       r[2], r[3], r[4]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
