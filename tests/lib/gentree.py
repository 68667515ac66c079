#!/usr/bin/env python3
"""Make a test tree for hasync: gentree.py DIR N [SEED] makes about N
files in nested directories: binary and text, empty files, symlinks
(relative, absolute, dangling), odd modes and odd names."""
import os
import random
import sys

d, n = sys.argv[1], int(sys.argv[2])
rnd = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
os.makedirs(d, exist_ok=True)
for i in range(n):
    sub = os.path.join(d, "dir%d" % (i % 17))
    if i % 3:
        sub = os.path.join(sub, "sub%d" % (i % 5))
    os.makedirs(sub, exist_ok=True)
    k = i % 6
    if k == 0:
        with open(os.path.join(sub, "bin%d" % i), "wb") as f:
            f.write(rnd.randbytes(rnd.randrange(70000)))
    elif k == 1:
        with open(os.path.join(sub, "text%d.txt" % i), "w") as f:
            f.write("".join("%d\n" % j for j in range(i, i + rnd.randrange(2000))))
    elif k == 2:
        open(os.path.join(sub, "empty%d" % i), "w").close()
    elif k == 3:
        os.symlink("../text%d.txt" % (i - 2), os.path.join(sub, "link%d" % i))
    elif k == 4:
        p = os.path.join(sub, "x%d" % i)
        with open(p, "w") as f:
            f.write("x" * (i % 100))
        os.chmod(p, 0o640)
    else:
        p = os.path.join(sub, "ex%d" % i)
        with open(p, "w") as f:
            f.write("%d\n" % i)
        os.chmod(p, 0o755)
for name, text in (("name with spaces", "spaces\n"), ("new\nline", "newline\n"),
                   ("ünïcödé-日本語", "utf8\n"), ("file.tmp", "skipped\n"),
                   ("skip-me", "skipped\n")):
    with open(os.path.join(d, name), "w") as f:
        f.write(text)
os.symlink("/etc/passwd", os.path.join(d, "abs-link"))
os.symlink("nowhere", os.path.join(d, "dangling"))
os.makedirs(os.path.join(d, "empty dir"), exist_ok=True)
os.makedirs(os.path.join(d, "deep/a/b/c/d/e"), exist_ok=True)
with open(os.path.join(d, "deep/a/b/c/d/e/f"), "w") as f:
    f.write("deep\n")
os.chmod(os.path.join(d, "deep/a"), 0o700)
os.utime(os.path.join(d, "name with spaces"), ns=(981173106123456789, 981173106123456789))
if os.geteuid() == 0:
    # Owners other than ours (applied by a receiver running as root).
    os.chown(os.path.join(d, "name with spaces"), 1234, 5678)
    os.chown(os.path.join(d, "deep/a/b"), 4321, 8765)
    os.lchown(os.path.join(d, "dangling"), 1111, 2222)
