package io.quiltfs.nativetests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Save patterns of editors and tools (vim both ways, perl -pi, sed -i, rsync with and without
 * --inplace, cp -a, os.replace, mmap, posix_fallocate, dd conv=notrunc, truncate, flock, a git
 * clone, checkout, commit and gc) and files removed while open: each is run in the editable mount
 * and in a plain folder holding the same package, and both must end the same; the commit must
 * then hold what the mount shows.
 */
class MountEditorsTest extends MountComparison {

    void setUpPackage() throws Exception {
        buildPackage(100_000, 5);
        mount();
    }

    /** The same package as a plain folder. */
    Path reference() throws Exception {
        Path ref = f.scratch.resolve("ref");
        Tool.run("cp", "-r", f.src.toString(), ref.toString()).ok();
        return ref;
    }

    /** What the tools copy from: a tree (fixed times, one executable) and a git repository of three commits. */
    Path sources() throws Exception {
        Path s = f.scratch.resolve("toolsrc");
        Fixture.deleteTree(s);
        Files.createDirectories(s.resolve("tree/sub/inner"));
        for (int i = 0; i < 5; i++) {
            Files.writeString(s.resolve("tree/t" + i + ".txt"), "tree file " + i + "\n");
            Files.writeString(s.resolve("tree/sub/inner/s" + i + ".txt"), "inner " + i + "\n");
        }
        Files.writeString(s.resolve("tree/run.sh"), "#!/bin/sh\necho run\n");
        String S = MountToolsTest.q(s);
        Tool.sh("chmod +x " + S + "/tree/run.sh && find " + S + "/tree -exec touch -h -d 2020-01-02T03:04:05Z {} +").ok();
        String git = "git -C " + S + "/repo -c user.name=t -c user.email=t@example.com ";
        Tool.sh("mkdir -p " + S + "/repo/src && cd " + S + "/repo && git init -q -b main"
                + " && echo v1 > src/main.txt && printf '#!/bin/sh\\n' > run.sh && " + git + "add -A && " + git + "commit -q -m one"
                + " && echo v2 >> src/main.txt && echo doc > README && " + git + "add -A && " + git + "commit -q -m two"
                + " && echo v3 >> src/main.txt && " + git + "commit -q -am three").ok();
        return s;
    }

    static Path script(String name) {
        return driver().resolveSibling(name);
    }

    @Test
    void editorsAndToolsSaveAsInALocalFolder() throws Exception {
        setUpPackage();
        Path ref = reference();
        Path edits = driver().getParent().resolveSibling("scripts").resolve("tool-edits.sh");
        Tool.run("bash", edits.toString(), ref.toString(), sources().toString()).ok();
        Tool.Result r = Tool.run("bash", edits.toString(), mnt.toString(), sources().toString());
        assertEquals(0, r.exit(), "in the mount:\n" + r.out() + r.err());
        // A repository's own files hold inode numbers and times: compared by git (status, fsck) instead.
        Tool.Result same = Tool.run("python3", driver().toString(), "compare", mnt.toString(), ref.toString(), "repo/.git");
        assertEquals(0, same.exit(), same.out() + same.err());
        assertTrue(Files.isExecutable(mnt.resolve("repo/run.sh")) && Files.isExecutable(mnt.resolve("copied/run.sh")));

        // fallocate(2) is refused (SEMANTICS) and changes nothing; the kernel's locks work.
        Tool.Result fa = Tool.run("fallocate", "-l", "8192", mnt.resolve("f0").toString());
        assertTrue(fa.exit() != 0 && fa.err().contains("Operation not supported"), fa.toString());
        assertEquals(Files.readString(ref.resolve("f0")), Files.readString(mnt.resolve("f0")));

        String top = cli("commit", mnt.toString(), "-m", "tools").ok().out().lines().findFirst().orElseThrow().trim();
        assertRevisionHolds(top, mnt, "the commit of the tools' edits");
        Tool.run("git", "-C", mnt.resolve("repo").toString(), "fsck", "--no-dangling", "--no-progress").ok();
        // A package records no modes: the committed files show the revision's rw-r--r--.
        Tool.run("chmod", "-R", "a-x+X", ref.toString()).ok();
        cli("unmount", mnt.toString()).ok();
        cli("mount", "test/mounted", mnt.toString(), "-r", f.uri).ok();
        Tool.Result again = Tool.run("python3", driver().toString(), "compare", mnt.toString(), ref.toString(), "repo/.git");
        assertEquals(0, again.exit(), again.out() + again.err());
        Tool.run("git", "-C", mnt.resolve("repo").toString(), "fsck", "--no-dangling", "--no-progress").ok();
    }

    @Test
    void filesRemovedWhileOpenBehaveAsInALocalFolder() throws Exception {
        setUpPackage();
        Path ref = reference();
        Path py = script("removed_open.py");
        String expected = Tool.run("python3", py.toString(), ref.toString()).ok().out();
        String got = Tool.run("python3", py.toString(), mnt.toString()).ok().out();
        assertEquals(expected, got);
        assertTrue(got.contains("listdir gone: []") && got.contains("rmdir gone: None"), got);
        Tool.Result same = Tool.run("python3", driver().toString(), "compare", mnt.toString(), ref.toString());
        assertEquals(0, same.exit(), same.out() + same.err());
        String top = cli("commit", mnt.toString(), "-m", "removed while open").ok().out().lines().findFirst()
                .orElseThrow().trim();
        assertRevisionHolds(top, ref, "the commit");
        assertEquals(Set.of(), Set.copyOf(Tool.sh("find " + MountToolsTest.q(f.home.resolve("mounts")) + " -name '.fuse_hidden*'")
                .ok().out().lines().toList()));
    }
}
