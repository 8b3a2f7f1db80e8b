#!/bin/sh
# `switchboard check` end to end: the broken workflows give exactly the
# expected messages (every error of every file, with file:line) and exit 1;
# the good ones pass; no secret value is ever printed.
# usage: check.sh SWITCHBOARD SOURCE_DIR FIXTURE_PLUGIN_DIR
set -u
bin=$1 src=$2 plugins=$3
cd "$src" || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export SB_TEST_SECRET_A=aaaa-secret-value SB_TEST_SECRET_B=bbbb-secret-value
unset SB_TEST_MISSING_VAR
status=0

"$bin" check -c /dev/null --plugins "$plugins" --workflows tests/data/broken >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc -ne 1 ]; then
    echo "FAIL: check on broken workflows exited $rc, expected 1"; status=1
fi
if ! diff -u tests/data/broken.expected "$tmp/err"; then
    echo "FAIL: check output differs from tests/data/broken.expected"; status=1
fi
if grep -q -e aaaa-secret-value -e bbbb-secret-value "$tmp/out" "$tmp/err"; then
    echo "FAIL: a secret value was printed"; status=1
fi

"$bin" check -c /dev/null --plugins "$plugins" --workflows tests/data/good >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc -ne 0 ]; then
    echo "FAIL: check on good workflows exited $rc"; cat "$tmp/err"; status=1
fi
grep -q "2 workflows (2 enabled), 1 hook path" "$tmp/out" || {
    echo "FAIL: unexpected summary: $(cat "$tmp/out")"; status=1; }

# the shipped configuration passes
"$bin" check -c conf/switchboard.ini --plugins "$(dirname "$bin")/plugins" >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc -ne 0 ]; then
    echo "FAIL: check on conf/ exited $rc"; cat "$tmp/err"; status=1
fi
[ $status -eq 0 ] && echo "ok"
exit $status
