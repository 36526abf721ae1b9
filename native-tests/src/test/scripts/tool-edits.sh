#!/usr/bin/env bash
# The save patterns of ordinary editors and tools, applied to folder $1 (an editable mount, or a
# plain folder holding the same package for the expected result); $2 holds what they copy from
# (a tree to rsync and cp, a git repository to clone). Used by MountEditorsTest: every step must
# succeed in both, and leave the same tree.
set -euo pipefail
R="$1"
S="$2"
cd "$R"

# vim, both ways of saving: a new file renamed over the old one, and the old file rewritten in place.
vim.tiny -u NONE -N -es -c 'set nobackup writebackup backupcopy=no' -c '%s/alpha/ALPHA/' -c wq f0
vim.tiny -u NONE -N -es -c 'set nobackup writebackup backupcopy=yes' -c '%s/one/ONE/' -c wq d0/f1
vim.tiny -u NONE -N -es -c 'set backup backupcopy=auto' -c '%s/package/PACKAGE/' -c wq README.md
rm -f README.md~

# perl -pi (a new file in place of the old one), sed -i (a temporary file renamed over it).
perl -pi -e 's/beta/BETA/' f0
sed -i -e 's/1,2/3,4/' d0/sub/data.csv

# rsync: a temporary file renamed into place (the default), and writes into the file (--inplace).
rsync -a "$S/tree/" rsynced/
rsync -a --inplace "$S/tree/" inplace/
printf 'changed for rsync\n' > "$S/tree/t1.txt"
touch -d 2001-02-03T04:05:06Z "$S/tree/t1.txt"
rsync -a rsynced/t1.txt rsynced/t1.bak   # a local copy first, then the update over it
rsync -a "$S/tree/" rsynced/
rsync -a --inplace "$S/tree/" inplace/

# cp -a (modes, times, owner kept); a copy over an existing file.
cp -a "$S/tree" copied
cp d1/blob.bin copied/blob.bin
cp -a f0 copied/t2.txt

# Python: write a temporary file and os.replace it over the old one; mmap writes; posix_fallocate.
python3 - <<'EOF'
import mmap, os
with open("x y/ünï.txt.tmp", "wb") as f:
    f.write(b"replaced by python\n")
    f.flush()
    os.fsync(f.fileno())
os.replace("x y/ünï.txt.tmp", "x y/ünï.txt")
fd = os.open("d1/blob.bin", os.O_RDWR)
with mmap.mmap(fd, 0) as m:
    m[5000:5005] = b"MMAP!"
    m[-3:] = b"END"
    m.flush()
os.close(fd)
fd = os.open("grown.bin", os.O_RDWR | os.O_CREAT, 0o644)
os.write(fd, b"start")
os.posix_fallocate(fd, 0, 20000)
os.close(fd)
EOF

# dd into the middle of a file without truncating it; truncate up and down.
dd if=/dev/zero of=d1/blob.bin bs=1024 seek=3 count=2 conv=notrunc status=none
printf 'XYZ' | dd of=f0 bs=1 seek=2 conv=notrunc status=none
truncate -s 100K d1/x\ y/f2.txt
truncate -s 2 d0/sub/data.csv
truncate -s +10 d0/f1

# Locks are the kernel's (local to this machine), on files of the revision and new ones.
flock README.md -c true
flock -n -x grown.bin -c 'echo locked >> grown.bin'
flock -s d0 -c true

# git: a clone (lock files, renames, fsync, read-only object files, executable hooks), a branch,
# a checkout of an older commit and back, a commit, and a repack.
git clone -q "file://$S/repo" repo
git -C repo -c user.name=t -c user.email=t@example.com checkout -q -b feature
printf 'feature work\n' >> repo/src/main.txt
chmod +x repo/run.sh
git -C repo -c user.name=t -c user.email=t@example.com commit -q -am 'feature'
git -C repo checkout -q HEAD~2
git -C repo checkout -q feature
git -C repo gc -q
test -z "$(git -C repo status --porcelain)"
git -C repo fsck --no-dangling --no-progress
