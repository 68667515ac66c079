#!/usr/bin/env python3
# A tiny syslog receiver for tests: binds a unix datagram socket at PATH
# and appends every message it receives, one a line, to OUT, until killed.
import socket
import sys

path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
with open(out, "ab", buffering=0) as f:
    f.write(b"")
    while True:
        msg = s.recv(65536)
        f.write(msg.rstrip(b"\0\n") + b"\n")
