/* SPDX-License-Identifier: ISC */
/*
 * sdnotify.c: telling the service manager how the server is, by
 * systemd's notify protocol (sd_notify(3)), without libsystemd.
 * sdnotify_init() takes NOTIFY_SOCKET and the watchdog's interval from
 * the environment; sdnotify() sends a state ("READY=1", "STATUS=...")
 * and is a silent no-op when no service manager asked for them. A
 * failure to notify is logged once and never stops chatd.
 */
#ifndef CHATD_SDNOTIFY_H
#define CHATD_SDNOTIFY_H

#include <stdint.h>

void	sdnotify_init(void);
int	sdnotify_enabled(void);
void	sdnotify(const char *, ...) __attribute__((format(printf, 1, 2)));
int64_t	sdnotify_watchdog_ms(void);
uint64_t sdnotify_monotonic_usec(void);

#endif
