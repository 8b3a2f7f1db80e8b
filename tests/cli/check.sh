#!/bin/sh
# `switchboard check` end to end: the broken workflows give exactly the
# expected messages (every error of every file, with file:line) and exit 1;
# the good ones pass; no secret value is ever printed. The history
# commands refuse a store that does not exist.
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
# reading history from a store that does not exist says so, creates nothing
for cmd in runs "show 1" "replay 1"; do
    # shellcheck disable=SC2086
    "$bin" $cmd -c /dev/null --store "sqlite:$tmp/none.db" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ $rc -ne 1 ] || ! grep -q "no store at sqlite:$tmp/none.db" "$tmp/err"; then
        echo "FAIL: '$cmd' on a missing store exited $rc: $(cat "$tmp/err")"; status=1
    fi
    if [ -e "$tmp/none.db" ]; then
        echo "FAIL: '$cmd' created the store"; status=1
    fi
done

[ $status -eq 0 ] && echo "ok"
exit $status
