# Shared helpers for the integration tests (sourced by tests/vm/run-all).
# Each test_* function runs in its own subshell with errexit, a fresh state
# dir, and a teardown that removes whatever it left in the kernel.

DMSTORE=${DMSTORE:-$(pwd)/dmstore}

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# expect CODE CMD...: run CMD, require exit status CODE; stdout in $OUT, stderr in $ERR.
expect() {
	local want=$1 got=0
	shift
	OUT=$("$@" 2>/tmp/expect.err) || got=$?
	ERR=$(cat /tmp/expect.err)
	[ "$got" -eq "$want" ] || fail "'$*' exited $got, expected $want; stderr: $ERR"
}

# ds ARGS...: dmstore, which must succeed; stdout in $OUT.
ds() {
	expect 0 "$DMSTORE" "$@"
}

assert_contains() {
	case $1 in
	*"$2"*) ;;
	*) fail "expected '$2' in: $1" ;;
	esac
}

assert_eq() {
	[ "$1" = "$2" ] || fail "${3:-values differ}: '$1' != '$2'"
}

# One string that changes if anything dmstore could touch changes: its state
# dir, the kernel's dm devices and tables, loop devices, and the first and
# last MiB of every test disk. (Lock files in the run dir live on tmpfs and
# may appear.)
fingerprint() {
	{
		find "$DMSTORE_STATE_DIR" -printf '%p %s %m\n' 2>/dev/null | sort
		find "$DMSTORE_STATE_DIR" -type f -exec md5sum {} + 2>/dev/null | sort
		dmsetup table 2>/dev/null | sort
		losetup -l -n -O NAME,BACK-FILE 2>/dev/null | sort
		for d in $TEST_DISKS; do
			echo "$d $(head -c 1M "$d" | md5sum)" \
				"$(dd if="$d" bs=1M skip=$(($(blockdev --getsize64 "$d") / 1048576 - 1)) status=none | md5sum)"
		done
	} | md5sum
}

# bad_input CODE MESSAGE-PART CMD...: CMD fails with CODE, says MESSAGE-PART on one line, changes nothing.
bad_input() {
	local want=$1 msg=$2 before
	shift 2
	before=$(fingerprint)
	expect "$want" "$@"
	assert_contains "$ERR" "$msg"
	[ "$(printf '%s\n' "$ERR" | wc -l)" -eq 1 ] || fail "error is not one line: $ERR"
	assert_eq "$(fingerprint)" "$before" "'$*' changed something on disk"
}

# The n-th test disk (1-based): virtio disks in the VM, loop devices natively.
disk() {
	local disks=($TEST_DISKS)
	echo "${disks[$(($1 - 1))]}"
}

disk_sectors() {
	blockdev --getsz "$1"
}

# dmsetup's view of a pool: "txn used_meta total_meta used_data total_data".
dmsetup_pool_numbers() {
	dmsetup status "$1" | awk '{ split($5, m, "/"); split($6, d, "/"); print $4, m[1], m[2], d[1], d[2] }'
}

pool_devnum() {
	dmsetup info -c --noheadings -o major,minor --separator : "dmstore-$1-pool"
}

teardown() {
	local d
	for d in $(dmsetup ls 2>/dev/null | awk '$1 ~ /^(t-|dmstore-)/ && $1 !~ /-pool$/ { print $1 }'); do
		dmsetup remove --retry "$d" >/dev/null 2>&1 || true
	done
	for d in $(dmsetup ls 2>/dev/null | awk '$1 ~ /^dmstore-.*-pool$/ { print $1 }'); do
		dmsetup remove --retry "$d" >/dev/null 2>&1 || true
	done
	for d in $TEST_DISKS; do
		wipefs -a -q "$d" 2>/dev/null || true
		dd if=/dev/zero of="$d" bs=1M count=1 conv=fsync status=none 2>/dev/null || true
	done
	rm -rf "$DMSTORE_STATE_DIR" "$DMSTORE_RUN_DIR"
}
