#!/bin/sh
# The SDK as a third party meets it: install switchboard into a temporary
# prefix, build the example connector out of tree twice (plain make with
# pkg-config, and CMake with find_package(switchboard-sdk)), load each build
# into the installed engine and run the example's own stand-in test; then
# generate a starter with `switchboard new-plugin` and run its test.
# usage: install.sh BUILD_DIR SOURCE_DIR
set -eu
build=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
bin=$prefix/bin/switchboard
plugindir=$(pkg-config --variable=plugindir switchboard-sdk)
test -f "$prefix/include/switchboard/plugin.h"
# the packages' SDK version is the installed header's
header_version=$(sed -n 's/^#define SB_SDK_VERSION "\(.*\)"$/\1/p' "$prefix/include/switchboard/plugin.h")
test -n "$header_version"
test "$(pkg-config --modversion switchboard-sdk)" = "$header_version"
test -f "$plugindir/http.so"

echo "== example with make + pkg-config"
cp -r "$src/sdk/examples/discord" "$tmp/make"
make -C "$tmp/make" -s test SWITCHBOARD="$bin"

echo "== example with cmake + find_package(switchboard-sdk)"
cmake -S "$src/sdk/examples/discord" -B "$tmp/cmake" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$tmp/cmake" >/dev/null
test -f "$tmp/cmake/discord.so"
# the CMake build loads and passes the same test
cp "$tmp/make/test_discord" "$tmp/cmake/"
"$tmp/cmake/test_discord" "$bin" "$tmp/cmake" "$plugindir"
"$bin" plugins -c /dev/null --plugins "$plugindir $tmp/cmake" | grep -q "action   discord.post_message"

echo "== switchboard new-plugin"
(cd "$tmp" && "$bin" new-plugin acme >/dev/null)
test -f "$tmp/acme/acme.c"
make -C "$tmp/acme" -s test SWITCHBOARD="$bin"
echo "ok"
