/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef DMS_FS_DIGEST_H
#define DMS_FS_DIGEST_H

/*
 * Content digests as OCI images name blobs: "<algorithm>:<lowercase hex>", sha256
 * (64 hex digits) or sha512 (128). The hashing is OpenSSL's (EVP); this file only
 * spells and compares the names.
 */

#include <stdbool.h>
#include <stddef.h>

/* "sha512:" and 128 hex digits, and a NUL. */
#define DMS_DIGEST_MAX 136

/* Well-formed and of an algorithm we can compute; nothing else is ever used in a path. */
bool dms_digest_valid(const char *digest);

struct dms_digest;

/* A running hash of the algorithm DIGEST names ("sha256:..."), or ALGORITHM itself ("sha256"). */
int dms_digest_new(const char *digest, struct dms_digest **ret);
void dms_digest_update(struct dms_digest *d, const void *buf, size_t len);
/* "<algorithm>:<hex>" into BUF (DMS_DIGEST_MAX); the hash cannot be updated after. */
int dms_digest_final(struct dms_digest *d, char *buf, size_t len);
void dms_digest_free(struct dms_digest *d);

/* 0 when BUF hashes to WANT; -EBADMSG when not; -EINVAL when WANT is malformed. */
int dms_digest_check(const char *want, const void *buf, size_t len);

#endif
