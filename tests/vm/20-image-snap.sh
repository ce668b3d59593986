# Images, container snapshots, the catalogue and crash recovery, on the real dm-thin target.

# A pool with an imported image "base": the starting point of most cases.
pool_with_image() {
	make_rootfs $T/rootfs
	ds pool create p --loop --data-size 2G --metadata-size 64M
	rootfs_tgz
	ds image import base "$OUT" --size 128M
}

test_import_keeps_the_rootfs() {
	pool_with_image
	ds image inspect base --json
	assert_eq "$(jq -r .state <<<"$OUT")" ready "state"
	[ "$(jq -r .entries <<<"$OUT")" -ge 10 ] || fail "too few entries: $OUT"
	ds snap create c --image base
	ds snap mount c
	m=$OUT
	assert_eq "$(cat "$m/etc/motd")" "hello from the image" "file content"
	assert_eq "$(stat -c %u:%g "$m/etc/owned")" 1234:5678 "ownership"
	assert_eq "$(stat -c %a "$m/bin/suid")" 4755 "setuid mode"
	assert_eq "$(stat -c %t:%T "$m/dev/null")" 1:3 "device node"
	assert_eq "$(readlink "$m/bin/sh")" busybox "symlink"
	assert_eq "$(stat -c %i "$m/etc/motd")" "$(stat -c %i "$m/etc/motd.hardlink")" "hardlink"
	if getfattr -n user.dmstore $T/rootfs/etc/motd >/dev/null 2>&1; then
		assert_eq "$(getfattr --only-values -n user.dmstore "$m/etc/motd")" kept "xattr"
	fi
	# The image's base stays inactive after import.
	dmsetup info dmstore-p-img-base >/dev/null 2>&1 && fail "image base left active"
	# Its filesystem is clean.
	ds snap umount c
	e2fsck -fn /dev/mapper/dmstore-p-ctr-c >/dev/null || fail "container filesystem not clean"
	# Of a file's xattrs only user.* comes in here: trusted.* and security.selinux are dropped and counted.
	python3 - "$T/xattrs.tar" "$T/xattr.tar" <<-'PY' || fail "making the xattr tarballs"
		import io, sys, tarfile
		for path, xattrs in ((sys.argv[1], {"SCHILY.xattr.user.keep": "1", "SCHILY.xattr.trusted.x": "t",
		                                    "SCHILY.xattr.security.selinux": "system_u:object_r:etc_t:s0"}),
		                     (sys.argv[2], {"SCHILY.xattr.trusted.x": "t"})):
		    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as t:
		        i = tarfile.TarInfo("motd")
		        i.size = 3
		        i.pax_headers = xattrs
		        t.addfile(i, io.BytesIO(b"hi\n"))
	PY
	ds image import x1 "$T/xattr.tar" --size 16M
	assert_contains "$OUT" "1 xattr not imported: an image brings"
	ds image import x "$T/xattrs.tar" --size 16M
	assert_contains "$OUT" "2 xattrs not imported: an image brings only user.*, security.capability and ACLs"
	ds image inspect x --json
	json_is '.xattrs_dropped == 2 and .entries == 1'
	ds snap create cx --image x
	ds snap mount cx
	assert_eq "$(getfattr --only-values -n user.keep "$OUT/motd")" 1 "the user xattr"
	[ -z "$(getfattr -d -m - "$OUT/motd" 2>/dev/null | grep -E 'trusted|selinux')" ] || fail "a dropped xattr came in"
	ds snap umount cx
	ds snap rm cx
	assert_consistent p
}

# containers_keep_their_data N: N containers written, every other one removed, the rest intact.
containers_keep_their_data() {
	local n=$1 i m id
	pool_with_image
	for i in $(seq 1 "$n"); do
		ds snap create "c$i" --image base
		ds snap mount "c$i"
		head -c 1M /dev/urandom > "$OUT/payload"
		md5sum < "$OUT/payload" > "$T/sum.c$i"
		echo "c$i" > "$OUT/name"
	done
	ds snap ls --json
	assert_eq "$(jq length <<<"$OUT")" "$n" "containers listed"
	[ "$(jq '[.[].used] | min' <<<"$OUT")" -gt 0 ] || fail "used not reported"
	for i in $(seq 2 2 "$n"); do
		id=$(sqlite3 "$DMSTORE_STATE_DIR/p/catalog.db" "SELECT thin_id FROM devices WHERE name = 'c$i'")
		ds snap rm "c$i"
		dmsetup info "dmstore-p-ctr-c$i" >/dev/null 2>&1 && fail "c$i left a dm device"
		kernel_thin_ids p | grep -qx "$id" && fail "c$i left thin id $id in the kernel"
		[ ! -e "$DMSTORE_STATE_DIR/p/mnt/c$i" ] || fail "c$i left its mount point"
	done
	for i in $(seq 1 2 "$n"); do
		m=$DMSTORE_STATE_DIR/p/mnt/c$i
		assert_eq "$(md5sum < "$m/payload")" "$(cat "$T/sum.c$i")" "c$i data"
		assert_eq "$(cat "$m/name")" "c$i" "c$i name file"
	done
	ds snap ls --json
	assert_eq "$(jq length <<<"$OUT")" $((n / 2)) "containers left"
	assert_consistent p
	# Removed containers gave their blocks back: the pool's data use fell.
	ds pool status p --json
	[ "$(jq -r .data_used <<<"$OUT")" -lt $((n * 1024 * 1024 + 64 * 1024 * 1024)) ] || fail "blocks not returned"
}

test_containers_keep_their_data() {
	containers_keep_their_data 6
}

torture_twenty_containers_keep_their_data() {
	containers_keep_their_data 20
}

test_container_larger_than_its_image() {
	pool_with_image
	ds snap create big --image base --size 512M
	ds snap mount big
	size_kb=$(df -k --output=size "$OUT" | tail -n 1)
	[ "$size_kb" -gt $((400 * 1024)) ] || fail "filesystem not grown: ${size_kb}K"
	bad_input 2 "at least its image's" "$DMSTORE" snap create small --image base --size 64M
}

test_image_rm_refused_while_used() {
	pool_with_image
	ds snap create c1 --image base
	bad_input 4 "image 'base' is used by 1 container(s), 'c1' first" "$DMSTORE" image rm base
	ds image rm base --force
	dmsetup info dmstore-p-ctr-c1 >/dev/null 2>&1 && fail "container left after image rm --force"
	ds image ls --json
	assert_eq "$(jq length <<<"$OUT")" 0 "images left"
	assert_consistent p
}

test_empty_image_and_malicious_tarball() {
	ds pool create p --loop --data-size 1G --metadata-size 64M
	ds image create empty --size 64M
	ds snap create e --image empty
	ds snap mount e
	[ -d "$OUT/lost+found" ] || fail "no lost+found in an empty image"
	# A tarball with an entry escaping the rootfs fails naming the entry, and leaves no image behind.
	mkdir -p $T/evil && echo x > $T/evil/escape
	tar -C $T/evil -cf $T/evil.tar --transform 's|^escape$|../escape|' escape
	expect 1 "$DMSTORE" image import evil $T/evil.tar --size 64M
	assert_contains "$ERR" "../escape"
	ds image ls --json
	assert_eq "$(jq -r '[.[].name] | join(",")' <<<"$OUT")" empty "images after a failed import"
	assert_consistent p
}

test_bad_input_changes_nothing() {
	pool_with_image
	ds snap create c1 --image base
	bad_input 3 "image 'nope' does not exist" "$DMSTORE" snap create c2 --image nope
	bad_input 4 "container 'c1' already exists" "$DMSTORE" snap create c1 --image base
	bad_input 4 "image 'base' already exists" "$DMSTORE" image create base --size 64M
	bad_input 2 "invalid container name 'a/b'" "$DMSTORE" snap create a/b --image base
	bad_input 2 "invalid container name '..'" "$DMSTORE" snap rm ..
	bad_input 2 "invalid image name 'a b'" "$DMSTORE" image create "a b" --size 64M
	bad_input 2 "--image IMG is required" "$DMSTORE" snap create c3
	bad_input 2 "invalid size" "$DMSTORE" image create i2 --size 10Q
	bad_input 2 "size '8E' is too large: at most 256 TiB" "$DMSTORE" image create i2 --size 8E
	bad_input 2 "size '300T' is too large: at most 256 TiB" "$DMSTORE" snap create c2 --image base --size 300T
	bad_input 3 "container 'ghost' does not exist" "$DMSTORE" snap rm ghost
	bad_input 3 "image 'ghost' does not exist" "$DMSTORE" image rm ghost
	bad_input 2 "source '/nonexistent'" "$DMSTORE" image import i3 /nonexistent
	bad_input 2 "is too long to record (1001 bytes)" "$DMSTORE" image import i3 "/$(printf 'a%.0s' {1..1000})"
	bad_input 3 "pool 'q' does not exist" "$DMSTORE" snap ls --pool q
	bad_input 5 "must be run as root" setpriv --reuid=65534 --regid=65534 --clear-groups "$DMSTORE" snap create c4 --image base
}

test_free_space_floor() {
	make_rootfs $T/rootfs
	ds pool create p --loop --data-size 128M --metadata-size 16M
	ds image import base $T/rootfs --size 256M
	ds snap create filler --image base
	ds snap mount filler
	# Fill the pool past 90% through the container; the write itself may fail once the pool is full.
	dd if=/dev/urandom of="$OUT/fill" bs=1M count=120 conv=fsync status=none 2>/dev/null || true
	ds pool status p --json
	used=$(jq -r .data_used <<<"$OUT") total=$(jq -r .data_total <<<"$OUT")
	[ $((used * 100)) -gt $((total * 90)) ] || fail "pool not past 90%: $used of $total"
	bad_input 1 "below the 10% floor" "$DMSTORE" snap create c2 --image base
	assert_contains "$ERR" "data free"
}

test_crash_points_snap_create() {
	pool_with_image
	for step in $(sample 2 after-intent after-kernel after-txn after-commit after-activate); do
		expect 137 env DMSTORE_CRASH_AT="snap-create:$step" "$DMSTORE" snap create "c-$step" --image base
		ds pool recover p
		assert_consistent p
		ds snap ls --json
		case $step in
		after-intent | after-kernel)
			assert_eq "$(jq --arg n "c-$step" '[.[] | select(.name == $n)] | length' <<<"$OUT")" 0 "rolled back at $step"
			ds snap create "c-$step" --image base ;;
		*)
			assert_eq "$(jq --arg n "c-$step" '[.[] | select(.name == $n)] | length' <<<"$OUT")" 1 "rolled forward at $step" ;;
		esac
		# Whatever the crash left, the container can be used and removed.
		ds snap mount "c-$step"
		ds snap rm "c-$step"
		assert_consistent p
	done
}

# The shipped binary and library have no crash points: the variable is just a variable there.
test_release_build_ignores_crash_at() {
	pool_with_image
	expect 0 env DMSTORE_CRASH_AT=snap-create:after-intent "$(pwd)/dmstore" snap create c1 --image base
	expect 0 env DMSTORE_CRASH_AT=snap-rm:after-intent "$(pwd)/dmstore" snap rm c1
	assert_consistent p
	grep -q DMSTORE_CRASH_AT build/libdmstore.so dmstore && fail "the release build carries the crash hook"
	grep -q DMSTORE_CRASH_AT "$DMSTORE" || fail "the test build lost the crash hook"
}

test_crash_points_snap_rm() {
	pool_with_image
	for step in $(sample 2 after-deactivate after-intent after-kernel after-txn); do
		ds snap create "c-$step" --image base
		ds snap mount "c-$step"
		expect 137 env DMSTORE_CRASH_AT="snap-rm:$step" "$DMSTORE" snap rm "c-$step"
		# Here the next change recovers on its own: no explicit recover.
		ds snap create "next-$step" --image base
		assert_consistent p
		ds snap ls --json
		n=$(jq --arg n "c-$step" '[.[] | select(.name == $n)] | length' <<<"$OUT")
		case $step in
		after-deactivate)
			assert_eq "$n" 1 "a deactivated container is still there"
			ds snap rm "c-$step" ;;
		*)
			assert_eq "$n" 0 "the delete was finished at $step" ;;
		esac
		ds snap rm "next-$step"
		assert_consistent p
	done
}

test_crash_points_image_import() {
	make_rootfs $T/rootfs
	ds pool create p --loop --data-size 1G --metadata-size 64M
	for step in $(sample 2 after-intent after-kernel after-txn after-format after-unpack); do
		expect 137 env DMSTORE_CRASH_AT="image-import:$step" "$DMSTORE" image import img $T/rootfs --size 64M
		ds pool recover p
		assert_consistent p
		ds image ls --json
		assert_eq "$(jq length <<<"$OUT")" 0 "a crashed import leaves no image ($step)"
		dmsetup info dmstore-p-img-img >/dev/null 2>&1 && fail "image device left active ($step)"
		grep -q "$DMSTORE_STATE_DIR/p/mnt" /proc/mounts && fail "import mount left behind ($step)"
		true
	done
	ds image import img $T/rootfs --size 64M
	assert_consistent p
}

test_crash_points_image_rm() {
	pool_with_image
	for step in after-intent after-kernel after-txn; do
		ds image create "i-$step" --size 64M
		expect 137 env DMSTORE_CRASH_AT="image-rm:$step" "$DMSTORE" image rm "i-$step"
		ds pool recover p
		assert_consistent p
		ds image ls --json
		assert_eq "$(jq --arg n "i-$step" '[.[] | select(.name == $n)] | length' <<<"$OUT")" 0 "image removed ($step)"
	done
}

test_two_processes_at_once() {
	pool_with_image
	worker() {
		for i in $(seq 1 8); do
			"$DMSTORE" snap create "$1-$i" --image base >/dev/null || return 1
			"$DMSTORE" snap mount "$1-$i" >/dev/null || return 1
			if [ $((i % 2)) -eq 0 ]; then "$DMSTORE" snap rm "$1-$((i - 1))" >/dev/null || return 1; fi
		done
	}
	worker a & pa=$!
	worker b & pb=$!
	wait $pa || fail "worker a failed"
	wait $pb || fail "worker b failed"
	ds snap ls --json
	assert_eq "$(jq length <<<"$OUT")" 8 "containers left by two workers"
	assert_consistent p
}

test_pool_deactivate_and_activate_keep_containers() {
	pool_with_image
	ds snap create c1 --image base
	ds snap mount c1
	echo kept > "$OUT/file"
	bad_input 4 "is in use" "$DMSTORE" pool deactivate p
	ds snap umount c1
	ds pool deactivate p
	dmsetup info dmstore-p-ctr-c1 >/dev/null 2>&1 && fail "container active after pool deactivate"
	ds pool activate p
	dmsetup info dmstore-p-ctr-c1 >/dev/null || fail "container not restored by pool activate"
	ds snap mount c1
	assert_eq "$(cat "$OUT/file")" kept "data across deactivate/activate"
	assert_consistent p
}

# The per-mount options of the mount at DIR, from the kernel's own table.
mount_options() {
	awk -v m="$1" '$5 == m { print $6 }' /proc/self/mountinfo
}

# Every host mount dmstore makes is nosuid,nodev: what an image or a container wrote
# (a setuid binary, a device node) gains nothing on the host.
test_host_mounts_nosuid_nodev() {
	local m o
	pool_with_image
	ds snap create c --image base
	ds snap mount c
	m=$OUT
	ds vol create v --size 32M
	mkdir -p "$T/vm"
	ds vol mount v "$T/vm"
	ds vol attach v --container c --at /data
	for d in "$m" "$T/vm" "$m/data"; do
		o=$(mount_options "$d")
		case ",$o," in *,nosuid,*) ;; *) fail "$d mounted without nosuid: $o" ;; esac
		case ",$o," in *,nodev,*) ;; *) fail "$d mounted without nodev: $o" ;; esac
		case ",$o," in *,noatime,*) ;; *) fail "$d mounted without noatime: $o" ;; esac
	done
	# The image's setuid root binary and device node are kept, and are inert here.
	assert_eq "$(stat -c %a:%u "$m/bin/suid")" 4755:0 "setuid binary from the image"
	assert_eq "$(stat -c %t:%T "$m/dev/null")" 1:3 "device node from the image"
	head -c 1 "$m/dev/null" 2>"$T/open.err" && fail "the image's /dev/null opened on the host"
	assert_contains "$(cat "$T/open.err")" "Permission denied"
}
