#!/usr/bin/env bash
# The foundation benchmarks of issue 2, side by side with openssl and quilt3, in one run:
#   bench/foundation.sh [--reps N] [--only big|small|manifest]... [--no-jmh]
# Builds the CLI and the bench module, installs quilt3 in .venv (scripts/setup), generates the
# data under bench/work/ (1 GiB file, 10,000 x 10 KiB files, 1,000,000-row manifest: ~1.8 GB,
# kept between runs), then prints a Markdown table of medians, ratios and targets.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"

[ -x .venv/bin/python ] || ./scripts/setup
offline=-o
mvn -q -B $offline -pl cli,bench -am package -DskipTests >&2 || mvn -q -B -pl cli,bench -am package -DskipTests >&2
./quiltfs --version >/dev/null   # the launcher records its class-data-sharing archive if it has none

mkdir -p "$here/work"
python3 "$here/gen.py" bigfile "$here/work/1g.bin" 1024
python3 "$here/gen.py" smallfiles "$here/work/small" 10000 10240
python3 "$here/gen.py" manifest "$here/work/m1m.jsonl" 1000000

exec python3 "$here/foundation.py" "$@"
