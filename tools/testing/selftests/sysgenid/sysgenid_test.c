// SPDX-License-Identifier: GPL-2.0
/*
 * The /dev/sysgenid ABI, from userspace: every file operation and ioctl with
 * its results and errors (Documentation/misc-devices/sysgenid.rst).
 *
 * The generation is global and these tests move it, so every check is
 * relative to the generation a test finds when it starts.  Outdated counts
 * are exact: nothing else may hold a watcher while the tests run.  Forcing a
 * generation needs CAP_CHECKPOINT_RESTORE; run as root.
 *
 * A file is a watcher only once it opts in with
 * SYSGENID_SET_WATCHER_TRACKING(1), which needs write access.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/sysgenid.h>

#include "../kselftest_harness.h"

#define DEV "/dev/sysgenid"
/* open() access mode 3: the file gets neither read nor write access. */
#define O_NOACCESS 3

static int open_dev(int flags)
{
	return open(DEV, flags | O_CLOEXEC);
}

/* Makes FD a watcher: 0, or -1 with errno. */
static int opt_in(int fd)
{
	return ioctl(fd, SYSGENID_SET_WATCHER_TRACKING, 1UL);
}

/* Opens a file and makes it a watcher; -1 if either step fails. */
static int open_watcher(int flags)
{
	int fd = open_dev(flags);

	if (fd >= 0 && opt_in(fd)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The current generation, through a new read-only file and the page. */
static uint32_t current_gen(void)
{
	int fd = open_dev(O_RDONLY);
	uint32_t gen = UINT32_MAX;
	uint32_t *page;

	if (fd < 0)
		return gen;
	page = mmap(NULL, getpagesize(), PROT_READ, MAP_SHARED, fd, 0);
	if (page != MAP_FAILED) {
		gen = __atomic_load_n(page, __ATOMIC_ACQUIRE);
		munmap(page, getpagesize());
	}
	close(fd);
	return gen;
}

/* Forces a new generation of at least min_gen; returns the new one. */
static uint32_t bump(uint32_t min_gen)
{
	int fd = open_dev(O_RDONLY);
	int ret;

	if (fd < 0)
		return UINT32_MAX;
	ret = ioctl(fd, SYSGENID_FORCE_GEN_UPDATE, (unsigned long)min_gen);
	close(fd);
	return ret ? UINT32_MAX : current_gen();
}

static long outdated(int fd)
{
	return ioctl(fd, SYSGENID_GET_OUTDATED_WATCHERS, 0);
}

/* Reads /proc/self/fdinfo/FD into text; returns 0 or -1. */
static int read_fdinfo(int fd, char *text, size_t size)
{
	char path[64];
	ssize_t n;
	int info;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	info = open(path, O_RDONLY | O_CLOEXEC);
	if (info < 0)
		return -1;
	n = read(info, text, size - 1);
	close(info);
	if (n <= 0)
		return -1;
	text[n] = 0;
	return 0;
}

/* Whether FD's fdinfo says it is a watcher: 1, 0, or -1 when unreadable. */
static int fdinfo_watcher(int fd)
{
	char text[512];

	if (read_fdinfo(fd, text, sizeof(text)))
		return -1;
	if (strstr(text, "sysgenid_watcher:\t1\n"))
		return 1;
	return strstr(text, "sysgenid_watcher:\t0\n") ? 0 : -1;
}

static void on_alarm(int sig)
{
}

/*
 * A blocking call made within the next SECONDS fails with EINTR when they
 * run out, so that a driver that blocks where it must not fails the test
 * instead of hanging it.  alarm(0) lifts the guard.
 */
static void guard(unsigned int seconds)
{
	struct sigaction sa = { .sa_handler = on_alarm };	/* no SA_RESTART */

	sigaction(SIGALRM, &sa, NULL);
	alarm(seconds);
}

static long elapsed_ms(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
}

/*
 * Returns once process PID, having written a byte to READY, is asleep.
 * The byte is the last thing PID does before a blocking call, and nothing
 * between the two can sleep, so PID then sleeps in that call.  Gives up
 * after about two seconds (or without /proc): every test that uses this has
 * the same outcome when its event lands before the call blocks, so giving up
 * can only make the test weaker, never flip it.
 */
static void wait_until_asleep(pid_t pid, int ready)
{
	char path[64], stat[512], *p;
	ssize_t n;
	int i, fd;

	if (read(ready, stat, 1) != 1)
		return;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	for (i = 0; i < 2000; i++) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return;
		n = read(fd, stat, sizeof(stat) - 1);
		close(fd);
		if (n <= 0)
			return;
		stat[n] = 0;
		p = strrchr(stat, ')');
		if (p && p[1] == ' ' && p[2] == 'S')
			return;
		usleep(1000);
	}
}

/*
 * Forks.  In the child, returns 0 once the parent, after calling
 * about_to_block(ready), sleeps in its next call.  In the parent, returns
 * the child's pid (or -1).
 */
static pid_t fork_when_blocked(int ready[2])
{
	pid_t parent = getpid(), child;

	if (pipe(ready))
		return -1;
	child = fork();
	if (child == 0) {
		close(ready[1]);
		wait_until_asleep(parent, ready[0]);
		close(ready[0]);
		return 0;
	}
	close(ready[0]);
	return child;
}

static void about_to_block(int ready[2])
{
	if (write(ready[1], "b", 1) != 1)
		ksft_print_msg("cannot tell the child: %s\n", strerror(errno));
	close(ready[1]);
}

/* Drops every privilege: to user and group nobody, without groups. */
static int drop_to_nobody(void)
{
	const uid_t nobody = 65534;

	return setgroups(0, NULL) || setgid(nobody) || setuid(nobody) ? -1 : 0;
}

TEST(node_is_a_char_device_anyone_may_open)
{
	struct stat st;

	ASSERT_EQ(0, stat(DEV, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0666, st.st_mode & 07777);
}

TEST(read_sizes_and_nonblocking)
{
	int fd = open_dev(O_RDWR | O_NONBLOCK);
	char buf[8];

	ASSERT_LE(0, fd);
	EXPECT_EQ(0, read(fd, buf, 0));
	EXPECT_EQ(-1, read(fd, buf, 3));
	EXPECT_EQ(EINVAL, errno);
	/* Up to date, non-blocking. */
	EXPECT_EQ(-1, read(fd, buf, 4));
	EXPECT_EQ(EAGAIN, errno);
	close(fd);
}

TEST(read_returns_new_generation_and_does_not_acknowledge)
{
	int fd = open_watcher(O_RDWR | O_NONBLOCK);
	uint32_t gen = 0, next;
	char big[64];

	ASSERT_LE(0, fd);
	next = bump(0);
	ASSERT_NE(UINT32_MAX, next);
	EXPECT_EQ(4, read(fd, &gen, sizeof(gen)));
	EXPECT_EQ(next, gen);
	/* Still outdated: a larger buffer gets the same 4 bytes. */
	EXPECT_EQ(4, read(fd, big, sizeof(big)));
	EXPECT_EQ(0, memcmp(big, &next, 4));
	EXPECT_EQ(1, outdated(fd));
	EXPECT_EQ(4, write(fd, &gen, sizeof(gen)));
	EXPECT_EQ(0, outdated(fd));
	EXPECT_EQ(-1, read(fd, &gen, sizeof(gen)));
	EXPECT_EQ(EAGAIN, errno);
	close(fd);
}

TEST(read_blocks_until_bump)
{
	int fd = open_dev(O_RDWR), ready[2], status;
	uint32_t gen = 0, expected;
	pid_t child;

	ASSERT_LE(0, fd);
	expected = current_gen() + 1;
	child = fork_when_blocked(ready);
	ASSERT_LE(0, child);
	if (child == 0)
		_exit(bump(0) == expected ? 0 : 1);
	about_to_block(ready);
	EXPECT_EQ(4, read(fd, &gen, sizeof(gen)));
	EXPECT_EQ(expected, gen);
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_EQ(0, status);
	close(fd);
}

/* read() and readv() must answer alike. */
TEST(readv_answers_as_read)
{
	int fd = open_watcher(O_RDWR | O_NONBLOCK), ready[2], status;
	uint32_t gen = 0, next, expected;
	char buf[8];
	struct iovec iov = { .iov_base = buf };
	pid_t child;

	ASSERT_LE(0, fd);
	iov.iov_len = 0;
	EXPECT_EQ(0, readv(fd, &iov, 1));
	iov.iov_len = 3;
	EXPECT_EQ(-1, readv(fd, &iov, 1));
	EXPECT_EQ(EINVAL, errno);
	iov.iov_len = 4;
	EXPECT_EQ(-1, readv(fd, &iov, 1));
	EXPECT_EQ(EAGAIN, errno);
	next = bump(0);
	ASSERT_NE(UINT32_MAX, next);
	iov.iov_base = NULL;
	EXPECT_EQ(-1, readv(fd, &iov, 1));
	EXPECT_EQ(EFAULT, errno);
	iov.iov_base = &gen;
	EXPECT_EQ(4, readv(fd, &iov, 1));
	EXPECT_EQ(next, gen);
	/* A failed or successful read acknowledged nothing. */
	EXPECT_EQ(1, outdated(fd));
	EXPECT_EQ(4, write(fd, &gen, sizeof(gen)));
	/* Blocking: returns with the next generation. */
	ASSERT_EQ(0, fcntl(fd, F_SETFL, 0));
	expected = current_gen() + 1;
	child = fork_when_blocked(ready);
	ASSERT_LE(0, child);
	if (child == 0)
		_exit(bump(0) == expected ? 0 : 1);
	about_to_block(ready);
	EXPECT_EQ(4, readv(fd, &iov, 1));
	EXPECT_EQ(expected, gen);
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_EQ(0, status);
	close(fd);
}

/* Why a read that must not wait failed otherwise than with EAGAIN. */
static const char *nowait_hint(int err)
{
	if (err == EINTR)
		return " (it blocked)";
	if (err == EOPNOTSUPP)
		return " (the VFS refused RWF_NOWAIT: the file lacks FMODE_NOWAIT)";
	return "";
}

/*
 * RWF_NOWAIT asks for this one read what O_NONBLOCK asks for every read: an
 * up-to-date file fails with EAGAIN at once.
 */
TEST(rwf_nowait_read_does_not_block)
{
	int fd = open_dev(O_RDONLY);
	uint32_t gen = 0, next;
	struct iovec iov = { .iov_base = &gen, .iov_len = sizeof(gen) };
	ssize_t r;
	int err;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fcntl(fd, F_GETFL) & O_NONBLOCK);
	guard(2);
	r = preadv2(fd, &iov, 1, -1, RWF_NOWAIT);
	err = errno;
	alarm(0);
	EXPECT_EQ(-1, r);
	EXPECT_EQ(EAGAIN, err) TH_LOG("preadv2(RWF_NOWAIT) on an up-to-date file: %s%s",
				      strerror(err), nowait_hint(err));
	/* Outdated: the new generation, without blocking either. */
	next = bump(0);
	ASSERT_NE(UINT32_MAX, next);
	guard(2);
	r = preadv2(fd, &iov, 1, -1, RWF_NOWAIT);
	err = errno;
	alarm(0);
	EXPECT_EQ(4, r) TH_LOG("preadv2(RWF_NOWAIT) on an outdated file: %s%s", strerror(err),
			       nowait_hint(err));
	EXPECT_EQ(next, gen);
	close(fd);
}

TEST(write_errors_leave_state_unchanged)
{
	int fd = open_watcher(O_RDWR | O_NONBLOCK);
	uint32_t gen, wrong, got;
	char five[5] = { 0 };
	void *unreadable;

	ASSERT_LE(0, fd);
	unreadable = mmap(NULL, getpagesize(), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, unreadable);
	gen = bump(0);
	ASSERT_NE(UINT32_MAX, gen);
	/* The file is the only watcher, and it is outdated. */
	ASSERT_EQ(1, outdated(fd));

	EXPECT_EQ(-1, write(fd, &gen, 3));
	EXPECT_EQ(EINVAL, errno);
	memcpy(five, &gen, 4);
	EXPECT_EQ(-1, write(fd, five, 5));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, write(fd, unreadable, 4));
	EXPECT_EQ(EFAULT, errno);
	wrong = gen - 1;
	EXPECT_EQ(-1, write(fd, &wrong, 4));
	EXPECT_EQ(EINVAL, errno);
	/* Nothing was acknowledged. */
	EXPECT_EQ(1, outdated(fd));
	EXPECT_EQ(4, read(fd, &got, 4));
	EXPECT_EQ(gen, got);

	EXPECT_EQ(4, write(fd, &gen, 4));
	EXPECT_EQ(0, outdated(fd));
	/* Twice is a no-op. */
	EXPECT_EQ(4, write(fd, &gen, 4));
	EXPECT_EQ(0, outdated(fd));
	munmap(unreadable, getpagesize());
	close(fd);
}

TEST(write_on_read_only_file_is_refused)
{
	int fd = open_dev(O_RDONLY);
	uint32_t gen = current_gen();

	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, write(fd, &gen, 4));
	EXPECT_EQ(EBADF, errno);
	close(fd);
}

TEST(poll_reports_outdated_file)
{
	int fd = open_dev(O_RDWR);
	struct pollfd p = { .events = POLLIN | POLLRDNORM };
	uint32_t gen;

	ASSERT_LE(0, fd);
	p.fd = fd;
	EXPECT_EQ(0, poll(&p, 1, 0));
	gen = bump(0);
	ASSERT_NE(UINT32_MAX, gen);
	EXPECT_EQ(1, poll(&p, 1, 0));
	EXPECT_EQ(POLLIN | POLLRDNORM, p.revents);
	EXPECT_EQ(4, write(fd, &gen, 4));
	EXPECT_EQ(0, poll(&p, 1, 0));
	close(fd);
}

/*
 * A read-only file cannot write() an acknowledgment, so its read makes one:
 * after a bump it is readable once, then up to date again, and
 * level-triggered epoll on it stops reporting it.  It is never a watcher,
 * so it is never counted.
 */
TEST(read_only_fd_is_acknowledged_by_its_read)
{
	int ro = open_dev(O_RDONLY | O_NONBLOCK), ctl = open_dev(O_RDONLY), ep;
	struct epoll_event ev = { .events = EPOLLIN }, out;
	struct pollfd p = { .events = POLLIN | POLLRDNORM };
	uint32_t gen, got = 0;

	ASSERT_LE(0, ro);
	ASSERT_LE(0, ctl);
	ep = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, ro, &ev));
	p.fd = ro;
	EXPECT_EQ(0, poll(&p, 1, 0));
	EXPECT_EQ(0, epoll_wait(ep, &out, 1, 0));
	gen = bump(0);
	ASSERT_NE(UINT32_MAX, gen);
	EXPECT_EQ(-1, write(ro, &gen, 4));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, opt_in(ro));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(1, epoll_wait(ep, &out, 1, 0));
	EXPECT_EQ(1, poll(&p, 1, 0));
	/* A failed read acknowledges nothing. */
	EXPECT_EQ(-1, syscall(SYS_read, ro, NULL, 4));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(1, poll(&p, 1, 0));
	EXPECT_EQ(4, read(ro, &got, 4));
	EXPECT_EQ(gen, got);
	EXPECT_EQ(0, poll(&p, 1, 0));
	EXPECT_EQ(0, epoll_wait(ep, &out, 1, 0))
		TH_LOG("level-triggered epoll still reports the read-only fd after its read");
	EXPECT_EQ(-1, read(ro, &got, 4));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(0, fdinfo_watcher(ro));
	EXPECT_EQ(0, outdated(ctl));
	EXPECT_EQ(0, ioctl(ctl, SYSGENID_WAIT_WATCHERS, 50));
	/* The next bump: readable once more, for the newest generation. */
	gen = bump(0);
	ASSERT_NE(UINT32_MAX, gen);
	EXPECT_EQ(1, epoll_wait(ep, &out, 1, 0));
	EXPECT_EQ(4, read(ro, &got, 4));
	EXPECT_EQ(gen, got);
	EXPECT_EQ(0, epoll_wait(ep, &out, 1, 0));
	close(ep);
	close(ro);
	close(ctl);
}

/* A file with write access is not acknowledged by its reads: only write() does it. */
TEST(writable_fd_stays_readable_until_it_writes)
{
	int rw = open_dev(O_RDWR | O_NONBLOCK);
	struct pollfd p = { .events = POLLIN };
	uint32_t gen, got = 0;
	int i;

	ASSERT_LE(0, rw);
	p.fd = rw;
	gen = bump(0);
	ASSERT_NE(UINT32_MAX, gen);
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(4, read(rw, &got, 4));
		EXPECT_EQ(gen, got);
		EXPECT_EQ(1, poll(&p, 1, 0));
	}
	EXPECT_EQ(4, write(rw, &gen, 4));
	EXPECT_EQ(0, poll(&p, 1, 0));
	close(rw);
}

TEST(mmap_page_holds_generation_and_outlives_file)
{
	long size = getpagesize();
	int fd = open_dev(O_RDONLY);
	uint32_t *page;
	uint32_t gen;
	long i;

	ASSERT_LE(0, fd);
	page = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, page);
	close(fd);
	gen = bump(0);
	EXPECT_EQ(gen, __atomic_load_n(&page[0], __ATOMIC_ACQUIRE));
	for (i = 1; i < size / 4; i++)
		ASSERT_EQ(0, __atomic_load_n(&page[i], __ATOMIC_RELAXED));
	gen = bump(gen + 100);
	EXPECT_EQ(gen, __atomic_load_n(&page[0], __ATOMIC_ACQUIRE));
	munmap(page, size);
}

TEST(mmap_refuses_write_offset_size_and_growth)
{
	long size = getpagesize();
	int fd = open_dev(O_RDWR);
	void *p, *q;

	ASSERT_LE(0, fd);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, size, PROT_READ, MAP_SHARED, fd, size));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 2 * size, PROT_READ, MAP_SHARED, fd, 0));
	EXPECT_EQ(EINVAL, errno);

	p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-1, mprotect(p, size, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	q = mremap(p, size, 2 * size, MREMAP_MAYMOVE);
	EXPECT_EQ(MAP_FAILED, q);
	EXPECT_EQ(EFAULT, errno);
	munmap(p, size);

	p = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-1, mprotect(p, size, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	munmap(p, size);
	close(fd);
}

/*
 * Write access alone does not make a watcher: a file counts only once it
 * opts in, and at once if it opts in with a bump not yet acknowledged.
 */
TEST(opt_in_watchers)
{
	int rw = open_dev(O_RDWR), wo = open_dev(O_WRONLY), caught_up = open_dev(O_RDWR);
	int ro = open_dev(O_RDONLY), fresh;
	uint32_t gen;

	ASSERT_LE(0, rw);
	ASSERT_LE(0, wo);
	ASSERT_LE(0, caught_up);
	ASSERT_LE(0, ro);
	EXPECT_EQ(0, fdinfo_watcher(rw));
	EXPECT_EQ(0, fdinfo_watcher(wo));
	gen = bump(0);
	ASSERT_NE(UINT32_MAX, gen);
	EXPECT_EQ(0, outdated(ro));

	/* Both missed the bump, so each counts from the moment it opts in. */
	EXPECT_EQ(0, opt_in(rw));
	EXPECT_EQ(1, outdated(ro));
	EXPECT_EQ(0, opt_in(wo));
	EXPECT_EQ(2, outdated(ro));
	EXPECT_EQ(1, fdinfo_watcher(rw));
	EXPECT_EQ(1, fdinfo_watcher(wo));
	/* Opting in again changes nothing. */
	EXPECT_EQ(0, opt_in(rw));
	EXPECT_EQ(2, outdated(ro));
	/* A file that acknowledged before it opts in is up to date. */
	EXPECT_EQ(4, write(caught_up, &gen, 4));
	EXPECT_EQ(0, opt_in(caught_up));
	EXPECT_EQ(2, outdated(ro));
	EXPECT_EQ(4, write(rw, &gen, 4));
	EXPECT_EQ(4, write(wo, &gen, 4));
	EXPECT_EQ(0, outdated(ro));

	/* Opened after the bump and opted in: counted from the next one. */
	fresh = open_watcher(O_RDWR);
	ASSERT_LE(0, fresh);
	EXPECT_EQ(0, outdated(ro));
	ASSERT_NE(UINT32_MAX, bump(0));
	EXPECT_EQ(4, outdated(ro));
	close(rw);
	close(wo);
	close(caught_up);
	close(fresh);
	EXPECT_EQ(0, outdated(ro));
	close(ro);
}

TEST(watcher_tracking_rules)
{
	int rw = open_dev(O_RDWR), ro = open_dev(O_RDONLY), twin;
	uint32_t gen;

	ASSERT_LE(0, rw);
	ASSERT_LE(0, ro);
	EXPECT_EQ(-1, opt_in(ro));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(-1, ioctl(rw, SYSGENID_SET_WATCHER_TRACKING, 2));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, ioctl(ro, SYSGENID_SET_WATCHER_TRACKING, 0));
	EXPECT_EQ(0, ioctl(rw, SYSGENID_SET_WATCHER_TRACKING, 0));
	EXPECT_EQ(0, opt_in(rw));

	gen = bump(0);
	/* Only the watcher counts, once however many bumps it missed. */
	EXPECT_EQ(1, outdated(ro));
	gen = bump(0);
	EXPECT_EQ(1, outdated(ro));
	/* An outdated watcher that stops tracking stops counting... */
	EXPECT_EQ(0, ioctl(rw, SYSGENID_SET_WATCHER_TRACKING, 0));
	EXPECT_EQ(0, outdated(ro));
	EXPECT_EQ(0, fdinfo_watcher(rw));
	/* ...and counts again at once if it starts while still outdated. */
	EXPECT_EQ(0, opt_in(rw));
	EXPECT_EQ(1, outdated(ro));
	EXPECT_EQ(4, write(rw, &gen, 4));
	EXPECT_EQ(0, outdated(ro));

	/* The open file is the watcher: it stops counting at its last close. */
	ASSERT_NE(UINT32_MAX, bump(0));
	EXPECT_EQ(1, outdated(ro));
	twin = dup(rw);
	ASSERT_LE(0, twin);
	close(rw);
	EXPECT_EQ(1, outdated(ro));
	close(twin);
	EXPECT_EQ(0, outdated(ro));
	close(ro);
}

/* A file with neither read nor write access can never be a watcher. */
TEST(accmode3_fd_cannot_opt_in)
{
	int none = open(DEV, O_NOACCESS | O_CLOEXEC), ro;
	uint32_t gen;

	if (none < 0)
		SKIP(return, "open(%s, 3) failed: %s", DEV, strerror(errno));
	ro = open_dev(O_RDONLY);
	ASSERT_LE(0, ro);
	EXPECT_EQ(0, fdinfo_watcher(none));
	EXPECT_EQ(-1, opt_in(none));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(0, fdinfo_watcher(none));
	gen = bump(0);
	ASSERT_NE(UINT32_MAX, gen);
	EXPECT_EQ(0, outdated(ro));
	EXPECT_EQ(-1, opt_in(none));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(0, outdated(ro));
	/* Nor can it acknowledge. */
	EXPECT_EQ(-1, write(none, &gen, 4));
	EXPECT_EQ(EBADF, errno);
	close(none);
	close(ro);
}

TEST(wait_watchers_rules)
{
	int orchestrator, straggler = open_watcher(O_RDWR);
	uint32_t gen;

	ASSERT_LE(0, straggler);
	gen = bump(0);
	ASSERT_NE(UINT32_MAX, gen);
	/* Opened after the bump: the orchestrator itself is up to date. */
	orchestrator = open_dev(O_RDONLY);
	ASSERT_LE(0, orchestrator);
	EXPECT_EQ(-1, ioctl(orchestrator, SYSGENID_WAIT_WATCHERS, 50));
	EXPECT_EQ(ETIMEDOUT, errno);
	EXPECT_EQ(-1, ioctl(orchestrator, SYSGENID_WAIT_WATCHERS, 1UL << 32));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(4, write(straggler, &gen, 4));
	EXPECT_EQ(0, ioctl(orchestrator, SYSGENID_WAIT_WATCHERS, 50));
	EXPECT_EQ(0, ioctl(orchestrator, SYSGENID_WAIT_WATCHERS, 0));
	/*
	 * After another bump the read-only orchestrator, not a watcher, waits
	 * for the straggler; the straggler, itself outdated, would wait for
	 * itself.
	 */
	gen = bump(0);
	ASSERT_NE(UINT32_MAX, gen);
	EXPECT_EQ(-1, ioctl(orchestrator, SYSGENID_WAIT_WATCHERS, 50));
	EXPECT_EQ(ETIMEDOUT, errno);
	EXPECT_EQ(-1, ioctl(straggler, SYSGENID_WAIT_WATCHERS, 50));
	EXPECT_EQ(EDEADLK, errno);
	EXPECT_EQ(4, write(straggler, &gen, 4));
	close(orchestrator);
	close(straggler);
}

/*
 * A watcher that waits is outdated by a bump, whether the bump lands before
 * its wait or during it: either way it would now wait for itself, and the
 * wait fails with EDEADLK (not EINTR, which a caller retries).
 */
TEST(watcher_wait_fails_when_a_bump_lands)
{
	int straggler = open_watcher(O_RDWR), waiter, ready[2], status;
	pid_t child;

	ASSERT_LE(0, straggler);
	ASSERT_NE(UINT32_MAX, bump(0));
	/* Opened after the bump: up to date, so it may wait for the straggler. */
	waiter = open_watcher(O_RDWR);
	ASSERT_LE(0, waiter);
	ASSERT_EQ(1, outdated(waiter));
	child = fork_when_blocked(ready);
	ASSERT_LE(0, child);
	if (child == 0)
		_exit(bump(0) == UINT32_MAX);
	about_to_block(ready);
	EXPECT_EQ(-1, ioctl(waiter, SYSGENID_WAIT_WATCHERS, 10000));
	EXPECT_EQ(EDEADLK, errno);
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_EQ(0, status);
	close(waiter);
	close(straggler);
}

/*
 * A caller that is not a watcher is never outdated itself: a bump during its
 * wait does not end the wait, which goes on for the newest generation's
 * watchers.  If the bump lands before the wait starts, the outcome is the
 * same.
 */
TEST(non_watcher_wait_survives_bumps)
{
	int straggler = open_watcher(O_RDWR), orchestrator, ready[2], status, err;
	uint32_t missed;
	pid_t child;
	long r;

	ASSERT_LE(0, straggler);
	missed = bump(0);
	ASSERT_NE(UINT32_MAX, missed);
	orchestrator = open_dev(O_RDONLY);
	ASSERT_LE(0, orchestrator);
	ASSERT_EQ(1, outdated(orchestrator));
	child = fork_when_blocked(ready);
	ASSERT_LE(0, child);
	if (child == 0) {
		uint32_t newest = bump(0);

		if (newest == UINT32_MAX)
			_exit(1);
		/* The generation the straggler missed is no longer enough. */
		if (write(straggler, &missed, 4) != -1 || errno != EINVAL)
			_exit(2);
		/* Not needed for the outcome: lets the waiter sleep again. */
		usleep(100 * 1000);
		/* The straggler's file, shared with the parent, catches up. */
		_exit(write(straggler, &newest, 4) == 4 ? 0 : 3);
	}
	about_to_block(ready);
	r = ioctl(orchestrator, SYSGENID_WAIT_WATCHERS, 2000);
	err = errno;
	EXPECT_EQ(0, r) TH_LOG("a non-watcher's wait across a bump: %s", strerror(err));
	EXPECT_EQ(0, outdated(orchestrator));
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_EQ(0, status) TH_LOG("child exit status %#x", status);
	close(orchestrator);
	close(straggler);
}

/*
 * Waiting across bumps does not stretch the timeout: it counts from the
 * call.  The child bumps every 50 ms for up to 5 s, so a timeout restarted
 * on each bump would not run out before then.
 */
TEST(non_watcher_wait_timeout_counts_from_the_call)
{
	int straggler = open_watcher(O_RDWR), orchestrator, stop[2], status, err;
	struct timespec start;
	pid_t child;
	long r, ms;

	ASSERT_LE(0, straggler);
	ASSERT_NE(UINT32_MAX, bump(0));
	orchestrator = open_dev(O_RDONLY);
	ASSERT_LE(0, orchestrator);
	ASSERT_EQ(0, pipe(stop));
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		struct pollfd p = { .fd = stop[0], .events = POLLIN };
		int i;

		close(stop[1]);
		/* Until the parent closes the pipe. */
		for (i = 0; i < 100 && poll(&p, 1, 50) == 0; i++)
			if (bump(0) == UINT32_MAX)
				_exit(1);
		_exit(0);
	}
	close(stop[0]);
	clock_gettime(CLOCK_MONOTONIC, &start);
	r = ioctl(orchestrator, SYSGENID_WAIT_WATCHERS, 300);
	err = errno;
	ms = elapsed_ms(&start);
	close(stop[1]);
	EXPECT_EQ(-1, r);
	EXPECT_EQ(ETIMEDOUT, err) TH_LOG("%s after %ld ms", strerror(err), ms);
	EXPECT_LE(200, ms);
	EXPECT_GT(3000, ms);
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_EQ(0, status);
	close(orchestrator);
	close(straggler);
}

static atomic_int ticks;

/* Counts SIGALRM ticks, and stops the timer after 40 of them. */
static void on_tick(int sig)
{
	static const struct itimerval stop;

	if (atomic_fetch_add(&ticks, 1) + 1 >= 40)
		setitimer(ITIMER_REAL, &stop, NULL);
}

/*
 * A wait that a signal interrupts fails with EINTR, even when the handler
 * asks for restarts (SA_RESTART): restarted with its full timeout, a timed
 * wait under a periodic signal would never end.  The timer ticks every
 * 50 ms, 40 times; the wait asks for 500 ms.  A wait that starts over on
 * every tick times out only after the last one.
 */
TEST(wait_interrupted_by_a_restarting_signal_does_not_start_over)
{
	struct sigaction sa = { .sa_handler = on_tick, .sa_flags = SA_RESTART }, old;
	const struct itimerval tick = { { 0, 50000 }, { 0, 50000 } }, stop = { 0 };
	int straggler = open_watcher(O_RDWR), orchestrator, err;
	struct timespec start;
	long r, ms;

	ASSERT_LE(0, straggler);
	ASSERT_NE(UINT32_MAX, bump(0));
	orchestrator = open_dev(O_RDONLY);
	ASSERT_LE(0, orchestrator);
	ASSERT_EQ(1, outdated(orchestrator));
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, &old));
	atomic_store(&ticks, 0);
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &tick, NULL));
	clock_gettime(CLOCK_MONOTONIC, &start);
	r = ioctl(orchestrator, SYSGENID_WAIT_WATCHERS, 500);
	err = errno;
	ms = elapsed_ms(&start);
	setitimer(ITIMER_REAL, &stop, NULL);
	sigaction(SIGALRM, &old, NULL);
	EXPECT_EQ(-1, r);
	EXPECT_EQ(EINTR, err) TH_LOG("%s after %ld ms", strerror(err), ms);
	EXPECT_LE(1, atomic_load(&ticks));
	EXPECT_GT(1000, ms) TH_LOG("%s after %ld ms and %d ticks: the wait started over",
				   strerror(err), ms, atomic_load(&ticks));
	close(orchestrator);
	close(straggler);
}

TEST(wait_watchers_with_several_watcher_processes)
{
	enum { WATCHERS = 4 };
	int orchestrator, ready[2], i, status;
	pid_t pids[WATCHERS];
	char c;

	ASSERT_EQ(0, pipe(ready));
	for (i = 0; i < WATCHERS; i++) {
		pids[i] = fork();
		ASSERT_LE(0, pids[i]);
		if (pids[i] == 0) {
			int fd = open_watcher(O_RDWR);
			uint32_t gen;

			if (fd < 0 || write(ready[1], "r", 1) != 1)
				_exit(1);
			/* Each watcher takes its time before it acknowledges. */
			if (read(fd, &gen, 4) != 4)
				_exit(2);
			usleep((i + 1) * 50 * 1000);
			_exit(write(fd, &gen, 4) == 4 ? 0 : 3);
		}
	}
	for (i = 0; i < WATCHERS; i++)
		ASSERT_EQ(1, read(ready[0], &c, 1));
	ASSERT_NE(UINT32_MAX, bump(0));
	orchestrator = open_dev(O_RDONLY);
	ASSERT_LE(0, orchestrator);
	EXPECT_EQ(WATCHERS, outdated(orchestrator));
	EXPECT_EQ(0, ioctl(orchestrator, SYSGENID_WAIT_WATCHERS, 10000));
	EXPECT_EQ(0, outdated(orchestrator));
	for (i = 0; i < WATCHERS; i++) {
		ASSERT_EQ(pids[i], waitpid(pids[i], &status, 0));
		EXPECT_EQ(0, status);
	}
	close(orchestrator);
}

TEST(force_update_rules_as_root)
{
	int fd = open_dev(O_RDONLY);
	uint32_t gen = current_gen();

	ASSERT_LE(0, fd);
	if (geteuid() != 0)
		SKIP(return, "needs root");
	EXPECT_EQ(-1, ioctl(fd, SYSGENID_FORCE_GEN_UPDATE, 1UL << 32));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(fd, SYSGENID_FORCE_GEN_UPDATE, ULONG_MAX));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(gen, current_gen());
	/* min_gen above the current generation is taken as is... */
	EXPECT_EQ(0, ioctl(fd, SYSGENID_FORCE_GEN_UPDATE, (unsigned long)gen + 1000));
	EXPECT_EQ(gen + 1000, current_gen());
	/* ...and one at or below it gives current + 1. */
	EXPECT_EQ(0, ioctl(fd, SYSGENID_TRIGGER_GEN_UPDATE, 0UL));
	EXPECT_EQ(gen + 1001, current_gen());
	EXPECT_EQ(0, ioctl(fd, _IO(0xE4, 3), (unsigned long)gen));
	EXPECT_EQ(gen + 1002, current_gen());
	close(fd);
}

/*
 * An unprivileged caller learns only that it may not force a generation,
 * whatever the argument: the privilege check comes before the argument's.
 */
TEST(force_update_refused_to_unprivileged_user)
{
	static const unsigned long args[] = { 0, 1UL << 32, ULONG_MAX };
	int status;
	pid_t child;

	if (geteuid() != 0)
		SKIP(return, "needs root to drop to nobody");
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		uint32_t before = current_gen();
		size_t i;
		int fd;

		if (drop_to_nobody())
			_exit(10);
		fd = open_dev(O_RDWR);
		if (fd < 0)
			_exit(11);
		for (i = 0; i < ARRAY_SIZE(args); i++)
			if (ioctl(fd, SYSGENID_FORCE_GEN_UPDATE, args[i]) != -1 || errno != EPERM)
				_exit(20 + i);
		_exit(current_gen() == before ? 0 : 12);
	}
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("exit %d: 20 + N means argument N was not refused with EPERM",
		       WEXITSTATUS(status));
}

TEST(unknown_ioctl_is_enotty)
{
	int fd = open_dev(O_RDWR);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, ioctl(fd, _IO(0xE4, 5), 0));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(fd, _IOR(0xE4, 4, uint32_t), 0));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(fd, _IO(0xE5, 1), 0));
	EXPECT_EQ(ENOTTY, errno);
	close(fd);
}

TEST(fdinfo_shows_acknowledged_generation_and_watcher)
{
	int rw = open_dev(O_RDWR), ro = open_dev(O_RDONLY);
	uint32_t gen = current_gen();
	char text[512], want[64];

	ASSERT_LE(0, rw);
	ASSERT_LE(0, ro);
	ASSERT_EQ(0, read_fdinfo(rw, text, sizeof(text)));
	snprintf(want, sizeof(want), "sysgenid_acked_generation:\t%u\n", gen);
	EXPECT_NE(NULL, strstr(text, want));
	EXPECT_NE(NULL, strstr(text, "sysgenid_watcher:\t0\n"));
	EXPECT_EQ(0, opt_in(rw));
	ASSERT_EQ(0, read_fdinfo(rw, text, sizeof(text)));
	EXPECT_NE(NULL, strstr(text, want));
	EXPECT_NE(NULL, strstr(text, "sysgenid_watcher:\t1\n"));
	EXPECT_EQ(0, ioctl(rw, SYSGENID_SET_WATCHER_TRACKING, 0UL));
	EXPECT_EQ(0, fdinfo_watcher(rw));

	ASSERT_EQ(0, read_fdinfo(ro, text, sizeof(text)));
	EXPECT_NE(NULL, strstr(text, want));
	EXPECT_NE(NULL, strstr(text, "sysgenid_watcher:\t0\n"));
	close(rw);
	close(ro);
}

/*
 * The bad-input matrix: every call the ABI refuses, with the error it must
 * give.  Each row runs against outdated watchers and must leave the
 * generation, the outdated count and the file's own state as they were.
 */
struct bad_input {
	const char *what;
	int expect;		/* errno */
	int noaccess;		/* needs the O_NOACCESS file */
};

static const struct bad_input bad_inputs[] = {
	{ "read of 1 byte", EINVAL },
	{ "read of 3 bytes", EINVAL },
	{ "read into NULL", EFAULT },
	{ "read into an unmapped page", EFAULT },
	{ "read into a read-only page", EFAULT },
	/* The VFS refuses a buffer that long before the driver sees it. */
	{ "read of SIZE_MAX bytes", EFAULT },
	{ "read on a write-only file", EBADF },
	{ "read on an up-to-date non-blocking file", EAGAIN },
	{ "write of 0 bytes", EINVAL },
	{ "write of 3 bytes", EINVAL },
	{ "write of 5 bytes", EINVAL },
	{ "write of 1 MiB", EINVAL },
	{ "write of SIZE_MAX bytes", EFAULT },
	{ "write from NULL", EFAULT },
	{ "write from an unmapped page", EFAULT },
	{ "write of the previous generation", EINVAL },
	{ "write of the next generation", EINVAL },
	{ "write on a read-only file", EBADF },
	{ "tracking 2", EINVAL },
	{ "tracking 2^32 + 1", EINVAL },
	{ "tracking ULONG_MAX", EINVAL },
	{ "tracking on a read-only file", EPERM },
	{ "wait 2^32 ms", EINVAL },
	{ "wait ULONG_MAX ms", EINVAL },
	{ "force min_gen 2^32", EINVAL },
	{ "force min_gen ULONG_MAX", EINVAL },
	{ "ioctl _IO(0xE4, 0)", ENOTTY },
	{ "ioctl _IO(0xE4, 5)", ENOTTY },
	{ "ioctl _IO(0xE4, 0xff)", ENOTTY },
	{ "ioctl _IOR(0xE4, 1, int)", ENOTTY },
	{ "ioctl _IOW(0xE4, 2, int)", ENOTTY },
	{ "ioctl _IOWR(0xE4, 3, long)", ENOTTY },
	{ "ioctl _IOR(0xE4, 4, __u32)", ENOTTY },
	{ "ioctl _IO(0xE5, 1)", ENOTTY },
	{ "mmap at offset 1 page", EINVAL },
	{ "mmap of 2 pages", EINVAL },
	{ "mmap shared writable", EPERM },
	{ "mmap private writable", EPERM },
	{ "mmap of a write-only file", EACCES },
	{ "mprotect to writable", EACCES },
	{ "mremap to 2 pages", EFAULT },
	{ "RWF_NOWAIT read on an up-to-date blocking file", EAGAIN },
	{ "wait on an outdated watcher", EDEADLK },
	{ "tracking 2 on a writable file not opted in", EINVAL },
	{ "read on an O_ACCMODE 3 file", EBADF, 1 },
	{ "write on an O_ACCMODE 3 file", EBADF, 1 },
	{ "tracking on an O_ACCMODE 3 file", EPERM, 1 },
	/* A read-only file's read acknowledges, but only a read that works. */
	{ "read into NULL on an outdated read-only file", EFAULT },
};

struct bad_input_env {
	int rw, ro, wo, fresh, blocking, spare, noaccess;
	void *unmapped, *readonly, *map;
	uint32_t gen;
};

/* mmap() and mremap() as a result of run_bad_input(): -1 on failure. */
static long map_result(void *p)
{
	return p == MAP_FAILED ? -1 : 0;
}

static long write_u32(int fd, uint32_t value)
{
	return syscall(SYS_write, fd, &value, sizeof(value));
}

static long read_nowait(int fd)
{
	uint32_t buf;
	struct iovec iov = { .iov_base = &buf, .iov_len = sizeof(buf) };

	return preadv2(fd, &iov, 1, -1, RWF_NOWAIT);
}

/*
 * Runs row I; returns the call's result, with errno set by it.  Reads and
 * writes go through syscall() so that the C library's buffer checks do not
 * refuse the bad arguments first.
 */
static long run_bad_input(int i, struct bad_input_env *e)
{
	long page = getpagesize();
	uint32_t buf[2];

	switch (i) {
	case 0: return syscall(SYS_read, e->rw, buf, 1);
	case 1: return syscall(SYS_read, e->rw, buf, 3);
	case 2: return syscall(SYS_read, e->rw, NULL, 4);
	case 3: return syscall(SYS_read, e->rw, e->unmapped, 4);
	case 4: return syscall(SYS_read, e->rw, e->readonly, 4);
	case 5: return syscall(SYS_read, e->rw, buf, SIZE_MAX);
	case 6: return syscall(SYS_read, e->wo, buf, 4);
	case 7: return syscall(SYS_read, e->fresh, buf, 4);
	case 8: return syscall(SYS_write, e->rw, &e->gen, 0);
	case 9: return syscall(SYS_write, e->rw, &e->gen, 3);
	case 10: return syscall(SYS_write, e->rw, buf, 5);
	case 11: return syscall(SYS_write, e->rw, e->map, 1 << 20);
	case 12: return syscall(SYS_write, e->rw, &e->gen, SIZE_MAX);
	case 13: return syscall(SYS_write, e->rw, NULL, 4);
	case 14: return syscall(SYS_write, e->rw, e->unmapped, 4);
	case 15: return write_u32(e->rw, e->gen - 1);
	case 16: return write_u32(e->rw, e->gen + 1);
	case 17: return syscall(SYS_write, e->ro, &e->gen, 4);
	case 18: return ioctl(e->rw, SYSGENID_SET_WATCHER_TRACKING, 2UL);
	case 19: return ioctl(e->rw, SYSGENID_SET_WATCHER_TRACKING, (1UL << 32) + 1);
	case 20: return ioctl(e->rw, SYSGENID_SET_WATCHER_TRACKING, ULONG_MAX);
	case 21: return ioctl(e->ro, SYSGENID_SET_WATCHER_TRACKING, 1UL);
	case 22: return ioctl(e->ro, SYSGENID_WAIT_WATCHERS, 1UL << 32);
	case 23: return ioctl(e->ro, SYSGENID_WAIT_WATCHERS, ULONG_MAX);
	case 24: return ioctl(e->ro, SYSGENID_FORCE_GEN_UPDATE, 1UL << 32);
	case 25: return ioctl(e->ro, SYSGENID_FORCE_GEN_UPDATE, ULONG_MAX);
	case 26: return ioctl(e->rw, _IO(0xE4, 0), 0);
	case 27: return ioctl(e->rw, _IO(0xE4, 5), 0);
	case 28: return ioctl(e->rw, _IO(0xE4, 0xff), 0);
	case 29: return ioctl(e->rw, _IOR(0xE4, 1, int), buf);
	case 30: return ioctl(e->rw, _IOW(0xE4, 2, int), buf);
	case 31: return ioctl(e->rw, _IOWR(0xE4, 3, long), buf);
	case 32: return ioctl(e->rw, _IOR(0xE4, 4, __u32), buf);
	case 33: return ioctl(e->rw, _IO(0xE5, 1), 0);
	case 34: return map_result(mmap(NULL, page, PROT_READ, MAP_SHARED, e->rw, page));
	case 35: return map_result(mmap(NULL, 2 * page, PROT_READ, MAP_SHARED, e->rw, 0));
	case 36: return map_result(mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, e->rw, 0));
	case 37: return map_result(mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE, e->rw, 0));
	case 38: return map_result(mmap(NULL, page, PROT_READ, MAP_SHARED, e->wo, 0));
	case 39: return mprotect(e->map, page, PROT_READ | PROT_WRITE);
	case 40: return map_result(mremap(e->map, page, 2 * page, MREMAP_MAYMOVE));
	case 41: return read_nowait(e->blocking);
	case 42: return ioctl(e->rw, SYSGENID_WAIT_WATCHERS, 1000UL);
	case 43: return ioctl(e->spare, SYSGENID_SET_WATCHER_TRACKING, 2UL);
	case 44: return syscall(SYS_read, e->noaccess, buf, 4);
	case 45: return syscall(SYS_write, e->noaccess, &e->gen, 4);
	case 46: return ioctl(e->noaccess, SYSGENID_SET_WATCHER_TRACKING, 1UL);
	case 47: return syscall(SYS_read, e->ro, NULL, 4);
	}
	return 0;
}

/* What a bad input must not change. */
static void bad_input_state(struct bad_input_env *e, char *text, size_t size)
{
	char info[512], ro[512];
	long n = outdated(e->ro);

	if (read_fdinfo(e->rw, info, sizeof(info)) != 0 || !strstr(info, "sysgenid_"))
		snprintf(info, sizeof(info), "sysgenid_ (no fdinfo)");
	if (read_fdinfo(e->ro, ro, sizeof(ro)) != 0 || !strstr(ro, "sysgenid_"))
		snprintf(ro, sizeof(ro), "sysgenid_ (no fdinfo)");
	snprintf(text, size, "generation %u page %u outdated %ld spare watcher %d %s read-only %s",
		 current_gen(), __atomic_load_n((uint32_t *)e->map, __ATOMIC_ACQUIRE), n,
		 fdinfo_watcher(e->spare), strstr(info, "sysgenid_"), strstr(ro, "sysgenid_"));
}

TEST(bad_input_matrix_leaves_state_unchanged)
{
	struct bad_input_env e;
	long page = getpagesize();
	char before[1200], after[1200];
	int rows = ARRAY_SIZE(bad_inputs), skipped = 0;

	ASSERT_EQ(48, rows);
	e.rw = open_watcher(O_RDWR | O_NONBLOCK);
	e.ro = open_dev(O_RDONLY | O_NONBLOCK);
	e.wo = open_watcher(O_WRONLY);
	e.spare = open_dev(O_WRONLY);
	ASSERT_LE(0, e.rw);
	ASSERT_LE(0, e.ro);
	ASSERT_LE(0, e.wo);
	ASSERT_LE(0, e.spare);
	e.noaccess = open(DEV, O_NOACCESS | O_CLOEXEC);
	if (e.noaccess < 0)
		ksft_print_msg("open(%s, 3) failed (%s): its rows are skipped\n", DEV,
			       strerror(errno));
	e.gen = bump(0);
	ASSERT_NE(UINT32_MAX, e.gen);
	/* Opened after the bump: up to date, so a read that may not wait has nothing. */
	e.fresh = open_dev(O_RDONLY | O_NONBLOCK);
	e.blocking = open_dev(O_RDONLY);
	ASSERT_LE(0, e.fresh);
	ASSERT_LE(0, e.blocking);
	e.unmapped = mmap(NULL, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	e.readonly = mmap(NULL, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	e.map = mmap(NULL, page, PROT_READ, MAP_SHARED, e.rw, 0);
	ASSERT_NE(MAP_FAILED, e.unmapped);
	ASSERT_NE(MAP_FAILED, e.readonly);
	ASSERT_NE(MAP_FAILED, e.map);
	/*
	 * rw and wo are the outdated watchers (spare, with write access but
	 * not opted in, is not one); rw's own state is in fdinfo.
	 */
	ASSERT_EQ(2, outdated(e.ro));

	for (int i = 0; i < rows; i++) {
		const struct bad_input *row = &bad_inputs[i];
		long r;
		int err;

		if (row->noaccess && e.noaccess < 0) {
			skipped++;
			continue;
		}
		bad_input_state(&e, before, sizeof(before));
		/* A call that blocks where it must not fails with EINTR. */
		guard(3);
		errno = 0;
		r = run_bad_input(i, &e);
		err = errno;
		alarm(0);
		bad_input_state(&e, after, sizeof(after));
		EXPECT_EQ(-1, r) TH_LOG("%s: returned %ld", row->what, r);
		EXPECT_EQ(row->expect, err) TH_LOG("%s: %s, expected %s", row->what,
						   strerror(err), strerror(row->expect));
		EXPECT_STREQ(before, after) TH_LOG("%s changed the state", row->what);
	}
	ksft_print_msg("%d bad inputs checked, %d skipped\n", rows - skipped, skipped);
	munmap(e.map, page);
	munmap(e.unmapped, page);
	munmap(e.readonly, page);
	close(e.rw);
	close(e.ro);
	close(e.wo);
	close(e.spare);
	close(e.fresh);
	close(e.blocking);
	if (e.noaccess >= 0)
		close(e.noaccess);
}

TEST_HARNESS_MAIN
