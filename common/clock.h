/*
 * clock.h - the two clocks novafs reads.
 *
 * Durations and deadlines use CLOCK_MONOTONIC, which never jumps; what is
 * shown to people or stored (created_at, event times) uses CLOCK_REALTIME.
 * Every other module reads time through these, so that there is one place
 * to stub it in a test.
 */
#ifndef NOVAFS_COMMON_CLOCK_H
#define NOVAFS_COMMON_CLOCK_H

#include <stdint.h>
#include <time.h>

int64_t clock_mono_ms(void);
int64_t clock_mono_ns(void);
int64_t clock_real_ns(void);
/* ns (CLOCK_REALTIME nanoseconds) as a struct timespec. */
struct timespec clock_ns_to_timespec(int64_t ns);
/* Writes ns as "2026-11-25T18:39:03.123456Z" (UTC, microseconds) into buf,
 * which must hold CLOCK_ISO_LEN bytes. */
#define CLOCK_ISO_LEN 32
void clock_format_iso(int64_t ns, char buf[CLOCK_ISO_LEN]);

#endif
