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

# full_diverge DEV I: eight 64 KiB blocks of DEV rewritten, one in each of eight leaves of its
# mapping tree (the leaf picked by I), in one process (eight dd are seconds under TCG), synced.
full_diverge() {
	perl -MIO::Handle -e '
		my $buf;
		open(my $r, "<", "/dev/urandom") or die "urandom: $!\n";
		read($r, $buf, 65536) == 65536 or die "urandom: $!\n";
		open(my $f, "+<", $ARGV[0]) or die "$ARGV[0]: $!\n";
		for my $j (0 .. 7) {
			sysseek($f, ($j * 128 + $ARGV[1] % 128) * 65536, 0) or die "seek: $!\n";
			syswrite($f, $buf) == 65536 or die "write: $!\n";
		}
		$f->sync or die "fsync: $!\n";' "$1" "$2"
}

# Metadata past dmstore's floor (min_free 0): the kernel's own limit. A 2 MiB metadata device and
# snapshots of a volume that keeps diverging from them, until the kernel is out of metadata space:
# the pool turns read-only, writes to new blocks fail at once, every change is refused saying to
# grow the metadata, volumes and snapshots read back intact, and pool grow --metadata-size, online,
# brings the pool back to writes.
torture_full_pool_metadata_exhausted() {
	local i j t0 secs keep before
	printf '[dmstore]\nmin_free = 0\n' > "$T/dmstore.conf"
	export DMSTORE_CONFIG=$T/dmstore.conf
	ds pool create p --loop --data-size 1G --metadata-size 2M
	ds vol create keep --size 16M --raw
	head -c 4M /dev/urandom | dd of=/dev/mapper/dmstore-p-vol-keep bs=1M oflag=direct status=none
	keep=$(full_sum /dev/mapper/dmstore-p-vol-keep)
	ds vol create v --size 256M --raw
	head -c 64M /dev/urandom | dd of=/dev/mapper/dmstore-p-vol-v bs=1M oflag=direct status=none
	for i in $(seq 1 300); do
		"$DMSTORE" vol snapshot v "s$i" >/dev/null 2>"$T/err" || break
		[ $((i % 25)) -eq 1 ] && full_sum "/dev/mapper/dmstore-p-vsnap-s$i" > "$T/sum.s$i"
		full_diverge /dev/mapper/dmstore-p-vol-v "$i" 2>"$T/err" || break
	done
	[ "$i" -lt 300 ] || fail "300 snapshots fit in 2 MiB of metadata"
	echo "# stopped at snapshot $i: $(cat "$T/err")"
	ds pool status p --json
	assert_eq "$(jq -c '[.mode, .needs_check, .metadata_used == .metadata_total]' <<<"$OUT")" '["ro",false,true]' \
		"pool status once the metadata ran out"
	# A write that needs a new block fails, and soon: no queueing.
	t0=$SECONDS
	timeout 120 dd if=/dev/urandom of=/dev/mapper/dmstore-p-vol-v bs=64K count=1 seek=3000 oflag=direct \
		status=none 2>/dev/null && fail "a write to a new block of a pool out of metadata succeeded"
	secs=$((SECONDS - t0))
	[ "$secs" -lt 60 ] || fail "the write took ${secs}s to fail: it hung"
	# Every change refused, saying what to run; changing nothing.
	FINGERPRINT_DISKS=
	before=$(fingerprint)
	expect 1 "$DMSTORE" vol create w --size 16M
	assert_contains "$ERR" "pool 'p' is out of metadata space (2 MiB of 2 MiB used: the kernel made it read-only"
	assert_contains "$ERR" "'dmstore pool grow p --metadata-size SIZE'"
	expect 1 "$DMSTORE" vol rm s1
	assert_contains "$ERR" "out of metadata space"
	expect 1 "$DMSTORE" pool check p --json
	assert_eq "$(jq -r '.findings[0].kind' <<<"$OUT")" pool_read_only "pool check's finding"
	assert_contains "$(jq -r '.findings[0].message' <<<"$OUT")" "out of metadata space"
	assert_eq "$(fingerprint)" "$before" "a refused change changed something"
	# What was written reads back.
	assert_eq "$(full_sum /dev/mapper/dmstore-p-vol-keep)" "$keep" "volume keep in a pool out of metadata"
	for j in $(seq 1 25 $((i - 1))); do
		assert_eq "$(full_sum "/dev/mapper/dmstore-p-vsnap-s$j")" "$(cat "$T/sum.s$j")" "snapshot s$j"
		figure bytes_verified $((256 << 20))
	done
	# The way back: more metadata, online.
	ds pool grow p --metadata-size 8M
	ds pool status p --json
	assert_eq "$(jq -c '[.mode, .needs_check]' <<<"$OUT")" '["rw",false]' "pool status after the metadata grew"
	full_diverge /dev/mapper/dmstore-p-vol-v 5000
	ds vol create w --size 16M
	ds vol rm s1
	assert_eq "$(full_sum /dev/mapper/dmstore-p-vol-keep)" "$keep" "volume keep after the metadata grew"
	figure bytes_verified $((16 << 20))
	assert_consistent p
	ds pool check p
}
