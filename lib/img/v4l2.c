/* Cameras: see v4l2.h. Written to the V4L2 API documentation (the "Streaming I/O (Memory
 * Mapping)" and "Video Capture Interface" chapters); the device path is untested here, as
 * no camera or v4l2loopback exists on this machine. */
#include "img/v4l2.h"
#include "img/image.h"
#include "diag.h"
#include "exit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/videodev2.h>

/* ioctl that survives signals (the capture program has handlers for SIGINT/SIGTERM). */
static int
xioctl(int fd, unsigned long req, void *arg)
{
	int r;

	do
		r = ioctl(fd, req, arg);
	while (r == -1 && errno == EINTR);
	return r;
}

const char *
bb_v4l2_fourcc_str(uint32_t fourcc, char buf[5])
{
	int i;

	for (i = 0; i < 4; i++) {
		unsigned char c = (fourcc >> (8 * i)) & 0xff;

		buf[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	buf[4] = '\0';
	return buf;
}

int
bb_v4l2_convert(uint32_t fourcc, const unsigned char *buf, size_t len, int w, int h,
    size_t stride, struct bb_image *out, struct bb_err *e)
{
	char f[5];
	int rc;

	switch (fourcc) {
	case V4L2_PIX_FMT_YUYV:
		return bb_image_from_yuyv_stride(buf, len, w, h, stride, out, e);
	case V4L2_PIX_FMT_MJPEG:
	case V4L2_PIX_FMT_JPEG:
		/* UVC MJPEG frames often leave out the Huffman tables (AVI1 "MJPG"):
		 * libjpeg-turbo supplies the standard ones (jdhuff.c). */
		if ((rc = bb_image_decode(buf, len, "camera frame", out, e)) != 0)
			return rc;
		if (out->w != w || out->h != h) {
			int ow = out->w, oh = out->h;

			bb_image_free(out);
			return bb_fail(e, BB_DATAERR, "camera frame: %dx%d, %dx%d expected", ow,
			    oh, w, h);
		}
		return 0;
	default:
		memset(out, 0, sizeof *out);
		return bb_fail(e, BB_SOFTWARE, "camera frame: format %s not supported",
		    bb_v4l2_fourcc_str(fourcc, f));
	}
}

static void
v4l2_init(struct bb_v4l2 *v, const char *path)
{
	memset(v, 0, sizeof *v);
	v->fd = -1;
	snprintf(v->path, sizeof v->path, "%s", path != NULL ? path : "");
}

void
bb_v4l2_close(struct bb_v4l2 *v)
{
	enum v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	unsigned i;

	if (v->fd >= 0 && v->streaming)
		(void)xioctl(v->fd, VIDIOC_STREAMOFF, &type);
	v->streaming = 0;
	for (i = 0; i < v->nbuf; i++)
		if (v->buf[i].p != NULL && v->buf[i].p != MAP_FAILED)
			munmap(v->buf[i].p, v->buf[i].len);
	v->nbuf = 0;
	if (v->fd >= 0) {
		struct v4l2_requestbuffers rb;

		/* Frees the driver's buffers now rather than at close (V4L2: count 0). */
		memset(&rb, 0, sizeof rb);
		rb.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
		rb.memory = V4L2_MEMORY_MMAP;
		(void)xioctl(v->fd, VIDIOC_REQBUFS, &rb);
		close(v->fd);
	}
	v->fd = -1;
}

/* Does the device list this pixel format for capture? */
static int
has_format(int fd, uint32_t fourcc)
{
	struct v4l2_fmtdesc fd_;
	unsigned i;

	for (i = 0; i < 256; i++) {
		memset(&fd_, 0, sizeof fd_);
		fd_.index = i;
		fd_.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
		if (xioctl(fd, VIDIOC_ENUM_FMT, &fd_) != 0)
			return 0;
		if (fd_.pixelformat == fourcc)
			return 1;
	}
	return 0;
}

/* S_FMT with fourcc at w x h; f says what the driver made of it. 0 when it kept fourcc. */
static int
set_format(int fd, uint32_t fourcc, int w, int h, struct v4l2_format *f)
{
	memset(f, 0, sizeof *f);
	f->type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	f->fmt.pix.width = (uint32_t)w;
	f->fmt.pix.height = (uint32_t)h;
	f->fmt.pix.pixelformat = fourcc;
	f->fmt.pix.field = V4L2_FIELD_NONE;
	if (xioctl(fd, VIDIOC_S_FMT, f) != 0)
		return -1;
	return f->fmt.pix.pixelformat == fourcc && f->fmt.pix.width > 0 &&
	    f->fmt.pix.height > 0 ? 0 : -1;
}

static int
v4l2_fail(struct bb_v4l2 *v, struct bb_err *e, const char *what, int err)
{
	bb_fail(e, BB_UNAVAILABLE, "%s: %s: %s", v->path, what, strerror(err));
	bb_v4l2_close(v);
	return BB_UNAVAILABLE;
}

/* A camera this cannot use: said (after the device's path), the device closed. */
static int __attribute__((format(printf, 3, 4)))
v4l2_refuse(struct bb_v4l2 *v, struct bb_err *e, const char *fmt, ...)
{
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	bb_fail(e, BB_UNAVAILABLE, "%s: %s", v->path, why);
	bb_v4l2_close(v);
	return BB_UNAVAILABLE;
}

/* The frame format: YUYV or MJPEG at want_w x want_h, else the largest either offers;
 * v->w, h, fourcc and stride from what the driver then set. */
static int
choose_format(struct bb_v4l2 *v, int want_w, int want_h, struct bb_err *e)
{
	static const uint32_t pref[] = { V4L2_PIX_FMT_YUYV, V4L2_PIX_FMT_MJPEG };
	struct v4l2_format f, best;
	unsigned i;
	int found = 0;

	/* YUYV is uncompressed (TR-03121-3 5.1 wants uncompressed frames to the software),
	 * MJPEG the fallback: many USB cameras give their full size only in MJPEG. */
	memset(&best, 0, sizeof best);
	for (i = 0; i < sizeof pref / sizeof pref[0]; i++) {
		if (!has_format(v->fd, pref[i]) || set_format(v->fd, pref[i], want_w, want_h,
		    &f) != 0)
			continue;
		if ((int)f.fmt.pix.width == want_w && (int)f.fmt.pix.height == want_h) {
			best = f;
			found = 1;
			break;
		}
		if (!found || (uint64_t)f.fmt.pix.width * f.fmt.pix.height >
		    (uint64_t)best.fmt.pix.width * best.fmt.pix.height) {
			best = f;
			found = 1;
		}
	}
	if (!found)
		return v4l2_refuse(v, e, "camera offers neither YUYV nor MJPEG");
	/* The last S_FMT may have been the other format: set the chosen one again. */
	if (set_format(v->fd, best.fmt.pix.pixelformat, (int)best.fmt.pix.width,
	    (int)best.fmt.pix.height, &f) != 0)
		return v4l2_fail(v, e, "setting the frame format", errno != 0 ? errno : EINVAL);
	if (f.fmt.pix.width > INT_MAX || f.fmt.pix.height > INT_MAX ||
	    (uint64_t)f.fmt.pix.width * f.fmt.pix.height > (uint64_t)BB_IMAGE_MAX_PIXELS)
		return v4l2_refuse(v, e, "frame size %ux%u not usable", f.fmt.pix.width,
		    f.fmt.pix.height);
	v->w = (int)f.fmt.pix.width;
	v->h = (int)f.fmt.pix.height;
	v->fourcc = f.fmt.pix.pixelformat;
	v->stride = f.fmt.pix.bytesperline != 0 ? f.fmt.pix.bytesperline : (size_t)v->w * 2;
	return 0;
}

/* The driver's buffers, mapped and queued for the stream. */
static int
map_buffers(struct bb_v4l2 *v, struct bb_err *e)
{
	struct v4l2_requestbuffers rb;
	struct v4l2_buffer b;
	unsigned i;

	memset(&rb, 0, sizeof rb);
	rb.count = BB_V4L2_BUFFERS;
	rb.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	rb.memory = V4L2_MEMORY_MMAP;
	if (xioctl(v->fd, VIDIOC_REQBUFS, &rb) != 0)
		return v4l2_fail(v, e, "requesting buffers", errno);
	if (rb.count < 2 || rb.count > BB_V4L2_MAXBUF)
		return v4l2_refuse(v, e, "driver gave %u buffers", rb.count);
	for (i = 0; i < rb.count; i++) {
		memset(&b, 0, sizeof b);
		b.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
		b.memory = V4L2_MEMORY_MMAP;
		b.index = i;
		if (xioctl(v->fd, VIDIOC_QUERYBUF, &b) != 0)
			return v4l2_fail(v, e, "querying a buffer", errno);
		v->buf[i].len = b.length;
		v->buf[i].p = mmap(NULL, b.length, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd,
		    b.m.offset);
		v->nbuf = i + 1;
		if (v->buf[i].p == MAP_FAILED)
			return v4l2_fail(v, e, "mapping a buffer", errno);
		if (xioctl(v->fd, VIDIOC_QBUF, &b) != 0)
			return v4l2_fail(v, e, "queueing a buffer", errno);
	}
	return 0;
}

int
bb_v4l2_open(const char *path, int want_w, int want_h, struct bb_v4l2 *v,
    struct bb_err *e)
{
	struct v4l2_capability cap;
	enum v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	uint32_t caps;
	int rc;

	v4l2_init(v, path);
	if (path == NULL || *path == '\0')
		return bb_fail(e, BB_UNAVAILABLE, "no camera device given");
	if (want_w <= 0 || want_h <= 0 || (long)want_w * want_h > BB_IMAGE_MAX_PIXELS)
		return bb_fail(e, BB_SOFTWARE, "%s: %dx%d is not a frame size", v->path, want_w,
		    want_h);
	/* Non-blocking: DQBUF must not hang when the camera stops; poll waits instead. */
	if ((v->fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC)) < 0)
		return v4l2_fail(v, e, "no camera", errno);
	memset(&cap, 0, sizeof cap);
	if (xioctl(v->fd, VIDIOC_QUERYCAP, &cap) != 0)
		return v4l2_fail(v, e, "not a V4L2 device", errno);
	caps = (cap.capabilities & V4L2_CAP_DEVICE_CAPS) ? cap.device_caps : cap.capabilities;
	if (!(caps & V4L2_CAP_VIDEO_CAPTURE) || !(caps & V4L2_CAP_STREAMING))
		return v4l2_refuse(v, e, "not a streaming video capture device");
	if ((rc = choose_format(v, want_w, want_h, e)) != 0 ||
	    (rc = map_buffers(v, e)) != 0)
		return rc;
	if (xioctl(v->fd, VIDIOC_STREAMON, &type) != 0)
		return v4l2_fail(v, e, "starting the stream", errno);
	v->streaming = 1;
	return 0;
}

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
bb_v4l2_frame(struct bb_v4l2 *v, struct bb_image *out, int timeout_ms, struct bb_err *e)
{
	long end = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	int rc = -1;

	memset(out, 0, sizeof *out);
	if (v->fd < 0 || !v->streaming)
		return bb_fail(e, BB_SOFTWARE, "%s: camera not open", v->path);
	for (;;) {
		struct pollfd p = { .fd = v->fd, .events = POLLIN };
		struct v4l2_buffer b;
		long left = end - now_ms();
		size_t used;
		int r;

		if (left < 0)
			left = 0;
		r = poll(&p, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return bb_fail(e, BB_UNAVAILABLE, "%s: waiting for a frame: %s", v->path,
			    strerror(errno));
		if (r == 0) {
			/* The last damaged frame's error says more than a timeout. */
			if (rc > 0)
				return rc;
			return bb_fail(e, BB_UNAVAILABLE, "%s: no frame within %d ms", v->path,
			    timeout_ms);
		}
		if (p.revents & (POLLERR | POLLHUP | POLLNVAL))
			return bb_fail(e, BB_UNAVAILABLE, "%s: camera gone", v->path);
		memset(&b, 0, sizeof b);
		b.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
		b.memory = V4L2_MEMORY_MMAP;
		if (xioctl(v->fd, VIDIOC_DQBUF, &b) != 0) {
			if (errno == EAGAIN)
				continue;
			return bb_fail(e, BB_UNAVAILABLE, "%s: taking a frame: %s", v->path,
			    strerror(errno));
		}
		if (b.index >= v->nbuf) {
			/* Not ours to requeue: the driver is confused. */
			return bb_fail(e, BB_UNAVAILABLE, "%s: driver returned buffer %u of %u",
			    v->path, b.index, v->nbuf);
		}
		/* bytesused beyond the mapping would read past it; 0 is what some drivers
		 * report for a full uncompressed frame. */
		used = b.bytesused != 0 ? b.bytesused : v->buf[b.index].len;
		if (used > v->buf[b.index].len)
			used = v->buf[b.index].len;
		if (b.flags & V4L2_BUF_FLAG_ERROR)
			rc = bb_fail(e, BB_DATAERR, "%s: damaged frame", v->path);
		else
			rc = bb_v4l2_convert(v->fourcc, v->buf[b.index].p, used, v->w, v->h,
			    v->stride, out, e);
		if (xioctl(v->fd, VIDIOC_QBUF, &b) != 0) {
			bb_image_free(out);
			return bb_fail(e, BB_UNAVAILABLE, "%s: requeueing a frame: %s", v->path,
			    strerror(errno));
		}
		if (rc == 0)
			return 0;
		if (rc != BB_DATAERR)
			return rc;
		/* A damaged or undecodable frame (USB glitch): try the next one. */
	}
}

/* --- listing --- */

static int
video_index(const char *name)
{
	const char *p;
	long n;
	char *end;

	if (strncmp(name, "video", 5) != 0)
		return -1;
	p = name + 5;
	if (*p < '0' || *p > '9')
		return -1;
	errno = 0;
	n = strtol(p, &end, 10);
	if (*end != '\0' || errno != 0 || n > 1000000)
		return -1;
	return (int)n;
}

static int
cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

static json_t *
pair(uint32_t a, uint32_t b)
{
	return json_pack("[II]", (json_int_t)a, (json_int_t)b);
}

static json_t *
sizes(int fd, uint32_t fourcc)
{
	json_t *arr = json_array();
	unsigned i;

	if (arr == NULL)
		return NULL;
	for (i = 0; i < 256; i++) {
		struct v4l2_frmsizeenum fs;

		memset(&fs, 0, sizeof fs);
		fs.index = i;
		fs.pixel_format = fourcc;
		if (xioctl(fd, VIDIOC_ENUM_FRAMESIZES, &fs) != 0)
			break;
		if (fs.type == V4L2_FRMSIZE_TYPE_DISCRETE) {
			if (json_array_append_new(arr, pair(fs.discrete.width,
			    fs.discrete.height)) != 0)
				goto oom;
			continue;
		}
		/* Stepwise or continuous: one range describes them all. */
		json_decref(arr);
		return json_pack("{s:o,s:o,s:o}",
		    "min", pair(fs.stepwise.min_width, fs.stepwise.min_height),
		    "max", pair(fs.stepwise.max_width, fs.stepwise.max_height),
		    "step", pair(fs.stepwise.step_width, fs.stepwise.step_height));
	}
	return arr;
oom:
	json_decref(arr);
	return NULL;
}

static json_t *
str_n(const unsigned char *s, size_t max)
{
	char buf[64];
	size_t n = strnlen((const char *)s, max), i;

	/* A driver's name need not be UTF-8: printable ASCII, others as '?' (JSON needs
	 * UTF-8, and a NULL here would drop every camera from the list). */
	if (n >= sizeof buf)
		n = sizeof buf - 1;
	for (i = 0; i < n; i++)
		buf[i] = s[i] >= 0x20 && s[i] < 0x7F ? (char)s[i] : '?';
	return json_stringn(buf, n);
}

/* One node: NULL when it is not a capture device (or out of memory: *oom). */
static json_t *
describe(const char *path, int *oom)
{
	struct v4l2_capability cap;
	json_t *o, *fmts;
	uint32_t caps;
	unsigned i;
	int fd;

	if ((fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC)) < 0) {
		if (errno == ENOENT || errno == ENODEV || errno == ENXIO)
			return NULL;	/* vanished (unplugged) while listing */
		o = json_pack("{s:s,s:s}", "path", path, "error", strerror(errno));
		*oom = o == NULL;
		return o;
	}
	memset(&cap, 0, sizeof cap);
	if (xioctl(fd, VIDIOC_QUERYCAP, &cap) != 0) {
		close(fd);
		return NULL;
	}
	caps = (cap.capabilities & V4L2_CAP_DEVICE_CAPS) ? cap.device_caps : cap.capabilities;
	if (!(caps & V4L2_CAP_VIDEO_CAPTURE)) {
		close(fd);
		return NULL;
	}
	o = json_object();
	fmts = json_array();
	if (o == NULL || fmts == NULL ||
	    json_object_set_new(o, "path", json_string(path)) != 0 ||
	    json_object_set_new(o, "name", str_n(cap.card, sizeof cap.card)) != 0 ||
	    json_object_set_new(o, "driver", str_n(cap.driver, sizeof cap.driver)) != 0 ||
	    json_object_set_new(o, "bus", str_n(cap.bus_info, sizeof cap.bus_info)) != 0 ||
	    json_object_set(o, "formats", fmts) != 0)
		goto oom;
	for (i = 0; i < 256; i++) {
		struct v4l2_fmtdesc d;
		char f[5];
		json_t *fo;

		memset(&d, 0, sizeof d);
		d.index = i;
		d.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
		if (xioctl(fd, VIDIOC_ENUM_FMT, &d) != 0)
			break;
		fo = json_pack("{s:s,s:o,s:o*}", "fourcc", bb_v4l2_fourcc_str(d.pixelformat, f),
		    "description", str_n(d.description, sizeof d.description),
		    "sizes", sizes(fd, d.pixelformat));
		if (fo == NULL || json_array_append_new(fmts, fo) != 0)
			goto oom;
	}
	json_decref(fmts);
	close(fd);
	return o;
oom:
	json_decref(fmts);
	json_decref(o);
	close(fd);
	*oom = 1;
	return NULL;
}

int
bb_v4l2_list(json_t **out)
{
	json_t *arr;
	struct dirent *de;
	DIR *d;
	int *idx = NULL, oom = 0;
	size_t n = 0, cap = 0, i;

	*out = NULL;
	if ((arr = json_array()) == NULL)
		return BB_SOFTWARE;
	/* No /dev/video* (or no /dev): no cameras, an empty list. */
	if ((d = opendir("/dev")) != NULL) {
		while ((de = readdir(d)) != NULL) {
			int k = video_index(de->d_name);

			if (k < 0)
				continue;
			if (n == cap) {
				int *p = realloc(idx, (cap = cap ? 2 * cap : 8) * sizeof *idx);

				if (p == NULL) {
					oom = 1;
					break;
				}
				idx = p;
			}
			idx[n++] = k;
		}
		closedir(d);
	}
	if (n > 0)
		qsort(idx, n, sizeof *idx, cmp_int);
	for (i = 0; i < n && !oom; i++) {
		char path[64];
		json_t *o;

		snprintf(path, sizeof path, "/dev/video%d", idx[i]);
		if ((o = describe(path, &oom)) != NULL && json_array_append_new(arr, o) != 0)
			oom = 1;
	}
	free(idx);
	if (oom) {
		json_decref(arr);
		return BB_SOFTWARE;
	}
	*out = arr;
	return 0;
}
