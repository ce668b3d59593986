# Torture, concurrency: four processes doing random creates, removes, mounts and attaches on
# one pool while an image import runs. Every command succeeds or fails cleanly (exit 0, 1, 3
# or 4, one line), no thin id is used twice, and the end state passes pool check and
# assert_consistent. Helpers are conc_*.

# conc_worker ID OPS: OPS random operations on objects of its own and, one time in four, of
# another worker's (so names collide and objects go under each other). One line per command
# in $T/ops.ID: "exit-code command".
conc_worker() {
	local id=$1 ops=$2 i w k rc cmd
	RANDOM=$((id * 7919))
	for i in $(seq 1 "$ops"); do
		w=$id
		[ $((RANDOM % 4)) -eq 0 ] && w=$((RANDOM % 4))
		k=$((RANDOM % 4))
		case $((RANDOM % 9)) in
		0 | 1) cmd="snap create c$w-$k --image base" ;;
		2) cmd="snap rm c$w-$k" ;;
		3) cmd="snap mount c$w-$k" ;;
		4) cmd="vol create v$w-$k --size 16M" ;;
		5) cmd="vol rm v$w-$k --force" ;;
		6) cmd="vol attach v$w-$k --container c$w-$((RANDOM % 4)) --at /d$k" ;;
		7) cmd="vol detach v$w-$k --container c$w-$((RANDOM % 4))" ;;
		8) cmd="snap umount c$w-$k" ;;
		esac
		rc=0
		# shellcheck disable=SC2086
		"$DMSTORE" $cmd >/dev/null 2>"$T/err.$id" || rc=$?
		echo "$rc $cmd: $(head -c 300 "$T/err.$id" | tr '\n' '|')" >> "$T/ops.$id"
	done
}

conc_run() {
	local ops=$1 pids=() id ipid bad n
	make_rootfs "$T/rootfs"
	ds pool create p --loop --data-size 2G --metadata-size 32M
	ds image create base --size 64M
	for id in 0 1 2 3; do
		conc_worker "$id" "$ops" &
		pids+=($!)
	done
	"$DMSTORE" image import imported "$T/rootfs" --size 64M >/dev/null 2>"$T/import.err" &
	ipid=$!
	for id in "${pids[@]}"; do wait "$id"; done
	wait "$ipid" || fail "image import beside the workers: $(cat "$T/import.err")"
	cat "$T"/ops.* > "$T/ops"
	n=$(wc -l < "$T/ops")
	assert_eq "$n" $((4 * ops)) "commands run"
	figure concurrent_commands "$n"
	bad=$(grep -v '^[0134] ' "$T/ops" || true)
	[ -z "$bad" ] || fail "commands exited other than 0, 1, 3, 4: $bad"
	# A failure (1) in a healthy pool is a bug unless it says why in terms of the race.
	grep '^1 ' "$T/ops" | sed 's/^/# /' || true
	echo "# $(grep -c '^0 ' "$T/ops") succeeded, $(grep -c '^[134] ' "$T/ops") refused"
	# One line each, besides the notice of a wait for the pool lock that a second's wait prints.
	for f in "$T"/ops.*; do
		awk '$1 != 0' "$f" | sed -E "s/dmstore: pool 'p' is busy: [^|]*waiting for it\|//g" | while read -r line; do
			case $line in *"|"?*) fail "more than one line of error: $line" ;; esac
		done
	done
	# No thin id twice, in the catalogue (UNIQUE) or the kernel, and the two agree.
	assert_eq "$(kernel_thin_ids p | sort | uniq -d)" "" "thin ids twice in the kernel"
	assert_consistent p
	ds pool check p
	assert_contains "$OUT" "clean"
	ds image inspect imported --json
	assert_eq "$(jq -r .state <<<"$OUT")" ready "the image imported beside the workers"
}

test_concurrency_sample() {
	conc_run 10
}

torture_concurrency() {
	conc_run 100
}
