#!/usr/bin/env python3
"""Generates the foundation benchmark data under bench/work/ (idempotent; skips what exists).

  gen.py bigfile PATH SIZE_MIB      random bytes
  gen.py smallfiles DIR COUNT SIZE  COUNT files of SIZE bytes in 100 folders
  gen.py manifest PATH ROWS         a JSONL manifest shaped like real ones: ~40-character keys,
                                    s3:// physical keys with a versionId, sha2-256-chunked
                                    hashes, empty meta, rows in walk order
"""
import base64
import hashlib
import json
import os
import random
import sys


def bigfile(path, mib):
    if os.path.exists(path) and os.path.getsize(path) == mib << 20:
        return
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        for _ in range(mib):
            f.write(os.urandom(1 << 20))
    os.replace(tmp, path)


def smallfiles(root, count, size):
    stamp = os.path.join(root, ".complete-%d-%d" % (count, size))
    if os.path.exists(stamp):
        return
    rnd = random.Random(2)
    for i in range(count):
        d = os.path.join(root, "d%02d" % (i % 100))
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "f%05d.bin" % i), "wb") as f:
            f.write(rnd.randbytes(size))
    open(stamp, "w").close()


def manifest(path, rows):
    if os.path.exists(path):
        return
    rnd = random.Random(1)
    words = ["images", "labels", "train", "valid", "raw", "derived", "sensor", "camera"]
    keys = []
    for i in range(rows):
        # e.g. "camera/train/2024-03/frame-0001234-7f3a9c1e.jpg" (about 40 characters)
        keys.append("%s/%s/p%04d/frame-%07d-%08x.jpg" % (
            words[i % 8], words[(i // 8) % 8], i // 1000, i, rnd.getrandbits(32)))
    keys.sort(key=lambda k: k.split("/"))
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(json.dumps({"message": "bench: %d rows" % rows, "user_meta": {"project": "bench"},
                            "version": "v0"}) + "\n")
        for k in keys:
            digest = rnd.getrandbits(256).to_bytes(32, "big")
            version = base64.urlsafe_b64encode(rnd.getrandbits(192).to_bytes(24, "big")).decode()[:32]
            row = {
                "logical_key": k,
                "physical_keys": ["s3://quilt-bench-bucket/%s?versionId=%s" % (k, version)],
                "size": rnd.randrange(1, 1 << 24),
                "hash": {"type": "sha2-256-chunked", "value": base64.b64encode(digest).decode()},
                "meta": {},
            }
            f.write(json.dumps(row, separators=(",", ":")) + "\n")
    os.replace(tmp, path)


if __name__ == "__main__":
    kind = sys.argv[1]
    if kind == "bigfile":
        bigfile(sys.argv[2], int(sys.argv[3]))
    elif kind == "smallfiles":
        smallfiles(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif kind == "manifest":
        manifest(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit("unknown kind " + kind)
