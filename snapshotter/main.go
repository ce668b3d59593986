// SPDX-License-Identifier: LGPL-2.1-or-later

// dmstore-snapshotter serves containerd's snapshots API on a dmstore pool,
// as a proxy plugin: [proxy_plugins.dmstore] type = "snapshot", address = ...
package main

import (
	"errors"
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

const usage = "usage: dmstore-snapshotter [--config FILE] [--pool NAME] [--address PATH] [--base-size SIZE]"

func main() {
	config := flag.String("config", "", "the configuration (default: $DMSTORE_CONFIG, else /etc/dmstore/dmstore.conf)")
	pool := flag.String("pool", "", "the dmstore pool to serve (default: $DMSTORE_POOL, else the configuration's pool, else the only pool)")
	address := flag.String("address", "/run/dmstore/snapshotter.sock", "the unix socket to listen on")
	baseSize := flag.String("base-size", "", "the size of a layer without a parent (default: the configuration's image_size, else 10G)")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	given := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { given[f.Name] = true })

	// dmstore.conf, read by conf/'s parser as dmstore reads it; a flag wins over the environment, which wins over the file.
	var path *string
	if given["config"] {
		path = config
	}
	cfg, err := dmstore.LoadConfig(path)
	if err == nil && given["pool"] {
		err = cfg.SetPool(*pool)
	}
	if err != nil {
		exit(err)
	}
	size := cfg.ImageSize()
	if given["base-size"] {
		if size, err = dmstore.ParseSize(*baseSize); err != nil {
			fmt.Fprintf(os.Stderr, "dmstore-snapshotter: --base-size: %v\n", err)
			os.Exit(2)
		}
	}
	// libdevmapper's own messages are dropped: every failure comes back as one line in the gRPC error.
	dmstore.DevmapperQuiet()
	sn, err := dmstore.New(cfg.Pool(), size, cfg)
	if err != nil {
		exit(err)
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
	fmt.Fprintf(os.Stderr, "dmstore-snapshotter: serving pool '%s' on %s\n", sn.Pool(), *address)
	if err := srv.Serve(l); err != nil {
		fmt.Fprintf(os.Stderr, "dmstore-snapshotter: %v\n", err)
		os.Exit(1)
	}
	sn.Close()
	os.Remove(*address)
}

// exit reports ERR: status 2 for a bad configuration (as dmstore and its Docker plugin), else 1.
func exit(err error) {
	fmt.Fprintf(os.Stderr, "dmstore-snapshotter: %v\n", err)
	var ce *dmstore.ConfigError
	if errors.As(err, &ce) && ce.Usage {
		os.Exit(2)
	}
	os.Exit(1)
}
