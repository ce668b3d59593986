// SPDX-License-Identifier: LGPL-2.1-or-later

// Package dmstore is containerd's snapshotter on libdmstore: every call
// translates to one libdmstore call (cgo); all the storage logic, the
// key/parent graph and the labels live in libdmstore and its catalogue.
package dmstore

/*
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include "dmstore.h"

// The error of a failed call, read on the thread that made it (libdmstore keeps
// it per thread, and a goroutine may change threads between two cgo calls).
struct dms_go_err {
	int kind;
	char msg[DMS_ERROR_MAX];
};

static int dms_go_keep(struct dms_ctx *ctx, int r, struct dms_go_err *e)
{
	if (r < 0) {
		e->kind = dms_ctx_error_kind(ctx);
		snprintf(e->msg, sizeof(e->msg), "%s", dms_ctx_error(ctx));
	}
	return r;
}

static int dms_go_pool_open(struct dms_ctx *ctx, const char *name, struct dms_pool **ret, struct dms_go_err *e)
{
	return dms_go_keep(ctx, dms_pool_open(ctx, name, ret), e);
}

static int dms_go_prepare(struct dms_pool *p, int view, const char *key, const char *parent, const char *labels,
			  uint64_t size, struct dms_go_err *e)
{
	int r = view ? dms_layer_view(p, key, parent, labels, size, NULL) :
		       dms_layer_prepare(p, key, parent, labels, size, NULL);

	return dms_go_keep(dms_pool_ctx(p), r, e);
}

static int dms_go_mounts(struct dms_pool *p, const char *key, char **dev, bool *ro, struct dms_go_err *e)
{
	return dms_go_keep(dms_pool_ctx(p), dms_layer_mounts(p, key, dev, ro), e);
}

static int dms_go_commit(struct dms_pool *p, const char *name, const char *key, const char *labels,
			 struct dms_go_err *e)
{
	return dms_go_keep(dms_pool_ctx(p), dms_layer_commit(p, name, key, labels), e);
}

static int dms_go_remove(struct dms_pool *p, const char *key, struct dms_go_err *e)
{
	return dms_go_keep(dms_pool_ctx(p), dms_layer_remove(p, key), e);
}

static int dms_go_stat(struct dms_pool *p, const char *key, struct dms_layer **ret, struct dms_go_err *e)
{
	return dms_go_keep(dms_pool_ctx(p), dms_layer_stat(p, key, ret), e);
}

static int dms_go_update(struct dms_pool *p, const char *key, const char *labels, char **fields, size_t n,
			 struct dms_layer **ret, struct dms_go_err *e)
{
	return dms_go_keep(dms_pool_ctx(p), dms_layer_update(p, key, labels, (const char *const *)fields, n, ret), e);
}

static int dms_go_usage(struct dms_pool *p, const char *key, uint64_t *bytes, struct dms_go_err *e)
{
	return dms_go_keep(dms_pool_ctx(p), dms_layer_usage(p, key, bytes), e);
}

static int dms_go_list(struct dms_pool *p, struct dms_layer ***ret, size_t *n, struct dms_go_err *e)
{
	return dms_go_keep(dms_pool_ctx(p), dms_layer_list(p, ret, n), e);
}

static struct dms_layer *dms_go_layer_at(struct dms_layer **l, size_t i)
{
	return l[i];
}
*/
import "C"

import (
	"encoding/json"
	"fmt"
	"sync"
	"time"
	"unsafe"

	"github.com/containerd/containerd/errdefs"
	"github.com/containerd/containerd/snapshots"
)

// Store is an open pool. libdmstore serves one thread at a time per open
// pool (struct dms_pool): each call takes a handle of its own from a free
// list, so calls run concurrently, and their changes queue on the pool lock,
// which each change takes through a file of its own (flock), like two
// processes would.
type Store struct {
	name string
	ctx  *C.struct_dms_ctx

	mu      sync.Mutex
	free    []*C.struct_dms_pool
	closed  bool
	handles int
}

// An Error keeps libdmstore's message and kind.
type Error struct {
	Kind int
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

// Kinds (enum dms_error_kind).
const (
	kindFailed   = C.DMS_ERROR_FAILED
	kindInvalid  = C.DMS_ERROR_INVALID
	kindNotFound = C.DMS_ERROR_NOT_FOUND
	kindExists   = C.DMS_ERROR_EXISTS
)

// grpcErr maps a libdmstore failure to containerd's errdefs, which the
// snapshot service turns into gRPC codes. EXISTS means "taken" for calls
// that make a key, "in use" for those that need it free (Remove).
func grpcErr(err error, existsIsInUse bool) error {
	e, ok := err.(*Error)
	if !ok {
		return err
	}
	switch e.Kind {
	case kindInvalid:
		return fmt.Errorf("%s: %w", e.Msg, errdefs.ErrInvalidArgument)
	case kindNotFound:
		return fmt.Errorf("%s: %w", e.Msg, errdefs.ErrNotFound)
	case kindExists:
		if existsIsInUse {
			return fmt.Errorf("%s: %w", e.Msg, errdefs.ErrFailedPrecondition)
		}
		return fmt.Errorf("%s: %w", e.Msg, errdefs.ErrAlreadyExists)
	}
	return err
}

func newErr(e *C.struct_dms_go_err) error {
	return &Error{Kind: int(e.kind), Msg: C.GoString(&e.msg[0])}
}

// Open opens pool NAME ("": the only pool there is; the state and run dirs
// as libdmstore's defaults, or its environment says), with CFG's settings
// (nil: libdmstore's defaults).
func Open(name string, cfg *Config) (*Store, error) {
	s := &Store{name: name}
	if r := C.dms_ctx_new(&s.ctx); r < 0 {
		return nil, fmt.Errorf("dmstore: making a context failed: errno %d", -r)
	}
	if cfg != nil {
		if err := cfg.apply(s.ctx); err != nil {
			C.dms_ctx_free(s.ctx)
			return nil, err
		}
	}
	h, err := s.get()
	if err != nil {
		C.dms_ctx_free(s.ctx)
		return nil, err
	}
	// The next handles open the pool by its name, whichever was the only one.
	s.name = C.GoString(C.dms_pool_name(h))
	s.put(h)
	return s, nil
}

// Name is the pool's name.
func (s *Store) Name() string { return s.name }

func (s *Store) get() (*C.struct_dms_pool, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, fmt.Errorf("dmstore: pool '%s' is closed", s.name)
	}
	if n := len(s.free); n > 0 {
		h := s.free[n-1]
		s.free = s.free[:n-1]
		s.mu.Unlock()
		return h, nil
	}
	s.handles++
	s.mu.Unlock()

	var h *C.struct_dms_pool
	var e C.struct_dms_go_err
	var cname *C.char
	if s.name != "" {
		cname = C.CString(s.name)
		defer C.free(unsafe.Pointer(cname))
	}
	if C.dms_go_pool_open(s.ctx, cname, &h, &e) < 0 {
		s.mu.Lock()
		s.handles--
		s.mu.Unlock()
		return nil, newErr(&e)
	}
	return h, nil
}

func (s *Store) put(h *C.struct_dms_pool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		C.dms_pool_close(h)
		s.handles--
		return
	}
	s.free = append(s.free, h)
}

// Close closes the handles not in use now; those in use close when their call returns.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	for _, h := range s.free {
		C.dms_pool_close(h)
		s.handles--
	}
	s.free = nil
	return nil
}

// with runs fn on a handle of its own.
func (s *Store) with(fn func(h *C.struct_dms_pool, e *C.struct_dms_go_err) C.int) error {
	h, err := s.get()
	if err != nil {
		return err
	}
	defer s.put(h)
	var e C.struct_dms_go_err
	if fn(h, &e) < 0 {
		return newErr(&e)
	}
	return nil
}

func labelsJSON(labels map[string]string) (*C.char, error) {
	if labels == nil {
		labels = map[string]string{}
	}
	b, err := json.Marshal(labels)
	if err != nil {
		return nil, err
	}
	return C.CString(string(b)), nil
}

func nsTime(ns C.int64_t) time.Time {
	return time.Unix(0, int64(ns)).UTC()
}

func infoOf(l *C.struct_dms_layer) (snapshots.Info, error) {
	info := snapshots.Info{
		Kind:    snapshots.Kind(C.dms_layer_kind(l)),
		Name:    C.GoString(C.dms_layer_key(l)),
		Parent:  C.GoString(C.dms_layer_parent(l)),
		Created: nsTime(C.dms_layer_created(l)),
		Updated: nsTime(C.dms_layer_updated(l)),
	}
	var labels map[string]string
	if err := json.Unmarshal([]byte(C.GoString(C.dms_layer_labels(l))), &labels); err != nil {
		return info, err
	}
	if len(labels) > 0 {
		info.Labels = labels
	}
	return info, nil
}

// Make prepares (or, VIEW, views) KEY on PARENT ("": a new device of SIZE bytes).
func (s *Store) Make(view bool, key, parent string, labels map[string]string, size uint64) error {
	ckey, cparent := C.CString(key), C.CString(parent)
	defer C.free(unsafe.Pointer(ckey))
	defer C.free(unsafe.Pointer(cparent))
	clabels, err := labelsJSON(labels)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(clabels))
	v := C.int(0)
	if view {
		v = 1
	}
	return s.with(func(h *C.struct_dms_pool, e *C.struct_dms_go_err) C.int {
		return C.dms_go_prepare(h, v, ckey, cparent, clabels, C.uint64_t(size), e)
	})
}

// Mounts says which device holds KEY, and whether it is read-only.
func (s *Store) Mounts(key string) (string, bool, error) {
	ckey := C.CString(key)
	defer C.free(unsafe.Pointer(ckey))
	var dev *C.char
	var ro C.bool
	err := s.with(func(h *C.struct_dms_pool, e *C.struct_dms_go_err) C.int {
		return C.dms_go_mounts(h, ckey, &dev, &ro, e)
	})
	if err != nil {
		return "", false, err
	}
	defer C.free(unsafe.Pointer(dev))
	return C.GoString(dev), bool(ro), nil
}

func (s *Store) Commit(name, key string, labels map[string]string) error {
	cname, ckey := C.CString(name), C.CString(key)
	defer C.free(unsafe.Pointer(cname))
	defer C.free(unsafe.Pointer(ckey))
	clabels, err := labelsJSON(labels)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(clabels))
	return s.with(func(h *C.struct_dms_pool, e *C.struct_dms_go_err) C.int {
		return C.dms_go_commit(h, cname, ckey, clabels, e)
	})
}

func (s *Store) Remove(key string) error {
	ckey := C.CString(key)
	defer C.free(unsafe.Pointer(ckey))
	return s.with(func(h *C.struct_dms_pool, e *C.struct_dms_go_err) C.int {
		return C.dms_go_remove(h, ckey, e)
	})
}

func (s *Store) Stat(key string) (snapshots.Info, error) {
	ckey := C.CString(key)
	defer C.free(unsafe.Pointer(ckey))
	var l *C.struct_dms_layer
	if err := s.with(func(h *C.struct_dms_pool, e *C.struct_dms_go_err) C.int {
		return C.dms_go_stat(h, ckey, &l, e)
	}); err != nil {
		return snapshots.Info{}, err
	}
	defer C.dms_layer_free(l)
	return infoOf(l)
}

func (s *Store) Update(key string, labels map[string]string, fields []string) (snapshots.Info, error) {
	ckey := C.CString(key)
	defer C.free(unsafe.Pointer(ckey))
	clabels, err := labelsJSON(labels)
	if err != nil {
		return snapshots.Info{}, err
	}
	defer C.free(unsafe.Pointer(clabels))
	cfields := C.malloc(C.size_t(len(fields)+1) * C.size_t(unsafe.Sizeof(uintptr(0))))
	defer C.free(cfields)
	arr := (*[1 << 20]*C.char)(cfields)[: len(fields)+1 : len(fields)+1]
	for i, f := range fields {
		arr[i] = C.CString(f)
		defer C.free(unsafe.Pointer(arr[i]))
	}
	var l *C.struct_dms_layer
	if err := s.with(func(h *C.struct_dms_pool, e *C.struct_dms_go_err) C.int {
		return C.dms_go_update(h, ckey, clabels, (**C.char)(cfields), C.size_t(len(fields)), &l, e)
	}); err != nil {
		return snapshots.Info{}, err
	}
	defer C.dms_layer_free(l)
	return infoOf(l)
}

func (s *Store) Usage(key string) (int64, error) {
	ckey := C.CString(key)
	defer C.free(unsafe.Pointer(ckey))
	var bytes C.uint64_t
	err := s.with(func(h *C.struct_dms_pool, e *C.struct_dms_go_err) C.int {
		return C.dms_go_usage(h, ckey, &bytes, e)
	})
	return int64(bytes), err
}

// List reads every layer, then returns: a walk's callback may call the store again.
func (s *Store) List() ([]snapshots.Info, error) {
	var ls **C.struct_dms_layer
	var n C.size_t
	if err := s.with(func(h *C.struct_dms_pool, e *C.struct_dms_go_err) C.int {
		return C.dms_go_list(h, &ls, &n, e)
	}); err != nil {
		return nil, err
	}
	defer C.dms_layer_list_free(ls, n)
	infos := make([]snapshots.Info, 0, int(n))
	for i := C.size_t(0); i < n; i++ {
		info, err := infoOf(C.dms_go_layer_at(ls, i))
		if err != nil {
			return nil, err
		}
		infos = append(infos, info)
	}
	return infos, nil
}

// ParseSize reads a size as dmstore does ("10G", "512MiB").
func ParseSize(s string) (uint64, error) {
	cs := C.CString(s)
	defer C.free(unsafe.Pointer(cs))
	var n C.uint64_t
	if r := C.dms_size_parse(cs, &n); r < 0 {
		return 0, fmt.Errorf("invalid size '%s'", s)
	}
	return uint64(n), nil
}

// DevmapperQuiet drops libdevmapper's own log lines (dms_devmapper_quiet):
// the program's to call, once, before serving.
func DevmapperQuiet() {
	C.dms_devmapper_quiet()
}
