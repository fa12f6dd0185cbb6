/*
 * opts.c - options from one table: defaults, an INI file, the environment
 * and the command line, plus the --help text and the README table made
 * from the same table (opts.h).
 *
 * The command line is read twice.  The first pass only looks: it finds
 * --help or --help-markdown (which win over everything, even a bad
 * option next to them) and
 * --config, whose file must be applied before any flag so that flags win.
 * The second pass applies the flags; a last walk, once nothing can fail,
 * packs the arguments that stay into argv.  All three use the same
 * arg_next(), so they cannot disagree about which argument is a flag's
 * value and which is positional.
 *
 * Every message is one line: it is formatted, then escaped as the log
 * escapes, because it quotes bytes a user wrote (a value, a key, a path).
 */
#include "common/opts.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/strbuf.h"

/* One opts_load() call. */
struct load {
	const struct opts_spec *spec;
	void *base;
	unsigned flags;
	char *err;
	size_t errlen;
	bool failed;           /* err holds the first error: later ones are lost */
};

/* Walks every option of every table in order. */
struct opt_iter {
	const struct opts_spec *spec;
	size_t table;
	const struct opt *o;   /* the last one returned; NULL at first */
};

#define OPT_ITER_INIT(spec) { (spec), 0, NULL }

static const struct opt *opt_next(struct opt_iter *it)
{
	const struct opt *const *tables = it->spec->tables;

	if (!tables)
		return NULL;
	it->o = it->o ? it->o + 1 : tables[0];
	while (it->o && !it->o->key)
		it->o = tables[++it->table];
	return it->o;
}

/* The struct the current option's offset is into. */
static void *opt_iter_base(const struct opt_iter *it, void *base)
{
	return it->spec->bases ? it->spec->bases[it->table] : base;
}

static int __attribute__((format(printf, 2, 3)))
load_fail(struct load *ld, const char *fmt, ...)
{
	struct strbuf msg = STRBUF_INIT, line = STRBUF_INIT;
	va_list ap;

	if (ld->failed)
		return -EINVAL;
	ld->failed = true;
	va_start(ap, fmt);
	strbuf_vaddf(&msg, fmt, ap);
	va_end(ap);
	strbuf_add_escaped(&line, msg.buf, msg.len);
	if (ld->errlen)
		snprintf(ld->err, ld->errlen, "%s", line.buf);
	strbuf_release(&msg);
	strbuf_release(&line);
	return -EINVAL;
}

/* How a message names an option: its flag, else its config key. */
static void opt_name(struct strbuf *sb, const struct opt *o)
{
	if (o->flag)
		strbuf_addstr(sb, o->flag);
	else
		strbuf_addf(sb, "[%s] %s", o->section, o->key);
}

static bool opt_is_config(const struct opt *o)
{
	return o->flag && strcmp(o->flag, "--config") == 0;
}

/* The default shown to people: --config's is the spec's default file. */
static const char *opt_shown_default(const struct opts_spec *spec,
				     const struct opt *o)
{
	return !o->def && opt_is_config(o) ? spec->default_config : o->def;
}

static int parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(v, yes[i]) == 0 || strcasecmp(v, no[i]) == 0) {
			*out = strcasecmp(v, yes[i]) == 0;
			return 0;
		}
	}
	return -EINVAL;
}

static bool out_of_range(const struct opt *o, double v)
{
	return (o->min != 0 || o->max != 0) && (v < o->min || v > o->max);
}

/* Replaces the string at p; secrets do not linger in freed memory. */
static void store_str(const struct opt *o, char **p, char *s)
{
	if (*p && o->type == OPT_SECRET)
		explicit_bzero(*p, strlen(*p));
	free(*p);
	*p = s;
}

/*
 * Parses value as o's type and stores it in base.  where says where value
 * came from ("--port", "$NOVAFS_PORT", "/etc/x.conf:3: [amqp] port") and
 * starts every message.  Returns 0, -EINVAL or -ENOMEM.
 */
static int opt_set(struct load *ld, const struct opt *o, void *base,
		   const char *value, enum opt_source from, const char *where)
{
	void *p = (char *)base + o->offset;
	char reason[256] = "", *end, *s;
	long long ll = 0;
	double d = 0;
	bool b = false;

	switch (o->type) {
	case OPT_INT:
		errno = 0;
		ll = strtoll(value, &end, 10);
		if (!*value || *end || errno)
			return load_fail(ld, "%s: \"%s\" is not an integer", where,
					 value);
		if (out_of_range(o, (double)ll))
			return load_fail(ld, "%s: %lld is out of range %.0f..%.0f",
					 where, ll, o->min, o->max);
		break;
	case OPT_DOUBLE:
		d = strtod(value, &end);
		if (!*value || *end || !isfinite(d))
			return load_fail(ld, "%s: \"%s\" is not a number", where,
					 value);
		if (out_of_range(o, d))
			return load_fail(ld, "%s: %g is out of range %g..%g", where,
					 d, o->min, o->max);
		break;
	case OPT_BOOL:
		if (parse_bool(value, &b) < 0)
			return load_fail(ld, "%s: \"%s\" is not true or false "
					 "(nor yes/no, on/off, 1/0)", where, value);
		break;
	case OPT_STR:
	case OPT_SECRET:
		break;
	}
	if (o->check && o->check(value, from, reason, sizeof(reason)) < 0)
		return load_fail(ld, "%s: %s", where,
				 reason[0] ? reason : "invalid value");

	switch (o->type) {
	case OPT_INT:
		*(long long *)p = ll;
		break;
	case OPT_DOUBLE:
		*(double *)p = d;
		break;
	case OPT_BOOL:
		*(bool *)p = b;
		break;
	case OPT_STR:
	case OPT_SECRET:
		s = strdup(value);
		if (!s) {
			load_fail(ld, "%s: out of memory", where);
			return -ENOMEM;
		}
		store_str(o, p, s);
		break;
	}
	return 0;
}

static int load_defaults(struct load *ld)
{
	struct opt_iter it = OPT_ITER_INIT(ld->spec);
	struct strbuf where = STRBUF_INIT;
	const struct opt *o;
	int r = 0;

	while (r == 0 && (o = opt_next(&it))) {
		if (!o->def)
			continue;
		strbuf_reset(&where);
		strbuf_addstr(&where, "default of ");
		opt_name(&where, o);
		r = opt_set(ld, o, opt_iter_base(&it, ld->base), o->def,
			    OPT_FROM_DEFAULT, where.buf);
	}
	strbuf_release(&where);
	return r;
}

static int load_env(struct load *ld)
{
	struct opt_iter it = OPT_ITER_INIT(ld->spec);
	struct strbuf where = STRBUF_INIT;
	const struct opt *o;
	const char *v;
	int r = 0;

	while (r == 0 && (o = opt_next(&it))) {
		v = o->env ? getenv(o->env) : NULL;
		if (!v || !*v)
			continue;
		strbuf_reset(&where);
		strbuf_addf(&where, "$%s", o->env);
		r = opt_set(ld, o, opt_iter_base(&it, ld->base), v, OPT_FROM_ENV,
			    where.buf);
	}
	strbuf_release(&where);
	return r;
}

/* s without leading and trailing blanks (s is cut in place). */
static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' ||
			   end[-1] == '\n' || end[-1] == '\r'))
		end--;
	*end = '\0';
	return s;
}

/* The spelling of section name in the tables, or NULL if none has it. */
static const char *known_section(const struct opts_spec *spec,
				 const char *name)
{
	struct opt_iter it = OPT_ITER_INIT(spec);
	const struct opt *o;

	if (strcmp(name, "DEFAULT") == 0)
		return "DEFAULT";
	while ((o = opt_next(&it)))
		if (o->section && strcmp(o->section, name) == 0)
			return o->section;
	return NULL;
}

/* A configuration file being read. */
struct conf {
	const char *path;
	unsigned line;
	const char *section;   /* the current one (the tables' string) */
	struct stat st;
};

/* Applies one line of a configuration file. */
static int load_line(struct load *ld, struct conf *c, char *line)
{
	struct opt_iter it = OPT_ITER_INIT(ld->spec);
	struct strbuf where = STRBUF_INIT;
	const struct opt *o;
	char *s = trim(line), *eq, *key;
	int r;

	if (!*s || *s == '#' || *s == ';')
		return 0;
	if (*s == '[') {
		if (s[strlen(s) - 1] != ']')
			return load_fail(ld, "%s:%u: \"%s\" is not a [section] header",
					 c->path, c->line, s);
		s[strlen(s) - 1] = '\0';
		s = trim(s + 1);
		c->section = known_section(ld->spec, s);
		if (!c->section)
			return load_fail(ld, "%s:%u: unknown section [%s]", c->path,
					 c->line, s);
		return 0;
	}
	eq = strchr(s, '=');
	/* Not quoted back: "password s3cret" would put it in a log. */
	if (!eq)
		return load_fail(ld, "%s:%u: expected \"key = value\", a "
				 "[section] or a comment", c->path, c->line);
	*eq = '\0';
	key = trim(s);
	if (!c->section)
		return load_fail(ld, "%s:%u: key \"%s\" comes before any [section]",
				 c->path, c->line, key);
	while ((o = opt_next(&it)))
		if (o->section && strcmp(o->section, c->section) == 0 &&
		    strcmp(o->key, key) == 0)
			break;
	if (!o)
		return load_fail(ld, "%s:%u: unknown key \"%s\" in section [%s]",
				 c->path, c->line, key, c->section);
	if (o->type == OPT_SECRET && (c->st.st_mode & 077))
		return load_fail(ld, "%s: holds %s.%s but is %s group or others "
				 "(mode %04o): chmod 600 %s", c->path, o->section,
				 o->key, (c->st.st_mode & 044) ? "readable by" :
				 "open to", (unsigned)(c->st.st_mode & 07777), c->path);
	strbuf_addf(&where, "%s:%u: [%s] %s", c->path, c->line, o->section,
		    o->key);
	r = opt_set(ld, o, opt_iter_base(&it, ld->base), trim(eq + 1),
		    OPT_FROM_FILE, where.buf);
	strbuf_release(&where);
	return r;
}

/* Reads path; a missing file is an error only when must_exist. */
static int load_file(struct load *ld, const char *path, bool must_exist)
{
	struct conf c = { .path = path };
	char *line = NULL;
	size_t cap = 0;
	FILE *f = NULL;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT && !must_exist)
			return 0;
		return load_fail(ld, "%s: %s", path, strerror(errno));
	}
	/* The mode of the file actually read, not of whatever the path names
	 * by the time a secret turns up. */
	if (fstat(fd, &c.st) < 0 || !(f = fdopen(fd, "r"))) {
		r = load_fail(ld, "%s: %s", path, strerror(errno));
		close(fd);
		return r;
	}
	while (r == 0 && getline(&line, &cap, f) >= 0) {
		c.line++;
		r = load_line(ld, &c, line);
	}
	if (r == 0 && ferror(f))
		r = load_fail(ld, "%s: %s", path, strerror(errno));
	free(line);
	fclose(f);
	return r;
}

/* Whether s (len bytes) spells word with every '_' written as '-'. */
static bool dashed_eq(const char *s, size_t len, const char *word)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!word[i] || s[i] != (word[i] == '_' ? '-' : word[i]))
			return false;
	return !word[len];
}

/* Whether the flag name (len bytes, with its dashes) would set secret o:
 * its own flag (a table should not give it one), "--key" or
 * "--section-key". */
static bool names_secret(const struct opt *o, const char *name, size_t len)
{
	size_t n;

	if (o->type != OPT_SECRET)
		return false;
	if (o->flag && strlen(o->flag) == len &&
	    memcmp(o->flag, name, len) == 0)
		return true;
	if (len < 3 || name[1] != '-')
		return false;
	name += 2;
	len -= 2;
	if (dashed_eq(name, len, o->key))
		return true;
	n = o->section ? strlen(o->section) : 0;
	return n && len > n + 1 && name[n] == '-' &&
	       dashed_eq(name, n, o->section) &&
	       dashed_eq(name + n + 1, len - n - 1, o->key);
}

/* One step of the walk over argv. */
struct arg {
	enum { ARG_KEEP, ARG_DROP, ARG_HELP, ARG_HELP_MARKDOWN, ARG_OPT } kind;
	const struct opt *o;   /* ARG_OPT */
	void *base;            /* ARG_OPT: where o's offset points */
	const char *value;     /* ARG_OPT: its value; ARG_KEEP: the argument */
};

struct argv_walk {
	int argc;
	char **argv;
	int i;
	bool rest_kept;        /* after "--" */
};

/* The non-secret option with flag name (len bytes), or NULL. */
static const struct opt *find_flag(struct load *ld, const char *name,
				   size_t len, void **base)
{
	struct opt_iter it = OPT_ITER_INIT(ld->spec);
	const struct opt *o;

	while ((o = opt_next(&it))) {
		if (o->type != OPT_SECRET && o->flag &&
		    strlen(o->flag) == len && memcmp(o->flag, name, len) == 0) {
			*base = opt_iter_base(&it, ld->base);
			return o;
		}
	}
	return NULL;
}

/* Refuses a flag that would set secret o, saying where it goes instead. */
static int secret_flag(struct load *ld, const struct opt *o, const char *name,
		       size_t len)
{
	struct strbuf where = STRBUF_INIT;
	int r;

	if (o->section)
		strbuf_addf(&where, "the config file ([%s] %s)", o->section,
			    o->key);
	if (o->env)
		strbuf_addf(&where, "%s$%s", o->section ? " or " : "", o->env);
	r = load_fail(ld, "%.*s: secrets are not accepted on the command line "
		      "(any user can read it with ps): put it in %s", (int)len,
		      name, where.buf);
	strbuf_release(&where);
	return r;
}

/* A flag that is no option of the tables, name being len bytes of arg:
 * returns 1 when it is kept as it is, or an error. */
static int unknown_flag(struct load *ld, const char *arg, size_t len)
{
	struct opt_iter it = OPT_ITER_INIT(ld->spec);
	const struct opt *o;

	while ((o = opt_next(&it)))
		if (names_secret(o, arg, len))
			return secret_flag(ld, o, arg, len);
	if (!(ld->flags & OPTS_KEEP_UNKNOWN))
		return load_fail(ld, "%.*s: unknown option (see --help)", (int)len,
				 arg);
	return 1;
}

/*
 * Reads the next argument into a.  Returns 1, 0 at the end, or -EINVAL
 * (the walk can go on after an error: the bad argument was consumed).
 */
static int arg_next(struct load *ld, struct argv_walk *w, struct arg *a)
{
	const char *arg, *eq;
	size_t len;

	if (w->i >= w->argc)
		return 0;
	arg = w->argv[w->i++];
	a->kind = ARG_KEEP;
	a->value = arg;
	if (w->rest_kept || arg[0] != '-' || arg[1] == '\0')
		return 1;
	if (strcmp(arg, "--") == 0) {
		w->rest_kept = true;
		a->kind = (ld->flags & OPTS_KEEP_UNKNOWN) ? ARG_KEEP : ARG_DROP;
		return 1;
	}
	if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
		a->kind = ARG_HELP;
		return 1;
	}
	if (strcmp(arg, "--help-markdown") == 0) {
		a->kind = ARG_HELP_MARKDOWN;
		return 1;
	}
	eq = arg[1] == '-' ? strchr(arg, '=') : NULL;
	len = eq ? (size_t)(eq - arg) : strlen(arg);
	if (strcmp(arg, "-v") == 0)
		a->o = find_flag(ld, "--verbose", strlen("--verbose"),
				 &a->base);
	else
		a->o = find_flag(ld, arg, len, &a->base);
	if (!a->o)
		return unknown_flag(ld, arg, len);
	a->kind = ARG_OPT;
	if (eq)
		a->value = eq + 1;
	else if (a->o->type == OPT_BOOL)
		a->value = "true";
	else if (w->i < w->argc)
		a->value = w->argv[w->i++];
	else
		return load_fail(ld, "%s: needs a value (%s %s)", a->o->flag,
				 a->o->flag,
				 a->o->metavar ? a->o->metavar : "VALUE");
	return 1;
}

#define ARGV_WALK_INIT(argc, argv) { (argc), (argv), 1, false }

int opts_load(const struct opts_spec *spec, void *base, int *argc, char **argv,
	      unsigned flags, char *err, size_t errlen)
{
	struct load ld = { spec, base, flags, err, errlen, false };
	struct argv_walk w = ARGV_WALK_INIT(*argc, argv);
	const char *config = NULL;
	bool help = false, markdown = false;
	struct arg a;
	int r, kept;

	if (errlen)
		err[0] = '\0';
	while ((r = arg_next(&ld, &w, &a)) != 0) {
		if (r < 0)
			continue;
		if (a.kind == ARG_HELP)
			help = true;
		else if (a.kind == ARG_HELP_MARKDOWN)
			markdown = true;
		else if (a.kind == ARG_OPT && opt_is_config(a.o))
			config = a.value;
	}
	if (help || markdown) {
		if (markdown)
			opts_doc_markdown(spec, stdout);
		else
			opts_usage(spec, stdout);
		return 1;
	}
	if (ld.failed)
		return -EINVAL;

	r = load_defaults(&ld);
	if (r == 0 && (config || spec->default_config))
		r = load_file(&ld, config ? config : spec->default_config,
			      config != NULL);
	if (r == 0)
		r = load_env(&ld);
	w = (struct argv_walk)ARGV_WALK_INIT(*argc, argv);
	while (r == 0 && arg_next(&ld, &w, &a) > 0)
		if (a.kind == ARG_OPT)
			r = opt_set(&ld, a.o, a.base, a.value, OPT_FROM_FLAG,
				    a.o->flag);
	if (r < 0)
		return r;

	/* Only now that nothing can fail: argv stays whole on error. */
	w = (struct argv_walk)ARGV_WALK_INIT(*argc, argv);
	kept = *argc > 0 ? 1 : 0;
	while (arg_next(&ld, &w, &a) > 0)
		if (a.kind == ARG_KEEP)
			argv[kept++] = (char *)a.value;
	argv[kept] = NULL;
	*argc = kept;
	return 0;
}

void opts_release(const struct opts_spec *spec, void *base)
{
	struct opt_iter it = OPT_ITER_INIT(spec);
	const struct opt *o;
	char *b;

	while ((o = opt_next(&it))) {
		b = opt_iter_base(&it, base);
		if (o->type == OPT_STR || o->type == OPT_SECRET)
			store_str(o, (char **)(b + o->offset), NULL);
	}
}

/* "(default X; env Y; config [S] K)", or nothing when none applies. */
static void usage_details(const struct opts_spec *spec, const struct opt *o,
			  FILE *f)
{
	const char *def = opt_shown_default(spec, o);
	const char *sep = " (";

	if (def) {
		fprintf(f, "%sdefault %s", sep, def);
		sep = "; ";
	}
	if (o->env) {
		fprintf(f, "%senv %s", sep, o->env);
		sep = "; ";
	}
	if (o->section) {
		fprintf(f, "%sconfig [%s] %s", sep, o->section, o->key);
		sep = "; ";
	}
	if (sep[0] == ';')
		fputc(')', f);
}

static void usage_option(const struct opts_spec *spec, const struct opt *o,
			 FILE *f)
{
	if (o->flag && strcmp(o->flag, "--verbose") == 0)
		fputs("  -v, --verbose", f);
	else if (o->flag)
		fprintf(f, "  %s", o->flag);
	else
		fprintf(f, "  [%s] %s", o->section, o->key);
	if (o->flag && o->type != OPT_BOOL)
		fprintf(f, " %s", o->metavar ? o->metavar : "VALUE");
	fprintf(f, "\n        %s", o->help ? o->help : "");
	usage_details(spec, o, f);
	fputc('\n', f);
}

/* Secrets are listed with the file-only options even if a table gave them
 * a flag: opts_load() refuses it. */
static bool has_flag(const struct opt *o)
{
	return o->flag && o->type != OPT_SECRET;
}

void opts_usage(const struct opts_spec *spec, FILE *f)
{
	struct opt_iter it = OPT_ITER_INIT(spec);
	const struct opt *o;
	bool header = false;

	fprintf(f, "usage: %s [OPTION]...%s%s\n%s\n\n", spec->prog,
		spec->args ? " " : "", spec->args ? spec->args : "",
		spec->summary ? spec->summary : "");
	while ((o = opt_next(&it)))
		if (has_flag(o))
			usage_option(spec, o, f);
	fputs("  -h, --help\n        show this help and exit\n"
	      "  --help-markdown\n        show the options as the README's "
	      "Markdown table and exit\n", f);
	it = (struct opt_iter)OPT_ITER_INIT(spec);
	while ((o = opt_next(&it))) {
		if (has_flag(o))
			continue;
		if (!header)
			fputs("\nOnly in the configuration file or the "
			      "environment:\n", f);
		header = true;
		usage_option(spec, o, f);
	}
}

/* One table cell: '|' would end it early, so it is escaped. */
static void md_cell(FILE *f, const char *text, bool code)
{
	fputs(" ", f);
	if (text && *text) {
		if (code)
			fputc('`', f);
		for (; *text; text++) {
			if (*text == '|')
				fputc('\\', f);
			fputc(*text, f);
		}
		if (code)
			fputc('`', f);
	}
	fputs(" |", f);
}

void opts_doc_markdown(const struct opts_spec *spec, FILE *f)
{
	struct opt_iter it = OPT_ITER_INIT(spec);
	struct strbuf key = STRBUF_INIT;
	const struct opt *o;

	fputs("| config key | flag | environment | default | meaning |\n"
	      "|------------|------|-------------|---------|---------|\n", f);
	while ((o = opt_next(&it))) {
		strbuf_reset(&key);
		if (o->section)
			strbuf_addf(&key, "[%s] %s", o->section, o->key);
		fputc('|', f);
		md_cell(f, key.buf, true);
		md_cell(f, has_flag(o) ? o->flag : NULL, true);
		md_cell(f, o->env, true);
		md_cell(f, opt_shown_default(spec, o), true);
		md_cell(f, o->help, false);
		fputc('\n', f);
	}
	strbuf_release(&key);
}
