/*
 * events.c - the events stream (see events.h).
 */
#include "events.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/clock.h"
#include "common/strbuf.h"
#include "node.h"
#include "obj.h"
#include "publish.h"
#include "stream.h"

static struct stream *events;

static struct stream *events_stream(struct obj *o)
{
	return events;
}

int events_init(void)
{
	static const struct node node = {
		.name = "events",
		.type = NODE_STREAM,
		.mode = 0444,
		.stream = events_stream,
	};

	events = stream_new(EVENTS_KEPT);
	if (!events)
		return -ENOMEM;
	return obj_root_add(&node);
}

void events_shutdown(void)
{
	stream_free(events);
	events = NULL;
}

/* One value as shown: text escaped onto one line, "" for empty. */
static void add_value(struct strbuf *sb, const struct field *f,
		      const union value *v)
{
	char num[24];

	switch (f->type) {
	case FIELD_TEXT:
	case FIELD_BYTES:
		if (v->b)
			strbuf_add_escaped(sb, v->b->data, v->b->len);
		break;
	case FIELD_INT:
		snprintf(num, sizeof(num), "%lld", (long long)v->i);
		strbuf_addstr(sb, num);
		break;
	case FIELD_ENUM:
		strbuf_addstr(sb, f->names[v->i]);
		break;
	}
}

static void add_line(struct strbuf *sb, const char *stamp, const struct obj *o,
		     const char *field)
{
	strbuf_addf(sb, "%s\t%s\t", stamp, o->kind->name);
	strbuf_add_escaped(sb, o->name, strlen(o->name));
	strbuf_addf(sb, "\t%s\t", field);
}

void events_record(const struct publish_change *c, size_t n)
{
	struct strbuf sb = STRBUF_INIT;
	char stamp[CLOCK_ISO_LEN];
	size_t i;
	unsigned f;

	if (!events)
		return;
	clock_format_iso(clock_real_ns(), stamp);
	for (i = 0; i < n; i++) {
		const struct obj *o = c[i].o;
		const char *req = c[i].request && c[i].request[0] ? c[i].request : "-";

		if (!o->kind->table)
			continue; /* scratch files are nobody's business */
		if (c[i].created || c[i].deleted) {
			add_line(&sb, stamp, o, c[i].created ? "created" : "deleted");
			strbuf_addf(&sb, "-\t-\t%s\n", req);
			continue;
		}
		for (f = 0; f < o->kind->nfields; f++) {
			const struct field *fd = &o->kind->fields[f];

			if (!(c[i].mask & (1ULL << f)) || !(fd->flags & FIELD_EVENT))
				continue;
			add_line(&sb, stamp, o, fd->name);
			add_value(&sb, fd, &c[i].old[f]);
			strbuf_addch(&sb, '\t');
			add_value(&sb, fd, &o->v[f]);
			strbuf_addf(&sb, "\t%s\n", req);
		}
	}
	if (sb.len)
		stream_append(events, sb.buf, sb.len);
	strbuf_release(&sb);
}
