# Torture, kill at every step: every mutating command killed (SIGKILL, as a power cut stops
# it) at each of its crash points (DMSTORE_CRASH_AT=<op>:<step>), then a next command, then
# the invariants: pool check clean, the kernel's thin ids equal the catalogue's, no dm device
# the catalogue does not know, a volume's and a container's checksummed bytes intact, and the
# command, run again, reaches its end. Helpers are kill_*.

# Every crash point, as "<op>:<step> <command...>" (the command a kill there interrupts; its
# objects are made by kill_prepare). dms_device_create/delete give each create and delete
# after-intent, after-kernel, after-txn; so do the deletes every change may begin with, of a
# removal deferred (deferred-rm) and of what a dead dmstore left half-made (recover).
KILL_POINTS=(
	"pool-activate:after-load pool activate p"
	"image-create:after-intent image create k-img --size 64M"
	"image-create:after-kernel image create k-img --size 64M"
	"image-create:after-txn image create k-img --size 64M"
	"image-create:after-format image create k-img --size 64M"
	"image-import:after-intent image import k-img @ROOTFS@ --size 64M"
	"image-import:after-kernel image import k-img @ROOTFS@ --size 64M"
	"image-import:after-txn image import k-img @ROOTFS@ --size 64M"
	"image-import:after-mount image import k-img @ROOTFS@ --size 64M"
	"image-import:entry-3 image import k-img @ROOTFS@ --size 64M"
	"image-import:after-format image import k-img @ROOTFS@ --size 64M"
	"image-import:after-unpack image import k-img @ROOTFS@ --size 64M"
	"image-rm:after-intent image rm k-old"
	"image-rm:after-kernel image rm k-old"
	"image-rm:after-txn image rm k-old"
	"snap-create:after-intent snap create k-c --image base"
	"snap-create:after-kernel snap create k-c --image base"
	"snap-create:after-txn snap create k-c --image base"
	"snap-create:after-commit snap create k-c --image base"
	"snap-create:after-activate snap create k-c --image base"
	"snap-rm:after-deactivate snap rm k-old"
	"snap-rm:after-intent snap rm k-old"
	"snap-rm:after-kernel snap rm k-old"
	"snap-rm:after-txn snap rm k-old"
	"snap-rm:after-removing snap rm k-held --force"
	"vol-create:after-intent vol create k-v --size 16M"
	"vol-create:after-kernel vol create k-v --size 16M"
	"vol-create:after-txn vol create k-v --size 16M"
	"vol-create:after-format vol create k-v --size 16M"
	"vol-rm:after-intent vol rm k-old"
	"vol-rm:after-kernel vol rm k-old"
	"vol-rm:after-txn vol rm k-old"
	"vol-rm:after-removing vol rm k-held --force"
	"vol-snapshot:after-suspend vol snapshot keep k-s"
	"vol-snapshot:after-intent vol snapshot keep k-s"
	"vol-snapshot:after-kernel vol snapshot keep k-s"
	"vol-snapshot:after-txn vol snapshot keep k-s"
	"vol-grow:after-suspend vol grow k-old @GROW@"
	"vol-attach:after-record vol attach k-old --container kc --at /k"
	"vol-attach:after-mount vol attach k-old --container kc --at /k"
	"orphan-delete:after-intent pool recover p --orphans"
	"orphan-delete:after-kernel pool recover p --orphans"
	"orphan-delete:after-txn pool recover p --orphans"
	"pool-grow:after-config pool grow p --data-size @PGROW@"
	"pool-reload:after-load pool grow p --data-size @PGROW@"
	"pool-grow:after-label pool grow d"
	"deferred-rm:after-intent vol create k-v --size 16M"
	"deferred-rm:after-kernel vol create k-v --size 16M"
	"deferred-rm:after-txn vol create k-v --size 16M"
	"recover:after-intent vol create k-v --size 16M"
	"recover:after-kernel vol create k-v --size 16M"
	"recover:after-txn vol create k-v --size 16M"
	"layer-prepare:after-intent layer prepare k-l"
	"layer-prepare:after-kernel layer prepare k-l"
	"layer-prepare:after-txn layer prepare k-l"
	"layer-prepare:after-format layer prepare k-l"
	"layer-prepare:after-commit layer prepare k-l"
	"layer-prepare:after-suspend layer prepare k-l k-base"
	"layer-prepare:after-kernel layer prepare k-l k-base"
	"layer-prepare:after-commit layer prepare k-l k-base"
	"layer-commit:after-deactivate layer commit k-n k-a"
	"layer-remove:after-deactivate layer rm k-lold"
	"layer-remove:after-intent layer rm k-lold"
	"layer-remove:after-kernel layer rm k-lold"
	"layer-remove:after-txn layer rm k-lold"
)

# The layer calls have no command: "layer ..." runs tests/vm/layer-driver.c (the snapshotter's
# calls, with the crash points) on pool p.
LAYER_DRIVER=$(pwd)/build/layer-driver

# The pool and what every kill must leave intact: volume "keep" (mounted, a file with its
# sum) and container "kc" (mounted, a file with its sum), both written and fsync'd.
kill_setup() {
	trap kill_cleanup EXIT
	# Pool "d" comes and goes (pool-grow:after-label): commands without --pool are p's.
	export DMSTORE_POOL=p
	make_rootfs "$T/rootfs"
	head -c 512K /dev/urandom | split -b 64K -a 1 --numeric-suffixes=1 - "$T/rootfs/etc/f"
	ds pool create p --loop --data-size 1G --metadata-size 16M
	ds image create base --size 64M
	ds vol create keep --size 32M
	mkdir -p "$T/keep"
	ds vol mount keep "$T/keep"
	head -c 2M /dev/urandom > "$T/keep/data"
	sync -f "$T/keep/data"
	KSUM=$(md5sum < "$T/keep/data")
	ds snap create kc --image base
	ds snap mount kc
	KCM=$OUT
	head -c 1M /dev/urandom > "$KCM/data"
	sync -f "$KCM/data"
	CSUM=$(md5sum < "$KCM/data")
	KILL_GROW=32
	KILL_PGROW=1024
}

kill_cleanup() {
	jobs -p | xargs -r kill 2>/dev/null || true
	wait 2>/dev/null || true
}

# kill_layer ARGS...: the layer driver on pool p, which must succeed; stdout in $OUT.
kill_layer() {
	expect 0 "$LAYER_DRIVER" p "$@"
}

# Whatever the command ARGS needs to exist before it runs.
kill_prepare() {
	local point=$1 args=$2
	case "$point $args" in
	"layer-prepare:after-suspend "*)
		# A parent committed while its device is open stays active: the snapshot suspends it.
		kill_layer prepare k-base0
		sleep 1000 < "$OUT" &
		KILL_HOLDER=$!
		kill_layer commit k-base k-base0 ;;
	"layer-prepare:"*" k-base")
		kill_layer prepare k-base0
		kill_layer commit k-base k-base0 ;;
	"pool-grow:after-label "*)
		# A pool on dedicated devices, its data device grown: only its grow writes a new label.
		dmsetup create t-data --table "0 $((128 * 2048)) linear $(disk 1) 0"
		ds pool create d --data /dev/mapper/t-data --metadata "$(disk 2)"
		ds vol create dv --size 16M --pool d
		dmsetup suspend t-data
		dmsetup reload t-data --table "0 $((256 * 2048)) linear $(disk 1) 0"
		dmsetup resume t-data ;;
	deferred-rm:*)
		# A removal deferred, its holder gone: the next change (the command killed) deletes its thin id.
		ds vol create k-held --size 16M
		sleep 1000 < /dev/mapper/dmstore-p-vol-k--held &
		ds vol rm k-held --force
		kill $!
		wait $! 2>/dev/null || true
		for _ in $(seq 50); do dmsetup info dmstore-p-vol-k--held >/dev/null 2>&1 || break; sleep 0.1; done ;;
	recover:*)
		# A half-made image, which recovery (in the command killed) deletes.
		expect 137 env DMSTORE_CRASH_AT=image-create:after-format "$DMSTORE" image create k-img --size 64M ;;
	layer-commit:*) kill_layer prepare k-a ;;
	layer-remove:*) kill_layer prepare k-lold ;;
	esac
	case $point in
	pool-activate:*)
		ds vol umount keep
		ds snap umount kc
		ds pool deactivate p ;;
	image-rm:*) ds image create k-old --size 64M ;;
	snap-rm:after-removing)
		ds snap create k-held --image base
		sleep 1000 < /dev/mapper/dmstore-p-ctr-k--held &
		KILL_HOLDER=$! ;;
	snap-rm:*) ds snap create k-old --image base ;;
	vol-rm:after-removing)
		ds vol create k-held --size 16M
		sleep 1000 < /dev/mapper/dmstore-p-vol-k--held &
		KILL_HOLDER=$! ;;
	vol-rm:* | vol-grow:* | vol-attach:*) ds vol create k-old --size 16M ;;
	orphan-delete:*) dmsetup message "$(pool_dm p)" 0 "create_thin 4242" ;;
	esac
}

# After the kill and the next command: every object the command made, gone; what it would
# have removed, gone; the pool as it was.
kill_tidy() {
	local point=$1 o
	[ -n "${KILL_HOLDER:-}" ] && { kill "$KILL_HOLDER"; wait "$KILL_HOLDER" 2>/dev/null || true; KILL_HOLDER=; }
	for o in k-img k-old; do "$DMSTORE" image rm "$o" --force >/dev/null 2>&1 || true; done
	for o in k-c k-old k-held; do "$DMSTORE" snap rm "$o" --force >/dev/null 2>&1 || true; done
	for o in k-v k-old k-held k-s; do "$DMSTORE" vol rm "$o" --force >/dev/null 2>&1 || true; done
	for o in k-l k-n k-a k-lold k-base k-base0; do "$LAYER_DRIVER" p rm "$o" >/dev/null 2>&1 || true; done
	"$DMSTORE" pool recover p --orphans >/dev/null 2>&1 || true
}

# The dedicated pool "d" after a kill in its grow: grown by the next grow, clean, then gone.
kill_dedicated_again() {
	ds pool grow d --json
	assert_eq "$(jq .data_total <<<"$OUT")" $((255 << 20)) "pool d's data after its grow, again"
	ds pool check d
	assert_contains "$OUT" "clean"
	assert_consistent d
	ds vol rm dv --pool d
	ds pool rm d
	dmsetup remove t-data
}

# The invariants after a kill at POINT and a next command.
kill_check() {
	local point=$1
	ds pool check p
	assert_contains "$OUT" "clean"
	assert_consistent p
	[ "$(md5sum < "$T/keep/data")" = "$KSUM" ] || figure lost_bytes $((2 << 20))
	[ "$(md5sum < "$KCM/data")" = "$CSUM" ] || figure lost_bytes $((1 << 20))
	assert_eq "$(md5sum < "$T/keep/data")" "$KSUM" "volume keep's bytes after $point"
	assert_eq "$(md5sum < "$KCM/data")" "$CSUM" "container kc's bytes after $point"
	figure bytes_verified $((3 << 20))
}

# kill_at N "<op>:<step> <command...>": the whole round for one crash point.
kill_at() {
	local n=$1 point=${2%% *} args bin=$DMSTORE
	args=${2#* }
	args=${args//@ROOTFS@/$T/rootfs}
	KILL_GROW=$((KILL_GROW + 16))
	args=${args//@GROW@/${KILL_GROW}M}
	KILL_PGROW=$((KILL_PGROW + 64))
	args=${args//@PGROW@/${KILL_PGROW}M}
	kill_prepare "$point" "$args"
	case $args in layer\ *) bin=$LAYER_DRIVER args="p ${args#layer }" ;; esac
	# shellcheck disable=SC2086
	expect 137 env DMSTORE_CRASH_AT="$point" "$bin" $args
	figure crash_points_killed 1
	# The next command: a change (which recovers first), or the admin's recover, in turn.
	if [ $((n % 2)) -eq 0 ]; then
		ds vol create "next$n" --size 16M
		ds vol rm "next$n"
	else
		ds pool recover p
	fi
	[ -n "${KILL_HOLDER:-}" ] && { kill "$KILL_HOLDER"; wait "$KILL_HOLDER" 2>/dev/null || true; KILL_HOLDER=; ds pool recover p; }
	case $point in
	pool-activate:*)
		ds pool activate p
		ds vol mount keep "$T/keep"
		ds snap mount kc
		KCM=$OUT ;;
	esac
	kill_check "$point"
	# The command, run again, gets to its end (or finds its work done).
	case $point in
	pool-grow:after-label) kill_dedicated_again ;;
	*:after-removing | orphan-delete:* | pool-grow:* | pool-reload:*) ;; # done, or nothing to do again
	*)
		# shellcheck disable=SC2086
		"$bin" $args >/dev/null 2>"$T/again.err" || grep -qE "already|does not exist" "$T/again.err" ||
			fail "'$args' again after a kill at $point: $(cat "$T/again.err")" ;;
	esac
	kill_tidy "$point"
	# The sample checks once (seconds each under TCG); the torture also after the tidy.
	[ -z "${KILL_THOROUGH:-}" ] || kill_check "$point"
}

# The torture cases, one per command group: the "<op>:<step>" each one kills.
KILL_FAMILIES=(
	[0]='^(pool-|orphan-|deferred-|recover:)'
	[1]='^image-'
	[2]='^snap-'
	[3]='^vol-'
	[4]='^layer-'
)

# Every literal crash point in pool/ is in KILL_POINTS (a new one must be added here), and
# every entry of KILL_POINTS in a family.
kill_points_complete() {
	local p e f covered missing=
	for p in $(grep -ho 'dms_crash_point("[a-z-]*", "[a-z-]*")' pool/*.c | sed -E 's/.*\("([a-z-]*)", "([a-z-]*)"\)/\1:\2/' | sort -u); do
		case $p in
		pool-check:snap-held) continue ;; # a check, not a change
		esac
		printf '%s\n' "${KILL_POINTS[@]}" | grep -q "^$p " || missing="$missing $p"
	done
	for e in "${KILL_POINTS[@]}"; do
		covered=
		for f in "${KILL_FAMILIES[@]}"; do [[ ${e%% *} =~ $f ]] && covered=1; done
		[ -n "$covered" ] || missing="$missing ${e%% *}(in no KILL_FAMILIES)"
	done
	[ -z "$missing" ] || fail "crash points not in KILL_POINTS:$missing"
}

# kill_family REGEX: the whole round for each crash point whose "<op>:<step>" matches REGEX,
# on a pool of its own (one family per command group: a failure in one leaves the others run).
kill_family() {
	local i
	kill_points_complete
	kill_setup
	KILL_THOROUGH=1
	for i in "${!KILL_POINTS[@]}"; do
		[[ ${KILL_POINTS[$i]%% *} =~ $1 ]] || continue
		echo "# ${KILL_POINTS[$i]}"
		kill_at "$i" "${KILL_POINTS[$i]}"
	done
}

torture_kill_every_step_pool() {
	kill_family "${KILL_FAMILIES[0]}"
}

torture_kill_every_step_image() {
	kill_family "${KILL_FAMILIES[1]}"
}

torture_kill_every_step_snap() {
	kill_family "${KILL_FAMILIES[2]}"
}

torture_kill_every_step_vol() {
	kill_family "${KILL_FAMILIES[3]}"
}

torture_kill_every_step_layer() {
	kill_family "${KILL_FAMILIES[4]}"
}

# A sample: a create that formats, and a deferred removal (tests/vm/20-image-snap.sh and
# 30-volume.sh kill most commands at each point, with checks of their own).
test_kill_every_step_sample() {
	local i
	kill_points_complete
	kill_setup
	for i in 4 32; do
		kill_at "$i" "${KILL_POINTS[$i]}"
	done
}
