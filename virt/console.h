/*
 * console.h - the serial consoles of a host's domains, sent to novafs.
 *
 * virtlogd writes each qemu/kvm domain's serial console to a file of the
 * console directory (domain_xml.h); the compute host tails every novafs
 * domain's file on a timer and casts what is new as console_output
 * {host, uuid, data} to the conductor, in order: one chunk per domain is
 * on its way at a time, and the next is read only once the broker took
 * it.  A chunk holds at most RPC_MAX_CONSOLE_CHUNK bytes of valid UTF-8
 * without NUL (console_text() below).
 *
 * Which domains: those of the last listing (sync.c lists them at start,
 * on every lifecycle event and every report interval), so a new domain is
 * tailed from its first start.  A file is read from where the host left
 * it; from its start again when it began afresh (the domain started:
 * append='off', or the file shrank or was replaced: virtlogd rotated
 * it).  At the host's own start, files that exist already are taken from
 * their end: what they hold was sent by the host's previous run, and
 * sending it twice would garble the console; what the guest printed while
 * no host ran is lost.  A driver without console logs (the test driver)
 * has nothing to tail, and nothing is sent.
 */
#ifndef NOVAFS_VIRT_CONSOLE_H
#define NOVAFS_VIRT_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>

struct compute_manager;
struct strbuf;
struct virt_domain_state;

struct console;

/* Creates m's console tailer; nothing is read until console_track().
 * Returns 0 or -ENOMEM. */
int console_new(struct compute_manager *m, struct console **out);
/* Stops the timer: nothing more is read or sent.  Accepts NULL. */
void console_stop(struct console *c);
/* Frees the tailer; call once no callback of the bus can run (after
 * rpc_bus_free).  Accepts NULL. */
void console_free(struct console *c);

/* Tails exactly the domains of doms[0..n-1] from now on; startup: this is
 * the host's first listing (existing files are taken from their end). */
void console_track(struct console *c, const struct virt_domain_state *doms,
		   size_t n, bool startup);
/* The domain uuid started: its file begins afresh. */
void console_restart(struct console *c, const char *uuid);

/*
 * Appends in[0..len) to out as text a JSON string can hold, and returns
 * how many bytes of in it took.  Valid UTF-8 is copied as is; a NUL byte,
 * and each byte that begins no valid sequence (a stray continuation byte,
 * an overlong form, a surrogate, a code point above U+10FFFF, a lead byte
 * cut short by a byte that cannot continue it), become U+FFFD, one per
 * byte (as the WHATWG decoder and Python's errors="replace" do).  It stops
 * before a sequence that in ends in the middle of (its rest may follow in
 * the next read), and before a character that would take out past max
 * bytes (at least one byte of in is taken when max >= 3).
 */
size_t console_text(const char *in, size_t len, struct strbuf *out, size_t max);

#endif
