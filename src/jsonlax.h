/*
 * jsonlax: a lenient JSON reader into cJSON.  Python's json.dumps (and the
 * servers built on it, the OpenAI API among them) write NaN, Infinity and
 * -Infinity as bare tokens, which strict parsers refuse.  jsonlax accepts
 * them as values (never inside strings), bounds the input's size and
 * nesting depth, and leaves the rest to cJSON.
 *
 * A non-finite value is kept in the tree as a marker string (a string that
 * begins with a control character no real value carries); read values
 * with jsonlax_number(), which turns markers back into doubles, and call
 * jsonlax_unmark() before re-serialising a subtree so markers become null.
 *
 * A string that holds a NUL (raw, or the escape \u0000) would end there as
 * a C string, silently: "train_loss\u0000junk" would read "train_loss".
 * Such a string, key or value, is replaced by a NUL marker instead; test
 * with jsonlax_is_nul() and jsonlax_key_is_nul() and refuse it.
 * Pure: no I/O, no logging.
 */
#ifndef FTMON_JSONLAX_H
#define FTMON_JSONLAX_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

struct jsonlax_limits {
	size_t max_bytes;   /* longer input is refused */
	unsigned max_depth; /* more nested arrays/objects are refused */
};

/*
 * Parse len bytes of body (need not be NUL-terminated).  Returns a tree
 * the caller frees with cJSON_Delete, or NULL with *why (if why is not
 * NULL) set to a static reason: empty input, too large, nested too deeply,
 * invalid JSON.  A body that strict parsing accepts costs one pass for the
 * depth check and a memchr/memmem for a NUL; only a body that it refuses,
 * or that holds a NUL in a string, is copied.
 */
cJSON *jsonlax_parse(const char *body, size_t len, const struct jsonlax_limits *lim,
                     const char **why);

/* A number, or a non-finite marker: stores its value.  False otherwise. */
bool jsonlax_number(const cJSON *it, double *out);

/* Only a non-finite marker: stores NAN, INFINITY or -INFINITY. */
bool jsonlax_nonfinite(const cJSON *it, double *out);

/* Did a string of body[0..len) hold a NUL?  (For readers that parse with
 * cJSON directly, such as the control protocol.) */
bool jsonlax_has_nul(const char *body, size_t len);

/* Is it the NUL marker (a string value that held a NUL)? */
bool jsonlax_is_nul(const cJSON *it);
/* Is its key the NUL marker? */
bool jsonlax_key_is_nul(const cJSON *it);

/* Turn every value marker below node (not node itself) into a JSON null,
 * and drop every member whose key held a NUL. */
void jsonlax_unmark(cJSON *node);

#endif
