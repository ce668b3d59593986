# The benchmarks' correctness, never their figures (those are `make bench`'s): the reports match
# the schemas dmstore(8) documents, the charts are PNGs of the promised size, and a benchmark
# stopped by a signal leaves nothing behind. Tiny sizes and short runs. Helpers are bench_*.

# A PNG of WIDTH x HEIGHT: the signature, then the IHDR chunk's big-endian width and height.
bench_assert_png() {
	local f=$1 w=$2 h=$3 head
	[ -s "$f" ] || fail "no chart at $f"
	head=$(od -An -tx1 -N16 "$f" | tr -d ' \n')
	assert_eq "$head" "89504e470d0a1a0a0000000d49484452" "PNG signature and IHDR of $f"
	assert_eq "$(od -An -tu4 --endian=big -j16 -N8 "$f" | tr -s ' ' | sed 's/^ //')" "$w $h" "size of $f"
}

# Nothing a benchmark made is left: no intent, no thin id the catalogue does not know, no row of
# a bench-* object, no dm device but the pool's, no mount from the state dir, no scratch directory.
# (The pools are loop pools: assert_consistent reads the kernel's thin ids from their metadata file.)
bench_assert_clean() {
	local pool=$1 rows
	assert_consistent "$pool"
	rows=$(sqlite3 "$DMSTORE_STATE_DIR/$pool/catalog.db" "SELECT name FROM devices WHERE name LIKE 'bench-%'")
	assert_eq "$rows" "" "catalogue rows the benchmark left"
	assert_eq "$(dmsetup ls | awk -v p="dmstore-$pool-pool" '$1 != p && $1 != "No" { print $1 }')" "" "dm devices left"
	assert_eq "$(awk -v s="$DMSTORE_STATE_DIR" 'index($2, s) == 1 { print $2 }' /proc/mounts)" "" "mounts left"
	assert_eq "$(find "$DMSTORE_STATE_DIR" -maxdepth 1 -name '.bench-*')" "" "scratch directories left"
}

test_bench_io_report() {
	ds pool create p --loop --data-size 512M --metadata-size 16M
	ds bench io --pool p --baseline "$(disk 2)" --fs --fio --size 16M --runtime 200ms \
		--workloads randwrite-qd1,seq-read --cpus 1 --json --plot "$T/io.png"
	printf '%s\n' "$OUT" >"$T/io.json"
	jq -e -f tests/vm/bench-io.jq "$T/io.json" >/dev/null ||
		fail "bench io --json does not match dmstore(8)'s schema: $(head -c 3000 "$T/io.json")"
	assert_eq "$(jq -r '[.results[] | .target] | unique | join(",")' "$T/io.json")" \
		"fresh,fs,provisioned,raw,shared,snapshot" "targets reported"
	# Each engine ran each workload that applies to each target: 9 by dmstore, 9 by fio, none failed.
	assert_eq "$(jq '[.results[] | select(.error == null)] | group_by(.engine) | map(length)' -c "$T/io.json")" \
		"[9,9]" "runs by dmstore and by fio"
	assert_eq "$(jq '[.referee[]] | length' "$T/io.json")" 9 "referee verdicts"
	# Each engine's own CPU time per I/O, the engine's from its threads' clocks, fio's from its report.
	assert_eq "$(jq -c '[.results[] | select(.error == null and .cpu_us_per_io > 0)] | group_by(.engine) |
		map(length)' "$T/io.json")" "[9,9]" "runs with the engine's CPU time per I/O"
	assert_eq "$(jq '[.results[] | select(.target != "raw" and .engine == "dmstore") | .vs_raw.p99 | numbers] | length' \
		"$T/io.json")" 7 "ratios to the raw baseline"
	# The pool's use around each run (dms_pool_space_used): random writes to a fresh device provision blocks.
	assert_eq "$(jq '[.results[] | select(.target == "fresh" and .workload == "randwrite-qd1") | .pool_blocks > 0] |
		length > 0 and all' "$T/io.json")" true "blocks provisioned by writes to a fresh device"
	assert_eq "$(jq -r .params.cpus "$T/io.json")" 1 "the CPU list in the report"
	bench_assert_png "$T/io.png" 1280 960
	bench_assert_clean p
}

# --cpus pins each job, the engine's and fio's alike: while the benchmark runs, a thread of each
# may run on CPU 1 only. A CPU the guest does not have is refused before anything is made.
test_bench_io_cpus() {
	local pid rc=0
	ds pool create p --loop --data-size 256M --metadata-size 16M
	bad_input 2 "CPU 7 is not one this process may run on" "$DMSTORE" bench io --pool p --cpus 7 --size 16M
	"$DMSTORE" bench io --pool p --cpus 1 --fio --targets provisioned --workloads randread-qd1 --size 16M \
		--runtime 2s >"$T/out" 2>"$T/err" &
	pid=$!
	: >"$T/pinned"
	while kill -0 "$pid" 2>/dev/null; do
		# Per-CPU kernel threads are pinned too: only the two engines' threads count (dmstore's
		# program here is dmstore-test). grep -s: a thread may end between the glob and the read.
		grep -sh -e '^Name:' -e '^Cpus_allowed_list:' /proc/[0-9]*/task/*/status |
			awk '$1 == "Name:" { name = $2 } $1 == "Cpus_allowed_list:" && $2 == "1" &&
				(name ~ /^dmstore/ || name == "fio") { print substr(name, 1, 7) == "dmstore" ? "dmstore" : name }' \
			>>"$T/pinned" || true
		sleep 0.1
	done
	wait "$pid" || rc=$?
	assert_eq "$rc" 0 "bench io --cpus 1's exit ($(tail -n 3 "$T/err"))"
	assert_eq "$(sort -u "$T/pinned" | paste -sd' ' -)" "dmstore fio" "threads seen pinned to CPU 1"
	assert_contains "$(cat "$T/out")" "jobs pinned (--cpus 1)"
	bench_assert_clean p
}

test_bench_io_baseline_signature() {
	local base
	base=$(disk 2)
	ds pool create p --loop --data-size 256M --metadata-size 16M
	mkfs.ext4 -q -F "$base"
	bad_input 4 "carries a signature (ext4)" "$DMSTORE" bench io --pool p --baseline "$base" --targets raw \
		--size 16M --runtime 1s
	# Forced, it says first that the contents are destroyed, writes the region end to end (so that
	# no engine's first writes pay a fresh disk's first-write cost), then measures.
	expect 0 "$DMSTORE" bench io --pool p --baseline "$base" --force --targets raw --workloads randwrite-qd1 \
		--size 16M --runtime 1s
	printf '%s\n' "$ERR" | grep -n . >"$T/err"
	grep -q "wrote $base" "$T/err" || fail "the baseline is not written end to end before it is measured: $ERR"
	[ "$(grep -m1 'contents are destroyed' "$T/err" | cut -d: -f1)" -lt "$(grep -m1 "wrote $base" "$T/err" |
		cut -d: -f1)" ] || fail "the warning does not come first: $ERR"
	[ "$(grep -m1 "wrote $base" "$T/err" | cut -d: -f1)" -lt "$(grep -m1 'randwrite-qd1 by dmstore' "$T/err" |
		cut -d: -f1)" ] || fail "the baseline is not written end to end before it is measured: $ERR"
	assert_contains "$OUT" "raw          randwrite-qd1"
	bench_assert_clean p
}

# bench_sigint POOL MAX_TENTHS CMD...: CMD stopped with SIGINT at a random moment up to MAX_TENTHS/10 s
# in, and nothing it made is left. It may have finished first.
bench_sigint() {
	local pool=$1 max=$2 delay pid rc=0
	shift 2
	# The first command to open a pool makes its catalogue: a stop before the benchmark gets
	# there would leave none for the checks below to read.
	ds vol ls --pool "$pool"
	delay=$((RANDOM % max))
	"$@" >"$T/sigint.out" 2>"$T/sigint.err" &
	pid=$!
	sleep "$((delay / 10)).$((delay % 10))"
	kill -INT "$pid" 2>/dev/null || true
	wait "$pid" || rc=$?
	echo "# $2 $3: SIGINT after $((delay * 100)) ms, exit $rc" >&2
	case $rc in
	0) ;;
	130) assert_contains "$(cat "$T/sigint.err")" "stopped by signal 2; what it made is removed" ;;
	*) fail "exit $rc after SIGINT: $(tail -n 5 "$T/sigint.err")" ;;
	esac
	bench_assert_clean "$pool"
}

test_bench_io_sigint() {
	ds pool create p --loop --data-size 512M --metadata-size 16M
	bench_sigint p 80 "$DMSTORE" bench io --pool p --fs --fio --size 16M --runtime 1s \
		--workloads randwrite-qd1,randread-qd1
}

# Killed outright (SIGKILL) at a random moment, a benchmark leaves only what the catalogue knows:
# after recovery the kernel's thin ids are the catalogue's, and its scratch volumes go with vol rm.
bench_sigkill() {
	local pool=$1 max=$2 delay pid v
	shift 2
	ds vol ls --pool "$pool"
	delay=$((RANDOM % max))
	"$@" >/dev/null 2>&1 &
	pid=$!
	sleep "$((delay / 10)).$((delay % 10))"
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" || true
	echo "# $2 $3: SIGKILL after $((delay * 100)) ms" >&2
	ds pool recover "$pool"
	assert_consistent "$pool"
	for v in $(sqlite3 "$DMSTORE_STATE_DIR/$pool/catalog.db" "SELECT name FROM devices WHERE kind = 2 AND name LIKE 'bench-%'"); do
		ds vol rm "$v" --force
	done
	find "$DMSTORE_STATE_DIR" -maxdepth 1 -name '.bench-*' -type d -exec rmdir {} +
	bench_assert_clean "$pool"
}

torture_bench_sigint() {
	ds pool create p --loop --data-size 512M --metadata-size 16M
	for i in 1 2 3 4 5 6; do
		bench_sigkill p 150 "$DMSTORE" bench io --pool p --fs --size 16M --runtime 1s \
			--workloads randwrite-qd1,randread-qd1
	done
	for i in 1 2 3 4 5 6 7 8; do
		bench_sigint p 200 "$DMSTORE" bench io --pool p --fs --fio --size 16M --runtime 1s \
			--workloads randwrite-qd1,randread-qd1
	done
	for i in 1 2 3 4; do
		bench_sigint p 300 "$DMSTORE" bench ops --pool p --populations 2,4 --iterations 2 --exec-iterations 1 \
			--import-iterations 1 --vol-sizes 64M
	done
}

test_bench_ops_report() {
	ds pool create p --loop --data-size 512M --metadata-size 16M
	ds bench ops --pool p --populations 2,4 --iterations 1 --exec-iterations 1 --import-iterations 1 --warmup 0 \
		--vol-sizes 64M --json --plot "$T/ops.png"
	printf '%s\n' "$OUT" >"$T/ops.json"
	jq -e -f tests/vm/bench-ops.jq "$T/ops.json" >/dev/null ||
		fail "bench ops --json does not match dmstore(8)'s schema: $(head -c 3000 "$T/ops.json")"
	assert_eq "$(jq -r '[.rows[] | select(.step | not) | .op] | unique | join(",")' "$T/ops.json")" \
		"container create,container rm,image import,image rm,vol create 64 MiB,vol rm 64 MiB" "operations"
	assert_eq "$(jq -c '[.rows[] | select(.error != null) | [.label, .error]]' "$T/ops.json")" "[]" "failed methods"
	assert_eq "$(jq -c '[.rows[] | select(.label == "dmstore (library)" and .op == "container create") | .population]' \
		"$T/ops.json")" "[2,4]" "populations"
	bench_assert_png "$T/ops.png" 1280 960
	bench_assert_clean p
}
