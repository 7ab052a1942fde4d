/*
 * t_opts: one declared option of every type (int with a range, float,
 * bool, string with a default, required string). At init it reads them all
 * through the host table (and two wrong reads: an undeclared name and the
 * wrong getter) and answers the request "<name>.opts" with
 * {"count","ratio","verbose","label","site","undeclared","wrong_type"},
 * the last two being host->strerror() of the wrong reads.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xiezhi/xiezhi.h>

typedef struct opts {
	xz_plugin     *self;
	const xz_host *host;
	char           json[1024];
	char           topic[160];
} opts;

static void
on_opts(void *ud, const xz_msg *msg)
{
	opts *o = ud;
	if (msg->kind == XZ_KIND_REQUEST)
		o->host->reply(o->self, msg, o->json, strlen(o->json));
}

/* The state is freed by p_fini. */
static int
p_init(xz_plugin *self, const xz_host *host, void **state)
{
	opts       *o       = calloc(1, sizeof(*o));
	int64_t     count   = -1, dummy;
	double      ratio   = -1;
	int         verbose = -1, rc;
	const char *label, *site;

	if (o == NULL)
		return XZ_ENOMEM;
	o->self = self;
	o->host = host;
	host->opt_int(self, "count", &count);
	host->opt_float(self, "ratio", &ratio);
	host->opt_bool(self, "verbose", &verbose);
	label = host->opt_string(self, "label");
	site  = host->opt_string(self, "site");
	snprintf(o->json, sizeof(o->json),
	    "{\"count\":%" PRId64 ",\"ratio\":%g,\"verbose\":%s,"
	    "\"label\":\"%s\",\"site\":\"%s\",\"undeclared\":\"%s\","
	    "\"wrong_type\":\"%s\"}",
	    count, ratio, verbose ? "true" : "false", label ? label : "",
	    site ? site : "",
	    host->strerror(host->opt_int(self, "nope", &dummy)),
	    host->strerror(host->opt_int(self, "label", &dummy)));
	snprintf(o->topic, sizeof(o->topic), "%s.opts", host->name(self));
	if ((rc = host->subscribe(self, o->topic, NULL, on_opts, o, NULL))
	    != XZ_OK) {
		free(o);
		return rc;
	}
	*state = o;
	return XZ_OK;
}

static void
p_fini(void *state)
{
	free(state);
}

static const xz_option_decl options[] = {
	{ .name          = "count",
	    .type        = XZ_OPT_INT,
	    .def         = "3",
	    .min         = 1,
	    .max         = 10,
	    .description = "an int in [1, 10]" },
	{ .name          = "ratio",
	    .type        = XZ_OPT_FLOAT,
	    .def         = "0.5",
	    .description = "a float" },
	{ .name          = "verbose",
	    .type        = XZ_OPT_BOOL,
	    .def         = "false",
	    .description = "a bool" },
	{ .name          = "label",
	    .type        = XZ_OPT_STRING,
	    .def         = "none",
	    .description = "a string with a default" },
	{ .name          = "site",
	    .type        = XZ_OPT_STRING,
	    .required    = 1,
	    .description = "a required string" },
	{ NULL },
};

static const xz_plugin_desc desc = {
	XZ_PLUGIN_DESC_HEADER,
	.name        = "t_opts",
	.version     = "1.0.0",
	.description = "declares an option of every type (tests)",
	.options     = options,
	.init        = p_init,
	.fini        = p_fini,
};

XZ_EXPORT const xz_plugin_desc *
xz_plugin_entry(void)
{
	return &desc;
}
