# OCI and docker-archive images: imports compared with umoci's unpack of the same image,
# digests, hostile layers; `dmstore run` on crun and runc.

# Test images are built on an ext4 (the VM's tmpfs takes no user.* xattrs), on the last test disk.
oci_work() {
	local d
	d=$(disk 4)
	if ! mountpoint -q $T/work 2>/dev/null; then
		mkdir -p $T/work
		mkfs.ext4 -q -F "$d"
		mount "$d" $T/work
	fi
}

# An OCI layout at $T/work/layout, ref "t": three layers built with umoci: a rootfs (busybox,
# a hardlink, device nodes, a fifo, a setuid file, an owned file, a user xattr, a capability, a
# sparse file), a whiteout of etc/gone, and an opaque /opt/old; a config with env, workdir, user,
# cmd, a port and a label. Built once per VM boot and copied in (umoci is slow under TCG).
make_oci_image() {
	local cache=/tmp/dmstore-oci-cache r
	oci_work
	if [ ! -e $cache/done ]; then
		rm -rf $cache $T/work/b
		umoci init --layout $T/work/layout
		umoci new --image $T/work/layout:t
		umoci unpack --image $T/work/layout:t $T/work/b
		r=$T/work/b/rootfs
		mkdir -p $r/bin $r/etc $r/dev $r/opt/old/sub $r/data $r/tmp
		cp /bin/busybox $r/bin/ && ln -s busybox $r/bin/sh
		echo hello > $r/etc/motd && ln $r/etc/motd $r/etc/motd.hard
		echo gone > $r/etc/gone
		mknod $r/dev/null c 1 3 && mknod $r/dev/sda9 b 8 9 && mkfifo $r/dev/fifo
		echo owned > $r/etc/owned && chown 1234:5678 $r/etc/owned
		printf '#!/bin/sh\n' > $r/bin/suid && chmod 4755 $r/bin/suid
		setfattr -n user.dmstore -v kept $r/etc/motd
		printf 'ping\n' > $r/bin/ping && setcap cap_net_raw+ep $r/bin/ping
		echo a > $r/opt/old/a && echo b > $r/opt/old/sub/b
		truncate -s 1M $r/data/sparse && echo tail >> $r/data/sparse
		chmod 1777 $r/tmp
		umoci repack --image $T/work/layout:t $T/work/b
		mkdir -p $T/work/newopt && echo c > $T/work/newopt/c
		umoci insert --image $T/work/layout:t --whiteout /etc/gone
		umoci insert --image $T/work/layout:t --opaque $T/work/newopt /opt/old
		umoci config --image $T/work/layout:t --config.env A=1 --config.env B=two --config.workingdir /data \
			--config.user 1234:5678 --config.cmd /bin/sh --config.cmd -c --config.cmd 'echo hi' \
			--config.exposedports 80/tcp --config.label org.example=yes
		umoci gc --layout $T/work/layout
		rm -rf $T/work/b $T/work/newopt
		mkdir -p $cache && cp -a $T/work/layout $cache/layout && touch $cache/done
	else
		rm -rf $T/work/layout && cp -a $cache/layout $T/work/layout
	fi
}

# One line per object under DIR (lost+found aside): type, mode, owner, size, link count,
# link target, mtime of non-directories, then file checksums, device numbers and xattrs.
tree_manifest() {
	(
		cd "$1"
		find . -path ./lost+found -prune -o -type d -printf 'd %p %m %U:%G\n' | sort
		find . -path ./lost+found -prune -o ! -type d -printf '%y %p %m %U:%G %s %n %l %Ts\n' | sort
		find . -path ./lost+found -prune -o -type f -print0 | sort -z | xargs -0 -r md5sum
		find . -path ./lost+found -prune -o \( -type b -o -type c \) -print0 | sort -z | xargs -0 -r stat -c 'dev %n %t:%T'
		getfattr -R -P -d -m - -e hex . 2>/dev/null | awk '/^# file:/ { f = $3; next } NF { print "xattr", f, $0 }' | sort
	)
}

# The tree dmstore imported as image IMG equals umoci's unpack of the layout (whose manifest is
# made once per case: a dozen programs under TCG).
assert_same_tree() {
	local img=$1 want=$2 got wanted=$T/want${2//\//_}.txt
	ds snap create "chk-$img" --image "$img"
	ds snap mount "chk-$img"
	got=$OUT
	[ -e "$wanted" ] || tree_manifest "$want" > "$wanted"
	tree_manifest "$got" > $T/got.txt
	diff -u "$wanted" $T/got.txt || fail "image '$img' differs from umoci's unpack"
	# The 1 MiB of zeros of data/sparse was written as a hole, which the thin pool does not allocate.
	[ "$(stat -c %b "$got/data/sparse")" -lt 64 ] || fail "image '$img': data/sparse has no hole"
	ds snap rm "chk-$img"
}

test_oci_import_matches_umoci() {
	make_oci_image
	umoci unpack --image $T/work/layout:t $T/work/ref >/dev/null
	ds pool create p --loop --data-size 2G --metadata-size 64M
	ds image import img oci:$T/work/layout:t --size 128M
	assert_contains "$OUT" "image 'img' imported"
	assert_same_tree img $T/work/ref/rootfs
	ds image inspect img --json
	assert_eq "$(jq -c .config.Env <<<"$OUT")" '["A=1","B=two"]' "env kept"
	assert_eq "$(jq -r .config.WorkingDir <<<"$OUT")" /data "workdir kept"
	assert_eq "$(jq -r .config.User <<<"$OUT")" 1234:5678 "user kept"
	assert_eq "$(jq -r '.config.Labels["org.example"]' <<<"$OUT")" yes "label kept"
	assert_eq "$(jq -r .manifest <<<"$OUT")" "$(jq -r '.manifests[0].digest' $T/work/layout/index.json)" "manifest digest"
	# The same image as a docker-archive (from standard input) and an oci-archive.
	skopeo --insecure-policy copy -q oci:$T/work/layout:t docker-archive:$T/work/img.docker.tar:test:latest
	skopeo --insecure-policy copy -q oci:$T/work/layout:t oci-archive:$T/work/img.oci.tar:t
	ds image import dimg docker-archive:- --size 128M < $T/work/img.docker.tar
	assert_eq "$ERR" "" "stderr of an import that is not on a terminal"
	assert_same_tree dimg $T/work/ref/rootfs
	# On a terminal (script(1) gives it one), a progress line that ends on the last layer.
	script -qec "$DMSTORE image import oimg oci-archive:$T/work/img.oci.tar:t --size 128M" $T/tty.log >/dev/null
	assert_contains "$(tr '\r' '\n' < $T/tty.log)" "layer 3/3"
	assert_same_tree oimg $T/work/ref/rootfs
	[ -z "$(ls -A "$DMSTORE_STATE_DIR/p/spool" 2>/dev/null)" ] || fail "spool left behind"
	assert_consistent p
}

# A pool with the test image imported as "img", and a volume "data".
pool_with_oci_image() {
	make_oci_image
	ds pool create p --loop --data-size 2G --metadata-size 64M
	ds image import img oci:$T/work/layout:t --size 128M
	ds vol create data --size 64M
}

# The run cases on RUNTIME: exit codes, the image's env, workdir and user and
# overrides, a read-only volume, a volume written by one run read by the
# next, --rm.
run_cases() {
	local rt=$1
	expect 0 "$DMSTORE" run --runtime "$rt" --rm img
	assert_eq "$OUT" hi "the image's command"
	expect 3 "$DMSTORE" run --runtime "$rt" --rm -e B=three -e C=4 img sh -c 'echo $A $B $C $(pwd) $(id -u):$(id -g); exit 3'
	assert_eq "$OUT" "1 three 4 /data 1234:5678" "env, workdir and user from the image"
	expect 0 "$DMSTORE" run --runtime "$rt" --name w1 -w /etc -u 0:0 -v data:/vol img sh -c 'echo $(pwd) $(id -u):$(id -g); echo kept > /vol/f && echo layer > /layer'
	assert_eq "$OUT" "/etc 0:0" "-w and -u"
	expect 1 "$DMSTORE" run --runtime "$rt" --rm -u 0 -v data:/vol:ro img sh -c 'cat /vol/f; cat /layer 2>&1; echo x > /vol/g'
	assert_contains "$OUT" kept
	assert_contains "$OUT" "No such file"
	# The container without --rm stays, with its layer, and runs again.
	[ "${2:-}" = full ] && expect 0 "$DMSTORE" start -a w1
	ds ps --json
	assert_eq "$(jq -r '.[] | select(.name == "w1") | .state + " " + (.exit_code | tostring)' <<<"$OUT")" "exited 0" "ps"
	ds snap rm w1
	ds ps --json
	assert_eq "$(jq length <<<"$OUT")" 0 "--rm left containers"
	dmsetup ls | grep -q dmstore-p-ctr && fail "a container device is left"
	[ "$(sqlite3 "$DMSTORE_STATE_DIR/p/catalog.db" 'SELECT count(*) FROM devices WHERE kind = 1')" = 0 ] || fail "container rows left"
	assert_consistent p
}

test_run_crun() {
	pool_with_oci_image
	run_cases crun
	run_refusals
}

torture_run_crun() {
	pool_with_oci_image
	run_cases crun full
	run_refusals full
}

# runc in make check: a sample (exit codes, the image's env, workdir and user, a volume written
# then read read-only, --rm); the whole of run_cases in make torture.
test_run_runc() {
	pool_with_oci_image
	expect 3 "$DMSTORE" run --runtime runc --rm img sh -c 'exit 3'
	expect 0 "$DMSTORE" run --runtime runc --rm -u 0 -v data:/vol img sh -c 'echo $A $B $(pwd) > /vol/f'
	expect 1 "$DMSTORE" run --runtime runc --rm -v data:/vol:ro img sh -c 'cat /vol/f; id -u; echo x > /vol/g'
	assert_contains "$OUT" "1 two /data"
	assert_contains "$OUT" 1234
	ds ps --json
	assert_eq "$(jq length <<<"$OUT")" 0 "--rm left containers"
	assert_consistent p
}

torture_run_runc() {
	pool_with_oci_image
	run_cases runc full
}

# Hostile layers, each added to the test image under its own tag with umoci (verbatim).
make_hostile_layers() {
	python3 - "$T/work" <<'PY'
import io, sys, tarfile
work = sys.argv[1]
def layer(name, entries):
    with tarfile.open(f"{work}/{name}.tar", "w", format=tarfile.PAX_FORMAT) as t:
        for kind, path, arg in entries:
            ti = tarfile.TarInfo(path)
            ti.mtime = 1500000000
            data = None
            if kind == "f":
                data = arg.encode()
                ti.size = len(data)
            elif kind == "l":
                ti.type, ti.linkname = tarfile.SYMTYPE, arg
            elif kind == "h":
                ti.type, ti.linkname = tarfile.LNKTYPE, arg
            elif kind == "d":
                ti.type, ti.mode = tarfile.DIRTYPE, 0o755
            t.addfile(ti, io.BytesIO(data) if data is not None else None)
layer("dotdot", [("f", "../../../../../tmp/dmstore-escaped", "x")])
layer("absolute", [("f", "/tmp/dmstore-escaped", "x")])
layer("link", [("l", "evil", "/tmp")])
layer("through", [("f", "evil/dmstore-escaped", "x")])
layer("hardlink", [("h", "etc/passwd-link", "../../../../../etc/passwd")])
layer("whdotdot", [("f", "etc/.wh...", "")])
layer("whlink", [("l", "evil2", "/tmp/dmstore-wh-target")])
layer("whthrough", [("f", "evil2/.wh.victim", "")])
PY
	local l
	for l in dotdot absolute hardlink whdotdot; do
		umoci raw add-layer --image $T/work/layout:t --tag "$l" "$T/work/$l.tar"
	done
	umoci raw add-layer --image $T/work/layout:t --tag link "$T/work/link.tar"
	umoci raw add-layer --image $T/work/layout:link --tag through "$T/work/through.tar"
	umoci raw add-layer --image $T/work/layout:t --tag whlink "$T/work/whlink.tar"
	umoci raw add-layer --image $T/work/layout:whlink --tag whthrough "$T/work/whthrough.tar"
}

# flip_byte FILE OFFSET: that byte's bits inverted, so it surely changes.
flip_byte() {
	local b
	b=$(dd if="$1" bs=1 skip="$2" count=1 status=none | od -An -tu1 | tr -d ' ')
	printf "\\x$(printf %02x $((b ^ 255)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# make check: a sample of the hostile layers; make torture: all of them.
test_oci_import_refused() {
	oci_import_refused dotdot through whthrough
}

torture_oci_import_refused() {
	oci_import_refused dotdot absolute through hardlink whdotdot whthrough
}

oci_import_refused() {
	local tag blob links
	make_oci_image
	make_hostile_layers
	mkdir -p /tmp/dmstore-wh-target && echo v > /tmp/dmstore-wh-target/victim
	links=$(stat -c %h /etc/passwd)
	ds pool create p --loop --data-size 2G --metadata-size 64M
	ds image ls # the catalogue is made on the first open
	# Several refs and none named: the error lists them, and nothing changes.
	bad_input 1 "refs: 't'" "$DMSTORE" image import x oci:$T/work/layout --size 128M
	bad_input 2 "no image with ref 'nope'" "$DMSTORE" image import x oci:$T/work/layout:nope --size 128M
	for tag in "$@"; do
		expect 1 "$DMSTORE" image import "h-$tag" oci:$T/work/layout:$tag --size 128M
		assert_contains "$ERR" "layer "
		[ ! -e /tmp/dmstore-escaped ] || fail "layer '$tag' wrote outside the rootfs"
	done
	assert_eq "$(cat /tmp/dmstore-wh-target/victim)" v "a whiteout through a symlink deleted outside the rootfs"
	assert_eq "$(stat -c %h /etc/passwd)" "$links" "a hardlink to /etc/passwd was made"
	# One byte changed in the rootfs layer's blob: refused, naming it, nothing left.
	blob=$(jq -r '.layers[0].digest' "$T/work/layout/blobs/sha256/$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "t") | .digest' $T/work/layout/index.json | cut -d: -f2)")
	flip_byte "$T/work/layout/blobs/sha256/${blob#sha256:}" 4000
	expect 1 "$DMSTORE" image import bad oci:$T/work/layout:t --size 128M
	assert_contains "$ERR" "layer 1 ($blob): content does not match its digest"
	ds image ls --json
	assert_eq "$(jq length <<<"$OUT")" 0 "images left by refused imports"
	assert_consistent p
	rm -rf /tmp/dmstore-wh-target
}

# wait_for CMD...: until CMD succeeds, at most 60 s.
wait_for() {
	local i
	for i in $(seq 1 120); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.5
	done
	fail "timed out waiting for: $*"
}

# ps_state C "STATE EXIT": dmstore ps says so of container C.
ps_state() {
	[ "$("$DMSTORE" ps --json | jq -r --arg c "$1" '.[] | select(.name == $c) | .state + " " + (.exit_code | tostring)')" = "$2" ]
}

# wait_exit PID: PID's exit status in $code, or a failure (with the processes) after 60 s.
wait_exit() {
	local i
	for i in $(seq 1 120); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.5
	done
	if kill -0 "$1" 2>/dev/null; then
		ps -eo pid,ppid,stat,args >&2
		fail "process $1 did not end"
	fi
	code=0 && wait "$1" || code=$?
}

test_run_signals_and_a_killed_dmstore() {
	local pid code
	pool_with_oci_image
	# The container's process killed by SIGKILL: 128+9.
	"$DMSTORE" run --name k -u 0 img /bin/busybox sleep 4321 </dev/null >/dev/null 2>&1 &
	pid=$!
	wait_for pgrep -xf '/bin/busybox sleep 4321'
	kill -KILL "$(pgrep -xf '/bin/busybox sleep 4321')"
	wait_exit $pid
	assert_eq "$code" 137 "exit code of a container killed by SIGKILL"
	# SIGTERM to dmstore reaches the container, whose trap answers.
	"$DMSTORE" run --rm -u 0 img sh -c 'trap "exit 42" TERM; echo ready; while :; do sleep 1; done' </dev/null >$T/t.out 2>&1 &
	pid=$!
	wait_for grep -q ready $T/t.out
	kill -TERM $pid
	wait_exit $pid
	assert_eq "$code" 42 "SIGTERM forwarded"
	# A dmstore killed while its container runs: the next command cleans up after it.
	"$DMSTORE" run --name dead -u 0 -v data:/vol img /bin/busybox sleep 4322 </dev/null >/dev/null 2>&1 &
	pid=$!
	wait_for pgrep -xf '/bin/busybox sleep 4322'
	kill -KILL $pid
	wait_exit $pid
	ds ps --json
	assert_eq "$(jq -r '.[] | select(.name == "dead") | .state + " " + (.exit_code | tostring)' <<<"$OUT")" "exited null" "state after the reap"
	pgrep -xf '/bin/busybox sleep 4322' && fail "the container outlived the reap"
	grep -q "/mnt/dead" /proc/mounts && fail "the rootfs is still mounted"
	ds vol inspect data --json
	assert_eq "$(jq '.attachments | length' <<<"$OUT")" 0 "volume still attached"
	[ -z "$(crun --root "$DMSTORE_RUN_DIR/p.runtime" list -q 2>/dev/null)" ] || fail "the runtime still knows a container"
	# It runs again, in the background: ps shows it running, then its exit code.
	ds start dead
	assert_eq "$OUT" "container 'dead' started" "start"
	ds ps --json
	assert_eq "$(jq -r '.[] | select(.name == "dead") | .state' <<<"$OUT")" running "state while it runs"
	expect 4 "$DMSTORE" snap rm dead
	assert_contains "$ERR" "container 'dead' is running"
	wait_for pgrep -xf '/bin/busybox sleep 4322'
	kill -KILL "$(pgrep -xf '/bin/busybox sleep 4322')"
	wait_for ps_state dead "exited 137"
	ds snap rm dead
	ds snap rm k
	assert_consistent p
}

# What run refuses, changing nothing; on a pool that has img and data.
run_refusals() {
	mkdir -p $T/plain && echo x > $T/plain/x && tar -C $T/plain -cf $T/plain.tar .
	ds image import plain $T/plain.tar --size 64M
	ds snap create holder --image img
	ds snap mount holder
	ds vol attach data --container holder --at /vol
	bad_input 2 "runtime '/nonexistent' not found" "$DMSTORE" run --runtime /nonexistent img
	bad_input 2 "image 'plain' has no command" "$DMSTORE" run plain
	bad_input 4 "volume 'data' is attached read-write to container 'holder'" "$DMSTORE" run -v data:/vol img true
	[ "${1:-}" = full ] || return 0
	bad_input 3 "image 'nope' does not exist" "$DMSTORE" run nope
	bad_input 2 "--network is none or host" "$DMSTORE" run --network bridge img
	bad_input 2 "-v takes VOLUME:PATH" "$DMSTORE" run -v data img
	bad_input 4 "container 'holder' already exists" "$DMSTORE" run --name holder img
}

# An OCI import killed at each of its crash points: recovery deletes the half-made image, and
# the spool the killed dmstore left is removed by the next import.
torture_oci_import_crash() {
	local step
	make_oci_image
	skopeo --insecure-policy copy -q oci:$T/work/layout:t oci-archive:$T/work/img.oci.tar:t
	ds pool create p --loop --data-size 2G --metadata-size 64M
	for step in after-intent after-kernel after-txn after-format after-unpack; do
		expect 137 env DMSTORE_CRASH_AT="image-import:$step" "$DMSTORE" image import "i-$step" oci-archive:$T/work/img.oci.tar --size 128M
		ds pool recover p
		assert_consistent p
		ds image ls --json
		assert_eq "$(jq length <<<"$OUT")" 0 "image left after a crash at $step"
	done
	[ -n "$(ls -A "$DMSTORE_STATE_DIR/p/spool")" ] || fail "no spool left by the killed imports (the test lost its point)"
	ds image import img oci-archive:$T/work/img.oci.tar --size 128M
	[ -z "$(ls -A "$DMSTORE_STATE_DIR/p/spool" 2>/dev/null)" ] || fail "spools of killed imports left"
	assert_consistent p
}
