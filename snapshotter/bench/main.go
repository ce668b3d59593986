// SPDX-License-Identifier: LGPL-2.1-or-later

// snapshotter-bench: Prepare, Commit and Remove through containerd's snapshots gRPC API, as
// containerd's clients call them (ctr, the CRI plugin): for each snapshotter named, a committed
// base layer, then N times Prepare(active, base), Commit(layer, active), Remove(layer); prints
// each operation's p50 and p99 in milliseconds, one line per snapshotter and operation:
//
//	SNAPSHOTTER OP N P50 P99
//
// Run by scripts/bench in the VM, against containerd's socket, so that the proxy snapshotter
// (dmstore) and containerd's built-in ones (devmapper, overlayfs) are measured on the same path.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	leasesapi "github.com/containerd/containerd/api/services/leases/v1"
	snapshotsapi "github.com/containerd/containerd/api/services/snapshots/v1"
	"github.com/containerd/containerd/leases"
	"github.com/containerd/containerd/namespaces"
	"github.com/containerd/containerd/snapshots"
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

func main() {
	address := flag.String("address", "/run/containerd/containerd.sock", "containerd's socket")
	names := flag.String("snapshotters", "overlayfs", "snapshotters to measure, comma-separated")
	ns := flag.String("namespace", "bench", "containerd namespace")
	n := flag.Int("n", 20, "Prepare/Commit/Remove rounds per snapshotter")
	flag.Parse()
	if *n < 1 || flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := bench(*address, *ns, strings.Split(*names, ","), *n); err != nil {
		fmt.Fprintf(os.Stderr, "snapshotter-bench: %v\n", err)
		os.Exit(1)
	}
}

func bench(address, ns string, names []string, n int) error {
	conn, err := grpc.Dial("unix://"+address, grpc.WithInsecure())
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx := namespaces.WithNamespace(context.Background(), ns)
	// Under a lease, as containerd's clients work: else its garbage collection, which runs
	// after removals, takes the base and the layers (referenced by nothing) mid-run.
	lm := leasesapi.NewLeasesClient(conn)
	lease := fmt.Sprintf("snapshotter-bench-%d", os.Getpid())
	if _, err := lm.Create(ctx, &leasesapi.CreateRequest{ID: lease}); err != nil {
		return fmt.Errorf("lease: %v", err)
	}
	defer lm.Delete(ctx, &leasesapi.DeleteRequest{ID: lease})
	ctx = leases.WithLease(ctx, lease)
	client := snapshotsapi.NewSnapshotsClient(conn)
	for _, name := range names {
		if err := run(ctx, proxy.NewSnapshotter(client, name), name, n); err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
	}
	return nil
}
