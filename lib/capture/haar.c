/* Viola-Jones on OpenCV's Haar cascades: see haar.h.
 *
 * The goal is the same rectangles as OpenCV 4.6's CascadeClassifier::detectMultiScale
 * (modules/objdetect/src/cascadedetect.cpp, .hpp; imgproc's resize for the pyramid), not
 * merely similar ones: a face box that moves by a pixel between our build and the
 * reference changes the photo's measurements. So the arithmetic follows OpenCV's types
 * where they matter:
 *   - the pyramid resizes the ORIGINAL image per level (not the previous level) to
 *     round(w / (float)factor) with INTER_LINEAR_EXACT (not INTER_LINEAR: the two
 *     differ by one grey level in many pixels, enough to move hits); features keep
 *     their cascade size and are evaluated on the smaller image;
 *   - integral images are 32-bit and wrap (only differences over a window are used);
 *   - the window's normalisation uses the rectangle (1, 1, w-2, h-2) inside it:
 *     nf = sqrt(area * sqsum - sum^2), factor (float)(1 / nf), and the window is skipped
 *     unless area * factor < 0.1 (a flat window, standard deviation <= 10, is never an
 *     object in OpenCV 4);
 *   - a feature is sum(weight * rectangle sum) in float, with the weights as the XML has
 *     them (the new format stores them ready; only the old <haarcascade> format's
 *     loader re-derived the first rectangle's weight from the others' areas and divided
 *     by the window area), times the factor, compared with the stump's float threshold;
 *     a stage sums its leaves in double against (float)stageThreshold - 1e-5f;
 *   - step 2 px while the level's factor is < 2, then 1 px; a window rejected by the
 *     first stage skips the next position in its row as well;
 *   - hits are (round(x * factor), round(y * factor)) with the window size
 *     round(w * factor), all in float; grouping is groupRectangles(minNeighbors, 0.2)
 *     and the result is clipped to the image. */
#include "capture/haar.h"
#include "diag.h"
#include "exit.h"

#include <errno.h>
#include <float.h>
#include <expat.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* Limits on what a cascade file may declare (OpenCV's own are 10x smaller in practice:
 * 25 stages, 2913 stumps, 2135 features), so a hostile file cannot make us allocate
 * without bound. */
#define MAX_WIN		1024
#define MAX_STAGES	10000
#define MAX_STUMPS	1000000
#define MAX_FEATURES	1000000
#define MAX_TEXT	(64 * 1024)
#define RECT_NUM	3		/* OpenCV's HaarEvaluator::Feature::RECT_NUM */
#define STAGE_EPS	1e-5f		/* OpenCV subtracts it from every stage threshold */
#define GROUP_EPS	0.2

struct hrect {
	int x, y, w, h;
	float weight;
};

struct hfeature {
	int n;
	struct hrect r[RECT_NUM];
	long line;
};

struct hstump {
	int feature;
	float threshold, left, right;
	long line;
};

struct hstage {
	size_t first, n;
	float threshold;
};

struct bb_cascade {
	int win_w, win_h;
	struct hstage *stage;
	size_t nstage;
	struct hstump *stump;
	size_t nstump, capstump;
	struct hfeature *feature;
	size_t nfeature, capfeature;
};

/* No libm (programs linking libbb need not add -lm for us): OpenCV's cvRound rounds half
 * to even (the SSE2 conversion in its default mode); |v| stays far below 2^52 here. */
static inline int
round_even(double v)
{
	long long r = (long long)v;	/* toward zero */
	double f = v - (double)r;

	if (f > 0.5 || (f == 0.5 && (r & 1)))
		r++;
	else if (f < -0.5 || (f == -0.5 && (r & 1)))
		r--;
	return (int)r;
}

/* Correctly rounded, as std::sqrt is. */
static inline double
sqrt_d(double v)
{
#ifdef __SSE2__
	return _mm_cvtsd_f64(_mm_sqrt_sd(_mm_setzero_pd(), _mm_set_sd(v)));
#else
	return sqrt(v);
#endif
}

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

static void
end_leaf(struct parse *p, enum kind k)
{
	struct bb_cascade *c = p->c;
	double v[64];
	const char *s;
	int n;

	if (memchr(p->text, '\0', p->ntext) != NULL) {
		parse_fail(p, BB_DATAERR, "NUL in a value");
		return;
	}
	switch (k) {
	case K_STAGETYPE:
		s = trimmed(p);
		if (strcmp(s, "BOOST") != 0) {
			parse_fail(p, BB_DATAERR, "stageType %.40s: only BOOST is supported", s);
			return;
		}
		p->have_stagetype = 1;
		break;
	case K_FEATURETYPE:
		s = trimmed(p);
		if (strcmp(s, "HAAR") != 0) {
			parse_fail(p, BB_DATAERR, "featureType %.40s: only HAAR is supported", s);
			return;
		}
		p->have_featuretype = 1;
		break;
	case K_HEIGHT:
	case K_WIDTH:
		if ((n = numbers(p, k == K_HEIGHT ? "height" : "width", v, 1)) < 0)
			return;
		/* The normalisation rectangle is the window less one pixel all round. */
		if (n != 1 || !integral(v[0]) || v[0] < 3 || v[0] > MAX_WIN) {
			parse_fail(p, BB_DATAERR, "%s: not a window size (3 to %d)",
			    k == K_HEIGHT ? "height" : "width", MAX_WIN);
			return;
		}
		if (k == K_HEIGHT)
			c->win_h = (int)v[0];
		else
			c->win_w = (int)v[0];
		break;
	case K_THRESHOLD:
		if ((n = numbers(p, "stageThreshold", v, 1)) < 0)
			return;
		if (n != 1) {
			parse_fail(p, BB_DATAERR, "stageThreshold: one number expected");
			return;
		}
		c->stage[c->nstage].threshold = (float)v[0] - STAGE_EPS;
		p->stage_has_threshold = 1;
		break;
	case K_NODES:
		if ((n = numbers(p, "internalNodes", v, 64)) < 0)
			return;
		/* A stump: left 0 (a leaf), right -1 (the other leaf), feature, threshold.
		 * Trees with more nodes (haarcascade_*_tree*, LBP) are not implemented. */
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
		break;
	case K_LEAVES:
		if ((n = numbers(p, "leafValues", v, 2)) < 0)
			return;
		if (n != 2) {
			parse_fail(p, BB_DATAERR, "leafValues: a stump has 2, not %d", n);
			return;
		}
		p->weak.left = (float)v[0];
		p->weak.right = (float)v[1];
		p->weak_leaves = 1;
		break;
	case K_RECT: {
		struct hfeature *f = &c->feature[c->nfeature];

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
		break;
	}
	case K_TILTED:
		if ((n = numbers(p, "tilted", v, 1)) < 0)
			return;
		if (n != 1 || !integral(v[0])) {
			parse_fail(p, BB_DATAERR, "tilted: 0 or 1 expected");
			return;
		}
		if (v[0] != 0) {
			parse_fail(p, BB_DATAERR, "tilted features (45-degree rectangles) are "
			    "not supported");
			return;
		}
		break;
	default:
		break;
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

/* --- the pyramid --- */

/* OpenCV 4.6's cascade makes its levels with resize(INTER_LINEAR_EXACT): 8-bit fixed
 * point weights, the horizontal pass kept with 8 fractional bits, the vertical one
 * rounded from 16 (imgproc/src/resize.cpp, resize_bitExact, interpolationLinear).
 * Per axis: the first source pixel and the weight of the second (of 256) for each
 * destination pixel, and the range [lo, hi) that interpolates; before it the first
 * source pixel is copied, from hi on the last. */
struct axis {
	int *ofs;
	int *c1;
	int lo, hi;
};

static void
axis_coefs(int dn, int sn, struct axis *a)
{
	double scale = 1. / ((double)dn / sn);

	a->lo = 0;
	a->hi = dn;
	for (int d = 0; d < dn; d++) {
		double f = scale * (d + 0.5) - 0.5;
		int i = (int)f;

		if ((double)i > f)	/* floor */
			i--;
		a->ofs[d] = 0;
		a->c1[d] = 0;
		if (i >= 0 && sn > 1) {
			if (i < sn - 1) {
				a->ofs[d] = i;
				a->c1[d] = round_even((f - i) * 256);
			} else {
				a->ofs[d] = sn - 1;
				if (d < a->hi)
					a->hi = d;
			}
		} else if (d + 1 > a->lo)
			a->lo = d + 1;
	}
}

/* One source row through the horizontal pass: 8.8 fixed point. */
static void
hpass(const unsigned char *src, const struct axis *a, int dw, uint32_t *out)
{
	int d = 0;

	for (; d < a->lo && d < dw; d++)
		out[d] = (uint32_t)src[0] << 8;
	for (; d < a->hi; d++) {
		const unsigned char *p = src + a->ofs[d];

		out[d] = (uint32_t)(p[0] * (256 - a->c1[d]) + p[1] * a->c1[d]);
	}
	for (; d < dw; d++)
		out[d] = (uint32_t)src[a->ofs[dw - 1]] << 8;
}

int
bb_haar_resize(const struct bb_image *in, int w, int h, struct bb_image *out,
    struct bb_err *e)
{
	int sw = in->w, sh = in->h, rc, y;
	struct axis ax = { NULL, NULL, 0, 0 }, ay = { NULL, NULL, 0, 0 };
	uint32_t *rows[2] = { NULL, NULL };
	int have[2] = { -1, -1 };

	memset(out, 0, sizeof *out);
	if (in->ch != 1 || in->px == NULL || sw <= 0 || sh <= 0)
		return bb_fail(e, BB_SOFTWARE, "bb_haar_resize: not a grey image");
	if (w <= 0 || h <= 0 || w > sw || h > sh)
		return bb_fail(e, BB_SOFTWARE, "bb_haar_resize: %dx%d to %dx%d: shrinking only",
		    sw, sh, w, h);
	if ((rc = bb_image_new(out, w, h, 1, e)) != 0)
		return rc;
	if (w == sw && h == sh) {
		memcpy(out->px, in->px, (size_t)w * (size_t)h);
		return 0;
	}
	/* Exactly half both ways OpenCV computes as INTER_AREA, the 2x2 mean, which it
	 * is bit for bit. */
	if (w * 2 == sw && h * 2 == sh) {
		for (y = 0; y < h; y++) {
			const unsigned char *a = in->px + (size_t)(2 * y) * (size_t)sw;
			const unsigned char *b = a + sw;
			unsigned char *d = out->px + (size_t)y * (size_t)w;

			for (int x = 0; x < w; x++)
				d[x] = (unsigned char)((a[2 * x] + a[2 * x + 1] + b[2 * x] +
				    b[2 * x + 1] + 2) >> 2);
		}
		return 0;
	}
	ax.ofs = malloc((size_t)w * sizeof *ax.ofs);
	ax.c1 = malloc((size_t)w * sizeof *ax.c1);
	ay.ofs = malloc((size_t)h * sizeof *ay.ofs);
	ay.c1 = malloc((size_t)h * sizeof *ay.c1);
	rows[0] = malloc((size_t)w * sizeof *rows[0]);
	rows[1] = malloc((size_t)w * sizeof *rows[1]);
	if (ax.ofs == NULL || ax.c1 == NULL || ay.ofs == NULL || ay.c1 == NULL ||
	    rows[0] == NULL || rows[1] == NULL) {
		bb_image_free(out);
		rc = bb_fail(e, BB_SOFTWARE, "out of memory");
		goto done;
	}
	axis_coefs(w, sw, &ax);
	axis_coefs(h, sh, &ay);
	for (y = 0; y < h; y++) {
		unsigned char *d = out->px + (size_t)y * (size_t)w;
		int r0, r1;

		if (y < ay.lo || y >= ay.hi) {
			/* Above or below the interpolated rows: one source row, rounded. */
			r0 = y < ay.lo ? 0 : ay.ofs[h - 1];
			hpass(in->px + (size_t)r0 * (size_t)sw, &ax, w, rows[0]);
			have[0] = r0;
			for (int x = 0; x < w; x++)
				d[x] = (unsigned char)((rows[0][x] + 128) >> 8);
			continue;
		}
		r0 = ay.ofs[y];
		r1 = r0 + 1;
		/* Two row buffers: rows[0] holds source row have[0], rows[1] have[1]; going
		 * down, the second usually becomes the first. */
		if (have[0] != r0 && have[1] == r0) {
			uint32_t *t = rows[0];

			rows[0] = rows[1];
			rows[1] = t;
			have[0] = have[1];
			have[1] = -1;
		}
		if (have[0] != r0) {
			hpass(in->px + (size_t)r0 * (size_t)sw, &ax, w, rows[0]);
			have[0] = r0;
		}
		if (have[1] != r1) {
			hpass(in->px + (size_t)r1 * (size_t)sw, &ax, w, rows[1]);
			have[1] = r1;
		}
		{
			const uint32_t *s0 = rows[0], *s1 = rows[1];
			uint32_t c1 = (uint32_t)ay.c1[y], c0 = 256 - c1;

			for (int x = 0; x < w; x++) {
				uint32_t v = (s0[x] * c0 + s1[x] * c1 + 32768) >> 16;

				d[x] = (unsigned char)(v > 255 ? 255 : v);
			}
		}
	}
	rc = 0;
done:
	free(ax.ofs);
	free(ax.c1);
	free(ay.ofs);
	free(ay.c1);
	free(rows[0]);
	free(rows[1]);
	return rc;
}

/* --- evaluation --- */

/* A stump with its rectangles as offsets into the integral image of the level, whose
 * rows are `stride` apart: corners (x,y) (x+w,y) (x,y+h) (x+w,y+h). A feature of two
 * rectangles gets a third of weight 0 at offset 0: adding 0 * sum changes no float
 * result, and costs less than the branch OpenCV takes (half of the features have 3). */
struct ostump {
	int32_t o[RECT_NUM][4];
	float weight[RECT_NUM];
	float threshold;
	float leaf[2];		/* below the threshold, at or above */
};

struct scan {
	const struct bb_cascade *c;
	struct ostump *st;
	int32_t norm[4];	/* the rectangle (1, 1, w-2, h-2) */
	double area;
	int stride;
	struct bb_rect *hits;
	size_t nhits, caphits;
};

static inline int32_t
rect_sum(const uint32_t *p, const int32_t o[4])
{
	/* The integral image wraps at 2^32 on big images; the difference over a
	 * rectangle of at most 1024x1024 pixels of 255 does not. */
	return (int32_t)(p[o[0]] - p[o[1]] - p[o[2]] + p[o[3]]);
}

/* OpenCV's result for the window at p: 1 object, -1 flat window, else minus the index
 * of the stage that rejected it (0 for the first). */
static int
run_window(const struct scan *s, const uint32_t *p, const uint32_t *q)
{
	const struct bb_cascade *c = s->c;
	const struct ostump *st = s->st;
	int32_t sum = rect_sum(p, s->norm);
	uint32_t sq = q[s->norm[0]] - q[s->norm[1]] - q[s->norm[2]] + q[s->norm[3]];
	double nf = s->area * (double)sq - (double)sum * (double)sum;
	float vnf;

	if (!(nf > 0.))
		return -1;
	vnf = (float)(1. / sqrt_d(nf));
	if (!(s->area * vnf < 1e-1))
		return -1;
	for (size_t si = 0; si < c->nstage; si++) {
		const struct hstage *g = &c->stage[si];
		double t = 0;

		for (size_t i = 0; i < g->n; i++, st++) {
			float v = st->weight[0] * (float)rect_sum(p, st->o[0]) +
			    st->weight[1] * (float)rect_sum(p, st->o[1]);

			v += st->weight[2] * (float)rect_sum(p, st->o[2]);
			v *= vnf;
			/* An index, not a branch: the outcome is a coin toss to the CPU. */
			t += st->leaf[!(v < st->threshold)];
		}
		if (t < g->threshold)
			return -(int)si;
	}
	return 1;
}

static void
corner_offsets(int32_t o[4], int x, int y, int w, int h, int stride)
{
	o[0] = y * stride + x;
	o[1] = y * stride + x + w;
	o[2] = (y + h) * stride + x;
	o[3] = (y + h) * stride + x + w;
}

static int
push_hit(struct scan *s, int x, int y, int w, int h, struct bb_err *e)
{
	if (s->nhits == s->caphits) {
		size_t n = s->caphits ? s->caphits * 2 : 256;
		struct bb_rect *r = realloc(s->hits, n * sizeof *r);

		if (r == NULL)
			return bb_fail(e, BB_SOFTWARE, "out of memory");
		s->hits = r;
		s->caphits = n;
	}
	s->hits[s->nhits].x = x;
	s->hits[s->nhits].y = y;
	s->hits[s->nhits].w = w;
	s->hits[s->nhits].h = h;
	s->nhits++;
	return 0;
}

/* Integral images of img (sum and sum of squares), with a zero first row and column,
 * rows `stride` apart. */
static void
integrate(const struct bb_image *img, uint32_t *sum, uint32_t *sq, int stride)
{
	memset(sum, 0, (size_t)(img->w + 1) * sizeof *sum);
	memset(sq, 0, (size_t)(img->w + 1) * sizeof *sq);
	for (int y = 0; y < img->h; y++) {
		const unsigned char *px = img->px + (size_t)y * (size_t)img->w;
		const uint32_t *ps = sum + (size_t)y * (size_t)stride;
		const uint32_t *pq = sq + (size_t)y * (size_t)stride;
		uint32_t *ds = sum + (size_t)(y + 1) * (size_t)stride;
		uint32_t *dq = sq + (size_t)(y + 1) * (size_t)stride;
		uint32_t rs = 0, rq = 0;

		ds[0] = dq[0] = 0;
		for (int x = 0; x < img->w; x++) {
			uint32_t v = px[x];

			rs += v;
			rq += v * v;
			ds[x + 1] = ps[x + 1] + rs;
			dq[x + 1] = pq[x + 1] + rq;
		}
	}
}

/* --- grouping, as groupRectangles(rects, minNeighbors, 0.2) --- */

static int
similar(const struct bb_rect *a, const struct bb_rect *b, double eps)
{
	double delta = eps * ((a->w < b->w ? a->w : b->w) + (a->h < b->h ? a->h : b->h)) * 0.5;

	return abs(a->x - b->x) <= delta && abs(a->y - b->y) <= delta &&
	    abs(a->x + a->w - b->x - b->w) <= delta &&
	    abs(a->y + a->h - b->y - b->h) <= delta;
}

static size_t
find_root(size_t *parent, size_t i)
{
	size_t r = i;

	while (parent[r] != r)
		r = parent[r];
	while (parent[i] != r) {
		size_t next = parent[i];

		parent[i] = r;
		i = next;
	}
	return r;
}

/* Replaces r[0..n) by the groups; returns their number, or (size_t)-1 out of memory. */
static size_t
group(struct bb_rect *r, size_t n, int threshold, double eps)
{
	size_t *parent, *label, nclass = 0, i, j, kept = 0;
	long long (*acc)[4];
	int *count;
	struct bb_rect *avg;

	if (threshold <= 0 || n == 0)
		return n;
	parent = malloc(n * sizeof *parent);
	label = malloc(n * sizeof *label);
	acc = calloc(n, sizeof *acc);
	count = calloc(n, sizeof *count);
	avg = malloc(n * sizeof *avg);
	if (parent == NULL || label == NULL || acc == NULL || count == NULL || avg == NULL) {
		n = (size_t)-1;
		goto out;
	}
	/* Classes: the connected components of the similarity relation (cv::partition),
	 * numbered in the order of their first member. */
	for (i = 0; i < n; i++)
		parent[i] = i;
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (similar(&r[i], &r[j], eps)) {
				size_t a = find_root(parent, i), b = find_root(parent, j);

				if (a != b)
					parent[a > b ? a : b] = a < b ? a : b;
			}
	for (i = 0; i < n; i++)
		label[i] = (size_t)-1;
	for (i = 0; i < n; i++) {
		size_t root = find_root(parent, i);

		if (label[root] == (size_t)-1)
			label[root] = nclass++;
		j = label[root];
		acc[j][0] += r[i].x;
		acc[j][1] += r[i].y;
		acc[j][2] += r[i].w;
		acc[j][3] += r[i].h;
		count[j]++;
	}
	/* The mean in float, rounded to even, as OpenCV's saturate_cast<int>(float). */
	for (i = 0; i < nclass; i++) {
		float s = 1.f / (float)count[i];

		avg[i].x = round_even((float)acc[i][0] * s);
		avg[i].y = round_even((float)acc[i][1] * s);
		avg[i].w = round_even((float)acc[i][2] * s);
		avg[i].h = round_even((float)acc[i][3] * s);
	}
	for (i = 0; i < nclass; i++) {
		const struct bb_rect *r1 = &avg[i];
		int n1 = count[i];

		if (n1 <= threshold)
			continue;
		/* A group inside a bigger group with more support goes (or any group of fewer
		 * than 3 inside another). */
		for (j = 0; j < nclass; j++) {
			const struct bb_rect *r2 = &avg[j];
			int n2 = count[j], dx, dy;

			if (j == i || n2 <= threshold)
				continue;
			dx = round_even(r2->w * eps);
			dy = round_even(r2->h * eps);
			if (r1->x >= r2->x - dx && r1->y >= r2->y - dy &&
			    r1->x + r1->w <= r2->x + r2->w + dx &&
			    r1->y + r1->h <= r2->y + r2->h + dy &&
			    (n2 > (n1 > 3 ? n1 : 3) || n1 < 3))
				break;
		}
		if (j == nclass)
			r[kept++] = *r1;
	}
	n = kept;
out:
	free(parent);
	free(label);
	free(acc);
	free(count);
	free(avg);
	return n;
}

/* --- detection --- */

int
bb_detect(const struct bb_cascade *c, const struct bb_image *grey,
    const struct bb_detect_opts *o, struct bb_rect **out, size_t *n, struct bb_err *e)
{
	struct scan s;
	float *scales = NULL;
	size_t nscales = 0, capscales = 0, i, k;
	int min_w, min_h, max_w, max_h;
	int W, H, rc = 0, lw0 = 0, lh0 = 0;
	uint32_t *sum = NULL, *sq = NULL;
	struct bb_image level = { 0, 0, 0, NULL };

	*out = NULL;
	*n = 0;
	memset(&s, 0, sizeof s);
	if (c == NULL || o == NULL)
		return bb_fail(e, BB_SOFTWARE, "bb_detect: no cascade or no options");
	if (grey == NULL || grey->ch != 1 || grey->px == NULL || grey->w <= 0 || grey->h <= 0)
		return bb_fail(e, BB_SOFTWARE, "bb_detect: not a grey image");
	if (!(o->scale >= 1.001 && o->scale <= 100))
		return bb_fail(e, BB_SOFTWARE, "bb_detect: scale %g: not between 1.001 and 100",
		    o->scale);
	W = grey->w;
	H = grey->h;
	/* OpenCV's meaning: no maximum unless both are given. */
	min_w = o->min_w;
	min_h = o->min_h;
	max_w = o->max_w;
	max_h = o->max_h;
	if (max_w == 0 || max_h == 0) {
		max_w = W;
		max_h = H;
	}

	/* The levels: factor 1, scale, scale^2, ... in double; each kept as a float. */
	for (double factor = 1;; factor *= o->scale) {
		int ww = round_even(c->win_w * factor), wh = round_even(c->win_h * factor);

		if (ww > max_w || wh > max_h || ww > W || wh > H)
			break;
		if (ww < min_w || wh < min_h)
			continue;
		if (nscales == capscales) {
			size_t m = capscales ? capscales * 2 : 64;
			float *t = realloc(scales, m * sizeof *t);

			if (t == NULL) {
				rc = bb_fail(e, BB_SOFTWARE, "out of memory");
				goto out;
			}
			scales = t;
			capscales = m;
		}
		scales[nscales++] = (float)factor;
	}
	if (nscales == 0)
		goto out;

	/* One stride for every level (the first is the biggest): the stumps' offsets are
	 * computed once. */
	lw0 = round_even((float)W / scales[0]);
	lh0 = round_even((float)H / scales[0]);
	s.c = c;
	s.stride = lw0 + 1;
	/* Offsets within a window are int32 (OpenCV's are int too). */
	if ((long long)s.stride * (c->win_h + 1) > INT32_MAX) {
		rc = bb_fail(e, BB_SOFTWARE, "bb_detect: %d pixels wide is too wide", W);
		goto out;
	}
	s.area = (double)(c->win_w - 2) * (c->win_h - 2);
	corner_offsets(s.norm, 1, 1, c->win_w - 2, c->win_h - 2, s.stride);
	sum = malloc((size_t)(lh0 + 1) * (size_t)s.stride * sizeof *sum);
	sq = malloc((size_t)(lh0 + 1) * (size_t)s.stride * sizeof *sq);
	s.st = calloc(c->nstump, sizeof *s.st);
	if (sum == NULL || sq == NULL || s.st == NULL) {
		rc = bb_fail(e, BB_SOFTWARE, "out of memory");
		goto out;
	}
	for (i = 0; i < c->nstump; i++) {
		const struct hfeature *f = &c->feature[c->stump[i].feature];
		struct ostump *t = &s.st[i];

		for (int r = 0; r < f->n; r++) {
			corner_offsets(t->o[r], f->r[r].x, f->r[r].y, f->r[r].w, f->r[r].h,
			    s.stride);
			t->weight[r] = f->r[r].weight;
		}
		t->threshold = c->stump[i].threshold;
		t->leaf[0] = c->stump[i].left;
		t->leaf[1] = c->stump[i].right;
	}

	for (k = 0; k < nscales; k++) {
		float sc = scales[k];
		int lw = round_even((float)W / sc), lh = round_even((float)H / sc);
		int step = sc >= 2 ? 1 : 2;
		int ww = round_even((float)c->win_w * sc), wh = round_even((float)c->win_h * sc);
		int xend = lw + 1 - c->win_w, yend = lh + 1 - c->win_h;

		if (lw > lw0 || lh > lh0 || lw <= 0 || lh <= 0) {
			rc = bb_fail(e, BB_SOFTWARE, "bb_detect: level %dx%d", lw, lh);
			goto out;
		}
		if ((rc = bb_haar_resize(grey, lw, lh, &level, e)) != 0)
			goto out;
		integrate(&level, sum, sq, s.stride);
		bb_image_free(&level);
		for (int y = 0; y < yend; y += step) {
			const uint32_t *prow = sum + (size_t)y * (size_t)s.stride;
			const uint32_t *qrow = sq + (size_t)y * (size_t)s.stride;

			for (int x = 0; x < xend; x += step) {
				int res = run_window(&s, prow + x, qrow + x);

				if (res > 0 && (rc = push_hit(&s, round_even((float)x * sc),
				    round_even((float)y * sc), ww, wh, e)) != 0)
					goto out;
				/* Rejected at once: OpenCV moves on by two steps. */
				if (res == 0)
					x += step;
			}
		}
	}

	if ((*n = group(s.hits, s.nhits, o->min_neighbors, GROUP_EPS)) == (size_t)-1) {
		*n = 0;
		rc = bb_fail(e, BB_SOFTWARE, "out of memory");
		goto out;
	}
	/* Clipped to the image, as CascadeClassifier::detectMultiScale does last. */
	for (i = k = 0; i < *n; i++) {
		struct bb_rect r = s.hits[i];
		int x1 = r.x > 0 ? r.x : 0, y1 = r.y > 0 ? r.y : 0;
		int x2 = r.x + r.w < W ? r.x + r.w : W, y2 = r.y + r.h < H ? r.y + r.h : H;

		if (x2 > x1 && y2 > y1) {
			s.hits[k].x = x1;
			s.hits[k].y = y1;
			s.hits[k].w = x2 - x1;
			s.hits[k].h = y2 - y1;
			k++;
		}
	}
	*n = k;
	if (k == 0) {
		free(s.hits);
		s.hits = NULL;
	}
	*out = s.hits;
	s.hits = NULL;
out:
	bb_image_free(&level);
	free(scales);
	free(sum);
	free(sq);
	free(s.st);
	free(s.hits);
	return rc;
}
