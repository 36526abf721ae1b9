#!/usr/bin/env python3
"""Differential driver for an editable quiltfs mount against a plain local folder.

Applies the same seeded random sequence of ordinary file operations to both trees and compares
every answer (return values, bytes read, errno), then the whole trees. The only differences
allowed are the ones SEMANTICS.md documents for an editable mount:
- links, symbolic links and FIFOs: EPERM on the mount (not applied to the folder);
- fallocate(2) and setxattr: ENOTSUP on the mount (not applied to the folder);
- modes: only a file's execute bit is compared; folders' times, sizes and modes are not;
- times: a file's mtime (in seconds) is compared right after utime() set it.

Usage: mount_diff.py run SEED OPS MOUNT FOLDER [W]  (ops, then closes every descriptor, then compares;
                                                    W > 0: commits through .quiltfs/ctl among them, weight W
                                                    against about 90 for the others)
       mount_diff.py compare MOUNT FOLDER [EXCLUDED]  (the trees only, but for folder EXCLUDED)
Exit 0: the same; exit 1: a difference, described on stdout with the operations that led to it.
"""

import ctypes
import errno
import fcntl
import hashlib
import mmap
import os
import random
import stat
import sys

DIRS = ["d0", "d1", "sub", "x y"]
FILES = ["f0", "f1", "f2.txt", "data.csv", "name with space.txt", "ünï.txt"]
MAX_OPEN = 6

libc = ctypes.CDLL(None, use_errno=True)
libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long, ctypes.c_long]


class Mismatch(Exception):
    pass


def outcome(fn):
    """('ok', value) or ('err', errno name) of fn()."""
    try:
        return ("ok", fn())
    except OSError as e:
        return ("err", errno.errorcode.get(e.errno, str(e.errno)))


def tree(root, exclude=None):
    """{relative path: ('d',) or ('f', size, sha256, executable)} of everything under root."""
    out = {}
    for d, dirs, files in os.walk(root):
        rel = os.path.relpath(d, root)
        if exclude is not None and (rel == exclude or rel.startswith(exclude + "/")):
            continue
        for n in dirs:
            out[os.path.normpath(os.path.join(rel, n))] = ("d",)
        for n in files:
            p = os.path.join(d, n)
            st = os.lstat(p)
            if not stat.S_ISREG(st.st_mode):
                out[os.path.normpath(os.path.join(rel, n))] = ("other", stat.S_IFMT(st.st_mode))
                continue
            with open(p, "rb") as f:
                data = f.read()
            out[os.path.normpath(os.path.join(rel, n))] = ("f", st.st_size, len(data),
                                                             hashlib.sha256(data).hexdigest(),
                                                             bool(st.st_mode & 0o100))
    return out


def compare_trees(m, r, exclude=None):
    tm, tr = tree(m, exclude), tree(r, exclude)
    diffs = []
    for k in sorted(set(tm) | set(tr)):
        if tm.get(k) != tr.get(k):
            diffs.append("%s: mount %s, folder %s" % (k, tm.get(k), tr.get(k)))
    return diffs


class Driver:
    def __init__(self, seed, m, r, commits):
        self.commits = commits  # the weight of commits through .quiltfs/ctl among the operations
        self.rnd = random.Random(seed)
        self.m = m
        self.r = r
        self.open = []  # [path, fd on the mount, fd in the folder, flags]
        self.log = []

    # ---- choosing ----

    def existing(self, want=None):
        t = tree(self.r)
        keys = sorted(k for k, v in t.items() if want is None or v[0] == want)  # not the disk's order
        return self.rnd.choice(keys) if keys else None

    def some_dir(self):
        t = tree(self.r)
        return self.rnd.choice(["."] + sorted(k for k, v in t.items() if v[0] == "d"))

    def new_name(self, dirs=False):
        parent = self.some_dir()
        while parent.count("/") >= 2:  # the tree stays a few levels deep
            parent = os.path.dirname(parent) or "."
        n = self.rnd.choice(DIRS if dirs or self.rnd.random() < 0.2 else FILES)
        return os.path.normpath(os.path.join(parent, n))

    def path(self, want=None):
        if self.rnd.random() < 0.75:
            p = self.existing(want)
            if p is not None:
                return p
        return self.new_name(dirs=want == "d")

    def data(self):
        n = self.rnd.choice([0, 1, 7, 100, 4096, 5000, 70000, 140000])
        return self.rnd.randbytes(n)

    def offset(self, size):
        c = self.rnd.random()
        if c < 0.4:
            return self.rnd.randint(0, max(size, 0))
        if c < 0.7:
            return size
        return size + self.rnd.choice([1, 4095, 4096, 131072, 300000])  # sparse, past the end

    def size_of(self, p):
        try:
            return os.stat(os.path.join(self.r, p)).st_size
        except OSError:
            return 0

    # ---- applying ----

    def both(self, what, fn, compare=True):
        """fn(root) on the mount and on the folder; their outcomes must be equal."""
        a = outcome(lambda: fn(self.m))
        b = outcome(lambda: fn(self.r))
        self.log.append("%s -> %s" % (what, b if a == b else "mount %s, folder %s" % (a, b)))
        if compare and a != b:
            raise Mismatch("%s: mount %s, folder %s" % (what, short(a), short(b)))
        return a, b

    def mount_only(self, what, fn, expected):
        """fn(mount) must fail with errno `expected` (the folder is left alone)."""
        a = outcome(lambda: fn(self.m))
        self.log.append("%s (mount only) -> %s" % (what, a))
        if a != ("err", expected):
            raise Mismatch("%s: mount %s, expected %s" % (what, short(a), expected))

    def fds(self, what, fn):
        """fn(fd) on both descriptors of a random open file."""
        o = self.rnd.choice(self.open)
        a = outcome(lambda: fn(o[1]))
        b = outcome(lambda: fn(o[2]))
        desc = "%s on fd of %s (flags %o)" % (what, o[0], o[3])
        self.log.append("%s -> %s" % (desc, b if a == b else "mount %s, folder %s" % (a, b)))
        if a != b:
            raise Mismatch("%s: mount %s, folder %s" % (desc, short(a), short(b)))
        return o

    def step(self):
        rnd = self.rnd
        op = rnd.choices(
            ["write_file", "open", "fd_write", "fd_read", "fd_truncate", "fd_fstat", "fd_close",
             "fd_fsync", "fd_mmap", "fd_lock", "truncate", "unlink", "rename", "mkdir", "rmdir",
             "chmod", "utime", "read", "listdir", "stat", "refused", "compare", "commit"],
            [8, 8, 10, 8, 3, 3, 6, 1, 2, 1, 3, 5, 8, 3, 3, 2, 2, 4, 3, 3, 1, 1, self.commits])[0]
        if op.startswith("fd_") and not self.open:
            op = "open"
        getattr(self, "op_" + op)()

    def op_write_file(self):
        p = self.path("f")
        flags = os.O_WRONLY | os.O_CREAT | self.rnd.choice([0, os.O_TRUNC, os.O_EXCL, os.O_APPEND])
        mode = self.rnd.choice([0o644, 0o755])
        data = self.data()

        def w(root):
            fd = os.open(os.path.join(root, p), flags, mode)
            try:
                return os.write(fd, data)
            finally:
                os.close(fd)
        self.both("write %d bytes to %s (flags %o, mode %o)" % (len(data), p, flags, mode), w)

    def op_open(self):
        if len(self.open) >= MAX_OPEN:
            return self.op_fd_close()
        p = self.path("f")
        acc = self.rnd.choice([os.O_RDONLY, os.O_WRONLY, os.O_RDWR, os.O_RDWR])
        extra = 0
        for f in (os.O_APPEND, os.O_TRUNC, os.O_CREAT, os.O_EXCL):
            if self.rnd.random() < 0.2:
                extra |= f
        if acc == os.O_RDONLY:
            extra &= ~os.O_TRUNC  # O_RDONLY|O_TRUNC is unspecified by POSIX
        flags = acc | extra
        what = "open %s (flags %o)" % (p, flags)
        a, b = self.both(what, lambda root: os.open(os.path.join(root, p), flags, 0o644), compare=False)
        if a[0] != b[0] or (a[0] == "err" and a != b):
            for x in (a, b):
                if x[0] == "ok":
                    os.close(x[1])
            raise Mismatch("%s: mount %s, folder %s" % (what, short(a), short(b)))
        if a[0] == "ok":
            self.open.append([p, a[1], b[1], flags])

    def op_fd_write(self):
        data = self.data()
        if self.rnd.random() < 0.5:
            self.fds("write %d bytes" % len(data), lambda fd: os.write(fd, data))
        else:
            o = self.rnd.choice(self.open)
            off = self.offset(os.fstat(o[2]).st_size)
            self.fds_on(o, "pwrite %d bytes at %d" % (len(data), off), lambda fd: os.pwrite(fd, data, off))

    def fds_on(self, o, what, fn):
        a = outcome(lambda: fn(o[1]))
        b = outcome(lambda: fn(o[2]))
        desc = "%s on fd of %s (flags %o)" % (what, o[0], o[3])
        self.log.append("%s -> %s" % (desc, b if a == b else "mount %s, folder %s" % (short(a), short(b))))
        if a != b:
            raise Mismatch("%s: mount %s, folder %s" % (desc, short(a), short(b)))

    def op_fd_read(self):
        o = self.rnd.choice(self.open)
        size = os.fstat(o[2]).st_size
        off = self.rnd.randint(0, size + 10)
        n = self.rnd.choice([1, 100, 4096, 200000])
        self.fds_on(o, "pread %d at %d" % (n, off), lambda fd: digest(os.pread(fd, n, off)))

    def op_fd_truncate(self):
        o = self.rnd.choice(self.open)
        size = self.rnd.choice([0, 1, 4096, 10000, 200000, max(0, os.fstat(o[2]).st_size - 3)])
        self.fds_on(o, "ftruncate %d" % size, lambda fd: os.ftruncate(fd, size))

    def op_fd_fstat(self):
        o = self.rnd.choice(self.open)
        st = os.fstat(o[2])
        gone = st.st_nlink == 0 and (stat.S_ISDIR(st.st_mode) or not os.path.isdir(os.path.dirname(os.path.join(self.r, o[0]))))
        what = "fstat on fd of %s (flags %o)" % (o[0], o[3])
        a = outcome(lambda: (os.fstat(o[1]).st_size, bool(os.fstat(o[1]).st_mode & 0o100)))
        if gone and a == ("err", "ENOENT"):
            # SEMANTICS: libfuse has no name for a removed folder, nor for a file removed with its folder.
            self.log.append("%s -> mount %s (removed with its folder)" % (what, a))
            return
        if stat.S_ISDIR(st.st_mode):
            b = outcome(lambda: (None, True))
            a = (a[0], (None, True)) if a[0] == "ok" else a  # folders' sizes differ
        else:
            b = outcome(lambda: (st.st_size, bool(st.st_mode & 0o100)))
        self.log.append("%s -> %s" % (what, b if a == b else "mount %s, folder %s" % (a, b)))
        if a != b:
            raise Mismatch("%s: mount %s, folder %s" % (what, short(a), short(b)))

    def op_fd_close(self):
        o = self.rnd.choice(self.open)
        self.open.remove(o)
        self.fds_on(o, "close", os.close)

    def op_fd_fsync(self):
        self.fds("fsync", os.fsync)

    def op_fd_mmap(self):
        o = self.rnd.choice(self.open)
        size = os.fstat(o[2]).st_size
        if size == 0 or (o[3] & os.O_ACCMODE) != os.O_RDWR:
            return
        off = self.rnd.randint(0, size - 1)
        data = self.rnd.randbytes(min(self.rnd.choice([1, 100, 5000]), size - off))

        def mm(fd):
            with mmap.mmap(fd, size) as mp:
                mp[off:off + len(data)] = data
                mp.flush()
            return len(data)
        self.fds_on(o, "mmap write %d at %d" % (len(data), off), mm)

    def op_fd_lock(self):
        o = self.rnd.choice(self.open)
        kind = self.rnd.choice(["flock", "lockf"])

        def lk(fd):
            if kind == "flock":
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(fd, fcntl.LOCK_UN)
            else:
                fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB if (o[3] & os.O_ACCMODE) == os.O_RDONLY
                            else fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.lockf(fd, fcntl.LOCK_UN)
        self.fds_on(o, kind, lk)

    def op_truncate(self):
        p = self.path("f")
        size = self.rnd.choice([0, 1, 3, 4096, 9000, 250000, max(0, self.size_of(p) - 1), self.size_of(p) + 1])
        self.both("truncate %s to %d" % (p, size), lambda root: os.truncate(os.path.join(root, p), size))

    def op_unlink(self):
        p = self.path()
        self.both("unlink %s" % p, lambda root: os.unlink(os.path.join(root, p)))

    def op_rename(self):
        c = self.rnd.random()
        src = self.path("d" if c < 0.3 else "f")
        dst = self.path() if self.rnd.random() < 0.5 else self.new_name(dirs=c < 0.3)
        self.both("rename %s -> %s" % (src, dst), lambda root: os.rename(os.path.join(root, src), os.path.join(root, dst)))

    def op_mkdir(self):
        p = self.new_name(dirs=True) if self.rnd.random() < 0.8 else self.path()
        self.both("mkdir %s" % p, lambda root: os.mkdir(os.path.join(root, p)))

    def op_rmdir(self):
        p = self.path("d")
        self.both("rmdir %s" % p, lambda root: os.rmdir(os.path.join(root, p)))

    def op_chmod(self):
        p = self.path("f")
        mode = self.rnd.choice([0o755, 0o644, 0o700, 0o600])
        self.both("chmod %o %s" % (mode, p), lambda root: os.chmod(os.path.join(root, p), mode))

    def op_utime(self):
        p = self.path("f")
        t = self.rnd.randint(1_000_000_000, 1_900_000_000)
        a, _ = self.both("utime %s %d" % (p, t), lambda root: os.utime(os.path.join(root, p), (t, t)))
        if a[0] == "ok" and os.path.isfile(os.path.join(self.r, p)):  # folders keep the revision's time
            self.both("mtime of %s" % p, lambda root: int(os.stat(os.path.join(root, p)).st_mtime))

    def op_read(self):
        p = self.path("f")

        def rd(root):
            with open(os.path.join(root, p), "rb") as f:
                return digest(f.read())
        self.both("read %s" % p, rd)

    def op_listdir(self):
        p = self.path("d")
        self.both("listdir %s" % p, lambda root: sorted(os.listdir(os.path.join(root, p))))

    def op_stat(self):
        p = self.path()

        def st(root):
            s = os.stat(os.path.join(root, p))
            return ("d",) if stat.S_ISDIR(s.st_mode) else ("f", s.st_size, bool(s.st_mode & 0o100))
        self.both("stat %s" % p, st)

    def op_refused(self):
        """What a package cannot hold: refused on the mount, with the errno SEMANTICS gives."""
        c = self.rnd.choice(["symlink", "link", "mkfifo", "fallocate", "setxattr"])
        src = self.existing("f")
        if src is None:
            return
        dst = self.new_name()
        if os.path.lexists(os.path.join(self.r, dst)):
            return  # the kernel answers EEXIST before asking the file system
        m = self.m
        if c == "symlink":
            self.mount_only("symlink %s" % dst, lambda root: os.symlink("f0", os.path.join(root, dst)), "EPERM")
        elif c == "link":
            self.mount_only("link %s %s" % (src, dst), lambda root: os.link(os.path.join(root, src), os.path.join(root, dst)),
                            "EPERM")
        elif c == "mkfifo":
            self.mount_only("mkfifo %s" % dst, lambda root: os.mkfifo(os.path.join(root, dst)), "EPERM")
        elif c == "fallocate":
            def fa(root):
                fd = os.open(os.path.join(root, src), os.O_RDWR)
                try:
                    if libc.fallocate(fd, 0, 0, 8192) != 0:
                        e = ctypes.get_errno()
                        raise OSError(e, os.strerror(e))
                finally:
                    os.close(fd)
            self.mount_only("fallocate %s" % src, fa, "ENOTSUP")
        else:
            self.mount_only("setxattr %s" % src, lambda root: os.setxattr(os.path.join(root, src), "user.x", b"1"),
                            "ENOTSUP")
        del m

    def op_commit(self):
        """A commit through the mount's control file, descriptors open: nothing changes for them."""
        fd = os.open(os.path.join(self.m, ".quiltfs", "ctl"), os.O_RDWR)
        try:
            os.write(fd, b'commit -m "during the differential run"\n')
            out = b""
            while True:
                b = os.read(fd, 65536)  # reading runs the command
                if not b:
                    break
                out += b
        finally:
            os.close(fd)
        text = out.decode("utf-8", "replace").strip()
        self.log.append("commit -> %s" % text.splitlines()[-1:] if text else "commit -> nothing")
        if not text.endswith("exit 0"):
            raise Mismatch("a commit through .quiltfs/ctl failed: %s" % text)
        # A package records no modes: committed files lose the execute bit (but for files still
        # open, whose copies stay in the working area). Both sides start again without it.
        for k, v in tree(self.r).items():
            if v[0] == "f" and v[4]:
                os.chmod(os.path.join(self.r, k), 0o644)
                os.chmod(os.path.join(self.m, k), 0o644)
        self.op_compare()

    def op_compare(self):
        diffs = compare_trees(self.m, self.r)
        self.log.append("compare the trees -> %d differences" % len(diffs))
        if diffs:
            raise Mismatch("the trees differ:\n  " + "\n  ".join(diffs[:20]))

    def close_all(self):
        while self.open:
            o = self.open.pop()
            self.fds_on(o, "close", os.close)


def digest(b):
    return (len(b), hashlib.sha256(b).hexdigest()[:16])


def short(x):
    s = repr(x)
    return s if len(s) < 200 else s[:200] + "..."


def main(argv):
    if argv[1] == "compare":
        diffs = compare_trees(argv[2], argv[3], argv[4] if len(argv) > 4 else None)
        if diffs:
            print("the trees differ:\n  " + "\n  ".join(diffs[:50]))
            return 1
        print("same trees: %d entries" % len(tree(argv[3])))
        return 0
    seed, ops, m, r = int(argv[2]), int(argv[3]), argv[4], argv[5]
    d = Driver(seed, m, r, float(argv[6]) if len(argv) > 6 else 0)
    try:
        for _ in range(ops):
            d.step()
        d.close_all()
        d.op_compare()
    except Mismatch as e:
        print("seed %d, after %d operations: %s" % (seed, len(d.log), e))
        print("the last operations:")
        for line in d.log[-25:]:
            print("  " + line)
        for o in d.open:
            for fd in o[1:3]:
                try:
                    os.close(fd)
                except OSError:
                    pass
        return 1
    print("seed %d: %d operations, same answers; same trees: %d entries" % (seed, ops, len(tree(r))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
