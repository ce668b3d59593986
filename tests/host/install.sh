#!/usr/bin/env bash
# `make install` into a scratch DESTDIR with a PREFIX of its own puts everything
# where it belongs; the library example builds against the installed dmstore.pc
# and runs; `make uninstall` then leaves no file behind. Host only: no device-mapper.
set -euo pipefail
cd "$(dirname "$0")/../.."
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
prefix=/opt/dms
root=$dest$prefix
version=$(sed -n 's/^#define DMS_VERSION "\(.*\)"$/\1/p' include/dmstore.h)

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

make -s --no-print-directory install DESTDIR="$dest" PREFIX="$prefix" > "$dest/install.log" 2>&1 ||
	fail "make install: $(tail -n 5 "$dest/install.log")"
rm "$dest/install.log"
for f in sbin/dmstore sbin/dmstore-docker-plugin lib/libdmstore.a "lib/libdmstore.so.$version" \
	include/dmstore.h lib/pkgconfig/dmstore.pc share/man/man8/dmstore.8 share/man/man8/dmstore-docker-plugin.8 \
	share/man/man5/dmstore.conf.5 \
	share/doc/dmstore/dmstore.conf.example share/bash-completion/completions/dmstore \
	lib/systemd/system/dmstore-docker-plugin.service lib/systemd/system/dmstore-docker-plugin.socket \
	lib/systemd/system/dmstore-pools.service lib/systemd/system/dmstore-monitor@.service; do
	[ -f "$root/$f" ] || fail "not installed: $prefix/$f"
done
[ "$(readlink "$root/lib/libdmstore.so.1")" = "libdmstore.so.$version" ] || fail "libdmstore.so.1 link"
[ "$(readlink "$root/lib/libdmstore.so")" = libdmstore.so.1 ] || fail "libdmstore.so link"
# Whole outputs into grep: grep -q leaving early would fail the pipe (pipefail).
grep -q 'SONAME.*\[libdmstore\.so\.1\]' <<<"$(readelf -d "$root/lib/libdmstore.so.$version")" || fail "soname"
grep -qx "ExecStart=$prefix/sbin/dmstore-docker-plugin" "$root/lib/systemd/system/dmstore-docker-plugin.service" ||
	fail "the plugin's unit does not run $prefix/sbin/dmstore-docker-plugin"
[ "$("$root/sbin/dmstore" --version)" = "dmstore $version" ] || fail "installed dmstore --version"
grep -qx "ExecStart=$prefix/sbin/dmstore pool monitor %i" "$root/lib/systemd/system/dmstore-monitor@.service" ||
	fail "the monitor's unit does not run $prefix/sbin/dmstore"

# systemd-analyze verify runs the units' commands by their paths: an install without DESTDIR, into a scratch PREFIX.
if command -v systemd-analyze > /dev/null; then
	make -s --no-print-directory install PREFIX="$dest/verify" > "$dest/install.log" 2>&1 ||
		fail "make install PREFIX=$dest/verify: $(tail -n 5 "$dest/install.log")"
	units=$dest/verify/lib/systemd/system
	MANPATH=$dest/verify/share/man: systemd-analyze verify "$units/dmstore-pools.service" "$units/dmstore-monitor@p0.service" \
		"$units/dmstore-docker-plugin.socket" > "$dest/verify.log" 2>&1 ||
		fail "systemd-analyze verify: $(cat "$dest/verify.log")"
	make -s --no-print-directory uninstall PREFIX="$dest/verify" > /dev/null 2>&1 || fail "make uninstall (verify)"
	rm -rf "$dest/verify" "$dest/install.log" "$dest/verify.log"
fi

# The example, as a user of the installed library builds it: only the .pc says where things are.
flags=$(PKG_CONFIG_SYSROOT_DIR=$dest PKG_CONFIG_PATH=$root/lib/pkgconfig pkg-config --cflags --libs dmstore)
case $flags in *"-I$root/include"*"-L$root/lib"* | *"-L$root/lib"*"-I$root/include"*) ;;
*) fail "pkg-config --cflags --libs dmstore: $flags" ;; esac
# shellcheck disable=SC2086
${CC:-cc} -std=c11 -Wall -Wextra -Werror -o "$dest/example" doc/example.c $flags
rc=0
LD_LIBRARY_PATH=$root/lib DMSTORE_STATE_DIR=$dest/state "$dest/example" 64M ghost > "$dest/out" 2> "$dest/err" || rc=$?
[ "$rc" -eq 3 ] || fail "example exited $rc, not 3: $(cat "$dest/err")"
grep -qx "libdmstore $version" "$dest/out" || fail "example: no version: $(cat "$dest/out")"
grep -qx "64M is 67108864 bytes (64 MiB)" "$dest/out" || fail "example: size: $(cat "$dest/out")"
grep -qx "example: pool 'ghost' does not exist" "$dest/err" || fail "example: error: $(cat "$dest/err")"
grep -q "libdmstore.so.1 => $root/lib/libdmstore.so.1" <<<"$(LD_LIBRARY_PATH=$root/lib ldd "$dest/example")" ||
	fail "example does not load the installed libdmstore.so.1"
rm -rf "$dest/example" "$dest/out" "$dest/err" "$dest/state"

make -s --no-print-directory uninstall DESTDIR="$dest" PREFIX="$prefix" > /dev/null 2>&1 || fail "make uninstall"
left=$(find "$dest" -mindepth 1 -not -type d)
[ -z "$left" ] || fail "make uninstall left: $left"
left=$(find "$dest" -mindepth 1 -type d -name '*dmstore*')
[ -z "$left" ] || fail "make uninstall left directories: $left"
