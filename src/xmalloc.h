/*
 * xmalloc: allocation that never returns NULL.  Running out of memory ends
 * the process with a message, so no other module checks for NULL from these.
 */
#ifndef FTMON_XMALLOC_H
#define FTMON_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *ptr, size_t size);
/* realloc for n elements of size bytes, checking the multiplication. */
void *xreallocarray(void *ptr, size_t n, size_t size);
/* NULL in, NULL out. */
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* A new string from a printf format; the caller frees it. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
