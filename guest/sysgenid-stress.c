// SPDX-License-Identifier: GPL-2.0
/*
 * sysgenid-stress: random concurrent use of /dev/sysgenid while other
 * threads force new generations, checking from userspace what must hold
 * whatever the interleaving.
 *
 * usage: sysgenid-stress [-t SECONDS] [-s SEED] [-j WORKERS] [-b BUMPERS] [-w N]
 *        sysgenid-stress --storm [-t SECONDS] [-s SEED] [-j WORKERS] [-u DEVICE] [-w N]
 *        sysgenid-stress --inject [-u DEVICE]
 *
 * The stress run prints its seed first; the same seed gives the same choices
 * in each thread (not the same interleaving).  Invariants checked:
 *  - a read() never returns the generation its fd acknowledged last, by a
 *    write() or, on an fd without write access, by its previous read;
 *  - the mmap page never goes backwards, and a read() never returns a
 *    generation older than the page showed before the call (the page is
 *    stored last in a bump, so it may still lag behind what a read that
 *    takes no lock returns, never run ahead of it);
 *  - SYSGENID_GET_OUTDATED_WATCHERS never exceeds the watcher fds open;
 *  - an fd is a watcher (fdinfo) exactly when it opted in: opening it with
 *    write access does not make it one, and without write access (O_RDONLY,
 *    or an access mode of 3) it cannot opt in;
 *  - SYSGENID_WAIT_WATCHERS never returns 0 on a watcher fd known to be
 *    outdated, fails with EDEADLK only on a watcher fd (which a bump can
 *    outdate), and with EINTR only when a signal interrupted it;
 *  - a read that must not wait (O_NONBLOCK, or preadv2() with RWF_NOWAIT)
 *    never blocks: on an up-to-date fd it fails with EAGAIN;
 *  - every call fails only with the error the ABI gives for its arguments;
 *  - at the end, with every file closed, no watcher is counted as outdated,
 *    before and after one more bump.
 *
 * --storm is one clone of a restore storm: the same workers, no bumper.  It
 * waits until the generation moves (the host restored the snapshot it was
 * saved in), then runs SECONDS more, unbinding and binding the VM generation
 * ID driver from DEVICE in a loop meanwhile if -u names one ("teardown under
 * fire").  Besides the invariants above, the generation must have moved
 * exactly once, by one, and every worker must return.
 *
 * In either mode, -w N counts the watchers that other processes hold (the
 * watchers program beside it) in the bound of the outdated count; they
 * acknowledge on their own, so at the end SYSGENID_WAIT_WATCHERS must return
 * 0 rather than the count be 0.
 *
 * --inject makes the kernel's allocations fail (failslab, fail_page_alloc,
 * this thread only) at every point of open() and mmap() in turn: each call
 * either works or fails with ENOMEM, and the watcher count stays right.
 * With -u, the same for binding the VM generation ID driver to DEVICE: each
 * probe either binds or fails, leaving the device unbound, and a later bind
 * works.
 *
 * Exit status 0 when every check held; the last line says what ran.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <linux/sysgenid.h>

#define DEV "/dev/sysgenid"
#define PAGE 4096
#define SLOTS 6
#define MAPS 3
#define UNKNOWN UINT64_MAX
/* The same choices in every run unless -s asks for others. */
#define DEFAULT_SEED 20261125

static atomic_long ops, bumps, violations, eintr, changes, cycles;
/* Signals this thread received: tells a signal's EINTR from the driver's. */
static __thread long signals;
static atomic_int stop;
/* Upper bound of the watcher fds open: raised before, lowered after. */
static atomic_long watchers_bound, watchers_lowered;
/* Watchers other processes hold (--storm -w). */
static long foreign_watchers;
static const volatile uint32_t *page;	/* the process's own view of the page */

static void violation(const char *fmt, ...)
{
	va_list ap;

	if (atomic_fetch_add(&violations, 1) >= 20)
		return;
	va_start(ap, fmt);
	fprintf(stdout, "stress: VIOLATION: ");
	vfprintf(stdout, fmt, ap);
	fprintf(stdout, "\n");
	fflush(stdout);
	va_end(ap);
}

static uint32_t page_gen(void)
{
	return __atomic_load_n(page, __ATOMIC_ACQUIRE);
}

/* xorshift64*: a fixed seed gives each thread the same choices. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

static unsigned int pick(uint64_t *s, unsigned int n)
{
	return rnd(s) % n;
}

/* Expect call result r (with errno) to be one of the allowed outcomes. */
static void expect_errno(const char *what, long r, int e, int ok1, int ok2)
{
	if (r >= 0)
		return;
	if (e == ok1 || e == ok2 || e == EINTR)
		return;
	violation("%s: unexpected error %s", what, strerror(e));
}

/*
 * A per-thread timer that interrupts a blocking call.  It repeats until it is
 * disarmed: a signal that lands before the call has started (a slow guest
 * may take longer than the delay to get there) would otherwise be the only
 * one, and a wait that nothing else ends would never return.
 */
static void on_signal(int sig)
{
	(void)sig;
	signals++;
	atomic_fetch_add(&eintr, 1);
}

static timer_t thread_timer(void)
{
	struct sigevent sev = { 0 };
	timer_t t;

	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = SIGUSR1;
	sev._sigev_un._tid = gettid();
	if (timer_create(CLOCK_MONOTONIC, &sev, &t) != 0) {
		perror("timer_create");
		exit(2);
	}
	return t;
}

static void arm(timer_t t, long usec)
{
	struct timespec every = { usec / 1000000, (usec % 1000000) * 1000 };
	struct itimerspec its = { .it_value = every, .it_interval = every };

	timer_settime(t, 0, &its, NULL);
}

static void disarm(timer_t t)
{
	arm(t, 0);
}

/* An access mode of 3 gives the file neither read nor write access. */
#define O_NOACCESS 3

struct slot {
	int fd;		/* -1: empty */
	int acc;	/* O_ACCMODE */
	int tracked;	/* opted in as a watcher */
	uint64_t acked;	/* generation this fd acknowledged last, or UNKNOWN */
	uint32_t seen;	/* last generation a read on it returned */
	int seen_valid;
};

struct worker {
	pthread_t thread;
	uint64_t seed;
	struct slot s[SLOTS];
	void *map[MAPS];
	timer_t timer;
};

static int can_read(int acc)
{
	return acc == O_RDONLY || acc == O_RDWR;
}

/* What acknowledging and opting in need: FMODE_WRITE, not just O_ACCMODE != O_RDONLY. */
static int can_write(int acc)
{
	return acc == O_WRONLY || acc == O_RDWR;
}

/* A new fd is never a watcher, whatever its access mode. */
static void slot_open(struct worker *w, struct slot *sl)
{
	static const int acc[] = { O_RDONLY, O_RDWR, O_WRONLY, O_RDWR, O_NOACCESS };
	int flags = acc[pick(&w->seed, 5)] | (pick(&w->seed, 2) ? O_NONBLOCK : 0);

	sl->fd = open(DEV, flags | O_CLOEXEC);
	if (sl->fd < 0) {
		violation("open(%#x): %s", flags, strerror(errno));
		return;
	}
	sl->acc = flags & O_ACCMODE;
	sl->tracked = 0;
	sl->acked = UNKNOWN;
	sl->seen_valid = 0;
}

static void slot_close(struct slot *sl)
{
	close(sl->fd);
	sl->fd = -1;
	if (sl->tracked) {
		atomic_fetch_sub(&watchers_bound, 1);
		atomic_fetch_add(&watchers_lowered, 1);
	}
}

static void op_read(struct worker *w, struct slot *sl)
{
	static const size_t sizes[] = { 0, 1, 3, 4, 4, 8, PAGE };
	size_t n = sizes[pick(&w->seed, 7)];
	int nonblock = fcntl(sl->fd, F_GETFL) & O_NONBLOCK;
	int nowait = pick(&w->seed, 4) == 0;	/* preadv2() with RWF_NOWAIT */
	int blocking = !nonblock && !nowait;
	uint32_t before, after, buf[PAGE / 4];
	struct iovec iov = { .iov_base = buf, .iov_len = n };
	long r;
	int e;

	/* Armed for RWF_NOWAIT too: a read that blocks when it must not ends as EINTR. */
	if (!nonblock)
		arm(w->timer, 200 + pick(&w->seed, 5000));
	before = page_gen();
	r = nowait ? preadv2(sl->fd, &iov, 1, -1, RWF_NOWAIT) : read(sl->fd, buf, n);
	e = errno;
	after = page_gen();
	disarm(w->timer);
	if (!can_read(sl->acc)) {
		if (r != -1 || e != EBADF)
			violation("read on an fd without read access (mode %d): %ld", sl->acc, r);
		return;
	}
	if (n == 0 || n < 4) {
		if (n == 0 ? r != 0 : (r != -1 || e != EINVAL))
			violation("read of %zu bytes: %ld (%s)", n, r, strerror(e));
		return;
	}
	if (r < 0) {
		if (blocking ? e != EINTR : e != EAGAIN)
			violation("%s: %s", nowait ? "RWF_NOWAIT read" : "read", strerror(e));
		return;
	}
	if (r != 4) {
		violation("read returned %ld", r);
		return;
	}
	if (sl->acked != UNKNOWN && buf[0] == sl->acked)
		violation("read returned the acknowledged generation %u", buf[0]);
	if (before > buf[0])
		violation("page %u before a read of %u (after: %u)", before, buf[0], after);
	sl->seen = buf[0];
	sl->seen_valid = 1;
	/* Without write access, the read was the acknowledgment. */
	if (!can_write(sl->acc))
		sl->acked = buf[0];
}

static void op_write(struct worker *w, struct slot *sl)
{
	uint32_t v = sl->seen_valid ? sl->seen : page_gen();
	unsigned int kind = pick(&w->seed, 6);
	char big[8] = { 0 };
	long r;
	int e;

	switch (kind) {
	case 0:		/* a value that is not the generation */
		v += 1000000000u;
		r = write(sl->fd, &v, 4);
		break;
	case 1:		/* wrong sizes */
		memcpy(big, &v, 4);
		r = write(sl->fd, big, pick(&w->seed, 2) ? 3 : 8);
		break;
	case 2:		/* a NULL buffer */
		r = syscall(SYS_write, sl->fd, NULL, 4);
		break;
	default:
		r = write(sl->fd, &v, 4);
		break;
	}
	e = errno;
	if (!can_write(sl->acc)) {
		if (r != -1 || e != EBADF)
			violation("write on an fd without write access (mode %d): %ld", sl->acc, r);
		return;
	}
	switch (kind) {
	case 0:
	case 1:
		if (r != -1 || e != EINVAL)
			violation("bad write (kind %u): %ld (%s)", kind, r, strerror(e));
		return;
	case 2:
		if (r != -1 || e != EFAULT)
			violation("write from NULL: %ld (%s)", r, strerror(e));
		return;
	}
	if (r == 4)
		sl->acked = v;
	else if (r != -1 || e != EINVAL)	/* EINVAL: a bump made v stale */
		violation("write of %u: %ld (%s)", v, r, strerror(e));
}

static void op_poll(struct worker *w, struct slot *sl)
{
	struct pollfd p = { .fd = sl->fd, .events = POLLIN };
	int r = poll(&p, 1, pick(&w->seed, 3));

	if (r < 0 && errno != EINTR)
		violation("poll: %s", strerror(errno));
	if (r == 1 && (p.revents & ~(POLLIN | POLLRDNORM)))
		violation("poll revents %#x", p.revents);
}

static void op_mmap(struct worker *w, struct slot *sl)
{
	unsigned int kind = pick(&w->seed, 6), m = pick(&w->seed, MAPS);
	int prot = PROT_READ, flags = pick(&w->seed, 2) ? MAP_SHARED : MAP_PRIVATE;
	size_t len = PAGE;
	off_t off = 0;
	void *p;
	int e;

	if (kind == 0)
		prot |= PROT_WRITE;
	else if (kind == 1)
		off = PAGE;
	else if (kind == 2)
		len = 2 * PAGE;
	p = mmap(NULL, len, prot, flags, sl->fd, off);
	e = errno;
	if (!can_read(sl->acc)) {
		if (p != MAP_FAILED || e != EACCES)
			violation("mmap of an fd without read access: %s",
				  p == MAP_FAILED ? strerror(e) : "mapped");
		if (p != MAP_FAILED)
			munmap(p, len);
		return;
	}
	if (kind <= 2) {
		/* A shared writable map of a read-only fd fails in the VFS first. */
		int want = kind == 0 ? EPERM : EINVAL;
		int also = kind == 0 && flags == MAP_SHARED && sl->acc == O_RDONLY ? EACCES : want;

		if (p != MAP_FAILED || (e != want && e != also))
			violation("bad mmap (kind %u): %s", kind, p == MAP_FAILED ? strerror(e) : "mapped");
		if (p != MAP_FAILED)
			munmap(p, len);
		return;
	}
	if (p == MAP_FAILED) {
		violation("mmap: %s", strerror(e));
		return;
	}
	{
		/* The same page as the process's own view of it. */
		uint32_t seen = __atomic_load_n((uint32_t *)p, __ATOMIC_ACQUIRE);

		if (seen > page_gen())
			violation("a new mapping reads %u, ahead of the page", seen);
	}
	if (kind == 3 && mremap(p, PAGE, 2 * PAGE, MREMAP_MAYMOVE) != MAP_FAILED)
		violation("mremap grew the mapping");
	/*
	 * A mapping holds its file: a watcher stays a watcher until the last
	 * mapping of it goes, after close().  Keep only mappings of read-only
	 * files, which can never opt in, so that the watcher bound stays exact.
	 */
	if (sl->acc != O_RDONLY) {
		munmap(p, PAGE);
		return;
	}
	if (w->map[m])
		munmap(w->map[m], PAGE);
	w->map[m] = p;
}

static void op_ioctl(struct worker *w, struct slot *sl)
{
	unsigned int kind = pick(&w->seed, 8);
	long r, low0;
	uint32_t known;
	int e;

	switch (kind) {
	case 0: {	/* tracking: 0, 1 or a bad argument */
		static const unsigned long args[] = { 0, 1, 1, 2, 1ul << 40 };
		unsigned long arg = args[pick(&w->seed, 5)];
		int writable = can_write(sl->acc);
		int raise = arg == 1 && writable && !sl->tracked;

		if (raise)
			atomic_fetch_add(&watchers_bound, 1);
		r = ioctl(sl->fd, SYSGENID_SET_WATCHER_TRACKING, arg);
		e = errno;
		if (arg > 1) {
			if (r != -1 || e != EINVAL)
				violation("tracking(%lu): %ld (%s)", arg, r, strerror(e));
		} else if (arg == 1 && !writable) {
			if (r != -1 || e != EPERM)
				violation("tracking(1) without write access (mode %d): %ld (%s)",
					  sl->acc, r, strerror(e));
		} else if (r != 0) {
			violation("tracking(%lu): %s", arg, strerror(e));
		} else if (arg == 1) {
			sl->tracked = 1;
		} else if (sl->tracked) {
			sl->tracked = 0;
			atomic_fetch_sub(&watchers_bound, 1);
			atomic_fetch_add(&watchers_lowered, 1);
		}
		if (raise && !sl->tracked) {
			atomic_fetch_sub(&watchers_bound, 1);
			atomic_fetch_add(&watchers_lowered, 1);
		}
		return;
	}
	case 1:
	case 2: {	/* wait, with a timeout or until a signal */
		unsigned long ms = kind == 1 ? 1 + pick(&w->seed, 10) : 0;
		long signals0 = signals;
		int outdated;

		known = page_gen();
		outdated = sl->tracked && sl->acked != UNKNOWN && sl->acked != known;
		if (!ms)
			arm(w->timer, 500 + pick(&w->seed, 5000));
		r = ioctl(sl->fd, SYSGENID_WAIT_WATCHERS, ms);
		e = errno;
		if (!ms)
			disarm(w->timer);
		if (r == 0 && outdated)
			violation("WAIT returned 0 on its own outdated fd (acked %lu, page %u)",
				  (unsigned long)sl->acked, known);
		/*
		 * Only a watcher can be outdated itself (EDEADLK); a
		 * non-watcher waits across bumps.  Only a signal ends a
		 * wait with EINTR.
		 */
		if (r != 0 && e == EDEADLK && !sl->tracked)
			violation("WAIT failed with EDEADLK on a non-watcher fd");
		if (r != 0 && e == EINTR && signals == signals0)
			violation("WAIT failed with EINTR, no signal");
		if (r != 0)
			expect_errno("WAIT", r, e, ETIMEDOUT, EDEADLK);
		return;
	}
	case 3:		/* wait with a timeout above 32 bits */
		r = ioctl(sl->fd, SYSGENID_WAIT_WATCHERS, 1ul << 33);
		if (r != -1 || errno != EINVAL)
			violation("WAIT(2^33): %ld", r);
		return;
	case 4:		/* outdated count against the watcher fds open */
		low0 = atomic_load(&watchers_lowered);
		r = ioctl(sl->fd, SYSGENID_GET_OUTDATED_WATCHERS);
		if (r < 0) {
			violation("GET_OUTDATED_WATCHERS: %s", strerror(errno));
			return;
		}
		/* Counted at some moment between the two loads of the bound. */
		if (r > foreign_watchers + atomic_load(&watchers_bound) +
			(atomic_load(&watchers_lowered) - low0))
			violation("%ld outdated watchers, at most %ld fds", r,
				  foreign_watchers + atomic_load(&watchers_bound));
		return;
	case 5:		/* force with min_gen above 32 bits */
		r = ioctl(sl->fd, SYSGENID_FORCE_GEN_UPDATE, 1ul << 32);
		if (r != -1 || errno != EINVAL)
			violation("FORCE(2^32): %ld", r);
		return;
	case 6: {	/* numbers that are not ours, or wrong direction and size */
		static const unsigned long bad[] = {
			_IO(SYSGENID_IOCTL, 0), _IO(SYSGENID_IOCTL, 5), _IO(SYSGENID_IOCTL, 0xff),
			_IOR(SYSGENID_IOCTL, 4, uint32_t), _IOW(SYSGENID_IOCTL, 3, uint64_t),
			_IOWR(SYSGENID_IOCTL, 2, uint32_t), _IO(0xE5, 1),
		};
		unsigned long cmd = bad[pick(&w->seed, 7)];

		r = ioctl(sl->fd, cmd, NULL);
		if (r != -1 || errno != ENOTTY)
			violation("ioctl %#lx: %ld (%s)", cmd, r, strerror(errno));
		return;
	}
	default: {	/* fdinfo: a watcher exactly when it opted in */
		char path[64], buf[256], *line;
		int fd, len, watcher;

		snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", sl->fd);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return;
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len <= 0 || !memmem(buf, len, "sysgenid", 8)) {
			violation("fdinfo without the sysgenid lines");
			return;
		}
		buf[len] = 0;
		line = strstr(buf, "sysgenid_watcher:\t");
		if (!line || sscanf(line, "sysgenid_watcher:\t%d", &watcher) != 1)
			violation("fdinfo without sysgenid_watcher");
		else if (watcher != sl->tracked)
			violation("fdinfo says watcher %d, the fd (mode %d) %s", watcher,
				  sl->acc, sl->tracked ? "opted in" : "did not opt in");
		return;
	}
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	w->timer = thread_timer();
	for (int i = 0; i < SLOTS; i++)
		w->s[i].fd = -1;
	while (!atomic_load(&stop)) {
		struct slot *sl = &w->s[pick(&w->seed, SLOTS)];
		unsigned int op = pick(&w->seed, 16);

		atomic_fetch_add(&ops, 1);
		if (sl->fd < 0) {
			slot_open(w, sl);
			continue;
		}
		if (op == 0) {
			slot_close(sl);
		} else if (op <= 4) {
			op_read(w, sl);
		} else if (op <= 7) {
			op_write(w, sl);
		} else if (op == 8) {
			op_poll(w, sl);
		} else if (op == 9) {
			op_mmap(w, sl);
		} else if (op == 10) {
			unsigned int m = pick(&w->seed, MAPS);

			if (w->map[m]) {
				if (__atomic_load_n((uint32_t *)w->map[m], __ATOMIC_ACQUIRE) > page_gen())
					violation("an old mapping is ahead of the page");
				munmap(w->map[m], PAGE);
				w->map[m] = NULL;
			}
		} else {
			op_ioctl(w, sl);
		}
	}
	for (int i = 0; i < SLOTS; i++)
		if (w->s[i].fd >= 0)
			slot_close(&w->s[i]);
	for (int m = 0; m < MAPS; m++)
		if (w->map[m])
			munmap(w->map[m], PAGE);
	timer_delete(w->timer);
	return NULL;
}

/* Forces generations as fast as a restore storm could: the "hypervisor". */
static void *bumper_main(void *arg)
{
	uint64_t seed = *(uint64_t *)arg;
	int fd = open(DEV, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		perror("open");
		exit(2);
	}
	while (!atomic_load(&stop)) {
		unsigned long min_gen = pick(&seed, 4) ? 0 : page_gen() + 1 + pick(&seed, 3);

		if (ioctl(fd, SYSGENID_FORCE_GEN_UPDATE, min_gen) != 0)
			violation("FORCE(%lu): %s", min_gen, strerror(errno));
		else
			atomic_fetch_add(&bumps, 1);
		usleep(pick(&seed, 300));
	}
	close(fd);
	return NULL;
}

/* Watches the page: it must never go backwards. */
static void *monitor_main(void *arg)
{
	uint32_t last = page_gen();

	(void)arg;
	while (!atomic_load(&stop)) {
		uint32_t now = page_gen();

		if (now < last)
			violation("the page went back from %u to %u", last, now);
		if (now != last)
			atomic_fetch_add(&changes, 1);
		last = now;
		sched_yield();
	}
	return NULL;
}

/*
 * Once every fd of this process is closed: none of them may still count as
 * an outdated watcher (a count that drifted under concurrency shows here),
 * and a bump must make outdated exactly the watchers of other processes (-w),
 * which then acknowledge, so that a wait for them returns 0.
 */
static void final_checks(int ctl)
{
	long left = ioctl(ctl, SYSGENID_GET_OUTDATED_WATCHERS);

	if (left < 0 || (!foreign_watchers && left != 0))
		violation("%ld outdated watchers counted after every fd closed", left);
	if (foreign_watchers && ioctl(ctl, SYSGENID_WAIT_WATCHERS, 5000) != 0)
		violation("WAIT after every fd closed: %s", strerror(errno));
	if (ioctl(ctl, SYSGENID_FORCE_GEN_UPDATE, 0) != 0)
		violation("final FORCE: %s", strerror(errno));
	left = ioctl(ctl, SYSGENID_GET_OUTDATED_WATCHERS);
	if (left < 0 || left > foreign_watchers)
		violation("%ld outdated watchers after a bump, %ld in other processes", left,
			  foreign_watchers);
	if (ioctl(ctl, SYSGENID_WAIT_WATCHERS, 5000) != 0)
		violation("final WAIT: %s", strerror(errno));
}

/*
 * Opens the control fd and maps the process's view of the page, with SIGUSR1
 * (the per-thread timers) interrupting waits: the fd, or -1.
 */
static int open_control(void)
{
	struct sigaction sa = { .sa_handler = on_signal };	/* no SA_RESTART */
	int ctl = open(DEV, O_RDONLY | O_CLOEXEC);

	if (ctl < 0) {
		perror("open " DEV);
		return -1;
	}
	page = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, ctl, 0);
	if (page == MAP_FAILED) {
		perror("mmap");
		return -1;
	}
	sigaction(SIGUSR1, &sa, NULL);
	return ctl;
}

/* Starts the N workers, each with its own seed from SEED, and the page monitor. */
static void start_workers(struct worker *w, int n, uint64_t seed, pthread_t *monitor)
{
	for (int i = 0; i < n; i++) {
		w[i].seed = seed * 0x9e3779b97f4a7c15ull + i + 1;
		pthread_create(&w[i].thread, NULL, worker_main, &w[i]);
	}
	pthread_create(monitor, NULL, monitor_main, NULL);
}

/* Stops the workers and the monitor, and waits for them. */
static void stop_workers(struct worker *w, int n, pthread_t monitor)
{
	atomic_store(&stop, 1);
	for (int i = 0; i < n; i++)
		pthread_join(w[i].thread, NULL);
	pthread_join(monitor, NULL);
}

static int stress(int seconds, uint64_t seed, int nworkers, int nbumpers)
{
	pthread_t bumper[16], monitor;
	uint64_t bseed[16];
	struct worker *w = calloc(nworkers, sizeof(*w));
	int ctl = open_control();
	uint32_t gen0;

	if (!w || ctl < 0)
		return 2;
	gen0 = page_gen();
	printf("stress: seed=%llu workers=%d bumpers=%d seconds=%d generation=%u\n",
	       (unsigned long long)seed, nworkers, nbumpers, seconds, gen0);
	fflush(stdout);
	start_workers(w, nworkers, seed, &monitor);
	for (int i = 0; i < nbumpers; i++) {
		bseed[i] = seed + 1000 + i;
		pthread_create(&bumper[i], NULL, bumper_main, &bseed[i]);
	}
	sleep(seconds);
	stop_workers(w, nworkers, monitor);
	for (int i = 0; i < nbumpers; i++)
		pthread_join(bumper[i], NULL);

	final_checks(ctl);
	printf("stress: %ld operations, %ld bumps (generation %u to %u), %ld interrupted waits,"
	       " %ld violations\n", atomic_load(&ops), atomic_load(&bumps), gen0, page_gen(),
	       atomic_load(&eintr), atomic_load(&violations));
	return atomic_load(&violations) ? 1 : 0;
}

/* --storm: one clone of a restore storm. */

#define DRIVER "/sys/bus/platform/drivers/vmgenid/"

static int put(const char *path, const char *value);

/* Whether DEVICE is bound to the VM generation ID driver. */
static int bound(const char *device)
{
	char path[128];

	snprintf(path, sizeof(path), DRIVER "%s", device);
	return access(path, F_OK) == 0;
}

/* Unbinds and binds DEVICE until stopped; leaves it bound. */
static void *teardown_main(void *arg)
{
	const char *device = arg;

	while (!atomic_load(&stop)) {
		if (put(DRIVER "unbind", device) != 0 || bound(device))
			violation("unbind %s: %s", device, strerror(errno));
		if (put(DRIVER "bind", device) != 0 || !bound(device))
			violation("bind %s: %s", device, strerror(errno));
		atomic_fetch_add(&cycles, 1);
	}
	return NULL;
}

static int storm(int seconds, uint64_t seed, int nworkers, const char *device)
{
	struct worker *w = calloc(nworkers, sizeof(*w));
	int ctl = open_control();
	pthread_t monitor, teardown;
	uint32_t gen0, gen1;

	if (!w || ctl < 0)
		return 2;
	gen0 = page_gen();
	start_workers(w, nworkers, seed, &monitor);
	printf("storm: ready gen=%u seed=%llu workers=%d\n", gen0, (unsigned long long)seed,
	       nworkers);
	fflush(stdout);
	/* The snapshot is saved during this wait; each clone leaves it on its restore. */
	while (page_gen() == gen0)
		usleep(20000);
	gen1 = page_gen();
	printf("storm: restored gen=%u\n", gen1);
	fflush(stdout);
	if (device)
		pthread_create(&teardown, NULL, teardown_main, (void *)device);
	sleep(seconds);
	stop_workers(w, nworkers, monitor);
	if (device) {
		pthread_join(teardown, NULL);
		if (!bound(device))
			violation("%s is not bound at the end", device);
	}
	/* One new ID, one bump: checked before the final checks bump on their own. */
	if (gen1 != gen0 + 1 || page_gen() != gen1 || atomic_load(&changes) != 1)
		violation("generation %u -> %u -> %u in %ld changes: one restore must bump once",
			  gen0, gen1, page_gen(), atomic_load(&changes));
	printf("storm: clone gen=%u->%u changes=%ld\n", gen0, page_gen(), atomic_load(&changes));
	final_checks(ctl);
	printf("storm: %ld operations, %ld unbind/bind cycles, %ld interrupted waits,"
	       " %ld violations\n", atomic_load(&ops), atomic_load(&cycles),
	       atomic_load(&eintr), atomic_load(&violations));
	return atomic_load(&violations) ? 1 : 0;
}

/* --inject: fail each allocation of open() and mmap() in turn. */

static int put(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY);
	int ok = fd >= 0 && write(fd, value, strlen(value)) == (ssize_t)strlen(value);

	if (fd >= 0)
		close(fd);
	return ok ? 0 : -1;
}

static long get(const char *path)
{
	char buf[32] = { 0 };
	int fd = open(path, O_RDONLY);
	long v = -1;

	if (fd >= 0 && read(fd, buf, sizeof(buf) - 1) > 0)
		v = strtol(buf, NULL, 10);
	if (fd >= 0)
		close(fd);
	return v;
}

#define FS "/sys/kernel/debug/"

static const char *const attrs[][2] = {
	{ "probability", "100" }, { "interval", "1" }, { "verbose", "1" },
	{ "task-filter", "Y" }, { "ignore-gfp-wait", "N" },
};

static int setup_fault(const char *dir)
{
	char path[128];

	for (unsigned int i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		snprintf(path, sizeof(path), FS "%s/%s", dir, attrs[i][0]);
		if (put(path, attrs[i][1]) != 0) {
			perror(path);
			return -1;
		}
	}
	if (!strcmp(dir, "fail_page_alloc"))
		return put(FS "fail_page_alloc/min-order", "0") |
		       put(FS "fail_page_alloc/ignore-gfp-highmem", "N");
	return 0;
}

static int cmp_ulong(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;

	return (x > y) - (x < y);
}

/* One injected failure after SPACE bytes: returns 1 if it was injected. */
static int arm_fault(const char *dir, long space)
{
	char path[128], val[32];

	snprintf(val, sizeof(val), "%ld", space);
	snprintf(path, sizeof(path), FS "%s/space", dir);
	put(path, val);
	snprintf(path, sizeof(path), FS "%s/times", dir);
	put(path, "1");
	return put("/proc/thread-self/make-it-fail", "1");
}

static int disarm_fault(const char *dir)
{
	char path[128];

	put("/proc/thread-self/make-it-fail", "0");
	snprintf(path, sizeof(path), FS "%s/times", dir);
	return get(path) == 0;	/* the one failure was used */
}

/*
 * Makes FD, from an open() that succeeded under injection, a watcher (the
 * injection is disarmed by then): returns 1 if it is one, 0 if open() failed.
 */
static int opt_in_injected(int fd, const char *when)
{
	if (fd < 0)
		return 0;
	if (ioctl(fd, SYSGENID_SET_WATCHER_TRACKING, 1) != 0) {
		violation("%s: tracking(1): %s", when, strerror(errno));
		return 0;
	}
	return 1;
}

/* With one watcher W outdated, the count must be exactly 1 + extra. */
static void check_count(int ctl, int w, long extra, const char *when)
{
	uint32_t gen;
	long n;

	if (ioctl(ctl, SYSGENID_FORCE_GEN_UPDATE, 0) != 0)
		violation("%s: FORCE: %s", when, strerror(errno));
	n = ioctl(ctl, SYSGENID_GET_OUTDATED_WATCHERS);
	if (n != 1 + extra)
		violation("%s: %ld outdated watchers, expected %ld", when, n, 1 + extra);
	gen = page_gen();
	if (write(w, &gen, 4) != 4)
		violation("%s: acknowledging: %s", when, strerror(errno));
}

/*
 * The address range of a body of code: the largest cluster of the text
 * symbols for which IS_OURS holds, up to the symbol that follows it.
 */
static int code_range(int (*is_ours)(const char *name), unsigned long *lo, unsigned long *hi)
{
	FILE *f = fopen("/proc/kallsyms", "r");
	static unsigned long all[1 << 18], ours[1 << 13];
	size_t nall = 0, nours = 0, best = 0, best_len = 0;
	char line[512], name[400], type;
	unsigned long a;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f) && nall < sizeof(all) / sizeof(all[0]))
		if (sscanf(line, "%lx %c %399s", &a, &type, name) == 3 && (type | 0x20) == 't') {
			all[nall++] = a;
			if (is_ours(name) && nours < sizeof(ours) / sizeof(ours[0]))
				ours[nours++] = a;
		}
	fclose(f);
	if (!nours)
		return -1;
	qsort(ours, nours, sizeof(ours[0]), cmp_ulong);
	for (size_t i = 0, start = 0; i < nours; i++) {
		if (i > 0 && ours[i] - ours[i - 1] > 0x10000)
			start = i;
		if (i - start + 1 > best_len) {
			best = start;
			best_len = i - start + 1;
		}
	}
	*lo = ours[best];
	*hi = ~0ul;
	for (size_t i = 0; i < nall; i++)	/* the end: the next symbol */
		if (all[i] > ours[best + best_len - 1] && all[i] < *hi)
			*hi = all[i];
	return *hi == ~0ul ? -1 : 0;
}

/*
 * The driver's code: the Rust crate's symbols and its exported C-named
 * functions (generic code the crate instantiates elsewhere is left out).
 */
static int is_driver(const char *name)
{
	return strstr(name, "8sysgenid") || !strncmp(name, "sysgenid_", 9);
}


/* ACPICA's code: acpi_ds_*, acpi_ex_*, acpi_ps_* and the rest of drivers/acpi/acpica. */
static int is_acpica(const char *name)
{
	static const char *const prefixes[] = {
		"acpi_ds_", "acpi_ex_", "acpi_ps_", "acpi_ut_", "acpi_ns_",
		"acpi_ev_", "acpi_tb_", "acpi_rs_", "acpi_hw_", "acpi_db_",
	};

	for (unsigned int i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(name, prefixes[i], strlen(prefixes[i])))
			return 1;
	return 0;
}


/* Makes DIR's injections skip allocations made with LO..HI on the stack (0, 0: none). */
static void reject_range(const char *dir, unsigned long lo, unsigned long hi)
{
	char path[128], val[32];

	snprintf(path, sizeof(path), FS "%s/stacktrace-depth", dir);
	put(path, lo || hi ? "32" : "0");
	snprintf(path, sizeof(path), FS "%s/require-start", dir);
	put(path, "0");
	snprintf(path, sizeof(path), FS "%s/require-end", dir);
	snprintf(val, sizeof(val), "%lu", ~0ul);
	put(path, val);
	snprintf(path, sizeof(path), FS "%s/reject-start", dir);
	snprintf(val, sizeof(val), "%lu", lo);
	put(path, val);
	snprintf(path, sizeof(path), FS "%s/reject-end", dir);
	snprintf(val, sizeof(val), "%lu", hi);
	put(path, val);
}

/*
 * Only allocations made with the driver's code on the stack fail: the
 * stack-trace filter aims failslab at the driver's own per-file state.
 */
static void driver_only(int ctl, int w)
{
	unsigned long lo, hi;
	char val[32];
	long failed = 0, tries = 0;

	if (code_range(is_driver, &lo, &hi) != 0 || access(FS "failslab/require-start", W_OK) != 0) {
		printf("inject: no stack-trace filter or driver symbols: driver-only pass skipped\n");
		return;
	}
	snprintf(val, sizeof(val), "%lu", lo);
	put(FS "failslab/require-start", val);
	snprintf(val, sizeof(val), "%lu", hi);
	put(FS "failslab/require-end", val);
	put(FS "failslab/stacktrace-depth", "32");
	for (long space = 0; space < 4096; space += 8) {
		int fd, e, injected;

		arm_fault("failslab", space);
		fd = open(DEV, O_RDWR | O_CLOEXEC);
		e = errno;
		injected = disarm_fault("failslab");
		tries++;
		if (fd < 0) {
			failed++;
			if (e != ENOMEM)
				violation("driver-only open: %s", strerror(e));
		}
		check_count(ctl, w, opt_in_injected(fd, "driver-only injected open"),
			    "after a driver-only injected open");
		if (fd >= 0)
			close(fd);
		if (!injected)
			break;
	}
	put(FS "failslab/stacktrace-depth", "0");
	put(FS "failslab/require-start", "0");
	put(FS "failslab/require-end", "0");
	printf("inject: driver code %#lx-%#lx: %ld opens, %ld failed in the driver's own"
	       " allocations with ENOMEM\n", lo, hi, tries, failed);
	if (!failed)
		violation("no allocation of the driver's open() could be made to fail");
}

/*
 * Binding the VM generation ID driver under injection: the Nth allocation
 * of the bind (fail-nth: slab or page, the driver's own, the driver core's
 * and ACPICA's while it evaluates the device's ADDR method) fails, for
 * every N in turn.  A failed bind leaves the device unbound with nothing
 * registered, and the next bind works.  Allocations made inside ACPICA (while
 * it evaluates the device's ADDR method or installs the notify handler) are
 * left alone: its error paths are not ours to test, and some of them are
 * not safe (a failed copy of a method's result dereferences NULL).
 */
static void probe_under_injection(int ctl, int w, const char *device)
{
	long binds = 0, failed = 0;
	unsigned long lo, hi;
	int swept = 0;

	if (!bound(device)) {
		printf("inject: %s is not bound to vmgenid: probe pass skipped\n", device);
		return;
	}
	if (code_range(is_acpica, &lo, &hi) != 0 || access(FS "failslab/reject-start", W_OK) != 0) {
		printf("inject: no stack-trace filter or ACPICA symbols: probe pass skipped\n");
		return;
	}
	reject_range("failslab", lo, hi);
	reject_range("fail_page_alloc", lo, hi);
	for (long nth = 1; nth < 4096; nth++) {
		char val[32];
		int ok, e, injected;

		if (put(DRIVER "unbind", device) != 0 || bound(device)) {
			violation("unbind %s: %s", device, strerror(errno));
			break;
		}
		snprintf(val, sizeof(val), "%ld", nth);
		put("/proc/thread-self/fail-nth", val);
		ok = put(DRIVER "bind", device) == 0;
		e = errno;
		/* 0: the Nth call came and failed; otherwise the bind made fewer. */
		injected = get("/proc/thread-self/fail-nth") == 0;
		put("/proc/thread-self/fail-nth", "0");
		binds++;
		if (ok != bound(device))
			violation("bind %s returned %s but the device is %sbound", device,
				  ok ? "success" : strerror(e), bound(device) ? "" : "not ");
		if (!ok) {
			failed++;
			if (put(DRIVER "bind", device) != 0 || !bound(device)) {
				violation("bind %s after its allocation %ld failed (%s): %s", device,
					  nth, strerror(e), strerror(errno));
				break;
			}
		}
		/* The count and the wake-ups still work, with the driver back. */
		check_count(ctl, w, 0, "after an injected probe");
		if (!injected) {
			swept = 1;	/* past the bind's last allocation */
			break;
		}
	}
	reject_range("failslab", 0, 0);
	reject_range("fail_page_alloc", 0, 0);
	if (!swept)
		violation("the probe pass stopped before the bind's last allocation");
	printf("inject: %ld binds of %s, each failing its next allocation outside ACPICA"
	       " (%#lx-%#lx) (%ld probes failed and left it unbound)\n", binds, device, lo, hi,
	       failed);
	if (!failed)
		violation("no allocation of the vmgenid probe could be made to fail");
}

static int inject(const char *device)
{
	static const char *const dirs[] = { "failslab", "fail_page_alloc" };
	int ctl = open(DEV, O_RDONLY | O_CLOEXEC), w = open(DEV, O_RDWR | O_CLOEXEC);
	long opens_failed = 0, opens = 0, maps_failed = 0, maps = 0;

	if (ctl < 0 || w < 0) {
		perror("open");
		return 2;
	}
	/* W is the one watcher; every fd that open() gives below opts in too. */
	if (ioctl(w, SYSGENID_SET_WATCHER_TRACKING, 1) != 0) {
		perror("SYSGENID_SET_WATCHER_TRACKING");
		return 2;
	}
	page = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, ctl, 0);
	if (page == MAP_FAILED || setup_fault("failslab") || setup_fault("fail_page_alloc"))
		return 2;
	check_count(ctl, w, 0, "before injection");
	for (unsigned int d = 0; d < 2; d++) {
		/* open(): sweep the failure over every allocation it makes. */
		for (long space = 0; space < 65536; space += 8) {
			int fd, e, injected;

			arm_fault(dirs[d], space);
			fd = open(DEV, O_RDWR | O_CLOEXEC);
			e = errno;
			injected = disarm_fault(dirs[d]);
			opens++;
			if (fd < 0) {
				opens_failed++;
				if (e != ENOMEM)
					violation("%s open: %s", dirs[d], strerror(e));
			}
			check_count(ctl, w, opt_in_injected(fd, "injected open"),
				    "after an injected open");
			if (fd >= 0)
				close(fd);
			if (!injected)
				break;	/* past the last allocation */
		}
		/* mmap(): the same for the mapping and its page tables. */
		for (long space = 0; space < 65536; space += 8) {
			uint32_t *p;
			int e, injected;

			arm_fault(dirs[d], space);
			p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, ctl, 0);
			e = errno;
			injected = disarm_fault(dirs[d]);
			maps++;
			if (p == MAP_FAILED) {
				maps_failed++;
				if (e != ENOMEM)
					violation("%s mmap: %s", dirs[d], strerror(e));
			} else {
				if (*p != page_gen())
					violation("mapping after injection reads %u, page %u", *p,
						  page_gen());
				munmap(p, PAGE);
			}
			check_count(ctl, w, 0, "after an injected mmap");
			if (!injected)
				break;
		}
	}
	/* Before the driver-only pass, which leaves a stack filter behind. */
	if (device)
		probe_under_injection(ctl, w, device);
	driver_only(ctl, w);
	close(w);
	if (ioctl(ctl, SYSGENID_FORCE_GEN_UPDATE, 0) != 0 ||
	    ioctl(ctl, SYSGENID_GET_OUTDATED_WATCHERS) != 0)
		violation("a watcher is still counted after the injection runs");
	printf("inject: %ld opens (%ld failed with ENOMEM), %ld mmaps (%ld failed with ENOMEM),"
	       " %ld violations\n", opens, opens_failed, maps, maps_failed,
	       atomic_load(&violations));
	return atomic_load(&violations) ? 1 : 0;
}

int main(int argc, char **argv)
{
	int seconds = 60, workers = 8, bumpers = 2, mode = 0;
	uint64_t seed = DEFAULT_SEED;
	const char *device = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--inject")) {
			mode = 'i';
			continue;
		}
		if (!strcmp(argv[i], "--storm")) {
			mode = 's';
			continue;
		}
		if (i + 1 >= argc)
			break;
		if (!strcmp(argv[i], "-u"))
			device = argv[++i];
		else if (!strcmp(argv[i], "-w"))
			foreign_watchers = atol(argv[++i]);
		else if (!strcmp(argv[i], "-t"))
			seconds = atoi(argv[++i]);
		else if (!strcmp(argv[i], "-s"))
			seed = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "-j"))
			workers = atoi(argv[++i]);
		else if (!strcmp(argv[i], "-b"))
			bumpers = atoi(argv[++i]) > 16 ? 16 : atoi(argv[i]);
	}
	if (mode == 'i')
		return inject(device);
	if (mode == 's')
		return storm(seconds, seed, workers, device);
	return stress(seconds, seed, workers, bumpers);
}
