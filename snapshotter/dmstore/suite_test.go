// SPDX-License-Identifier: LGPL-2.1-or-later

package dmstore

// containerd's snapshotter conformance suite against dmstore, through the
// snapshots gRPC API as containerd calls a proxy plugin: each case gets a
// loop pool of its own, a Snapshotter on it served by the snapshot service
// on a unix socket in the case's root, and containerd's proxy client. After
// the case, every layer left is removed (children first) and the pool must
// hold no thin device: nothing leaked.
//
// Built on the host (go test -c), run as root where device-mapper is (the
// VM: tests/vm/60-snapshotter.sh), with DMSTORE naming the dmstore program
// and DMSTORE_STATE_DIR/DMSTORE_RUN_DIR set. DMSTORE_SUITE_POOL_SIZE sizes
// the pools (default 4G, sparse).

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	snapshotsapi "github.com/containerd/containerd/api/services/snapshots/v1"
	"github.com/containerd/containerd/contrib/snapshotservice"
	"github.com/containerd/containerd/namespaces"
	"github.com/containerd/containerd/snapshots"
	"github.com/containerd/containerd/snapshots/proxy"
	"github.com/containerd/containerd/snapshots/testsuite"
	"google.golang.org/grpc"
)

var pools int32

func dmstoreCmd(args ...string) ([]byte, error) {
	bin := os.Getenv("DMSTORE")
	if bin == "" {
		bin = "dmstore"
	}
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("dmstore %v: %v: %s", args, err, out)
	}
	return out, nil
}

// removeAll removes every layer, those nobody names as parent first.
func removeAll(ctx context.Context, sn snapshots.Snapshotter) error {
	for {
		var infos []snapshots.Info
		if err := sn.Walk(ctx, func(ctx context.Context, i snapshots.Info) error {
			infos = append(infos, i)
			return nil
		}); err != nil {
			return err
		}
		if len(infos) == 0 {
			return nil
		}
		parents := map[string]bool{}
		for _, i := range infos {
			parents[i.Parent] = true
		}
		for _, i := range infos {
			if !parents[i.Name] {
				if err := sn.Remove(ctx, i.Name); err != nil {
					return err
				}
			}
		}
	}
}

func newSnapshotter(ctx context.Context, root string) (snapshots.Snapshotter, func() error, error) {
	size := os.Getenv("DMSTORE_SUITE_POOL_SIZE")
	if size == "" {
		size = "4G"
	}
	pool := fmt.Sprintf("suite%d", atomic.AddInt32(&pools, 1))
	if _, err := dmstoreCmd("pool", "create", pool, "--loop", "--data-size", size); err != nil {
		return nil, nil, err
	}
	sn, err := New(pool, 256<<20, nil)
	if err != nil {
		return nil, nil, err
	}
	sock := filepath.Join(root, "snapshotter.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		return nil, nil, err
	}
	srv := grpc.NewServer()
	snapshotsapi.RegisterSnapshotsServer(srv, snapshotservice.FromSnapshotter(sn))
	go srv.Serve(l)
	conn, err := grpc.Dial("unix://"+sock, grpc.WithInsecure())
	if err != nil {
		return nil, nil, err
	}
	client := proxy.NewSnapshotter(snapshotsapi.NewSnapshotsClient(conn), "dmstore")

	cleanup := func() error {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		err := removeAll(cctx, client)
		conn.Close()
		srv.Stop()
		sn.Close()
		if err != nil {
			return err
		}
		out, err := dmstoreCmd("pool", "status", pool, "--json")
		if err != nil {
			return err
		}
		var st struct {
			DeviceCount int64 `json:"device_count"`
		}
		if err := json.Unmarshal(out, &st); err != nil {
			return fmt.Errorf("pool status: %v: %s", err, out)
		}
		if st.DeviceCount != 0 {
			return fmt.Errorf("pool '%s' holds %d thin device(s) once every layer is removed", pool, st.DeviceCount)
		}
		_, err = dmstoreCmd("pool", "rm", pool)
		return err
	}
	return client, cleanup, nil
}

func TestSnapshotterSuite(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root and device-mapper")
	}
	DevmapperQuiet()
	testsuite.SnapshotterSuite(t, "dmstore", newSnapshotter)
}

// TestLatency measures Prepare, Commit and Remove through the gRPC API, on a
// base layer, DMSTORE_LATENCY_N times (skipped when unset): p50 and p99.
func TestLatency(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("DMSTORE_LATENCY_N"))
	if n <= 0 || os.Getuid() != 0 {
		t.Skip("set DMSTORE_LATENCY_N, as root")
	}
	ctx := namespaces.WithNamespace(context.Background(), "latency")
	root := t.TempDir()
	sn, cleanup, err := newSnapshotter(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := cleanup(); err != nil {
			t.Error(err)
		}
	}()
	if _, err := sn.Prepare(ctx, "base-a", ""); err != nil {
		t.Fatal(err)
	}
	if err := sn.Commit(ctx, "base", "base-a"); err != nil {
		t.Fatal(err)
	}
	var prep, commit, remove []time.Duration
	for i := 0; i < n; i++ {
		k, c := fmt.Sprintf("a%d", i), fmt.Sprintf("c%d", i)
		t0 := time.Now()
		if _, err := sn.Prepare(ctx, k, "base"); err != nil {
			t.Fatal(err)
		}
		t1 := time.Now()
		if err := sn.Commit(ctx, c, k); err != nil {
			t.Fatal(err)
		}
		t2 := time.Now()
		if err := sn.Remove(ctx, c); err != nil {
			t.Fatal(err)
		}
		t3 := time.Now()
		prep, commit, remove = append(prep, t1.Sub(t0)), append(commit, t2.Sub(t1)), append(remove, t3.Sub(t2))
	}
	for _, m := range []struct {
		name string
		d    []time.Duration
	}{{"Prepare", prep}, {"Commit", commit}, {"Remove", remove}} {
		sort.Slice(m.d, func(i, j int) bool { return m.d[i] < m.d[j] })
		t.Logf("%-8s n=%d p50=%v p99=%v", m.name, len(m.d), m.d[len(m.d)/2], m.d[(len(m.d)*99)/100])
	}
}

// TestCleanup: containerd calls Cleanup after each garbage collection; through the gRPC API it
// succeeds (containerd's service answers Unimplemented for a snapshotter without one). It needs no
// pool: there is nothing for it to do (Snapshotter.Cleanup).
func TestCleanup(t *testing.T) {
	ctx := namespaces.WithNamespace(context.Background(), "cleanup")
	sock := filepath.Join(t.TempDir(), "snapshotter.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	snapshotsapi.RegisterSnapshotsServer(srv, snapshotservice.FromSnapshotter(&Snapshotter{}))
	go srv.Serve(l)
	defer srv.Stop()
	conn, err := grpc.Dial("unix://"+sock, grpc.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	sn := proxy.NewSnapshotter(snapshotsapi.NewSnapshotsClient(conn), "dmstore")
	if err := sn.(snapshots.Cleaner).Cleanup(ctx); err != nil {
		t.Fatalf("Cleanup: %v", err)
	}
}
