# Docker volumes on dmstore: the volume plugin (dmstore-docker-plugin) on its own
# (its protocol through curl), and under Debian's dockerd. Helpers are docker_*.
#
# Under TCG here: containerd is up in ~3 s, dockerd ~4 s after it, `docker load`
# of the busybox image ~4 s, and each `docker run` ~3.5 s. So make check runs one
# Docker case that covers the issue's whole story with three containers, and a
# case without Docker for the protocol's refusals and the mount counting.

DOCKER_TMP=/tmp/docker-test
DOCKER_SOCK=/run/docker/plugins/dmstore.sock
DOCKER_IMG=dmstore-busybox
PLUGIN=$(pwd)/dmstore-docker-plugin

# Whatever a case started goes, in order: containers, dockerd, containerd (the
# shims go with their containers), the plugin; then Docker's disk.
docker_cleanup() {
	local pid
	if [ -n "${DOCKERD_PID:-}" ]; then
		docker ps -aq 2>/dev/null | xargs -r docker rm -f >/dev/null 2>&1 || true
	fi
	for pid in ${DOCKERD_PID:-} ${CONTAINERD_PID:-} ${PLUGIN_PID:-}; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	findmnt -rn -o TARGET | awk -v t="$DOCKER_TMP/" 'index($1, t) == 1' | sort -r | xargs -r -n 1 umount -l 2>/dev/null || true
	rm -rf "$DOCKER_TMP" /run/docker /run/containerd /run/docker.sock
}

# The plugin serving pool p at Docker's socket, answering. With "activated", the
# socket is passed in as systemd's socket activation does (systemd-socket-activate
# binds it, then becomes the plugin). Arguments after the first replace --pool p.
docker_plugin_start() {
	local args=(--pool p)
	[ $# -gt 1 ] && args=("${@:2}")
	if [ "${1:-}" = activated ]; then
		rm -f "$DOCKER_SOCK"
		systemd-socket-activate -E DMSTORE_STATE_DIR -E DMSTORE_RUN_DIR -l "$DOCKER_SOCK" "$PLUGIN" "${args[@]}" \
			>>"$DOCKER_TMP/plugin.log" 2>&1 &
	else
		"$PLUGIN" "${args[@]}" >>"$DOCKER_TMP/plugin.log" 2>&1 &
	fi
	PLUGIN_PID=$!
	for _ in $(seq 100); do
		curl -sf --unix-socket "$DOCKER_SOCK" -X POST http://plugin/Plugin.Activate >/dev/null 2>&1 && return 0
		kill -0 "$PLUGIN_PID" 2>/dev/null || fail "the plugin died: $(cat "$DOCKER_TMP/plugin.log")"
		sleep 0.1
	done
	fail "the plugin does not answer: $(cat "$DOCKER_TMP/plugin.log")"
}

# A pool p and the plugin.
docker_plugin_setup() {
	trap docker_cleanup EXIT
	rm -rf "$DOCKER_TMP"
	mkdir -p "$DOCKER_TMP"
	ds pool create p --loop --data-size 512M --metadata-size 16M
	docker_plugin_start
}

# call ENDPOINT JSON: POST it to the plugin; the HTTP status in $STATUS, the body in $BODY.
docker_call() {
	local out
	out=$(curl -s --unix-socket "$DOCKER_SOCK" -X POST -d "$2" -w '\n%{http_code}' "http://plugin/$1")
	STATUS=${out##*$'\n'}
	BODY=${out%$'\n'*}
}

# docker_ok ENDPOINT JSON: the call succeeds (200, and the plugin's answers carry Err only on failure).
docker_ok() {
	docker_call "$@"
	[ "$STATUS" = 200 ] && [[ $BODY != *'"Err"'* ]] || fail "$1 $2: $STATUS $BODY"
}

# docker_refused MESSAGE-PART ENDPOINT JSON: the call fails with {"Err": one line saying MESSAGE-PART}.
docker_refused() {
	local msg=$1 err
	shift
	docker_call "$@"
	[ "$STATUS" != 200 ] || fail "$1 $2 was answered 200: $BODY"
	err=$(jq -r .Err <<<"$BODY")
	assert_contains "$err" "$msg"
	[[ $err != *$'\n'* ]] || fail "Err is not one line: $err"
}

# The volume's filesystem is mounted where, by device number, one target per line.
docker_targets() {
	local d
	d=$(dmsetup info -c --noheadings -o major,minor --separator : "dmstore-p-vol-$1")
	findmnt -rn -o MAJ:MIN,TARGET | awk -v d="$d" '$1 == d { print $2 }' | sort
}

# A docker-archive tarball (what `docker save` writes: manifest.json, the image
# config, one layer tar) of a static busybox, loaded as $DOCKER_IMG.
docker_image() {
	local d=$DOCKER_TMP/image diff cfg
	mkdir -p "$d/rootfs/bin" "$d/rootfs/usr/bin" "$d/rootfs/tmp" "$d/layer"
	cp /bin/busybox "$d/rootfs/usr/bin/busybox"
	# Every applet, linked to the binary by the path it runs as here (/usr/bin/busybox): one
	# program, not one per link (each costs under TCG).
	/bin/busybox --install -s "$d/rootfs/bin"
	tar -C "$d/rootfs" -cf "$d/layer/layer.tar" .
	diff=$(sha256sum "$d/layer/layer.tar" | cut -d' ' -f1)
	printf '{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/bin"],"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
		"$diff" >"$d/config.json"
	cfg=$(sha256sum "$d/config.json" | cut -d' ' -f1)
	mv "$d/config.json" "$d/$cfg.json"
	printf '[{"Config":"%s.json","RepoTags":["%s:latest"],"Layers":["layer/layer.tar"]}]' "$cfg" "$DOCKER_IMG" >"$d/manifest.json"
	tar -C "$d" -cf "$d/image.tar" manifest.json "$cfg.json" layer/layer.tar
	docker load -i "$d/image.tar" >/dev/null
}

# The plugin, then containerd and dockerd with their roots on an ext4 disk (overlayfs
# cannot sit on the VM's overlay root), no network, and the image loaded. Under TCG
# dockerd's own containerd misses dockerd's start timeout: containerd comes first.
docker_setup() {
	local root=$DOCKER_TMP/root
	docker_plugin_setup
	mkfs.ext4 -q -F "$(disk 4)"
	mkdir -p "$root"
	mount "$(disk 4)" "$root"
	printf 'version = 2\nroot = "%s"\nstate = "/run/containerd"\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n' \
		"$root/containerd" >"$DOCKER_TMP/containerd.toml"
	containerd --config "$DOCKER_TMP/containerd.toml" >"$DOCKER_TMP/containerd.log" 2>&1 &
	CONTAINERD_PID=$!
	for _ in $(seq 300); do [ -S /run/containerd/containerd.sock ] && break; sleep 0.1; done
	dockerd --containerd /run/containerd/containerd.sock --data-root "$root/docker" --iptables=false \
		--ip-masq=false --bridge=none --storage-driver overlay2 >"$DOCKER_TMP/dockerd.log" 2>&1 &
	DOCKERD_PID=$!
	docker_wait_dockerd
	docker_image
}

# dockerd's API socket appears when it is ready ("API listen on"): no program runs before it is there.
docker_wait_dockerd() {
	for _ in $(seq 600); do [ -S /run/docker.sock ] && docker version >/dev/null 2>&1 && break; sleep 0.1; done
	docker version >/dev/null 2>&1 || fail "dockerd did not start: $(tail -n 20 "$DOCKER_TMP/dockerd.log")"
}

# docker_run ARGS...: a container without network; its output in $OUT.
docker_run() {
	OUT=$(docker run --network none "$@" 2>"$DOCKER_TMP/run.err") || fail "docker run $*: $(cat "$DOCKER_TMP/run.err")"
}

# The issue's story, whole: a volume made, written, shared by two containers at
# once, kept through the plugin's SIGKILL, unmounted after its last container,
# read back, removed without a trace. (Two containers: each costs seconds under TCG.)
test_docker_volume_plugin() {
	local a log dir
	docker_setup
	docker volume create -d dmstore --opt size=1G --opt label=docker v1 >/dev/null
	ds vol ls
	assert_contains "$OUT" v1

	# A writes a file, then a line every 0.2 s until it sees B's flag, then shows what B wrote.
	a=$(docker run -d --network none -v v1:/data "$DOCKER_IMG" sh -c \
		'echo kept > /data/f; i=0; while [ ! -e /data/stop ]; do i=$((i + 1)); echo $i >> /data/log; sleep 0.2; done; cat /data/from-b')
	for _ in $(seq 100); do [ -n "$(docker_targets v1)" ] && break; sleep 0.1; done
	dir=$(docker_targets v1)
	[ "$(printf '%s\n' "$dir" | wc -l)" -eq 1 ] || fail "one container, mounts: $dir"
	findmnt -rn -o OPTIONS --target "$dir" | grep -q 'nosuid.*nodev' || fail "not nosuid,nodev: $(findmnt -rn --target "$dir")"

	# The plugin dies while A writes; restarted, it counts A's mount again.
	kill -9 "$PLUGIN_PID"
	wait "$PLUGIN_PID" 2>/dev/null || true
	docker_plugin_start
	docker volume inspect v1 >"$DOCKER_TMP/inspect.json"
	assert_eq "$(jq -r '.[0].Status.holders' "$DOCKER_TMP/inspect.json")" 1 "holders after the restart"
	assert_eq "$(jq -r '.[0].Status.pool' "$DOCKER_TMP/inspect.json")" p "Status.pool"
	assert_eq "$(jq -r '.[0].Status.size' "$DOCKER_TMP/inspect.json")" $((1 << 30)) "Status.size"
	assert_eq "$(jq -r '.[0].Status.label' "$DOCKER_TMP/inspect.json")" docker "Status.label"
	jq -e '.[0].Status.thin_id >= 0 and .[0].Status.used > 0' "$DOCKER_TMP/inspect.json" >/dev/null ||
		fail "Status: $(cat "$DOCKER_TMP/inspect.json")"
	# Held: refused, and nothing changes (Docker would refuse it itself; the plugin does too).
	docker_refused "volume 'v1' is held by" VolumeDriver.Remove '{"Name":"v1"}'

	# B, a new container, mounts v1 while A holds it: it reads what A wrote,
	# sees A's writes go on (A outlived the plugin's death), and leaves one for A.
	docker_run --rm -v v1:/data "$DOCKER_IMG" sh -c \
		'cat /data/f; a=$(wc -l < /data/log); for i in $(seq 50); do sleep 0.2; [ $(wc -l < /data/log) -gt $a ] && echo growing && break; done; echo from-b > /data/from-b; touch /data/stop'
	assert_contains "$OUT" kept
	assert_contains "$OUT" growing
	assert_eq "$(docker wait "$a")" 0 "A's exit"
	assert_eq "$(docker logs "$a" 2>&1)" from-b "what A saw of B's write"
	docker rm "$a" >/dev/null
	[ -z "$(docker_targets v1)" ] || fail "v1 still mounted after its last container: $(docker_targets v1)"
	# What the containers wrote is there once they are gone.
	mkdir -p "$DOCKER_TMP/m"
	ds vol mount v1 "$DOCKER_TMP/m"
	assert_eq "$(cat "$DOCKER_TMP/m/f" "$DOCKER_TMP/m/from-b")" "kept"$'\n'"from-b" "v1's files after its containers"
	ds vol umount v1

	# A bad request through Docker: the plugin's one line, nothing made.
	log=$(docker volume create -d dmstore --opt bogus=1 v2 2>&1) && fail "created with --opt bogus"
	assert_contains "$log" "unknown option 'bogus'"
	ds vol ls --json
	assert_eq "$(jq -r '[.[].name] | join(" ")' <<<"$OUT")" v1 "volumes after the refusal"

	docker volume rm v1 >/dev/null
	ds vol ls --json
	assert_eq "$(jq length <<<"$OUT")" 0 "volumes after docker volume rm"
	assert_consistent p
	[ -z "$(dmsetup ls | grep dmstore-p-vol)" ] || fail "a volume device is left: $(dmsetup ls)"
}

# The protocol without Docker: the refusals that are the library's (one line, nothing
# changed; the plugin's own, options and bodies, are unit tests: test-docker-plugin.c),
# and mount counting by ID, kept across the plugin's SIGKILL.
test_docker_plugin_protocol() {
	local before d1 d2
	docker_plugin_setup
	docker_ok VolumeDriver.Create '{"Name":"v1","Opts":{"size":"64M"}}'
	docker_ok VolumeDriver.List '{}'
	assert_eq "$(jq -c '[.Volumes[].Name]' <<<"$BODY")" '["v1"]' "List"

	FINGERPRINT_DISKS=
	before=$(fingerprint)
	docker_refused "volume '../x': invalid name" VolumeDriver.Create '{"Name":"../x","Opts":{"size":"1G"}}'
	docker_refused "volume 'v1' already exists" VolumeDriver.Create '{"Name":"v1"}'
	docker_refused "volume 'nope' does not exist" VolumeDriver.Create '{"Name":"v2","Opts":{"snapshot-of":"nope"}}'
	docker_refused "invalid holder '../x'" VolumeDriver.Mount '{"Name":"v1","ID":"../x"}'
	docker_refused "volume 'nope' does not exist" VolumeDriver.Mount '{"Name":"nope","ID":"a1"}'
	assert_eq "$(fingerprint)" "$before" "refused requests changed something"

	# Two holders share one filesystem; a holder asking twice is one holder.
	docker_ok VolumeDriver.Mount '{"Name":"v1","ID":"a1"}'
	d1=$(jq -r .Mountpoint <<<"$BODY")
	findmnt -rn -o OPTIONS --target "$d1" | grep -q 'nosuid.*nodev' || fail "not nosuid,nodev: $(findmnt -rn --target "$d1")"
	docker_ok VolumeDriver.Mount '{"Name":"v1","ID":"a1"}'
	assert_eq "$(jq -r .Mountpoint <<<"$BODY")" "$d1" "Mountpoint of a repeated Mount"
	docker_ok VolumeDriver.Mount '{"Name":"v1","ID":"b2"}'
	d2=$(jq -r .Mountpoint <<<"$BODY")
	echo shared >"$d1/f"
	assert_eq "$(cat "$d2/f")" shared "what one holder wrote, the other reads"
	[ "$(docker_targets v1 | wc -l)" -eq 2 ] || fail "two holders, mounts: $(docker_targets v1)"

	# Killed and started again (by socket activation), the plugin finds both holders in the mount table.
	# This time its pool and mount options come from dmstore.conf.
	kill -9 "$PLUGIN_PID"
	wait "$PLUGIN_PID" 2>/dev/null || true
	printf '[dmstore]\npool = p\nmount_options = commit=7\n' >"$DOCKER_TMP/dmstore.conf"
	docker_plugin_start activated --config "$DOCKER_TMP/dmstore.conf"
	assert_contains "$(cat "$DOCKER_TMP/plugin.log")" "listening on the socket systemd passed"
	assert_contains "$(tail -n 2 "$DOCKER_TMP/plugin.log")" "serving pool 'p'"
	docker_ok VolumeDriver.Get '{"Name":"v1"}'
	assert_eq "$(jq -r .Volume.Status.holders <<<"$BODY")" 2 "holders after the restart"
	assert_eq "$(jq -r .Volume.Mountpoint <<<"$BODY")" "$d1" "Get's Mountpoint"
	docker_ok VolumeDriver.Path '{"Name":"v1"}'
	assert_eq "$(jq -r .Mountpoint <<<"$BODY")" "$d1" "Path"

	docker_ok VolumeDriver.Unmount '{"Name":"v1","ID":"a1"}'
	assert_eq "$(docker_targets v1)" "$d2" "mounts after the first Unmount"
	docker_refused "volume 'v1' is held by 'b2'" VolumeDriver.Remove '{"Name":"v1"}'
	expect 4 "$DMSTORE" vol rm v1 --force
	assert_contains "$ERR" "held by 'b2'"
	docker_ok VolumeDriver.Unmount '{"Name":"v1","ID":"b2"}'
	[ -z "$(docker_targets v1)" ] || fail "still mounted after the last Unmount: $(docker_targets v1)"
	# An Unmount Docker repeats (its answer lost) is no error.
	docker_ok VolumeDriver.Unmount '{"Name":"v1","ID":"b2"}'
	docker_ok VolumeDriver.Path '{"Name":"v1"}'
	assert_eq "$(jq -r .Mountpoint <<<"$BODY")" "" "Path of an unheld volume"

	docker_ok VolumeDriver.Create '{"Name":"s1","Opts":{"snapshot-of":"v1"}}'
	docker_ok VolumeDriver.Get '{"Name":"s1"}'
	assert_eq "$(jq -r .Volume.Status.origin <<<"$BODY")" v1 "the snapshot's origin"
	docker_ok VolumeDriver.Mount '{"Name":"s1","ID":"c3"}'
	findmnt -rn -o OPTIONS --target "$(jq -r .Mountpoint <<<"$BODY")" | grep -q 'commit=7' ||
		fail "the config's mount options: $(findmnt -rn --target "$(jq -r .Mountpoint <<<"$BODY")")"
	docker_ok VolumeDriver.Unmount '{"Name":"s1","ID":"c3"}'
	docker_ok VolumeDriver.Remove '{"Name":"v1"}'
	docker_ok VolumeDriver.Remove '{"Name":"s1"}'
	assert_consistent p
	[ ! -e "$DMSTORE_STATE_DIR/p/holders/v1" ] || fail "holders' directory left: $(ls -la "$DMSTORE_STATE_DIR/p/holders/v1")"
}

# Restarts around Docker: dockerd stopped and started again keeps every volume and its
# data; a container started while the plugin is down waits (moby retries the call for
# 30 s) and runs once the plugin is back; a plugin killed between the mount and its
# answer leaves a mount that the repeated Mount takes as its own.
torture_docker_restarts() {
	local c
	docker_setup
	docker volume create -d dmstore --opt size=256M v1 >/dev/null
	docker_run --rm -v v1:/data "$DOCKER_IMG" sh -c 'echo kept > /data/f'

	kill "$DOCKERD_PID"
	wait "$DOCKERD_PID" 2>/dev/null || true
	dockerd --containerd /run/containerd/containerd.sock --data-root "$DOCKER_TMP/root/docker" --iptables=false \
		--ip-masq=false --bridge=none --storage-driver overlay2 >>"$DOCKER_TMP/dockerd.log" 2>&1 &
	DOCKERD_PID=$!
	docker_wait_dockerd
	assert_eq "$(docker volume ls -q --filter driver=dmstore)" v1 "volumes after dockerd's restart"
	docker_run --rm -v v1:/data "$DOCKER_IMG" cat /data/f
	assert_eq "$OUT" kept "v1's file after dockerd's restart"

	kill -9 "$PLUGIN_PID"
	wait "$PLUGIN_PID" 2>/dev/null || true
	docker run --rm --network none -v v1:/data "$DOCKER_IMG" cat /data/f >"$DOCKER_TMP/late.out" 2>&1 &
	c=$!
	sleep 3
	docker_plugin_start
	wait "$c" || fail "the container started while the plugin was down: $(cat "$DOCKER_TMP/late.out")"
	assert_eq "$(cat "$DOCKER_TMP/late.out")" kept "the late container's read"
	[ -z "$(docker_targets v1)" ] || fail "v1 mounted after its containers: $(docker_targets v1)"

	# The mount made, the answer lost: Docker asks again with the same ID.
	docker_ok VolumeDriver.Mount '{"Name":"v1","ID":"lost"}'
	kill -9 "$PLUGIN_PID"
	wait "$PLUGIN_PID" 2>/dev/null || true
	docker_plugin_start
	docker_ok VolumeDriver.Mount '{"Name":"v1","ID":"lost"}'
	assert_eq "$(docker_targets v1 | wc -l)" 1 "mounts after the repeated Mount"
	docker_ok VolumeDriver.Unmount '{"Name":"v1","ID":"lost"}'
	docker volume rm v1 >/dev/null
	assert_consistent p
}
