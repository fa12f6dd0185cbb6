/*
 * test_opts.c - opts.h: precedence (default < file < env < flag), the INI
 * file and its errors, secrets (file mode, no flags), argv kept for FUSE,
 * "--", ranges, booleans, --help, and the --help and Markdown texts.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/opts.h"
#include "testhelp.h"

struct cfg {
	char *url;
	char *password;
	char *host;
	long long interval;
	double ratio;
	bool dump;
};

/* The options a daemon adds, kept in a struct of their own (opts_spec's
 * bases), as daemon.c does. */
struct own {
	char *config;
	bool verbose;
};

static int check_host(const char *value, enum opt_source from, char *err,
		      size_t len)
{
	if (!strchr(value, ' '))
		return 0;
	snprintf(err, len, "a host name has no spaces");
	return -EINVAL;
}

#define C(m) offsetof(struct cfg, m)
static const struct opt svc_opts[] = {
	{ "amqp", "url", "--amqp-url", OPT_STR, C(url), "amqp://127.0.0.1/", 0,
	  0, "TEST_AMQP_URL", "URL", "the broker's URL", NULL },
	{ "amqp", "password", NULL, OPT_SECRET, C(password), NULL, 0, 0,
	  "TEST_AMQP_PASSWORD", NULL, "the broker password", NULL },
	{ "DEFAULT", "report_interval", "--report-interval", OPT_INT,
	  C(interval), "10", 1, 86400, "TEST_REPORT_INTERVAL", "SECONDS",
	  "seconds between two heartbeats", NULL },
	{ "compute", "ratio", "--ratio", OPT_DOUBLE, C(ratio), "1.5", 0.5, 16,
	  NULL, "R", "CPU overcommit | ratio", NULL },
	{ "compute", "host", "--host", OPT_STR, C(host), NULL, 0, 0, NULL,
	  "NAME", "this host's name", check_host },
	{ "compute", "dump", NULL, OPT_BOOL, C(dump), "false", 0, 0, NULL,
	  NULL, "dump the state on exit", NULL },
	OPT_END
};

#define O(m) offsetof(struct own, m)
static const struct opt own_opts[] = {
	{ NULL, "config", "--config", OPT_STR, O(config), NULL, 0, 0, NULL,
	  "PATH", "read options from this file", NULL },
	{ "DEFAULT", "verbose", "--verbose", OPT_BOOL, O(verbose), "false", 0,
	  0, NULL, NULL, "log debug messages too", NULL },
	OPT_END
};

static struct cfg cfg;
static struct own own;
static const struct opt *const tables[] = { svc_opts, own_opts, NULL };
static void *const bases[] = { &cfg, &own };
static struct opts_spec spec = {
	.prog = "test-opts",
	.summary = "Runs a test.",
	.args = "MOUNTPOINT",
	.tables = tables,
	.bases = bases,
};

static char dir[] = "/tmp/test_opts.XXXXXX";
static char err[512];
static int kept_argc;
static char *kept[32];

static void reset(void)
{
	opts_release(&spec, NULL);
	CHECK(cfg.url == NULL && cfg.host == NULL && own.config == NULL);
	memset(&cfg, 0, sizeof(cfg));
	memset(&own, 0, sizeof(own));
	spec.default_config = NULL;
}

/* opts_load() over "test-opts" and the NULL-terminated arguments; the
 * arguments left are in kept[]. */
static int load(unsigned flags, ...)
{
	static char storage[32][256];
	const char *arg;
	va_list ap;

	kept_argc = 0;
	snprintf(storage[kept_argc], sizeof(storage[0]), "test-opts");
	kept[kept_argc] = storage[kept_argc];
	kept_argc++;
	va_start(ap, flags);
	while ((arg = va_arg(ap, const char *))) {
		snprintf(storage[kept_argc], sizeof(storage[0]), "%s", arg);
		kept[kept_argc] = storage[kept_argc];
		kept_argc++;
	}
	va_end(ap);
	kept[kept_argc] = NULL;
	return opts_load(&spec, NULL, &kept_argc, kept, flags, err, sizeof(err));
}

/* The arguments left, joined by spaces. */
static const char *kept_str(void)
{
	static char buf[512];
	int i;

	buf[0] = '\0';
	for (i = 0; i < kept_argc; i++) {
		if (i)
			strcat(buf, " ");
		strcat(buf, kept[i]);
	}
	return kept[kept_argc] == NULL ? buf : "argv not NULL-terminated";
}

/* Writes dir/name with text and mode; returns the path (static, one per
 * name slot). */
static const char *conf(int slot, const char *name, mode_t mode,
			const char *text)
{
	static char paths[4][256];
	FILE *f;

	snprintf(paths[slot], sizeof(paths[slot]), "%s/%s", dir, name);
	f = fopen(paths[slot], "w");
	fputs(text, f);
	fclose(f);
	chmod(paths[slot], mode);
	return paths[slot];
}

static char want[1024];

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void test_defaults(void)
{
	reset();
	spec.default_config = "/nonexistent/test-opts.conf"; /* skipped */
	CHECK_INT(load(0, NULL), 0);
	CHECK_STR(cfg.url, "amqp://127.0.0.1/");
	CHECK(cfg.password == NULL && cfg.host == NULL);
	CHECK_INT(cfg.interval, 10);
	CHECK(cfg.ratio == 1.5);
	CHECK(!cfg.dump && !own.verbose && own.config == NULL);
	CHECK_STR(kept_str(), "test-opts");
}

static void test_precedence(void)
{
	const char *def = conf(0, "default.conf", 0600,
			       "[amqp]\nurl = amqp://file/\n"
			       "[DEFAULT]\nreport_interval = 20\n");
	const char *other = conf(1, "other.conf", 0600,
				 "[DEFAULT]\nreport_interval = 25\n");

	reset();
	spec.default_config = def;
	CHECK_INT(load(0, NULL), 0);
	CHECK_INT(cfg.interval, 20);
	CHECK_STR(cfg.url, "amqp://file/");

	reset();
	spec.default_config = def;
	setenv("TEST_REPORT_INTERVAL", "30", 1);
	setenv("TEST_AMQP_URL", "", 1); /* empty: as if unset */
	CHECK_INT(load(0, NULL), 0);
	CHECK_INT(cfg.interval, 30);
	CHECK_STR(cfg.url, "amqp://file/");

	reset();
	spec.default_config = def;
	setenv("TEST_AMQP_URL", "amqp://env/", 1);
	CHECK_INT(load(0, "--report-interval", "40", "--amqp-url=amqp://flag/",
		       NULL), 0);
	CHECK_INT(cfg.interval, 40);
	CHECK_STR(cfg.url, "amqp://flag/");
	unsetenv("TEST_REPORT_INTERVAL");
	unsetenv("TEST_AMQP_URL");

	/* --config replaces the default file, which is then not read at all,
	 * though --config comes last on the line. */
	reset();
	spec.default_config = def;
	CHECK_INT(load(0, "--report-interval", "41", "--config", other, NULL), 0);
	CHECK_INT(cfg.interval, 41); /* the flag still wins over the file */
	CHECK_STR(cfg.url, "amqp://127.0.0.1/");
	CHECK_STR(own.config, other);
	reset();
	CHECK_INT(load(0, "--config=", NULL), -EINVAL); /* empty: no such file */

	reset();
	CHECK_INT(load(0, "--config", other, NULL), 0);
	CHECK_INT(cfg.interval, 25);

	/* A later flag replaces an earlier one (and frees it). */
	reset();
	CHECK_INT(load(0, "--host", "a", "--host=b", NULL), 0);
	CHECK_STR(cfg.host, "b");
}

static void test_file_format(void)
{
	const char *path = conf(0, "format.conf", 0600,
				"# comment\n"
				"; comment too\n"
				"\n"
				"[ amqp ]\n"
				"   url   =   amqp://u@h/?a=b  \t\n"
				"[compute]\r\n"
				"host = first\r\n"
				"host = node1\n"
				"dump=yes\n"
				"ratio = 2.5\n"
				"[DEFAULT]\n"
				"report_interval = 86400"); /* no final newline */

	reset();
	CHECK_INT(load(0, "--config", path, NULL), 0);
	CHECK_STR(cfg.url, "amqp://u@h/?a=b");
	CHECK_STR(cfg.host, "node1"); /* the last one */
	CHECK(cfg.dump);
	CHECK(cfg.ratio == 2.5);
	CHECK_INT(cfg.interval, 86400);
}

/* Loads a file of text and expects err to be "PATH" followed by tail. */
static void check_file_error(const char *text, mode_t mode, const char *tail)
{
	const char *path = conf(2, "bad.conf", mode, text);

	reset();
	CHECK_INT(load(0, "--config", path, NULL), -EINVAL);
	snprintf(want, sizeof(want), "%s%s", path, tail);
	CHECK_STR(err, want);
}

static void test_file_errors(void)
{
	check_file_error("# x\n\n[amqp]\npasword = s3cret\n", 0600,
			 ":4: unknown key \"pasword\" in section [amqp]");
	check_file_error("[amqp]\nhost = x\n", 0600,
			 ":2: unknown key \"host\" in section [amqp]");
	check_file_error("[DEFAULT]\n[amqq]\nurl = x\n", 0600,
			 ":2: unknown section [amqq]");
	check_file_error("url = x\n", 0600,
			 ":1: key \"url\" comes before any [section]");
	check_file_error("[amqp\n", 0600,
			 ":1: \"[amqp\" is not a [section] header");
	check_file_error("[amqp]\npassword s3cret\n", 0600,
			 ":2: expected \"key = value\", a [section] or a comment");
	check_file_error("[DEFAULT]\n\nreport_interval = abc\n", 0600,
			 ":3: [DEFAULT] report_interval: \"abc\" is not an integer");
	check_file_error("[compute]\nhost = a b\n", 0600,
			 ":2: [compute] host: a host name has no spaces");
	/* --config has no section: it cannot be set from a file. */
	check_file_error("[DEFAULT]\nconfig = /x\n", 0600,
			 ":2: unknown key \"config\" in section [DEFAULT]");
	/* User bytes stay on one line. */
	check_file_error("[compute]\nratio = 1\x1b[2J\n", 0600,
			 ":2: [compute] ratio: \"1\\x1b[2J\" is not a number");

	reset();
	CHECK_INT(load(0, "--config", "/nonexistent/x.conf", NULL), -EINVAL);
	CHECK_STR(err, "/nonexistent/x.conf: No such file or directory");
	reset();
	CHECK_INT(load(0, "--config", dir, NULL), -EINVAL);
	snprintf(want, sizeof(want), "%s: Is a directory", dir);
	CHECK_STR(err, want);
}

static void test_secrets(void)
{
	const char *text = "[amqp]\npassword = s3cret\n";
	const char *path;

	static const struct { mode_t mode; const char *how; } bad[] = {
		{ 0644, "readable by" }, { 0640, "readable by" },
		{ 0620, "open to" },
	};
	char tail[600];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		path = conf(2, "bad.conf", bad[i].mode, text);
		snprintf(tail, sizeof(tail), ": holds amqp.password but is %s "
			 "group or others (mode %04o): chmod 600 %s", bad[i].how,
			 (unsigned)bad[i].mode, path);
		check_file_error(text, bad[i].mode, tail);
		CHECK(cfg.password == NULL);
	}

	reset();
	path = conf(0, "secret.conf", 0600, text);
	CHECK_INT(load(0, "--config", path, NULL), 0);
	CHECK_STR(cfg.password, "s3cret");

	/* Without a secret, any mode will do. */
	reset();
	path = conf(0, "open.conf", 0644, "[amqp]\nurl = amqp://x/\n");
	CHECK_INT(load(0, "--config", path, NULL), 0);

	reset();
	setenv("TEST_AMQP_PASSWORD", "envpw", 1);
	CHECK_INT(load(0, NULL), 0);
	CHECK_STR(cfg.password, "envpw");
	unsetenv("TEST_AMQP_PASSWORD");

	reset();
	CHECK_INT(load(0, "--password=x", NULL), -EINVAL);
	CHECK_STR(err, "--password: secrets are not accepted on the command "
		  "line (any user can read it with ps): put it in the config "
		  "file ([amqp] password) or $TEST_AMQP_PASSWORD");
	reset();
	CHECK_INT(load(OPTS_KEEP_UNKNOWN, "-f", "--amqp-password", "x", NULL),
		  -EINVAL);
	CHECK(starts_with(err, "--amqp-password: secrets are not accepted"));
	CHECK(strstr(err, "x\"") == NULL);
	reset();
	CHECK_INT(load(0, "--passwordx", NULL), -EINVAL);
	CHECK_STR(err, "--passwordx: unknown option (see --help)");
}

static void test_keep_unknown(void)
{
	reset();
	CHECK_INT(load(OPTS_KEEP_UNKNOWN, "-f", "-o", "allow_other", "--host",
		       "-weird", "MOUNTPOINT", "-d", "--unknown=3", "-v", NULL),
		  0);
	CHECK_STR(kept_str(),
		  "test-opts -f -o allow_other MOUNTPOINT -d --unknown=3");
	CHECK_STR(cfg.host, "-weird"); /* a known flag's value, not an option */
	CHECK(own.verbose);

	reset();
	CHECK_INT(load(0, "-f", NULL), -EINVAL);
	CHECK_STR(err, "-f: unknown option (see --help)");
	reset();
	CHECK_INT(load(0, "--bogus=1", NULL), -EINVAL);
	CHECK_STR(err, "--bogus: unknown option (see --help)");

	/* Positional arguments are kept either way. */
	reset();
	CHECK_INT(load(0, "a", "--host", "h", "-", "b", NULL), 0);
	CHECK_STR(kept_str(), "test-opts a - b");

	/* argv is left whole when opts_load fails. */
	reset();
	CHECK_INT(load(0, "--host", "h", "x", "--report-interval=0", NULL),
		  -EINVAL);
	CHECK_INT(kept_argc, 5);
	CHECK_STR(kept[1], "--host");
}

static void test_dashdash(void)
{
	reset();
	CHECK_INT(load(0, "--host", "h", "--", "--report-interval", "5", "x",
		       NULL), 0);
	CHECK_STR(kept_str(), "test-opts --report-interval 5 x");
	CHECK_INT(cfg.interval, 10);
	CHECK_STR(cfg.host, "h");

	reset();
	CHECK_INT(load(OPTS_KEEP_UNKNOWN, "-f", "--", "--help", "-v", NULL), 0);
	CHECK_STR(kept_str(), "test-opts -f -- --help -v");
	CHECK(!own.verbose);
}

static void check_flag_error(const char *arg, const char *message)
{
	reset();
	CHECK_INT(load(0, arg, NULL), -EINVAL);
	CHECK_STR(err, message);
}

static void test_values(void)
{
	check_flag_error("--report-interval=0",
			 "--report-interval: 0 is out of range 1..86400");
	check_flag_error("--report-interval=86401",
			 "--report-interval: 86401 is out of range 1..86400");
	check_flag_error("--report-interval=abc",
			 "--report-interval: \"abc\" is not an integer");
	check_flag_error("--report-interval=10x",
			 "--report-interval: \"10x\" is not an integer");
	check_flag_error("--report-interval=0x10",
			 "--report-interval: \"0x10\" is not an integer");
	check_flag_error("--report-interval=",
			 "--report-interval: \"\" is not an integer");
	check_flag_error("--report-interval=99999999999999999999",
			 "--report-interval: \"99999999999999999999\" is not an integer");
	check_flag_error("--report-interval=1\n2",
			 "--report-interval: \"1\\n2\" is not an integer");
	check_flag_error("--ratio=0.1", "--ratio: 0.1 is out of range 0.5..16");
	check_flag_error("--ratio=nan", "--ratio: \"nan\" is not a number");
	check_flag_error("--ratio=1e999", "--ratio: \"1e999\" is not a number");
	check_flag_error("--verbose=maybe", "--verbose: \"maybe\" is not true or "
			 "false (nor yes/no, on/off, 1/0)");
	check_flag_error("--host", "--host: needs a value (--host NAME)");
	check_flag_error("--host=a b", "--host: a host name has no spaces");

	reset();
	CHECK_INT(load(0, "--report-interval", "86400", "--ratio", "16", NULL),
		  0);
	CHECK_INT(cfg.interval, 86400);
	CHECK(cfg.ratio == 16);

	reset();
	setenv("TEST_REPORT_INTERVAL", "abc", 1);
	CHECK_INT(load(0, NULL), -EINVAL);
	CHECK_STR(err, "$TEST_REPORT_INTERVAL: \"abc\" is not an integer");
	unsetenv("TEST_REPORT_INTERVAL");

	reset();
	CHECK_INT(load(0, "--verbose", NULL), 0);
	CHECK(own.verbose);
	reset();
	CHECK_INT(load(0, "--verbose", "--verbose=false", NULL), 0);
	CHECK(!own.verbose);
	reset();
	CHECK_INT(load(0, "--verbose=On", NULL), 0);
	CHECK(own.verbose);
	/* A boolean flag takes no separate value: "false" is positional. */
	reset();
	CHECK_INT(load(0, "--verbose", "false", NULL), 0);
	CHECK(own.verbose);
	CHECK_STR(kept_str(), "test-opts false");
}

/* Runs load(flags, args...) with stdout in a file; returns its status and
 * leaves what was printed in out. */
static char out[8192];

static int load_help(const char *a, const char *b)
{
	char path[300];
	int fd, saved, r;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/stdout", dir);
	fflush(stdout);
	saved = dup(1);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	dup2(fd, 1);
	r = load(0, a, b, NULL);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	n = pread(fd, out, sizeof(out) - 1, 0);
	out[n > 0 ? n : 0] = '\0';
	close(fd);
	return r;
}

static void test_help(void)
{
	reset();
	CHECK_INT(load_help("--help", NULL), 1);
	CHECK(starts_with(out, "usage: test-opts [OPTION]... MOUNTPOINT\n"));
	reset();
	CHECK_INT(load_help("-h", NULL), 1);
	CHECK(strstr(out, "  -h, --help\n") != NULL);
	reset();
	CHECK_INT(load_help("--help-markdown", NULL), 1);
	CHECK(starts_with(out, "| config key | flag | environment | default | meaning |\n"));
	reset();
	CHECK_INT(load_help("--bogus", "--help-markdown"), 1);
	/* --help wins over a bad option next to it. */
	reset();
	CHECK_INT(load_help("--bogus", "--help"), 1);
	reset();
	CHECK_INT(load_help("--report-interval=abc", "-h"), 1);
	/* But not when it is a value, or after "--". */
	reset();
	CHECK_INT(load_help("--host", "--help"), 0);
	CHECK_STR(cfg.host, "--help");
	CHECK_STR(out, "");
	reset();
	CHECK_INT(load_help("--", "--help"), 0);
	CHECK_STR(kept_str(), "test-opts --help");
}

static char *capture_text(void (*fn)(const struct opts_spec *, FILE *))
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	fn(&spec, f);
	fclose(f);
	return buf;
}

static void test_usage_text(void)
{
	char *u;

	spec.default_config = "/etc/test.conf";
	u = capture_text(opts_usage);
	CHECK(starts_with(u, "usage: test-opts [OPTION]... MOUNTPOINT\n"
		      "Runs a test.\n\n  --amqp-url URL\n"));
	CHECK(strstr(u, "  --report-interval SECONDS\n"
		     "        seconds between two heartbeats (default 10; env "
		     "TEST_REPORT_INTERVAL; config [DEFAULT] report_interval)\n"));
	CHECK(strstr(u, "  --host NAME\n        this host's name "
		     "(config [compute] host)\n"));
	CHECK(strstr(u, "  --config PATH\n        read options from this file "
		     "(default /etc/test.conf)\n"));
	CHECK(strstr(u, "  -v, --verbose\n        log debug messages too "
		     "(default false; config [DEFAULT] verbose)\n"));
	CHECK(strstr(u, "  -h, --help\n        show this help and exit\n"
		     "  --help-markdown\n        show the options as the README's "
		     "Markdown table and exit\n\n"
		     "Only in the configuration file or the environment:\n"
		     "  [amqp] password\n        the broker password (env "
		     "TEST_AMQP_PASSWORD; config [amqp] password)\n"
		     "  [compute] dump\n"));
	free(u);

	u = capture_text(opts_doc_markdown);
	CHECK(starts_with(u, "| config key | flag | environment | default | meaning |\n"
		      "|------------|------|-------------|---------|---------|\n"
		      "| `[amqp] url` | `--amqp-url` | `TEST_AMQP_URL` | "
		      "`amqp://127.0.0.1/` | the broker's URL |\n"
		      "| `[amqp] password` |  | `TEST_AMQP_PASSWORD` |  | "
		      "the broker password |\n"
		      "| `[DEFAULT] report_interval` | `--report-interval` | "
		      "`TEST_REPORT_INTERVAL` | `10` | seconds between two "
		      "heartbeats |\n"
		      "| `[compute] ratio` | `--ratio` |  | `1.5` | CPU "
		      "overcommit \\| ratio |\n"));
	CHECK(strstr(u, "|  | `--config` |  | `/etc/test.conf` | read options "
		     "from this file |\n"));
	free(u);
}

/* One table, one base: the plain form. */
static void test_single_base(void)
{
	static const struct opt *const one[] = { svc_opts, NULL };
	struct opts_spec s = { .prog = "p", .tables = one };
	char *argv[] = { (char *)"p", (char *)"--host", (char *)"x", NULL };
	int argc = 3;
	struct cfg c = { 0 };

	CHECK_INT(opts_load(&s, &c, &argc, argv, 0, err, sizeof(err)), 0);
	CHECK_STR(c.host, "x");
	CHECK_INT(c.interval, 10);
	CHECK_INT(argc, 1);
	/* No --config in these tables: it is just unknown. */
	argv[1] = (char *)"--config";
	argc = 3;
	CHECK_INT(opts_load(&s, &c, &argc, argv, 0, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "--config: unknown option (see --help)");
	opts_release(&s, &c);
	CHECK(c.host == NULL && c.url == NULL);
	opts_release(&s, &c); /* twice is fine */
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	unsetenv("TEST_REPORT_INTERVAL");
	unsetenv("TEST_AMQP_URL");
	unsetenv("TEST_AMQP_PASSWORD");
	test_defaults();
	test_precedence();
	test_file_format();
	test_file_errors();
	test_secrets();
	test_keep_unknown();
	test_dashdash();
	test_values();
	test_help();
	test_usage_text();
	test_single_base();
	reset();
	snprintf(want, sizeof(want), "rm -rf '%s'", dir);
	CHECK_INT(system(want), 0);
	return test_done();
}
