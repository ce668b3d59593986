# Torture, busy devices: snap rm and vol rm while a process holds the device are refused
# before anything changes, naming the holder (pid and command); with --force the removal is
# deferred until the holder lets go, and the next dmstore command finishes it. Never a
# half-removed object. Helpers are busy_*.

# Holders left by a failed case would keep their devices from teardown.
busy_cleanup() {
	jobs -p | xargs -r kill 2>/dev/null || true
	wait 2>/dev/null || true
}

# A pool "p" with an empty image "base", a mounted container "c" with volume "v" attached at
# /data, and a volume "w" mounted on the host at $T/w.
busy_setup() {
	trap busy_cleanup EXIT
	ds pool create p --loop --data-size 512M --metadata-size 16M
	ds image create base --size 64M
	ds snap create c --image base
	ds snap mount c
	CM=$OUT
	ds vol create v --size 16M
	ds vol attach v --container c --at /data
	ds vol create w --size 16M
	mkdir -p "$T/w"
	ds vol mount w "$T/w"
}

# The container's or volume's row: "state|active|mountpoint".
busy_row() {
	sqlite3 "$DMSTORE_STATE_DIR/p/catalog.db" "SELECT state || '|' || active || '|' || mountpoint FROM devices WHERE name = '$1'"
}

test_busy_refused_naming_the_holder() {
	local pid before
	busy_setup
	ds vol create x --size 16M
	# A process with the container's device open: refused, named, nothing changed.
	sleep 1000 < /dev/mapper/dmstore-p-ctr-c &
	pid=$!
	FINGERPRINT_DISKS=
	before=$(fingerprint)
	expect 4 "$DMSTORE" snap rm c
	assert_eq "$ERR" "dmstore: container 'c' is in use: pid $pid (sleep) has it open; stop it, or use --force to remove it once it is let go" "refusal"
	# image rm --force removes its containers the same way: refused before it starts.
	expect 4 "$DMSTORE" image rm base --force
	assert_contains "$ERR" "container 'c' is in use: pid $pid (sleep) has it open"
	assert_eq "$(fingerprint)" "$before" "a refused snap rm changed something"
	findmnt "$CM/data" >/dev/null || fail "the refused rm detached the volume"
	kill $pid
	# A process working in the container's filesystem; one with a volume's device open.
	(cd "$CM" && exec sleep 1000) &
	pid=$!
	sleep 1000 < /dev/mapper/dmstore-p-vol-x &
	sleep 0.5
	expect 4 "$DMSTORE" snap rm c
	assert_contains "$ERR" "container 'c' is in use: pid $pid (sleep) uses files on it"
	expect 4 "$DMSTORE" vol rm x
	assert_contains "$ERR" "volume 'x' is in use: pid $! (sleep) has it open"
	assert_eq "$(fingerprint)" "$before" "a refused rm changed something"
	kill $pid $!
	wait || true
	ds snap rm c
	ds vol rm x
	assert_consistent p
}

# --force: the removal waits for the holder; the next command finishes it; meanwhile the
# object is listed nowhere and its name is not yet free.
test_busy_force_deferred() {
	local pc pv i
	busy_setup
	(cd "$CM" && exec sleep 1000) &
	pc=$!
	sleep 1000 < /dev/mapper/dmstore-p-vol-w &
	pv=$!
	sleep 0.5
	ds snap rm c --force
	assert_eq "$OUT" "container 'c' removed; its device goes when its last user lets go" "snap rm --force"
	ds vol rm w --force
	assert_contains "$OUT" "volume 'w' removed; its device goes when its last user lets go"
	assert_eq "$(busy_row c)" "3|0|" "container row while its holder lives"
	assert_eq "$(busy_row w)" "3|0|" "volume row while its holder lives"
	# pool check names each pending removal and its holder, and is clean: it is what --force asked for.
	ds pool check p --json
	assert_eq "$(jq -c '[.clean, ([.findings[] | .kind + ":" + .object] | sort)]' <<<"$OUT")" \
		'[true,["pending_removal:c","pending_removal:w"]]' "pool check --json"
	assert_contains "$OUT" "container 'c' (thin id 1) is being removed (rm --force): waiting for pid $pc (sleep) uses files on it"
	assert_contains "$OUT" "volume 'w' (thin id 3) is being removed (rm --force): waiting for pid $pv (sleep) has it open"
	findmnt "$CM" >/dev/null && fail "the container is still mounted on the host"
	findmnt "$T/w" >/dev/null && fail "the volume is still mounted on the host"
	findmnt "$CM/data" >/dev/null && fail "volume v still attached"
	dmsetup info dmstore-p-ctr-c >/dev/null || fail "the held device went away under its holder"
	ds snap ls --json
	assert_eq "$(jq length <<<"$OUT")" 0 "containers listed"
	ds vol ls --json
	assert_eq "$(jq -r '[.[].name] | join(",")' <<<"$OUT")" v "volumes listed"
	# Gone for every purpose but the name.
	expect 3 "$DMSTORE" snap mount c
	assert_contains "$ERR" "container 'c' is being removed: its device goes when its last user lets go"
	expect 4 "$DMSTORE" snap create c --image base
	assert_contains "$ERR" "container 'c' is being removed: its name is free once its device's last user lets go"
	expect 4 "$DMSTORE" vol create w --size 16M
	assert_contains "$ERR" "volume 'w' is being removed"
	expect 3 "$DMSTORE" vol mount w "$T/w"
	# A change while the holders live leaves them be.
	ds vol create y --size 16M
	assert_eq "$(busy_row c)" "3|0|" "container row after a change"
	kill $pc $pv
	wait || true
	for i in $(seq 50); do
		dmsetup info dmstore-p-ctr-c >/dev/null 2>&1 || dmsetup info dmstore-p-vol-w >/dev/null 2>&1 || break
		sleep 0.1
	done
	dmsetup info dmstore-p-ctr-c >/dev/null 2>&1 && fail "the container's device outlived its holder"
	dmsetup info dmstore-p-vol-w >/dev/null 2>&1 && fail "the volume's device outlived its holder"
	ds pool check p
	assert_contains "$OUT" "container 'c' (thin id 1) is being removed (rm --force): its device is gone: the next change of the pool deletes its thin id"
	assert_contains "$OUT" "pool 'p': clean, 2 removal(s) pending;"
	# The next change deletes the thin ids; the names are free again.
	ds snap create c --image base
	assert_eq "$(busy_row w)" "" "volume row once its device went"
	ds vol create w --size 16M
	assert_consistent p

	# Killed between the row and the deferred remove: the next command finishes it.
	sleep 1000 < /dev/mapper/dmstore-p-ctr-c &
	pc=$!
	expect 137 env DMSTORE_CRASH_AT=snap-rm:after-removing "$DMSTORE" snap rm c --force
	kill $pc
	wait || true
	ds vol create z --size 16M
	assert_eq "$(busy_row c)" "" "container row once its holder went"
	dmsetup info dmstore-p-ctr-c >/dev/null 2>&1 && fail "the container's device was left"
	assert_consistent p
}
