#!/usr/bin/env bash
# The vault's batched audited read beside SQLCipher 4 (keyed, default settings), each as a ratio
# to plain SQLite measured in the same process, in one run of this script.
#
# SQLCipher is built in its own crate (peers/sqlcipher, outside the workspace, with its own
# lockfile: inside it, rusqlite's `bundled` and `bundled-sqlcipher-vendored-openssl` would unify
# and everything would run on SQLCipher). Its first build compiles OpenSSL (a few minutes).
#
# Usage: scripts/peers.sh [RECORDS] [LONG_RECORDS]   (default 100000 10000)
set -euo pipefail
cd "$(dirname "$0")/.."
records=${1:-100000}
long=${2:-10000}
small=1000
reads=100000

cargo build --release --quiet --example peer_vault
(cd peers/sqlcipher && cargo build --release --quiet)
vault_bin=target/release/examples/peer_vault
peer_bin=peers/sqlcipher/target/release/confide-peer-sqlcipher

field() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$2"; }

run() { echo "  running: $*" >&2; "$@"; }
v_big=$(run "$vault_bin" --records "$records" --reads "$reads")
v_small=$(run "$vault_bin" --records "$small" --reads "$reads")
v_long=$(run "$vault_bin" --records "$long" --reads "$((reads / 5))" --shape long)
c_big=$(run "$peer_bin" --records "$records" --reads "$reads" --shape six)
c_small=$(run "$peer_bin" --records "$small" --reads "$reads" --shape six)
c_long=$(run "$peer_bin" --records "$long" --reads "$((reads / 5))" --shape long)

echo
echo "Ratios to plain SQLite (one row per field, WAL, synchronous NORMAL), each measured in"
echo "the same process; $(date -u +%F), $(nproc) cores. SQLCipher $(field cipher_version "$c_big")."
echo
printf '%-44s %10s %12s %10s\n' "read (mean per record)" "records" "time (µs)" "vs plain"
printf '%-44s %10s %12s %10s\n' "vault read_records, 100 a call, audited" "$records" \
  "$(field vault_batch_100_us "$v_big")" "$(field ratio "$v_big")"
printf '%-44s %10s %12s %10s\n' "SQLCipher 4 keyed, six fields" "$records" \
  "$(field sqlcipher_us "$c_big")" "$(field ratio "$c_big")"
printf '%-44s %10s %12s %10s\n' "vault, 100 a call (file in cache)" "$small" \
  "$(field vault_batch_100_us "$v_small")" "$(field ratio "$v_small")"
printf '%-44s %10s %12s %10s\n' "SQLCipher 4 keyed, six fields (in cache)" "$small" \
  "$(field sqlcipher_us "$c_small")" "$(field ratio "$c_small")"
printf '%-44s %10s %12s %10s\n' "SQLCipher 4 keyed, long notes (20 x 1-2 KB)" "$long" \
  "$(field sqlcipher_us "$c_long")" "$(field ratio "$c_long")"
printf '%-44s %10s %12s %10s\n' "vault, 100 a call, long notes" "$long" \
  "$(field vault_batch_100_us "$v_long")" "$(field ratio "$v_long")"
echo
vr=$(field ratio "$v_big"); cr=$(field ratio "$c_big")
echo "vault / SQLCipher at $records records: $(awk -v a="$vr" -v b="$cr" 'BEGIN { printf "%.2f", a / b }')x (target at least 1.0x)"
lv=$(field ratio "$v_long"); lc=$(field ratio "$c_long")
echo "vault / SQLCipher, long notes at $long records: $(awk -v a="$lv" -v b="$lc" 'BEGIN { printf "%.2f", a / b }')x (target at least 1.0x)"
