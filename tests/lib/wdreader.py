#!/usr/bin/env python3
"""A stand-in for /dev/watchdog in tests: read a FIFO forever and log one
line per byte written to it ("feed" for a keep-alive, "V" for the magic
close), reopening it whenever the writer closes it.

usage: wdreader.py FIFO LOG
"""
import os
import sys
import time


def main():
    fifo, log = sys.argv[1], sys.argv[2]
    with open(log, "a", buffering=1) as out:
        out.write("%.3f listening\n" % time.time())
        while True:
            fd = os.open(fifo, os.O_RDONLY)
            out.write("%.3f open\n" % time.time())
            while True:
                data = os.read(fd, 4096)
                if not data:
                    break
                for b in data:
                    out.write("%.3f %s\n" % (time.time(),
                                             "V" if b == ord("V") else "feed"))
            os.close(fd)
            out.write("%.3f close\n" % time.time())


if __name__ == "__main__":
    main()
