#!/usr/bin/env bash
# Instructions per audited read, from two callgrind runs of examples/read_instructions.rs that
# differ only in the number of reads: (total(N2) - total(N1)) / (N2 - N1).
# Usage: scripts/read_instructions.sh [N1] [N2] [BATCH]   (default 500 1500 1; needs valgrind)
# With BATCH > 1 the reads are batched calls of BATCH records (Session::read_records).
set -euo pipefail
cd "$(dirname "$0")/.."
n1=${1:-500}
n2=${2:-1500}
batch=${3:-1}
cargo build --release --quiet --example read_instructions
bin=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')/release/examples/read_instructions
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
total() {
  valgrind --tool=callgrind --callgrind-out-file="$dir/cg.$1" "$bin" --records 200 --reads "$1" --batch "$batch" --out "$dir" >/dev/null 2>"$dir/log.$1"
  sed -n 's/^summary: //p' "$dir/cg.$1"
}
t1=$(total "$n1")
t2=$(total "$n2")
echo "instructions: $t1 ($n1 reads), $t2 ($n2 reads)"
echo "per audited read (batch $batch): $(( (t2 - t1) / (n2 - n1) ))"
