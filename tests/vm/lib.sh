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
	# Read by bash itself, as $(...) would trim it: a program more per command costs under TCG.
	IFS= read -r -d '' ERR <"$T/expect.err" || true
	while [[ $ERR == *$'\n' ]]; do ERR=${ERR%$'\n'}; done
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

# json_is FILTER: $OUT is one JSON document, and jq's FILTER is true of it.
json_is() {
	jq -s -e "length == 1 and (.[0] | $1)" <<<"$OUT" >/dev/null || fail "not one JSON document of which '$1' is true: $OUT"
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
	picked=$'\n'$(printf '%s\n' "$@" | shuf -n "$n")$'\n'
	for item in "$@"; do
		[[ $picked == *$'\n'"$item"$'\n'* ]] && out="$out $item"
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
		# One sort for the lines of every listing (each kind of line is told by its form): sorts cost under TCG.
		{
			# SQLite's WAL and shared-memory files change under a mere reader: the catalogue is compared by content.
			find "$DMSTORE_STATE_DIR" -not -name 'catalog.db*' -printf '%p %s %m\n' 2>/dev/null
			# A mounted filesystem writes on its own (journal, lazy init): a pool's data shows as its
			# kernel transaction id, which every dmstore change moves, rather than the loop files' bytes.
			find "$DMSTORE_STATE_DIR" -type f -not -name 'catalog.db*' -not -name '*.img' -exec md5sum {} + 2>/dev/null
			dmsetup status 2>/dev/null | awk '$4 == "thin-pool" { print "status", $1, $5 }'
			dmsetup table 2>/dev/null
			losetup -l -n -O NAME,BACK-FILE 2>/dev/null
		} | sort
		for db in "$DMSTORE_STATE_DIR"/*/catalog.db; do
			[ -e "$db" ] && sqlite3 "$db" .dump
		done
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
	[[ $ERR != *$'\n'* ]] || fail "error is not one line: $ERR"
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
	local out
	out=$(dmsetup info -c --noheadings -o name,uuid --separator ' ' 2>/dev/null) || true
	[ -z "$out" ] || [ "$out" = "No devices found" ] || printf '%s\n' "$out"
}

# DISK_WRITES: "writes discards" the kernel counted on block device $1 (/sys/class/block/NAME/stat),
# or nothing when it has no such file. (A variable, not output: a subshell costs under TCG.)
disk_writes() {
	local s
	DISK_WRITES=
	read -r -a s <"/sys/class/block/${1##*/}/stat" 2>/dev/null || return 0
	DISK_WRITES="${s[4]} ${s[11]:-}"
}

# Everything a case left in the kernel and on the test disks, gone. It runs after every case:
# bash's own reads stand in for programs where they can (each costs under TCG), and a disk is
# wiped only when the kernel counted a write or a discard to it since it was last wiped (most
# cases use loop pools and never touch the disks).
declare -A TEARDOWN_DISK_WRITES=()
teardown() {
	local d name uuid open target f thins=() pools=() held=() busy=() again=() mounts=()
	while read -r _ target _; do
		[[ $target == /tmp/dmstore-test* ]] && mounts+=("$target")
	done </proc/mounts
	[ ${#mounts[@]} -eq 0 ] || printf '%s\n' "${mounts[@]}" | sort -r | xargs -r umount -l 2>/dev/null
	# Thin devices first, then pools (by UUID: a volume may be named "dmstore-a-vol-pool"). What is
	# open is tried once before the pools (a lazy unmount may just have let go) and waited for
	# after them (t-data, under pool d, goes only then: waiting for it first would be in vain);
	# what failed, once more.
	while IFS='|' read -r name uuid open; do
		if [[ $uuid =~ ^DMSTORE-.*-pool$ ]]; then
			pools+=("$name")
		elif [[ $name =~ ^(t-|dmstore-) ]]; then
			if [ "$open" = 0 ]; then thins+=("$name"); else held+=("$name"); fi
		fi
	done < <(dmsetup info -c --noheadings -o name,uuid,open --separator '|' 2>/dev/null)
	for d in "${thins[@]}"; do
		dmsetup remove --retry "$d" >/dev/null 2>&1 || busy+=("$d")
	done
	for d in "${held[@]}"; do
		dmsetup remove "$d" >/dev/null 2>&1 || busy+=("$d")
	done
	for d in "${pools[@]}" "${busy[@]}"; do
		dmsetup remove --retry "$d" >/dev/null 2>&1 || again+=("$d")
	done
	for d in "${again[@]}"; do
		dmsetup remove --retry "$d" >/dev/null 2>&1 || true
	done
	# What the removals and the case left in the page cache reaches the disks before they are counted.
	sync
	for d in $TEST_DISKS; do
		disk_writes "$d"
		[ -n "$DISK_WRITES" ] && [ "$DISK_WRITES" = "${TEARDOWN_DISK_WRITES[$d]:-}" ] && continue
		wipefs -a -q "$d" 2>/dev/null || true
		dd if=/dev/zero of="$d" bs=1M count=1 conv=fsync status=none 2>/dev/null || true
		disk_writes "$d"
		TEARDOWN_DISK_WRITES[$d]=$DISK_WRITES
	done
	for f in /sys/block/loop*/loop/backing_file; do
		[ -e "$f" ] && read -r name <"$f" && [[ $name == /tmp/dmstore-test* ]] || continue
		f=${f#/sys/block/}
		losetup -d "/dev/${f%%/*}" 2>/dev/null || true
	done
	[ ! -e /tmp/dmstore-test ] || rm -rf /tmp/dmstore-test
}

# What many cases make the same way is made once per run of tests/vm/run-all (whose pid this is),
# here, and copied; run-all removes it at the end.
TEST_CACHE=/tmp/dmstore-test-cache.$$

# A small rootfs: busybox, a device node, a symlink, a hardlink, a setuid file,
# a file owned by 1234:5678 and a user xattr. Made in DIR (its parent exists), a copy of the run's.
make_rootfs() {
	local dir=$1 c=$TEST_CACHE/rootfs
	if [ ! -e "$c.done" ]; then
		rm -rf "$c"
		mkdir -p "$c"/bin "$c"/dev "$c"/etc "$c"/data
		cp /bin/busybox "$c"/bin/
		ln -s busybox "$c"/bin/sh
		mknod "$c"/dev/null c 1 3
		echo "hello from the image" > "$c"/etc/motd
		ln "$c"/etc/motd "$c"/etc/motd.hardlink
		echo owned > "$c"/etc/owned && chown 1234:5678 "$c"/etc/owned
		cp /bin/busybox "$c"/bin/suid && chmod 4755 "$c"/bin/suid
		setfattr -n user.dmstore -v kept "$c"/etc/motd 2>/dev/null || true
		: > "$c.done"
	fi
	cp -aT "$c" "$dir"
}

# The rootfs of make_rootfs as a gzipped tarball (made once per run): its path in $OUT.
rootfs_tgz() {
	OUT=$TEST_CACHE/rootfs.tgz
	[ -e "$OUT" ] && return 0
	make_rootfs "$T/rootfs.tgz.d"
	tar -C "$T/rootfs.tgz.d" --xattrs -czf "$OUT.tmp" . && mv "$OUT.tmp" "$OUT"
}

# The thin ids in the pool's metadata, read by thin_ls from a metadata snapshot, one per line, sorted.
# (Called after most changes: bash reads what it can, such as the loop device of a loop pool's
# metadata file in sysfs, since every program costs under TCG.)
kernel_thin_ids() {
	local pool=$1 meta='' dm f file id line
	# pool.json is pretty-printed, one member a line; jq reads it if its form ever differs.
	while IFS= read -r line; do
		[[ $line =~ ^[[:space:]]*\"metadata_path\":[[:space:]]*\"([^\"\\]+)\",?$ ]] && meta=${BASH_REMATCH[1]} && break
	done <"$DMSTORE_STATE_DIR/$pool/pool.json"
	[ -n "$meta" ] || meta=$(jq -r .metadata_path "$DMSTORE_STATE_DIR/$pool/pool.json")
	if [ ! -b "$meta" ]; then
		file=$meta
		for f in /sys/block/loop*/loop/backing_file; do
			[ -e "$f" ] && read -r id <"$f" && [ "$id" = "$file" ] || continue
			f=${f#/sys/block/}
			meta=/dev/${f%%/*}
			break
		done
		[ -b "$meta" ] || meta=$(losetup -j "$file" -O NAME -n -l | head -n 1)
	fi
	dm=$(pool_dm "$pool")
	dmsetup message "$dm" 0 reserve_metadata_snap
	thin_ls --metadata-snap --no-headers --format DEV "$meta" | sort -n | while read -r id; do echo "$id"; done
	dmsetup message "$dm" 0 release_metadata_snap
}

# The kernel and the catalogue agree on the thin ids, no intent is open, and
# every dm device of the pool belongs to a catalogue row (by UUID, as dmstore tells them).
assert_consistent() {
	local pool=$1 k c ids=() open='' rows=' ' tag val name uuid kind
	k=$(kernel_thin_ids "$pool")
	k=${k//$'\n'/ }
	# One sqlite3 for the three questions: thin ids, rows unfinished, dm UUIDs of active rows.
	while IFS='|' read -r tag val; do
		case $tag in
		id) ids+=("$val") ;;
		open) open=$val ;;
		row) rows+="$val " ;;
		esac
	done < <(sqlite3 "$DMSTORE_STATE_DIR/$pool/catalog.db" "SELECT 'id', thin_id FROM devices ORDER BY thin_id;
		SELECT 'open', count(*) FROM devices WHERE pending_txn IS NOT NULL OR state != 2;
		SELECT 'row', 'DMSTORE-$pool-' || CASE kind WHEN 0 THEN 'img' WHEN 1 THEN 'ctr' WHEN 2 THEN CASE WHEN origin_id IS NULL THEN 'vol' ELSE 'vsnap' END WHEN 3 THEN 'layer' END || '-' || id FROM devices WHERE active = 1")
	c=${ids[*]}
	# A thin id or a dm device no row owns is a leaked device (make torture's figures count them).
	[ "$k" = "$c" ] || figure leaked_devices 1
	assert_eq "$k" "$c" "kernel thin ids vs catalogue"
	assert_eq "$open" 0 "unfinished catalogue rows"
	while read -r name uuid; do
		kind=${uuid#"DMSTORE-$pool-"}
		[ "$kind" != "$uuid" ] && [[ $kind =~ ^(img|ctr|vol|vsnap|layer)-[0-9]+$ ]] || continue
		case $rows in
		*" $uuid "*) ;;
		*)
			figure leaked_devices 1
			fail "dm device $uuid has no active catalogue row (rows:$rows)" ;;
		esac
	done < <(dm_names_uuids)
}
