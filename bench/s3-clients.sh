#!/usr/bin/env bash
# Issue 4's client choice: which AWS SDK for Java v2 client to build the S3 registry on, measured
# against one S3Proxy on loopback (bench/src/main/java/io/quiltfs/bench/S3Clients.java), with
# rclone and curl as client-independent references. Parts (PARTS, default "puts reads mpu"):
#
#   puts   10,000 PUTs of 10 KiB files (distinct keys per run, If-None-Match: * and a precomputed
#          x-amz-checksum-sha256, as S3Registry sends them) with CLIENTS (default "sync netty crt")
#          at CONCS in flight (default "8 32 64"), and `rclone copy` of the same folder with its
#          defaults and with --transfers 32 --checkers 32; a client named CLIENT+warm (e.g.
#          CLIENTS="sync sync+warm") first sends the same PUTs once, untimed, in the same JVM
#          (steady state, JIT done: a floor for the client's cost; a push runs in a fresh JVM);
#   reads  a 1 GiB object in 8 MiB ranged GETs, N in flight (READ_NS, default "1 4 8"), into a
#          sink that discards the bytes: READ_CLIENTS (default "sync crt curl"; curl is one
#          process, --parallel, -o /dev/null, on a presigned URL; CLIENT+warm reads the object
#          once before, untimed, in the same JVM);
#   mpu    upload of a 1 GiB file as 8 MiB parts, each with its SHA-256: sync with 4 and 8 parts
#          in flight, crt with 8 (MPU_EXTRA=crt-auto/8 adds one putObject that the CRT splits
#          itself; against S3Proxy 4.1.0 it fails: "Upload Id not found in create-multipart-upload
#          response").
#
# ROUNDS (default 3) rounds; within a round every side runs once, in an order that rotates from
# round to round; every run is preceded by the same memory state (bench/memory.sh). Each run
# records: the client's own timing of the workload (wall, its process CPU; for rclone and curl the
# whole process), the whole process (JVM start included), S3Proxy's CPU over the run
# (/proc/PID/stat) and the load average before and after. Raw rows go to WORK/raw.tsv; medians
# are printed as Markdown (RAW sets the raw file). Work files go to bench/work/s3-clients. Needs java, mvn, rclone, curl.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${QUILTFS_BENCH_WORK:-$here/bench/work/s3-clients}"
rounds="${ROUNDS:-3}"
parts="${PARTS:-puts reads mpu}"
clients="${CLIENTS:-sync netty crt}"
concs="${CONCS:-8 32 64}"
read_ns="${READ_NS:-1 4 8}"
read_clients="${READ_CLIENTS:-sync crt curl}"
mkdir -p "$work"
cd "$here"
. "$here/bench/memory.sh"
command -v rclone >/dev/null || { echo "bench/s3-clients.sh: rclone is missing (apt-get install rclone)" >&2; exit 1; }
command -v curl >/dev/null || { echo "bench/s3-clients.sh: curl is missing" >&2; exit 1; }

echo "building..." >&2
rm -rf bench/target/lib # copy-dependencies leaves jars of earlier versions behind
mvn -B -q -ntp -o -pl bench -am package -DskipTests >&2
cp="bench/target/classes:$(ls bench/target/lib/*.jar | tr '\n' ':')"
jar="$HOME/.m2/repository/org/gaul/s3proxy/4.1.0/s3proxy-4.1.0-jar-with-dependencies.jar"
[ -f "$jar" ] || { echo "bench/s3-clients.sh: S3Proxy is not at $jar (build the store module once)" >&2; exit 1; }

. "$here/bench/s3proxy.sh"
data="$work/s3data"
rm -rf "$data"
s3proxy_pid=""
trap 'kill $s3proxy_pid 2>/dev/null || true; wait $s3proxy_pid 2>/dev/null || true' EXIT
start_s3proxy "$work" "$data" "$jar"

# --- data: 10,000 files of 10 KiB in 100 folders, one 1 GiB file ---------------------------------
small="$work/small"
if [ "$(find "$small" -type f 2>/dev/null | wc -l)" != 10000 ]; then
  echo "generating data..." >&2
  rm -rf "$small"
  python3 - "$small" <<'EOF'
import os, sys
root = sys.argv[1]
for i in range(10000):
    d = os.path.join(root, "d%03d" % (i // 100))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%05d.bin" % i), "wb") as f:
        f.write(os.urandom(10240))
EOF
fi
big="$work/big.bin"
if [ ! -f "$big" ] || [ "$(stat -c %s "$big")" != 1073741824 ]; then
  head -c 1073741824 /dev/urandom > "$big"
fi
size=1073741824

n_bucket=0
new_bucket() { n_bucket=$((n_bucket + 1)); bucket="$1$n_bucket"; mkdir -p "$data/$bucket"; }
server_cpu() { awk '{printf "%.2f", ($14 + $15) / 100}' "/proc/$s3proxy_pid/stat"; }
load1() { cut -d' ' -f1 /proc/loadavg; }
# run PART SIDE ROUND CMD...: times one run; CMD's last stdout line is "wall cpu count" (the
# Java side's own timing) or nothing (rclone, curl: the whole process is the measure).
raw="${RAW:-$work/raw.tsv}"
printf 'part\tside\tround\twall\tcpu\tproc_wall\tproc_cpu\tserver_cpu\tload_before\tload_after\n' > "$raw"
run() {
  local part="$1" side="$2" round="$3"; shift 3
  memory_prep "$work"
  local lb sb sa la out
  lb=$(load1); sb=$(server_cpu)
  out=$(python3 - "$@" <<'PY'
import resource, subprocess, sys, time
t0 = time.monotonic()
p = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, text=True)
wall = time.monotonic() - t0
r = resource.getrusage(resource.RUSAGE_CHILDREN)
if p.returncode != 0:
    sys.exit("run failed (%d): %s" % (p.returncode, " ".join(sys.argv[1:])))
lines = [l for l in p.stdout.splitlines() if l.strip()]
own = lines[-1].split() if lines and len(lines[-1].split()) == 3 else None
cpu = r.ru_utime + r.ru_stime
print("%s %s %.3f %.3f" % (own[0] if own else "%.3f" % wall, own[1] if own else "%.3f" % cpu, wall, cpu))
PY
  )
  sa=$(server_cpu); la=$(load1)
  read -r w c pw pc <<< "$out"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$part" "$side" "$round" "$w" "$c" "$pw" "$pc" \
    "$(echo "$sa - $sb" | bc)" "$lb" "$la" | tee -a "$raw" >&2
}
java_run() { java -XX:+UseParallelGC -cp "$cp" io.quiltfs.bench.S3Clients "$@"; }
# rotate WORDS...: the words starting at the round's offset (the order of sides rotates)
rotate() { local k=$(( $1 % ($# - 1) )); shift; local a=("$@"); echo "${a[@]:$k}" "${a[@]:0:$k}"; }

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
# S3Proxy's JIT warms up on whoever comes first: 10,000 PUTs and a 1 GiB read beforehand.
new_bucket warm
java_run puts sync 32 "$small" "$bucket" w > /dev/null
rm -rf "${data:?}/$bucket"

if [[ " $parts " == *" puts "* ]]; then
  sides=()
  for c in $clients; do for n in $concs; do sides+=("$c/$n"); done; done
  sides+=(rclone/default rclone/32)
  for r in $(seq "$rounds"); do
    for s in $(rotate "$r" "${sides[@]}"); do
      new_bucket puts
      case "$s" in
        rclone/default) run puts "$s" "$r" rclone --config "$work/rclone.conf" copy "$small" "s3p:$bucket/p" ;;
        rclone/32) run puts "$s" "$r" rclone --config "$work/rclone.conf" copy --transfers 32 --checkers 32 "$small" "s3p:$bucket/p" ;;
        *+warm/*) c="${s%/*}"
          run puts "$s" "$r" java -XX:+UseParallelGC -Dputs.warm=true -cp "$cp" io.quiltfs.bench.S3Clients puts "${c%+warm}" "${s#*/}" "$small" "$bucket" p ;;
        *) run puts "$s" "$r" java -XX:+UseParallelGC -cp "$cp" io.quiltfs.bench.S3Clients puts "${s%/*}" "${s#*/}" "$small" "$bucket" p ;;
      esac
      expect=10000; [[ "$s" != *+warm/* ]] || expect=20000
      [ "$(find "$data/$bucket" -type f | wc -l)" = "$expect" ] || { echo "bucket $bucket does not hold $expect objects after $s" >&2; exit 1; }
      rm -rf "${data:?}/$bucket"
    done
  done
fi

if [[ " $parts " == *" reads "* ]]; then
  new_bucket reads; rd="$bucket"
  java_run mpu sync 8 "$rd" big.bin "$big" > /dev/null
  java_run get sync 4 "$rd" big.bin "$size" > /dev/null # warm-up
  url=$(java_run presign "$rd" big.bin)
  for n in $read_ns; do
    cfg="$work/curl-$n.cfg"; : > "$cfg"
    for ((off = 0; off < size; off += 8388608)); do
      [ "$off" = 0 ] || echo next >> "$cfg"
      printf 'url = "%s"\nrange = "%d-%d"\noutput = "/dev/null"\nsilent\nshow-error\nfail\nwrite-out = "%%{size_download}\\n"\n' \
        "$url" "$off" $((off + 8388607)) >> "$cfg"
    done
  done
  sides=()
  for c in $read_clients; do for n in $read_ns; do sides+=("$c/$n"); done; done
  for r in $(seq "$rounds"); do
    for s in $(rotate "$r" "${sides[@]}"); do
      c="${s%/*}"; n="${s#*/}"
      if [ "$c" = curl ]; then
        run reads "$s" "$r" bash -c 'got=$(curl -sS --parallel --parallel-immediate --parallel-max "$1" -K "$2" | awk "{s+=\$1} END {print s}"); [ "$got" = "$3" ] || { echo "curl read $got bytes" >&2; exit 1; }' _ "$n" "$work/curl-$n.cfg" "$size"
      elif [[ "$c" == *+warm ]]; then
        run reads "$s" "$r" java -XX:+UseParallelGC -Dget.warm=true -cp "$cp" io.quiltfs.bench.S3Clients get "${c%+warm}" "$n" "$rd" big.bin "$size"
      else
        run reads "$s" "$r" java -XX:+UseParallelGC -cp "$cp" io.quiltfs.bench.S3Clients get "$c" "$n" "$rd" big.bin "$size"
      fi
    done
  done
  rm -rf "${data:?}/$rd"
fi

if [[ " $parts " == *" mpu "* ]]; then
  sides=(sync/4 sync/8 crt/8 ${MPU_EXTRA:-})
  for r in $(seq "$rounds"); do
    for s in $(rotate "$r" "${sides[@]}"); do
      new_bucket mpu
      c="${s%/*}"; n="${s#*/}"
      run mpu "$s" "$r" java -XX:+UseParallelGC -cp "$cp" io.quiltfs.bench.S3Clients mpu "$c" "$n" "$bucket" big.bin "$big"
      rm -rf "${data:?}/$bucket"
    done
  done
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

# --- medians ---------------------------------------------------------------------------------------
python3 - "$raw" <<'EOF'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
by = {}
for r in rows:
    by.setdefault((r["part"], r["side"]), []).append(r)
units = {"puts": 10000, "reads": 1024, "mpu": 1024}
for part in ("puts", "reads", "mpu"):
    keys = [k for k in by if k[0] == part]
    if not keys:
        continue
    print("\n%s (medians of %d rounds)\n" % (part, max(len(by[k]) for k in keys)))
    extra = "server CPU ms per PUT" if part == "puts" else "MiB/s"
    print("| side | wall s | client CPU s | whole process s (CPU s) | S3Proxy CPU s | %s | load before-after | runs (wall s) |" % extra)
    print("|---|---|---|---|---|---|---|---|")
    for k in keys:
        rs = by[k]
        med = lambda f: statistics.median(float(r[f]) for r in rs)
        # +warm runs sent every PUT twice (the untimed pass, then the timed one)
        x = med("server_cpu") * 1000 / (20000 if "+warm" in k[1] else 10000) if part == "puts" else 1024 / med("wall")
        print("| %s | %.2f | %.2f | %.2f (%.2f) | %.2f | %s | %s | %s |" % (
            k[1], med("wall"), med("cpu"), med("proc_wall"), med("proc_cpu"), med("server_cpu"),
            "%.2f" % x if part == "puts" else "%.0f" % x,
            "%s-%s" % (min(r["load_before"] for r in rs), max(r["load_after"] for r in rs)),
            " ".join(r["wall"] for r in rs)))
EOF
