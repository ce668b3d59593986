# pool check, pool recover --orphans, and what a dead dmstore or a failing kernel leaves:
# a held metadata snapshot, a half-restored pool, a pool the kernel failed. Helpers are chk_*.

# A pool "p" with an empty image "base", a container "c1" and a volume "v1" (both active).
chk_pool() {
	ds pool create p --loop --data-size 512M --metadata-size 16M
	ds image create base --size 64M
	ds snap create c1 --image base
	ds vol create v1 --size 16M
}

# chk_finding KIND: pool check --json found (exactly) one finding of KIND; it is in $F.
chk_finding() {
	F=$(jq -c --arg k "$1" '[.findings[] | select(.kind == $k)]' <<<"$OUT")
	assert_eq "$(jq length <<<"$F")" 1 "findings of kind $1 in: $OUT"
	F=$(jq -c '.[0]' <<<"$F")
}

chk_clean() {
	ds pool check p
	assert_contains "$OUT" "pool 'p': clean"
}

# A thin id in the pool's metadata that no catalogue row owns, with the transaction ids in
# step: what a create left whose undo the kernel refused, or a device made by hand.
test_check_and_delete_orphans() {
	chk_pool
	chk_clean
	dmsetup message dmstore-p-pool 0 "create_thin 77"
	expect 1 "$DMSTORE" pool check p --json
	chk_finding orphan_thin_id
	assert_eq "$(jq -r .thin_id <<<"$F")" 77 "orphan's thin id"
	assert_contains "$(jq -r .message <<<"$F")" "thin id 77 is in the kernel but no catalogue row owns it"
	assert_eq "$(jq -r .clean <<<"$OUT")" false "clean"

	# Without --orphans, recover says so and deletes nothing.
	ds pool recover p
	assert_contains "$OUT" "delete them with 'dmstore pool recover p --orphans'"
	[ "$(kernel_thin_ids p | grep -cx 77)" -eq 1 ] || fail "recover deleted an orphan unasked"

	# One in use (a device made by hand maps it) is refused, named, and leaves nothing behind.
	dmsetup message dmstore-p-pool 0 "create_thin 78"
	dmsetup create t-thin --table "0 2048 thin $(pool_devnum p) 78"
	expect 4 "$DMSTORE" pool recover p --orphans
	assert_contains "$ERR" "thin id 78 is in use"
	assert_contains "$ERR" "1 orphan(s) before it were"
	assert_eq "$(kernel_thin_ids p | grep -cx 77)" 0 "orphan 77 deleted"
	ds snap create c2 --image base
	dmsetup remove t-thin
	ds pool recover p --orphans
	assert_contains "$OUT" "thin id 78 is in the kernel but no catalogue row owns it: deleted"
	assert_consistent p

	# A crash inside an orphan's delete is finished or undone like any change.
	dmsetup message dmstore-p-pool 0 "create_thin 79"
	expect 137 env DMSTORE_CRASH_AT=orphan-delete:after-kernel "$DMSTORE" pool recover p --orphans
	ds pool recover p
	assert_contains "$OUT" "1 rolled back"
	assert_consistent p
}

# A catalogue row whose thin id was deleted behind dmstore's back, and the advice that mends it.
test_check_row_without_thin_id() {
	local id
	chk_pool
	id=$(sqlite3 "$DMSTORE_STATE_DIR/p/catalog.db" "SELECT thin_id FROM devices WHERE name = 'c1'")
	dmsetup remove dmstore-p-ctr-c1
	dmsetup message dmstore-p-pool 0 "delete $id"
	expect 1 "$DMSTORE" pool check p --json
	chk_finding missing_thin_id
	assert_eq "$(jq -r '.object_type + " " + .object' <<<"$F")" "container c1" "object"
	assert_contains "$(jq -r .message <<<"$F")" "container 'c1' (thin id $id) is in the catalogue but not in the kernel"
	chk_finding device_inactive
	ds snap rm c1 --pool p
	assert_consistent p
	chk_clean
}

# Mounts recorded in the catalogue that are gone (unmounted by hand), and the advice that mends them.
test_check_stale_mounts() {
	chk_pool
	ds snap mount c1
	local m=$OUT
	ds vol attach v1 --container c1 --at /data
	chk_clean
	umount "$m/data"
	umount "$m"
	expect 1 "$DMSTORE" pool check p
	assert_contains "$OUT" "container 'c1' is recorded as mounted at '$m' but is not mounted there"
	assert_contains "$OUT" "volume 'v1' is recorded as attached to container 'c1' at /data but is not mounted there"
	# A stale mount point is what refuses snap mount.
	expect 4 "$DMSTORE" snap mount c1
	ds vol detach v1 --container c1 --pool p
	ds snap umount c1 --pool p
	chk_clean
	ds snap mount c1
}

# A metadata snapshot held by a dmstore that died: status still counts the devices, rm and
# every change still work, and check and recover say it was released.
test_held_metadata_snap_released() {
	chk_pool
	dmsetup message dmstore-p-pool 0 reserve_metadata_snap
	ds pool status p --json
	assert_eq "$(jq -r .device_count <<<"$OUT")" 3 "device count with a held snapshot"
	dmsetup message dmstore-p-pool 0 reserve_metadata_snap
	ds pool recover p
	assert_contains "$OUT" "a metadata snapshot held by a dmstore that died was released"
	expect 137 env DMSTORE_CRASH_AT=pool-check:snap-held "$DMSTORE" pool check p
	[ "$(dmsetup status dmstore-p-pool | awk '{ print $7 }')" != - ] || fail "the crash point did not hold a snapshot"
	expect 1 "$DMSTORE" pool check p --json
	chk_finding held_metadata_snap
	chk_clean
	dmsetup message dmstore-p-pool 0 reserve_metadata_snap
	ds snap create c2 --image base
	assert_eq "$(dmsetup status dmstore-p-pool | awk '{ print $7 }')" - "held root after a change"
	dmsetup message dmstore-p-pool 0 reserve_metadata_snap
	expect 4 "$DMSTORE" pool rm p
	assert_contains "$ERR" "holds 4 thin device(s)"
	ds pool rm p --force
}

# An activate that crashed between loading the table and restoring the devices is finished by
# the next activate; an activate on an active pool keeps the mounts that are there.
test_activate_finishes_restore() {
	chk_pool
	ds pool deactivate p
	# An inactive pool is checked offline: thin_check and the thin ids from the metadata itself.
	ds pool check p
	assert_contains "$OUT" "pool 'p' (inactive): clean; 3 thin id(s) in the kernel"
	expect 137 env DMSTORE_CRASH_AT=pool-activate:after-load "$DMSTORE" pool activate p
	dmsetup info dmstore-p-pool >/dev/null || fail "the table was not loaded"
	ds pool activate p
	dmsetup info dmstore-p-ctr-c1 >/dev/null || fail "container not restored"
	dmsetup info dmstore-p-vol-v1 >/dev/null || fail "volume not restored"
	ds snap mount c1
	ds pool activate p
	ds snap inspect c1 --json
	[ "$(jq -r .mountpoint <<<"$OUT")" != null ] || fail "activate forgot a mount that is there"
	assert_consistent p
	chk_clean
}

# Metadata on a dm-linear we control, reloaded to the error target: the kernel fails the pool.
# Every change, recover and check say so and what to run; following that brings it back.
test_failed_pool_says_what_to_run() {
	local msz=$(disk_sectors "$(disk 2)")
	dmsetup create t-meta --table "0 $msz linear $(disk 2) 0"
	ds pool create p --data "$(disk 1)" --metadata /dev/mapper/t-meta
	ds vol create v1 --size 16M
	dmsetup suspend t-meta
	dmsetup load t-meta --table "0 $msz error"
	dmsetup resume t-meta
	dd if=/dev/urandom of=/dev/mapper/dmstore-p-vol-v1 bs=64K count=4 seek=64 oflag=direct conv=fsync status=none 2>/dev/null || true
	[ "$(dmsetup status dmstore-p-pool | awk '{ print $4 }')" = Fail ] || fail "the pool did not fail: $(dmsetup status dmstore-p-pool)"

	expect 1 "$DMSTORE" vol create v2 --size 16M
	assert_contains "$ERR" "pool 'p' has failed (the kernel stopped it after a metadata or I/O error)"
	assert_contains "$ERR" "run 'dmstore pool deactivate p', then 'dmstore pool activate p'"
	expect 1 "$DMSTORE" pool recover p
	assert_contains "$ERR" "pool 'p' has failed"
	ds pool status p --json
	assert_eq "$(jq -r '.mode + " " + (.transaction_id | tostring)' <<<"$OUT")" "fail null" "status of a failed pool"
	expect 1 "$DMSTORE" pool check p --json
	chk_finding pool_failed

	ds pool deactivate p
	dmsetup suspend t-meta
	dmsetup load t-meta --table "0 $msz linear $(disk 2) 0"
	dmsetup resume t-meta
	ds pool activate p
	ds vol create v2 --size 16M
	chk_clean
	ds pool rm p --force
	dmsetup remove t-meta
}

# A pool the kernel runs read-only takes no change either; each refusal says what to run.
test_read_only_pool_refuses_changes() {
	chk_pool
	dmsetup reload dmstore-p-pool --table "$(dmsetup table dmstore-p-pool | sed -E 's/ 1 error_if_no_space ?$/ 2 error_if_no_space read_only/')"
	dmsetup resume dmstore-p-pool
	expect 1 "$DMSTORE" snap create c2 --image base
	assert_contains "$ERR" "pool 'p' is read-only"
	assert_contains "$ERR" "'dmstore pool deactivate p', then 'dmstore pool activate p'"
	# A removal is refused before it touches anything: the container stays whole and active.
	expect 1 "$DMSTORE" snap rm c1
	assert_contains "$ERR" "pool 'p' is read-only"
	dmsetup info dmstore-p-ctr-c1 >/dev/null || fail "a refused snap rm deactivated the container"
	assert_eq "$(sqlite3 "$DMSTORE_STATE_DIR/p/catalog.db" 'SELECT count(*) FROM devices WHERE pending_txn IS NOT NULL')" 0 "intents left by a refused change"
	expect 1 "$DMSTORE" pool check p --json
	chk_finding pool_read_only
	ds pool deactivate p
	ds pool activate p
	ds snap create c2 --image base
	assert_consistent p
}
