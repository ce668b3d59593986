# Dedicated devices are remembered by the path the user gave, and shown to be the pool's own
# before a table is loaded or a device wiped (issue 8, item 3). Paths are symlinks made here,
# standing for /dev/disk/by-id, repointed to play a reboot that renamed the disks.
# Test disks: 1 = 1 GiB, 2 = 64 MiB, 3 = 16 MiB, 4 = 256 MiB.

# identity_link NAME DEV: $T/by-id/NAME names DEV from now on.
identity_link() {
	mkdir -p "$T/by-id"
	ln -sfn "$2" "$T/by-id/$1"
}

# What the disks hold, and nothing else: the state dir is left out.
identity_disks() {
	FINGERPRINT_DISKS="$*" DMSTORE_STATE_DIR="$T/none" fingerprint
}

test_identity_paths_kept_and_devices_checked() {
	local d1 d2 d3 d4 before
	d1=$(disk 1) d2=$(disk 2) d3=$(disk 3) d4=$(disk 4)
	identity_link data "$d1"
	identity_link meta "$d2"
	identity_link qdata "$d4"
	ds pool create p --data "$T/by-id/data" --metadata "$T/by-id/meta"
	assert_eq "$(jq -r .data_path "$DMSTORE_STATE_DIR/p/pool.json")" "$T/by-id/data" "data path"
	assert_eq "$(jq -r .metadata_path "$DMSTORE_STATE_DIR/p/pool.json")" "$T/by-id/meta" "metadata path"
	ds pool create q --data "$T/by-id/qdata" --metadata "$d3"
	# The label is nothing blkid or wipefs know: they say nothing of the fresh data device.
	blkid -p "$d4" && fail "blkid sees a signature on the data device: $(blkid -p "$d4")"
	assert_eq "$(wipefs "$d4")" "" "wipefs on the data device"
	names_pattern p
	ds pool deactivate p
	ds pool deactivate q
	before=$(identity_disks "$d1" "$d2" "$d3" "$d4")

	# Refused, naming the path, the disk it names now and why; nothing is written to any disk.
	identity_link data "$d2"
	identity_link meta "$d1"
	expect 1 "$DMSTORE" pool activate p
	assert_contains "$ERR" "pool 'p': data device '$T/by-id/data' (now $d2) is not this pool's: it carries no dmstore label"
	identity_link data "$d4"
	identity_link meta "$d2"
	expect 1 "$DMSTORE" pool activate p
	assert_contains "$ERR" "data device '$T/by-id/data' (now $d4) is not this pool's: it carries pool 'q''s label"
	identity_link data "$d1"
	identity_link meta "$d3"
	expect 1 "$DMSTORE" pool activate p
	assert_contains "$ERR" "metadata device '$T/by-id/meta' (now $d3) is not this pool's: its thin-pool metadata maps 4080 data blocks, this pool has 16368"
	dmsetup info -u DMSTORE-p-pool >/dev/null 2>&1 && fail "pool p activated on disks not its own"
	assert_eq "$(identity_disks "$d1" "$d2" "$d3" "$d4")" "$before" "refused activations wrote to a disk"

	# The links back: it activates, its data intact.
	identity_link meta "$d2"
	ds pool activate p
	names_pattern_intact p

	# pool rm wipes only its own devices: refused while they are not, forgotten untouched with --force.
	ds pool deactivate p
	before=$(identity_disks "$d1" "$d2" "$d3" "$d4")
	identity_link data "$d2"
	identity_link meta "$d1"
	expect 1 "$DMSTORE" pool rm p
	assert_contains "$ERR" "is not this pool's"
	assert_contains "$ERR" "use --force to forget the pool without touching its devices"
	ds pool rm p --force
	[ ! -e "$DMSTORE_STATE_DIR/p" ] || fail "pool p not forgotten"
	assert_eq "$(identity_disks "$d1" "$d2" "$d3" "$d4")" "$before" "pool rm --force wrote to a disk"

	# A disk that carries a living pool's label is refused by pool create, --force or not, even when
	# no configured path names it any more.
	identity_link qdata "$d1"
	expect 4 "$DMSTORE" pool create r --data "$d4" --metadata "$d2" --force
	assert_contains "$ERR" "data device '$d4' carries the label of pool 'q'"
	assert_eq "$(identity_disks "$d1" "$d2" "$d3" "$d4")" "$before" "refused pool create wrote to a disk"
}

# A pool made by dmstore 0.1.0 has no uuid and no label: it keeps working, and its metadata is
# still checked.
test_identity_of_0_1_0_pools() {
	local d1 d2 cfg
	d1=$(disk 1) d2=$(disk 2)
	cfg=$DMSTORE_STATE_DIR/o/pool.json
	ds pool create o --data "$d1" --metadata "$d2"
	ds image create img --size 64M
	ds pool deactivate o
	jq 'del(.uuid, .label_offset)' "$cfg" > "$T/pool.json" && cp "$T/pool.json" "$cfg"
	ds pool activate o
	ds pool deactivate o
	jq --arg d "$d2" --arg m "$d1" '.data_path = $d | .metadata_path = $m' "$cfg" > "$T/swapped.json"
	cp "$T/swapped.json" "$cfg"
	expect 1 "$DMSTORE" pool activate o
	assert_contains "$ERR" "metadata device '$d1' is not this pool's"
	cp "$T/pool.json" "$cfg"
	ds pool activate o
	ds image ls --json
	assert_eq "$(jq -r '.[0].name' <<<"$OUT")" img "image after reactivation"
	assert_consistent o
}
