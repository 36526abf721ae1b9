#!/usr/bin/env python3
"""The quilt3 side of the foundation benchmarks; run with the quilt3 venv's python.

  quilt3_side.py hash FILE...           chunked checksum of each file, as Package.build does
                                         (data_transfer.calculate_multipart_checksum)
  quilt3_side.py tophash MANIFEST       Package.load from a file object, then top_hash

Prints the results, then one line "inner-seconds S": the time spent in quilt3 itself, without
interpreter start and imports (the library-only figure).
"""
import os
import sys
import time

os.environ.setdefault("QUILT_DISABLE_USAGE_METRICS", "true")
os.environ.setdefault("QUILT_MINIMIZE_STDOUT", "true")  # no progress bars: quilt3 at its fastest

import quilt3  # noqa: E402
from quilt3 import checksums  # noqa: E402
from quilt3.data_transfer import FileChecksumTask, calculate_multipart_checksum  # noqa: E402
from quilt3.util import PhysicalKey  # noqa: E402


def main():
    kind, args = sys.argv[1], sys.argv[2:]
    if kind == "hash":
        if len(args) == 1 and os.path.isdir(args[0]):
            files = sorted(os.path.join(d, f) for d, _, fs in os.walk(args[0]) for f in fs
                           if not f.startswith("."))
        else:
            files = args
        t0 = time.perf_counter()
        tasks = [FileChecksumTask.create(PhysicalKey.from_path(os.path.abspath(f)), os.path.getsize(f),
                                         checksums.SHA256_CHUNKED_HASH_NAME) for f in files]
        results = calculate_multipart_checksum(tasks)
        inner = time.perf_counter() - t0
        for f, r in zip(files, results):
            if isinstance(r, Exception):
                raise r
            print("%s  %s" % (r, f))
    elif kind == "tophash":
        t0 = time.perf_counter()
        with open(args[0]) as f:
            pkg = quilt3.Package.load(f)
            top = pkg.top_hash
        inner = time.perf_counter() - t0
        print(top)
    else:
        sys.exit("unknown kind " + kind)
    print("inner-seconds %.6f" % inner)


if __name__ == "__main__":
    main()
