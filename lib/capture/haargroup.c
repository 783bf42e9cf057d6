/* The grouping of neighbouring hits into objects, as OpenCV's groupRectangles
 * (haarint.h). */
#include "capture/haarint.h"

#include <stdlib.h>

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

size_t
bb_haar_group(struct bb_rect *r, size_t n, int threshold, double eps)
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
