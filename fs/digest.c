// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "dms-util.h"
#include "fs/digest.h"

struct dms_digest {
	EVP_MD_CTX *ctx;
	const char *algorithm;
};

static const struct {
	const char *name;
	size_t hex;
} algorithms[] = {
	{ "sha256", 64 },
	{ "sha512", 128 },
};

/* The algorithm's index for "sha256" or "sha256:...", -1 if unknown. */
static int algorithm_of(const char *s, size_t *ret_prefix)
{
	for (size_t i = 0; i < DMS_ARRAY_SIZE(algorithms); i++) {
		size_t n = strlen(algorithms[i].name);

		if (strncmp(s, algorithms[i].name, n) == 0 && (s[n] == ':' || s[n] == '\0')) {
			*ret_prefix = n;
			return (int)i;
		}
	}
	return -1;
}

bool dms_digest_valid(const char *digest)
{
	size_t n;
	int a;

	if (!digest)
		return false;
	a = algorithm_of(digest, &n);
	if (a < 0 || digest[n] != ':')
		return false;
	digest += n + 1;
	if (strlen(digest) != algorithms[a].hex)
		return false;
	/* Lowercase only: the digest is a file name under blobs/, and one blob has one name. */
	return strspn(digest, "0123456789abcdef") == algorithms[a].hex;
}

int dms_digest_new(const char *digest, struct dms_digest **ret)
{
	struct dms_digest *d;
	const EVP_MD *md;
	size_t n;
	int a;

	a = algorithm_of(digest, &n);
	if (a < 0)
		return -EINVAL;
	md = EVP_get_digestbyname(algorithms[a].name);
	if (!md)
		return -EOPNOTSUPP;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->algorithm = algorithms[a].name;
	d->ctx = EVP_MD_CTX_new();
	if (!d->ctx || EVP_DigestInit_ex(d->ctx, md, NULL) != 1) {
		dms_digest_free(d);
		return -ENOMEM;
	}
	*ret = d;
	return 0;
}

void dms_digest_update(struct dms_digest *d, const void *buf, size_t len)
{
	/* EVP_DigestUpdate only fails for a context that was never initialised. */
	(void)EVP_DigestUpdate(d->ctx, buf, len);
}

int dms_digest_final(struct dms_digest *d, char *buf, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	size_t off;

	if (EVP_DigestFinal_ex(d->ctx, md, &n) != 1)
		return -EIO;
	off = strlen(d->algorithm) + 1;
	if (len < off + 2 * (size_t)n + 1)
		return -ENOBUFS;
	memcpy(buf, d->algorithm, off - 1);
	buf[off - 1] = ':';
	for (unsigned int i = 0; i < n; i++)
		snprintf(buf + off + 2 * i, 3, "%02x", md[i]);
	return 0;
}

void dms_digest_free(struct dms_digest *d)
{
	if (!d)
		return;
	EVP_MD_CTX_free(d->ctx);
	free(d);
}

int dms_digest_check(const char *want, const void *buf, size_t len)
{
	struct dms_digest *d = NULL;
	char got[DMS_DIGEST_MAX];
	int r;

	if (!dms_digest_valid(want))
		return -EINVAL;
	r = dms_digest_new(want, &d);
	if (r < 0)
		return r;
	dms_digest_update(d, buf, len);
	r = dms_digest_final(d, got, sizeof(got));
	dms_digest_free(d);
	if (r < 0)
		return r;
	return strcmp(got, want) == 0 ? 0 : -EBADMSG;
}
