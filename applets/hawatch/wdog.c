/*
 * watchdog = DEVICE (DESIGN.md "Election, leases and fencing"): armed
 * when this node starts taking over, fed on every lease renewal while the
 * lease holds, disarmed (the magic 'V', then close) once everything is
 * handed back. A leader whose hawatch hangs or is frozen stops feeding it
 * and the machine is reset about a lease later, before a successor's lease
 * can start. A follower never holds the device open.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "ha_kconfig.h"
#if CONFIG_HA_WATCHDOG
#include <linux/watchdog.h>
#include <sys/ioctl.h>
#endif

#include "applets/hawatch/hawatch.h"
#include "core/log.h"

void
hw_wd_arm(struct hw *h)
{
#if CONFIG_HA_WATCHDOG
	const char *dev = h->cfg->cluster->watchdog;
	int secs;

	if (!dev || h->wd_fd >= 0)
		return;
	/* O_NONBLOCK: a device that is not there must not stop us. */
	if ((h->wd_fd = open(dev, O_WRONLY | O_NONBLOCK | O_CLOEXEC)) == -1) {
		ha_log(HA_WARNING, "watchdog %s: %s: leading without it", dev,
		    strerror(errno));
		return;
	}
	/* The lease in whole seconds, rounded up: the reset comes before
	 * another node's lease can start. */
	secs = (int)((h->cfg->cluster->lease_ms + 999) / 1000);
	if (secs < 1)
		secs = 1;
	if (ioctl(h->wd_fd, WDIOC_SETTIMEOUT, &secs) == -1 && errno != ENOTTY)
		ha_log(HA_WARNING, "watchdog %s: cannot set a %d s timeout: %s",
		    dev, secs, strerror(errno));
	ha_log(HA_INFO, "watchdog %s armed (%d s)", dev, secs);
	hw_wd_feed(h);
#else
	(void)h;
#endif
}

void
hw_wd_feed(struct hw *h)
{
	if (h->wd_fd >= 0 && write(h->wd_fd, "\0", 1) != 1)
		ha_log(HA_WARNING, "watchdog: feeding failed: %s",
		    strerror(errno));
}

void
hw_wd_disarm(struct hw *h)
{
	if (h->wd_fd < 0)
		return;
	/* The magic close: the driver stops the timer instead of firing. */
	if (write(h->wd_fd, "V", 1) != 1)
		ha_log(HA_WARNING, "watchdog: the magic close failed (%s): "
		    "the machine may be reset", strerror(errno));
	close(h->wd_fd);
	h->wd_fd = -1;
	ha_log(HA_INFO, "watchdog %s disarmed", h->cfg->cluster->watchdog);
}
