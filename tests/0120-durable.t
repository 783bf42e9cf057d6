#!/bin/sh
# Durable writes, seen in the system calls: a case written with -o, a spool entry, a case
# delivered to a directory target. Each goes to a temporary file created with O_EXCL (never
# O_TRUNC: another writer's file is not reused), synced, renamed over the name, and then
# the directory synced, so a power cut leaves the old file or the new one whole. The kill
# tests of the queue cannot see a missing fsync: the page cache survives a SIGKILL.
. "${0%/*}/lib.sh"
BB_CAPTURE=${BB_CAPTURE:-$BB_BIN/bb-capture}

if ! strace -f -o /dev/null true 2> /dev/null; then
	ok 0 "# SKIP strace is missing or may not trace here (scripts/install-deps has it)"
	done_testing
fi

# traced FILE CMD...: runs CMD under strace, the calls that make a write durable in FILE.
# LeakSanitizer cannot work under ptrace: the sanitizer build looks for leaks in the
# other tests.
traced() {
	_t=$1
	shift
	ASAN_OPTIONS=$ASAN_OPTIONS:detect_leaks=0 strace -f -y -s 4096 -o "$_t" \
	    -e trace=open,openat,creat,fsync,fdatasync,rename,renameat,renameat2 \
	    "$@" < /dev/null > out 2> err
	rc=$?
	[ $rc -eq 0 ] || diag err
}

# durable TRACE TARGET DESCRIPTION: TARGET was written durably in TRACE.
durable() {
	/usr/bin/python3 - "$1" "$2" > why <<'EOF'
import os, re, sys

trace, target = sys.argv[1], os.path.realpath(sys.argv[2])
line_re = re.compile(r'^(\d+) +(\w+)\((.*)\) += (-?\d+)(?:<([^>]*)>)?')
ev = []
for l in open(trace):
    m = line_re.match(l)
    if m:
        ev.append(m.groups())   # pid, call, args, ret, fd path

def path_arg(dirfd, name):
    if name.startswith('/'):
        return os.path.normpath(name)
    m = re.match(r'.*<([^>]*)>$', dirfd)
    base = m.group(1) if m else os.getcwd()
    return os.path.normpath(os.path.join(base, name))

def fail(why):
    print(why)
    sys.exit(1)

ren = None
for i, (pid, call, args, ret, _) in enumerate(ev):
    if ret != '0':
        continue
    if call == 'rename':
        m = re.match(r'"([^"]*)", "([^"]*)"$', args)
        src, dst = path_arg('', m.group(1)), path_arg('', m.group(2))
    elif call in ('renameat', 'renameat2'):
        m = re.match(r'([^,]*), "([^"]*)", ([^,]*), "([^"]*)"', args)
        src, dst = path_arg(m.group(1), m.group(2)), path_arg(m.group(3), m.group(4))
    else:
        continue
    if os.path.realpath(dst) == target:
        ren = (i, pid, src)
if ren is None:
    fail('no rename onto %s' % target)
r, pid, tmp = ren
opened = None
for i in range(r):
    p, call, args, ret, fdpath = ev[i]
    if p == pid and call in ('open', 'openat', 'creat') and fdpath == tmp:
        opened = (i, ret, args)
if opened is None:
    fail('the temporary file %s was not opened' % tmp)
o, fd, args = opened
if 'O_EXCL' not in args or 'O_CREAT' not in args:
    fail('the temporary file is not created with O_CREAT|O_EXCL: %s' % args)
if 'O_TRUNC' in args:
    fail('the temporary file is opened with O_TRUNC: %s' % args)
if not any(ev[i][0] == pid and ev[i][1] in ('fsync', 'fdatasync') and
           ev[i][2].startswith(fd + '<') and ev[i][4] is None and ev[i][3] == '0' and
           ev[i][2] == '%s<%s>' % (fd, tmp) for i in range(o + 1, r)):
    fail('the temporary file is not synced before the rename')
d = os.path.dirname(target)
if not any(ev[i][0] == pid and ev[i][1] in ('fsync', 'fdatasync') and ev[i][3] == '0' and
           re.match(r'\d+<%s>$' % re.escape(d), ev[i][2]) for i in range(r + 1, len(ev))):
    fail('the directory %s is not synced after the rename' % d)
EOF
	_st=$?
	ok $_st "$3"
	[ $_st -eq 0 ] || { diag why; grep -v -e '/lib/' -e '/usr/' -e '/etc/' "$1" | diag; }
}

# A case written with -o.
traced t.capture "$BB_CAPTURE" signature --new --replay "$BB_TOP/tests/data/signature-tablet.evemu" \
    -o case.json
ok $rc "bb-capture signature -o case.json"
durable t.capture case.json "the case written with -o is durable"

# A spool entry.
traced t.queue "$BB_QUEUE" -d "$scratch/spool" add case.json
ok $rc "bb-queue add"
id=$(jq -r .id case.json)
entry=$(ls "$scratch"/spool/deferred/*"$id"* 2> /dev/null | head -n 1)
check "the entry is in deferred/" test -n "$entry"
durable t.queue "${entry:-$scratch/spool/deferred/none}" "the spool entry is durable"

# A case delivered to a directory target.
mkdir inbox
dir_target s.yaml inbox "$scratch/inbox"
traced t.submit "$BB_SUBMIT" -c s.yaml case.json
ok $rc "bb-submit to a directory"
durable t.submit "inbox/$id.json" "the delivered file is durable"

done_testing
