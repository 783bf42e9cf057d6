#!/usr/bin/python3
"""AusweisApp2 (Debian's ausweisapp2, the BSI-certified eID client) as an independent
terminal for the tests: started headless with its SDK on a WebSocket, it runs a workflow
against whatever card the rig's pcscd offers (PCSCLITE_CSOCK_NAME), so the card simulator
meets a client that real ID cards are tested with. See tests/rig/README.

    ausweisapp.py [--timeout S] [--timing FILE] [--log FILE] [--home DIR] [--cvca FILE] SCRIPT
    ausweisapp.py --serve PORTFILE [--timeout S] [--log FILE] [--home DIR] [--cvca FILE]

SCRIPT ('-': stdin) holds one step a line ('#' starts a comment line):
    send JSON           send a command, e.g. send {"cmd": "RUN_CHANGE_PIN"}
    expect MSG [JSON]   wait for the message MSG; JSON, when given, must be contained in it
                        (objects key by key, recursively; anything else equal), e.g.
                        expect ENTER_PIN {"reader": {"card": {"retryCounter": 2}}}
    quiet S             no workflow message for S seconds
    timeout S           the time limit of each following step (default --timeout, 30 s)
    lap LABEL           record the time since the last lap (or since the SDK answered)
While waiting, READER, STATUS and INSERT_CARD messages (sent whenever a reader or card
comes or goes, or a step of the card's work ends) pass, also when one of them is expected
and does not contain JSON (the next may); any other message than the one expected fails
the step.

Every received message goes to stdout as one JSON line; commands are not echoed (they
carry the PINs). --timing FILE: JSON lines {"start_ms"} (launch to the SDK answering),
{"step", "ms"} per step and {"lap", "ms"}. --log FILE: AusweisApp's own log (its
messages, not ours). Exit: 0 every step passed; 1 a step failed ("step N (STEP): why" on
stderr, the rest not run); 2 usage; 69 AusweisApp2 or python3-websocket missing; 75
AusweisApp did not offer its SDK within the time limit.

AusweisApp runs as `AusweisApp2 --ui websocket --port 0 --no-proxy` with
QT_QPA_PLATFORM=offscreen, in its own process group, with HOME, TMPDIR and the XDG
directories in a scratch directory (removed at the end; --home DIR: there, kept); it writes
the port it chose to $TMPDIR/AusweisApp2.PID.port. Whatever happens, the process group is
ended (SIGTERM, then SIGKILL after 5 s) before this program exits.

--serve PORTFILE: no script; AusweisApp keeps running for another SDK client (bb-eid
online): once its SDK answers (the probe connection is closed again) its port is written
to PORTFILE, and it runs until this program gets SIGTERM, SIGINT or SIGHUP (status 0) or
AusweisApp exits (1).

--cvca FILE (a CV certificate, DER; repeatable): AusweisApp trusts it as a test CVCA. Its
built-in config.json (read from its resource file, BB_AUSWEISAPP_RCC, default
/usr/share/AusweisApp2/AusweisApp2.rcc, where Debian's build keeps it uncompressed) is
copied to $XDG_DATA_HOME/AusweisApp2/config.json with FILE added to
cvRootCertificatesTest, which AusweisApp reads instead of its own; test chains are accepted
without developer mode (only developer mode refuses production ones).
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

EX_USAGE, EX_UNAVAILABLE, EX_TEMPFAIL = 2, 69, 75
PASSING = ("READER", "STATUS", "INSERT_CARD")
AUSWEISAPP = os.environ.get("BB_AUSWEISAPP", "AusweisApp2")
RCC = os.environ.get("BB_AUSWEISAPP_RCC", "/usr/share/AusweisApp2/AusweisApp2.rcc")


class StepFailed(Exception):
	pass


class Ended(Exception):
	pass


def contains(have, want):
	"""Whether want is in have: objects key by key, recursively; the rest equal."""
	if isinstance(want, dict):
		return isinstance(have, dict) and all(
			k in have and contains(have[k], v) for k, v in want.items())
	return have == want and type(have) is type(want)


def parse_script(text):
	steps = []
	for n, line in enumerate(text.splitlines(), 1):
		line = line.strip()
		if not line or line.startswith("#"):
			continue
		word, _, rest = line.partition(" ")
		rest = rest.strip()
		try:
			if word == "send":
				cmd = json.loads(rest)
				if not isinstance(cmd, dict) or "cmd" not in cmd:
					raise ValueError("not a command object")
				steps.append(("send", cmd, line))
			elif word == "expect":
				msg, _, js = rest.partition(" ")
				if not msg:
					raise ValueError("no message name")
				want = json.loads(js) if js.strip() else {}
				if not isinstance(want, dict):
					raise ValueError("not an object")
				steps.append(("expect", (msg, want), line))
			elif word in ("quiet", "timeout"):
				s = float(rest)
				if not 0 < s <= 600:
					raise ValueError("seconds out of range")
				steps.append((word, s, line))
			elif word == "lap" and rest:
				steps.append(("lap", rest, line))
			else:
				raise ValueError("unknown step")
		except ValueError as e:
			raise ValueError("line %d (%s): %s" % (n, line, e)) from None
	return steps


def shown(step):
	"""A step as it may appear in a message: the value of a command never does."""
	kind, arg, line = step
	if kind == "send" and "value" in arg:
		return "send " + json.dumps(dict(arg, value="..."))
	return line


def builtin_config(rcc):
	"""AusweisApp's config.json as a dict, from its Qt resource file: the file's bytes
	follow their 4-byte big-endian length (Qt's rcc format, uncompressed)."""
	with open(rcc, "rb") as f:
		b = f.read()
	key = b'"cvRootCertificatesTest"'
	i = b.find(key)
	if i < 0:
		raise ValueError("%s holds no config.json (compressed?)" % rcc)
	c = i
	while True:
		c = b.rfind(b"{", 0, c)
		if c < 4:
			raise ValueError("config.json not found in %s" % rcc)
		n = int.from_bytes(b[c - 4:c], "big")
		if c + n > i and n < 1 << 24:
			try:
				cfg = json.loads(b[c:c + n].decode("utf-8"))
			except ValueError:
				continue
			if isinstance(cfg, dict) and "cvRootCertificatesTest" in cfg:
				return cfg


def install_config(home, cvcas):
	cfg = builtin_config(RCC)
	for path in cvcas:
		with open(path, "rb") as f:
			cfg["cvRootCertificatesTest"].append(f.read().hex().upper())
	d = os.path.join(home, "data", "AusweisApp2")
	os.makedirs(d, mode=0o700, exist_ok=True)
	with open(os.path.join(d, "config.json"), "w") as f:
		json.dump(cfg, f, indent="\t")


def die_with(parent):
	"""For the child before exec: SIGKILL when this driver dies, even by SIGKILL."""
	import ctypes
	libc = ctypes.CDLL(None, use_errno=True)

	def child():
		libc.prctl(1, signal.SIGKILL)	# PR_SET_PDEATHSIG
		if os.getppid() != parent:
			os._exit(1)
	return child


class AusweisApp:
	def __init__(self, home, log):
		self.home = home
		env = dict(os.environ)
		for var, sub in (("HOME", "home"), ("TMPDIR", "tmp"), ("XDG_RUNTIME_DIR", "run"),
				 ("XDG_DATA_HOME", "data"), ("XDG_CONFIG_HOME", "config"),
				 ("XDG_CACHE_HOME", "cache")):
			env[var] = os.path.join(home, sub)
			os.makedirs(env[var], mode=0o700, exist_ok=True)
		env["QT_QPA_PLATFORM"] = "offscreen"
		self.tmp = env["TMPDIR"]
		self.proc = subprocess.Popen(
			[AUSWEISAPP, "--ui", "websocket", "--port", "0", "--no-proxy"],
			env=env, cwd=home, stdin=subprocess.DEVNULL, stdout=log,
			stderr=subprocess.STDOUT, start_new_session=True,
			preexec_fn=die_with(os.getpid()))
		self.ws = None

	def connect(self, limit):
		import websocket
		deadline = time.monotonic() + limit
		portfile = os.path.join(self.tmp, "AusweisApp2.%d.port" % self.proc.pid)
		while True:
			if self.proc.poll() is not None:
				raise Ended("AusweisApp2 exited with status %d before its SDK answered"
					    % self.proc.returncode)
			try:
				with open(portfile) as f:
					port = int(f.read().strip())
				self.ws = websocket.create_connection(
					"ws://127.0.0.1:%d/eID-Kernel" % port, timeout=1,
					header=["User-Agent: bb tests/rig/ausweisapp.py"])
				self.port = port
				return
			except (OSError, ValueError, websocket.WebSocketException):
				pass
			if time.monotonic() > deadline:
				raise Ended("AusweisApp2's SDK did not answer within %g s" % limit)
			time.sleep(0.05)

	def send(self, obj):
		self.ws.send(json.dumps(obj))

	def recv(self, until):
		"""The next message, or None at the deadline."""
		import websocket
		left = until - time.monotonic()
		if left <= 0:
			return None
		# No select(): websocket-client may hold a whole frame in its own buffer.
		self.ws.settimeout(left)
		try:
			text = self.ws.recv()
		except websocket.WebSocketTimeoutException:
			return None
		except (OSError, websocket.WebSocketException) as e:
			raise StepFailed("the SDK connection ended: %s" % e) from None
		try:
			msg = json.loads(text)
		except ValueError:
			raise StepFailed("not JSON from the SDK: %.200r" % text) from None
		print(json.dumps(msg, sort_keys=True), flush=True)
		return msg

	def stop(self):
		if self.ws is not None:
			try:
				self.ws.close(timeout=1)
			except Exception:
				pass
		try:
			os.killpg(self.proc.pid, signal.SIGTERM)
		except ProcessLookupError:
			pass
		try:
			self.proc.wait(5)
		except subprocess.TimeoutExpired:
			pass
		# The group, not just the leader: whatever AusweisApp started goes too.
		try:
			os.killpg(self.proc.pid, signal.SIGKILL)
		except ProcessLookupError:
			pass
		self.proc.wait()


def serve(app, portfile):
	app.ws.close(timeout=1)
	app.ws = None
	tmp = portfile + ".tmp"
	with open(tmp, "w") as f:
		f.write("%d\n" % app.port)
	os.rename(tmp, portfile)
	app.proc.wait()
	print("ausweisapp.py: AusweisApp2 exited with status %d" % app.proc.returncode,
	      file=sys.stderr)
	return 1


def run(app, steps, limit, timing):
	lap = time.monotonic()
	for i, step in enumerate(steps, 1):
		kind, arg, _ = step
		t0 = time.monotonic()
		try:
			if kind == "send":
				app.send(arg)
			elif kind == "timeout":
				limit = arg
			elif kind == "lap":
				timing({"lap": arg, "ms": round((t0 - lap) * 1000, 1)})
				lap = t0
			elif kind == "quiet":
				until = t0 + arg
				while True:
					m = app.recv(until)
					if m is None:
						break
					if m.get("msg") not in PASSING:
						raise StepFailed("got %s within %g s" % (m.get("msg"), arg))
			elif kind == "expect":
				name, want = arg
				until = t0 + limit
				while True:
					m = app.recv(until)
					if m is None:
						raise StepFailed("no %s within %g s" % (name, limit))
					if m.get("msg") == name:
						if name in PASSING and not contains(m, want):
							continue
						if not contains(m, want):
							raise StepFailed("%s is not as expected: %s"
									 % (name, json.dumps(m, sort_keys=True)))
						break
					if m.get("msg") not in PASSING:
						raise StepFailed("got %s instead: %s"
								 % (m.get("msg"), json.dumps(m, sort_keys=True)))
		except StepFailed as e:
			raise StepFailed("step %d (%s): %s" % (i, shown(step), e)) from None
		if kind not in ("timeout", "lap"):
			timing({"step": i, "ms": round((time.monotonic() - t0) * 1000, 1)})


def main(argv):
	import argparse
	ap = argparse.ArgumentParser(prog="ausweisapp.py", description=__doc__.split("\n")[0])
	ap.add_argument("--timeout", type=float, default=30)
	ap.add_argument("--timing")
	ap.add_argument("--log")
	ap.add_argument("--home")
	ap.add_argument("--cvca", action="append", default=[])
	ap.add_argument("--serve")
	ap.add_argument("script", nargs="?")
	try:
		a = ap.parse_args(argv)
	except SystemExit:
		return EX_USAGE
	if (a.script is None) == (a.serve is None):
		print("ausweisapp.py: a SCRIPT or --serve PORTFILE", file=sys.stderr)
		return EX_USAGE
	try:
		text = "" if a.serve else sys.stdin.read() if a.script == "-" else open(a.script).read()
		steps = parse_script(text)
	except (OSError, ValueError) as e:
		print("ausweisapp.py: %s: %s" % (a.script, e), file=sys.stderr)
		return EX_USAGE
	try:
		import websocket  # noqa: F401
	except ImportError:
		print("ausweisapp.py: needs python3-websocket (scripts/install-deps)", file=sys.stderr)
		return EX_UNAVAILABLE
	if shutil.which(AUSWEISAPP) is None:
		print("ausweisapp.py: needs %s (ausweisapp2, scripts/install-deps)" % AUSWEISAPP,
		      file=sys.stderr)
		return EX_UNAVAILABLE

	tf = open(a.timing, "a") if a.timing else None

	def timing(obj):
		if tf:
			tf.write(json.dumps(obj) + "\n")
			tf.flush()

	# A signal ends the run through the finally below, so AusweisApp never outlives it.
	def ended(signum, frame):
		raise Ended("ended by signal %d" % signum)
	for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
		signal.signal(s, ended)

	if a.home:
		os.makedirs(a.home, exist_ok=True)
		home = os.path.abspath(a.home)
	else:
		home = tempfile.mkdtemp(prefix="ausweisapp.")
	if a.cvca:
		try:
			install_config(home, a.cvca)
		except (OSError, ValueError) as e:
			print("ausweisapp.py: --cvca: %s" % e, file=sys.stderr)
			if not a.home:
				shutil.rmtree(home, ignore_errors=True)
			return EX_UNAVAILABLE
	log = open(a.log, "ab") if a.log else subprocess.DEVNULL
	app = None
	try:
		t0 = time.monotonic()
		app = AusweisApp(home, log)
		try:
			app.connect(a.timeout)
		except Ended as e:
			print("ausweisapp.py: %s" % e, file=sys.stderr)
			return EX_TEMPFAIL
		timing({"start_ms": round((time.monotonic() - t0) * 1000, 1)})
		if a.serve:
			return serve(app, a.serve)
		run(app, steps, a.timeout, timing)
		return 0
	except StepFailed as e:
		print("ausweisapp.py: %s" % e, file=sys.stderr)
		return 1
	except Ended as e:
		print("ausweisapp.py: %s" % e, file=sys.stderr)
		return 1
	finally:
		for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
			signal.signal(s, signal.SIG_IGN)
		if app is not None:
			app.stop()
		if not a.home:
			shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
	sys.exit(main(sys.argv[1:]))
