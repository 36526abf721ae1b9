package io.quiltfs.store.state;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiltfs.store.registry.PackageName;
import io.quiltfs.store.testing.ChildJvm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LineageTest {
    @TempDir
    Path tmp;

    @Test
    void roundTripsAndSurvivesRereading() throws Exception {
        Home home = new Home(tmp);
        PackageName p = PackageName.parse("a/b");
        Lineage.update(home, l -> {
            PackageState s = new PackageState();
            s.registry = "file:///r";
            s.base = "0".repeat(64);
            s.head = s.base;
            s.commits.add("1".repeat(64));
            s.workDir = "/w";
            l.put(p, s);
            return null;
        });
        PackageState s = Lineage.read(home).get(p);
        assertEquals("file:///r", s.registry);
        assertEquals(List.of("1".repeat(64)), s.commits);
    }

    @Test
    void corruptFileIsReportedAndNeverOverwritten() throws Exception {
        Home home = new Home(tmp);
        home.ensure();
        byte[] junk = "{\"version\":1,\"packages\":{".getBytes();
        Files.write(home.lineageFile(), junk);
        StateException e = assertThrows(StateException.class, () -> Lineage.read(home));
        assertTrue(e.getMessage().contains(home.lineageFile().toString()) && e.getMessage().contains("corrupt"));
        assertThrows(StateException.class, () -> Lineage.update(home, l -> null));
        assertArrayEquals(junk, Files.readAllBytes(home.lineageFile()));
    }

    /**
     * A field a newer quiltfs added (a stopped pull's record, say) is read past, not taken for
     * corruption: this build reads and updates the home, and what it writes back is what it knows.
     */
    @Test
    void aFieldOfANewerQuiltfsIsReadPast() throws Exception {
        Home home = new Home(tmp);
        home.ensure();
        Files.writeString(home.lineageFile(), "{\"version\":1,\"futureRoot\":7,\"packages\":{\"a/b\":{"
                + "\"registry\":\"file:///r\",\"head\":\"" + "0".repeat(64) + "\",\"globSyntax\":2,"
                + "\"pullSomethingNew\":[\"x\"],\"futureObject\":{\"k\":1}}}}");
        PackageName p = PackageName.parse("a/b");
        assertEquals("file:///r", Lineage.read(home).get(p).registry);
        Lineage.update(home, l -> {
            PackageState s = l.get(p);
            s.base = s.head;
            l.put(p, s);
            return null;
        });
        PackageState s = Lineage.read(home).get(p);
        assertEquals("0".repeat(64), s.base);
        assertTrue(!Files.readString(home.lineageFile()).contains("pullSomethingNew"), "only what this build knows");
    }

    /** A lineage of a newer version is refused as such (not "corrupt: move it aside") and left as it is. */
    @Test
    void aNewerLineageVersionIsNamedAsSuch() throws Exception {
        Home home = new Home(tmp);
        home.ensure();
        byte[] newer = "{\"version\":2,\"packages\":{}}".getBytes();
        Files.write(home.lineageFile(), newer);
        StateException e = assertThrows(StateException.class, () -> Lineage.read(home));
        assertTrue(e.getMessage().contains("written by a newer quiltfs") && !e.getMessage().contains("corrupt")
                && !e.getMessage().contains("move it aside"), e.getMessage());
        assertThrows(StateException.class, () -> Lineage.update(home, l -> null));
        assertArrayEquals(newer, Files.readAllBytes(home.lineageFile()));
    }

    /** Child process: adds packages ns/pN-i for i in [0, count). */
    public static void main(String[] args) throws Exception {
        Home home = new Home(Paths.get(args[0]));
        int count = Integer.parseInt(args[2]);
        for (int i = 0; i < count; i++) {
            PackageName p = PackageName.parse("ns/" + args[1] + "-" + i);
            Lineage.update(home, l -> {
                PackageState s = new PackageState();
                s.registry = "file:///r";
                l.put(p, s);
                return null;
            });
        }
    }

    @Test
    void concurrentProcessesLoseNoUpdate() throws Exception {
        List<Process> ps = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            ps.add(ChildJvm.start(LineageTest.class, tmp.toString(), "p" + i, "25"));
        }
        // And threads in this process at the same time.
        List<Thread> ts = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            String tag = "t" + i;
            Thread t = new Thread(() -> {
                try {
                    main(new String[] {tmp.toString(), tag, "25"});
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            t.start();
            ts.add(t);
        }
        for (Process p : ps) {
            assertEquals(0, p.waitFor());
        }
        for (Thread t : ts) {
            t.join();
        }
        Map<String, PackageState> all = Lineage.read(new Home(tmp)).all();
        assertEquals(150, all.size());
    }
}
