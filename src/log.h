/*
 * log: the one logging module.  Messages go to stderr; when JOURNAL_STREAM
 * says stderr is the journal, each line starts with a <N> syslog priority
 * prefix that journald understands, otherwise lines are plain and prefixed
 * with the program name.  Pure modules never log; their callers do.
 */
#ifndef FTMON_LOG_H
#define FTMON_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LEVEL_ERR = 3,
	LOG_LEVEL_WARNING = 4,
	LOG_LEVEL_NOTICE = 5,
	LOG_LEVEL_INFO = 6,
	LOG_LEVEL_DEBUG = 7,
};

/* Set the program name (not copied: must outlive the process) and decide
 * between journal and plain output from the environment. */
void log_init(const char *progname);
/* Messages above this level are dropped. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parse "err", "warning", "notice", "info" or "debug"; -1 if unknown. */
int log_level_parse(const char *name);

void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level level, const char *fmt, va_list ap);

/* Log at LOG_LEVEL_ERR and exit(1).  Only before the loop runs or on a
 * broken invariant. */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
