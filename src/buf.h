/*
 * buf: a growable byte buffer.  Used for socket input/output, HTTP bodies
 * and building text.  A buf owns its data; buf_free() releases it.
 */
#ifndef FTMON_BUF_H
#define FTMON_BUF_H

#include <stddef.h>

struct buf {
	char *data; /* always NUL-terminated when len < cap */
	size_t len;
	size_t cap;
};

#define BUF_INIT           \
	{                  \
		NULL, 0, 0 \
	}

/* Make room for extra more bytes (and the NUL) without moving data later. */
void buf_reserve(struct buf *b, size_t extra);
void buf_append(struct buf *b, const void *data, size_t len);
void buf_puts(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Drop the first n bytes. */
void buf_consume(struct buf *b, size_t n);
void buf_reset(struct buf *b);
void buf_free(struct buf *b);
/* Hand the data to the caller (who frees it) and reset the buffer. */
char *buf_steal(struct buf *b);

#endif
