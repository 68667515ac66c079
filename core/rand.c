/*
 * Kernel randomness through getrandom(2). Also the mbedTLS hardware
 * entropy poll (MBEDTLS_ENTROPY_HARDWARE_ALT, see deps/mbedtls_config.h):
 * mbedTLS only uses getrandom() on glibc and would open /dev/random on
 * musl, which rescue images and chroots may not have.
 */
#include "core/rand.h"

#include <errno.h>
#include <sys/random.h>
#include <mbedtls/build_info.h>

#include "core/log.h"

int
ha_rand_bytes(void *p, size_t n)
{
	unsigned char *c = p;

	while (n) {
		ssize_t r = getrandom(c, n, 0);

		if (r == -1) {
			if (errno == EINTR)
				continue;
			ha_log_errno(HA_FAILURE, "getrandom");
			return -1;
		}
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

#if defined(MBEDTLS_ENTROPY_HARDWARE_ALT)
int mbedtls_hardware_poll(void *data, unsigned char *output, size_t len,
    size_t *olen);

int
mbedtls_hardware_poll(void *data, unsigned char *output, size_t len,
    size_t *olen)
{
	(void)data;
	if (ha_rand_bytes(output, len) == -1)
		return -1;
	*olen = len;
	return 0;
}
#endif
