# Operability: --json on every command that prints or changes an object, metrics, pool growth.

test_json_everywhere() {
	local root=$T/rootfs mnt=$T/mnt
	mkdir -p "$root/etc" "$mnt"
	echo hello > "$root/etc/motd"
	ds pool create j --loop --data-size 256M --metadata-size 16M --json
	json_is '.name == "j" and .active and .mode == "rw" and .backing == "loop"'
	ds image create e --size 16M --json
	json_is '.name == "e" and .state == "ready" and .size == 16777216 and .containers == 0'
	ds image import i "$root" --size 16M --json
	json_is '.name == "i" and .state == "ready" and .entries >= 2 and .source != ""'
	ds snap create c --image i --json
	json_is '.name == "c" and .image == "i" and .active and .mountpoint == null'
	ds snap mount c --json
	json_is '.name == "c" and (.mountpoint | type) == "string"'
	ds vol create v --size 16M --json
	json_is '.name == "v" and .filesystem == "ext4" and .attachments == []'
	ds vol attach v --container c --at /data --json
	json_is '.attachments == [{"container": "c", "path": "/data", "read_only": false}]'
	ds vol detach v --container c --json
	json_is '.name == "v" and .attachments == []'
	ds vol mount v "$mnt" --json
	json_is ".mountpoint == \"$mnt\""
	ds vol umount v --json
	json_is '.name == "v" and .mountpoint == null'
	ds vol grow v 32M --json
	json_is '.name == "v" and .size == 33554432'
	ds vol snapshot v s --json
	json_is '.name == "s" and .origin == "v"'
	ds snap umount c --json
	json_is '.name == "c" and .mountpoint == null'
	ds pool recover j --json
	json_is '. == {"pool": "j", "rolled_forward": 0, "rolled_back": 0, "resumed": [],
		"released_metadata_snap": false, "orphans": [], "orphans_deleted": false}'
	ds snap rm c --json
	json_is '. == {"type": "container", "name": "c", "pool": "j", "removed": true}'
	ds vol rm s --json
	json_is '. == {"type": "volume", "name": "s", "pool": "j", "removed": true}'
	ds image rm i --json
	json_is '. == {"type": "image", "name": "i", "pool": "j", "removed": true}'
	ds pool deactivate j --json
	json_is '.name == "j" and .active == false and .mode == "inactive"'
	ds pool activate j --json
	json_is '.name == "j" and .active and .mode == "rw" and .device_count == 2'
	ds pool rm j --force --json
	json_is '. == {"type": "pool", "name": "j", "pool": "j", "removed": true}'
}

# metric NAME{LABELS}: its value in $T/metrics.
metric() {
	awk -v m="$1" '$1 == m { print $2 }' "$T/metrics"
}

test_pool_status_prometheus() {
	ds pool create m --loop --data-size 256M --metadata-size 16M
	ds image create i --size 16M
	ds snap create c --image i
	ds vol create v --size 16M
	ds vol snapshot v s
	ds pool create n --loop --data-size 128M --metadata-size 16M
	ds pool deactivate n
	ds pool status --format prometheus
	printf '%s\n' "$OUT" > "$T/metrics"
	promtool check metrics < "$T/metrics" > "$T/promtool" 2>&1 || fail "promtool check metrics: $(cat "$T/promtool")"
	ds pool status m --json
	assert_eq "$(metric 'dmstore_pool_data_used_bytes{pool="m"}')" "$(jq .data_used <<<"$OUT")" "data used"
	assert_eq "$(metric 'dmstore_pool_data_size_bytes{pool="m"}')" $((256 << 20)) "data size"
	assert_eq "$(metric 'dmstore_pool_metadata_used_bytes{pool="m"}')" "$(jq .metadata_used <<<"$OUT")" "metadata used"
	assert_eq "$(metric 'dmstore_pool_transaction_id{pool="m"}')" "$(jq .transaction_id <<<"$OUT")" "transaction id"
	assert_eq "$(metric 'dmstore_pool_needs_check{pool="m"}')" 0 "needs_check"
	assert_eq "$(metric 'dmstore_pool_mode{pool="m",mode="rw"}')" 1 "mode rw"
	assert_eq "$(metric 'dmstore_pool_mode{pool="m",mode="ro"}')" 0 "mode ro"
	assert_eq "$(metric 'dmstore_pool_thin_devices{pool="m"}')" 4 "thin devices"
	for k in image:1 container:1 volume:1 volume_snapshot:1; do
		assert_eq "$(metric "dmstore_pool_devices{pool=\"m\",kind=\"${k%:*}\"}")" "${k#*:}" "devices of kind ${k%:*}"
	done
	# An inactive pool: what it was configured with, and no numbers only the kernel knows.
	assert_eq "$(metric 'dmstore_pool_active{pool="n"}')" 0 "inactive pool"
	assert_eq "$(metric 'dmstore_pool_mode{pool="n",mode="inactive"}')" 1 "mode inactive"
	assert_eq "$(metric 'dmstore_pool_data_size_bytes{pool="n"}')" $((128 << 20)) "inactive data size"
	assert_eq "$(metric 'dmstore_pool_data_used_bytes{pool="n"}')" "" "inactive data used"
	expect 2 "$DMSTORE" pool status m --format yaml
	assert_contains "$ERR" "use table, json or prometheus"
	# What dmstore-pools.service runs at boot and shutdown: every pool, one array.
	ds pool activate --all --json
	json_is 'map(.name) == ["m", "n"] and all(.active)'
	ds pool deactivate --all
	ds pool ls --json
	json_is 'map(.active) == [false, false]'
}

# dmstore.conf reaches the library: the default pool, the image size, the space floor, mount options.
test_config_file() {
	mkdir -p "$T/mnt"
	printf '[dmstore]\npool = k\nimage_size = 24M\nmin_free = 99\nmount_options = discard,commit=7\n' > "$T/dmstore.conf"
	export DMSTORE_CONFIG=$T/dmstore.conf
	ds pool create k --loop --data-size 256M --metadata-size 16M
	ds pool create other --loop --data-size 128M --metadata-size 16M
	# 99% free is asked for: a new pool's metadata already has more than 1% in use.
	expect 1 "$DMSTORE" image create i
	assert_contains "$ERR" "pool 'k': cannot create an image"
	assert_contains "$ERR" "below the 99% floor"
	sed -i 's/min_free = 99/min_free = 0/' "$T/dmstore.conf"
	# Two pools, no --pool: the file's.
	ds image create i --json
	json_is '.size == 25165824'
	ds config --json
	json_is '.values.pool == {"value": "k", "source": "file:2"} and .values.min_free == {"value": 0, "source": "file:4"}'
	ds vol create v --size 16M
	ds vol mount v "$T/mnt"
	findmnt -n -o OPTIONS "$T/mnt" | grep -q 'discard' || fail "mount options: $(findmnt -n -o OPTIONS "$T/mnt")"
	findmnt -n -o OPTIONS "$T/mnt" | grep -q 'commit=7' || fail "mount options: $(findmnt -n -o OPTIONS "$T/mnt")"
	ds vol umount v
	# snap, ps, start take the file's pool too.
	ds snap create c --image i
	ds ps --json
	json_is 'map(.name) == ["c"]'
	expect 3 "$DMSTORE" start nosuch
	assert_contains "$ERR" "container 'nosuch'"
	ds snap rm c
	# The kernel judges ext4's own options; a flag is refused before anything, naming the line.
	sed -i 's/mount_options = .*/mount_options = nodev/' "$T/dmstore.conf"
	expect 2 "$DMSTORE" vol ls
	assert_eq "$ERR" "dmstore: $T/dmstore.conf, line 5: mount options 'nodev': 'nodev' is a mount flag, which dmstore sets itself"
	unset DMSTORE_CONFIG
}

# A loop pool grows while a volume on it is mounted and written, past what it held before.
test_pool_grow_loop_online() {
	mkdir -p "$T/mnt"
	ds pool create g --loop --data-size 64M --metadata-size 8M
	ds vol create v --size 256M
	ds vol mount v "$T/mnt"
	dd if=/dev/urandom of="$T/mnt/a" bs=1M count=8 conv=fsync status=none
	sum=$(md5sum < "$T/mnt/a")
	bad_input 2 "data is 64 MiB; cannot shrink it to 32 MiB" "$DMSTORE" pool grow g --data-size 32M
	expect 2 "$DMSTORE" pool grow g
	assert_contains "$ERR" "give the new data size, metadata size, or both"
	# Cut short after pool.json says the new size: the kernel still has the old one, and the next grow finishes.
	expect 137 env DMSTORE_CRASH_AT=pool-grow:after-config "$DMSTORE" pool grow g --data-size 128M --metadata-size 16M
	ds pool status g --json
	json_is '.data_total == 67108864'
	ds pool grow g --data-size 128M --metadata-size 16M --json
	json_is '.data_total == 134217728 and .metadata_total == 16777216 and .mode == "rw"'
	read -r _ _ tm _ td <<<"$(dmsetup_pool_numbers "$(pool_dm g)")"
	assert_eq "$td" $((128 * 16)) "kernel's data blocks"
	assert_eq "$tm" $((16 * 256)) "kernel's metadata blocks"
	# More than the pool held before: these writes would have failed at 64M.
	dd if=/dev/zero of="$T/mnt/b" bs=1M count=72 conv=fsync status=none
	assert_eq "$(md5sum < "$T/mnt/a")" "$sum" "data written before the grow"
	ds vol umount v
	ds pool deactivate g
	ds pool activate g
	ds pool status g --json
	json_is '.data_total == 134217728 and .metadata_total == 16777216'
	assert_consistent g
}

# A pool on a dedicated data device that grew (here a linear dm device, reloaded longer) takes the new room
# (make torture; test_pool_grow_loop_online keeps the grow and its crash point in make check).
torture_pool_grow_dedicated() {
	local d1 d2
	d1=$(disk 1)
	d2=$(disk 2)
	dmsetup create t-data --table "0 $((128 * 2048)) linear $d1 0"
	ds pool create b --data /dev/mapper/t-data --metadata "$d2"
	ds pool status b --json
	before=$(jq .data_total <<<"$OUT")
	bad_input 2 "its devices are dedicated" "$DMSTORE" pool grow b --data-size 1G
	ds vol create v --size 64M
	dmsetup suspend t-data
	dmsetup reload t-data --table "0 $((256 * 2048)) linear $d1 0"
	dmsetup resume t-data
	# Cut short once pool.json has the new size: the metadata still counts the old one, and the
	# device must still pass for the pool's own when it is activated with the new.
	expect 137 env DMSTORE_CRASH_AT=pool-grow:after-config "$DMSTORE" pool grow b
	ds pool deactivate b
	ds pool activate b
	ds pool status b --json
	# The new last MiB holds the label, the table stops before it.
	json_is ".data_total == $((255 << 20)) and .data_total > $before"
	ds pool grow b --json
	json_is ".data_total == $((255 << 20))"
	ds vol rm v
	assert_consistent b
	ds pool rm b
	dmsetup remove t-data
}

# A daemon's thread waiting on the pool's events holds up no other thread's device-mapper work:
# the status another thread asks for comes back while the wait sleeps in the kernel (wait-driver.c).
test_wait_holds_up_no_thread() {
	ds pool create w --loop --data-size 64M --metadata-size 8M
	OUT=$("$(pwd)/build/wait-driver" w 2>&1) || fail "wait-driver: $OUT"
	assert_contains "$OUT" "status while waiting: yes"
	assert_contains "$OUT" "wait: Interrupted system call"
	ds pool rm w
}

# pool monitor sleeps on the pool's dm events: a container filling a loop pool is logged past the
# threshold, and the pool grows before the writes fail; a removal `rm --force` deferred is finished
# once its holder lets go, with no other command run; SIGTERM ends the monitor, exit 0.
test_pool_monitor_autoextend() {
	local mon holder i
	mkdir -p "$T/mnt"
	ds pool create m --loop --data-size 64M --metadata-size 8M
	ds image create i --size 256M
	ds snap create c --image i
	ds snap mount c "$T/mnt"
	"$DMSTORE" pool monitor m --threshold 50 --percent 100 --limit 256M 2> "$T/monitor.log" &
	mon=$!
	for _ in $(seq 50); do grep -q watching "$T/monitor.log" && break; sleep 0.2; done
	grep -q "watching: threshold 50%, autoextend on" "$T/monitor.log" || fail "monitor did not start: $(cat "$T/monitor.log")"
	# 96M into a pool of 64M: each chunk synced, with a breath for the monitor to act on the kernel's event.
	for n in $(seq 12); do
		dd if=/dev/zero of="$T/mnt/f$n" bs=1M count=8 conv=fsync status=none || fail "write $n failed: $(cat "$T/monitor.log")"
		sleep 0.3
	done
	ds pool status m --json
	[ "$(jq .data_total <<<"$OUT")" -ge $((128 << 20)) ] || fail "not grown: $OUT; $(cat "$T/monitor.log")"
	json_is '.mode == "rw"'
	ds vol create h --size 16M
	sleep 1000 < /dev/mapper/dmstore-m-vol-h &
	holder=$!
	ds vol rm h --force
	kill "$holder"
	wait "$holder" || true
	for i in $(seq 50); do
		[ -z "$(sqlite3 "$DMSTORE_STATE_DIR/m/catalog.db" "SELECT name FROM devices WHERE name = 'h'")" ] && break
		sleep 0.1
	done
	[ "$i" -lt 50 ] || fail "the deferred removal was not finished: $(cat "$T/monitor.log")"
	assert_contains "$(cat "$T/monitor.log")" "1 deferred removal finished: the device's holder let go"
	assert_consistent m
	kill -TERM "$mon"
	wait "$mon" || fail "monitor exited $?"
	assert_contains "$(cat "$T/monitor.log")" "past the 50% threshold"
	assert_contains "$(cat "$T/monitor.log")" "data grown from 64 MiB to 128 MiB (autoextend by 100%, limit 256 MiB)"
	assert_contains "$(cat "$T/monitor.log")" "pool monitor stopped"
	ds snap umount c
	assert_consistent m
}

# The installed program and library, run from a DESTDIR against a real pool (make torture: it runs
# make in the guest; tests/host/install.sh installs, runs the example and uninstalls in make check).
torture_installed_into_destdir() {
	local dest=$T/dest root
	root=$dest/usr/local
	make -s --no-print-directory install DESTDIR="$dest" > "$T/install.log" 2>&1 || fail "make install: $(tail -n 5 "$T/install.log")"
	expect 0 "$root/sbin/dmstore" pool create i --loop --data-size 128M --metadata-size 8M
	expect 0 "$root/sbin/dmstore" vol create v --size 16M --pool i --json
	json_is '.name == "v" and .active'
	# shellcheck disable=SC2046
	cc -o "$T/example" doc/example.c $(PKG_CONFIG_SYSROOT_DIR=$dest PKG_CONFIG_PATH=$root/lib/pkgconfig pkg-config --cflags --libs dmstore)
	expect 0 env LD_LIBRARY_PATH="$root/lib" "$T/example" 1G i
	assert_contains "$OUT" "pool 'i': rw, "
	assert_contains "$OUT" "of 134217728 data bytes used"
	expect 0 "$root/sbin/dmstore" pool rm i --force
}
