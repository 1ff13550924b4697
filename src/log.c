/*
 * log: stderr logging with journald priority prefixes.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static const char *log_progname = "ftmon";
static enum log_level log_level = LOG_LEVEL_INFO;
static int log_journal;

void
log_init(const char *progname)
{
	log_progname = progname;
	/* systemd sets JOURNAL_STREAM to "dev:inode" of the stream it
	 * connected; a plain non-empty value is enough to trust here. */
	const char *js = getenv("JOURNAL_STREAM");
	log_journal = js != NULL && *js != '\0';
}

void
log_set_level(enum log_level level)
{
	log_level = level;
}

enum log_level
log_get_level(void)
{
	return log_level;
}

int
log_level_parse(const char *name)
{
	static const struct {
		const char *name;
		enum log_level level;
	} levels[] = {
	        {"err", LOG_LEVEL_ERR},         {"error", LOG_LEVEL_ERR},
	        {"warning", LOG_LEVEL_WARNING}, {"notice", LOG_LEVEL_NOTICE},
	        {"info", LOG_LEVEL_INFO},       {"debug", LOG_LEVEL_DEBUG},
	};
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (strcmp(name, levels[i].name) == 0)
			return (int)levels[i].level;
	return -1;
}

void
log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	static const char *const names[] = {
	        [LOG_LEVEL_ERR] = "error",     [LOG_LEVEL_WARNING] = "warning",
	        [LOG_LEVEL_NOTICE] = "notice", [LOG_LEVEL_INFO] = "info",
	        [LOG_LEVEL_DEBUG] = "debug",
	};
	char line[2048];

	if (level > log_level)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	/* One write per line so concurrent writers do not interleave, and
	 * control characters from remote input cannot forge log lines. */
	for (char *p = line; *p; p++)
		if ((unsigned char)*p < 0x20 && *p != '\t')
			*p = '?';
	if (log_journal)
		fprintf(stderr, "<%d>%s\n", (int)level, line);
	else
		fprintf(stderr, "%s: %s: %s\n", log_progname, names[level], line);
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

#define LOG_FN(fn, level)                 \
	void fn(const char *fmt, ...)     \
	{                                 \
		va_list ap;               \
		va_start(ap, fmt);        \
		log_vmsg(level, fmt, ap); \
		va_end(ap);               \
	}
LOG_FN(log_err, LOG_LEVEL_ERR)
LOG_FN(log_warn, LOG_LEVEL_WARNING)
LOG_FN(log_notice, LOG_LEVEL_NOTICE)
LOG_FN(log_info, LOG_LEVEL_INFO)
LOG_FN(log_debug, LOG_LEVEL_DEBUG)

void
fatal(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(LOG_LEVEL_ERR, fmt, ap);
	va_end(ap);
	exit(1);
}
