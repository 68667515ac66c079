/*
 * Version report: ours and the libraries' as they were linked (libpq only
 * when haprom is built in, CONFIG_HAPROM).
 */
#include "core/version.h"

#include <mbedtls/build_info.h>
#include <zlib.h>
#include <zstd.h>

#include "ha_kconfig.h"
#include "ha_version.h"

#if CONFIG_HAPROM
#include <libpq-fe.h>
#endif

void
ha_version_info(struct ha_buf *out)
{
	ha_buf_printf(out, "habox %s\nlibraries: mbedTLS %s, zlib %s, zstd %s, "
	    "inih", HA_VERSION, MBEDTLS_VERSION_STRING, zlibVersion(),
	    ZSTD_versionString());
#if CONFIG_HAPROM
	ha_buf_printf(out, ", libpq %d.%d", PQlibVersion() / 10000,
	    PQlibVersion() % 10000);
#endif
	ha_buf_puts(out, "\n");
}
