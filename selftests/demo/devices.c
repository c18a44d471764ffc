// SPDX-License-Identifier: GPL-2.0
/*
 * devices.c: file descriptors against the memory devices, and the errors a
 * program meets on the way (ENOENT, EBADF, EFAULT, ENOSPC, EMFILE).
 *
 * The C twin of devices.ts; devices.expected is what this prints on Linux
 * (glibc 2.36) run with the default limits: prlimit --nofile=1024:4096.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#define FILE_PATH "/tmp/devices-demo.txt"

static void report(const char *what, long ret)
{
	if (ret < 0)
		printf("%s = %ld %s (%s)\n", what, ret, strerrorname_np(errno), strerror(errno));
	else
		printf("%s = %ld\n", what, ret);
}

int main(int argc, char *argv[])
{
	unsigned char buf[16];
	struct rlimit rl;
	long page = sysconf(_SC_PAGESIZE);
	int null_fd, zero_fd, full_fd, file_fd, fd, last, count, i;
	char *map, *hole;
	ssize_t n;

	null_fd = open("/dev/null", O_RDWR);
	report("open(\"/dev/null\", O_RDWR)", null_fd);
	zero_fd = open("/dev/zero", O_RDONLY);
	report("open(\"/dev/zero\", O_RDONLY)", zero_fd);
	report("close(null_fd)", close(null_fd));
	null_fd = open("/dev/null", O_RDWR);
	report("open(\"/dev/null\", O_RDWR)", null_fd);

	memset(buf, 0xa5, sizeof(buf));
	n = read(zero_fd, buf, sizeof(buf));
	report("read(zero_fd, buf, 16)", n);
	for (i = 0; i < (int)sizeof(buf) && buf[i] == 0; i++)
		;
	printf("zero bytes read: %d of %zu\n", i, sizeof(buf));
	report("write(null_fd, buf, 16)", write(null_fd, buf, sizeof(buf)));
	report("read(null_fd, buf, 16)", read(null_fd, buf, sizeof(buf)));

	report("open(\"/nonexistent/file\", O_RDONLY)", open("/nonexistent/file", O_RDONLY));
	report("open(\"/missing\", O_RDONLY)", open("/missing", O_RDONLY));

	fd = dup(null_fd);
	report("dup(null_fd)", fd);
	report("close(fd)", close(fd));
	report("close(fd) again", close(fd));

	/* Two pages, the second unmapped: `hole` is a bad address, and the
	 * 16 bytes before it straddle the boundary (8 mapped, 8 not). */
	map = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	printf("mmap(2 pages) %s\n", map == MAP_FAILED ? "failed" : "ok");
	report("munmap(second page)", munmap(map + page, page));
	hole = map + page;
	report("read(zero_fd, hole, 16)", read(zero_fd, hole, 16));
	report("read(zero_fd, hole - 8, 16)", read(zero_fd, hole - 8, 16));

	file_fd = open(FILE_PATH, O_RDWR | O_CREAT | O_TRUNC, 0644);
	report("open(FILE_PATH, O_RDWR|O_CREAT|O_TRUNC)", file_fd);
	report("write(file_fd, alphabet, 26)", write(file_fd, "abcdefghijklmnopqrstuvwxyz", 26));
	report("lseek(file_fd, 4, SEEK_SET)", lseek(file_fd, 4, SEEK_SET));
	report("read(file_fd, hole, 16)", read(file_fd, hole, 16));
	report("lseek(file_fd, 0, SEEK_CUR)", lseek(file_fd, 0, SEEK_CUR));
	report("read(file_fd, hole - 8, 16)", read(file_fd, hole - 8, 16));
	printf("bytes read: %.8s\n", hole - 8);
	report("lseek(file_fd, 0, SEEK_CUR)", lseek(file_fd, 0, SEEK_CUR));
	report("close(file_fd)", close(file_fd));
	report("unlink(FILE_PATH)", unlink(FILE_PATH));

	full_fd = open("/dev/full", O_WRONLY);
	report("open(\"/dev/full\", O_WRONLY)", full_fd);
	report("write(full_fd, buf, 16)", write(full_fd, buf, sizeof(buf)));
	report("read(full_fd, buf, 16)", read(full_fd, buf, sizeof(buf)));
	report("close(full_fd)", close(full_fd));

	report("getrlimit(RLIMIT_NOFILE)", getrlimit(RLIMIT_NOFILE, &rl));
	printf("RLIMIT_NOFILE: soft %llu, hard %llu\n",
	       (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
	report("sysconf(_SC_OPEN_MAX)", sysconf(_SC_OPEN_MAX));
	count = 0;
	last = -1;
	for (;;) {
		fd = open("/dev/null", O_RDONLY);
		if (fd < 0)
			break;
		last = fd;
		count++;
	}
	printf("opened %d more files, the last as fd %d\n", count, last);
	report("open(\"/dev/null\", O_RDONLY)", fd);
	for (fd = last; fd > zero_fd; fd--)
		if (fd != null_fd)
			close(fd);
	report("open(\"/dev/null\", O_RDONLY)", open("/dev/null", O_RDONLY));

	return 0;
}
