/*
 * fuse_caps.c - asks the kernel for the one INIT flag novafs needs that
 * libfuse 3.14 cannot ask for (see fuse_caps.h).
 *
 * Every file is opened with direct_io, so that each read renders the
 * value in force.  The kernel then refuses a shared mapping of such a
 * file (ENODEV) unless the daemon set FUSE_DIRECT_IO_ALLOW_MMAP in its
 * INIT reply (Linux 6.6, FUSE 7.39).  Programs that search a file by
 * mapping it map it shared: Ansible's wait_for with search_regex
 * (Python's mmap.ACCESS_READ) is one.  libfuse asks for the flag from
 * 3.16 on; Debian 12's 3.14 builds its INIT reply from the capabilities
 * it knows, and has no way to add another.
 *
 * So the session's reads and writes of /dev/fuse go through libfuse's
 * custom I/O hooks, which pass everything through unchanged but for the
 * INIT reply: when the kernel offered the flag, the reply asks for it.
 * With it, the kernel drops the file's cached pages at each mmap and
 * fills the mapping by ordinary reads, so a mapping shows the value in
 * force when it was made, as a read would.  Once novafs builds against
 * a libfuse that has FUSE_CAP_DIRECT_IO_ALLOW_MMAP, this file goes.
 */
#include "fuse_caps.h"

#include <errno.h>
#include <linux/fuse.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/log.h"

#ifndef FUSE_DIRECT_IO_ALLOW_MMAP
#define FUSE_DIRECT_IO_ALLOW_MMAP (1ULL << 36) /* Linux's uapi/linux/fuse.h, 7.39 */
#endif

/* The INIT request's unique id while its reply is due and the kernel
 * offered the flag; 0 otherwise (the kernel never uses 0). */
static _Atomic uint64_t init_unique;

static ssize_t caps_read(int fd, void *buf, size_t len, void *userdata)
{
	ssize_t n = read(fd, buf, len);
	const struct fuse_in_header *in = buf;
	const struct fuse_init_in *init = (const void *)(in + 1);
	uint64_t offered;

	if (n < (ssize_t)(sizeof(*in) + offsetof(struct fuse_init_in, flags2) +
			  sizeof(init->flags2)) || in->opcode != FUSE_INIT)
		return n;
	offered = init->flags & FUSE_INIT_EXT ?
		  (uint64_t)init->flags2 << 32 : 0;
	if (offered & FUSE_DIRECT_IO_ALLOW_MMAP)
		atomic_store(&init_unique, in->unique);
	else
		log_info("this kernel cannot map files opened with direct_io: "
			 "mmap of novafs's files fails with ENODEV");
	return n;
}

/* The INIT reply, as libfuse sends it: a header, then fuse_init_out
 * (at least up to flags2, at most as large as this kernel header's). */
static bool is_init_reply(const struct iovec *iov, int count, uint64_t unique)
{
	const struct fuse_out_header *out = iov[0].iov_base;

	return unique && count == 2 && iov[0].iov_len == sizeof(*out) &&
	       out->unique == unique && out->error == 0 &&
	       iov[1].iov_len >= offsetof(struct fuse_init_out, flags2) +
				 sizeof(((struct fuse_init_out *)0)->flags2) &&
	       iov[1].iov_len <= sizeof(struct fuse_init_out);
}

static ssize_t caps_writev(int fd, struct iovec *iov, int count, void *userdata)
{
	uint64_t unique = atomic_load(&init_unique);
	struct fuse_init_out reply = { 0 };
	struct iovec patched[2];

	if (!is_init_reply(iov, count, unique))
		return writev(fd, iov, count);
	atomic_store(&init_unique, 0);
	memcpy(&reply, iov[1].iov_base, iov[1].iov_len);
	/* flags2 counts only in a reply that says so. */
	if (!(reply.flags & FUSE_INIT_EXT))
		return writev(fd, iov, count);
	reply.flags2 |= (uint32_t)(FUSE_DIRECT_IO_ALLOW_MMAP >> 32);
	log_debug("asked the kernel to map files opened with direct_io");
	/* Only the copy changes; what libfuse holds stays as it was. */
	patched[0] = iov[0];
	patched[1].iov_base = &reply;
	patched[1].iov_len = iov[1].iov_len;
	return writev(fd, patched, 2);
}

int fuse_caps_install(struct fuse_session *se)
{
	static const struct fuse_custom_io io = {
		.read = caps_read,
		.writev = caps_writev,
	};

	return fuse_session_custom_io(se, &io, fuse_session_fd(se));
}
