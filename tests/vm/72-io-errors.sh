# Torture, I/O errors: the pool's data or metadata device (a dm-linear over a test disk, here)
# swapped for dm-error or dm-flakey under a live pool. Commands fail with a clear error, the
# catalogue stays consistent, and once the device is back everything is as it was. (A pool the
# kernel failed or made read-only: tests/vm/15-check.sh.) Helpers are ioe_*.

# ioe_swap NAME TABLE: reload dm device NAME with TABLE, under whatever uses it.
ioe_swap() {
	dmsetup suspend "$1"
	dmsetup load "$1" --table "$2"
	dmsetup resume "$1"
}

ioe_cleanup() {
	jobs -p | xargs -r kill 2>/dev/null || true
	wait 2>/dev/null || true
	# Teardown removes "t-" devices before pools: ours are under the pool, so they go here, after it.
	local d
	for d in $(dm_names_uuids | awk '$1 ~ /^dmstore-/ && $2 !~ /-pool$/ { print $1 }'); do
		dmsetup remove "$d" 2>/dev/null || true
	done
	dmsetup remove "$(pool_dm p)" 2>/dev/null || true
	dmsetup remove t-data t-meta 2>/dev/null || true
}

# A pool "p" on t-data (disk 1) and t-meta (disk 2), with a raw volume "v" holding 4 MiB of
# random bytes (their sum in $VSUM).
ioe_setup() {
	trap ioe_cleanup EXIT
	DSZ=$(disk_sectors "$(disk 1)") MSZ=$(disk_sectors "$(disk 2)")
	dmsetup create t-data --table "0 $DSZ linear $(disk 1) 0"
	dmsetup create t-meta --table "0 $MSZ linear $(disk 2) 0"
	ds pool create p --data /dev/mapper/t-data --metadata /dev/mapper/t-meta
	ds vol create v --size 16M --raw
	head -c 4M /dev/urandom | dd of=/dev/mapper/dmstore-p-vol-v bs=1M oflag=direct status=none
	VSUM=$(dd if=/dev/mapper/dmstore-p-vol-v bs=1M count=4 iflag=direct status=none | md5sum)
}

ioe_vsum_intact() {
	assert_eq "$(dd if=/dev/mapper/dmstore-p-vol-v bs=1M count=4 iflag=direct status=none | md5sum)" "$VSUM" "volume v's bytes"
	figure bytes_verified $((4 << 20))
}

# The data device fails every I/O: creates that write (a filesystem) fail, one clear line,
# and leave nothing; when it is back, all is as it was.
test_io_errors_data_device() {
	ioe_setup
	ioe_swap t-data "0 $DSZ error"
	expect 1 "$DMSTORE" vol create w --size 16M
	[ "$(printf '%s\n' "$ERR" | wc -l)" -eq 1 ] || fail "error is not one line: $ERR"
	assert_contains "$ERR" "volume 'w'"
	assert_contains "$ERR" "Input/output error"
	expect 1 "$DMSTORE" image create base --size 64M
	assert_contains "$ERR" "image 'base'"
	figure bad_inputs_tried 2
	assert_consistent p
	ds vol ls --json
	assert_eq "$(jq -r '[.[].name] | join(",")' <<<"$OUT")" v "volumes after failed creates"
	ioe_swap t-data "0 $DSZ linear $(disk 1) 0"
	ioe_vsum_intact
	ds vol create w --size 16M
	ds image create base --size 64M
	ds pool check p
	assert_consistent p
	ds pool rm p --force
	dmsetup remove t-data t-meta
}

# Both devices flaky (a second up, a second erroring writes, in turn) under a loop of changes:
# each command succeeds or fails cleanly, and once they are steady again, recovery leaves the
# catalogue and the kernel agreeing, and the volume's bytes kept.
torture_io_errors_flaky() {
	local i rc ok=0 failed=0
	ioe_setup
	ds image create base --size 64M
	ioe_swap t-data "0 $DSZ flakey $(disk 1) 0 1 1 1 error_writes"
	ioe_swap t-meta "0 $MSZ flakey $(disk 2) 0 2 1 1 error_writes"
	for i in $(seq 1 40); do
		rc=0
		case $((i % 4)) in
		0) "$DMSTORE" snap create "c$i" --image base >/dev/null 2>"$T/err" || rc=$? ;;
		1) "$DMSTORE" vol create "w$i" --size 16M >/dev/null 2>"$T/err" || rc=$? ;;
		2) "$DMSTORE" snap rm "c$((i - 2))" >/dev/null 2>"$T/err" || rc=$? ;;
		3) "$DMSTORE" vol rm "w$((i - 2))" >/dev/null 2>"$T/err" || rc=$? ;;
		esac
		case $rc in
		0) ok=$((ok + 1)) ;;
		1 | 3 | 4) failed=$((failed + 1)); [ "$(wc -l < "$T/err")" -eq 1 ] || fail "not one line: $(cat "$T/err")" ;;
		*) fail "command $i exited $rc: $(cat "$T/err")" ;;
		esac
	done
	echo "# flaky devices: $ok succeeded, $failed failed cleanly"
	ioe_swap t-data "0 $DSZ linear $(disk 1) 0"
	ioe_swap t-meta "0 $MSZ linear $(disk 2) 0"
	# The kernel may have failed the pool or made it read-only: what the error says to run, is run.
	if ! "$DMSTORE" pool recover p >/dev/null 2>"$T/err"; then
		echo "# recover: $(cat "$T/err")"
		ds pool deactivate p
		ds pool activate p
	fi
	ds pool recover p
	ioe_vsum_intact
	ds pool check p
	assert_consistent p
	figure bad_inputs_tried 40
	ds pool rm p --force
	dmsetup remove t-data t-meta
}
