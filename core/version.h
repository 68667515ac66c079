/*
 * The program's version and the versions of the libraries linked in,
 * for --version and bug reports.
 */
#ifndef HA_VERSION_INFO_H
#define HA_VERSION_INFO_H

#include "core/util.h"

/* "habox 0.1.0 (abc123)\nmbedTLS 3.6.6, zlib 1.3.1, ..." into out. */
void ha_version_info(struct ha_buf *out);

#endif
