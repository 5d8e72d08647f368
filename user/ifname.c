// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* ifname.c - interface names, checked once for every command (see ifname.h). */
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "ifname.h"

static int reason(char *why, size_t len, const char *msg)
{
	if (why && len)
		snprintf(why, len, "%s", msg);
	return -1;
}

int ifname_check(const char *name, char *why, size_t len)
{
	size_t n, i;

	if (!name || !*name)
		return reason(why, len, "empty");
	n = strnlen(name, IF_NAMESIZE);
	if (n >= IF_NAMESIZE)
		return reason(why, len, "longer than 15 bytes");
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return reason(why, len, "'.' and '..' are not interface names");
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '/')
			return reason(why, len, "holds '/'");
		if (c == ':')
			return reason(why, len, "holds ':'");
		if (c == ' ')
			return reason(why, len, "holds a blank");
		if (c < 0x20 || c >= 0x7f)
			return reason(why, len, "holds a control or non-ASCII character");
	}
	return 0;
}

const char *ifname_sanitise(const char *name, char buf[16])
{
	size_t i;

	for (i = 0; i < 15 && name[i]; i++)
		buf[i] = (name[i] > 0x20 && name[i] < 0x7f) ? name[i] : '?';
	buf[i] = '\0';
	return buf;
}
