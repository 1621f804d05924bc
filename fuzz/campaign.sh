#!/bin/sh
# Runs each fuzz target in turn (never two at once: the machine is shared), SECONDS each, one
# libFuzzer worker at the lowest priority (or at NICE=n), 2 GiB memory and 10 s per input. Logs and crash
# artifacts go under fuzz/logs/ and fuzz/artifacts/ (not committed); the grown corpus under
# fuzz/corpus/. Build first: cargo +nightly fuzz build -O -a -s none
# Usage: fuzz/campaign.sh SECONDS [TARGET...]   (FUZZ_BIN=DIR: the targets' binaries, e.g. from a
# build with --target-dir; NICE=n: the priority, 19 by default)
set -u
cd "$(dirname "$0")"
secs=$1
shift
targets=${*:-"scenario seats_csv forensics_csv protocols_csv aggregates_csv receipts_csv heads merge_part audit_package vvpat_csv rla_package honest_fit verify_ledger"}
bin=$(cd "${FUZZ_BIN:-target/x86_64-unknown-linux-gnu/release}" && pwd) || exit 1
mkdir -p logs artifacts
for t in $targets; do
    mkdir -p "corpus/$t" "artifacts/$t" "logs/$t"
    start=$(date +%s)
    (cd "logs/$t" && nice -n "${NICE:-19}" "$bin/$t" "../../corpus/$t" "../../seeds/$t" \
        -jobs=1 -workers=1 -max_total_time="$secs" -rss_limit_mb=2048 -malloc_limit_mb=2048 \
        -timeout=10 -max_len=32768 -print_final_stats=1 \
        -artifact_prefix="../../artifacts/$t/" >/dev/null 2>&1)
    end=$(date +%s)
    echo "$t wall=$((end - start))s $(grep -h -E 'stat::number_of_executed_units|stat::new_units_added' logs/$t/fuzz-0.log | tr '\n' ' ') crashes=$(ls "artifacts/$t" | wc -l)"
done
