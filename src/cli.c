/*
 * cli: the call-then-print shape of a handler (see cli.h).
 */
#include "config.h"

#include "cli.h"

int
cli_call(struct cli *c, const char *cmd, cJSON *args,
         int (*render)(struct cli *c, const struct cli_args *a, const cJSON *result),
         const struct cli_args *a)
{
	const cJSON *result;
	cJSON *root;
	int rc = cli_conn_call(&c->conn, cmd, args, true, &root, &result);

	if (rc != CLI_EXIT_OK)
		return rc;
	if (c->out.json)
		rc = cli_out_json(&c->out, c->conn.reply.data, c->conn.reply.len, result);
	else if ((rc = render(c, a, result)) == CLI_EXIT_OK)
		rc = cli_out_flush(&c->out);
	cJSON_Delete(root);
	return rc;
}
