/* Reading OpenCV's Haar cascade XML (new format, <cascade>) with expat, every number
 * checked against the limits of haarint.h: bb_cascade_load of haar.h. */
#include "capture/haarint.h"
#include "diag.h"
#include "exit.h"

#include <errno.h>
#include <expat.h>
#include <float.h>
#include <limits.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
bb_cascade_free(struct bb_cascade *c)
{
	if (c == NULL)
		return;
	free(c->stage);
	free(c->stump);
	free(c->feature);
	free(c);
}

/* --- reading the XML --- */

/* What an element is, from its name and its parent's kind. */
enum kind {
	K_IGNORED,		/* anything we do not use, with all it holds */
	K_DOC,			/* <opencv_storage> */
	K_CASCADE,		/* its first child, <cascade> */
	K_STAGETYPE, K_FEATURETYPE, K_HEIGHT, K_WIDTH,
	K_STAGES, K_STAGE, K_THRESHOLD, K_WEAKS, K_WEAK, K_NODES, K_LEAVES,
	K_FEATURES, K_FEATURE, K_RECTS, K_RECT, K_TILTED,
};

#define MAX_DEPTH 16

struct parse {
	XML_Parser xp;
	const char *path;
	locale_t c_locale;
	struct bb_cascade *c;
	struct bb_err *e;
	int failed;		/* the status once a handler failed, else 0 */
	enum kind stack[MAX_DEPTH];
	int depth;		/* elements open */
	int skip;		/* > 0: inside an ignored element, this deep below it */
	int seen_cascade;
	char *text;		/* character data of the open leaf element */
	size_t ntext, captext;
	int collecting;
	/* what the cascade element said */
	int have_stagetype, have_featuretype;
	/* the stage and weak classifier being read */
	size_t nstagealloc;
	int stage_has_threshold;
	int weak_nodes, weak_leaves;
	struct hstump weak;
};

static void
parse_fail(struct parse *p, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
parse_fail(struct parse *p, int status, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	if (p->failed)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	p->failed = bb_fail(p->e, status, "%s:%lu: %s", p->path,
	    (unsigned long)XML_GetCurrentLineNumber(p->xp), msg);
	XML_StopParser(p->xp, XML_FALSE);
}

/* Up to max numbers separated by white space; anything else is an error. */
static int
numbers(struct parse *p, const char *what, double *v, int max)
{
	const char *s = p->text;
	char *end;
	int n = 0;

	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
			s++;
		if (*s == '\0')
			return n;
		if (n == max) {
			parse_fail(p, BB_DATAERR, "%s: more than %d numbers", what, max);
			return -1;
		}
		errno = 0;
		v[n] = strtod_l(s, &end, p->c_locale);
		/* Within float's range too: thresholds and weights are kept as float, and
		 * converting a larger double is undefined behaviour. */
		if (end == s || errno == ERANGE || !isfinite(v[n]) || fabs(v[n]) > FLT_MAX ||
		    (*end != '\0' && *end != ' ' && *end != '\t' && *end != '\n' && *end != '\r')) {
			parse_fail(p, BB_DATAERR, "%s: not a number", what);
			return -1;
		}
		n++;
		s = end;
	}
}

static int
integral(double v)
{
	return v >= INT_MIN && v <= INT_MAX && v == (double)(int)v;
}

/* The element's text with the white space around it removed. */
static const char *
trimmed(struct parse *p)
{
	char *s = p->text, *t;

	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	t = s + strlen(s);
	while (t > s && (t[-1] == ' ' || t[-1] == '\t' || t[-1] == '\n' || t[-1] == '\r'))
		*--t = '\0';
	return s;
}

static void *
grow(struct parse *p, void *ptr, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 64;
	void *q;

	if (need <= *cap)
		return ptr;
	while (n < need)
		n *= 2;
	if ((q = realloc(ptr, n * size)) == NULL) {
		parse_fail(p, BB_SOFTWARE, "out of memory");
		return NULL;
	}
	*cap = n;
	return q;
}

static enum kind
classify(enum kind parent, const char *name)
{
	switch (parent) {
	case K_CASCADE:
		if (strcmp(name, "stageType") == 0)
			return K_STAGETYPE;
		if (strcmp(name, "featureType") == 0)
			return K_FEATURETYPE;
		if (strcmp(name, "height") == 0)
			return K_HEIGHT;
		if (strcmp(name, "width") == 0)
			return K_WIDTH;
		if (strcmp(name, "stages") == 0)
			return K_STAGES;
		if (strcmp(name, "features") == 0)
			return K_FEATURES;
		return K_IGNORED;
	case K_STAGES:
		return strcmp(name, "_") == 0 ? K_STAGE : K_IGNORED;
	case K_STAGE:
		if (strcmp(name, "stageThreshold") == 0)
			return K_THRESHOLD;
		if (strcmp(name, "weakClassifiers") == 0)
			return K_WEAKS;
		return K_IGNORED;
	case K_WEAKS:
		return strcmp(name, "_") == 0 ? K_WEAK : K_IGNORED;
	case K_WEAK:
		if (strcmp(name, "internalNodes") == 0)
			return K_NODES;
		if (strcmp(name, "leafValues") == 0)
			return K_LEAVES;
		return K_IGNORED;
	case K_FEATURES:
		return strcmp(name, "_") == 0 ? K_FEATURE : K_IGNORED;
	case K_FEATURE:
		if (strcmp(name, "rects") == 0)
			return K_RECTS;
		if (strcmp(name, "tilted") == 0)
			return K_TILTED;
		return K_IGNORED;
	case K_RECTS:
		return strcmp(name, "_") == 0 ? K_RECT : K_IGNORED;
	default:
		return K_IGNORED;
	}
}

static int
leaf_kind(enum kind k)
{
	return k == K_STAGETYPE || k == K_FEATURETYPE || k == K_HEIGHT || k == K_WIDTH ||
	    k == K_THRESHOLD || k == K_NODES || k == K_LEAVES || k == K_RECT || k == K_TILTED;
}

static void XMLCALL
on_start(void *ud, const XML_Char *name, const XML_Char **attr)
{
	struct parse *p = ud;
	struct bb_cascade *c = p->c;
	enum kind k;

	(void)attr;
	if (p->failed)
		return;
	if (p->skip > 0) {
		p->skip++;
		return;
	}
	if (p->collecting) {
		parse_fail(p, BB_DATAERR, "<%s> inside a value", name);
		return;
	}
	if (p->depth == MAX_DEPTH) {
		parse_fail(p, BB_DATAERR, "nested too deeply");
		return;
	}
	if (p->depth == 0) {
		if (strcmp(name, "opencv_storage") != 0) {
			parse_fail(p, BB_DATAERR, "<%s>: not an OpenCV storage file", name);
			return;
		}
		k = K_DOC;
	} else if (p->stack[p->depth - 1] == K_DOC) {
		/* OpenCV reads the first top-level node; the old format's is named after the
		 * cascade and holds <stages> of trees: refused below for want of stageType. */
		k = p->seen_cascade ? K_IGNORED : K_CASCADE;
		p->seen_cascade = 1;
	} else
		k = classify(p->stack[p->depth - 1], name);
	if (k == K_IGNORED) {
		p->skip = 1;
		return;
	}
	p->stack[p->depth++] = k;

	switch (k) {
	case K_STAGE:
		if (c->nstage == MAX_STAGES) {
			parse_fail(p, BB_DATAERR, "more than %d stages", MAX_STAGES);
			return;
		}
		if ((c->stage = grow(p, c->stage, &p->nstagealloc, c->nstage + 1,
		    sizeof *c->stage)) == NULL)
			return;
		c->stage[c->nstage].first = c->nstump;
		c->stage[c->nstage].n = 0;
		c->stage[c->nstage].threshold = 0;
		p->stage_has_threshold = 0;
		break;
	case K_WEAK:
		p->weak_nodes = p->weak_leaves = 0;
		memset(&p->weak, 0, sizeof p->weak);
		p->weak.line = (long)XML_GetCurrentLineNumber(p->xp);
		break;
	case K_FEATURE:
		if (c->nfeature == MAX_FEATURES) {
			parse_fail(p, BB_DATAERR, "more than %d features", MAX_FEATURES);
			return;
		}
		if ((c->feature = grow(p, c->feature, &c->capfeature, c->nfeature + 1,
		    sizeof *c->feature)) == NULL)
			return;
		memset(&c->feature[c->nfeature], 0, sizeof c->feature[0]);
		c->feature[c->nfeature].line = (long)XML_GetCurrentLineNumber(p->xp);
		break;
	default:
		break;
	}
	if (leaf_kind(k)) {
		p->collecting = 1;
		p->ntext = 0;
		p->text[0] = '\0';
	}
}

static void XMLCALL
on_text(void *ud, const XML_Char *s, int len)
{
	struct parse *p = ud;

	if (p->failed || p->skip > 0)
		return;
	if (!p->collecting) {
		/* Between elements only white space belongs. */
		for (int i = 0; i < len; i++)
			if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r') {
				parse_fail(p, BB_DATAERR, "text where an element belongs");
				return;
			}
		return;
	}
	if (len < 0 || (size_t)len > MAX_TEXT - 1 - p->ntext) {
		parse_fail(p, BB_DATAERR, "value longer than %d bytes", MAX_TEXT);
		return;
	}
	memcpy(p->text + p->ntext, s, (size_t)len);
	p->ntext += (size_t)len;
	p->text[p->ntext] = '\0';
}

/* <stageType>, <featureType>: the only kinds implemented. */
static void
leaf_type(struct parse *p, enum kind k)
{
	const char *s = trimmed(p);

	if (k == K_STAGETYPE) {
		if (strcmp(s, "BOOST") != 0) {
			parse_fail(p, BB_DATAERR, "stageType %.40s: only BOOST is supported", s);
			return;
		}
		p->have_stagetype = 1;
	} else {
		if (strcmp(s, "HAAR") != 0) {
			parse_fail(p, BB_DATAERR, "featureType %.40s: only HAAR is supported", s);
			return;
		}
		p->have_featuretype = 1;
	}
}

/* <height>, <width>: the window. */
static void
leaf_size(struct parse *p, enum kind k)
{
	double v[1];
	int n;

	if ((n = numbers(p, k == K_HEIGHT ? "height" : "width", v, 1)) < 0)
		return;
	/* The normalisation rectangle is the window less one pixel all round. */
	if (n != 1 || !integral(v[0]) || v[0] < 3 || v[0] > MAX_WIN) {
		parse_fail(p, BB_DATAERR, "%s: not a window size (3 to %d)",
		    k == K_HEIGHT ? "height" : "width", MAX_WIN);
		return;
	}
	if (k == K_HEIGHT)
		p->c->win_h = (int)v[0];
	else
		p->c->win_w = (int)v[0];
}

/* <stageThreshold> of the stage being read. */
static void
leaf_threshold(struct parse *p)
{
	double v[1];
	int n;

	if ((n = numbers(p, "stageThreshold", v, 1)) < 0)
		return;
	if (n != 1) {
		parse_fail(p, BB_DATAERR, "stageThreshold: one number expected");
		return;
	}
	p->c->stage[p->c->nstage].threshold = (float)v[0] - STAGE_EPS;
	p->stage_has_threshold = 1;
}

/* <internalNodes> of a weak classifier: a stump, left 0 (a leaf), right -1 (the other
 * leaf), feature, threshold. Trees with more nodes (haarcascade_*_tree*, LBP) are not
 * implemented. */
static void
leaf_nodes(struct parse *p)
{
	double v[64];
	int n;

	if ((n = numbers(p, "internalNodes", v, 64)) < 0)
		return;
	if (n != 4) {
		parse_fail(p, BB_DATAERR, "internalNodes: %d numbers, a stump has 4 "
		    "(trees are not supported)", n);
		return;
	}
	if (v[0] != 0 || v[1] != -1 || !integral(v[2]) || v[2] < 0) {
		parse_fail(p, BB_DATAERR, "internalNodes: not a stump \"0 -1 feature "
		    "threshold\"");
		return;
	}
	p->weak.feature = (int)v[2];
	p->weak.threshold = (float)v[3];
	p->weak_nodes = 1;
}

/* <leafValues> of a weak classifier: a stump's two. */
static void
leaf_values(struct parse *p)
{
	double v[2];
	int n;

	if ((n = numbers(p, "leafValues", v, 2)) < 0)
		return;
	if (n != 2) {
		parse_fail(p, BB_DATAERR, "leafValues: a stump has 2, not %d", n);
		return;
	}
	p->weak.left = (float)v[0];
	p->weak.right = (float)v[1];
	p->weak_leaves = 1;
}

/* One <_> of a feature's <rects>: "x y w h weight" inside the largest window. */
static void
leaf_rect(struct parse *p)
{
	struct hfeature *f = &p->c->feature[p->c->nfeature];
	double v[5];
	int n;

	if ((n = numbers(p, "rect", v, 5)) < 0)
		return;
	if (n != 5 || !integral(v[0]) || !integral(v[1]) || !integral(v[2]) ||
	    !integral(v[3])) {
		parse_fail(p, BB_DATAERR, "rect: \"x y w h weight\" expected");
		return;
	}
	if (v[0] < 0 || v[1] < 0 || v[2] < 1 || v[3] < 1 || v[0] > MAX_WIN ||
	    v[1] > MAX_WIN || v[2] > MAX_WIN || v[3] > MAX_WIN) {
		parse_fail(p, BB_DATAERR, "rect: outside any window");
		return;
	}
	if (f->n == RECT_NUM) {
		parse_fail(p, BB_DATAERR, "feature with more than %d rects", RECT_NUM);
		return;
	}
	f->r[f->n].x = (int)v[0];
	f->r[f->n].y = (int)v[1];
	f->r[f->n].w = (int)v[2];
	f->r[f->n].h = (int)v[3];
	f->r[f->n].weight = (float)v[4];
	f->n++;
}

/* <tilted>: only 0, upright rectangles. */
static void
leaf_tilted(struct parse *p)
{
	double v[1];
	int n;

	if ((n = numbers(p, "tilted", v, 1)) < 0)
		return;
	if (n != 1 || !integral(v[0])) {
		parse_fail(p, BB_DATAERR, "tilted: 0 or 1 expected");
		return;
	}
	if (v[0] != 0)
		parse_fail(p, BB_DATAERR, "tilted features (45-degree rectangles) are "
		    "not supported");
}

static void
end_leaf(struct parse *p, enum kind k)
{
	if (memchr(p->text, '\0', p->ntext) != NULL) {
		parse_fail(p, BB_DATAERR, "NUL in a value");
		return;
	}
	switch (k) {
	case K_STAGETYPE:
	case K_FEATURETYPE: leaf_type(p, k); break;
	case K_HEIGHT:
	case K_WIDTH: leaf_size(p, k); break;
	case K_THRESHOLD: leaf_threshold(p); break;
	case K_NODES: leaf_nodes(p); break;
	case K_LEAVES: leaf_values(p); break;
	case K_RECT: leaf_rect(p); break;
	case K_TILTED: leaf_tilted(p); break;
	default: break;
	}
}

static void XMLCALL
on_end(void *ud, const XML_Char *name)
{
	struct parse *p = ud;
	struct bb_cascade *c = p->c;
	enum kind k;

	(void)name;
	if (p->failed)
		return;
	if (p->skip > 0) {
		p->skip--;
		return;
	}
	k = p->stack[--p->depth];
	if (p->collecting) {
		p->collecting = 0;
		end_leaf(p, k);
		return;
	}
	switch (k) {
	case K_WEAK:
		if (!p->weak_nodes || !p->weak_leaves) {
			parse_fail(p, BB_DATAERR, "weak classifier without %s",
			    p->weak_nodes ? "leafValues" : "internalNodes");
			return;
		}
		if (c->nstump == MAX_STUMPS) {
			parse_fail(p, BB_DATAERR, "more than %d weak classifiers", MAX_STUMPS);
			return;
		}
		if ((c->stump = grow(p, c->stump, &c->capstump, c->nstump + 1,
		    sizeof *c->stump)) == NULL)
			return;
		c->stump[c->nstump++] = p->weak;
		c->stage[c->nstage].n++;
		break;
	case K_STAGE:
		if (!p->stage_has_threshold) {
			parse_fail(p, BB_DATAERR, "stage %zu without stageThreshold", c->nstage);
			return;
		}
		if (c->stage[c->nstage].n == 0) {
			parse_fail(p, BB_DATAERR, "stage %zu without weak classifiers", c->nstage);
			return;
		}
		c->nstage++;
		break;
	case K_FEATURE:
		if (c->feature[c->nfeature].n == 0) {
			parse_fail(p, BB_DATAERR, "feature %zu without rects", c->nfeature);
			return;
		}
		c->nfeature++;
		break;
	default:
		break;
	}
}

/* No DTD: a cascade has none, and entities are how XML files blow up. */
static void XMLCALL
on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid, const XML_Char *pubid,
    int internal)
{
	(void)name;
	(void)sysid;
	(void)pubid;
	(void)internal;
	parse_fail(ud, BB_DATAERR, "a DOCTYPE has no place in a cascade");
}

/* What the whole file must hold, once it has been read. */
static int
check_cascade(struct parse *p)
{
	struct bb_cascade *c = p->c;
	size_t i;
	int j;

	if (!p->have_stagetype)
		return bb_fail(p->e, BB_DATAERR, "%s: no <stageType>: not a cascade in "
		    "OpenCV's new format", p->path);
	if (!p->have_featuretype)
		return bb_fail(p->e, BB_DATAERR, "%s: no <featureType>", p->path);
	if (c->win_w == 0 || c->win_h == 0)
		return bb_fail(p->e, BB_DATAERR, "%s: no <width> or <height>", p->path);
	if (c->nstage == 0)
		return bb_fail(p->e, BB_DATAERR, "%s: no stages", p->path);
	if (c->nfeature == 0)
		return bb_fail(p->e, BB_DATAERR, "%s: no features", p->path);
	for (i = 0; i < c->nstump; i++)
		if ((size_t)c->stump[i].feature >= c->nfeature)
			return bb_fail(p->e, BB_DATAERR, "%s:%ld: feature %d: there are only %zu",
			    p->path, c->stump[i].line, c->stump[i].feature, c->nfeature);
	for (i = 0; i < c->nfeature; i++)
		for (j = 0; j < c->feature[i].n; j++) {
			const struct hrect *r = &c->feature[i].r[j];

			if (r->x + r->w > c->win_w || r->y + r->h > c->win_h)
				return bb_fail(p->e, BB_DATAERR, "%s:%ld: rect %d %d %d %d outside "
				    "the %dx%d window", p->path, c->feature[i].line, r->x, r->y,
				    r->w, r->h, c->win_w, c->win_h);
		}
	return 0;
}

int
bb_cascade_load(const char *path, struct bb_cascade **out, struct bb_err *e)
{
	struct parse p;
	char buf[65536];
	FILE *f;
	int rc = 0, done = 0;

	*out = NULL;
	memset(&p, 0, sizeof p);
	p.path = path;
	p.e = e;
	if ((f = fopen(path, "r")) == NULL)
		return bb_fail(e, BB_NOINPUT, "%s: %s", path, strerror(errno));
	p.c = calloc(1, sizeof *p.c);
	p.text = malloc(MAX_TEXT);
	p.c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
	p.xp = XML_ParserCreate("UTF-8");
	if (p.c == NULL || p.text == NULL || p.c_locale == (locale_t)0 || p.xp == NULL) {
		rc = bb_fail(e, BB_SOFTWARE, "out of memory");
		goto out;
	}
	p.text[0] = '\0';
	XML_SetUserData(p.xp, &p);
	XML_SetElementHandler(p.xp, on_start, on_end);
	XML_SetCharacterDataHandler(p.xp, on_text);
	XML_SetStartDoctypeDeclHandler(p.xp, on_doctype);

	while (!done) {
		size_t n = fread(buf, 1, sizeof buf, f);

		if (ferror(f)) {
			/* A directory opens but does not read: not a cascade file either. */
			rc = bb_fail(e, errno == EISDIR ? BB_NOINPUT : BB_IOERR, "%s: %s", path,
			    strerror(errno));
			goto out;
		}
		done = feof(f);
		if (XML_Parse(p.xp, buf, (int)n, done) == XML_STATUS_ERROR) {
			rc = p.failed ? p.failed : bb_fail(e, BB_DATAERR, "%s:%lu: %s", path,
			    (unsigned long)XML_GetCurrentLineNumber(p.xp),
			    XML_ErrorString(XML_GetErrorCode(p.xp)));
			goto out;
		}
	}
	if ((rc = p.failed) != 0 || (rc = check_cascade(&p)) != 0)
		goto out;
	*out = p.c;
	p.c = NULL;
out:
	if (p.xp != NULL)
		XML_ParserFree(p.xp);
	if (p.c_locale != (locale_t)0)
		freelocale(p.c_locale);
	free(p.text);
	bb_cascade_free(p.c);
	fclose(f);
	return rc;
}
