// SPDX-License-Identifier: LGPL-2.1-or-later

package dmstore

import (
	"context"
	"strings"

	"github.com/containerd/containerd/filters"
	"github.com/containerd/containerd/mount"
	"github.com/containerd/containerd/snapshots"
)

// Snapshotter is containerd's snapshots.Snapshotter on a dmstore pool.
type Snapshotter struct {
	store    *Store
	baseSize uint64
}

var _ snapshots.Snapshotter = (*Snapshotter)(nil)

// New serves pool NAME ("": the only pool there is) with CFG's settings (nil:
// libdmstore's defaults); a layer without a parent is a device of BASESIZE
// bytes (0: libdmstore's default).
func New(name string, baseSize uint64, cfg *Config) (*Snapshotter, error) {
	st, err := Open(name, cfg)
	if err != nil {
		return nil, err
	}
	return &Snapshotter{store: st, baseSize: baseSize}, nil
}

// Pool is the name of the pool served.
func (s *Snapshotter) Pool() string { return s.store.Name() }

func options(opts []snapshots.Opt) (snapshots.Info, error) {
	var info snapshots.Info
	for _, o := range opts {
		if err := o(&info); err != nil {
			return info, err
		}
	}
	return info, nil
}

func (s *Snapshotter) mounts(key string) ([]mount.Mount, error) {
	dev, ro, err := s.store.Mounts(key)
	if err != nil {
		return nil, grpcErr(err, false)
	}
	opt := "rw"
	if ro {
		opt = "ro"
	}
	return []mount.Mount{{Type: "ext4", Source: dev, Options: []string{opt}}}, nil
}

func (s *Snapshotter) make(view bool, key, parent string, opts []snapshots.Opt) ([]mount.Mount, error) {
	info, err := options(opts)
	if err != nil {
		return nil, err
	}
	if err := s.store.Make(view, key, parent, info.Labels, s.baseSize); err != nil {
		return nil, grpcErr(err, false)
	}
	return s.mounts(key)
}

func (s *Snapshotter) Prepare(ctx context.Context, key, parent string, opts ...snapshots.Opt) ([]mount.Mount, error) {
	return s.make(false, key, parent, opts)
}

func (s *Snapshotter) View(ctx context.Context, key, parent string, opts ...snapshots.Opt) ([]mount.Mount, error) {
	return s.make(true, key, parent, opts)
}

func (s *Snapshotter) Mounts(ctx context.Context, key string) ([]mount.Mount, error) {
	return s.mounts(key)
}

func (s *Snapshotter) Commit(ctx context.Context, name, key string, opts ...snapshots.Opt) error {
	info, err := options(opts)
	if err != nil {
		return err
	}
	return grpcErr(s.store.Commit(name, key, info.Labels), false)
}

func (s *Snapshotter) Remove(ctx context.Context, key string) error {
	return grpcErr(s.store.Remove(key), true)
}

func (s *Snapshotter) Stat(ctx context.Context, key string) (snapshots.Info, error) {
	info, err := s.store.Stat(key)
	return info, grpcErr(err, false)
}

func (s *Snapshotter) Update(ctx context.Context, info snapshots.Info, fieldpaths ...string) (snapshots.Info, error) {
	out, err := s.store.Update(info.Name, info.Labels, fieldpaths)
	return out, grpcErr(err, false)
}

func (s *Snapshotter) Usage(ctx context.Context, key string) (snapshots.Usage, error) {
	size, err := s.store.Usage(key)
	if err != nil {
		return snapshots.Usage{}, grpcErr(err, false)
	}
	return snapshots.Usage{Size: size}, nil
}

// adapt gives containerd's filters the fields its own snapshotters do (snapshots/storage):
// kind ("active", "view", "committed"), name, parent, labels.
func adapt(info snapshots.Info) filters.Adaptor {
	return filters.AdapterFunc(func(fieldpath []string) (string, bool) {
		if len(fieldpath) == 0 {
			return "", false
		}
		switch fieldpath[0] {
		case "kind":
			return strings.ToLower(info.Kind.String()), true
		case "name":
			return info.Name, true
		case "parent":
			return info.Parent, true
		case "labels":
			if len(info.Labels) == 0 {
				return "", false
			}
			v, ok := info.Labels[strings.Join(fieldpath[1:], ".")]
			return v, ok
		}
		return "", false
	})
}

func (s *Snapshotter) Walk(ctx context.Context, fn snapshots.WalkFunc, fs ...string) error {
	filter, err := filters.ParseAll(fs...)
	if err != nil {
		return err
	}
	infos, err := s.store.List()
	if err != nil {
		return grpcErr(err, false)
	}
	for _, info := range infos {
		if !filter.Match(adapt(info)) {
			continue
		}
		if err := fn(ctx, info); err != nil {
			return err
		}
	}
	return nil
}

// Cleanup is containerd's snapshots.Cleaner, called after each garbage collection to reclaim
// what removals left behind. dmstore leaves nothing: Remove deletes the thin device and the row in
// one transaction of the catalogue, and what a crash interrupts is an intent that recovery (run
// before any change to the pool) finishes or undoes. So there is nothing to do.
func (s *Snapshotter) Cleanup(ctx context.Context) error {
	return nil
}

var _ snapshots.Cleaner = (*Snapshotter)(nil)

func (s *Snapshotter) Close() error {
	return s.store.Close()
}
