#!/usr/bin/env python3
"""Decode a pcap file (tcpdump -w, Ethernet) into one line per frame, for
tests that check announcements field by field. A decoder independent of
habox's own (core/neigh.c), so a test can catch both being wrong.

  neighdump.py FILE.pcap

Lines ("t" is the capture time in microseconds):
  t arp src=MAC dst=MAC type=0x0806 hw=1 proto=0x0800 hlen=6 plen=4
        op=request|reply sha=MAC spa=IP tha=MAC tpa=IP
  t nd  src=MAC dst=MAC type=0x86dd ip6src=IP ip6dst=IP hlim=N icmp=ns|na
        code=N sum=ok|bad flags=R,S,O|- target=IP lladdr=MAC|-
  t ip  src=MAC dst=MAC ipsrc=IP ipdst=IP proto=N
  t ip6 src=MAC dst=MAC type=0x86dd ip6src=IP ip6dst=IP next=N
  t other src=MAC dst=MAC type=0xNNNN
"""
import ipaddress
import struct
import sys


def mac(b):
    return ":".join("%02x" % x for x in b)


def icmp6_sum(src, dst, msg):
    data = src + dst + struct.pack("!IxxxB", len(msg), 58) + msg
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s == 0xFFFF


def arp(f):
    if len(f) < 42:
        return "arp truncated"
    hw, pr, hl, pl, op = struct.unpack("!HHBBH", f[14:22])
    ops = {1: "request", 2: "reply"}
    return ("arp src=%s dst=%s type=0x0806 hw=%d proto=0x%04x hlen=%d "
            "plen=%d op=%s "
            "sha=%s spa=%s tha=%s tpa=%s" % (
                mac(f[6:12]), mac(f[0:6]), hw, pr, hl, pl,
                ops.get(op, str(op)), mac(f[22:28]),
                ipaddress.IPv4Address(f[28:32]), mac(f[32:38]),
                ipaddress.IPv4Address(f[38:42])))


def ipv6(f):
    ip = f[14:]
    if len(ip) < 40:
        return "ip6 truncated"
    plen, nxt, hlim = struct.unpack("!HBB", ip[4:8])
    src, dst = ip[8:24], ip[24:40]
    head = "src=%s dst=%s type=0x86dd ip6src=%s ip6dst=%s" % (
        mac(f[6:12]), mac(f[0:6]), ipaddress.IPv6Address(src),
        ipaddress.IPv6Address(dst))
    msg = ip[40:40 + plen]
    if nxt != 58 or len(msg) < 24 or msg[0] not in (135, 136):
        return "ip6 %s next=%d" % (head, nxt)
    flags = [n for bit, n in ((0x80, "R"), (0x40, "S"), (0x20, "O"))
             if msg[4] & bit]
    lladdr, opts = "-", msg[24:]
    want = 1 if msg[0] == 135 else 2
    while len(opts) >= 8 and opts[1]:
        if opts[0] == want:
            lladdr = mac(opts[2:8])
        opts = opts[opts[1] * 8:]
    return ("nd %s hlim=%d icmp=%s code=%d sum=%s flags=%s target=%s "
            "lladdr=%s" % (head, hlim, "ns" if msg[0] == 135 else "na",
                           msg[1], "ok" if icmp6_sum(src, dst, msg)
                           else "bad", ",".join(flags) or "-",
                           ipaddress.IPv6Address(msg[8:24]), lladdr))


def frame(f):
    if len(f) < 14:
        return "other truncated"
    t = struct.unpack("!H", f[12:14])[0]
    if t == 0x0806:
        return arp(f)
    if t == 0x86DD:
        return ipv6(f)
    if t == 0x0800 and len(f) >= 34:
        return "ip src=%s dst=%s ipsrc=%s ipdst=%s proto=%d" % (
            mac(f[6:12]), mac(f[0:6]), ipaddress.IPv4Address(f[26:30]),
            ipaddress.IPv4Address(f[30:34]), f[23])
    return "other src=%s dst=%s type=0x%04x" % (mac(f[6:12]), mac(f[0:6]), t)


def main(path):
    data = open(path, "rb").read()
    if len(data) < 24:
        return 0    # tcpdump stopped before writing anything
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        end = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        end = ">"
    else:
        sys.exit("neighdump: %s is not a pcap file" % path)
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    link = struct.unpack(end + "I", data[20:24])[0]
    if link != 1:
        sys.exit("neighdump: link type %d, not Ethernet" % link)
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack(end + "IIII", data[off:off + 16])
        f = data[off + 16:off + 16 + incl]
        off += 16 + incl
        us = sec * 1000000 + (frac // 1000 if nano else frac)
        print("%d %s" % (us, frame(f)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
