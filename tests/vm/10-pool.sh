# Pool lifecycle against the real dm-thin target.
# Test disks: 1 = data (1 GiB), 2 = metadata (64 MiB), 3 = too small (16 MiB), 4 = spare (256 MiB).

# Status numbers must be the kernel's: compare with dmsetup's own reading.
check_status_matches_dmsetup() {
	local pool=$1 js bs
	ds pool status "$pool" --json
	js=$OUT
	bs=$(jq -r .block_size <<<"$js")
	read -r txn um tm ud td <<<"$(dmsetup_pool_numbers "dmstore-$pool-pool")"
	assert_eq "$(jq -r .transaction_id <<<"$js")" "$txn" "transaction id"
	assert_eq "$(jq -r .metadata_used <<<"$js")" "$((um * 4096))" "metadata used"
	assert_eq "$(jq -r .metadata_total <<<"$js")" "$((tm * 4096))" "metadata total"
	assert_eq "$(jq -r .data_used <<<"$js")" "$((ud * bs))" "data used"
	assert_eq "$(jq -r .data_total <<<"$js")" "$((td * bs))" "data total"
	assert_eq "$(jq -r .data_available <<<"$js")" "$(((td - ud) * bs))" "data available"
	assert_eq "$(jq -r .mode <<<"$js")" rw "mode"
	assert_eq "$(jq -r .no_space <<<"$js")" error "no-space policy"
	assert_eq "$(jq -r .needs_check <<<"$js")" false "needs_check"
}

# Write a pattern into a thin device made by hand, take the pool down and up, read it back.
check_pattern_survives_reactivation() {
	local pool=$1 dev sum
	dmsetup message "dmstore-$pool-pool" 0 "create_thin 0"
	dmsetup create t-thin --table "0 $((64 * 2048)) thin $(pool_devnum "$pool") 0"
	head -c 8M /dev/urandom > $T/pattern
	sum=$(md5sum < $T/pattern)
	dd if=$T/pattern of=/dev/mapper/t-thin bs=1M oflag=direct status=none
	ds pool status "$pool" --json
	[ "$(jq -r .data_used <<<"$OUT")" -ge $((8 * 1024 * 1024)) ] || fail "writes did not allocate pool blocks"
	assert_eq "$(jq -r .device_count <<<"$OUT")" 1 "device count"

	# Deactivation is refused while a thin device is open on the pool.
	expect 4 "$DMSTORE" pool deactivate "$pool"
	assert_contains "$ERR" "in use"
	dmsetup remove t-thin
	ds pool deactivate "$pool"
	dmsetup info "dmstore-$pool-pool" >/dev/null 2>&1 && fail "pool device still there after deactivate"
	ds pool status "$pool" --json
	assert_eq "$(jq -r .active <<<"$OUT")" false "active after deactivate"

	ds pool activate "$pool"
	dmsetup create t-thin --table "0 $((64 * 2048)) thin $(pool_devnum "$pool") 0"
	assert_eq "$(head -c 8M /dev/mapper/t-thin | md5sum)" "$sum" "pattern after reactivation"
	dmsetup remove t-thin
}

test_loop_pool_lifecycle() {
	local version
	ds pool create p0 --loop --data-size 1G --metadata-size 64M
	assert_contains "$OUT" "pool 'p0' created"
	dmsetup info -c --noheadings -o uuid dmstore-p0-pool | grep -qx DMSTORE-p0-pool || fail "uuid"
	dmsetup table dmstore-p0-pool | grep -q "thin-pool .* 1 error_if_no_space" || fail "not error_if_no_space"
	[ "$(stat -c %s "$DMSTORE_STATE_DIR/p0/data.img")" -eq $((1 << 30)) ] || fail "data file size"
	[ "$(du -k "$DMSTORE_STATE_DIR/p0/data.img" | cut -f1)" -lt 1024 ] || fail "data file not sparse"
	# The catalogue is made by create, at the version the first command to open the pool would leave.
	[ -e "$DMSTORE_STATE_DIR/p0/catalog.db" ] || fail "no catalogue after pool create"
	version=$(sqlite3 "$DMSTORE_STATE_DIR/p0/catalog.db" 'PRAGMA user_version')
	[ "$version" -gt 0 ] || fail "catalogue not migrated after pool create"
	ds image ls --pool p0
	assert_eq "$(sqlite3 "$DMSTORE_STATE_DIR/p0/catalog.db" 'PRAGMA user_version')" "$version" "catalogue version"
	check_status_matches_dmsetup p0
	ds pool status p0
	assert_contains "$OUT" "$DMSTORE_STATE_DIR/p0/data.img (/dev/loop"
	check_pattern_survives_reactivation p0
	check_status_matches_dmsetup p0

	# The thin device made by hand still exists in the metadata: rm refuses, --force removes.
	expect 4 "$DMSTORE" pool rm p0
	assert_contains "$ERR" "holds 1 thin device"
	ds pool rm p0 --force
	[ ! -e "$DMSTORE_STATE_DIR/p0" ] || fail "pool dir left behind"
	losetup -l -n -O BACK-FILE | grep -q "$DMSTORE_STATE_DIR" && fail "loop device left attached"
	dmsetup info dmstore-p0-pool >/dev/null 2>&1 && fail "pool device left behind"
	true
}

test_loop_pool_default_sizes() {
	ds pool create p1 --loop
	assert_contains "$OUT" "sizes picked by dmstore"
	ds pool status p1 --json
	[ "$(jq -r .data_total <<<"$OUT")" -le $((100 << 30)) ] || fail "default data over 100 GiB"
	[ "$(jq -r .metadata_total <<<"$OUT")" -ge $((64 << 20)) ] || fail "default metadata under 64 MiB"
	assert_eq "$(jq -r .block_size <<<"$OUT")" 65536 "default block size"
	ds pool rm p1
}

test_block_pool_lifecycle() {
	ds pool create b0 --data "$(disk 1)" --metadata "$(disk 2)" --block-size 128K
	assert_contains "$OUT" "on $(disk 1)"
	check_status_matches_dmsetup b0
	ds pool status b0 --json
	assert_eq "$(jq -r .backing <<<"$OUT")" block "backing"
	assert_eq "$(jq -r .data_device <<<"$OUT")" "$(disk 1)" "data device"
	assert_eq "$(jq -r .block_size <<<"$OUT")" 131072 "block size"
	check_pattern_survives_reactivation b0
	ds pool ls
	assert_contains "$OUT" "b0"
	ds pool ls --json
	assert_eq "$(jq -r '.[0].name' <<<"$OUT")" b0 "pool ls --json"
	ds pool rm b0 --force
	# The metadata superblock is cleared so the device reads as blank again.
	assert_eq "$(head -c 4096 "$(disk 2)" | tr -d '\0' | wc -c)" 0 "metadata superblock cleared"
}

test_no_zero_pool() {
	ds pool create z0 --loop --data-size 256M --metadata-size 16M --no-zero
	dmsetup table dmstore-z0-pool | grep -q "2 skip_block_zeroing error_if_no_space" || fail "zeroing not off"
	ds pool status z0 --json
	assert_eq "$(jq -r .zero <<<"$OUT")" false "zero"
}

test_bad_names_and_sizes() {
	bad_input 2 "invalid pool name 'a/b'" "$DMSTORE" pool create a/b --loop
	bad_input 2 "invalid pool name '..'" "$DMSTORE" pool create .. --loop
	bad_input 2 "invalid pool name" "$DMSTORE" pool create "$(printf 'x%.0s' {1..33})" --loop
	bad_input 2 "invalid size '12Q'" "$DMSTORE" pool create p --loop --data-size 12Q
	bad_input 2 "invalid size '-5G'" "$DMSTORE" pool create p --loop --data-size -5G
	bad_input 2 "invalid size '1e3'" "$DMSTORE" pool create p --loop --data-size 1e3
	bad_input 2 "--data-size: size '8E' is too large: at most 256 TiB" "$DMSTORE" pool create p --loop --data-size 8E
	bad_input 2 "--block-size 32 KiB" "$DMSTORE" pool create p --loop --block-size 32K
	bad_input 2 "--block-size 96 KiB" "$DMSTORE" pool create p --loop --block-size 96K
	bad_input 2 "--block-size 2 GiB" "$DMSTORE" pool create p --loop --block-size 2G
	bad_input 2 "at least 64M" "$DMSTORE" pool create p --loop --data-size 1M
	bad_input 2 "give --data DEV and --metadata DEV, or --loop" "$DMSTORE" pool create p --data "$(disk 1)"
	bad_input 2 "exclude each other" "$DMSTORE" pool create p --loop --data "$(disk 1)" --metadata "$(disk 2)"
	bad_input 2 "unknown subcommand 'frobnicate'" "$DMSTORE" pool frobnicate
	bad_input 2 "missing pool NAME" "$DMSTORE" pool rm
	bad_input 2 "metadata is too small" "$DMSTORE" pool create p --loop --data-size 1T --metadata-size 2M
}

test_bad_devices() {
	bad_input 2 "'/dev/nonexistent'" "$DMSTORE" pool create p --data /dev/nonexistent --metadata "$(disk 2)"
	bad_input 2 "not a block device" "$DMSTORE" pool create p --data /etc/hostname --metadata "$(disk 2)"
	bad_input 2 "data is too small" "$DMSTORE" pool create p --data "$(disk 3)" --metadata "$(disk 2)"
	bad_input 2 "same device" "$DMSTORE" pool create p --data "$(disk 1)" --metadata "$(disk 1)"

	# A filesystem signature is refused, and the filesystem is left exactly as it was.
	mkfs.ext4 -q -F "$(disk 4)"
	bad_input 4 "carries a signature (ext4)" "$DMSTORE" pool create p --data "$(disk 4)" --metadata "$(disk 2)"
	blkid -p "$(disk 4)" | grep -q 'TYPE="ext4"' || fail "signature damaged"
	bad_input 4 "carries a signature (ext4)" "$DMSTORE" pool create p --data "$(disk 1)" --metadata "$(disk 4)"

	# A device the kernel holds (here by a linear target) is in use.
	dmsetup create t-hold --table "0 $(disk_sectors "$(disk 1)") linear $(disk 1) 0"
	bad_input 4 "is in use" "$DMSTORE" pool create p --data "$(disk 1)" --metadata "$(disk 2)"
	dmsetup remove t-hold

	# --force takes the signed device and wipes its signature.
	ds pool create p --data "$(disk 4)" --metadata "$(disk 2)" --force
	blkid -p "$(disk 4)" >/dev/null && fail "signature not wiped under --force"
	# A device another pool holds is refused even with --force while that pool is inactive.
	ds pool deactivate p
	bad_input 4 "belongs to pool 'p'" "$DMSTORE" pool create q --data "$(disk 4)" --metadata "$(disk 1)" --force
	true
}

test_missing_and_existing_pools() {
	ds pool create p0 --loop --data-size 256M --metadata-size 16M
	bad_input 4 "pool 'p0' already exists" "$DMSTORE" pool create p0 --loop --data-size 256M
	bad_input 3 "pool 'ghost' does not exist" "$DMSTORE" pool status ghost
	bad_input 3 "pool 'ghost' does not exist" "$DMSTORE" pool activate ghost
	bad_input 3 "pool 'ghost' does not exist" "$DMSTORE" pool deactivate ghost
	bad_input 3 "pool 'ghost' does not exist" "$DMSTORE" pool rm ghost
	# Activating an active pool, or deactivating an inactive one, is a no-op that succeeds.
	ds pool activate p0
	ds pool deactivate p0
	ds pool deactivate p0
	# Without a name, the pool object commands take: here the only one (the snapshotter's unit).
	ds pool activate
	assert_eq "$OUT" "pool 'p0' is active" "pool activate without a name"
}

test_not_root() {
	ds pool create p0 --loop --data-size 256M --metadata-size 16M
	bad_input 5 "must be run as root" setpriv --reuid=65534 --regid=65534 --clear-groups "$DMSTORE" pool create p1 --loop
	bad_input 5 "must be run as root" setpriv --reuid=65534 --regid=65534 --clear-groups "$DMSTORE" pool rm p0
	bad_input 5 "must be run as root" setpriv --reuid=65534 --regid=65534 --clear-groups "$DMSTORE" pool status p0
}

test_activate_checks_metadata() {
	ds pool create p0 --loop --data-size 256M --metadata-size 16M
	ds pool deactivate p0
	# Damage the metadata superblock's checksum: thin_check must refuse it and the pool stays down.
	printf '\xff\xff\xff\xff' | dd of="$DMSTORE_STATE_DIR/p0/metadata.img" bs=1 seek=0 conv=notrunc status=none
	expect 1 "$DMSTORE" pool activate p0
	assert_contains "$ERR" "thin_check found the metadata"
	dmsetup info dmstore-p0-pool >/dev/null 2>&1 && fail "damaged pool was activated"
	true
}

# exit_is CODE MESSAGE-PART ARGS...: dmstore ARGS exits CODE, saying MESSAGE-PART in one line.
exit_is() {
	local want=$1 msg=$2
	shift 2
	expect "$want" "$DMSTORE" "$@"
	assert_contains "$ERR" "$msg"
	[[ $ERR != *$'\n'* ]] || fail "'$*': error is not one line: $ERR"
}

# Every exit status of dmstore(8), through the real binary, from whichever layer refuses.
test_exit_codes() {
	ds pool create p --loop --data-size 256M --metadata-size 16M
	ds image create i --size 16M
	ds snap create c --image i
	ds vol create v --size 16M

	# 2: bad syntax, an invalid name, size or option, also when the library is the one to see it.
	exit_is 2 "unknown subcommand 'frob'" vol frob
	exit_is 2 "invalid size '1e3'" vol create x --size 1e3
	exit_is 2 "size '8E' is too large" vol grow v 8E
	exit_is 2 "at least 16 MiB" vol create x --size 1M
	exit_is 2 "cannot shrink" vol grow v 8M
	exit_is 2 "image 'a/b': invalid name" image inspect a/b
	exit_is 2 "mount point '/no/such/dir': No such file or directory" vol mount v /no/such/dir
	exit_is 2 "mount point '/no/such/dir': No such file or directory" snap mount c /no/such/dir
	exit_is 2 "source '/no/such/rootfs'" image import j /no/such/rootfs --size 16M
	# 3: the named object does not exist.
	exit_is 3 "pool 'ghost' does not exist" pool status ghost
	exit_is 3 "volume 'ghost' does not exist" vol inspect ghost
	exit_is 3 "image 'ghost' does not exist" snap create c2 --image ghost
	exit_is 3 "volume 'v' is not attached to container 'c'" vol detach v --container c
	# 4: it exists already, or is in use.
	exit_is 4 "volume 'v' already exists" vol create v --size 16M
	exit_is 4 "image 'i' is used by 1 container(s)" image rm i
	# 1: the operation failed. Permission denied as root is not "not root".
	mkdir -p "$T/nodev"
	mount -t tmpfs -o nodev tmpfs "$T/nodev"
	mknod "$T/nodev/loop" b 7 0
	exit_is 1 "data device '$T/nodev/loop': Permission denied" pool create q --data "$T/nodev/loop" --metadata "$T/nodev/loop"
	umount "$T/nodev"
	ds pool deactivate p
	exit_is 1 "pool 'p' is not active: run 'dmstore pool activate p'" vol create x --size 16M
	# 5: not root, and only that.
	expect 5 setpriv --reuid=65534 --regid=65534 --clear-groups "$DMSTORE" vol ls
	assert_contains "$ERR" "must be run as root"
	# 0
	ds pool activate p
	ds vol inspect v
}
