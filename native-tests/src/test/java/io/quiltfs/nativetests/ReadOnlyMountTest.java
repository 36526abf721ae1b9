package io.quiltfs.nativetests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiltfs.fs.fuse.FuseMount;
import io.quiltfs.store.state.MountTable;
import io.quiltfs.store.json.Json;
import io.quiltfs.store.state.Home;
import io.quiltfs.store.testing.TestRegistries;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Read-only mounts (`--read-only`) through the CLI: every call that would change something
 * gives the errno SEMANTICS.md names and changes nothing; odd names, empty and large files,
 * no control files; two revisions of one package (one pinned by a tag, one by a hash prefix)
 * mounted at once and sharing the object cache.
 */
class ReadOnlyMountTest {
    Fixture f;
    final List<Path> mounts = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        if (f == null) {
            return;
        }
        try {
            for (Path mp : mounts) {
                if (MountTable.at(mp) != null) {
                    Tool.run(Tool.quiltfs(f.home, "unmount", mp.toString()).toArray(new String[0]));
                }
                if (MountTable.at(mp) != null) {
                    FuseMount.unmount(mp, true);
                }
            }
        } finally {
            f.close();
        }
    }

    Tool.Result cli(String... args) throws Exception {
        return Tool.run(Tool.quiltfs(f.home, args).toArray(new String[0]));
    }

    Path mount(String ref, String name) throws Exception {
        Path mp = Files.createDirectories(f.scratch.resolve(name));
        mounts.add(mp);
        cli("mount", "--read-only", ref, mp.toString(), "-r", f.uri).ok();
        return mp;
    }

    /**
     * Each call a writer could make, by the errno it got (OK when it succeeded), from a real
     * process: python's os module, one system call each.
     */
    static final String CALLS = String.join("\n",
            "import os, sys, errno, json, mmap",
            "m = sys.argv[1]",
            "P = lambda *a: os.path.join(m, *a)",
            "out = {}",
            "def t(name, fn):",
            "    try:",
            "        fn(); out[name] = 'OK'",
            "    except OSError as e:",
            "        out[name] = errno.errorcode.get(e.errno, str(e.errno))",
            "def rd(): return os.open(P('README.md'), os.O_RDONLY)",
            "t('open O_WRONLY', lambda: os.open(P('README.md'), os.O_WRONLY))",
            "t('open O_RDWR', lambda: os.open(P('README.md'), os.O_RDWR))",
            "t('open O_TRUNC', lambda: os.open(P('README.md'), os.O_RDONLY | os.O_TRUNC))",
            "t('open O_WRONLY|O_APPEND', lambda: os.open(P('README.md'), os.O_WRONLY | os.O_APPEND))",
            "t('create', lambda: os.open(P('new.txt'), os.O_CREAT | os.O_WRONLY, 0o644))",
            "t('create O_RDONLY', lambda: os.open(P('new.txt'), os.O_CREAT | os.O_RDONLY, 0o644))",
            "t('mkdir', lambda: os.mkdir(P('d')))",
            "t('rmdir', lambda: os.rmdir(P('dir f')))",
            "t('unlink', lambda: os.unlink(P('README.md')))",
            "t('rename', lambda: os.rename(P('README.md'), P('R.md')))",
            "t('rename folder', lambda: os.rename(P('dir'), P('dir2')))",
            "t('chmod', lambda: os.chmod(P('README.md'), 0o644))",
            "t('chown', lambda: os.chown(P('README.md'), os.getuid(), os.getgid()))",
            "t('truncate', lambda: os.truncate(P('README.md'), 0))",
            "t('ftruncate', lambda: os.ftruncate(rd(), 0))",
            "t('utimens', lambda: os.utime(P('README.md')))",
            "t('utimens folder', lambda: os.utime(P('dir')))",
            "t('setxattr', lambda: os.setxattr(P('README.md'), 'user.x', b'1'))",
            "t('removexattr', lambda: os.removexattr(P('README.md'), 'user.quilt.hash'))",
            "t('symlink', lambda: os.symlink('README.md', P('l')))",
            "t('link', lambda: os.link(P('README.md'), P('l2')))",
            "t('mknod', lambda: os.mkfifo(P('fifo')))",
            "t('write', lambda: os.write(rd(), b'x'))",
            "t('fallocate', lambda: os.posix_fallocate(rd(), 0, 10))",
            "t('mmap shared writable', lambda: mmap.mmap(rd(), 0, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE))",
            "import ctypes",
            "libc = ctypes.CDLL(None, use_errno=True)",
            "def access(path, mode):",
            "    if libc.access(path.encode(), mode) != 0:",
            "        raise OSError(ctypes.get_errno(), 'access')",
            "t('access W_OK', lambda: access(P('README.md'), os.W_OK))",
            "t('access X_OK', lambda: access(P('README.md'), os.X_OK))",
            "t('access R_OK', lambda: access(P('README.md'), os.R_OK))",
            "t('access X_OK folder', lambda: access(P('dir'), os.X_OK))",
            "t('stat .quiltfs', lambda: os.stat(P('.quiltfs')))",
            "t('open .quiltfs/ctl', lambda: os.open(P('.quiltfs/ctl'), os.O_WRONLY))",
            "t('open .quiltfs/status', lambda: os.open(P('.quiltfs/status'), os.O_RDONLY))",
            "t('mkdir .quiltfs', lambda: os.mkdir(P('.quiltfs')))",
            "t('open O_RDONLY|O_APPEND', lambda: os.close(os.open(P('README.md'), os.O_RDONLY | os.O_APPEND)))",
            "t('open O_CREAT of an existing file', lambda: os.close(os.open(P('README.md'), os.O_CREAT | os.O_RDONLY)))",
            "t('mmap shared readable', lambda: mmap.mmap(rd(), 0, mmap.MAP_SHARED, mmap.PROT_READ).close())",
            "print(json.dumps(out))");

    @Test
    void writesFailWithTheirErrnoAndChangeNothingOnTwoRevisionsAtOnce() throws Exception {
        f = new Fixture(TestRegistries.LOCAL);
        f.write("README.md", "# first\n");
        f.write("empty.txt", "");
        f.write("name with spaces.txt", "spaces\n");
        f.write("ünïcødé.txt", "unicode\n");
        f.write("it's \"quoted\" *.txt", "quoted\n");
        // Names that are also prefixes of other names: a folder, a file beside it, a longer folder.
        for (String d : List.of("dir", "dir f", "dir-", "dir0", "dir/sub", "dir/sub.x")) {
            f.write(d + "/file", d + "\n");
        }
        f.write("dir.txt", "beside\n");
        byte[] big = new byte[5 << 20];
        new Random(11).nextBytes(big);
        Files.write(f.src.resolve("big.bin"), big);
        f.build();
        String first = f.topHash;
        Path firstTree = f.scratch.resolve("first");
        Tool.run("cp", "-a", f.src.toString(), firstTree.toString()).ok();
        f.write("README.md", "# second, longer\n");
        Files.delete(f.src.resolve("dir.txt"));
        f.build();
        String second = f.topHash;
        cli("tag", "test/mounted@" + first, "v1", "-r", f.uri).ok();

        Path m1 = mount("test/mounted:v1", "m1");
        Path m2 = mount("test/mounted@" + second.substring(0, 10), "m2");
        Map<Path, Path> trees = new LinkedHashMap<>();
        trees.put(m1, firstTree);
        trees.put(m2, f.src);
        Map<String, String> expected = new LinkedHashMap<>();
        for (String call : List.of("open O_WRONLY", "open O_RDWR", "open O_TRUNC", "open O_WRONLY|O_APPEND", "create",
                "create O_RDONLY", "mkdir", "rmdir", "unlink", "rename", "rename folder", "chmod", "chown", "truncate",
                "utimens", "utimens folder", "setxattr", "removexattr", "symlink", "link", "mknod", "access W_OK",
                "mkdir .quiltfs")) {
            expected.put(call, "EROFS");
        }
        // Descriptors open for reading: the kernel's own answers, as on any read-only file system.
        expected.put("ftruncate", "EINVAL");
        expected.put("write", "EBADF");
        expected.put("fallocate", "EBADF");
        expected.put("mmap shared writable", "EACCES");
        // No control files on a read-only mount.
        expected.put("stat .quiltfs", "ENOENT");
        expected.put("open .quiltfs/ctl", "ENOENT");
        expected.put("open .quiltfs/status", "ENOENT");
        expected.put("access X_OK", "EACCES"); // nothing in a package is executable
        expected.put("access R_OK", "OK");
        expected.put("access X_OK folder", "OK");
        expected.put("open O_RDONLY|O_APPEND", "OK");
        expected.put("open O_CREAT of an existing file", "OK");
        expected.put("mmap shared readable", "OK");

        for (Map.Entry<Path, Path> e : trees.entrySet()) {
            Path mnt = e.getKey();
            String listing = Tool.sh("cd " + MountToolsTest.q(mnt) + " && find . | sort").ok().out();
            JsonNode got = Json.parse(Tool.run("python3", "-c", CALLS, mnt.toString()).ok().out());
            Map<String, String> calls = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = got.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> c = it.next();
                calls.put(c.getKey(), c.getValue().asText());
            }
            assertEquals(expected, calls, mnt.toString());
            assertEquals(listing, Tool.sh("cd " + MountToolsTest.q(mnt) + " && find . | sort").ok().out(),
                    "nothing changed in " + mnt);
            assertEquals(Tool.sh("cd " + MountToolsTest.q(e.getValue()) + " && find . | sort").ok().out(), listing);
            Tool.run("diff", "-r", e.getValue().toString(), mnt.toString()).ok();
            String ls = Tool.run("ls", "-la", mnt.toString()).ok().out();
            assertTrue(ls.lines().anyMatch(l -> l.startsWith("-r--r--r--") && l.endsWith(" empty.txt")), ls);
            assertTrue(ls.lines().noneMatch(l -> l.endsWith(".quiltfs")), ls);
            assertEquals("", Tool.run("cat", mnt.resolve("empty.txt").toString()).ok().out());
            String stat = Tool.run("stat", "-c", "%s %A", mnt.resolve("name with spaces.txt").toString()).ok().out();
            assertEquals("7 -r--r--r--", stat.trim());
            String attrs = Tool.run("getfattr", "-d", mnt.resolve("ünïcødé.txt").toString()).ok().out();
            assertTrue(attrs.contains("user.quilt.hash="), attrs);
        }
        assertEquals(first, Tool.run("getfattr", "--only-values", "-n", "user.quilt.top_hash", m1.toString()).ok().out());
        assertEquals(second, Tool.run("getfattr", "--only-values", "-n", "user.quilt.top_hash", m2.toString()).ok().out());
        assertNotEquals(Files.readString(m1.resolve("README.md")), Files.readString(m2.resolve("README.md")));

        // The same object in both revisions: one copy in the shared cache, read through both mounts at once.
        Home home = new Home(f.home);
        Path object = home.object(f.manifest.get("big.bin").hash());
        Files.deleteIfExists(object);
        Files.deleteIfExists(home.stamps().resolve(Home.objectName(f.manifest.get("big.bin").hash())));
        String sum = Tool.run("sha256sum", f.src.resolve("big.bin").toString()).ok().out().split(" ")[0];
        String both = Tool.sh("sha256sum " + MountToolsTest.q(m1.resolve("big.bin")) + " & sha256sum "
                + MountToolsTest.q(m2.resolve("big.bin")) + "; wait").ok().out();
        assertEquals(2, both.lines().filter(l -> l.startsWith(sum + " ")).count(), both);
        assertTrue(Files.exists(object), "fetched once into the shared cache");
        // Nothing of either mount became a change of the package in the home.
        assertTrue(Files.notExists(home.mountArea(Fixture.PKG)), "a read-only mount has no working area");
        for (Path mnt : List.of(m1, m2)) {
            Tool.Result r = cli("status", mnt.toString());
            assertEquals(3, r.exit(), r.toString());
            assertTrue(r.err().contains("read-only"), r.err());
        }
    }
}
