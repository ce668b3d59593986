# With udev running: libdevmapper hands node creation to udev and waits on cookies
# (semaphores that udev's 95-dm-notify rule releases). The other cases run without
# udev (DM_DISABLE_UDEV=1, libdevmapper makes the nodes); these run dmstore's whole
# main job with it, as on a normal host. Helpers are udev_*.

# Start systemd-udevd for this case only (it is stopped when the case's shell exits),
# and let dmstore and dmsetup use it: DM_DISABLE_UDEV disables udev even when empty.
# On a host whose udev runs already (natively), that one is used and left alone.
udev_start() {
	if ! udevadm control --ping >/dev/null 2>&1; then
		# libudev (and so libdevmapper) takes udev for running while its control socket exists.
		trap 'udevadm control --exit 2>/dev/null; rm -f /run/udev/control' EXIT
		/lib/systemd/systemd-udevd --daemon >/dev/null 2>&1 || fail "systemd-udevd did not start"
		udevadm trigger --action=add --subsystem-match=block
	fi
	udevadm settle -t 30
	unset DM_DISABLE_UDEV
}

# udev_ds ARGS...: dmstore, which must succeed, and must not hang on a cookie udev never releases.
udev_ds() {
	expect 0 timeout 120 "$DMSTORE" "$@"
}

# The /dev/mapper entry udev made for dm device NAME: a symlink to ../dm-N, which
# libdevmapper's own fallback never makes (it makes a device node).
udev_assert_linked() {
	local name=$1 uuid
	udevadm settle -t 30
	[ -L "/dev/mapper/$name" ] || fail "/dev/mapper/$name is not udev's symlink: $(ls -l "/dev/mapper/$name" 2>&1)"
	uuid=$(dmsetup info -c --noheadings -o uuid "$name")
	[ -L "/dev/disk/by-id/dm-uuid-$uuid" ] || fail "udev made no /dev/disk/by-id/dm-uuid-$uuid"
}

udev_assert_gone() {
	udevadm settle -t 30
	[ ! -e "/dev/mapper/$1" ] || fail "/dev/mapper/$1 is still there"
}

# No cookie semaphore left behind: each one that leaked would wait forever in a later command.
udev_assert_no_cookies() {
	[ "$(dmsetup udevcookies | tail -n +2 | wc -l)" -eq 0 ] || fail "udev cookies left: $(dmsetup udevcookies)"
}

test_udev_main_job() {
	local id
	make_rootfs $T/rootfs
	udev_start
	udev_ds pool create p --loop --data-size 1G --metadata-size 64M
	udev_assert_linked dmstore-p-pool
	udev_ds image import base $T/rootfs --size 64M
	udev_ds snap create c1 --image base
	udev_assert_linked dmstore-p-ctr-c1
	udev_ds snap mount c1
	echo written > "$OUT/etc/layer"
	udev_ds vol create v1 --size 32M
	udev_assert_linked dmstore-p-vol-v1
	udev_ds vol attach v1 --container c1 --at /data
	echo kept > "$DMSTORE_STATE_DIR/p/mnt/c1/data/file"
	# A snapshot of an attached volume suspends and resumes it: two more cookies.
	udev_ds vol snapshot v1 v1snap
	udev_assert_linked dmstore-p-vsnap-v1snap
	udev_ds vol grow v1 64M
	udev_ds vol detach v1 --container c1
	udev_ds snap rm c1
	udev_assert_gone dmstore-p-ctr-c1
	udev_ds pool deactivate p
	udev_assert_gone dmstore-p-pool
	udev_ds pool activate p
	udev_assert_linked dmstore-p-pool
	udev_assert_linked dmstore-p-vol-v1
	mkdir $T/m
	udev_ds vol mount v1 $T/m
	assert_eq "$(cat $T/m/file)" kept "volume data after the pool came back"
	udev_ds vol umount v1
	udev_ds vol rm v1
	udev_assert_gone dmstore-p-vol-v1
	assert_consistent p
	udev_assert_no_cookies
	id=$(dmsetup info -c --noheadings -o uuid dmstore-p-pool)
	udev_ds pool rm p --force
	udev_assert_gone dmstore-p-pool
	[ ! -e "/dev/disk/by-id/dm-uuid-$id" ] || fail "udev kept the pool's by-id link"
	udev_assert_no_cookies
}
