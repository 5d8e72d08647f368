// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* netlink.c - one netlink dump, bounded (see netlink.h). */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "netlink.h"

/* Read the answer to dump seq; fn sees each message. */
static int nl_read(int fd, uint32_t seq, int (*fn)(const struct nlmsghdr *nlh, void *ctx),
		   void *ctx)
{
	static char buf[32768] __attribute__((aligned(NLMSG_ALIGNTO)));
	const struct nlmsghdr *nlh;
	ssize_t n;
	int len;

	/* Each recv() either makes progress or fails: the receive timeout bounds a stall. */
	for (;;) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		if (n == 0)
			return -EPIPE;
		len = (int)n;
		for (nlh = (const struct nlmsghdr *)buf; NLMSG_OK(nlh, len);
		     nlh = NLMSG_NEXT(nlh, len)) {
			if (nlh->nlmsg_seq != seq)
				continue;
			if (nlh->nlmsg_type == NLMSG_DONE)
				return 0;
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(nlh);

				if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
					return -EPROTO;
				return e->error ? e->error : -EPROTO;
			}
			if (fn(nlh, ctx))
				return 0;
		}
	}
}

int nl_dump(int proto, struct nlmsghdr *req, int (*fn)(const struct nlmsghdr *nlh, void *ctx),
	    void *ctx)
{
	static uint32_t seq;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct timeval tv = { .tv_sec = NL_DUMP_TIMEOUT_S };
	int fd, err;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, proto);
	if (fd < 0)
		return -errno;
	req->nlmsg_seq = ++seq;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    sendto(fd, req, req->nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		err = -errno;
	else
		err = nl_read(fd, req->nlmsg_seq, fn, ctx);
	close(fd);
	return err;
}
