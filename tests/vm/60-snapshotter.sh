# dmstore-snapshotter: containerd's snapshotter on libdmstore (snapshotter/).
# The Go programs are built on the host by make (when go is installed): the
# shim, and containerd's conformance suite compiled against it (go test -c).

SNAP_BIN=$(pwd)/dmstore-snapshotter
SUITE_BIN=$(pwd)/build/snapshotter-suite.test

need_snapshotter() {
	[ -x "$SNAP_BIN" ] && [ -x "$SUITE_BIN" ] ||
		fail "dmstore-snapshotter or build/snapshotter-suite.test missing: install golang-go and golang-github-containerd-containerd-dev, then make"
}

# containerd's suite (snapshots/testsuite), each case on a loop pool of its own that must hold
# no thin device once the case's layers are removed; RUN selects the cases (go test -run).
snapshotter_suite() {
	need_snapshotter
	(cd "$T" && DMSTORE=$DMSTORE "$SUITE_BIN" -test.v -test.parallel 2 -test.run "$1") > "$T/suite.log" 2>&1 || {
		tail -n 60 "$T/suite.log"
		fail "containerd's snapshotter suite failed"
	}
	grep -E -- '--- (PASS|SKIP)' "$T/suite.log"
}

# A lean sample for make check: the basic workflow (views, walks, removals), a parent in use, labels,
# filters; and Cleanup answered.
test_snapshotter_suite() {
	snapshotter_suite 'TestCleanup|TestSnapshotterSuite/(Basic|RemoveIntermediateSnapshot|Update|Walk)$'
}

# The whole suite, 128 layers included.
torture_snapshotter_suite() {
	snapshotter_suite 'TestSnapshotterSuite'
}

# containerd 1.6 with dmstore-snapshotter as its proxy snapshotter "dmstore": its root on an
# ext4 test disk, the snapshotter on pool p.
CTRD_TMP=/tmp/ctrd-test
SNAP_SOCK=/run/dmstore-test/snapshotter.sock

ctrd_cleanup() {
	local pid
	for pid in ${CONTAINERD_PID:-} ${SNAP_PID:-}; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	findmnt -rn -o TARGET | awk -v t="$CTRD_TMP/" 'index($1, t) == 1' | sort -r | xargs -r -n 1 umount -l 2>/dev/null || true
	rm -rf "$CTRD_TMP" /run/containerd /run/dmstore-test
}

# Its pool and base size from dmstore.conf (--config; neither --pool nor --base-size).
snap_start() {
	printf '[dmstore]\npool = p\nimage_size = 256M\n' >"$CTRD_TMP/dmstore.conf"
	# A killed snapshotter leaves its socket: waiting for one, wait for the new one.
	rm -f "$SNAP_SOCK"
	"$SNAP_BIN" --config "$CTRD_TMP/dmstore.conf" --address "$SNAP_SOCK" >>"$CTRD_TMP/snapshotter.log" 2>&1 &
	SNAP_PID=$!
	for _ in $(seq 100); do
		[ -S "$SNAP_SOCK" ] && return 0
		kill -0 "$SNAP_PID" 2>/dev/null || fail "the snapshotter died: $(cat "$CTRD_TMP/snapshotter.log")"
		sleep 0.1
	done
	fail "the snapshotter does not listen: $(cat "$CTRD_TMP/snapshotter.log")"
}

ctr_() {
	ctr -n t "$@"
}

ctrd_setup() {
	local root=$CTRD_TMP/root
	need_snapshotter
	[ -e "$IMAGES/a.tar" ] && [ -e "$IMAGES/b.tar" ] ||
		fail "build/oci/a.tar or b.tar missing: install umoci and skopeo, then make"
	trap ctrd_cleanup EXIT
	rm -rf "$CTRD_TMP"
	mkdir -p "$CTRD_TMP" "$root"
	ds pool create p --loop --data-size 2G --metadata-size 32M
	snap_start
	mkfs.ext4 -q -F "$(disk 4)"
	mount "$(disk 4)" "$root"
	cat >"$CTRD_TMP/containerd.toml" <<-EOT
		version = 2
		root = "$root/containerd"
		state = "/run/containerd"
		disabled_plugins = ["io.containerd.grpc.v1.cri"]
		[proxy_plugins.dmstore]
		  type = "snapshot"
		  address = "$SNAP_SOCK"
	EOT
	containerd --config "$CTRD_TMP/containerd.toml" >"$CTRD_TMP/containerd.log" 2>&1 &
	CONTAINERD_PID=$!
	for _ in $(seq 300); do ctr version >/dev/null 2>&1 && break; sleep 0.1; done
	ctr version >/dev/null 2>&1 || fail "containerd did not start: $(tail -n 20 "$CTRD_TMP/containerd.log")"
}

# OCI archives made by umoci and skopeo on the host (make: tests/make-oci-images), sharing their
# base layer (busybox): a.tar (base + layer a), b.tar (base + layer b).
IMAGES=$(pwd)/build/oci

# Committed layers the snapshotter serves, as containerd lists them.
ctr_committed() {
	ctr_ snapshots --snapshotter dmstore ls | awk 'NR > 1 && $NF == "Committed"' | wc -l
}

layer_rows() {
	sqlite3 "$DMSTORE_STATE_DIR/p/catalog.db" 'SELECT count(*) FROM layers'
}

test_snapshotter_containerd() {
	local code=0
	ctrd_setup
	ctr_ images import --snapshotter dmstore --base-name dmstore.test/img "$IMAGES/a.tar" >/dev/null
	assert_eq "$(ctr_committed)" 2 "committed layers of image a"
	# The file's image_size is the base size (the default is 10G).
	assert_eq "$(sqlite3 "$DMSTORE_STATE_DIR/p/catalog.db" 'SELECT DISTINCT size FROM devices')" $((256 << 20)) \
		"layer size"
	ctr_ images import --snapshotter dmstore --base-name dmstore.test/img "$IMAGES/b.tar" >/dev/null
	# b shares a's base layer: only its own is added.
	assert_eq "$(ctr_committed)" 3 "committed layers of images a and b"
	ctr_ run --rm --snapshotter dmstore dmstore.test/img:a r1 sh -c 'cat /etc/base /etc/a; exit 7' \
		>"$CTRD_TMP/run.out" 2>&1 || code=$?
	assert_eq "$code" 7 "ctr run's exit code ($(cat "$CTRD_TMP/run.out"))"
	assert_eq "$(tr '\n' ' ' <"$CTRD_TMP/run.out")" "base a " "what the container saw"
	ctr_ images rm --sync dmstore.test/img:a dmstore.test/img:b >/dev/null
	gc_done_and_stop
	# SIGTERM (in gc_done_and_stop): it exits 0, and takes its socket with it.
	[ ! -e "$SNAP_SOCK" ] || fail "the snapshotter left its socket"
	assert_eq "$(kernel_thin_ids p | wc -l)" 0 "thin ids left after GC"
	assert_consistent p
	# A bad line: exit 2, naming the file and the line.
	printf '[dmstore]\npool = p\nmin_free = 120\n' >"$CTRD_TMP/bad.conf"
	expect 2 "$SNAP_BIN" --config "$CTRD_TMP/bad.conf" --address "$SNAP_SOCK"
	assert_contains "$ERR" "$CTRD_TMP/bad.conf, line 3: min_free '120'"
}

# containerd removes what its GC collected from the snapshotter in the background (ctr images rm
# --sync waits for its own records only): wait until no layer is left, then stop the snapshotter
# with SIGTERM, so the kernel's thin ids are read (dmsetup, without dmstore's pool lock) while
# no change runs.
gc_done_and_stop() {
	for _ in $(seq 300); do [ "$(layer_rows)" = 0 ] && break; sleep 0.1; done
	assert_eq "$(ctr_ snapshots --snapshotter dmstore ls | awk 'NR > 1' | wc -l)" 0 "layers left after GC"
	assert_eq "$(layer_rows)" 0 "layer rows left after GC"
	kill -TERM "$SNAP_PID"
	wait "$SNAP_PID" || fail "the snapshotter exited $? on SIGTERM: $(tail -n 5 "$CTRD_TMP/snapshotter.log")"
	SNAP_PID=
}

# The snapshotter SIGKILLed 10 times at a random moment of an import or a run, restarted each
# time: containerd goes on with it, and once the images are gone and garbage collected, no
# layer, no thin id is left, and kernel and catalogue agree.
torture_snapshotter_kills() {
	local i x
	ctrd_setup
	for i in $(seq 10); do
		x=$([ $((i % 2)) = 0 ] && echo a || echo b)
		if [ $((i % 3)) = 0 ] && ctr_ images ls -q | grep -q "img:$x"; then
			ctr_ run --rm --snapshotter dmstore "dmstore.test/img:$x" "k$i" sh -c 'echo x > /tmp/x; sleep 1' \
				>/dev/null 2>&1 &
		else
			ctr_ images rm --sync "dmstore.test/img:$x" >/dev/null 2>&1 || true
			ctr_ images import --snapshotter dmstore --base-name dmstore.test/img "$IMAGES/$x.tar" \
				>/dev/null 2>&1 &
		fi
		sleep "$((RANDOM % 3)).$((RANDOM % 10))"
		kill -KILL "$SNAP_PID"
		wait "$SNAP_PID" 2>/dev/null || true
		wait $! 2>/dev/null || true
		ctr_ tasks rm -f "k$i" >/dev/null 2>&1 || true
		ctr_ containers rm "k$i" >/dev/null 2>&1 || true
		snap_start
	done
	# Served again: whole imports and a run work.
	for x in a b; do
		ctr_ images rm --sync "dmstore.test/img:$x" >/dev/null 2>&1 || true
		ctr_ images import --snapshotter dmstore --base-name dmstore.test/img "$IMAGES/$x.tar" >/dev/null
	done
	ctr_ run --rm --snapshotter dmstore dmstore.test/img:a final sh -c 'test -e /etc/a'
	ctr_ images rm --sync dmstore.test/img:a dmstore.test/img:b >/dev/null
	gc_done_and_stop
	assert_eq "$(kernel_thin_ids p | wc -l)" 0 "thin ids left after GC"
	assert_consistent p
}
