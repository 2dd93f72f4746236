#!/usr/bin/env bash
# CLI error contract: `expect_error.sh SUBSTRING OUTPUT -- COMMAND...` passes when COMMAND exits with code 2,
# prints exactly one line on stderr containing SUBSTRING, and leaves neither OUTPUT nor temp files behind.
set -uo pipefail
expect="$1"; output="$2"; shift 3
rm -f "$output"
err=$("$@" 2>&1 >/dev/null); code=$?
lines=$(printf '%s\n' "$err" | grep -c .)
fail() { echo "FAIL: $*"; echo "stderr was:"; echo "$err"; exit 1; }
[[ $code -eq 2 ]] || fail "exit code $code, expected 2"
[[ $lines -eq 1 ]] || fail "$lines stderr lines, expected 1"
[[ "$err" == *"$expect"* ]] || fail "stderr lacks '$expect'"
[[ ! -e "$output" ]] || fail "output $output was written"
leftovers=$(find "$(dirname "$output")" -maxdepth 1 -name '.tmp-*' 2>/dev/null | wc -l)
[[ $leftovers -eq 0 ]] || fail "temp files left in $(dirname "$output")"
echo "ok: $err"
