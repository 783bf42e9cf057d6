"""rigserver.py: what the rig's servers (authority.py, eidserver.py, static-server.py)
share: the port they chose, written whole for the test that waits for it, and their end
when the test that started them has ended, so a failed test leaves no server."""

import os
import threading
import time


def write_port(path, port):
	"""Writes "PORT\\n" to path by rename: a reader never sees half of it."""
	tmp = path + ".tmp"
	with open(tmp, "w") as f:
		f.write("%d\n" % port)
	os.replace(tmp, path)


def exit_with(pid):
	"""Ends this process as soon as process pid is gone (a thread polls it)."""
	def watch():
		while True:
			time.sleep(0.5)
			try:
				os.kill(pid, 0)
			except ProcessLookupError:
				os._exit(0)
			except PermissionError:
				pass
	threading.Thread(target=watch, daemon=True).start()
