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

# The tree dmstore imported as image IMG equals umoci's unpack of the layout.
assert_same_tree() {
	local img=$1 want=$2 got
	ds snap create "chk-$img" --image "$img"
	ds snap mount "chk-$img"
	got=$OUT
	tree_manifest "$want" > $T/want.txt
	tree_manifest "$got" > $T/got.txt
	diff -u $T/want.txt $T/got.txt || fail "image '$img' differs from umoci's unpack"
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
	assert_same_tree dimg $T/work/ref/rootfs
	ds image import oimg oci-archive:$T/work/img.oci.tar:t --size 128M
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
	expect 3 "$DMSTORE" run --runtime "$rt" --rm img sh -c 'exit 3'
	expect 0 "$DMSTORE" run --runtime "$rt" --rm -e B=three -e C=4 img sh -c 'echo $A $B $C $(pwd) $(id -u):$(id -g)'
	assert_eq "$OUT" "1 three 4 /data 1234:5678" "env, workdir and user from the image"
	expect 0 "$DMSTORE" run --runtime "$rt" --rm -w /etc -u 0:0 img sh -c 'echo $(pwd) $(id -u):$(id -g)'
	assert_eq "$OUT" "/etc 0:0" "-w and -u"
	expect 0 "$DMSTORE" run --runtime "$rt" --name w1 -u 0 -v data:/vol img sh -c 'echo kept > /vol/f && echo layer > /layer'
	expect 0 "$DMSTORE" run --runtime "$rt" --rm -u 0 -v data:/vol:ro img sh -c 'cat /vol/f; cat /layer 2>&1; true'
	assert_contains "$OUT" kept
	assert_contains "$OUT" "No such file"
	expect 1 "$DMSTORE" run --runtime "$rt" --rm -u 0 -v data:/vol:ro img sh -c 'echo x > /vol/g'
	# The container without --rm stays, with its layer, and runs again.
	expect 0 "$DMSTORE" start -a w1
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
}

test_run_runc() {
	pool_with_oci_image
	run_cases runc
}
