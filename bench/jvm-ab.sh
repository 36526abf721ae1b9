#!/usr/bin/env bash
# A/B of JVM settings for a push of many small files: `quiltfs build` of FILES (default 3,000)
# files of 4 KiB to a fresh bucket of a local S3Proxy per run, the two sides interleaved for
# ROUNDS (default 4) rounds after one warm-up build. Prints wall time and the process's CPU
# (user + sys, the steadier figure on a shared machine) per run.
#
#   A_OPTS / B_OPTS   extra JVM options of each side (QUILTFS_JAVA_OPTS; default: none)
#   A_ENV / B_ENV     environment settings of each side (VAR=VALUE words), e.g. QUILTFS_CDS=0
#   A_JAR / B_JAR     a built quiltfs.jar (its lib/ beside it) per side; default: a copy of
#                     cli/target taken at the start, so that editing sources meanwhile is safe
#
# Example: C1 compiling the AWS SDK and its HTTP client after a fifth of the usual calls (B):
#   B_OPTS="-XX:CompileCommand=quiet -XX:CompileCommand=CompileThresholdScaling,software.amazon.awssdk.*::*,0.2" \
#     bash bench/jvm-ab.sh
# Needs java, python3 with boto3 (.venv from scripts/setup), S3Proxy in ~/.m2 (mvn test-compile).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${QUILTFS_BENCH_WORK:-$here/bench/work/jvm-ab}"
files="${FILES:-3000}"
rounds="${ROUNDS:-4}"
py="$here/.venv/bin/python"
s3proxy_jar="$HOME/.m2/repository/org/gaul/s3proxy/4.1.0/s3proxy-4.1.0-jar-with-dependencies.jar"
mkdir -p "$work"
cd "$here"
if [ -z "${A_JAR:-}" ] || [ -z "${B_JAR:-}" ]; then
  ./quiltfs --help > /dev/null # builds when sources changed
  rm -rf "$work/jar" && mkdir -p "$work/jar" && cp -r cli/target/quiltfs.jar cli/target/lib "$work/jar/"
fi
a_jar="${A_JAR:-$work/jar/quiltfs.jar}"
b_jar="${B_JAR:-$work/jar/quiltfs.jar}"
if [ "$(find "$work/src" -type f 2>/dev/null | wc -l)" != "$files" ]; then
  rm -rf "$work/src"
  python3 - "$work/src" "$files" <<'EOF'
import os, random, sys
root, n = sys.argv[1], int(sys.argv[2])
rnd = random.Random(7)
for i in range(n):
    d = os.path.join(root, f"d{i % 30:02d}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"f{i:05d}.bin"), "wb") as f:
        f.write(rnd.randbytes(4096))
EOF
fi
source "$here/bench/s3proxy.sh"
rm -rf "$work/data"
start_s3proxy "$work" "$work/data" "$s3proxy_jar"
trap 'kill $s3proxy_pid 2>/dev/null || true' EXIT
bucket() { "$py" -c "import boto3, sys; boto3.client('s3').create_bucket(Bucket=sys.argv[1])" "$1"; }
bucket warm
rm -rf "$work/home"
QUILTFS_JAR="$a_jar" ./quiltfs --home "$work/home" build t/p "$work/src" -r s3://warm -m warm > /dev/null
echo "# $(date -u '+%F %T') UTC, $files files, $rounds rounds; A: ${A_ENV:-} '${A_OPTS:-}'; B: ${B_ENV:-} '${B_OPTS:-}'"
n=0
for round in $(seq "$rounds"); do
  for side in A B; do
    n=$((n + 1))
    bucket "ab$n"
    rm -rf "$work/home"
    if [ "$side" = A ]; then opts="${A_OPTS:-}" jar="$a_jar" vars="${A_ENV:-}"
    else opts="${B_OPTS:-}" jar="$b_jar" vars="${B_ENV:-}"; fi
    # shellcheck disable=SC2086 # vars: VAR=VALUE words
    out=$( { /usr/bin/time -f "%e %U %S" env $vars QUILTFS_JAR="$jar" QUILTFS_JAVA_OPTS="$opts" \
      ./quiltfs --home "$work/home" build t/p "$work/src" -r "s3://ab$n" -m x > /dev/null; } 2>&1 | tail -1)
    read -r wall user sys <<< "$out"
    printf '%s round %d: wall %.2f s, cpu %.2f s (load %s)\n' "$side" "$round" "$wall" \
      "$(echo "$user + $sys" | bc)" "$(cut -d' ' -f1 /proc/loadavg)"
  done
done
