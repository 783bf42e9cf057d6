#!/usr/bin/python3
"""memscan.py: where a process's memory holds a byte string (root reads /proc/PID/mem):
the anonymous and heap mappings, not the files mapped from disk (they hold no secret).
    from memscan import scan; scan(pid, b"918273") -> [(mapping, address), ...]
Only pages present in memory are read (/proc/PID/pagemap), so a sanitizer's reserved
terabytes cost nothing; mappings over 64 GiB (ASan's shadow: no data of the program's)
are skipped."""

import struct

PAGE = 4096
CHUNK = 1 << 20


def present_runs(pm, a, b):
	"""(start, end) runs of present pages in [a, b)."""
	runs, start = [], None
	for base in range(a, b, CHUNK * 64):
		end = min(b, base + CHUNK * 64)
		pm.seek(base // PAGE * 8)
		raw = pm.read((end - base) // PAGE * 8)
		for i in range(len(raw) // 8):
			(e,) = struct.unpack_from("<Q", raw, i * 8)
			addr = base + i * PAGE
			if e & (1 << 63) or e & (1 << 62):	# present or swapped
				if start is None:
					start = addr
			elif start is not None:
				runs.append((start, addr))
				start = None
	if start is not None:
		runs.append((start, b))
	return runs


def scan(pid, needle):
	hits = []
	with open("/proc/%d/maps" % pid) as m:
		regions = [l.split() for l in m]
	with open("/proc/%d/mem" % pid, "rb", 0) as mem, open("/proc/%d/pagemap" % pid, "rb", 0) as pm:
		for r in regions:
			if len(r) < 2 or "r" not in r[1]:
				continue
			name = r[5] if len(r) > 5 else ""
			if name.startswith("/") or name in ("[vvar]", "[vsyscall]", "[vdso]"):
				continue
			a, b = (int(x, 16) for x in r[0].split("-"))
			if b - a > 1 << 36:
				continue
			for s, e in present_runs(pm, a, b):
				for c in range(s, e, CHUNK):
					try:
						mem.seek(c)
						# Overlap by the needle's length: a hit across chunks counts.
						data = mem.read(min(e, c + CHUNK + len(needle)) - c)
					except (OSError, ValueError, OverflowError):
						continue
					i = data.find(needle)
					while i >= 0:
						if i < CHUNK:
							hits.append((name or "anon", hex(c + i)))
						i = data.find(needle, i + 1)
	return hits
