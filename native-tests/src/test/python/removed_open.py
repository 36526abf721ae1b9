#!/usr/bin/env python3
"""Files removed while open, in folder argv[1]: prints what each step answered (MountEditorsTest
runs it in a mount and in a plain folder and compares the transcripts)."""

import errno
import os
import sys

os.chdir(sys.argv[1])


def step(what, fn):
    try:
        r = fn()
    except OSError as e:
        r = errno.errorcode[e.errno]
    print("%s: %r" % (what, r))


os.mkdir("gone")
with open("gone/w.txt", "wb") as f:
    f.write(b"written before\n")
w = os.open("gone/w.txt", os.O_RDWR)
r = os.open("f0", os.O_RDONLY)  # a file of the revision, unchanged
step("unlink w", lambda: os.unlink("gone/w.txt"))
step("listdir gone", lambda: os.listdir("gone"))
step("write w", lambda: os.pwrite(w, b"and after\n", 15))
step("fstat w", lambda: os.fstat(w).st_size)
step("fchmod w", lambda: os.fchmod(w, 0o755))
step("fsync w", lambda: os.fsync(w))
step("rmdir gone", lambda: os.rmdir("gone"))
step("write w (folder gone)", lambda: os.pwrite(w, b"!", 0))
step("read w", lambda: os.pread(w, 100, 0))
step("fsync w (folder gone)", lambda: os.fsync(w))
step("close w", lambda: os.close(w))

step("rename over f0", lambda: os.rename("README.md", "f0"))
step("read the replaced f0", lambda: os.pread(r, 100, 0))
step("fstat the replaced f0", lambda: os.fstat(r).st_size)
step("read f0 now", lambda: open("f0", "rb").read())
step("close", lambda: os.close(r))

a = os.open("d0/f1", os.O_RDWR | os.O_APPEND)
step("unlink d0/f1", lambda: os.unlink("d0/f1"))
step("create d0/f1 again", lambda: open("d0/f1", "wb").write(b"new\n"))
step("append to the old one", lambda: os.write(a, b"old\n"))
step("ftruncate the old one", lambda: os.ftruncate(a, 2))
step("read the old one", lambda: os.pread(a, 100, 0))
step("read the new one", lambda: open("d0/f1", "rb").read())
step("close", lambda: os.close(a))
step("listdir .", lambda: sorted(os.listdir(".")))
step("listdir d0", lambda: sorted(os.listdir("d0")))
