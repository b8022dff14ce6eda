/* The outbox eventfd and the uplink's published report. */
#include "gateway/events.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

static atomic_int outbox_fd = -1;
static pthread_mutex_t report_lock = PTHREAD_MUTEX_INITIALIZER;
static struct uplink_report report;

int events_open(void)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fd < 0)
		return -errno;
	int old = atomic_exchange(&outbox_fd, fd);
	if (old >= 0)
		close(old);
	return 0;
}

void events_close(void)
{
	int fd = atomic_exchange(&outbox_fd, -1);
	if (fd >= 0)
		close(fd);
}

void events_outbox_changed(void)
{
	uint64_t one = 1;
	int fd = atomic_load(&outbox_fd);
	/* EAGAIN means the counter is saturated: the reader is due to wake anyway. */
	if (fd >= 0 && write(fd, &one, sizeof(one)) < 0)
		return;
}

int events_outbox_fd(void)
{
	return atomic_load(&outbox_fd);
}

void events_outbox_drain(void)
{
	uint64_t v;
	int fd = atomic_load(&outbox_fd);
	if (fd >= 0 && read(fd, &v, sizeof(v)) < 0)
		return;
}

void events_uplink_publish(const struct uplink_report *r)
{
	pthread_mutex_lock(&report_lock);
	report = *r;
	pthread_mutex_unlock(&report_lock);
}

void events_uplink_read(struct uplink_report *ret)
{
	pthread_mutex_lock(&report_lock);
	*ret = report;
	pthread_mutex_unlock(&report_lock);
}

const char *events_link_name(int link)
{
	switch (link) {
	case UPLINK_LINK_UNKNOWN: return "unknown";
	case UPLINK_LINK_UP: return "up";
	case UPLINK_LINK_DOWN: return "down";
	default: return "off";
	}
}
