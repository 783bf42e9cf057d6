#!/usr/bin/python3
"""memscan.py: where a process's memory holds a byte string (root reads /proc/PID/mem):
the anonymous and heap mappings, not the files mapped from disk (they hold no secret).
    from memscan import scan; scan(pid, b"918273") -> [(mapping, address), ...]"""
import re, sys
def scan(pid, needle):
	hits = []
	with open("/proc/%d/maps" % pid) as m:
		regions = [l.split() for l in m]
	with open("/proc/%d/mem" % pid, "rb", 0) as mem:
		for r in regions:
			if len(r) < 2 or "r" not in r[1]:
				continue
			name = r[5] if len(r) > 5 else ""
			if name.startswith("/") and not name.startswith("/dev/zero") or name in ("[vvar]", "[vsyscall]"):
				continue
			a, b = (int(x, 16) for x in r[0].split("-"))
			try:
				mem.seek(a)
				data = mem.read(b - a)
			except (OSError, ValueError, OverflowError):
				continue
			i = data.find(needle)
			while i >= 0:
				hits.append((name or "anon", hex(a + i)))
				i = data.find(needle, i + 1)
	return hits
