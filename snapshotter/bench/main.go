// SPDX-License-Identifier: LGPL-2.1-or-later

// snapshotter-bench: Prepare, Commit and Remove through the snapshots gRPC API, served by each
// snapshotter itself as containerd's proxy plugins serve it: dmstore-snapshotter on its socket;
// containerd's devmapper and overlayfs snapshotters (the code containerd 1.6 loads as plugins)
// run in this process and served by containerd's snapshot service on a socket of their own. Not
// through containerd's socket: there, Remove only drops containerd's record and the snapshotter's
// removal happens later, in its garbage collection. For each: a committed base layer, then N
// times Prepare(active, base), Commit(layer, active), Remove(layer); prints each operation's p50
// and p99 in milliseconds, one line per snapshotter and operation:
//
//	SNAPSHOTTER OP N P50 P99
//
// Run by scripts/bench in the VM, before containerd starts (devmapper's metadata is one process's).
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"time"

	snapshotsapi "github.com/containerd/containerd/api/services/snapshots/v1"
	"github.com/containerd/containerd/contrib/snapshotservice"
	"github.com/containerd/containerd/namespaces"
	"github.com/containerd/containerd/snapshots"
	"github.com/containerd/containerd/snapshots/devmapper"
	"github.com/containerd/containerd/snapshots/overlay"
	"github.com/containerd/containerd/snapshots/proxy"
	"google.golang.org/grpc"
)

func ms(d time.Duration) string {
	return fmt.Sprintf("%.1f", float64(d.Microseconds())/1000)
}

// percentile of sorted samples, nearest rank.
func percentile(d []time.Duration, p int) time.Duration {
	i := (len(d)*p + 99) / 100
	if i < 1 {
		i = 1
	}
	return d[i-1]
}

func run(ctx context.Context, sn snapshots.Snapshotter, name string, n int) error {
	// Names of this run only: a base left by an earlier, interrupted run is no obstacle.
	tag := fmt.Sprintf("bench-%d", time.Now().UnixNano())
	base := tag + "-base"
	if _, err := sn.Prepare(ctx, base+"-active", ""); err != nil {
		return err
	}
	if err := sn.Commit(ctx, base, base+"-active"); err != nil {
		return err
	}
	ops := []string{"Prepare", "Commit", "Remove"}
	d := make([][]time.Duration, len(ops))
	for i := 0; i < n; i++ {
		k, c := fmt.Sprintf("%s-a%d", tag, i), fmt.Sprintf("%s-c%d", tag, i)
		t0 := time.Now()
		if _, err := sn.Prepare(ctx, k, base); err != nil {
			return err
		}
		t1 := time.Now()
		if err := sn.Commit(ctx, c, k); err != nil {
			return err
		}
		t2 := time.Now()
		if err := sn.Remove(ctx, c); err != nil {
			return err
		}
		t3 := time.Now()
		d[0], d[1], d[2] = append(d[0], t1.Sub(t0)), append(d[1], t2.Sub(t1)), append(d[2], t3.Sub(t2))
	}
	if err := sn.Remove(ctx, base); err != nil {
		return err
	}
	for i, op := range ops {
		sort.Slice(d[i], func(a, b int) bool { return d[i][a] < d[i][b] })
		fmt.Printf("%s %s %d %s %s\n", name, op, n, ms(percentile(d[i], 50)), ms(percentile(d[i], 99)))
	}
	return nil
}

// served: SN behind containerd's snapshot service on a unix socket in DIR, and its gRPC client.
func served(sn snapshots.Snapshotter, dir string) (snapshots.Snapshotter, func(), error) {
	sock := filepath.Join(dir, "snapshotter.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		return nil, nil, err
	}
	srv := grpc.NewServer()
	snapshotsapi.RegisterSnapshotsServer(srv, snapshotservice.FromSnapshotter(sn))
	go srv.Serve(l)
	client, closeConn, err := dial(sock)
	if err != nil {
		srv.Stop()
		return nil, nil, err
	}
	return client, func() { closeConn(); srv.Stop(); sn.Close() }, nil
}

func dial(sock string) (snapshots.Snapshotter, func(), error) {
	conn, err := grpc.Dial("unix://"+sock, grpc.WithInsecure())
	if err != nil {
		return nil, nil, err
	}
	return proxy.NewSnapshotter(snapshotsapi.NewSnapshotsClient(conn), ""), func() { conn.Close() }, nil
}

func open(ctx context.Context, name, arg, dir string) (snapshots.Snapshotter, func(), error) {
	switch name {
	case "dmstore":
		return dial(arg)
	case "devmapper":
		config, err := devmapper.LoadConfig(arg)
		if err != nil {
			return nil, nil, err
		}
		sn, err := devmapper.NewSnapshotter(ctx, config)
		if err != nil {
			return nil, nil, err
		}
		return served(sn, dir)
	case "overlayfs":
		sn, err := overlay.NewSnapshotter(arg)
		if err != nil {
			return nil, nil, err
		}
		return served(sn, dir)
	}
	return nil, nil, fmt.Errorf("unknown snapshotter")
}

func main() {
	dm := flag.String("dmstore", "", "dmstore-snapshotter's socket")
	dmc := flag.String("devmapper-config", "", "devmapper's configuration (containerd's TOML keys)")
	ov := flag.String("overlayfs-root", "", "overlayfs's root directory")
	n := flag.Int("n", 20, "Prepare/Commit/Remove rounds per snapshotter")
	flag.Parse()
	if *n < 1 || flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}
	ctx := namespaces.WithNamespace(context.Background(), "bench")
	status := 0
	for _, s := range []struct{ name, arg string }{{"dmstore", *dm}, {"devmapper", *dmc}, {"overlayfs", *ov}} {
		if s.arg == "" {
			continue
		}
		if err := bench(ctx, s.name, s.arg, *n); err != nil {
			fmt.Fprintf(os.Stderr, "snapshotter-bench: %s: %v\n", s.name, err)
			status = 1
		}
	}
	os.Exit(status)
}

func bench(ctx context.Context, name, arg string, n int) error {
	dir, err := os.MkdirTemp("", "snapshotter-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	sn, closeFn, err := open(ctx, name, arg, dir)
	if err != nil {
		return err
	}
	defer closeFn()
	return run(ctx, sn, name, n)
}
