// SPDX-License-Identifier: LGPL-2.1-or-later

package dmstore

/*
#include <stdlib.h>
#include "conf/config.h"
*/
import "C"

import (
	"syscall"
	"unsafe"
)

// Config is the snapshotter's share of dmstore.conf, read by the parser
// dmstore and dmstore-docker-plugin use (conf/config.c, linked in): the
// pool, image_size (the size of a layer without a parent, as it is an
// image's), and what it hands the library (min_free; mount_options, which
// apply to the mounts libdmstore makes: containerd mounts the layers).
type Config struct {
	c C.struct_config
}

// A ConfigError is a bad configuration: the file's line, or a bad value.
// Usage is false when the file could not be read for another reason than
// its absence (permissions, I/O).
type ConfigError struct {
	Msg   string
	Usage bool
}

func (e *ConfigError) Error() string { return e.Msg }

func configErr(r C.int, buf []C.char) error {
	return &ConfigError{
		Msg:   C.GoString(&buf[0]),
		Usage: r == -C.int(syscall.EINVAL) || r == -C.int(syscall.ENOENT),
	}
}

// LoadConfig reads PATH, else $DMSTORE_CONFIG, else /etc/dmstore/dmstore.conf
// (which alone may be missing), then $DMSTORE_POOL, which wins over the file.
func LoadConfig(path *string) (*Config, error) {
	cfg := &Config{}
	var buf [1024]C.char
	var cpath *C.char
	if path != nil {
		cpath = C.CString(*path)
		defer C.free(unsafe.Pointer(cpath))
	}
	C.config_init(&cfg.c)
	if r := C.config_load(&cfg.c, cpath, &buf[0], C.size_t(len(buf))); r < 0 {
		return nil, configErr(r, buf[:])
	}
	return cfg, nil
}

// SetPool sets the pool from --pool, which wins over the environment and the file.
func (cfg *Config) SetPool(name string) error {
	var buf [1024]C.char
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	if r := C.config_set(&cfg.c, C.CONFIG_POOL, cname, C.CONFIG_FLAG, 0, &buf[0], C.size_t(len(buf))); r < 0 {
		return configErr(r, buf[:])
	}
	return nil
}

// Pool is the pool to serve; "": the only pool there is.
func (cfg *Config) Pool() string {
	return C.GoString(&cfg.c.pool[0])
}

// ImageSize is the file's image_size, else libdmstore's default.
func (cfg *Config) ImageSize() uint64 {
	return uint64(cfg.c.image_size)
}

// apply hands CTX the library's settings (config_apply).
func (cfg *Config) apply(ctx *C.struct_dms_ctx) error {
	var buf [1024]C.char
	if r := C.config_apply(&cfg.c, ctx, &buf[0], C.size_t(len(buf))); r < 0 {
		return configErr(r, buf[:])
	}
	return nil
}
