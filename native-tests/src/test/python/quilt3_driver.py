#!/usr/bin/env python3
"""Drives quilt3 (the reference Quilt client) for quiltfs's interoperability tests.

Every subcommand prints exactly one JSON document on stdout; quilt3's own chatter (progress
bars, "Package ... pushed") goes to stderr. Errors: a one-line message on stderr, exit 1.

Registries: a local folder (``file:///abs/path`` or a plain path) or ``s3://bucket``. quilt3 8
cannot *push* to a local folder ("Can only 'push' to remote registries in S3"), so for a
local registry the driver uses ``Package.build``, which writes the manifest and pointers and
leaves every physical key pointing at the source file, which is what quilt3 users get. On S3
it uses ``Package.push``, which copies the data to ``<ns>/<name>/<key>``.

The environment decides everything else, as for any quilt3 user:
- S3: ``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_S3``, ``AWS_CONFIG_FILE`` (path-style
  addressing), ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY``, ``AWS_REGION``.
- Isolation and no network: ``XDG_DATA_HOME`` / ``XDG_CACHE_HOME`` (quilt3's config, local
  registry and cache), ``QUILT_DISABLE_USAGE_METRICS=true`` (no telemetry),
  ``QUILT_MINIMIZE_STDOUT=true`` (no progress bars). The caller sets them before this runs,
  because quilt3 reads them when it is imported.

Subcommands (see ``--help`` of each):
  build         make a package from a folder (metadata on package, files, folders; extra
                header keys; a chosen hash type), push it (S3) or build it (local), and
                print its top hash and, as "view", what browse prints for it
  browse        print the manifest as quilt3 sees it: top hash, header, rows, folder rows
  fetch-verify  fetch every file into a folder and check it with Package.verify (and
                each object at its physical key); prints the revision's view too
  push-on-top   take the latest revision, change files, publish a revision on top of it
  list          the packages of a registry and their pointers, as quilt3 lists them
  checksum      quilt3's checksum of local files, by hash type
"""

import argparse
import contextlib
import json
import os
import pathlib
import sys


def _fail(msg):
    print("quilt3_driver: " + msg, file=sys.stderr)
    sys.exit(1)


with contextlib.redirect_stdout(sys.stderr):
    import quilt3
    from quilt3 import checksums, data_transfer
    from quilt3.util import PhysicalKey, fix_url

HASH_TYPES = (checksums.SHA256_HASH_NAME, checksums.SHA256_CHUNKED_HASH_NAME, checksums.CRC64NVME_HASH_NAME)


def is_remote(registry):
    return registry.startswith("s3://")


def quilt3_checksum(pk, size, hash_type):
    """The checksum quilt3 computes for an object, through quilt3's own code paths."""
    if hash_type == checksums.SHA256_HASH_NAME:
        (res,) = data_transfer.legacy_calculate_checksum([pk], [size])
    elif hash_type in HASH_TYPES:
        (res,) = data_transfer.calculate_multipart_checksum([data_transfer.FileChecksumTask.create(pk, size, hash_type)])
    else:
        _fail("unknown hash type %r (quilt3 %s knows %s)" % (hash_type, quilt3.__version__, ", ".join(HASH_TYPES)))
    if isinstance(res, Exception):
        raise res
    return res


def set_hash_type(pkg, hash_type):
    """Gives every row a hash of ``hash_type``.

    quilt3 8 always writes its DEFAULT_HASH (sha2-256-chunked): there is no setting or
    environment variable for the type. It reads and verifies SHA256 and CRC64NVME rows, and it
    keeps a row's hash when the row already has one. So a row of another type is made the way
    quilt3 makes any row: its own checksum code, set on the entry before build/push.
    """
    if hash_type is None or hash_type == checksums.DEFAULT_HASH:
        return
    for _, entry in pkg.walk():
        entry.hash = dict(type=hash_type, value=quilt3_checksum(entry.physical_key, entry.size, hash_type))


def keep_preset_hashes(file_list, message=None, callback=None):
    """copy_file_list for push: copies, but keeps the rows' own hashes.

    Package._push replaces a row's hash with the sha2-256-chunked checksum that S3 returns on
    upload; returning no checksum keeps the hash the row already has (same content).
    """
    results = data_transfer.copy_file_list(file_list, message=message, callback=callback)
    return [(pk, None) for pk, _ in results]


def publish(pkg, name, registry, message, *, force, keep_hashes=False, workflow=...):
    """Push to S3, build into a local registry. Returns the published package.

    ``workflow``: ... for the registry's default workflow, None for none, else an id.
    """
    with contextlib.redirect_stdout(sys.stderr):
        if is_remote(registry):
            kwargs = {}
            if keep_hashes:
                kwargs["copy_file_list_fn"] = keep_preset_hashes
            return pkg._push(name, registry, None, message, None, workflow=workflow, print_info=True,
                             force=force, dedupe=False, **kwargs)
        pkg.build(name, registry=registry, message=message, workflow=workflow)
        return pkg


def load_json(s, what):
    if s is None:
        return None
    try:
        return json.loads(s)
    except ValueError as e:
        _fail("%s is not JSON: %s" % (what, e))


def cmd_build(a):
    src = pathlib.Path(a.src).resolve()
    if not src.is_dir():
        _fail("%s is not a folder" % src)
    pkg = quilt3.Package()
    with contextlib.redirect_stdout(sys.stderr):
        pkg.set_dir("/", str(src))
    for lk, meta in (load_json(a.file_meta, "--file-meta") or {}).items():
        pkg[lk].set_meta(meta)
    dir_meta = load_json(a.dir_meta, "--dir-meta") or {}
    for lk, meta in dir_meta.items():
        pkg[lk.rstrip("/")].set_meta(meta)
    meta = load_json(a.meta, "--meta")
    if meta is not None:
        pkg.set_meta(meta)
    for k, v in (load_json(a.header_extra, "--header-extra") or {}).items():
        pkg._meta[k] = v  # any header key is kept and enters the top hash
    set_hash_type(pkg, a.hash_type)
    keep = a.hash_type not in (None, checksums.DEFAULT_HASH)
    workflow = ... if a.workflow is None else (a.workflow or None)  # '' means none, as in quilt3's CLI
    out = publish(pkg, a.name, a.registry, a.message, force=True, keep_hashes=keep, workflow=workflow)
    if dir_meta and is_remote(a.registry):
        # Package.push (quilt3 8.0.0) drops folder-metadata rows: it copies the header and the
        # entries into a new Package but not the folders' meta. Package.build keeps them, so put
        # them back on the pushed package (its physical keys now in the bucket) and build that.
        for lk, meta in dir_meta.items():
            out[lk.rstrip("/")].set_meta(meta)
        with contextlib.redirect_stdout(sys.stderr):
            out.build(a.name, registry=a.registry, message=a.message)
    with contextlib.redirect_stdout(sys.stderr):
        published = quilt3.Package.browse(a.name, registry=a.registry, top_hash=out.top_hash)
    print(json.dumps({"top_hash": out.top_hash, "quilt3": quilt3.__version__, "view": view(published)},
                     ensure_ascii=True))


def browse(a):
    with contextlib.redirect_stdout(sys.stderr):
        return quilt3.Package.browse(a.name, registry=a.registry, top_hash=a.top_hash)


def view(pkg):
    """A revision as quilt3 sees it: top hash, header, rows in walk order, folder rows."""
    rows = []
    for lk, e in pkg.walk():
        rows.append({"logical_key": lk, "physical_key": str(e.physical_key), "size": e.size,
                     "hash": e.hash, "meta": e._meta})
    dirs = [{"logical_key": k, "meta": m} for k, m in pkg._walk_dir_meta()]
    return {"top_hash": pkg.top_hash, "header": pkg._meta, "rows": rows, "dirs": dirs}


def cmd_browse(a):
    print(json.dumps(view(browse(a)), ensure_ascii=True))


def cmd_fetch_verify(a):
    pkg = browse(a)
    dest = pathlib.Path(a.dest).resolve()
    dest.mkdir(parents=True, exist_ok=True)
    with contextlib.redirect_stdout(sys.stderr):
        pkg.fetch(str(dest) + "/")
        verified = pkg.verify(str(dest) + "/", extra_files_ok=False)
        # Also check each object where it lives (at its physical key), as PackageEntry does.
        mismatched = []
        for lk, e in pkg.walk():
            if e.size <= a.max_get_bytes:
                try:
                    e._verify_hash(e.get_bytes(use_cache_if_available=False))
                except quilt3.util.QuiltException:
                    mismatched.append(lk)
    print(json.dumps({"top_hash": pkg.top_hash, "verified": bool(verified) and not mismatched,
                      "mismatched": mismatched, "files": sum(1 for _ in pkg.walk()), "view": view(pkg)},
                     ensure_ascii=True))


def cmd_push_on_top(a):
    pkg = browse(a)
    base = pkg.top_hash
    for spec in a.set or []:
        lk, _, path = spec.partition("=")
        with contextlib.redirect_stdout(sys.stderr):
            pkg.set(lk, str(pathlib.Path(path).resolve()))
    for lk in a.delete or []:
        pkg.delete(lk)
    meta = load_json(a.meta, "--meta")
    if meta is not None:
        pkg.set_meta(meta)
    # Not forced: quilt3 refuses when latest is no longer the revision it started from.
    out = publish(pkg, a.name, a.registry, a.message, force=False)
    print(json.dumps({"top_hash": out.top_hash, "base": base}))


def cmd_list(a):
    with contextlib.redirect_stdout(sys.stderr):
        names = sorted(quilt3.list_packages(a.registry))
        versions = {n: sorted([v, h] for v, h in quilt3.list_package_versions(n, registry=a.registry)) for n in names}
    print(json.dumps({"packages": names, "versions": versions}))


def cmd_checksum(a):
    res = {}
    for f in a.files:
        p = pathlib.Path(f).resolve()
        res[f] = quilt3_checksum(PhysicalKey.from_path(str(p)), p.stat().st_size, a.hash_type)
    print(json.dumps(res))


def main(argv):
    ap = argparse.ArgumentParser(prog="quilt3_driver", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)

    def pkg_args(p):
        p.add_argument("--registry", required=True, help="file:///abs/path, a path, or s3://bucket")
        p.add_argument("--name", required=True, help="ns/name")

    b = sub.add_parser("build", help="make a package from a folder and publish it")
    pkg_args(b)
    b.add_argument("--src", required=True)
    b.add_argument("--message")
    b.add_argument("--meta", help="package user_meta (JSON)")
    b.add_argument("--file-meta", help='JSON {"logical/key": user_meta}')
    b.add_argument("--dir-meta", help='JSON {"folder/": user_meta}: folder-metadata rows')
    b.add_argument("--header-extra", help="JSON object: extra header keys")
    b.add_argument("--hash-type", choices=HASH_TYPES)
    b.add_argument("--workflow", help="workflow id; '' for none; absent: the registry's default")
    b.set_defaults(fn=cmd_build)

    br = sub.add_parser("browse", help="print the manifest as quilt3 sees it (JSON)")
    pkg_args(br)
    br.add_argument("--top-hash")
    br.set_defaults(fn=cmd_browse)

    fv = sub.add_parser("fetch-verify", help="fetch every file into DEST and verify it")
    pkg_args(fv)
    fv.add_argument("--top-hash")
    fv.add_argument("--dest", required=True)
    fv.add_argument("--max-get-bytes", type=int, default=1 << 20,
                    help="also check objects up to this size in memory at their physical keys")
    fv.set_defaults(fn=cmd_fetch_verify)

    pt = sub.add_parser("push-on-top", help="publish a revision on top of latest")
    pkg_args(pt)
    pt.add_argument("--top-hash")
    pt.add_argument("--set", action="append", metavar="KEY=PATH")
    pt.add_argument("--delete", action="append", metavar="KEY")
    pt.add_argument("--meta")
    pt.add_argument("--message")
    pt.set_defaults(fn=cmd_push_on_top)

    ls = sub.add_parser("list", help="packages and their pointers (name -> [[pointer, top hash]])")
    ls.add_argument("--registry", required=True)
    ls.set_defaults(fn=cmd_list)

    ck = sub.add_parser("checksum", help="quilt3's checksum of local files (JSON path -> value)")
    ck.add_argument("--hash-type", choices=HASH_TYPES, default=checksums.DEFAULT_HASH)
    ck.add_argument("files", nargs="+")
    ck.set_defaults(fn=cmd_checksum)

    a = ap.parse_args(argv)
    if getattr(a, "registry", None) and not is_remote(a.registry) and "://" not in a.registry:
        a.registry = pathlib.Path(a.registry).resolve().as_uri()
    try:
        a.fn(a)
    except Exception as e:  # one line for the test's failure message; the trace with QUILT3_DRIVER_DEBUG
        if os.environ.get("QUILT3_DRIVER_DEBUG"):
            raise
        _fail("%s: %s" % (type(e).__name__, str(e).replace("\n", " ")))


if __name__ == "__main__":
    main(sys.argv[1:])
