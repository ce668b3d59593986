// SPDX-License-Identifier: LGPL-2.1-or-later

// dmstore-snapshotter serves containerd's snapshots API on a dmstore pool,
// as a proxy plugin: [proxy_plugins.dmstore] type = "snapshot", address = ...
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	snapshotsapi "github.com/containerd/containerd/api/services/snapshots/v1"
	"github.com/containerd/containerd/contrib/snapshotservice"
	"google.golang.org/grpc"

	"dmstore/snapshotter/dmstore"
)

func main() {
	pool := flag.String("pool", "", "the dmstore pool to serve (required)")
	address := flag.String("address", "/run/dmstore/snapshotter.sock", "the unix socket to listen on")
	baseSize := flag.String("base-size", "10G", "the size of a layer without a parent")
	flag.Parse()
	if *pool == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: dmstore-snapshotter --pool NAME [--address PATH] [--base-size SIZE]")
		os.Exit(2)
	}
	size, err := dmstore.ParseSize(*baseSize)
	if err != nil {
		fmt.Fprintf(os.Stderr, "dmstore-snapshotter: --base-size: %v\n", err)
		os.Exit(2)
	}
	// libdevmapper's own messages are dropped: every failure comes back as one line in the gRPC error.
	dmstore.DevmapperQuiet()
	sn, err := dmstore.New(*pool, size)
	if err != nil {
		fmt.Fprintf(os.Stderr, "dmstore-snapshotter: %v\n", err)
		os.Exit(1)
	}
	if err := os.MkdirAll(filepath.Dir(*address), 0700); err != nil {
		fmt.Fprintf(os.Stderr, "dmstore-snapshotter: %v\n", err)
		os.Exit(1)
	}
	// A socket left by a snapshotter that was killed: nobody listens on it any more.
	if err := os.Remove(*address); err != nil && !os.IsNotExist(err) {
		fmt.Fprintf(os.Stderr, "dmstore-snapshotter: %v\n", err)
		os.Exit(1)
	}
	l, err := net.Listen("unix", *address)
	if err != nil {
		fmt.Fprintf(os.Stderr, "dmstore-snapshotter: %v\n", err)
		os.Exit(1)
	}
	srv := grpc.NewServer()
	snapshotsapi.RegisterSnapshotsServer(srv, snapshotservice.FromSnapshotter(sn))

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		s := <-sigs
		fmt.Fprintf(os.Stderr, "dmstore-snapshotter: %v: stopping\n", s)
		// Calls in flight finish (each is one libdmstore call); no new ones are taken.
		srv.GracefulStop()
	}()
	fmt.Fprintf(os.Stderr, "dmstore-snapshotter: serving pool '%s' on %s\n", *pool, *address)
	if err := srv.Serve(l); err != nil {
		fmt.Fprintf(os.Stderr, "dmstore-snapshotter: %v\n", err)
		os.Exit(1)
	}
	sn.Close()
	os.Remove(*address)
}
