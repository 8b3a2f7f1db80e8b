#!/bin/sh
# Every complete workflow shown in README.md and docs/*.md (an ```ini block
# with a [trigger] section) passes `switchboard check`, with a stand-in
# value for each ${env:NAME} it reads: what users copy must load.
# usage: doc_workflows.sh SWITCHBOARD SOURCE_DIR
set -u
bin=$1 src=$2
plugins="$(dirname "$bin")/plugins"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
n=0
for md in "$src"/README.md "$src"/docs/*.md; do
    [ -e "$md" ] || continue
    # split the file's ini blocks into $tmp/blocks/<k>.ini
    rm -rf "$tmp/blocks" && mkdir "$tmp/blocks"
    awk -v dir="$tmp/blocks" '
        /^```ini/ { k++; inblock = 1; next }
        inblock && /^```/ { inblock = 0; next }
        inblock { print > (dir "/" k ".ini") }' "$md"
    for b in "$tmp"/blocks/*.ini; do
        [ -e "$b" ] || continue
        grep -q '^\[trigger\]' "$b" || continue
        n=$((n + 1))
        rm -rf "$tmp/wf" && mkdir "$tmp/wf" && cp "$b" "$tmp/wf/doc.ini"
        envs=""
        for v in $(grep -o '\${env:[A-Za-z0-9_]*}' "$b" | sed 's/\${env:\(.*\)}/\1/' | sort -u); do
            case $v in
            MAILCHIMP_API_KEY) envs="$envs $v=0123456789abcdef-us21" ;;
            *) envs="$envs $v=test-value" ;;
            esac
        done
        # shellcheck disable=SC2086
        if ! env $envs "$bin" check -c /dev/null --plugins "$plugins" --workflows "$tmp/wf" \
            >"$tmp/out" 2>&1; then
            echo "FAIL: a workflow in $(basename "$md") does not pass check:"
            cat "$b" "$tmp/out"
            status=1
        fi
    done
done
[ $n -gt 0 ] || { echo "FAIL: no workflows found in the docs"; status=1; }
[ $status -eq 0 ] && echo "ok: $n documented workflows"
exit $status
