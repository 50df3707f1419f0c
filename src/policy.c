/*
 * policy.c — loads a policy file with libyaml's event parser.
 *
 * The schema is small and fixed, so the loader is a recursive descent over
 * events: each level knows which keys it accepts and what type each value
 * has. Anything else — an unknown or repeated key, a wrong type, a bad
 * value, an anchor or alias, a second document — stops the load with
 * "file:line:column: message" at the offending event. Aliases are refused
 * outright, so an alias bomb never expands; nesting is refused at the first
 * level the schema does not expect, so depth never matters.
 *
 * A load parses into a zeroed "patch" policy (NULL / 0 = not set) and only
 * when the whole file is valid moves what it set into the target, so a bad
 * file leaves the policy untouched.
 */
#include "policy.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "imgref.h"

static const char *const env_names[RP_ENV_COUNT] = {
	"development", "test", "staging", "production",
};

const char *
rp_env_name(enum rp_env env)
{
	return (unsigned)env < RP_ENV_COUNT ? env_names[env] : "unknown";
}

/* The default policy, embedded from policy/default.yaml at build time. */
__asm__(".section .rodata\n"
	".global rp_default_policy\n"
	".type rp_default_policy, @object\n"
	"rp_default_policy:\n"
	".incbin \"policy/default.yaml\"\n"
	".byte 0\n"
	".size rp_default_policy, . - rp_default_policy\n"
	".previous\n");

struct yp {
	yaml_parser_t parser;
	yaml_event_t ev;
	int have_ev;
	const char *name;
	struct rp_err *err;
};

static rp_status
yp_fail_at(struct yp *y, yaml_mark_t m, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static rp_status
yp_fail_at(struct yp *y, yaml_mark_t m, const char *fmt, ...)
{
	char msg[1024], qn[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return rp_fail_at(y->err, RP_EINPUT, y->name, (unsigned)m.line + 1,
			  (unsigned)m.column + 1, "%s:%zu:%zu: %s",
			  rp_quote(y->name, 200, qn, sizeof(qn)), m.line + 1, m.column + 1, msg);
}

/* Running out of memory is exit 1, not a policy error. */
static rp_status
yp_nomem(struct yp *y)
{
	char qn[256];

	return rp_fail(y->err, RP_ENOMEM, "%s: out of memory",
		       rp_quote(y->name, 200, qn, sizeof(qn)));
}

/* Advances to the next event; refuses anchors and aliases. */
static rp_status
yp_next(struct yp *y)
{
	if (y->have_ev) {
		yaml_event_delete(&y->ev);
		y->have_ev = 0;
	}
	if (!yaml_parser_parse(&y->parser, &y->ev)) {
		const char *prob = y->parser.problem != NULL ?
		    y->parser.problem : "invalid YAML";
		yaml_mark_t m = y->parser.problem_mark;
		if (y->parser.error == YAML_MEMORY_ERROR)
			return yp_nomem(y);
		return yp_fail_at(y, m, "%s", prob);
	}
	y->have_ev = 1;
	switch (y->ev.type) {
	case YAML_ALIAS_EVENT:
		return yp_fail_at(y, y->ev.start_mark,
				  "aliases are not allowed in a policy");
	case YAML_SCALAR_EVENT:
		if (y->ev.data.scalar.anchor != NULL)
			goto anchor;
		break;
	case YAML_SEQUENCE_START_EVENT:
		if (y->ev.data.sequence_start.anchor != NULL)
			goto anchor;
		break;
	case YAML_MAPPING_START_EVENT:
		if (y->ev.data.mapping_start.anchor != NULL)
			goto anchor;
		break;
	default:
		break;
	}
	return RP_OK;
anchor:
	return yp_fail_at(y, y->ev.start_mark,
			  "anchors are not allowed in a policy");
}

static const char *
ev_what(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_SCALAR_EVENT: return "a scalar";
	case YAML_SEQUENCE_START_EVENT: return "a list";
	case YAML_MAPPING_START_EVENT: return "a mapping";
	default: return "nothing";
	}
}

/* The current event must be a scalar; returns its text (owned by the
 * event) in *out. `what` names the key in the message. */
static rp_status
yp_scalar(struct yp *y, const char *what, const char **out)
{
	if (y->ev.type != YAML_SCALAR_EVENT)
		return yp_fail_at(y, y->ev.start_mark,
				  "%s: expected a string, found %s", what,
				  ev_what(&y->ev));
	*out = (const char *)y->ev.data.scalar.value;
	if (strlen(*out) != y->ev.data.scalar.length)
		return yp_fail_at(y, y->ev.start_mark,
				  "%s: NUL byte in value", what);
	return RP_OK;
}

/* The current event must start a list of non-empty strings; consumes it
 * and stores a new vector (possibly empty) in *out. */
static rp_status
yp_strlist(struct yp *y, const char *what, char ***out)
{
	char **v;
	const char *s;
	rp_status st;
	char q[128];

	if (y->ev.type != YAML_SEQUENCE_START_EVENT)
		return yp_fail_at(y, y->ev.start_mark,
				  "%s: expected a list of strings, found %s",
				  what, ev_what(&y->ev));
	if ((v = calloc(1, sizeof(*v))) == NULL)
		return yp_nomem(y);
	for (;;) {
		if ((st = yp_next(y)) != RP_OK)
			goto fail;
		if (y->ev.type == YAML_SEQUENCE_END_EVENT)
			break;
		if ((st = yp_scalar(y, what, &s)) != RP_OK)
			goto fail;
		if (*s == '\0' || strlen(s) > 1024) {
			st = yp_fail_at(y, y->ev.start_mark,
					"%s: '%s' must be 1 to 1024 characters",
					what, rp_quote(s, 60, q, sizeof(q)));
			goto fail;
		}
		if (rp_strv_len(v) >= 256) {
			st = yp_fail_at(y, y->ev.start_mark,
					"%s: more than 256 entries", what);
			goto fail;
		}
		if (rp_strv_push(&v, s) != 0) {
			st = yp_nomem(y);
			goto fail;
		}
	}
	rp_strv_free(*out);
	*out = v;
	return RP_OK;
fail:
	rp_strv_free(v);
	return st;
}

int
policy_parse_duration(const char *s, int64_t *out)
{
	int64_t mult;
	long n;
	size_t len;
	char num[24];

	if (strcmp(s, "never") == 0) {
		*out = -1;
		return 0;
	}
	len = strlen(s);
	if (len < 2 || len > sizeof(num))
		return -1;
	switch (s[len - 1]) {
	case 'h': mult = 3600; break;
	case 'd': mult = 86400; break;
	case 'w': mult = 7 * 86400; break;
	default: return -1;
	}
	memcpy(num, s, len - 1);
	num[len - 1] = '\0';
	if (num[0] == '-' || num[0] == '+' ||
	    rp_parse_long(num, 1, 100000, &n) != 0)
		return -1;
	*out = (int64_t)n * mult;
	return 0;
}

/* Keys already seen in one mapping, to refuse repeats. */
struct seen {
	const char *keys[16];
	int n;
};

static int
seen_add(struct seen *s, const char *key)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->keys[i], key) == 0)
			return -1;
	if (s->n < 16)
		s->keys[s->n++] = key;
	return 0;
}

/*
 * Walks one mapping whose keys are drawn from `keys` (NULL-terminated).
 * For each pair, leaves the value's first event current and calls
 * fn(y, keyindex, patch); fn consumes the value entirely.
 */
typedef rp_status (*value_fn)(struct yp *, int, const char *, struct policy *);

static rp_status
yp_mapping(struct yp *y, const char *what, const char *const *keys,
	   value_fn fn, struct policy *patch)
{
	struct seen seen = { .n = 0 };
	char key[64], q[128], expected[256];
	const char *k;
	rp_status st;
	int i;

	if (y->ev.type != YAML_MAPPING_START_EVENT)
		return yp_fail_at(y, y->ev.start_mark,
				  "%s: expected a mapping, found %s", what,
				  ev_what(&y->ev));
	for (;;) {
		if ((st = yp_next(y)) != RP_OK)
			return st;
		if (y->ev.type == YAML_MAPPING_END_EVENT)
			return RP_OK;
		if ((st = yp_scalar(y, what, &k)) != RP_OK)
			return st;
		for (i = 0; keys[i] != NULL; i++)
			if (strcmp(keys[i], k) == 0)
				break;
		if (keys[i] == NULL) {
			expected[0] = '\0';
			for (int j = 0; keys[j] != NULL; j++) {
				strncat(expected, j ? ", " : "",
					sizeof(expected) - strlen(expected) - 1);
				strncat(expected, keys[j],
					sizeof(expected) - strlen(expected) - 1);
			}
			return yp_fail_at(y, y->ev.start_mark,
					  "unknown key '%s' in %s (expected one of: %s)",
					  rp_quote(k, 60, q, sizeof(q)), what,
					  expected);
		}
		if (seen_add(&seen, keys[i]) != 0)
			return yp_fail_at(y, y->ev.start_mark,
					  "key '%s' repeated in %s", keys[i], what);
		snprintf(key, sizeof(key), "%s", keys[i]);
		if ((st = yp_next(y)) != RP_OK)
			return st;
		if ((st = fn(y, i, key, patch)) != RP_OK)
			return st;
	}
}

static const char *const top_keys[] = {
	"version", "registries", "sha-length", "branches", "retention",
	"workflows", NULL,
};
static const char *const registry_keys[] = { "development", "production", NULL };
static const char *const branch_keys[] = { "dev-latest", "feature-prefix", NULL };
static const char *const retention_keys[] = {
	"development", "test", "staging", "production", NULL,
};
static const char *const workflow_keys[] = { "staging", "production", NULL };

/* The scalar value of section.key (what: its name, for messages). */
static rp_status
yp_value(struct yp *y, const char *section, const char *key, char what[64], const char **s)
{
	snprintf(what, 64, "%s.%s", section, key);
	return yp_scalar(y, what, s);
}

/* *slot becomes a copy of s. */
static rp_status
yp_store(struct yp *y, char **slot, const char *s)
{
	free(*slot);
	if ((*slot = rp_strdup(s)) == NULL)
		return yp_nomem(y);
	return RP_OK;
}

static rp_status
on_registry(struct yp *y, int i, const char *key, struct policy *p)
{
	struct imgref r;
	imgref_err e;
	const char *s;
	char what[64], q[128];
	rp_status st;

	if ((st = yp_value(y, "registries", key, what, &s)) != RP_OK)
		return st;
	if ((e = imgref_parse_registry(s, &r)) != IMGREF_OK)
		return yp_fail_at(y, y->ev.start_mark, "%s: '%s': %s", what,
				  rp_quote(s, 80, q, sizeof(q)),
				  imgref_strerror(e));
	imgref_free(&r);
	return yp_store(y, &p->registry[i], s);
}

static rp_status
on_branch(struct yp *y, int i, const char *key, struct policy *p)
{
	const char *s;
	char what[64], q[128];
	rp_status st;

	if (i == 0) {
		snprintf(what, sizeof(what), "branches.%s", key);
		return yp_strlist(y, what, &p->dev_latest);
	}
	if ((st = yp_value(y, "branches", key, what, &s)) != RP_OK)
		return st;
	if (*s == '\0' || strlen(s) > 255 || strchr(s, '*') != NULL)
		return yp_fail_at(y, y->ev.start_mark,
				  "%s: '%s' must be a branch-name prefix of 1 to 255 characters without '*'",
				  what, rp_quote(s, 80, q, sizeof(q)));
	return yp_store(y, &p->feature_prefix, s);
}

static rp_status
on_retention(struct yp *y, int i, const char *key, struct policy *p)
{
	const char *s;
	char what[64], q[128];
	int64_t secs;
	rp_status st;

	if ((st = yp_value(y, "retention", key, what, &s)) != RP_OK)
		return st;
	if (policy_parse_duration(s, &secs) != 0)
		return yp_fail_at(y, y->ev.start_mark,
				  "%s: '%s' is not a duration (expected <n>h, <n>d or <n>w with n from 1 to 100000, or never)",
				  what, rp_quote(s, 80, q, sizeof(q)));
	if (i == RP_ENV_PRODUCTION && secs != -1)
		return yp_fail_at(y, y->ev.start_mark,
				  "%s: production images are kept forever; only 'never' is allowed",
				  what);
	if ((st = yp_store(y, &p->retention_text[i], s)) != RP_OK)
		return st;
	p->retention[i] = secs;
	return RP_OK;
}

static rp_status
on_workflow(struct yp *y, int i, const char *key, struct policy *p)
{
	char what[64];

	snprintf(what, sizeof(what), "workflows.%s", key);
	return yp_strlist(y, what,
			  &p->workflows[i == 0 ? RP_ENV_STAGING : RP_ENV_PRODUCTION]);
}

static rp_status
on_top(struct yp *y, int i, const char *key, struct policy *p)
{
	const char *s;
	char q[128];
	long n;
	rp_status st;

	switch (i) {
	case 0: /* version */
		if ((st = yp_scalar(y, key, &s)) != RP_OK)
			return st;
		if (strcmp(s, "1") != 0)
			return yp_fail_at(y, y->ev.start_mark,
					  "version: '%s' is not supported (expected 1)",
					  rp_quote(s, 40, q, sizeof(q)));
		return RP_OK;
	case 1:
		return yp_mapping(y, "registries", registry_keys, on_registry, p);
	case 2: /* sha-length */
		if ((st = yp_scalar(y, key, &s)) != RP_OK)
			return st;
		if (rp_parse_long(s, 7, 64, &n) != 0)
			return yp_fail_at(y, y->ev.start_mark,
					  "sha-length: '%s' is not a whole number from 7 to 64",
					  rp_quote(s, 40, q, sizeof(q)));
		p->sha_length = (int)n;
		return RP_OK;
	case 3:
		return yp_mapping(y, "branches", branch_keys, on_branch, p);
	case 4:
		return yp_mapping(y, "retention", retention_keys, on_retention, p);
	default:
		return yp_mapping(y, "workflows", workflow_keys, on_workflow, p);
	}
}

/* Empties p (frees what it owns). */
static void
policy_clear(struct policy *p)
{
	int i;

	free(p->registry[0]);
	free(p->registry[1]);
	rp_strv_free(p->dev_latest);
	free(p->feature_prefix);
	for (i = 0; i < RP_ENV_COUNT; i++) {
		free(p->retention_text[i]);
		rp_strv_free(p->workflows[i]);
	}
	memset(p, 0, sizeof(*p));
}

#define MOVE(dst, src, freefn) do { if ((src) != NULL) { freefn(dst); (dst) = (src); (src) = NULL; } } while (0)

/* Moves every field set in patch into pol. */
static void
policy_apply(struct policy *pol, struct policy *patch)
{
	int i;

	MOVE(pol->registry[0], patch->registry[0], free);
	MOVE(pol->registry[1], patch->registry[1], free);
	MOVE(pol->dev_latest, patch->dev_latest, rp_strv_free);
	MOVE(pol->feature_prefix, patch->feature_prefix, free);
	if (patch->sha_length != 0)
		pol->sha_length = patch->sha_length;
	for (i = 0; i < RP_ENV_COUNT; i++) {
		if (patch->retention_text[i] != NULL)
			pol->retention[i] = patch->retention[i];
		MOVE(pol->retention_text[i], patch->retention_text[i], free);
		MOVE(pol->workflows[i], patch->workflows[i], rp_strv_free);
	}
}

rp_status
policy_load_string(struct policy *pol, const char *name, const char *text,
		   size_t len, struct rp_err *err)
{
	struct yp y;
	struct policy patch;
	rp_status st;

	memset(&y, 0, sizeof(y));
	memset(&patch, 0, sizeof(patch));
	y.name = name;
	y.err = err;
	if (!yaml_parser_initialize(&y.parser))
		return rp_fail(err, RP_ENOMEM, "%s: out of memory", name);
	yaml_parser_set_input_string(&y.parser, (const unsigned char *)text, len);

	if ((st = yp_next(&y)) != RP_OK) /* STREAM-START */
		goto out;
	if ((st = yp_next(&y)) != RP_OK)
		goto out;
	if (y.ev.type == YAML_STREAM_END_EVENT) {
		st = yp_fail_at(&y, y.ev.start_mark,
				"empty policy (expected a mapping with version: 1)");
		goto out;
	}
	/* DOCUMENT-START, then the root node. */
	if ((st = yp_next(&y)) != RP_OK)
		goto out;
	if (y.ev.type == YAML_SCALAR_EVENT && y.ev.data.scalar.length == 0 &&
	    y.ev.data.scalar.plain_implicit) {
		st = yp_fail_at(&y, y.ev.start_mark,
				"empty policy (expected a mapping with version: 1)");
		goto out;
	}
	if ((st = yp_mapping(&y, "the policy", top_keys, on_top, &patch)) != RP_OK)
		goto out;
	if ((st = yp_next(&y)) != RP_OK) /* DOCUMENT-END */
		goto out;
	if ((st = yp_next(&y)) != RP_OK)
		goto out;
	if (y.ev.type != YAML_STREAM_END_EVENT) {
		st = yp_fail_at(&y, y.ev.start_mark,
				"a policy file holds one YAML document");
		goto out;
	}
	policy_apply(pol, &patch);
out:
	if (y.have_ev)
		yaml_event_delete(&y.ev);
	yaml_parser_delete(&y.parser);
	policy_clear(&patch);
	return st;
}

rp_status
policy_load_file(struct policy *pol, const char *path, struct rp_err *err)
{
	char *text;
	size_t len;
	rp_status st;

	if ((st = rp_read_file(path, "policy file", POLICY_FILE_MAX, &text,
			       &len, err)) != RP_OK)
		return st;
	st = policy_load_string(pol, path, text, len, err);
	free(text);
	return st;
}

struct policy *
policy_default(void)
{
	struct policy *pol;
	struct rp_err err;

	if ((pol = calloc(1, sizeof(*pol))) == NULL)
		return NULL;
	if (policy_load_string(pol, "built-in policy", rp_default_policy,
			       strlen(rp_default_policy), &err) != RP_OK) {
		/* Only memory can fail here: the default is tested. */
		policy_free(pol);
		return NULL;
	}
	return pol;
}

/* Writes s as a double-quoted YAML scalar. */
static void
dump_str(struct sbuf *sb, const char *s)
{
	sbuf_puts(sb, "\"");
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			sbuf_add(sb, "\\", 1);
		sbuf_add(sb, s, 1);
	}
	sbuf_puts(sb, "\"");
}

static void
dump_list(struct sbuf *sb, char *const *v)
{
	size_t i;

	sbuf_puts(sb, "[");
	for (i = 0; v != NULL && v[i] != NULL; i++) {
		sbuf_puts(sb, i ? ", " : "");
		dump_str(sb, v[i]);
	}
	sbuf_puts(sb, "]\n");
}

char *
policy_dump(const struct policy *pol)
{
	struct sbuf sb;

	sbuf_init(&sb, 1 << 20);
	sbuf_printf(&sb, "version: 1\nregistries:\n  development: %s\n"
		    "  production: %s\nsha-length: %d\nbranches:\n  dev-latest: ",
		    pol->registry[0], pol->registry[1], pol->sha_length);
	dump_list(&sb, pol->dev_latest);
	sbuf_puts(&sb, "  feature-prefix: ");
	dump_str(&sb, pol->feature_prefix);
	sbuf_printf(&sb, "\nretention:\n  development: %s\n  test: %s\n"
		    "  staging: %s\n  production: %s\nworkflows:\n  staging: ",
		    pol->retention_text[RP_ENV_DEVELOPMENT],
		    pol->retention_text[RP_ENV_TEST],
		    pol->retention_text[RP_ENV_STAGING],
		    pol->retention_text[RP_ENV_PRODUCTION]);
	dump_list(&sb, pol->workflows[RP_ENV_STAGING]);
	sbuf_puts(&sb, "  production: ");
	dump_list(&sb, pol->workflows[RP_ENV_PRODUCTION]);
	return sbuf_take(&sb);
}

void
policy_free(struct policy *pol)
{
	if (pol == NULL)
		return;
	policy_clear(pol);
	free(pol);
}
