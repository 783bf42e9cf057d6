"""The reference for tests/0800-haar.t: OpenCV's CascadeClassifier on an image, and the
grey pixels it saw, so the rig's detect gets exactly the same ones.

  face-ref.py grey IMAGE OUT.pgm [--width W]
      IMAGE (anything cv2.imread reads) to grey with cv2.cvtColor(BGR2GRAY), shrunk to
      width W with INTER_AREA when given (the mirror's downscaled frame), written as PGM.
  face-ref.py detect IMAGE.pgm [--scale S] [--min-neighbors N] [--min-size N|WxH]
                     [--max-size WxH] [--cascade F] [--eye-cascade F] [--no-eyes]
                     [--time N] [--threads N]
      {"faces": [[x, y, w, h], ...], "eyes": [...]} as detect prints it: eyes in the
      largest face (biggest area, then topmost, then leftmost), same scale and neighbours,
      in image coordinates; with --time the median and minimum of N face detections.
  face-ref.py resize IN.pgm WxH OUT.pgm [WxH OUT.pgm ...]
      cv2.resize(INTER_LINEAR_EXACT), what the pyramid of detectMultiScale is made with.
  face-ref.py compare OURS.json REF.json
      exit 0 when the face counts are equal and every reference face has one of ours with
      IoU >= 0.8 (one-to-one), and the same for the eyes; prints the IoUs.

Run with /usr/bin/python3 (Debian's python3-opencv 4.6)."""
import argparse
import json
import sys
import time

HAAR = "/usr/share/opencv4/haarcascades"


def size(s):
    w, _, h = s.partition("x")
    return (int(w), int(h or w))


def largest(faces):
    return min(faces, key=lambda r: (-r[2] * r[3], r[1], r[0]))


def detect(a):
    import cv2
    if a.threads is not None:
        cv2.setNumThreads(a.threads)
    grey = cv2.imread(a.image, cv2.IMREAD_UNCHANGED)
    if grey is None or grey.ndim != 2:
        sys.exit("face-ref.py: %s: not a grey image" % a.image)
    face = cv2.CascadeClassifier(a.cascade)
    if face.empty():
        sys.exit("face-ref.py: %s: cannot load" % a.cascade)
    kw = dict(scaleFactor=a.scale, minNeighbors=a.min_neighbors,
              minSize=a.min_size, maxSize=a.max_size)
    faces = [list(map(int, r)) for r in face.detectMultiScale(grey, **kw)]
    out = {"faces": faces, "eyes": []}
    if a.time:
        ms = []
        for _ in range(a.time):
            t0 = time.perf_counter()
            face.detectMultiScale(grey, **kw)
            ms.append((time.perf_counter() - t0) * 1e3)
        ms.sort()
        out["ms"] = round(ms[len(ms) // 2], 3)
        out["ms_min"] = round(ms[0], 3)
    if faces and not a.no_eyes:
        eye = cv2.CascadeClassifier(a.eye_cascade)
        if eye.empty():
            sys.exit("face-ref.py: %s: cannot load" % a.eye_cascade)
        x, y, w, h = largest(faces)
        roi = grey[y:y + h, x:x + w]
        eyes = eye.detectMultiScale(roi, scaleFactor=a.scale, minNeighbors=a.min_neighbors)
        out["eyes"] = [[int(ex) + x, int(ey) + y, int(ew), int(eh)]
                       for ex, ey, ew, eh in eyes]
    print(json.dumps(out, separators=(",", ":")))


def iou(a, b):
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union else 0.0


def match(what, ours, ref):
    """Greedy one-to-one matching by IoU; True when every reference rect is matched."""
    ok = len(ours) == len(ref)
    if not ok:
        print("# %s: %d ours, %d OpenCV's" % (what, len(ours), len(ref)))
    free = list(range(len(ours)))
    for r in ref:
        best, bi = 0.0, None
        for i in free:
            v = iou(r, ours[i])
            if v > best:
                best, bi = v, i
        if bi is not None and best >= 0.8:
            free.remove(bi)
            print("# %s %s IoU %.3f" % (what, r, best))
        else:
            print("# %s %s unmatched (best IoU %.3f)" % (what, r, best))
            ok = False
    return ok


def compare(a):
    with open(a.ours) as f:
        ours = json.load(f)
    with open(a.ref) as f:
        ref = json.load(f)
    ok = match("face", ours["faces"], ref["faces"])
    ok = match("eye", ours["eyes"], ref["eyes"]) and ok
    sys.exit(0 if ok else 1)


def grey(a):
    import cv2
    img = cv2.imread(a.image, cv2.IMREAD_COLOR)
    if img is None:
        sys.exit("face-ref.py: %s: cannot read" % a.image)
    g = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    if a.width:
        h = round(g.shape[0] * a.width / g.shape[1])
        g = cv2.resize(g, (a.width, h), interpolation=cv2.INTER_AREA)
    cv2.imwrite(a.out, g)


def resize(a):
    import cv2
    g = cv2.imread(a.image, cv2.IMREAD_UNCHANGED)
    if len(a.pairs) % 2:
        sys.exit("face-ref.py resize: WxH OUT pairs expected")
    for wh, out in zip(a.pairs[::2], a.pairs[1::2]):
        cv2.imwrite(out, cv2.resize(g, size(wh), interpolation=cv2.INTER_LINEAR_EXACT))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("grey")
    g.add_argument("image")
    g.add_argument("out")
    g.add_argument("--width", type=int)
    d = sub.add_parser("detect")
    d.add_argument("image")
    d.add_argument("--scale", type=float, default=1.1)
    d.add_argument("--min-neighbors", type=int, default=3)
    d.add_argument("--min-size", type=size, default=(0, 0))
    d.add_argument("--max-size", type=size, default=(0, 0))
    d.add_argument("--cascade", default=HAAR + "/haarcascade_frontalface_default.xml")
    d.add_argument("--eye-cascade", default=HAAR + "/haarcascade_eye.xml")
    d.add_argument("--no-eyes", action="store_true")
    d.add_argument("--time", type=int, default=0)
    d.add_argument("--threads", type=int)
    r = sub.add_parser("resize")
    r.add_argument("image")
    r.add_argument("pairs", nargs="+")
    c = sub.add_parser("compare")
    c.add_argument("ours")
    c.add_argument("ref")
    a = p.parse_args()
    {"detect": detect, "grey": grey, "resize": resize, "compare": compare}[a.cmd](a)


if __name__ == "__main__":
    main()
