/*
 * opts.h - every service's options, from one table: defaults, a
 * configuration file, the environment and the command line.
 *
 * A service describes its options once, as a table of struct opt (the
 * daemon skeleton adds the ones every service has: --config, --verbose,
 * --help).  From that table come the parser, --help, and the README's
 * option reference (opts_doc_markdown), so the three cannot disagree.
 *
 * Precedence, lowest first: the option's default, the configuration file,
 * the environment variable (when the option names one), the command line.
 *
 * The configuration file is INI, as nova.conf:
 *
 *     # comment            ; comment too
 *     [amqp]
 *     url = amqp://127.0.0.1:5672/
 *     password = s3cret
 *
 * Keys are matched exactly within their section; an unknown section or key
 * is an error (a typo must not silently leave a default in force), and so
 * is a key before the first section header.  [DEFAULT] is always a known
 * section.  Values run to the end of the line with surrounding blanks
 * removed; there is no quoting and no continuation.  A key given twice
 * takes its last value.
 *
 * An environment variable that is set but empty counts as unset, so that
 * `NOVAFS_X= cmd` cannot turn a number into a parse error.
 *
 * Secrets (OPT_SECRET) never come from the command line, where every user
 * on the machine can read them (ps, /proc/PID/cmdline): only from the file
 * or the environment.  A file that sets a secret must not be readable by
 * group or others; opts_load() refuses it otherwise, naming the file and
 * its mode.
 */
#ifndef NOVAFS_COMMON_OPTS_H
#define NOVAFS_COMMON_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum opt_type {
	OPT_STR,     /* char * (owned, freed by opts_release) */
	OPT_SECRET,  /* char *, never from the command line */
	OPT_INT,     /* long long, within [min, max] */
	OPT_DOUBLE,  /* double, within [min, max] */
	OPT_BOOL,    /* bool: true/false, yes/no, on/off, 1/0; a flag alone means true */
};

/* Where a value came from, for check functions and messages. */
enum opt_source { OPT_FROM_DEFAULT, OPT_FROM_FILE, OPT_FROM_ENV, OPT_FROM_FLAG };

struct opt {
	/* "DEFAULT", "amqp", "compute", ...; NULL: not in the file at all
	 * (--config itself, which only the command line can give) */
	const char *section;
	const char *key;      /* the key in that section */
	/* "--report-interval", or NULL: file/env only.  Two flags mean
	 * something to the parser itself: "--config" names the file to read
	 * (read before any other flag applies; see opts_load), and
	 * "--verbose" may be given as -v. */
	const char *flag;
	enum opt_type type;
	size_t offset;        /* offsetof() the value in the caller's struct */
	const char *def;      /* the default, as it would be written; NULL: none */
	double min, max;      /* OPT_INT and OPT_DOUBLE (ignored when both 0) */
	const char *env;      /* environment variable, or NULL */
	const char *metavar;  /* "SECONDS" in --help */
	const char *help;     /* one sentence */
	/* Optional: returns 0, or -EINVAL with a reason in err (which the
	 * parser prefixes with the option and where it came from). */
	int (*check)(const char *value, enum opt_source from, char *err,
		     size_t errlen);
};

/* Ends a table. */
#define OPT_END { NULL, NULL, NULL, OPT_STR, 0, NULL, 0, 0, NULL, NULL, NULL, NULL }

struct opts_spec {
	const char *prog;            /* "novafs-compute" */
	const char *summary;         /* one line for --help */
	const char *args;            /* positional arguments for usage, or NULL */
	const char *default_config;  /* used when --config is not given and it exists */
	const struct opt *const *tables; /* NULL-terminated; first match wins */
	/* Where each table's offsets point: NULL when all of them are into the
	 * base given to opts_load()/opts_release(); otherwise one struct per
	 * table, parallel to tables, and that base argument is ignored.  The
	 * daemon skeleton uses it to keep its own options (struct daemon)
	 * apart from the service's, and a service may do the same to share
	 * one table, and the struct behind it, between daemons. */
	void *const *bases;
};

/* Flags for opts_load. */
#define OPTS_KEEP_UNKNOWN 0x1u /* leave unknown arguments in argv (FUSE's) */

/*
 * Fills base from spec: defaults, then the configuration file (the value
 * of the "--config" option, else spec->default_config when that file
 * exists; a --config file that is missing is an error), then the
 * environment, then the command line.  base must start zeroed: options
 * without a default are left untouched.
 *
 * "--flag VALUE" and "--flag=VALUE" both work, and a known flag always
 * takes the next argument as its value, even one starting with '-'.
 * OPT_BOOL flags take no separate value: "--verbose", "--verbose=false".
 * -h and --help are understood for every spec, and --help-markdown
 * (opts_doc_markdown instead of the usage), -v for "--verbose".  A
 * flag that names a secret ("--password" for an OPT_SECRET key
 * "password", or "--amqp-password" with its section) is refused with a
 * reason, never passed on.
 *
 * Positional arguments are kept in argv, in order, and *argc is updated;
 * argv[*argc] is NULL.  With OPTS_KEEP_UNKNOWN, arguments that are not
 * options of the tables are kept too, as they are ("-o allow_other" stays
 * two arguments, for the next parser); without it they are errors.  "--"
 * ends the options: everything after it is kept; "--" itself is kept only
 * with OPTS_KEEP_UNKNOWN, so that the next parser stops there too.
 *
 * Returns 0; 1 when --help or --help-markdown was given (printed to
 * stdout: exit 0; it wins over any other error on the line); or -EINVAL (-ENOMEM)
 * with a one-line reason in err (exit 2).  argv is rearranged only when 0
 * is returned.  On error, what was already filled stays owned by base:
 * call opts_release() either way.
 */
int opts_load(const struct opts_spec *spec, void *base, int *argc, char **argv,
	      unsigned flags, char *err, size_t errlen);
/* Frees the strings opts_load() stored in base (every OPT_STR and
 * OPT_SECRET of every table; secrets are wiped first) and sets them NULL. */
void opts_release(const struct opts_spec *spec, void *base);

/* --help text: usage line, summary, then every option with its flag,
 * default, environment variable and config key; options without a flag
 * come last, as set only in the file or the environment. */
void opts_usage(const struct opts_spec *spec, FILE *f);
/* The README's reference table for spec: one Markdown row per option
 * (config key, flag, environment, default, meaning), in table order. */
void opts_doc_markdown(const struct opts_spec *spec, FILE *f);

#endif
