# Volumes on the real dm-thin target: create, attach into containers, outlive them,
# snapshot, grow, remove; crash points. Helpers are vol_* (all test files share one shell).

VOL_TMP=/tmp/vol-test

# Whatever a failed case leaves must not block teardown: writers stopped, devices
# resumed, mounts under the state dir and our scratch dir gone (deepest first).
vol_cleanup() {
	local d
	jobs -p | xargs -r kill 2>/dev/null || true
	wait 2>/dev/null || true
	for d in $(vol_suspended); do dmsetup resume "$d" || true; done
	findmnt -rn -o TARGET | awk -v s="$DMSTORE_STATE_DIR/" -v t="$VOL_TMP/" \
		'index($1, s) == 1 || index($1, t) == 1' | sort -r | xargs -r -n 1 umount -l 2>/dev/null || true
	rm -rf "$VOL_TMP"
}

# The dmstore dm devices that are suspended now, one per line.
vol_suspended() {
	dmsetup info -c --noheadings --separator ' ' -o name,attr 2>/dev/null | awk '$1 ~ /^dmstore-/ && $2 ~ /s/ { print $1 }'
}

# A rootfs with a static busybox, so a container can run commands (chroot), and the
# symlinks a hostile image would carry (made once per run: lib.sh's TEST_CACHE). A pool "p"
# with it imported as image "img". DATA: the pool's data size, default 512M.
vol_setup() {
	local root=$TEST_CACHE/vol-rootfs data=${1:-512M}
	trap vol_cleanup EXIT
	rm -rf "$VOL_TMP"
	mkdir -p "$VOL_TMP"
	if [ ! -e "$root.done" ]; then
		rm -rf "$root"
		mkdir -p "$root/bin" "$root/etc" "$root/srv" "$root/tmp"
		cp /bin/busybox "$root/bin/busybox"
		for a in sh cat cp ls md5sum mkdir sync; do ln -s busybox "$root/bin/$a"; done
		echo "from the image" > "$root/etc/motd"
		ln -s / "$root/data-root"
		ln -s ../../.. "$root/data-up"
		ln -s ../../../srv "$root/data-srv"
		: > "$root.done"
	fi
	ds pool create p --loop --data-size "$data" --metadata-size 16M
	# The import thread's cwd in the new filesystem may outlive pthread_join by an instant (see
	# the report on fs/unpack.c): its unmount then fails busy. Not what these tests are about.
	for a in 1 2 3; do
		"$DMSTORE" image import img "$root" --size 64M >/dev/null 2>"$VOL_TMP/import.err" && return 0
		grep -q "unmounting after the import failed" "$VOL_TMP/import.err" || break
		echo "# image import: $(cat "$VOL_TMP/import.err"); again" >&2
	done
	fail "image import: $(cat "$VOL_TMP/import.err")"
}

# Refusals come in batches between vol_unchanged_begin and vol_unchanged_end: lib.sh's
# fingerprint is taken once around the batch rather than twice around each command (a
# dozen programs, seconds under TCG). None of these commands names a test disk.
vol_unchanged_begin() {
	FINGERPRINT_DISKS=
	VOL_FINGERPRINT=$(fingerprint)
}

vol_unchanged_end() {
	assert_eq "$(fingerprint)" "$VOL_FINGERPRINT" "refused commands changed something"
}

# vol_refused CODE MESSAGE-PART ARGS...: dmstore ARGS fails with CODE and one line saying MESSAGE-PART.
vol_refused() {
	local want=$1 msg=$2
	shift 2
	expect "$want" "$DMSTORE" "$@"
	assert_contains "$ERR" "$msg"
	[[ $ERR != *$'\n'* ]] || fail "error is not one line: $ERR"
}

# A container made from "img" and mounted; its mount point in $M.
vol_container() {
	ds snap create "$1" --image img
	ds snap mount "$1"
	M=$OUT
}

# Run a shell command inside a container (chroot into its mounted rootfs).
vol_in() {
	local m=$1
	shift
	chroot "$m" /bin/sh -c "$*"
}

vol_dev() {
	echo "/dev/mapper/dmstore-p-$1"
}

vol_majmin() {
	dmsetup info -c --noheadings -o major,minor --separator : "dmstore-p-$1"
}

# Where the device is mounted now, by number, one target per line.
vol_targets() {
	findmnt -rn -o MAJ:MIN,TARGET | awk -v d="$(vol_majmin "$1")" '$1 == d { print $2 }' | sort
}

vol_fsck() {
	e2fsck -fn "$1" >/tmp/vol-fsck.log 2>&1 || fail "e2fsck -fn $1: $(tail -n 5 /tmp/vol-fsck.log)"
}

# The seed's story: the layer dies with the container, the volume outlives it.
test_vol_outlives_its_container() {
	local m1 m2 sum
	vol_setup
	vol_container c1
	m1=$M
	ds vol create data --size 256M --label appdata
	assert_contains "$OUT" "volume 'data' created"
	ds vol attach data --container c1 --at /var/lib/app
	assert_eq "$(vol_targets vol-data)" "$m1/var/lib/app" "mount target"

	# The container writes into its own layer and into the volume.
	head -c 3M /dev/urandom > "$VOL_TMP/payload"
	sum=$(md5sum < "$VOL_TMP/payload")
	cp "$VOL_TMP/payload" "$m1/tmp/payload"
	vol_in "$m1" 'echo layer > /layer.txt && cp /tmp/payload /var/lib/app/payload && sync'
	ds vol inspect data --json
	assert_eq "$(jq -r '.attachments[0].container' <<<"$OUT")" c1 "attachment container"
	assert_eq "$(jq -r '.attachments[0].path' <<<"$OUT")" /var/lib/app "attachment path"
	assert_eq "$(jq -r '.attachments[0].read_only' <<<"$OUT")" false "attachment ro"
	assert_eq "$(jq -r .label <<<"$OUT")" appdata "label"
	assert_eq "$(jq -r .size <<<"$OUT")" $((256 << 20)) "size"
	assert_eq "$(jq -r .active <<<"$OUT")" true "active"
	[ "$(jq -r .used <<<"$OUT")" -ge $((3 << 20)) ] || fail "used does not count the payload: $OUT"

	# The container goes; the volume is detached, not deleted.
	ds snap rm c1
	ds vol inspect data --json
	assert_eq "$(jq '.attachments | length' <<<"$OUT")" 0 "attachments after snap rm"
	[ -z "$(vol_targets vol-data)" ] || fail "volume still mounted: $(vol_targets vol-data)"

	# A new container from the same image: no layer file, and the volume's file byte for byte.
	vol_container c2
	m2=$M
	[ ! -e "$m2/layer.txt" ] || fail "the layer file survived its container"
	ds vol attach data --container c2 --at /var/lib/app
	assert_eq "$(vol_in "$m2" 'md5sum < /var/lib/app/payload')" "$sum" "volume file after the container went"
	ds vol ls --json
	assert_eq "$(jq -r '.[0].attachments[0].container' <<<"$OUT")" c2 "ls attachments"
	ds vol detach data --container c2
	assert_eq "$(stat -c %F "$m2/var/lib/app")" directory "mount point left as a directory"
	vol_fsck "$(vol_dev vol-data)"
}

test_vol_read_only_and_shared() {
	local m1 m2 m3
	vol_setup
	vol_container c1
	m1=$M
	vol_container c2
	m2=$M
	vol_container c3
	m3=$M
	ds vol create shared --size 64M
	ds vol attach shared --container c1 --at /shared
	ds vol attach shared --container c2 --at /shared
	ds vol attach shared --container c3 --at /mnt/ro --ro
	assert_contains "$OUT" "(read-only)"

	# One filesystem, three mounts: what one container writes, the others see at once.
	vol_in "$m1" 'echo from-c1 > /shared/one'
	vol_in "$m2" 'echo from-c2 > /shared/two'
	assert_eq "$(vol_in "$m2" 'cat /shared/one')" from-c1 "c2 reads c1's write"
	assert_eq "$(vol_in "$m1" 'cat /shared/two')" from-c2 "c1 reads c2's write"
	assert_eq "$(vol_in "$m3" 'cat /mnt/ro/one /mnt/ro/two' | tr '\n' ' ')" "from-c1 from-c2 " "read-only view"

	# The read-only attachment refuses writes; the others still take them.
	vol_in "$m3" 'echo x > /mnt/ro/three' 2>"$VOL_TMP/err" && fail "write through the read-only attachment succeeded"
	assert_contains "$(cat "$VOL_TMP/err")" "Read-only file system"
	vol_in "$m3" 'mkdir /mnt/ro/d' 2>/dev/null && fail "mkdir through the read-only attachment succeeded"
	findmnt -n -o OPTIONS "$m3/mnt/ro" | grep -qE '(^|,)ro(,|$)' || fail "not mounted ro"
	vol_in "$m1" 'echo still > /shared/three'
	ds vol inspect shared --json
	assert_eq "$(jq -c '[.attachments[] | [.container, .path, .read_only]]' <<<"$OUT")" \
		'[["c1","/shared",false],["c2","/shared",false],["c3","/mnt/ro",true]]' "attachments"

	vol_unchanged_begin
	vol_refused 4 "volume 'shared' is already attached to container 'c2' at /shared" \
		vol attach shared --container c2 --at /elsewhere
	vol_unchanged_end
	# One container going leaves the others' mounts alone.
	ds snap rm c1
	assert_eq "$(vol_in "$m2" 'cat /shared/three')" still "c2 after c1 went"
	ds vol detach shared --container c2
	ds vol detach shared --container c3
	[ -z "$(vol_targets vol-shared)" ] || fail "still mounted: $(vol_targets vol-shared)"
	vol_fsck "$(vol_dev vol-shared)"
}

# An image's symlinks point at "/" and above it: resolved in the rootfs, never on the host.
test_vol_symlinks_stay_in_rootfs() {
	local m before after new tag=escape-$$
	vol_setup
	vol_container c
	m=$M
	ds vol create v --size 64M
	before=$(findmnt -rn -o TARGET | sort)

	# Both land on the container's root: refused (a mount there would hide the rootfs).
	vol_unchanged_begin
	vol_refused 2 "'/data-root' resolves to the container's root directory" vol attach v --container c --at /data-root
	vol_refused 2 "'/data-up' resolves to the container's root directory" vol attach v --container c --at /data-up
	vol_refused 2 "resolves to the container's root directory" vol attach v --container c --at /../../..
	vol_unchanged_end
	assert_eq "$(vol_targets vol-v)" "" "mounted after a refusal"

	# Through them, below the root: inside the rootfs, whatever the host has at those paths.
	for at in /data-srv "/data-root/$tag" "/data-up/../../$tag-2/x" "/../../../srv/../$tag-3"; do
		ds vol attach v --container c --at "$at"
		case $(vol_targets vol-v) in
		"$m"/?*) ;;
		*) fail "--at $at mounted outside the container: '$(vol_targets vol-v)'" ;;
		esac
		ds vol detach v --container c
	done
	[ -d "$m/srv" ] && [ -d "$m/$tag" ] && [ -d "$m/$tag-2/x" ] && [ -d "$m/$tag-3" ] || fail "mount points not in the rootfs"
	[ ! -e "/$tag" ] && [ ! -e "/$tag-2" ] && [ ! -e "/$tag-3" ] || fail "a mount point was made on the host"

	# While attached through a symlink: the host's mount table gains one mount, inside the container.
	ds vol attach v --container c --at /data-srv
	after=$(findmnt -rn -o TARGET | sort)
	new=$(comm -13 <(echo "$before") <(echo "$after"))
	assert_eq "$new" "$m/srv" "new mounts on the host"
	ds vol detach v --container c
	assert_eq "$(findmnt -rn -o TARGET | sort)" "$before" "mount table after detach"
}

test_vol_rm_refused_while_held() {
	local m
	vol_setup
	vol_container c1
	m=$M
	ds vol create v --size 64M
	ds vol attach v --container c1 --at /data
	vol_unchanged_begin
	vol_refused 4 "volume 'v' is attached to container 'c1' at /data; detach it or use --force" vol rm v
	# The container's rootfs cannot come off under its volumes either.
	vol_refused 4 "container 'c1' has volume 'v' attached at /data" snap umount c1
	vol_unchanged_end
	ds vol rm v --force
	expect 3 "$DMSTORE" vol inspect v
	[ ! -e "$(vol_dev vol-v)" ] || fail "device left behind"
	findmnt "$m/data" >/dev/null && fail "still mounted in the container"

	# Mounted on the host: named, and --force unmounts first.
	mkdir -p "$VOL_TMP/host"
	ds vol create w --size 64M
	ds vol mount w "$VOL_TMP/host"
	ds vol inspect w --json
	assert_eq "$(jq -r .mountpoint <<<"$OUT")" "$VOL_TMP/host" "mountpoint"
	vol_unchanged_begin
	vol_refused 4 "volume 'w' is mounted at '$VOL_TMP/host'; unmount it or use --force" vol rm w
	vol_refused 4 "volume 'w' is already mounted at '$VOL_TMP/host'" vol mount w "$VOL_TMP"
	vol_unchanged_end
	ds vol rm w --force
	mountpoint -q "$VOL_TMP/host" && fail "host mount left behind"

	# vol umount then rm, the plain way.
	ds vol create x --size 64M
	ds vol mount x "$VOL_TMP/host"
	ds vol umount x
	mountpoint -q "$VOL_TMP/host" && fail "vol umount left it mounted"
	ds vol rm x
	ds pool status p --json
	assert_eq "$(jq .device_count <<<"$OUT")" 2 "thin devices left (image and container)"
}

# Snapshots while a writer runs: each is a clean ext4, and the origin keeps taking writes.
test_vol_snapshot_while_writing() {
	local w i
	vol_setup
	ds vol create v --size 256M --label busy
	mkdir -p "$VOL_TMP/m"
	ds vol mount v "$VOL_TMP/m"
	(
		i=0
		while :; do
			dd if=/dev/urandom of="$VOL_TMP/m/f$((i % 6))" bs=64K count=$((i % 16 + 1)) status=none 2>/dev/null || true
			i=$((i + 1))
		done
	) &
	w=$!
	sleep 2
	for i in 1 2 3; do
		ds vol snapshot v "s$i"
		sleep 1
	done
	kill "$w"
	wait "$w" 2>/dev/null || true
	[ -z "$(vol_suspended)" ] || fail "left suspended: $(vol_suspended)"
	timeout 20 sh -c "echo after > '$VOL_TMP/m/after' && sync -f '$VOL_TMP/m/after'" || fail "origin blocked after the snapshots"
	for i in 1 2 3; do
		[ -b "$(vol_dev "vsnap-s$i")" ] || fail "snapshot s$i not active"
		vol_fsck "$(vol_dev "vsnap-s$i")"
	done
	ds vol inspect s2 --json
	assert_eq "$(jq -r .origin <<<"$OUT")" v "origin"
	assert_eq "$(jq -r .label <<<"$OUT")" busy "label carried over"
	ls "$VOL_TMP/m" | grep -q '^f' || fail "the writer wrote nothing"

	# The copy holds the files the origin had then, and is a volume of its own.
	mkdir -p "$VOL_TMP/s"
	ds vol mount s1 "$VOL_TMP/s"
	ls "$VOL_TMP/s" | grep -q '^f' || fail "snapshot has no files"
	echo mine > "$VOL_TMP/s/mine"
	[ ! -e "$VOL_TMP/m/mine" ] || fail "a write to the snapshot reached the origin"
	ds vol umount s1

	# The origin can go; its snapshots stay, and forget it.
	ds vol umount v
	vol_fsck "$(vol_dev vol-v)"
	ds vol rm v
	ds vol inspect s1 --json
	assert_eq "$(jq -r .origin <<<"$OUT")" null "origin after it was removed"
	vol_fsck "$(vol_dev vsnap-s1)"
	# A snapshot of a snapshot, and its removal.
	ds vol snapshot s1 s1b
	vol_fsck "$(vol_dev vsnap-s1b)"
	ds vol rm s1b
	ds vol ls --json
	assert_eq "$(jq -r '[.[].name] | join(" ")' <<<"$OUT")" "s1 s2 s3" "volumes left"
}

test_vol_grow_online_and_offline() {
	local sum bs
	vol_setup
	ds vol create v --size 64M
	mkdir -p "$VOL_TMP/m"
	ds vol mount v "$VOL_TMP/m"
	head -c 2M /dev/urandom > "$VOL_TMP/m/data"
	sum=$(md5sum < "$VOL_TMP/m/data")

	# Online: the device and the mounted filesystem grow together.
	ds vol grow v 128M
	assert_eq "$(blockdev --getsize64 "$(vol_dev vol-v)")" $((128 << 20)) "device size"
	[ "$(df -B1 --output=size "$VOL_TMP/m" | tail -n 1)" -gt $((100 << 20)) ] || fail "filesystem not grown online"
	vol_unchanged_begin
	vol_refused 2 "volume 'v': cannot shrink from 128 MiB to 32 MiB" vol grow v 32M
	vol_refused 2 "multiple of 4 KiB" vol grow v 200000000
	vol_unchanged_end

	# Offline.
	ds vol umount v
	ds vol grow v 256M
	dumpe2fs -h "$(vol_dev vol-v)" 2>/dev/null >"$VOL_TMP/sb"
	bs=$(sed -n 's/^Block size: *//p' "$VOL_TMP/sb")
	assert_eq "$(sed -n 's/^Block count: *//p' "$VOL_TMP/sb")" $((256 * 1048576 / bs)) "blocks after the offline grow"
	vol_fsck "$(vol_dev vol-v)"
	ds vol inspect v --json
	assert_eq "$(jq -r .size <<<"$OUT")" $((256 << 20)) "catalogue size"
	# The size survives a reactivation of the pool.
	ds pool deactivate p
	ds pool activate p
	assert_eq "$(blockdev --getsize64 "$(vol_dev vol-v)")" $((256 << 20)) "device size after reactivation"
	ds vol mount v "$VOL_TMP/m"
	assert_eq "$(md5sum < "$VOL_TMP/m/data")" "$sum" "data after growing"
	[ -z "$(vol_suspended)" ] || fail "left suspended: $(vol_suspended)"
}

# Every filesystem dmstore makes is clean, and has the features mkfs.ext4 gives by default.
test_vol_filesystems_like_mkfs() {
	local features size
	vol_setup
	for size in 16M 100M 1G; do
		ds vol create "v$size" --size "$size" --label "l$size"
		vol_fsck "$(vol_dev "vol-v$size")"
		assert_eq "$(dumpe2fs -h "$(vol_dev "vol-v$size")" 2>/dev/null | sed -n 's/^Filesystem volume name: *//p')" \
			"l$size" "label"
		truncate -s 0 "$VOL_TMP/mkfs.img"
		truncate -s "$size" "$VOL_TMP/mkfs.img"
		mkfs.ext4 -q -F "$VOL_TMP/mkfs.img"
		features=$(dumpe2fs -h "$VOL_TMP/mkfs.img" 2>/dev/null | grep '^Filesystem features:')
		assert_eq "$(dumpe2fs -h "$(vol_dev "vol-v$size")" 2>/dev/null | grep '^Filesystem features:')" \
			"$features" "features of a $size volume vs mkfs.ext4"
	done
	ds vol create nolabel --size 64M
	ds vol inspect nolabel --json
	assert_eq "$(jq -r .label <<<"$OUT")" "" "no label"
	assert_eq "$(jq -r .filesystem <<<"$OUT")" ext4 "filesystem"
	ds vol ls
	assert_contains "$OUT" "v1G"
}

test_vol_bad_input_changes_nothing() {
	vol_setup 128M
	ds snap create c1 --image img
	ds vol create v --size 64M
	vol_unchanged_begin
	vol_refused 2 "invalid volume name 'a/b'" vol create a/b --size 64M
	vol_refused 2 "invalid volume name '..'" vol create .. --size 64M
	vol_refused 2 "--size SIZE is required" vol create x
	vol_refused 2 "invalid size '12Q'" vol create x --size 12Q
	vol_refused 2 "longer than 16 bytes" vol create x --size 64M --label 12345678901234567
	vol_refused 2 "option '--label' needs a value" vol create x --size 64M --label
	vol_refused 2 "unknown option '--ro'" vol create x --size 64M --ro
	vol_refused 2 "invalid snapshot name" vol snapshot v a/b
	vol_refused 2 "must be an absolute path" vol attach v --container c1 --at x
	vol_refused 2 "--container C and --at PATH are required" vol attach v --at /x
	vol_refused 2 "invalid container name 'a b'" vol attach v --container "a b" --at /x
	vol_refused 2 "missing operand" vol mount v
	vol_refused 2 "unknown subcommand 'frob'" vol frob
	vol_refused 2 "invalid size" vol grow v 5Q
	vol_refused 2 "SIZE: size '8E' is too large: at most 256 TiB" vol grow v 8E
	vol_refused 2 "--size: size '8E' is too large: at most 256 TiB" vol create x --size 8E
	vol_refused 2 "invalid size '1e3'" vol create x --size 1e3
	vol_refused 2 "invalid size '0x1p30'" vol create x --size 0x1p30
	vol_refused 2 "invalid size '1.5G'" vol grow v 1.5G
	# Refused by the library: still usage errors (all of these change nothing: checked at the end).
	vol_refused 2 "at least 16 MiB" vol create x --size 1M
	vol_refused 2 "multiple of 4 KiB" vol create x --size 20000001
	vol_refused 4 "pool 'p': volume 'v' already exists" vol create v --size 64M
	vol_refused 4 "pool 'p': volume 'v' already exists" vol snapshot v v
	for cmd in "inspect ghost" "rm ghost" "umount ghost" "grow ghost 1G" "snapshot ghost s" "mount ghost /tmp" \
		"attach ghost --container c1 --at /x" "detach ghost --container c1"; do
		# shellcheck disable=SC2086
		vol_refused 3 "volume 'ghost' does not exist" vol $cmd
	done
	vol_refused 3 "container 'ghost' does not exist" vol attach v --container ghost --at /x
	vol_refused 1 "container 'c1' is not mounted: mount it first with 'dmstore snap mount c1'" \
		vol attach v --container c1 --at /x
	vol_refused 3 "volume 'v' is not attached to container 'c1'" vol detach v --container c1
	vol_refused 2 "cannot shrink" vol grow v 32M
	vol_refused 2 "mount point '/nonexistent-dir': No such file or directory" vol mount v /nonexistent-dir
	vol_unchanged_end
}

# vol_crash OP:STEP ARGS...: dmstore dies there (SIGKILL: 137); pool recover must make
# the kernel's thin devices and the catalogue's rows agree, and leave nothing suspended.
vol_crash() {
	local at=$1 k c s
	shift
	expect 137 env DMSTORE_CRASH_AT="$at" "$DMSTORE" "$@"
	ds pool recover p
	ds pool status p --json
	k=$(jq .device_count <<<"$OUT")
	c=$(sqlite3 "$DMSTORE_STATE_DIR/p/catalog.db" 'SELECT count(*) FROM devices')
	assert_eq "$k" "$c" "thin devices in the kernel vs catalogue rows after $at"
	s=$(vol_suspended)
	[ -z "$s" ] || fail "$at: still suspended after pool recover: $s"
}

# NAME is gone, or a volume with a clean filesystem.
vol_gone_or_clean() {
	local dev
	"$DMSTORE" vol inspect "$1" --json >"$VOL_TMP/inspect" 2>/dev/null || return 0
	dev=$(jq -r .device "$VOL_TMP/inspect")
	if [ "$(jq -r .active "$VOL_TMP/inspect")" != true ]; then
		ds vol mount "$1" "$VOL_TMP/probe"
		ds vol umount "$1"
	fi
	vol_fsck "$dev"
}

test_vol_crash_points() {
	local step
	vol_setup
	mkdir -p "$VOL_TMP/m0" "$VOL_TMP/probe"
	ds vol create v0 --size 64M
	ds vol mount v0 "$VOL_TMP/m0"
	echo before > "$VOL_TMP/m0/f"

	for step in $(sample 1 after-intent after-kernel after-txn after-format); do
		vol_crash "vol-create:$step" vol create "n-$step" --size 64M
		vol_gone_or_clean "n-$step"
	done
	for step in $(sample 1 after-intent after-kernel after-txn); do
		ds vol create "r-$step" --size 64M
		vol_crash "vol-rm:$step" vol rm "r-$step"
		expect 3 "$DMSTORE" vol inspect "r-$step"
	done
	# The origin is mounted and written: suspended, its filesystem is frozen.
	for step in $(sample 1 after-suspend after-intent after-kernel after-txn); do
		vol_crash "vol-snapshot:$step" vol snapshot v0 "s-$step"
		timeout 20 sh -c "echo '$step' > '$VOL_TMP/m0/f' && sync -f '$VOL_TMP/m0/f'" ||
			fail "$step: the origin is still blocked"
		vol_gone_or_clean "s-$step"
	done
	# An attachment is recorded pending before its mount and marked done after it: a crash
	# before the mount leaves a row that check calls unfinished and recovery forgets; a crash
	# after it, one that recovery keeps.
	vol_container c
	expect 137 env DMSTORE_CRASH_AT=vol-attach:after-record "$DMSTORE" vol attach v0 --container c --at /data
	expect 1 "$DMSTORE" pool check p --json
	assert_eq "$(jq -r '[.findings[].kind] | join(" ")' <<<"$OUT")" unfinished "findings after a kill before the mount"
	assert_contains "$(jq -r '.findings[0].message' <<<"$OUT")" "volume 'v0' was being attached to container 'c' at /data"
	ds pool recover p
	ds vol inspect v0 --json
	assert_eq "$(jq '.attachments | length' <<<"$OUT")" 0 "attachment without its mount, forgotten"
	findmnt "$M/data" >/dev/null && fail "mounted after the crash"
	vol_crash "vol-attach:after-mount" vol attach v0 --container c --at /data
	ds vol inspect v0 --json
	assert_eq "$(jq -r '.attachments[0].container' <<<"$OUT")" c "attachment with its mount, kept"
	ds pool check p
	assert_contains "$OUT" "clean"
	# What the last snapshot round wrote into the origin ($step: the last step of that loop).
	assert_eq "$(vol_in "$M" 'cat /data/f')" "$step" "volume seen from the container"
	ds snap rm c

	vol_crash "vol-grow:after-suspend" vol grow v0 128M
	timeout 20 sh -c "echo grow > '$VOL_TMP/m0/f' && sync -f '$VOL_TMP/m0/f'" || fail "grow: the volume is still blocked"
	ds vol grow v0 128M
	ds vol umount v0
	vol_fsck "$(vol_dev vol-v0)"
}

# The command an admin runs after a crash lets go of a volume the dead dmstore
# left suspended, and says so; no other change is needed to unblock its I/O.
test_vol_recover_resumes_suspended_origin() {
	local dev state
	vol_setup
	mkdir -p "$VOL_TMP/m"
	ds vol create v --size 64M
	ds vol mount v "$VOL_TMP/m"
	echo before > "$VOL_TMP/m/f"
	dev=$(vol_dev vol-v)
	expect 137 env DMSTORE_CRASH_AT=vol-snapshot:after-suspend "$DMSTORE" vol snapshot v s
	assert_eq "$(vol_suspended)" dmstore-p-vol-v "suspended by the crash"

	ds pool recover p
	assert_contains "$OUT" "pool 'p': volume 'v' was left suspended: resumed"
	assert_contains "$OUT" "0 change(s) rolled forward, 0 rolled back, 1 volume(s) resumed"
	# Checked before any I/O, which would hang on a device still suspended.
	state=$(dmsetup info "${dev##*/}" | awk '$1 == "State:" { print $2 }')
	assert_eq "$state" ACTIVE "dm state after pool recover"
	[ -z "$(vol_suspended)" ] || fail "still suspended: $(vol_suspended)"
	timeout 20 dd if="$dev" of=/dev/null bs=4096 count=16 iflag=direct status=none || fail "reading the device"
	timeout 20 sh -c "echo after > '$VOL_TMP/m/f' && sync -f '$VOL_TMP/m/f'" || fail "writing the mounted volume"
	assert_eq "$(cat "$VOL_TMP/m/f")" after "file content"
	expect 3 "$DMSTORE" vol inspect s

	# Nothing left to do: a second run resumes nothing.
	ds pool recover p
	assert_eq "$OUT" "pool 'p': 0 change(s) rolled forward, 0 rolled back, 0 volume(s) resumed" "second recover"

	# Any change resumes it too, even one refused, when the lock's last holder died holding it
	# (only then: pool/open.c).
	expect 137 env DMSTORE_CRASH_AT=vol-snapshot:after-suspend "$DMSTORE" vol snapshot v s
	expect 4 "$DMSTORE" vol create v --size 16M
	[ -z "$(vol_suspended)" ] || fail "still suspended after the next change: $(vol_suspended)"
	ds vol umount v
	vol_fsck "$dev"
	assert_consistent p
}

# A reboot as the pool sees it: every mount and every dm device of pool "p" gone,
# and its loop devices with them, without dmstore having a say.
vol_reboot() {
	local d f
	findmnt -rn -o TARGET | awk -v s="$DMSTORE_STATE_DIR/" -v t="$VOL_TMP/" \
		'index($1, s) == 1 || index($1, t) == 1' | sort -r | xargs -r -n 1 umount -l
	for d in $(dmsetup ls | awk '$1 ~ /^dmstore-p-/ && $1 != "dmstore-p-pool" { print $1 }'); do
		dmsetup remove --retry "$d"
	done
	dmsetup remove --retry dmstore-p-pool
	# Autoclear detaches them when the pool lets go; any still there goes by hand.
	for f in data.img metadata.img; do
		losetup -j "$DMSTORE_STATE_DIR/p/$f" -O NAME -n -l | xargs -r -n 1 losetup -d 2>/dev/null || true
	done
}

# Mounts do not survive a reboot, so pool activate forgets them all: mount points
# and volume attachments alike. A stale attachment would name a container that
# no longer holds the volume, and refuse vol rm and snap umount for it.
test_vol_attachments_forgotten_after_reboot() {
	vol_setup
	vol_container c
	mkdir -p "$VOL_TMP/host"
	ds vol create v --size 64M
	ds vol create w --size 64M
	ds vol attach v --container c --at /data
	ds vol mount w "$VOL_TMP/host"
	ds vol inspect v --json
	assert_eq "$(jq -r '.attachments | length' <<<"$OUT")" 1 "attachments before the reboot"
	expect 4 "$DMSTORE" pool deactivate p
	assert_contains "$ERR" "in use"

	vol_reboot
	ds pool activate p
	ds vol inspect v --json
	assert_eq "$(jq -c .attachments <<<"$OUT")" "[]" "attachments after the reboot"
	assert_eq "$(jq -r .active <<<"$OUT")" true "volume reactivated"
	ds vol inspect w --json
	assert_eq "$(jq -r .mountpoint <<<"$OUT")" null "host mount point after the reboot"
	ds snap inspect c --json
	assert_eq "$(jq -r .mountpoint <<<"$OUT")" null "container mount point after the reboot"
	assert_eq "$(sqlite3 "$DMSTORE_STATE_DIR/p/catalog.db" 'SELECT count(*) FROM attachments')" 0 "attachment rows"

	ds vol rm v
	expect 3 "$DMSTORE" vol inspect v
	# The container is whole again: mounted, a volume in and out, unmounted.
	ds snap mount c
	ds vol attach w --container c --at /data
	ds vol detach w --container c
	ds snap umount c
	ds vol rm w
	assert_consistent p
}

# A vol mount that runs while pool activate restores the pool must keep its mount
# point: activate forgets stale mounts under the same lock it loaded the table
# with. strace holds activate back at a second flock for 10 s; an activate that
# let go of the lock between load and restore would take it again there, and the
# vol mount waiting for it would get in first and have its mount point wiped.
test_vol_mount_during_pool_activate() {
	local pid i
	vol_setup
	mkdir -p "$VOL_TMP/host"
	ds vol create w --size 64M
	vol_reboot
	strace -f -qq -o /dev/null -e trace=flock -e inject=flock:delay_enter=10s:when=2 \
		"$DMSTORE" pool activate p &
	pid=$!
	for ((i = 0; i < 600; i++)); do
		dmsetup info dmstore-p-pool >/dev/null 2>&1 && break
		sleep 0.1
	done
	ds vol mount w "$VOL_TMP/host"
	wait "$pid" || fail "pool activate failed"
	findmnt -rn "$VOL_TMP/host" >/dev/null || fail "volume not mounted"
	ds vol inspect w --json
	assert_eq "$(jq -r .mountpoint <<<"$OUT")" "$VOL_TMP/host" "mount point after a mount during activate"
	ds vol umount w
	ds vol rm w
	assert_consistent p
}

# A raw volume (Kubernetes raw block, the benchmark's scratch devices): a thin device and no
# filesystem, made and unmade by the same crash-safe steps; refused where a filesystem is needed.
test_vol_raw() {
	local dev
	vol_setup
	ds vol create blk --size 32M --raw
	assert_contains "$OUT" "raw (no filesystem)"
	ds vol inspect blk --json
	assert_eq "$(jq -r '.filesystem' <<<"$OUT")" null "filesystem of a raw volume"
	dev=$(jq -r .device <<<"$OUT")
	[ -b "$dev" ] || fail "no device $dev"
	rc=0
	blkid -p "$dev" >/dev/null 2>&1 || rc=$?
	assert_eq "$rc" 2 "blkid on a raw volume (2: no signature)"
	ds vol inspect blk
	assert_contains "$OUT" "none (raw block device)"

	dd if=/dev/urandom of="$T/data" bs=1M count=4 status=none
	dd if="$T/data" of="$dev" bs=1M oflag=direct status=none
	ds vol snapshot blk blk-copy
	ds vol inspect blk-copy --json
	assert_eq "$(jq -r '.filesystem' <<<"$OUT")" null "filesystem of a raw volume's snapshot"
	assert_eq "$(head -c 4M "$(jq -r .device <<<"$OUT")" | md5sum)" "$(md5sum <"$T/data")" "the snapshot's data"

	mkdir -p "$VOL_TMP/m"
	vol_container c
	for cmd in "vol mount blk $VOL_TMP/m" "vol attach blk --container c --at /data"; do
		rc=0
		$DMSTORE $cmd 2>"$T/err" || rc=$?
		[ "$rc" -ne 0 ] || fail "'$cmd' worked on a raw volume"
		assert_contains "$(cat "$T/err")" "volume 'blk' is a raw block device"
	done
	findmnt "$VOL_TMP/m" >/dev/null && fail "a raw volume got mounted"

	ds vol grow blk 64M
	assert_eq "$(blockdev --getsize64 "$dev")" $((64 << 20)) "size after grow"
	assert_eq "$(head -c 4M "$dev" | md5sum)" "$(md5sum <"$T/data")" "data after grow"
	expect 2 "$DMSTORE" vol create blk2 --size 32M --raw --label x
	# A create killed half-way leaves nothing, raw as with ext4.
	vol_crash "vol-create:after-txn" vol create blk3 --size 32M --raw
	expect 3 "$DMSTORE" vol inspect blk3
	ds vol rm blk
	ds vol rm blk-copy
	ds snap rm c
	assert_consistent p
}
