// SPDX-License-Identifier: GPL-2.0
/*
 * sysgenid-bench: what watching /dev/sysgenid and bumping its generation
 * cost, each figure set against a reference measured in the same run, in
 * alternating rounds, so that only ratios need to be trusted.
 *
 * usage: sysgenid-bench [-q | -s]
 *   -q  smoke run: small N, few rounds (checks that every path works)
 *   -s  the syscall figures only (section 1), at full size, with more rounds
 *
 * Prints a markdown table, then one key=value per line between
 * "bench: summary begin" and "bench: summary end".  Must run as root (it
 * forces generations and opens 10,000 files).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/random.h>
#include <linux/sysgenid.h>

#define DEV "/dev/sysgenid"
#define MAX_ROUNDS 64

static int quick, syscalls_only;
static char summary[16384];
static size_t summary_len;

static void die(const char *what)
{
	fprintf(stderr, "bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void kv(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	summary_len += vsnprintf(summary + summary_len, sizeof(summary) - summary_len, fmt, ap);
	va_end(ap);
	summary_len += snprintf(summary + summary_len, sizeof(summary) - summary_len, "\n");
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

static int open_dev(int flags)
{
	int fd = open(DEV, flags | O_CLOEXEC);

	if (fd < 0)
		die("open " DEV);
	return fd;
}

/*
 * Opens a watcher: only a file that opts in with SYSGENID_SET_WATCHER_TRACKING
 * counts as one, whatever its access mode.
 */
static int open_watcher(void)
{
	int fd = open_dev(O_RDWR);

	if (ioctl(fd, SYSGENID_SET_WATCHER_TRACKING, 1) != 0)
		die("SYSGENID_SET_WATCHER_TRACKING");
	return fd;
}

static void force_bump(int fd)
{
	if (ioctl(fd, SYSGENID_FORCE_GEN_UPDATE, 0) != 0)
		die("SYSGENID_FORCE_GEN_UPDATE");
}

/* Median and quartiles of a set of per-round figures. */
struct stats {
	double med, p25, p75;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static struct stats stats_of(const double *v, int n)
{
	double s[MAX_ROUNDS];
	struct stats st;

	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	st.med = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	st.p25 = s[n / 4];
	st.p75 = s[(3 * n) / 4 < n ? (3 * n) / 4 : n - 1];
	return st;
}

static void row(const char *what, const char *unit, struct stats a, const char *ref_name,
		struct stats ref, const char *target, double limit)
{
	double ratio = a.med / ref.med;

	printf("| %s | %.1f [%.1f, %.1f] %s | %s: %.1f [%.1f, %.1f] | %.3f | %s %s |\n",
	       what, a.med, a.p25, a.p75, unit, ref_name, ref.med, ref.p25, ref.p75, ratio,
	       target, limit <= 0 ? "" : ratio <= limit ? "met" : "missed");
}

/*
 * A cost against its reference as the median of the ratios of the two in
 * each round: the rounds alternate the kinds within a few milliseconds, so
 * a ratio taken within a round cancels what drifts between rounds (an
 * emulator's host load, say), which the ratio of the two medians does not.
 */
static void row_paired(const char *what, const char *unit, const double *a, const double *b,
		       int rounds, const char *ref_name, const char *target, double limit,
		       const char *key)
{
	double r[MAX_ROUNDS];
	struct stats sa = stats_of(a, rounds), sb = stats_of(b, rounds), sr;

	for (int i = 0; i < rounds; i++)
		r[i] = a[i] / b[i];
	sr = stats_of(r, rounds);
	printf("| %s | %.1f [%.1f, %.1f] %s | %s: %.1f [%.1f, %.1f] | %.3f [%.3f, %.3f] | %s %s |\n",
	       what, sa.med, sa.p25, sa.p75, unit, ref_name, sb.med, sb.p25, sb.p75, sr.med,
	       sr.p25, sr.p75, target, sr.med <= limit ? "met" : "missed");
	kv("%s=%.3f", key, sr.med);
}

/* 1. Syscalls on an outdated fd against a null syscall. */

/*
 * Besides the null syscall, the floors of the two paths: a 4-byte read of
 * /dev/zero (the VFS read path with a minimal driver) and an ioctl that
 * /dev/zero refuses (the VFS ioctl path).  What the sysgenid calls cost
 * above these is the driver's.  RNDGETENTCNT, the cheapest ioctl that
 * random.c answers, shows what any driver's ioctl adds to the refused one:
 * the call into the driver and its return.  /dev/zero has a ->read, which
 * read() calls directly; /dev/full has only a ->read_iter, the same zeroing
 * one, as /dev/sysgenid has only a ->read_iter: a 4-byte read of it is the
 * floor of the read_iter path, which sets up a kiocb and an iov_iter first.
 */
#define SYSCALL_KINDS 7

static double time_syscalls(int kind, int fd, int zero, int urandom, int full, long iters)
{
	uint32_t v;
	uint64_t t0 = now_ns();

	for (long i = 0; i < iters; i++) {
		switch (kind) {
		case 0:
			syscall(SYS_getppid);
			break;
		case 1:
			if (read(fd, &v, sizeof(v)) != sizeof(v))
				die("read on an outdated fd");
			break;
		case 2:
			if (ioctl(fd, SYSGENID_GET_OUTDATED_WATCHERS) < 0)
				die("SYSGENID_GET_OUTDATED_WATCHERS");
			break;
		case 3:
			if (read(zero, &v, sizeof(v)) != sizeof(v))
				die("read /dev/zero");
			break;
		case 4:
			ioctl(zero, SYSGENID_GET_OUTDATED_WATCHERS);	/* ENOTTY */
			break;
		case 5:
			if (ioctl(urandom, RNDGETENTCNT, &v) < 0)
				die("RNDGETENTCNT");
			break;
		case 6:
			if (read(full, &v, sizeof(v)) != sizeof(v))
				die("read /dev/full");
			break;
		}
	}
	return (double)(now_ns() - t0) / iters;
}

static void bench_syscalls(void)
{
	/* -s: the syscalls alone, with more rounds, for differences of a few ns. */
	int rounds = quick ? 5 : syscalls_only ? MAX_ROUNDS : 31;
	long iters = quick ? 2000 : 20000;
	double t[SYSCALL_KINDS][MAX_ROUNDS];
	struct stats s[SYSCALL_KINDS];
	int fd = open_watcher(), zero = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	int urandom = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	int full = open("/dev/full", O_RDONLY | O_CLOEXEC);

	if (zero < 0 || urandom < 0 || full < 0)
		die("open /dev/zero, /dev/urandom or /dev/full");
	/* fd, a watcher, now lags one generation behind: read never blocks. */
	force_bump(fd);
	for (int k = 0; k < SYSCALL_KINDS; k++)
		time_syscalls(k, fd, zero, urandom, full, iters / 10);	/* warm up */
	for (int r = 0; r < rounds; r++)
		for (int k = 0; k < SYSCALL_KINDS; k++) {
			int kind = (k + r) % SYSCALL_KINDS;	/* rotate the order */

			t[kind][r] = time_syscalls(kind, fd, zero, urandom, full, iters);
		}
	for (int k = 0; k < SYSCALL_KINDS; k++)
		s[k] = stats_of(t[k], rounds);
	row("read() on an outdated fd", "ns", s[1], "getppid()", s[0], "(info)", 0);
	row("GET_OUTDATED_WATCHERS", "ns", s[2], "getppid()", s[0], "(info)", 0);
	row("read() of 4 bytes of /dev/zero (VFS floor)", "ns", s[3], "getppid()", s[0],
	    "(info)", 0);
	row("refused ioctl on /dev/zero (VFS floor)", "ns", s[4], "getppid()", s[0], "(info)", 0);
	row("read() of 4 bytes of /dev/full (read_iter floor)", "ns", s[6], "getppid()", s[0],
	    "(info)", 0);
	row_paired("read() on an outdated fd", "ns", t[1], t[3], rounds, "/dev/zero read",
		   "<= 1.1x", 1.1, "read_outdated_vs_zero_paired");
	row_paired("read() on an outdated fd", "ns", t[1], t[6], rounds, "/dev/full read",
		   "<= 1.1x", 1.1, "read_outdated_vs_full_paired");
	row_paired("GET_OUTDATED_WATCHERS", "ns", t[2], t[4], rounds, "refused ioctl",
		   "<= 1.1x", 1.1, "get_outdated_vs_refused_paired");
	row("RNDGETENTCNT on /dev/urandom (a C driver's ioctl)", "ns", s[5], "refused ioctl",
	    s[4], "(info)", 0);
	row_paired("GET_OUTDATED_WATCHERS", "ns", t[2], t[5], rounds, "RNDGETENTCNT",
		   "<= 1.05x", 1.05, "get_outdated_vs_rndgetentcnt_paired");
	kv("read_zero_ns=%.1f", s[3].med);
	kv("ioctl_refused_ns=%.1f", s[4].med);
	kv("read_outdated_vs_zero_ratio=%.3f", s[1].med / s[3].med);
	kv("read_full_ns=%.1f", s[6].med);
	kv("read_outdated_vs_full_ratio=%.3f", s[1].med / s[6].med);
	kv("get_outdated_vs_refused_ratio=%.3f", s[2].med / s[4].med);
	kv("getppid_ns=%.1f", s[0].med);
	kv("read_outdated_ns=%.1f", s[1].med);
	kv("read_outdated_ratio=%.3f", s[1].med / s[0].med);
	kv("get_outdated_ns=%.1f", s[2].med);
	kv("get_outdated_ratio=%.3f", s[2].med / s[0].med);
	kv("rndgetentcnt_vs_refused_ratio=%.3f", s[5].med / s[4].med);
	kv("get_outdated_vs_rndgetentcnt_ratio=%.3f", s[2].med / s[5].med);
	close(fd);
	close(zero);
	close(urandom);
	close(full);
}

/* 2. The mmap check against a load from ordinary memory. */

static __attribute__((noinline)) double time_loads(const uint32_t *p, long iters)
{
	uint32_t sum = 0;
	uint64_t t0 = now_ns();

	for (long i = 0; i < iters; i++)
		sum += __atomic_load_n(p, __ATOMIC_ACQUIRE);
	__asm__ volatile("" : : "r"(sum));
	return (double)(now_ns() - t0) / iters;
}

static void bench_mmap(void)
{
	int rounds = quick ? 5 : 31;
	long iters = quick ? 100000 : 2000000;
	double t[2][MAX_ROUNDS];
	struct stats page, plain;
	int fd = open_dev(O_RDONLY);
	uint32_t *map = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	uint32_t *mem = aligned_alloc(4096, 4096);

	if (map == MAP_FAILED || !mem)
		die("mmap");
	close(fd);
	*mem = *map;
	time_loads(map, iters / 10);
	time_loads(mem, iters / 10);
	for (int r = 0; r < rounds; r++) {
		int first = r % 2;

		t[first][r] = time_loads(first ? mem : map, iters);
		t[!first][r] = time_loads(first ? map : mem, iters);
	}
	page = stats_of(t[0], rounds);
	plain = stats_of(t[1], rounds);
	row("mmap check (acquire load of the page)", "ns", page, "ordinary load", plain,
	    "<= 1.05x", 1.05);
	kv("mmap_load_ns=%.3f", page.med);
	kv("plain_load_ns=%.3f", plain.med);
	kv("mmap_load_ratio=%.3f", page.med / plain.med);
	munmap(map, 4096);
	free(mem);
}

/* 3. Wake-up latency: a bump (or an eventfd write) waking N waiters. */

enum wake_mode { WAKE_READ, WAKE_EPOLL, WAKE_EVENTFD, WAKE_MODES };
static const char *const wake_name[] = { "blocked read()", "epoll", "eventfd + epoll" };

struct waker {
	enum wake_mode mode;
	int n, rounds;
	int efd;			/* WAKE_EVENTFD: the shared eventfd */
	pthread_barrier_t start;
	pthread_barrier_t woken_all;	/* the waiters, before they acknowledge */
	atomic_int ready, woken, failed;
	sem_t all_woken;
	struct waiter *w;
};

struct waiter {
	struct waker *k;
	pthread_t thread;
	pid_t tid;
	int fd, ep;
	uint64_t woke;
};

static void *waiter_main(void *arg)
{
	struct waiter *w = arg;
	struct waker *k = w->k;
	struct epoll_event ev;
	uint32_t gen;

	w->tid = gettid();
	for (int r = 0; r < k->rounds; r++) {
		pthread_barrier_wait(&k->start);
		atomic_fetch_add(&k->ready, 1);
		/* Nothing may block between "ready" and the wait itself. */
		if (k->mode == WAKE_READ) {
			if (read(w->fd, &gen, sizeof(gen)) != sizeof(gen))
				atomic_store(&k->failed, 1);
		} else {
			if (epoll_wait(w->ep, &ev, 1, -1) != 1)
				atomic_store(&k->failed, 1);
		}
		w->woke = now_ns();
		if (atomic_fetch_add(&k->woken, 1) + 1 == k->n)
			sem_post(&k->all_woken);
		/*
		 * Nothing else happens until every waiter has woken, in every
		 * mode alike: neither the acknowledgments nor a thread's exit
		 * may take CPU time from the wake-ups being measured.
		 */
		pthread_barrier_wait(&k->woken_all);
		if (k->mode != WAKE_EVENTFD) {
			if (k->mode == WAKE_EPOLL && read(w->fd, &gen, sizeof(gen)) != sizeof(gen))
				atomic_store(&k->failed, 1);
			if (write(w->fd, &gen, sizeof(gen)) != sizeof(gen))
				atomic_store(&k->failed, 1);
		}
	}
	return NULL;
}

/* True once every waiter is asleep in its wait. */
static int all_asleep(struct waker *k)
{
	char path[64], buf[256], *p;

	if (atomic_load(&k->ready) != k->n)
		return 0;
	for (int i = 0; i < k->n; i++) {
		int fd, len;

		snprintf(path, sizeof(path), "/proc/self/task/%d/stat", k->w[i].tid);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			die("open task stat");
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len <= 0)
			return 0;
		buf[len] = 0;
		p = strrchr(buf, ')');
		if (!p || p[2] != 'S')
			return 0;
	}
	return 1;
}

struct wake_result {
	double all_ns[MAX_ROUNDS];	/* trigger until the last waiter woke */
	double wait_ns[MAX_ROUNDS];	/* trigger until WAIT_WATCHERS returned */
};

static void run_wake(enum wake_mode mode, int n, int rounds, struct wake_result *res)
{
	struct waker k = { .mode = mode, .n = n, .rounds = rounds, .efd = -1 };
	int ctl = open_dev(O_RDONLY);	/* not a watcher: WAIT never sees it outdated */
	pthread_attr_t attr;

	k.w = calloc(n, sizeof(*k.w));
	if (!k.w)
		die("calloc");
	pthread_barrier_init(&k.start, NULL, n + 1);
	pthread_barrier_init(&k.woken_all, NULL, n);
	sem_init(&k.all_woken, 0, 0);
	if (mode == WAKE_EVENTFD) {
		k.efd = eventfd(0, EFD_CLOEXEC);
		if (k.efd < 0)
			die("eventfd");
	}
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	for (int i = 0; i < n; i++) {
		struct waiter *w = &k.w[i];
		struct epoll_event ev = { .events = EPOLLIN };

		w->k = &k;
		/* Watchers, so that WAIT_WATCHERS waits for their acknowledgments. */
		w->fd = mode == WAKE_EVENTFD ? -1 : open_watcher();
		w->ep = -1;
		if (mode != WAKE_READ) {
			w->ep = epoll_create1(EPOLL_CLOEXEC);
			if (w->ep < 0 ||
			    epoll_ctl(w->ep, EPOLL_CTL_ADD, mode == WAKE_EVENTFD ? k.efd : w->fd,
				      &ev) != 0)
				die("epoll");
		}
		if (pthread_create(&w->thread, &attr, waiter_main, w) != 0)
			die("pthread_create");
	}
	for (int r = 0; r < rounds; r++) {
		uint64_t t0, last = 0;

		atomic_store(&k.ready, 0);
		atomic_store(&k.woken, 0);
		pthread_barrier_wait(&k.start);
		while (!all_asleep(&k))
			usleep(200);
		t0 = now_ns();
		if (mode == WAKE_EVENTFD) {
			uint64_t one = 1;

			if (write(k.efd, &one, sizeof(one)) != sizeof(one))
				die("eventfd write");
		} else {
			force_bump(ctl);
		}
		if (mode != WAKE_EVENTFD) {
			if (ioctl(ctl, SYSGENID_WAIT_WATCHERS, 60000) != 0)
				die("SYSGENID_WAIT_WATCHERS");
			res->wait_ns[r] = now_ns() - t0;
		}
		while (sem_wait(&k.all_woken) != 0)
			;
		for (int i = 0; i < n; i++)
			if (k.w[i].woke > last)
				last = k.w[i].woke;
		res->all_ns[r] = last - t0;
		if (mode == WAKE_EVENTFD) {
			uint64_t count;

			if (read(k.efd, &count, sizeof(count)) != sizeof(count))
				die("eventfd read");
		}
	}
	for (int i = 0; i < n; i++) {
		pthread_join(k.w[i].thread, NULL);
		if (k.w[i].fd >= 0)
			close(k.w[i].fd);
		if (k.w[i].ep >= 0)
			close(k.w[i].ep);
	}
	if (atomic_load(&k.failed)) {
		fprintf(stderr, "bench: a %s waiter failed\n", wake_name[mode]);
		exit(1);
	}
	if (k.efd >= 0)
		close(k.efd);
	close(ctl);
	free(k.w);
	pthread_barrier_destroy(&k.start);
	pthread_barrier_destroy(&k.woken_all);
}

static void bench_wakeups(void)
{
	static const int full[] = { 1, 10, 100, 1000 }, smoke[] = { 1, 4 };
	const int *ns = quick ? smoke : full;
	int count = quick ? 2 : 4;

	for (int i = 0; i < count; i++) {
		/* Wake-ups of a few waiters vary most: more rounds for them. */
		int n = ns[i], rounds = quick ? 3 : n >= 1000 ? 21 : 61;
		struct wake_result res[WAKE_MODES];
		struct stats s[WAKE_MODES], wait;
		char what[96];

		/*
		 * Alternate the modes round by round, and rotate their order, so
		 * that no mode always follows the same one (and the clean-up it
		 * leaves behind).
		 */
		for (int r = 0; r < rounds; r++)
			for (int j = 0; j < WAKE_MODES; j++) {
				int m = (j + r) % WAKE_MODES;
				struct wake_result one = { 0 };

				run_wake(m, n, 1, &one);
				res[m].all_ns[r] = one.all_ns[0] / 1000;
				res[m].wait_ns[r] = one.wait_ns[0] / 1000;
			}
		for (int m = 0; m < WAKE_MODES; m++)
			s[m] = stats_of(res[m].all_ns, rounds);
		wait = stats_of(res[WAKE_READ].wait_ns, rounds);
		for (int m = WAKE_READ; m <= WAKE_EPOLL; m++) {
			snprintf(what, sizeof(what), "wake-up, N=%d, %s", n, wake_name[m]);
			row(what, "us", s[m], "eventfd", s[WAKE_EVENTFD], "<= 1.1x", 1.1);
		}
		snprintf(what, sizeof(what), "bump to WAIT_WATCHERS, N=%d woke, then acknowledged", n);
		row(what, "us", wait, "wake-up (read)", s[WAKE_READ], "(info)", 0);
		kv("wake_read_n%d_us=%.1f", n, s[WAKE_READ].med);
		kv("wake_epoll_n%d_us=%.1f", n, s[WAKE_EPOLL].med);
		kv("wake_eventfd_n%d_us=%.1f", n, s[WAKE_EVENTFD].med);
		kv("wake_read_n%d_ratio=%.3f", n, s[WAKE_READ].med / s[WAKE_EVENTFD].med);
		kv("wake_epoll_n%d_ratio=%.3f", n, s[WAKE_EPOLL].med / s[WAKE_EVENTFD].med);
		kv("wait_watchers_n%d_us=%.1f", n, wait.med);
	}
}

/* 4. The bump itself as the number of watchers grows, nobody waiting. */

static double time_bumps(int fd, long iters)
{
	uint64_t t0 = now_ns();

	for (long i = 0; i < iters; i++)
		force_bump(fd);
	return (double)(now_ns() - t0) / iters;
}

static void bench_bump_cost(void)
{
	static const int full[] = { 1, 100, 1000, 10000 }, smoke[] = { 1, 100 };
	const int *ns = quick ? smoke : full;
	int count = quick ? 2 : 4, rounds = quick ? 5 : 21;
	long iters = quick ? 500 : 5000;
	double t[4][MAX_ROUNDS];
	struct stats s[4];
	int *fds[4], ctl = open_dev(O_RDONLY);

	for (int i = 0; i < count; i++) {
		fds[i] = calloc(ns[i], sizeof(int));
		if (!fds[i])
			die("calloc");
	}
	/* Every size's watchers stay open the whole time: open them per round. */
	for (int r = 0; r < rounds; r++)
		for (int j = 0; j < count; j++) {
			int i = (j + r) % count;

			for (int f = 0; f < ns[i]; f++)
				fds[i][f] = open_watcher();
			time_bumps(ctl, iters / 10);
			t[i][r] = time_bumps(ctl, iters);
			for (int f = 0; f < ns[i]; f++)
				close(fds[i][f]);
		}
	for (int i = 0; i < count; i++) {
		char what[64];

		s[i] = stats_of(t[i], rounds);
		snprintf(what, sizeof(what), "bump, %d watchers, none waiting", ns[i]);
		row(what, "ns", s[i], "1 watcher", s[0], "<= 1.1x", 1.1);
		kv("bump_n%d_ns=%.1f", ns[i], s[i].med);
		kv("bump_n%d_ratio=%.3f", ns[i], s[i].med / s[0].med);
		free(fds[i]);
	}
	close(ctl);
}

/* 5. Kernel memory per open fd, from /proc/slabinfo, against /dev/null. */

#define MEM_FDS 10000

/* Bytes in use in all slab caches (active objects times object size). */
static long long slab_bytes(void)
{
	FILE *f = fopen("/proc/slabinfo", "r");
	char line[512], name[64];
	long long total = 0, active, num, size;

	if (!f)
		die("/proc/slabinfo (CONFIG_SLUB_DEBUG)");
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %lld %lld %lld", name, &active, &num, &size) == 4)
			total += active * size;
	fclose(f);
	return total;
}

/*
 * In a fresh child, so that both kinds start from the same fd table.  The
 * sysgenid files are opened O_RDWR and left as they open, not opted in as
 * watchers (before watchers were opt-in, these opens made watchers).  Opting
 * in only moves counters and allocates nothing, so the figure is the same
 * either way.
 */
static double bytes_per_open(const char *path)
{
	int pipefd[2];
	double per;
	pid_t pid;

	if (pipe(pipefd) != 0)
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		static int fds[MEM_FDS];
		long long before, after;

		/* Grow the fd table first, so only the files are counted. */
		if (dup2(0, MEM_FDS + 16) < 0)
			die("dup2");
		before = slab_bytes();
		for (int i = 0; i < MEM_FDS; i++) {
			fds[i] = open(path, O_RDWR);
			if (fds[i] < 0)
				die(path);
		}
		after = slab_bytes();
		per = (double)(after - before) / MEM_FDS;
		if (write(pipefd[1], &per, sizeof(per)) != sizeof(per))
			die("pipe write");
		_exit(0);
	}
	if (read(pipefd[0], &per, sizeof(per)) != sizeof(per))
		die("pipe read");
	waitpid(pid, NULL, 0);
	close(pipefd[0]);
	close(pipefd[1]);
	return per;
}

static void bench_memory(void)
{
	int rounds = quick ? 1 : 5;
	double dev[MAX_ROUNDS], null[MAX_ROUNDS], extra[MAX_ROUNDS];
	struct stats d, nl, e;
	struct rlimit rl = { MEM_FDS + 64, MEM_FDS + 64 };

	if (access("/proc/slabinfo", R_OK) != 0) {
		if (!quick)
			die("/proc/slabinfo (CONFIG_SLUB_DEBUG)");
		printf("| slab bytes per open fd | no /proc/slabinfo in this kernel: skipped | | | |\n");
		return;
	}
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		die("setrlimit");
	for (int r = 0; r < rounds; r++) {
		null[r] = bytes_per_open("/dev/null");
		dev[r] = bytes_per_open(DEV);
		extra[r] = dev[r] - null[r];
	}
	d = stats_of(dev, rounds);
	nl = stats_of(null, rounds);
	e = stats_of(extra, rounds);
	row("slab bytes per open fd", "B", d, "/dev/null", nl, "", 0);
	printf("| slab bytes per fd beyond /dev/null's | %.1f [%.1f, %.1f] B | | | <= 16 B %s |\n",
	       e.med, e.p25, e.p75, e.med <= 16 ? "met" : "missed");
	kv("slab_per_fd_bytes=%.1f", d.med);
	kv("slab_per_null_fd_bytes=%.1f", nl.med);
	kv("slab_extra_per_fd_bytes=%.1f", e.med);
}

int main(int argc, char **argv)
{
	struct rlimit rl = { 1 << 15, 1 << 15 };

	quick = argc > 1 && !strcmp(argv[1], "-q");
	syscalls_only = argc > 1 && !strcmp(argv[1], "-s");
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		die("setrlimit");
	printf("bench: start%s\n", quick ? " (smoke run)" : "");
	printf("\n| figure | median [p25, p75] | reference: median [p25, p75] | ratio | target |\n");
	printf("|---|---|---|---|---|\n");
	fflush(stdout);
	bench_syscalls();
	fflush(stdout);
	if (syscalls_only)
		goto out;
	bench_mmap();
	fflush(stdout);
	bench_wakeups();
	fflush(stdout);
	bench_bump_cost();
	fflush(stdout);
	bench_memory();
out:
	printf("\nbench: summary begin\n%sbench: summary end\n", summary);
	return 0;
}
