# dm names that pools and objects with '-' in their names share no more, and devices found by
# their UUID, never by their name alone (doc/DESIGN.md, "Naming"; issue 8, item 2).

# names_pattern POOL: writes 1 MiB of noise to thin device 0 of POOL (made here), its sum in $PATTERN_SUM.
names_pattern() {
	local pool=$1
	dmsetup message "$(pool_dm "$pool")" 0 "create_thin 0"
	dmsetup create t-thin --table "0 $((16 * 2048)) thin $(pool_devnum "$pool") 0"
	head -c 1M /dev/urandom > "$T/pattern"
	PATTERN_SUM=$(md5sum < "$T/pattern")
	dd if="$T/pattern" of=/dev/mapper/t-thin bs=1M oflag=direct status=none
	dmsetup remove t-thin
}

names_pattern_intact() {
	local pool=$1
	dmsetup create t-thin --table "0 $((16 * 2048)) thin $(pool_devnum "$pool") 0"
	assert_eq "$(head -c 1M /dev/mapper/t-thin | md5sum)" "$PATTERN_SUM" "pool $pool's data"
	dmsetup remove t-thin
}

# The issue's case: pool "a"'s volume "pool" was named like pool "a-vol"'s pool device, and
# `vol create` formatted over it, `vol rm` removed it.
test_names_pools_with_dashes_do_not_collide() {
	local dev table
	ds pool create a --loop --data-size 256M --metadata-size 16M
	ds pool create a-vol --loop --data-size 256M --metadata-size 16M
	dev=$(pool_dm a-vol)
	names_pattern a-vol
	table=$(dmsetup table "$dev")

	ds vol create pool --pool a --size 64M
	assert_eq "$(dmsetup table "$dev")" "$table" "pool a-vol's table after vol create in pool a"
	ds vol rm pool --pool a
	dmsetup info "$dev" >/dev/null 2>&1 || fail "vol rm in pool a removed pool a-vol's device"
	names_pattern_intact a-vol

	# Today's names: a '-' inside a pool's name is doubled, so neither reads as the other.
	assert_eq "$dev" dmstore-a--vol-pool "pool a-vol's dm name"
	assert_eq "$(pool_dm a)" dmstore-a-pool "pool a's dm name"
	assert_consistent a

	# Pool a-vol's device as dmstore 0.1.0 named it: still its own, and pool a's volume "pool",
	# which wants that name, is refused, naming the device and whose it is.
	dmsetup rename "$dev" dmstore-a-vol-pool
	expect 4 "$DMSTORE" vol create pool --pool a --size 64M
	assert_contains "$ERR" "'dmstore-a-vol-pool' is taken by a device that is not its own (uuid 'DMSTORE-a-vol-pool')"
	assert_eq "$(dmsetup table dmstore-a-vol-pool)" "$table" "pool a-vol's table after the refused vol create"
	names_pattern_intact a-vol
	# And it keeps working under that name.
	ds vol create v --pool a-vol --size 64M
	assert_eq "$(dmsetup info -c --noheadings -o uuid dmstore-a--vol-vol-v)" \
		"DMSTORE-a-vol-vol-$(sqlite3 "$DMSTORE_STATE_DIR/a-vol/catalog.db" "SELECT id FROM devices WHERE name = 'v'")" \
		"pool a-vol's volume"
	assert_consistent a
}

# Names with '-' in a pool with '-', end to end: container, mount, volume, snapshot, removal.
test_names_objects_with_dashes() {
	local m
	ds pool create x-y --loop --data-size 512M --metadata-size 16M
	ds image create i-m --size 64M
	ds snap create c-1 --image i-m
	ds snap mount c-1
	m=$OUT
	echo hello > "$m/f"
	ds snap inspect c-1 --json
	assert_eq "$(jq -r .device <<<"$OUT")" /dev/mapper/dmstore-x--y-ctr-c--1 "container device"
	ds vol create v-1 --size 64M
	ds vol snapshot v-1 v--s
	ds vol inspect v--s --json
	assert_eq "$(jq -r .device <<<"$OUT")" /dev/mapper/dmstore-x--y-vsnap-v----s "volume snapshot device"
	mkdir -p "$T/v"
	ds vol mount v--s "$T/v"
	ds vol umount v--s
	assert_consistent x-y
	ds snap umount c-1
	ds snap mount c-1
	assert_eq "$(cat "$OUT/f")" hello "container data"
	ds snap rm c-1
	ds vol rm v--s
	ds vol rm v-1
	ds image rm i-m
	assert_eq "$(dm_names_uuids | awk '$2 ~ /^DMSTORE-x-y-/ { print $2 }')" DMSTORE-x-y-pool "devices left"
	assert_consistent x-y
}

# Devices activated by dmstore 0.1.0 carry its names ("dmstore-o-p-ctr-c-1" for pool o-p's
# container c-1); made here by renaming. They are found by UUID, used and removed.
test_names_of_0_1_0_devices_still_work() {
	local m
	ds pool create o-p --loop --data-size 512M --metadata-size 16M
	ds image create img --size 64M
	ds snap create c-1 --image img
	ds vol create v-1 --size 64M
	dmsetup rename dmstore-o--p-ctr-c--1 dmstore-o-p-ctr-c-1
	dmsetup rename dmstore-o--p-vol-v--1 dmstore-o-p-vol-v-1
	dmsetup rename dmstore-o--p-pool dmstore-o-p-pool

	ds snap mount c-1
	m=$OUT
	findmnt -n -o SOURCE "$m" | grep -qx /dev/mapper/dmstore-o-p-ctr-c-1 || fail "not mounted from the 0.1.0 device"
	ds snap inspect c-1 --json
	assert_eq "$(jq -r .active <<<"$OUT")" true "container active"
	ds vol snapshot v-1 s
	ds vol grow v-1 128M
	assert_eq "$(blockdev --getsize64 /dev/mapper/dmstore-o-p-vol-v-1)" $((128 << 20)) "grown"
	ds pool status o-p --json
	assert_eq "$(jq -r .dm_name <<<"$OUT")" dmstore-o-p-pool "pool status's dm name"
	assert_consistent o-p
	ds snap rm c-1
	ds vol rm s
	ds vol rm v-1
	dmsetup info dmstore-o-p-ctr-c-1 >/dev/null 2>&1 && fail "0.1.0 container device left"
	dmsetup info dmstore-o-p-vol-v-1 >/dev/null 2>&1 && fail "0.1.0 volume device left"
	ds pool deactivate o-p
	dmsetup info dmstore-o-p-pool >/dev/null 2>&1 && fail "0.1.0 pool device left"
	ds pool activate o-p
	assert_eq "$(pool_dm o-p)" dmstore-o--p-pool "reactivated under today's name"
	assert_consistent o-p
}

# A device that is not ours holds the name a dmstore device would get: refused, named, untouched.
test_names_squatter_refused() {
	local before
	dmsetup create dmstore-q-pool --uuid FOREIGN-q --table "0 2048 zero"
	bad_input 4 "'dmstore-q-pool' is taken by a device that is not its own (uuid 'FOREIGN-q')" \
		"$DMSTORE" pool create q --loop --data-size 256M --metadata-size 16M
	bad_input 4 "'dmstore-q-pool' is taken by a device that is not its own (uuid 'FOREIGN-q')" \
		"$DMSTORE" pool create q --data "$(disk 1)" --metadata "$(disk 2)"

	ds pool create s --loop --data-size 256M --metadata-size 16M
	ds image create img --size 64M
	dmsetup create dmstore-s-vol-v --uuid FOREIGN-1 --table "0 2048 zero"
	dmsetup create dmstore-s-ctr-c --table "0 2048 zero"
	before=$(dmsetup table; dm_names_uuids)
	expect 4 "$DMSTORE" vol create v --size 64M
	assert_contains "$ERR" "'dmstore-s-vol-v' is taken by a device that is not its own (uuid 'FOREIGN-1')"
	expect 4 "$DMSTORE" snap create c --image img
	assert_contains "$ERR" "'dmstore-s-ctr-c' is taken by a device that is not its own (no uuid)"
	assert_eq "$(dmsetup table; dm_names_uuids)" "$before" "squatters touched"
	ds vol ls --json
	assert_eq "$(jq length <<<"$OUT")" 0 "half-made volume"
	ds snap ls --json
	assert_eq "$(jq length <<<"$OUT")" 0 "half-made container"
	assert_consistent s
}
