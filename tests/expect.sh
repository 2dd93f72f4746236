#!/usr/bin/env bash
# Shared by the integration scripts: `expect SUBSTRING COMMAND...` passes when COMMAND exits with code 2 and
# prints exactly one line on stderr containing SUBSTRING.
expect() {
  local want=$1; shift
  set +e; err=$("$@" 2>&1 >/dev/null); code=$?; set -e
  [[ $code -eq 2 ]] || { echo "FAIL ($*): exit $code"; echo "$err"; exit 1; }
  [[ $(grep -c . <<<"$err") -eq 1 ]] || { echo "FAIL ($*): not one line"; echo "$err"; exit 1; }
  [[ "$err" == *"$want"* ]] || { echo "FAIL ($*): '$err' lacks '$want'"; exit 1; }
  echo "ok: $err"
}
