# Shared helpers for the integration tests (sourced by tests/vm/run-all).
# Each test_* function runs in its own subshell with errexit, a fresh state
# dir, and a teardown that removes whatever it left in the kernel.

# The test build: dmstore with the crash points (DMSTORE_CRASH_AT) compiled in.
DMSTORE=${DMSTORE:-$(pwd)/build/dmstore-test}

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# expect CODE CMD...: run CMD, require exit status CODE; stdout in $OUT, stderr in $ERR.
expect() {
	local want=$1 got=0
	shift
	OUT=$("$@" 2>"$T/expect.err") || got=$?
	ERR=$(cat "$T/expect.err")
	[ "$got" -eq "$want" ] || fail "'$*' exited $got, expected $want; stderr: $ERR"
}

# ds ARGS...: dmstore, which must succeed; stdout in $OUT.
ds() {
	expect 0 "$DMSTORE" "$@"
}

# figure NAME N: adds N to the figure NAME of this run (tests/vm/run-all prints their sums at
# the end: crash points killed, bytes verified, bad inputs tried, ...).
FIGURES=/tmp/dmstore-figures
figure() {
	echo "$1 $2" >> "$FIGURES"
}

assert_contains() {
	case $1 in
	*"$2"*) ;;
	*) fail "expected '$2' in: $1" ;;
	esac
}

# sample N ITEM...: under `make torture` every ITEM; in `make check` N of them, picked at random
# each run and kept in their order (named on stderr), so every run checks some and runs together all.
sample() {
	local n=$1 picked item out=''
	shift
	if [ "${DMSTORE_TORTURE:-}" = 1 ] || [ "$#" -le "$n" ]; then
		echo "$@"
		return
	fi
	picked=$(printf '%s\n' "$@" | shuf -n "$n")
	for item in "$@"; do
		grep -qxF -- "$item" <<<"$picked" && out="$out $item"
	done
	echo "# sample of $#: $out" >&2
	echo "$out"
}

assert_eq() {
	[ "$1" = "$2" ] || fail "${3:-values differ}: '$1' != '$2'"
}

# One string that changes if anything dmstore could touch changes: its state
# dir, the kernel's dm devices and tables, loop devices, and the first and
# last MiB of every test disk. (Lock files in the run dir live on tmpfs and
# may appear.)
fingerprint() {
	local db
	{
		# SQLite's WAL and shared-memory files change under a mere reader: the catalogue is compared by content.
		find "$DMSTORE_STATE_DIR" -not -name 'catalog.db*' -printf '%p %s %m\n' 2>/dev/null | sort
		# A mounted filesystem writes on its own (journal, lazy init): a pool's data shows as its
		# kernel transaction id, which every dmstore change moves, rather than the loop files' bytes.
		find "$DMSTORE_STATE_DIR" -type f -not -name 'catalog.db*' -not -name '*.img' -exec md5sum {} + 2>/dev/null |
			sort
		for db in "$DMSTORE_STATE_DIR"/*/catalog.db; do
			[ -e "$db" ] && sqlite3 "$db" .dump
		done
		dmsetup status 2>/dev/null | awk '$4 == "thin-pool" { print $1, $5 }' | sort
		dmsetup table 2>/dev/null | sort
		losetup -l -n -O NAME,BACK-FILE 2>/dev/null | sort
		for d in ${FINGERPRINT_DISKS:-}; do
			echo "$d $(head -c 1M "$d" | md5sum)" \
				"$(dd if="$d" bs=1M skip=$(($(blockdev --getsize64 "$d") / 1048576 - 1)) status=none | md5sum)"
		done
	} | md5sum
}

# bad_input CODE MESSAGE-PART CMD...: CMD fails with CODE, says MESSAGE-PART on one line, changes nothing.
# Every bad input is tried and its code and message checked; that it changed nothing (two fingerprints,
# the slow part under TCG) is checked for a random third of them in make check, for all in make torture.
bad_input() {
	local want=$1 msg=$2 before= d
	shift 2
	if [ "${DMSTORE_TORTURE:-}" = 1 ] || [ $((RANDOM % 3)) -eq 0 ]; then
		# Reading disks costs many slow processes under TCG: only the disks the command names are read.
		FINGERPRINT_DISKS=
		for d in $TEST_DISKS; do
			case " $* " in *" $d "*) FINGERPRINT_DISKS="$FINGERPRINT_DISKS $d" ;; esac
		done
		before=$(fingerprint)
	fi
	expect "$want" "$@"
	figure bad_inputs_tried 1
	assert_contains "$ERR" "$msg"
	[ "$(printf '%s\n' "$ERR" | wc -l)" -eq 1 ] || fail "error is not one line: $ERR"
	[ -z "$before" ] || assert_eq "$(fingerprint)" "$before" "'$*' changed something on disk"
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

# A pool's dm device is found by its UUID, as dmstore finds it: its name may be dmstore 0.1.0's
# ("dmstore-a-vol-pool") or today's, where a '-' in the pool's name is doubled ("dmstore-a--vol-pool").
pool_dm() {
	dmsetup info -c --noheadings -o name -u "DMSTORE-$1-pool"
}

pool_devnum() {
	dmsetup info -c --noheadings -o major,minor --separator : -u "DMSTORE-$1-pool"
}

# "name uuid" of every dm device, one per line.
dm_names_uuids() {
	dmsetup info -c --noheadings -o name,uuid --separator ' ' 2>/dev/null | grep -v '^No devices found' || true
}

teardown() {
	local d
	grep -o " /tmp/dmstore-test[^ ]*" /proc/mounts | sort -r | xargs -r umount -l 2>/dev/null
	# Thin devices first, then pools (by UUID: a volume may be named "dmstore-a-vol-pool").
	for d in $(dm_names_uuids | awk '$1 ~ /^(t-|dmstore-)/ && $2 !~ /^DMSTORE-.*-pool$/ { print $1 }'); do
		dmsetup remove --retry "$d" >/dev/null 2>&1 || true
	done
	for d in $(dm_names_uuids | awk '$2 ~ /^DMSTORE-.*-pool$/ || $1 ~ /^dmstore-/ { print $1 }'); do
		dmsetup remove --retry "$d" >/dev/null 2>&1 || true
	done
	for d in $TEST_DISKS; do
		wipefs -a -q "$d" 2>/dev/null || true
		dd if=/dev/zero of="$d" bs=1M count=1 conv=fsync status=none 2>/dev/null || true
	done
	losetup -l -n -O NAME,BACK-FILE | awk '$2 ~ /^\/tmp\/dmstore-test/ { print $1 }' | xargs -r -n1 losetup -d 2>/dev/null
	rm -rf /tmp/dmstore-test
}

# A small rootfs: busybox, a device node, a symlink, a hardlink, a setuid file,
# a file owned by 1234:5678 and a user xattr. Made in DIR.
make_rootfs() {
	local dir=$1
	mkdir -p "$dir"/bin "$dir"/dev "$dir"/etc "$dir"/data
	cp /bin/busybox "$dir"/bin/
	ln -s busybox "$dir"/bin/sh
	mknod "$dir"/dev/null c 1 3
	echo "hello from the image" > "$dir"/etc/motd
	ln "$dir"/etc/motd "$dir"/etc/motd.hardlink
	echo owned > "$dir"/etc/owned && chown 1234:5678 "$dir"/etc/owned
	cp /bin/busybox "$dir"/bin/suid && chmod 4755 "$dir"/bin/suid
	setfattr -n user.dmstore -v kept "$dir"/etc/motd 2>/dev/null || true
}

# The thin ids in the pool's metadata, read by thin_ls from a metadata snapshot, one per line, sorted.
kernel_thin_ids() {
	local pool=$1 meta
	meta=$(jq -r .metadata_path "$DMSTORE_STATE_DIR/$pool/pool.json")
	[ -b "$meta" ] || meta=$(losetup -j "$meta" -O NAME -n -l | head -n 1)
	dmsetup message "$(pool_dm "$pool")" 0 reserve_metadata_snap
	thin_ls --metadata-snap --no-headers --format DEV "$meta" | tr -d ' ' | sort -n
	dmsetup message "$(pool_dm "$pool")" 0 release_metadata_snap
}

catalog_thin_ids() {
	sqlite3 "$DMSTORE_STATE_DIR/$1/catalog.db" 'SELECT thin_id FROM devices ORDER BY thin_id'
}

# The kernel and the catalogue agree on the thin ids, no intent is open, and
# every dm device of the pool belongs to a catalogue row (by UUID, as dmstore tells them).
assert_consistent() {
	local pool=$1 k c open devs rows
	k=$(kernel_thin_ids "$pool" | tr '\n' ' ')
	c=$(catalog_thin_ids "$pool" | tr '\n' ' ')
	# A thin id or a dm device no row owns is a leaked device (make torture's figures count them).
	[ "$k" = "$c" ] || figure leaked_devices 1
	assert_eq "$k" "$c" "kernel thin ids vs catalogue"
	open=$(sqlite3 "$DMSTORE_STATE_DIR/$pool/catalog.db" 'SELECT count(*) FROM devices WHERE pending_txn IS NOT NULL OR state != 2')
	assert_eq "$open" 0 "unfinished catalogue rows"
	devs=$(dm_names_uuids | awk -v p="DMSTORE-$pool-" 'index($2, p) == 1 && substr($2, length(p) + 1) ~ /^(img|ctr|vol|vsnap|layer)-[0-9]+$/ { print $2 }' | sort | tr '\n' ' ')
	rows=$(sqlite3 "$DMSTORE_STATE_DIR/$pool/catalog.db" "SELECT 'DMSTORE-$pool-' || CASE kind WHEN 0 THEN 'img' WHEN 1 THEN 'ctr' WHEN 2 THEN CASE WHEN origin_id IS NULL THEN 'vol' ELSE 'vsnap' END WHEN 3 THEN 'layer' END || '-' || id FROM devices WHERE active = 1" | sort | tr '\n' ' ')
	for d in $devs; do
		case " $rows " in
		*" $d "*) ;;
		*)
			figure leaked_devices 1
			fail "dm device $d has no active catalogue row (rows: $rows)" ;;
		esac
	done
}
