/*
 * Test helper: mint node certificates that habox itself would never make
 * (expired, of another cluster, for an unknown node) with core/pki, to
 * show that peers refuse them.
 *
 *   pkitool CA.crt CA.key KEY CN OU NOT_BEFORE_DAYS NOT_AFTER_DAYS OUT
 *
 * Days are relative to now (negative: in the past).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/log.h"
#include "core/pki.h"
#include "core/state.h"

int
main(int argc, char **argv)
{
	struct ha_buf csr = { 0 }, crt = { 0 };
	time_t now = time(NULL);

	ha_log_init("pkitool", HA_LOG_STDERR);
	if (argc != 9) {
		fprintf(stderr, "usage: pkitool CA.crt CA.key KEY CN OU "
		    "NOT_BEFORE_DAYS NOT_AFTER_DAYS OUT\n");
		return 2;
	}
	if (ha_pki_csr(argv[3], argv[5], argv[4], &csr) == -1 ||
	    ha_pki_sign(argv[1], argv[2], argv[5], argv[4], (uint8_t *)csr.s,
	    csr.len, now + atol(argv[6]) * HA_DAY, now + atol(argv[7]) * HA_DAY,
	    &crt) == -1 ||
	    ha_file_write_atomic(argv[8], crt.s, crt.len, 0644) == -1)
		return 1;
	ha_buf_free(&csr);
	ha_buf_free(&crt);
	return 0;
}
