#!/usr/bin/env bash
# Issue 4 benchmarks: quiltfs against S3 (a local S3Proxy), side by side with peers in one run.
#
#   download  a 1 GiB object into the object cache (verified, fsync'ed) vs one plain AWS SDK GET
#             of the same object into a file (bench/src/main/java/io/quiltfs/bench/S3Bench.java)
#   push      a package of 1 GiB in 1 file + 10,000 small files: `quiltfs build` vs `rclone copy`
#             (Debian's rclone) vs quilt3 (from .venv) pushing the same files to the same server
#   re-push   the same package again: the requests quiltfs sends (it must upload nothing)
#
# Writes the "## S3" section of bench/RESULTS.md. Needs: java, mvn, rclone (apt-get install
# rclone), .venv with quilt3 (scripts/setup). REPS (default 3 for downloads, PUSH_REPS 1 for
# pushes) sets the repetitions; the figures are medians. Work files go to bench/work/s3.
# ONLY=push runs only the push and re-push parts and prints their figures (RESULTS.md untouched).
# Every timed run is preceded by the same memory state (bench/memory.sh: MEMORY=primed, the
# default, or settled): each side writes a GiB of new pages (the cache file, the SDK's output
# file, S3Proxy's stored objects), and on this VM their price depends on what ran just before.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${QUILTFS_BENCH_WORK:-$here/bench/work/s3}"
reps="${REPS:-3}"
push_reps="${PUSH_REPS:-1}"
only="${ONLY:-}"
mkdir -p "$work"
cd "$here"
. "$here/bench/memory.sh"

command -v rclone >/dev/null || { echo "bench/s3.sh: rclone is missing (apt-get install rclone)" >&2; exit 1; }
[ -x "$here/.venv/bin/python" ] || { echo "bench/s3.sh: .venv is missing (run scripts/setup)" >&2; exit 1; }

echo "building..." >&2
mvn -q -B -pl bench,cli -am package dependency:build-classpath -Dmdep.outputFile=target/cp.txt -DskipTests >&2
touch cli/target/quiltfs.jar
cp="bench/target/classes:$(cat bench/target/cp.txt)"
jar="$HOME/.m2/repository/org/gaul/s3proxy/4.1.0/s3proxy-4.1.0-jar-with-dependencies.jar"
[ -f "$jar" ] || { echo "bench/s3.sh: S3Proxy is not at $jar (build the store module once)" >&2; exit 1; }

# --- S3Proxy on a free loopback port, stopped on exit ------------------------------------------
. "$here/bench/s3proxy.sh"
data="$work/s3data"
rm -rf "$data" "$work/home"*
s3proxy_pid=""
trap 'kill $s3proxy_pid 2>/dev/null || true; wait $s3proxy_pid 2>/dev/null || true' EXIT
start_s3proxy "$work" "$data" "$jar"

# A fresh bucket per run (a folder of the filesystem backend); the counter lives in a file
# because callers run this in a subshell.
rm -f "$work/.buckets"
new_bucket() {
  local n=$(( $(cat "$work/.buckets" 2>/dev/null || echo 0) + 1 ))
  echo "$n" > "$work/.buckets"
  mkdir -p "$data/$1$n"
  echo "$1$n"
}
now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

# --- data: 1 GiB of random bytes, 10,000 small files --------------------------------------------
pkg="$work/pkg"
if [ ! -f "$pkg/big.bin" ] || [ "$(stat -c %s "$pkg/big.bin")" != 1073741824 ]; then
  echo "generating data..." >&2
  rm -rf "$pkg" && mkdir -p "$pkg"
  head -c 1073741824 /dev/urandom > "$pkg/big.bin"
  python3 - "$pkg/small" <<'EOF'
import os, random, sys
root = sys.argv[1]
rnd = random.Random(4)
for i in range(10000):
    d = os.path.join(root, "d%03d" % (i // 100))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%05d.txt" % i), "wb") as f:
        f.write(rnd.randbytes(rnd.randint(100, 8000)))
EOF
fi
mkdir -p "$work/bigonly"
ln -f "$pkg/big.bin" "$work/bigonly/big.bin"

# --- download: 1 GiB into the cache vs one SDK GET ------------------------------------------------
if [ "$only" != push ]; then
echo "download..." >&2
dl_bucket=$(new_bucket dl)
./quiltfs --home "$work/home-dl" build team/big "$work/bigonly" -r "s3://$dl_bucket" > /dev/null
: > "$work/dl.sdk"; : > "$work/dl.qf"
for i in $(seq "$reps"); do
  rm -f "$work/sdk.out"; rm -rf "$work/home-fetch"
  memory_prep "$work"
  java -cp "$cp" io.quiltfs.bench.S3Bench sdk-get "$endpoint" "$dl_bucket" team/big/big.bin "$work/sdk.out" \
    | awk '{print $1}' >> "$work/dl.sdk"
  rm -f "$work/sdk.out"; rm -rf "$work/home-fetch"
  memory_prep "$work"
  java -XX:+UseParallelGC -cp "$cp" io.quiltfs.bench.S3Bench fetch "$endpoint" "$dl_bucket" team/big "$work/home-fetch" \
    | awk '{print $1}' >> "$work/dl.qf"
done
rm -f "$work/sdk.out"; rm -rf "$work/home-fetch"
sdk_s=$(median < "$work/dl.sdk"); qf_s=$(median < "$work/dl.qf")
fi

# --- push: quiltfs build vs rclone copy vs quilt3 -----------------------------------------------
echo "push..." >&2
# S3Proxy's JIT warms up on whoever comes first: 1,000 PUTs into a scratch bucket beforehand.
rclone --config "$work/rclone.conf" copy "$pkg/small" "s3p:$(new_bucket warm)/w" --include 'd00[0-9]/**'
: > "$work/push.qf"; : > "$work/push.rc"; : > "$work/push.q3"
for i in $(seq "$push_reps"); do
  b=$(new_bucket qf); rm -rf "$work/home-push"
  memory_prep "$work"
  t0=$(now)
  QUILTFS_JAVA_OPTS="-Dorg.slf4j.simpleLogger.log.io.quiltfs.store.registry.S3Registry=debug" \
    ./quiltfs --home "$work/home-push" build team/pkg "$pkg" -r "s3://$b" -m bench > /dev/null 2> "$work/push1.err"
  t1=$(now); echo "$t1 - $t0" | bc >> "$work/push.qf"
  qf_bucket=$b

  b=$(new_bucket rc)
  memory_prep "$work"
  t0=$(now)
  rclone --config "$work/rclone.conf" copy "$pkg" "s3p:$b/team/pkg"
  t1=$(now); echo "$t1 - $t0" | bc >> "$work/push.rc"

  b=$(new_bucket q3)
  memory_prep "$work"
  t0=$(now)
  QUILT_DISABLE_USAGE_METRICS=true XDG_DATA_HOME="$work/q3data" XDG_CACHE_HOME="$work/q3cache" \
    "$here/.venv/bin/python" - "$pkg" "s3://$b" <<'EOF' > "$work/q3.out" 2>&1
import sys
import quilt3
p = quilt3.Package()
p.set_dir(".", sys.argv[1])
p.push("team/pkg", registry=sys.argv[2], force=True, message="bench")
EOF
  t1=$(now); echo "$t1 - $t0" | bc >> "$work/push.q3"
done
r3() { printf '%.3f' "$1"; }
push_qf=$(r3 "$(median < "$work/push.qf")"); push_rc=$(r3 "$(median < "$work/push.rc")"); push_q3=$(r3 "$(median < "$work/push.q3")")
first_requests=$(sed -n 's/.*requests sent //p' "$work/push1.err" | tail -1)

# --- re-push: nothing to upload -----------------------------------------------------------------
echo "re-push..." >&2
memory_prep "$work"
t0=$(now)
QUILTFS_JAVA_OPTS="-Dorg.slf4j.simpleLogger.log.io.quiltfs.store.registry.S3Registry=debug" \
  ./quiltfs --home "$work/home-push" build team/pkg "$pkg" -r "s3://$qf_bucket" -m bench > /dev/null 2> "$work/push2.err"
t1=$(now); repush_s=$(r3 "$(echo "$t1 - $t0" | bc)")
second_requests=$(sed -n 's/.*requests sent //p' "$work/push2.err" | tail -1)
rm -rf "$work/home-other"
memory_prep "$work"
t0=$(now)
QUILTFS_JAVA_OPTS="-Dorg.slf4j.simpleLogger.log.io.quiltfs.store.registry.S3Registry=debug" \
  ./quiltfs --home "$work/home-other" build team/pkg "$pkg" -r "s3://$qf_bucket" -m bench > /dev/null 2> "$work/push3.err"
t1=$(now); other_s=$(r3 "$(echo "$t1 - $t0" | bc)")
other_requests=$(sed -n 's/.*requests sent //p' "$work/push3.err" | tail -1)

if [ "$only" = push ]; then
  echo "push: quiltfs $push_qf s, rclone $push_rc s ($(python3 -c "print('%.2f' % ($push_rc / $push_qf))")x), quilt3 $push_q3 s ($(python3 -c "print('%.2f' % ($push_q3 / $push_qf))")x); load $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "first push requests: $first_requests"
  echo "re-push $repush_s s: $second_requests"
  echo "re-push from another home $other_s s: $other_requests"
  exit 0
fi

# --- RESULTS.md ----------------------------------------------------------------------------------
ratio() { python3 -c "print('%.2f' % ($1 / $2))"; }
mibs() { python3 -c "print('%.0f' % (1024 / $1))"; }
section="$work/section.md"
cat > "$section" <<EOF
## S3

\`bench/s3.sh\`, $(date -u +%Y-%m-%d), $(nproc) cores (load average $(cut -d' ' -f1-3 /proc/loadavg) at the end:
the machine is shared, so only the ratios within one run mean anything). S3Proxy 4.1.0
(filesystem backend) on loopback; medians of $reps download and $push_reps push runs; memory
state before every timed run: $memory (bench/memory.sh).

| measure | quiltfs | baseline | ratio (target) |
|---|---|---|---|
| download 1 GiB into the cache, verified and fsync'ed, vs one plain SDK GET into a file | ${qf_s} s ($(mibs "$qf_s") MiB/s) | ${sdk_s} s ($(mibs "$sdk_s") MiB/s) | $(ratio "$sdk_s" "$qf_s")x throughput (>= 1.0) |
| push 1 GiB + 10,000 small files (\`quiltfs build\`, hashing included) vs \`rclone copy\` | ${push_qf} s | ${push_rc} s | $(ratio "$push_rc" "$push_qf")x faster (>= 1.5) |
| same push vs quilt3 \`Package.push\` | ${push_qf} s | ${push_q3} s | $(ratio "$push_q3" "$push_qf")x faster (>= 2) |
| second push of the same package | ${repush_s} s | | requests: ${second_requests} |
| second push from another home (no record of confirmed objects) | ${other_s} s | | requests: ${other_requests} |

First push requests: ${first_requests} (one listing of the package, then one conditional PUT
per new object, no HEADs). The second push uploads no data object (no \`UploadPart\`; the
\`PutObject\`s are the timestamp pointer and \`latest\`): one listing shows every key with the
ETag that the home's record of confirmed objects holds, so no object needs a HEAD either.
Without that record (another machine) each object costs one HEAD, which finds its checksum in
the object's \`x-amz-meta-quiltfs-checksum\`. \`PutObject\` counts attempts, retries included.

What each side does: \`quiltfs build\` walks the folder, hashes every file (\`sha2-256-chunked\`),
uploads (one conditional PUT per small file, 8 MiB parts for the big one, each body carrying the
SHA-256 it was hashed with in \`x-amz-checksum-sha256\`, which S3Proxy verifies), then writes the
manifest and pointers. \`rclone copy\` lists the destination, computes MD5s and uploads (Content-MD5
per part). quilt3 hashes (\`sha2-256-chunked\`), uploads, writes the manifest. S3Proxy is warmed
with 1,000 PUTs before the first push. Over plain http the SDK's SigV4 signer would hash every
upload body again (it only sends \`UNSIGNED-PAYLOAD\` on https); quiltfs signs bodies that carry
their SHA-256 without hashing them (see S3Registry), so a push hashes its data once. What remains
for the 10,000 small files is per-request cost: the SDK's request pipeline plus the JIT that
compiles it costs the client more CPU per PUT than rclone, and the server's work per PUT is the
same for every client.
EOF

results="$here/bench/RESULTS.md"
[ -f "$results" ] || printf '# Benchmark results\n\n' > "$results"
python3 - "$results" "$section" <<'EOF'
import re, sys
path, section = sys.argv[1], open(sys.argv[2]).read()
text = open(path).read()
m = re.search(r'^## S3\n.*?(?=^## |\Z)', text, flags=re.S | re.M)
text = text[:m.start()] + section + "\n" + text[m.end():] if m else text.rstrip("\n") + "\n\n" + section
open(path, "w").write(text)
EOF
cat "$section"
