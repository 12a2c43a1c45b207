#!/usr/bin/env bash
# Run one atheris harness for a set time:  tools/fuzz/run.sh HARNESS SECONDS [extra libFuzzer flags]
#   HARNESS: exr | json | upload      SECONDS: e.g. 600 (10 minutes)
# Needs .venv-fuzz (Python 3.11 + atheris + numpy/Pillow/OpenEXR):
#   python3.11 -m venv .venv-fuzz && .venv-fuzz/bin/pip install atheris numpy Pillow OpenEXR
# Seeds: tools/fuzz/corpus/<harness>/ (made by make_seeds.py, kept out of git); the working corpus
# grows in .fuzz/<harness>/ and crashes land in .fuzz/crashes/<harness>/ (both gitignored).
# A crash stops libFuzzer; this script saves it and goes on until SECONDS are spent (atheris has no
# fork mode), then prints the totals: runs, coverage, crashes.
set -uo pipefail
cd "$(dirname "$0")/../.."
h=${1:?harness: exr, json or upload}; secs=${2:-600}; shift 2 || true
PY=${FUZZ_PYTHON:-.venv-fuzz/bin/python}
[ -d tools/fuzz/corpus/"$h" ] || "$PY" tools/fuzz/make_seeds.py
mkdir -p .fuzz/"$h" .fuzz/crashes/"$h" .fuzz/logs
end=$(( $(date +%s) + secs )); runs=0; rounds=0
while :; do
  left=$(( end - $(date +%s) )); [ "$left" -gt 0 ] || break
  rounds=$((rounds + 1)); log=.fuzz/logs/"$h"-"$rounds".log
  "$PY" tools/fuzz/fuzz_"$h".py .fuzz/"$h" tools/fuzz/corpus/"$h" \
    -max_total_time="$left" -timeout=20 -rss_limit_mb=3072 -max_len=65536 \
    -artifact_prefix=.fuzz/crashes/"$h"/ -print_final_stats=1 "$@" >"$log" 2>&1
  n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
  [ -z "$n" ] && n=$(grep -oE '^#[0-9]+' "$log" | tail -n1 | tr -d '#')
  runs=$((runs + ${n:-0}))
  cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -n1)
  grep -q "Uncaught Python exception" "$log" && grep -A3 "Uncaught Python exception" "$log" | sed -n 2p
done
echo "== $h: ${secs}s, ${rounds} libFuzzer rounds, ${runs} executions, last ${cov:-cov: ?}, crash files: $(ls .fuzz/crashes/"$h" | wc -l), corpus: $(ls .fuzz/"$h" | wc -l)"
