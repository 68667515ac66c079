/*
 * Randomness from the kernel (getrandom(2)), for keys, tokens and the
 * mbedTLS entropy source: works where /dev is missing (rescue images).
 */
#ifndef HA_RAND_H
#define HA_RAND_H

#include <stddef.h>

/* Fill p with n random bytes; 0, or -1 (logged) when the kernel refuses. */
int ha_rand_bytes(void *p, size_t n);

#endif
