// SPDX-License-Identifier: GPL-2.0
/*
 * The /dev/sysgenid ABI, from userspace: every file operation and ioctl with
 * its results and errors (Documentation/misc-devices/sysgenid.rst).
 *
 * The generation is global and these tests move it, so every check is
 * relative to the generation a test finds when it starts.  Forcing a
 * generation needs CAP_CHECKPOINT_RESTORE; run as root.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/sysgenid.h>

#include "../kselftest_harness.h"

#define DEV "/dev/sysgenid"

static int open_dev(int flags)
{
	return open(DEV, flags | O_CLOEXEC);
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

	if (fd < 0 || ioctl(fd, SYSGENID_FORCE_GEN_UPDATE, (unsigned long)min_gen))
		return UINT32_MAX;
	close(fd);
	return current_gen();
}

static long outdated(int fd)
{
	return ioctl(fd, SYSGENID_GET_OUTDATED_WATCHERS, 0);
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
	int fd = open_dev(O_RDWR | O_NONBLOCK);
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
	EXPECT_EQ(4, write(fd, &gen, sizeof(gen)));
	EXPECT_EQ(-1, read(fd, &gen, sizeof(gen)));
	EXPECT_EQ(EAGAIN, errno);
	close(fd);
}

TEST(read_blocks_until_bump)
{
	int fd = open_dev(O_RDWR);
	uint32_t gen = 0, expected;
	pid_t child;
	int status;

	ASSERT_LE(0, fd);
	expected = current_gen() + 1;
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		usleep(200 * 1000);
		_exit(bump(0) == expected ? 0 : 1);
	}
	EXPECT_EQ(4, read(fd, &gen, sizeof(gen)));
	EXPECT_EQ(expected, gen);
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_EQ(0, status);
	close(fd);
}

TEST(write_errors_leave_state_unchanged)
{
	int fd = open_dev(O_RDWR | O_NONBLOCK);
	uint32_t gen, wrong, got;
	char five[5] = { 0 };
	void *unreadable;

	ASSERT_LE(0, fd);
	unreadable = mmap(NULL, getpagesize(), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, unreadable);
	gen = bump(0);
	ASSERT_NE(UINT32_MAX, gen);
	/* The file is this process's only watcher, and it is outdated. */
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
	EXPECT_EQ(1, poll(&p, 1, 0));
	EXPECT_EQ(POLLIN | POLLRDNORM, p.revents);
	EXPECT_EQ(4, write(fd, &gen, 4));
	EXPECT_EQ(0, poll(&p, 1, 0));
	close(fd);
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

TEST(watcher_tracking_rules)
{
	int rw = open_dev(O_RDWR), ro = open_dev(O_RDONLY);
	uint32_t gen;

	ASSERT_LE(0, rw);
	ASSERT_LE(0, ro);
	EXPECT_EQ(-1, ioctl(ro, SYSGENID_SET_WATCHER_TRACKING, 1));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(-1, ioctl(rw, SYSGENID_SET_WATCHER_TRACKING, 2));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, ioctl(ro, SYSGENID_SET_WATCHER_TRACKING, 0));

	gen = bump(0);
	/* Only the writable file counts, once however many bumps it missed. */
	EXPECT_EQ(1, outdated(ro));
	gen = bump(0);
	EXPECT_EQ(1, outdated(ro));
	EXPECT_EQ(0, ioctl(rw, SYSGENID_SET_WATCHER_TRACKING, 0));
	EXPECT_EQ(0, outdated(ro));
	EXPECT_EQ(0, ioctl(rw, SYSGENID_SET_WATCHER_TRACKING, 1));
	EXPECT_EQ(1, outdated(ro));
	EXPECT_EQ(4, write(rw, &gen, 4));
	EXPECT_EQ(0, outdated(ro));

	/* An outdated watcher that closes stops counting. */
	bump(0);
	EXPECT_EQ(1, outdated(ro));
	close(rw);
	EXPECT_EQ(0, outdated(ro));
	close(ro);
}

TEST(wait_watchers_rules)
{
	int orchestrator, straggler = open_dev(O_RDWR);
	uint32_t gen;

	ASSERT_LE(0, straggler);
	gen = bump(0);
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
	 * for the straggler; the straggler, itself outdated, cannot wait.
	 */
	gen = bump(0);
	EXPECT_EQ(-1, ioctl(orchestrator, SYSGENID_WAIT_WATCHERS, 50));
	EXPECT_EQ(ETIMEDOUT, errno);
	EXPECT_EQ(-1, ioctl(straggler, SYSGENID_WAIT_WATCHERS, 50));
	EXPECT_EQ(EINTR, errno);
	EXPECT_EQ(4, write(straggler, &gen, 4));
	close(orchestrator);
	close(straggler);
}

TEST(wait_watchers_fails_when_a_bump_lands)
{
	int orchestrator = open_dev(O_RDONLY), straggler = open_dev(O_RDWR);
	int status;
	pid_t pid;

	ASSERT_LE(0, orchestrator);
	ASSERT_LE(0, straggler);
	bump(0);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		usleep(200 * 1000);
		_exit(bump(0) == UINT32_MAX);
	}
	/* The wait began before the second bump: it cannot say the system settled. */
	EXPECT_EQ(-1, ioctl(orchestrator, SYSGENID_WAIT_WATCHERS, 10000));
	EXPECT_EQ(EINTR, errno);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, status);
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
			int fd = open_dev(O_RDWR);
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
	bump(0);
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

TEST(force_update_refused_to_unprivileged_user)
{
	const uid_t nobody = 65534;
	int status;
	pid_t child;

	if (geteuid() != 0)
		SKIP(return, "needs root to drop to nobody");
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		uint32_t before = current_gen();
		int fd;

		if (setgid(nobody) || setuid(nobody))
			_exit(10);
		fd = open_dev(O_RDWR);
		if (fd < 0)
			_exit(11);
		if (ioctl(fd, SYSGENID_FORCE_GEN_UPDATE, 0UL) != -1 || errno != EPERM)
			_exit(12);
		_exit(current_gen() == before ? 0 : 13);
	}
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
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

/* Reads /proc/self/fdinfo/FD into text; returns 0 or -1. */
static int read_fdinfo(int fd, char *text, size_t size)
{
	char path[64];
	ssize_t n;
	int info;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	info = open(path, O_RDONLY);
	if (info < 0)
		return -1;
	n = read(info, text, size - 1);
	close(info);
	if (n <= 0)
		return -1;
	text[n] = 0;
	return 0;
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
	EXPECT_NE(NULL, strstr(text, "sysgenid_watcher:\t1\n"));

	ASSERT_EQ(0, read_fdinfo(ro, text, sizeof(text)));
	EXPECT_NE(NULL, strstr(text, "sysgenid_watcher:\t0\n"));
	close(rw);
	close(ro);
}

/*
 * The bad-input matrix: every call the ABI refuses, with the error it must
 * give.  Each row runs against an outdated watcher and must leave the
 * generation, the outdated count and the file's own state as they were.
 */
struct bad_input {
	const char *what;
	int expect;		/* errno */
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
};

struct bad_input_env {
	int rw, ro, wo, fresh;
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
	}
	return 0;
}

/* What a bad input must not change. */
static void bad_input_state(struct bad_input_env *e, char *text, size_t size)
{
	char info[512];
	long n = outdated(e->ro);

	if (read_fdinfo(e->rw, info, sizeof(info)) != 0 || !strstr(info, "sysgenid_"))
		snprintf(info, sizeof(info), "sysgenid_ (no fdinfo)");
	snprintf(text, size, "generation %u page %u outdated %ld %s", current_gen(),
		 __atomic_load_n((uint32_t *)e->map, __ATOMIC_ACQUIRE), n,
		 strstr(info, "sysgenid_"));
}

TEST(bad_input_matrix_leaves_state_unchanged)
{
	struct bad_input_env e;
	long page = getpagesize();
	char before[640], after[640];
	int rows = ARRAY_SIZE(bad_inputs);

	ASSERT_EQ(41, rows);
	e.rw = open_dev(O_RDWR | O_NONBLOCK);
	e.ro = open_dev(O_RDONLY | O_NONBLOCK);
	e.wo = open_dev(O_WRONLY);
	ASSERT_LE(0, e.rw);
	ASSERT_LE(0, e.ro);
	ASSERT_LE(0, e.wo);
	e.gen = bump(0);
	ASSERT_NE(UINT32_MAX, e.gen);
	/* Opened after the bump: up to date, so a non-blocking read has nothing. */
	e.fresh = open_dev(O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, e.fresh);
	e.unmapped = mmap(NULL, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	e.readonly = mmap(NULL, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	e.map = mmap(NULL, page, PROT_READ, MAP_SHARED, e.rw, 0);
	ASSERT_NE(MAP_FAILED, e.unmapped);
	ASSERT_NE(MAP_FAILED, e.readonly);
	ASSERT_NE(MAP_FAILED, e.map);
	/* rw and wo are the outdated watchers; rw's own state is in fdinfo. */
	ASSERT_EQ(2, outdated(e.ro));

	for (int i = 0; i < rows; i++) {
		const struct bad_input *row = &bad_inputs[i];
		long r;
		int err;

		bad_input_state(&e, before, sizeof(before));
		errno = 0;
		r = run_bad_input(i, &e);
		err = errno;
		bad_input_state(&e, after, sizeof(after));
		EXPECT_EQ(-1, r) TH_LOG("%s: returned %ld", row->what, r);
		EXPECT_EQ(row->expect, err) TH_LOG("%s: %s, expected %s", row->what,
						   strerror(err), strerror(row->expect));
		EXPECT_STREQ(before, after) TH_LOG("%s changed the state", row->what);
	}
	ksft_print_msg("%d bad inputs checked\n", rows);
	munmap(e.map, page);
	munmap(e.unmapped, page);
	munmap(e.readonly, page);
	close(e.rw);
	close(e.ro);
	close(e.wo);
	close(e.fresh);
}

TEST_HARNESS_MAIN
