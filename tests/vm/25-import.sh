# Imports: killed at any moment they leave nothing that blocks the pool; they hold the pool lock only
# for their kernel transactions, so other changes run while they unpack; and a change that waits for
# the pool lock says who holds it.

# A tree of FILES small files in 30 directories and one file of MIB MiB of random data, in DIR:
# random, so the import has to write every block of it.
make_import_tree() {
	local dir=$1 files=$2 mib=$3 i dirs=()
	# Builtins only, and one mkdir: a process per file costs too much under TCG.
	for ((i = 0; i < 30; i++)); do dirs+=("$dir/d$i"); done
	mkdir -p "${dirs[@]}"
	for ((i = 0; i < files; i++)); do echo "file $i" > "$dir/d$((i % 30))/f$i"; done
	head -c "${mib}M" /dev/urandom > "$dir/big"
}

# Pool p with a small image "base" to snapshot, and a tree of FILES files and MIB MiB in $T/tree.
# The pool's loop files live in the guest's RAM, as the tree does: DATA_SIZE (default 2G) bounds
# what repeated imports can make them take, since dm-thin reuses freed blocks only once it has
# been through the rest.
import_setup() {
	make_rootfs $T/rootfs
	ds pool create p --loop --data-size "${3:-2G}" --metadata-size 64M
	ds image import base $T/rootfs --size 64M
	make_import_tree $T/tree "$1" "$2"
}

# Wait until process PID stands at its DMSTORE_STOP_AT step.
wait_stopped() {
	local pid=$1 i state
	for ((i = 0; i < 1200; i++)); do
		state=$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null) || state=
		case $state in
		T) return 0 ;;
		Z | '') fail "process $pid ended before its stop point" ;;
		esac
		sleep 0.1
	done
	fail "process $pid never reached its stop point"
}

# After an import of "big" died (at TAG): another change succeeds, and nothing of it is left:
# no mount, no device, no row, the kernel agrees with the catalogue, and pool check finds the
# pool clean.
assert_import_gone() {
	local tag=$1
	ds snap create "c-$tag" --image base
	if grep -E "dmstore-p-img-big|/mnt/\.import-" /proc/self/mountinfo; then fail "a mount of the import is left ($tag)"; fi
	dmsetup info dmstore-p-img-big >/dev/null 2>&1 && fail "the import's device is left ($tag)"
	ds image ls --json
	assert_eq "$(jq '[.[] | select(.name == "big")] | length' <<<"$OUT")" 0 "half image listed ($tag)"
	assert_consistent p
	ds pool check p
	assert_contains "$OUT" "pool 'p': clean"
}

# SIGKILL the import of $T/tree as "big" (of SIZE) KILLS times, each at a random moment of its run,
# each followed by assert_import_gone. One import is timed first; the first nine tenths of that time
# (a kill at the very end tends to find the import done) are cut into KILLS equal spans, and each
# kill falls at random in its own: even two kills cover the start and the unpack.
kill_imports() {
	local kills=$1 size=$2 start took span pid i ms rc
	start=$(date +%s%N)
	ds image import big $T/tree --size "$size"
	took=$((($(date +%s%N) - start) / 1000000))
	ds image rm big
	echo "one import takes $took ms"
	span=$((took * 9 / 10 / kills))
	for ((i = 1; i <= kills; i++)); do
		ms=$(((i - 1) * span + (RANDOM * 32768 + RANDOM) % span))
		"$DMSTORE" image import big $T/tree --size "$size" >/dev/null 2>&1 &
		pid=$!
		sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
		kill -KILL $pid 2>/dev/null || true
		rc=0
		wait $pid || rc=$?
		echo "kill $i at $ms ms: exit $rc"
		if [ $rc -eq 0 ]; then ds image rm big; fi
		assert_import_gone "$i"
	done
}

# The issue's own case: 3,000 files and 200 MiB, killed at ten random moments.
torture_import_killed_at_random_moments() {
	import_setup 3000 200 640M
	kill_imports 10 1G
}

test_import_killed_at_random_moments() {
	import_setup 500 24
	kill_imports 2 256M
}

# Inside the unpack: once mounted, after the first entry, in the middle, once unpacked.
crash_inside_the_unpack() {
	local step
	import_setup 100 1
	for step in "$@"; do
		expect 137 env DMSTORE_CRASH_AT="image-import:$step" "$DMSTORE" image import big $T/tree --size 64M
		assert_import_gone "$step"
	done
	ds image import big $T/tree --size 64M
	ds image inspect big --json
	assert_eq "$(jq -r .entries <<<"$OUT")" 132 "entries imported (100 files, 30 dirs, big, the top)"
	assert_consistent p
}

torture_crash_points_inside_the_unpack() {
	crash_inside_the_unpack after-mount entry-1 entry-60 entry-132 after-unpack
}

# after-unpack has its place in test_crash_points_image_import.
test_crash_points_inside_the_unpack() {
	crash_inside_the_unpack after-mount entry-60
}

# What a dead import left cannot be removed while something else holds its device: the next change
# says what (a mount, as dmstore 0.1.0 left one, or an open) and what to do; once let go, it goes.
test_half_made_image_held_by_another() {
	local holder dev=/dev/mapper/dmstore-p-img-big
	import_setup 10 1
	mkdir -p "$T/mnt"
	expect 137 env DMSTORE_CRASH_AT=image-import:after-format "$DMSTORE" image import big $T/tree --size 64M
	expect 1 "$DMSTORE" pool check p --json
	assert_eq "$(jq -r '[.findings[].kind] | join(" ")' <<<"$OUT")" unfinished "findings after the crash"
	mount "$dev" "$T/mnt"
	expect 4 "$DMSTORE" snap create c1 --image base
	assert_contains "$ERR" "image 'big', left half-made by a dmstore that died, is still mounted at '$T/mnt': unmount it, then run 'dmstore pool recover p'"
	umount "$T/mnt"
	sleep 60 <"$dev" &
	holder=$!
	expect 4 "$DMSTORE" snap create c1 --image base
	assert_contains "$ERR" "image 'big', left half-made by a dmstore that died, cannot be removed: '$dev' is open"
	kill $holder
	wait $holder || true
	ds pool recover p
	assert_contains "$OUT" "1 rolled back"
	assert_import_gone held
}

# An import stopped in the middle of its unpack holds no pool lock: containers come and go, and
# what would touch the half image (or the pool under it) is refused, naming the importer.
test_import_does_not_block_changes() {
	local pid
	import_setup 150 4
	DMSTORE_STOP_AT=image-import:entry-50 "$DMSTORE" image import big $T/tree --size 1G >/dev/null 2>"$T/import.err" &
	pid=$!
	wait_stopped $pid
	ds snap create c1 --image base
	ds snap rm c1
	ds image ls --json
	assert_eq "$(jq -r '.[] | select(.name == "big") | .state' <<<"$OUT")" importing "state while importing"
	ds image inspect big --json
	assert_eq "$(jq -r .state <<<"$OUT")" importing "inspect while importing"
	bad_input 4 "image 'big' is still being imported, by pid $pid (" "$DMSTORE" image rm big
	bad_input 4 "image 'big' is being imported, by pid $pid" "$DMSTORE" pool rm p --force
	# The rest refuse at the same point, before anything: fingerprints cost too much under TCG.
	expect 4 "$DMSTORE" snap create c2 --image big
	assert_contains "$ERR" "image 'big' is still being imported"
	expect 4 "$DMSTORE" image import big $T/rootfs
	assert_contains "$ERR" "image 'big' is still being imported"
	expect 4 "$DMSTORE" pool deactivate p
	assert_contains "$ERR" "image 'big' is being imported"
	ds pool recover p
	assert_contains "$OUT" "0 rolled back"
	# A live import is work under way, not something to report.
	ds pool check p
	assert_contains "$OUT" "pool 'p': clean"
	kill -CONT $pid
	wait $pid || fail "the import failed after it went on: $(cat "$T/import.err")"
	ds image inspect big --json
	assert_eq "$(jq -r .state <<<"$OUT")" ready "state after the import"
	assert_eq "$(jq -r .entries <<<"$OUT")" 182 "entries imported"
	ds snap create c2 --image big
	assert_consistent p
	[ -z "$(ls -A "$DMSTORE_RUN_DIR/p.imports" 2>/dev/null)" ] || fail "import locks left: $(ls "$DMSTORE_RUN_DIR/p.imports")"
}

# A change that waits for the pool lock says who holds it after a second; --wait bounds the wait.
test_lock_wait_names_the_holder() {
	local pid waiter holder i lock=$DMSTORE_RUN_DIR/p.lock
	pool_with_image
	DMSTORE_STOP_AT=snap-create:after-intent "$DMSTORE" snap create held --image base >/dev/null 2>&1 &
	pid=$!
	wait_stopped $pid

	expect 4 "$DMSTORE" snap create c1 --image base --wait 2
	assert_contains "$ERR" "dmstore: pool 'p' is busy: held by pid $pid ("
	assert_contains "$ERR" "snap create held --image base) since "
	case $ERR in *"may be stale"*) fail "the holder's note was not confirmed: $ERR" ;; esac
	assert_contains "$ERR" "; waiting for it"
	assert_contains "$ERR" "; gave up after 2 s"
	bad_input 4 "pool 'p' is busy: held by pid $pid" "$DMSTORE" snap create c1 --image base --wait 0

	# Without --wait: the notice after a second, and the change once the holder is done.
	"$DMSTORE" snap create c2 --image base >/dev/null 2>"$T/c2.err" &
	waiter=$!
	for ((i = 0; i < 300; i++)); do
		grep -q "held by pid $pid" "$T/c2.err" && break
		sleep 0.1
	done
	assert_contains "$(cat "$T/c2.err")" "pool 'p' is busy: held by pid $pid ("
	kill -0 $waiter 2>/dev/null || fail "the waiting change did not wait"
	kill -CONT $pid
	wait $pid || fail "the stopped change failed"
	wait $waiter || fail "the waiting change failed: $(cat "$T/c2.err")"
	ds snap ls --json
	assert_eq "$(jq -r '[.[].name] | sort | join(" ")' <<<"$OUT")" "c2 held" "containers"

	# A holder that wrote no note (flock(1)): the kernel's word wins over the last dmstore's note.
	flock -o "$lock" sleep 30 &
	holder=$!
	for ((i = 0; i < 300; i++)); do
		flock -n "$lock" true || break
		sleep 0.1
	done
	expect 4 "$DMSTORE" snap rm c2 --wait 1
	assert_contains "$ERR" "held by pid $holder (flock -o $lock sleep 30)"
	kill $holder
	wait $holder || true
	ds snap rm c2 --wait 10

	# Usage errors, refused before the pool is opened.
	expect 2 "$DMSTORE" snap rm held --wait x
	assert_contains "$ERR" "snap rm: --wait 'x': give whole seconds, 0 to 2147483"
	expect 2 "$DMSTORE" snap rm held --wait 1.5
	assert_contains "$ERR" "--wait '1.5'"
	expect 2 "$DMSTORE" pool deactivate p --wait -1
	assert_contains "$ERR" "pool deactivate: --wait '-1'"
	expect 2 "$DMSTORE" snap ls --wait 1
	assert_contains "$ERR" "snap ls: unknown option '--wait'"
	ds snap ls --json
	assert_eq "$(jq length <<<"$OUT")" 1 "containers after the usage errors"
	assert_consistent p
}
