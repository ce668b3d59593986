# Torture, a full pool: a container that fills the data space gets write errors at once
# (error_if_no_space), dmstore refuses new devices with the numbers, volumes stay intact,
# and removing the container brings the pool back. The same for metadata space, whose
# floor dmstore keeps. Helpers are full_*.

# The md5 of a device's bytes, read past the page cache.
full_sum() {
	dd if="$1" bs=1M iflag=direct status=none | md5sum | cut -d' ' -f1
}

# A pool "p" of DATA with image "base", a raw volume "v" holding 4 MiB of random bytes
# (their sum in $VSUM), and a mounted container "filler"; its mount point in $M.
full_setup() {
	ds pool create p --loop --data-size "$1" --metadata-size "${2:-16M}"
	ds image create base --size 512M
	ds vol create v --size 16M --raw
	head -c 4M /dev/urandom | dd of=/dev/mapper/dmstore-p-vol-v bs=1M oflag=direct status=none
	VSUM=$(full_sum /dev/mapper/dmstore-p-vol-v)
	VSUM4=$(dd if=/dev/mapper/dmstore-p-vol-v bs=1M count=4 iflag=direct status=none | md5sum | cut -d' ' -f1)
	ds snap create filler --image base
	ds snap mount filler
	M=$OUT
}

test_full_pool_data() {
	local t0 secs used total before
	full_setup 96M
	assert_contains "$(dmsetup table "$(pool_dm p)")" "error_if_no_space"
	# Twice the pool: the writer must fail, and fail soon, not queue its writes forever.
	t0=$SECONDS
	timeout 120 dd if=/dev/zero of="$M/fill" bs=1M count=192 conv=fsync status=none 2>"$T/dd.err" &&
		fail "a write past the pool's data space succeeded"
	secs=$((SECONDS - t0))
	[ "$secs" -lt 100 ] || fail "the writer took ${secs}s to fail: it hung"
	ds pool status p --json
	assert_eq "$(jq -r .mode <<<"$OUT")" out_of_data_space "pool mode"
	used=$(jq -r .data_used <<<"$OUT") total=$(jq -r .data_total <<<"$OUT")
	assert_eq "$used" "$total" "data used of a full pool"
	# Refused, changing nothing, and the numbers say why (one fingerprint around both: seconds under TCG).
	FINGERPRINT_DISKS=
	before=$(fingerprint)
	expect 1 "$DMSTORE" snap create c2 --image base
	assert_eq "$ERR" "dmstore: pool 'p': cannot create a container: the pool is out of data space: 0 B of 96 MiB data free" "refusal"
	expect 1 "$DMSTORE" vol create v2 --size 16M
	assert_contains "$ERR" "cannot create a volume: the pool is out of data space: 0 B of 96 MiB data free"
	assert_eq "$(fingerprint)" "$before" "a refused create changed something"
	assert_eq "$(full_sum /dev/mapper/dmstore-p-vol-v)" "$VSUM" "the volume's bytes in a full pool"
	# The container goes, and its blocks with it: the pool takes writes again.
	ds snap rm filler
	ds snap create c2 --image base
	head -c 1M /dev/urandom | dd of=/dev/mapper/dmstore-p-vol-v bs=1M seek=8 oflag=direct status=none
	dd if=/dev/mapper/dmstore-p-vol-v bs=1M count=4 iflag=direct status=none | md5sum | grep -q "^$VSUM4 " ||
		fail "the volume's first 4 MiB changed"
	assert_consistent p
	ds pool check p
	figure bytes_verified $((4 << 20))
}

# Metadata: a 2 MiB metadata device, and snapshots of a volume that keeps diverging from them:
# eight blocks written after each, one in each leaf of its mapping tree, cost the metadata a
# copy of eight leaves, until dmstore's floor refuses. Every tenth snapshot's bytes are summed
# when it is taken and checked at the end.
torture_full_pool_metadata() {
	local i j before
	ds pool create p --loop --data-size 1G --metadata-size 2M
	ds vol create v --size 256M --raw
	head -c 64M /dev/urandom | dd of=/dev/mapper/dmstore-p-vol-v bs=1M oflag=direct status=none
	for i in $(seq 1 200); do
		if ! "$DMSTORE" vol snapshot v "s$i" >/dev/null 2>"$T/err"; then
			break
		fi
		[ $((i % 10)) -eq 1 ] && full_sum "/dev/mapper/dmstore-p-vsnap-s$i" > "$T/sum.s$i"
		for j in 0 1 2 3 4 5 6 7; do
			dd if=/dev/urandom of=/dev/mapper/dmstore-p-vol-v bs=64K count=1 seek=$((j * 128 + i % 128)) \
				oflag=direct conv=notrunc status=none
		done
	done
	[ "$i" -lt 200 ] || fail "200 snapshots fit in 2 MiB of metadata"
	assert_contains "$(cat "$T/err")" "metadata free"
	assert_contains "$(cat "$T/err")" "below the 10% floor"
	echo "# refused after $((i - 1)) snapshots: $(cat "$T/err")"
	FINGERPRINT_DISKS=
	before=$(fingerprint)
	expect 1 "$DMSTORE" vol create w --size 16M
	assert_contains "$ERR" "metadata free"
	assert_eq "$(fingerprint)" "$before" "a refused create changed something"
	for j in $(seq 1 10 $((i - 1))); do
		assert_eq "$(full_sum "/dev/mapper/dmstore-p-vsnap-s$j")" "$(cat "$T/sum.s$j")" "snapshot s$j"
		figure bytes_verified $((256 << 20))
	done
	# Snapshots removed give their metadata back.
	for j in $(seq 2 2 $((i - 1))); do ds vol rm "s$j"; done
	ds vol create w --size 16M
	assert_consistent p
	ds pool check p
}
