// SPDX-License-Identifier: GPL-2.0
/*
 * Guest side of the snapshot scenario: the four kinds of SysGenId user,
 * each in its own thread, waiting for the next generation.
 *
 *   reader        blocks in read(), then draws 32 bytes from getrandom()
 *                 and acknowledges;
 *   poller        waits in epoll_wait(), then acknowledges;
 *   mapper        spins on the mapped page, then acknowledges;
 *   orchestrator  not a watcher itself: first waits for the new generation
 *                 in read(), then for the three watchers with
 *                 SYSGENID_WAIT_WATCHERS, and acknowledges.
 *
 * usage: sysgenid-watchers [-a]
 *
 * With -a the orchestrator is an agent that its control plane tells about a
 * restore: it starts each round only on SIGUSR1, which the guest's init
 * sends when the host asks.
 *
 * A file is a watcher only once it opts in with SYSGENID_SET_WATCHER_TRACKING
 * (1): the reader, the poller and the mapper do so right after open(), before
 * "ready", so that the orchestrator's wait counts them.
 *
 * Every line goes to the console with a "watchers:" prefix; the host script
 * (scripts/snapshot.py) reads them.  After reporting, each thread waits
 * for the next generation again, so one boot serves several restores.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>

#include <linux/sysgenid.h>

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	flockfile(stdout);
	fputs("watchers: ", stdout);
	vprintf(fmt, ap);
	fputc('\n', stdout);
	fflush(stdout);
	funlockfile(stdout);
	va_end(ap);
}

static int open_dev(int flags)
{
	int fd = open("/dev/sysgenid", flags | O_CLOEXEC);

	if (fd < 0) {
		say("open failed: %s", strerror(errno));
		_exit(1);
	}
	return fd;
}

/* Opens a file and makes it a watcher. */
static int open_watcher(const char *who)
{
	int fd = open_dev(O_RDWR);

	if (ioctl(fd, SYSGENID_SET_WATCHER_TRACKING, 1) != 0) {
		say("%s: tracking failed: %s", who, strerror(errno));
		_exit(1);
	}
	return fd;
}

static void acknowledge(const char *who, int fd, uint32_t gen)
{
	if (write(fd, &gen, sizeof(gen)) != sizeof(gen))
		say("%s ack %u failed: %s", who, gen, strerror(errno));
}

/*
 * How many times the kernel has logged that it reseeded its RNG for a
 * virtual machine fork (add_vmfork_randomness()), from /dev/kmsg.
 */
static int vmfork_reseeds(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	char record[1024];
	int count = 0;
	ssize_t n;

	if (fd < 0)
		return -1;
	while ((n = read(fd, record, sizeof(record) - 1)) > 0 || (n < 0 && errno == EPIPE)) {
		if (n <= 0)
			continue;
		record[n] = 0;
		if (strstr(record, "crng reseeded due to virtual machine fork"))
			count++;
	}
	close(fd);
	return count;
}

static void *reader(void *arg)
{
	int fd = open_watcher("reader");
	unsigned char random[32];
	char hex[2 * sizeof(random) + 1];
	cpu_set_t cpu0;
	uint32_t gen;
	size_t i;

	/*
	 * Always on CPU 0, so that two clones can differ only through the
	 * reseed, not through drawing from different per-CPU RNG state.
	 */
	CPU_ZERO(&cpu0);
	CPU_SET(0, &cpu0);
	if (sched_setaffinity(0, sizeof(cpu0), &cpu0))
		say("reader: sched_setaffinity failed: %s", strerror(errno));

	for (;;) {
		if (read(fd, &gen, sizeof(gen)) != sizeof(gen))
			continue;
		if (getrandom(random, sizeof(random), 0) != sizeof(random))
			say("getrandom failed: %s", strerror(errno));
		for (i = 0; i < sizeof(random); i++)
			sprintf(hex + 2 * i, "%02x", random[i]);
		/* By now the kernel must have reseeded: it does so before the bump. */
		say("reader woke gen=%u random=%s reseeds=%d", gen, hex, vmfork_reseeds());
		acknowledge("reader", fd, gen);
	}
	return arg;
}

static void *poller(void *arg)
{
	int fd = open_watcher("poller"), ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN };
	uint32_t gen;

	epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	for (;;) {
		if (epoll_wait(ep, &ev, 1, -1) != 1)
			continue;
		if (read(fd, &gen, sizeof(gen)) != sizeof(gen))
			continue;
		say("poller woke gen=%u", gen);
		acknowledge("poller", fd, gen);
	}
	return arg;
}

static void *mapper(void *arg)
{
	int fd = open_watcher("mapper");
	const volatile uint32_t *page = mmap(NULL, getpagesize(), PROT_READ,
					     MAP_SHARED, fd, 0);
	uint32_t seen = page[0], now;

	for (;;) {
		now = __atomic_load_n(page, __ATOMIC_ACQUIRE);
		if (now == seen) {
			usleep(1000);
			continue;
		}
		seen = now;
		say("mapper saw gen=%u", now);
		acknowledge("mapper", fd, now);
	}
	return arg;
}

/* -a: SIGUSR1, blocked in every thread, which the orchestrator takes with sigwait(). */
static int agent;
static sigset_t restored;

/*
 * The two steps that Documentation/misc-devices/sysgenid.rst gives a control
 * plane after a restore.  Step 1, a blocking read() on a file opened before
 * the snapshot, returns once the kernel has handled the restore; without it,
 * an agent told about the restore before the notification was handled would
 * wait in step 2 for watchers that are all up to date with the old
 * generation, and go ahead at once.  The file has write access but does not
 * opt in, so it is not a watcher; it acknowledges so that the next read()
 * sleeps until the next generation.
 */
static void *orchestrator(void *arg)
{
	int fd = open_dev(O_RDWR), sig;
	uint32_t gen;
	long outdated;
	int ret;

	for (;;) {
		if (agent && sigwait(&restored, &sig))
			continue;
		/* 1. The new generation. */
		if (read(fd, &gen, sizeof(gen)) != sizeof(gen))
			continue;
		/* 2. Its watchers. */
		ret = ioctl(fd, SYSGENID_WAIT_WATCHERS, 20000);
		outdated = ioctl(fd, SYSGENID_GET_OUTDATED_WATCHERS, 0);
		say("orchestrator gen=%u wait=%d errno=%d outdated=%ld",
		    gen, ret, ret ? errno : 0, outdated);
		acknowledge("orchestrator", fd, gen);
	}
	return arg;
}

int main(int argc, char **argv)
{
	void *(*roles[])(void *) = { reader, poller, mapper, orchestrator };
	const volatile uint32_t *page;
	pthread_t threads[4];
	int fd, i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	agent = argc > 1 && !strcmp(argv[1], "-a");
	sigemptyset(&restored);
	sigaddset(&restored, SIGUSR1);
	if (agent)
		pthread_sigmask(SIG_BLOCK, &restored, NULL);
	/*
	 * Wait until the kernel RNG is initialised: only then does a virtual
	 * machine fork reseed it (and log that it did).
	 */
	{
		char seed[16];

		if (getrandom(seed, sizeof(seed), 0) != sizeof(seed))
			say("getrandom failed: %s", strerror(errno));
	}
	for (i = 0; i < 4; i++)
		pthread_create(&threads[i], NULL, roles[i], NULL);
	/* Let every thread open its file and go to sleep before "ready". */
	sleep(1);
	fd = open_dev(O_RDONLY);
	page = mmap(NULL, getpagesize(), PROT_READ, MAP_SHARED, fd, 0);
	say("ready gen=%u reseeds=%d", page[0], vmfork_reseeds());
	pthread_join(threads[0], NULL);
	return 0;
}
