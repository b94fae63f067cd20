#!/usr/bin/env bash
# The hostile-input set (issue 17): build the release binary, then run every case and print
# wall time and peak memory. Exit 1 when a case takes over 10 s or 2 GB (or panics).
#   bench/hostile/run.sh                 # all cases
#   bench/hostile/run.sh --only site-    # cases whose name contains "site-"
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release --quiet
exec python3 bench/hostile/hostile.py --bin target/release/portplan "$@"
