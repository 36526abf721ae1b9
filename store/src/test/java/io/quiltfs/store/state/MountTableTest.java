package io.quiltfs.store.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Reading the kernel's mount table. */
class MountTableTest {
    @Test
    void unescapesOctal() {
        assertEquals("/tmp/a b", MountTable.unescape("/tmp/a\\040b"));
        assertEquals("/tmp/a\\b", MountTable.unescape("/tmp/a\\134b"));
        assertEquals("/plain", MountTable.unescape("/plain"));
        assertEquals("/x\\", MountTable.unescape("/x\\"));
    }

    @Test
    void readsTheRoot() throws Exception {
        assertNotNull(MountTable.at(Path.of("/")));
    }

    @Test
    void mountPointsBelowAFolderAreStrictlyBelowIt() throws Exception {
        // "/" holds every other mount point and is not below itself.
        var below = MountTable.below(Path.of("/"));
        assertTrue(below.stream().noneMatch(p -> p.equals(Path.of("/"))), below.toString());
        assertTrue(below.stream().allMatch(p -> p.startsWith("/")), below.toString());
        assertEquals(MountTable.visible(MountTable.read()).stream().map(MountTable.Mount::mountpoint).filter(p -> !p.equals(Path.of("/")))
                .distinct().count(), below.size());
    }

    /** A table as the kernel writes it: one mount point named in Latin-1 (not UTF-8), one with a space. */
    static byte[] table() {
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        b.writeBytes(("22 1 0:21 / / rw,relatime shared:1 - overlay overlay rw\n"
                + "30 22 8:1 /scratch /mnt/dest rw shared:2 - ext4 /dev/sda1 rw\n"
                + "31 22 8:1 /other /mnt/dest rw shared:2 - ext4 /dev/sda1 rw\n"
                + "32 22 0:40 / /mnt/a\\040b rw - tmpfs tmpfs rw\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        b.writeBytes("33 22 0:41 / /mnt/caf".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        b.write(0xe9); // "café" in Latin-1: not UTF-8
        b.writeBytes(" rw - tmpfs tmpfs rw\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        return b.toByteArray();
    }

    @Test
    void aMountPointNotInUtf8IsReadWithAReplacementAndTheOthersStay() {
        var all = MountTable.parse(table());
        assertEquals(5, all.size(), all.toString());
        assertEquals(Path.of("/mnt/caf\uFFFD"), all.get(4).mountpoint());
        assertEquals(Path.of("/mnt/a b"), all.get(3).mountpoint());
    }

    @Test
    void twoBindMountsOfOneDiskAndTwoTmpfsAreToldApart() {
        var all = MountTable.parse(table());
        var first = all.get(1);
        var second = all.get(2);
        assertEquals("8:1", first.device());
        assertEquals("/scratch", first.root());
        assertEquals(first.fsType() + " " + first.source(), second.fsType() + " " + second.source());
        assertNotEquals(first.record(), second.record());
        assertNotEquals(all.get(3).identity(), all.get(4).identity(), "two tmpfs");
        assertEquals("at /mnt/a\\040b 0:40 / tmpfs tmpfs", all.get(3).record());
        // stacked: the last one is what the path shows
        assertEquals(second, MountTable.at(all, Path.of("/mnt/dest")));
        assertEquals(second, MountTable.holding(all, Path.of("/mnt/dest/pkg")));
        assertEquals(all.get(0), MountTable.holding(all, Path.of("/mnt/destination")));
        assertEquals(Path.of("/mnt/a b"), MountTable.below(all, Path.of("/mnt")).get(1));
    }

    /**
     * A disk mounted on /t/a/b, then another on /t/a: the first stays listed but no path reaches
     * it; /t/a/b/work is on the second.
     */
    @Test
    void aMountCoveredByALaterMountAboveItIsOutOfReach() {
        var all = MountTable.parse(("22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
                + "40 22 0:50 / /t/a/b rw - tmpfs diskA rw\n"
                + "41 22 0:51 / /t/a rw - tmpfs diskE rw\n"
                + "42 41 0:52 / /t/a/c rw - tmpfs diskF rw\n"
                + "43 42 0:53 / /t/a/c rw - tmpfs diskG rw\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        assertEquals("diskE", MountTable.holding(all, Path.of("/t/a/b/work")).source());
        assertEquals(null, MountTable.at(all, Path.of("/t/a/b")));
        assertEquals(java.util.List.of(Path.of("/t/a/c")), MountTable.below(all, Path.of("/t/a")));
        assertEquals(java.util.List.of(Path.of("/t/a"), Path.of("/t/a/c")), MountTable.below(all, Path.of("/t")));
        assertEquals("diskG", MountTable.at(all, Path.of("/t/a/c")).source(), "stacked: the top one");
        assertEquals(3, MountTable.visible(all).size());
    }

    /** Listed out of mounting order (the root after mounts made on it): nothing is covered by the root. */
    @Test
    void theTableOrderIsNotTheMountingOrder() {
        var all = MountTable.parse(("22 27 0:21 / /proc rw - proc proc rw\n"
                + "26 27 0:24 / /dev/pts rw - devpts devpts rw\n"
                + "27 1 254:0 / / rw - ext4 /dev/vda rw\n"
                + "29 26 0:26 / /dev/pts rw - devpts devpts rw\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        assertEquals("proc", MountTable.holding(all, Path.of("/proc/1")).fsType());
        assertEquals("0:26", MountTable.at(all, Path.of("/dev/pts")).device());
        assertEquals(3, MountTable.visible(all).size());
    }

    /**
     * Read around a folder, only the lines on it, below it or above it are kept, and they tell
     * what holds it and what is below it as the whole table does.
     */
    @Test
    void aTableReadAroundAFolderAnswersAsTheWholeTable() {
        byte[] table = ("22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
                + "40 22 0:50 / /t/a/b rw - tmpfs diskA rw\n"
                + "41 22 0:51 / /t/a rw - tmpfs diskE rw\n"
                + "42 41 0:52 / /t/a/b/work/in rw - tmpfs diskF rw\n"
                + "44 22 0:54 / /t/ab rw - tmpfs diskH rw\n"
                + "45 22 0:55 / /t/a\\040b rw - tmpfs diskI rw\n"
                + "43 22 0:53 / /elsewhere rw - tmpfs diskG rw\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        var all = MountTable.parse(table);
        var near = MountTable.parse(table, "/t/a/b/work".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        assertEquals(java.util.List.of("/dev/sda1", "diskA", "diskE", "diskF"),
                near.stream().map(MountTable.Mount::source).toList());
        for (String p : java.util.List.of("/t/a/b/work", "/t/a/b/work/x", "/t/a/b/work/in")) {
            assertEquals(MountTable.holding(all, Path.of(p)), MountTable.holding(near, Path.of(p)), p);
            assertEquals(MountTable.below(all, Path.of(p)), MountTable.below(near, Path.of(p)), p);
        }
        assertEquals("diskE", MountTable.holding(near, Path.of("/t/a/b/work")).source());
    }
}
