package io.quiltfs.store.workflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiltfs.store.hash.HashType;
import io.quiltfs.store.registry.PackageName;
import io.quiltfs.store.registry.PackageRef;
import io.quiltfs.store.registry.Registries;
import io.quiltfs.store.registry.Registry;
import io.quiltfs.store.registry.Revision;
import io.quiltfs.store.registry.S3Settings;
import io.quiltfs.store.state.Home;
import io.quiltfs.store.testing.TestRegistries;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Two people sharing one registry from two homes, against every registry kind: pushes at the same
 * instant (their steps interleaved at a chosen point with a barrier, no sleeps), and pulls of
 * what the other published.
 */
class SharedRegistryTest {
    static final PackageName PKG = PackageName.parse("team/data");
    /** Both pushes happen in this second: their timestamp pointers compete for one name. */
    static final Clock SAME_SECOND = Clock.fixed(Instant.ofEpochSecond(1_800_000_000L), ZoneOffset.UTC);

    @org.junit.jupiter.api.io.TempDir
    Path tmp;
    Registry registry;
    Home alice;
    Home bob;
    ExecutorService pool;

    @BeforeEach
    void setUp() {
        alice = new Home(tmp.resolve("alice"));
        bob = new Home(tmp.resolve("bob"));
        pool = Executors.newFixedThreadPool(2);
    }

    @AfterEach
    void tearDown() throws IOException {
        pool.shutdownNow();
        if (registry != null) {
            registry.close();
        }
    }

    /** Builds PKG and installs it in both homes. */
    void seed(TestRegistries.Kind kind) throws IOException {
        registry = kind.open(kind.newRegistry(tmp));
        Path src = tmp.resolve("src");
        Files.createDirectories(src);
        Files.writeString(src.resolve("a.txt"), "alpha");
        Files.writeString(src.resolve("b.txt"), "beta");
        Build.build(registry, PKG, src, "first", null, HashType.SHA2_256_CHUNKED, Clock.systemUTC(), Progress.NONE);
        for (Home h : List.of(alice, bob)) {
            Install.install(h, registry, PackageRef.latest(PKG), null, null, pk -> {
                try {
                    return Registries.sourceFor(pk, registry, S3Settings.defaults());
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }, Progress.NONE);
        }
    }

    String commit(Home h, String key, String content, String message) throws IOException {
        Files.writeString(h.defaultWorkDir(PKG).resolve(key), content);
        return Commit.commit(InstalledPackage.require(h, PKG), message, null, HashType.SHA2_256_CHUNKED,
                Progress.NONE).topHash();
    }

    /**
     * The registry, except that the first {@code parties} calls of {@code method} (whose first
     * String argument, if any, passes {@code arg}) wait for each other after running.
     */
    Registry meetingAfter(String method, java.util.function.Predicate<Object[]> arg, int parties) {
        CyclicBarrier barrier = new CyclicBarrier(parties);
        AtomicInteger calls = new AtomicInteger();
        Registry real = registry;
        return (Registry) Proxy.newProxyInstance(Registry.class.getClassLoader(), new Class<?>[] {Registry.class},
                (proxy, m, args) -> {
                    Object out;
                    try {
                        out = m.invoke(real, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                    if (m.getName().equals(method) && arg.test(args) && calls.getAndIncrement() < parties) {
                        barrier.await(30, TimeUnit.SECONDS);
                    }
                    return out;
                });
    }

    /** Runs a push from each home at once; each result is a Push.Result or the exception it threw. */
    List<Object> pushBoth(Registry reg) throws Exception {
        List<Future<Object>> fs = new ArrayList<>();
        for (Home h : List.of(alice, bob)) {
            fs.add(pool.submit(() -> {
                try {
                    return Push.push(InstalledPackage.require(h, PKG), reg, false, SAME_SECOND, Progress.NONE);
                } catch (ConflictException e) {
                    return e;
                }
            }));
        }
        List<Object> out = new ArrayList<>();
        for (Future<Object> f : fs) {
            out.add(f.get(60, TimeUnit.SECONDS));
        }
        return out;
    }

    Pull.Result pull(Home h) throws IOException {
        return Pull.pull(InstalledPackage.require(h, PKG), registry, pk -> {
            try {
                return Registries.sourceFor(pk, registry, S3Settings.defaults());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, Progress.NONE);
    }

    /** Where the registry stores the object of {@code pk}: a local file, or S3Proxy's file of it. */
    static Path storedFile(io.quiltfs.store.registry.PhysicalKey pk) {
        return pk.isFile() ? pk.filePath()
                : io.quiltfs.store.testing.S3ProxyServer.shared().objectFile(pk.bucket(), pk.path());
    }

    static boolean isTimestamp(Object[] args) {
        return args != null && args.length == 2 && args[1] instanceof String s && !s.equals("latest");
    }

    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void ofTwoPushesInOneSecondTheWinnerKeepsItsTimestampPointer(TestRegistries.Kind kind) throws Exception {
        seed(kind);
        String a = commit(alice, "a.txt", "alice's", "alice");
        String b = commit(bob, "b.txt", "bob's", "bob");
        // Both look for a free timestamp pointer and find the same second free before either writes.
        List<Object> results = pushBoth(meetingAfter("readPointer", SharedRegistryTest::isTimestamp, 2));
        List<Object> won = results.stream().filter(r -> r instanceof Push.Result p && p.pushed()).toList();
        assertEquals(1, won.size(), "exactly one push moves latest: " + results);
        String winner = ((Push.Result) won.get(0)).topHash();
        String loser = winner.equals(a) ? b : a;
        assertTrue(results.stream().anyMatch(r -> r instanceof ConflictException), "the other is refused");
        assertEquals(winner, registry.latest(PKG));
        List<String> listed = registry.revisions(PKG).stream().map(Revision::topHash).toList();
        assertTrue(listed.contains(winner), "latest has its timestamp pointer: " + listed);
        assertFalse(listed.contains(loser), "the refused revision left no pointer: " + listed);
    }

    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void twoPushesOfTheSameRevisionBothSucceed(TestRegistries.Kind kind) throws Exception {
        seed(kind);
        String a = commit(alice, "a.txt", "same", "same change");
        assertEquals(a, commit(bob, "a.txt", "same", "same change"));
        // Both have read latest (the base) before either moves it.
        List<Object> results = pushBoth(meetingAfter("latest", args -> true, 2));
        for (Object r : results) {
            assertTrue(r instanceof Push.Result, "latest is what both wanted: no conflict (" + r + ")");
        }
        assertEquals(a, registry.latest(PKG));
        for (Home h : List.of(alice, bob)) {
            Status.Report s = Status.report(InstalledPackage.require(h, PKG), registry, HashType.SHA2_256_CHUNKED);
            assertEquals(Status.State.UP_TO_DATE, s.state());
        }
        assertTrue(registry.revisions(PKG).stream().anyMatch(r -> r.topHash().equals(a)));
    }

    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void aPullOfARevisionWithAMissingObjectChangesNothing(TestRegistries.Kind kind) throws Exception {
        seed(kind);
        Path bobs = bob.defaultWorkDir(PKG);
        Files.writeString(bobs.resolve("a.txt"), "changed");
        Files.delete(bobs.resolve("b.txt"));
        Files.writeString(bobs.resolve("new.txt"), "new");
        commit(bob, "a.txt", "changed", "bob");
        assertTrue(Push.push(InstalledPackage.require(bob, PKG), registry, false, Clock.systemUTC(), Progress.NONE)
                .pushed());
        io.quiltfs.store.manifest.Manifest pushed = registry.readManifest(registry.latest(PKG));
        Path lost = storedFile(io.quiltfs.store.registry.PhysicalKey.parse(pushed.get("new.txt").physicalKey()));
        Path aside = tmp.resolve("aside");
        Files.move(lost, aside);

        Path alices = alice.defaultWorkDir(PKG);
        io.quiltfs.store.registry.RegistryException.NotFound e = org.junit.jupiter.api.Assertions.assertThrows(
                io.quiltfs.store.registry.RegistryException.NotFound.class, () -> pull(alice));
        assertTrue(e.getMessage().contains("new.txt") && e.getMessage().contains("nothing was changed"),
                e.getMessage());
        assertEquals("alpha", Files.readString(alices.resolve("a.txt")), "no file was taken in");
        assertTrue(Files.exists(alices.resolve("b.txt")), "no file was deleted");
        Status.Report s = Status.report(InstalledPackage.require(alice, PKG), registry, HashType.SHA2_256_CHUNKED);
        assertTrue(s.changes().isEmpty(), "nothing looks edited here: " + s.changes());
        assertEquals(Status.State.BEHIND, s.state());

        Files.move(aside, lost);
        assertTrue(pull(alice).pulled());
        assertEquals("changed", Files.readString(alices.resolve("a.txt")));
        assertFalse(Files.exists(alices.resolve("b.txt")));
        assertEquals("new", Files.readString(alices.resolve("new.txt")));
    }

    /** The registry, except that {@code between} runs right after each timestamp pointer a push creates. */
    Registry afterTimestampPointer(Runnable between) {
        Registry real = registry;
        return (Registry) Proxy.newProxyInstance(Registry.class.getClassLoader(), new Class<?>[] {Registry.class},
                (proxy, m, args) -> {
                    Object out;
                    try {
                        out = m.invoke(real, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                    if (m.getName().equals("createPointer")) {
                        between.run();
                    }
                    return out;
                });
    }

    /**
     * While alice's push stands between its timestamp pointer and latest: bob's log shows her
     * revision once and not as latest, bob's tag of latest names the old latest, and alice's own
     * log shows the revision being pushed once (it is both a local commit and a registry
     * revision then; it used to be listed twice, both lines marked head).
     */
    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void logAndTagWhileAPushStandsBetweenItsTimestampPointerAndLatest(TestRegistries.Kind kind) throws Exception {
        seed(kind);
        String first = registry.latest(PKG);
        String top = commit(alice, "a.txt", "alice's", "second");
        List<List<Log.Line>> logs = new ArrayList<>();
        List<String> tagged = new ArrayList<>();
        Registry pushing = afterTimestampPointer(() -> {
            try {
                logs.add(Log.log(registry, PKG, InstalledPackage.require(bob, PKG)));
                logs.add(Log.log(registry, PKG, InstalledPackage.require(alice, PKG)));
                tagged.add(Tag.set(registry, PKG, "during", null, false));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        assertTrue(Push.push(InstalledPackage.require(alice, PKG), pushing, false, Clock.systemUTC(), Progress.NONE)
                .pushed());
        assertEquals(List.of(first), tagged, "latest had not moved yet");
        for (List<Log.Line> log : logs) {
            assertEquals(List.of(top, first), log.stream().map(Log.Line::topHash).toList(), log.toString());
            assertFalse(log.get(0).latest(), log.toString());
            assertTrue(log.get(1).latest() && log.get(1).base(), log.toString());
        }
        assertTrue(logs.get(1).get(0).head() && !logs.get(0).get(0).head(), logs.toString());
        List<Log.Line> after = Log.log(registry, PKG, InstalledPackage.require(alice, PKG));
        assertEquals(List.of(top, first), after.stream().map(Log.Line::topHash).toList(), after.toString());
        assertTrue(after.get(0).latest() && after.get(0).head() && !after.get(0).local(), after.toString());
        assertEquals(List.of("during"), after.get(1).tags());
    }

    /**
     * A tag made with a hash prefix names the full hash it resolved to: a manifest pushed later
     * with the same prefix (here, another home's) changes nothing it names; tagging with that
     * prefix again is refused as ambiguous, naming both.
     */
    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void aTagByAHashPrefixThatBecomesAmbiguousKeepsItsRevision(TestRegistries.Kind kind) throws Exception {
        seed(kind);
        String first = registry.latest(PKG);
        String prefix = first.substring(0, 8);
        assertEquals(first, Tag.set(registry, PKG, "v1", prefix, false));
        String twin = prefix + (first.endsWith("0".repeat(56)) ? "1" : "0").repeat(56);
        try (Registry theirs = kind.open(registry.uri())) {
            theirs.writeManifestBytes(twin, "{\"version\": \"v0\"}\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        assertEquals(first, registry.resolve(PackageRef.parse(PKG + ":v1")));
        assertEquals(List.of("v1"), Log.log(registry, PKG, InstalledPackage.require(bob, PKG)).get(0).tags());
        io.quiltfs.store.registry.RegistryException.Ambiguous e = org.junit.jupiter.api.Assertions.assertThrows(
                io.quiltfs.store.registry.RegistryException.Ambiguous.class,
                () -> Tag.set(registry, PKG, "v2", prefix, false));
        assertTrue(e.getMessage().contains(first) && e.getMessage().contains(twin), e.getMessage());
        assertEquals(null, registry.tag(PKG, "v2"), "nothing tagged");
    }

    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void logShowsLatestEvenWithoutItsTimestampPointer(TestRegistries.Kind kind) throws Exception {
        seed(kind);
        String first = registry.latest(PKG);
        String top = commit(alice, "a.txt", "moved by another tool", "second");
        assertTrue(Push.push(InstalledPackage.require(alice, PKG), registry, false, Clock.systemUTC(), Progress.NONE)
                .pushed());
        for (Revision r : registry.revisions(PKG)) {
            if (r.topHash().equals(top)) {
                registry.deletePointer(PKG, Long.toString(r.timestamp()));
            }
        }
        List<Log.Line> log = Log.log(registry, PKG, InstalledPackage.require(alice, PKG));
        assertEquals(java.util.Set.of(top, first), log.stream().map(Log.Line::topHash).collect(
                java.util.stream.Collectors.toSet()), log.toString());
        Log.Line latest = log.stream().filter(l -> l.topHash().equals(top)).findFirst().orElseThrow();
        assertTrue(latest.latest() && latest.head() && !latest.local(), latest.toString());
        assertEquals(2, log.size());
    }

    /**
     * A folder holding a file added here, where the registry now has a file: both keys are named
     * as a clash, and the refusal does not call it a folder with no files in it.
     */
    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void aFolderWithAFileOfOursWhereTheRegistryNowHasAFileIsNamedAsAClash(TestRegistries.Kind kind)
            throws Exception {
        seed(kind);
        commit(bob, "n", "n", "adds n");
        assertTrue(Push.push(InstalledPackage.require(bob, PKG), registry, false, Clock.systemUTC(), Progress.NONE)
                .pushed());
        Path alices = alice.defaultWorkDir(PKG);
        Files.createDirectories(alices.resolve("n"));
        Files.writeString(alices.resolve("n/mine"), "mine");
        ConflictException e = org.junit.jupiter.api.Assertions.assertThrows(ConflictException.class, () -> pull(alice));
        assertEquals(List.of("n", "n/mine"), e.keys(), e.getMessage());
        assertFalse(e.getMessage().contains("a folder with no files in it"), e.getMessage());
        assertEquals("mine", Files.readString(alices.resolve("n/mine")), "nothing was changed");
    }

    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void aPullThatWouldWriteOverAnEmptyFolderChangesNothing(TestRegistries.Kind kind) throws Exception {
        seed(kind);
        Path bobs = bob.defaultWorkDir(PKG);
        Files.createDirectories(bobs.resolve("e"));
        Files.writeString(bobs.resolve("e/g"), "g");
        commit(bob, "n", "n", "adds n and e/g");
        assertTrue(Push.push(InstalledPackage.require(bob, PKG), registry, false, Clock.systemUTC(), Progress.NONE)
                .pushed());
        Path alices = alice.defaultWorkDir(PKG);
        Files.createDirectories(alices.resolve("n/empty"));
        ConflictException e = org.junit.jupiter.api.Assertions.assertThrows(ConflictException.class, () -> pull(alice));
        assertEquals(List.of("n"), e.keys(), e.getMessage());
        assertTrue(e.getMessage().contains("a folder with no files in it stands where"), e.getMessage());
        assertFalse(Files.exists(alices.resolve("e/g")), "nothing was taken in");
        Status.Report s = Status.report(InstalledPackage.require(alice, PKG), registry, HashType.SHA2_256_CHUNKED);
        assertTrue(s.changes().isEmpty(), "nothing looks edited here: " + s.changes());
        Files.delete(alices.resolve("n/empty"));
        Files.delete(alices.resolve("n"));
        assertTrue(pull(alice).pulled());
        assertEquals("n", Files.readString(alices.resolve("n")));
        assertEquals("g", Files.readString(alices.resolve("e/g")));
    }

    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void aPullThatFindsNoLatestIsRememberedForOfflineStatus(TestRegistries.Kind kind) throws Exception {
        seed(kind);
        registry.deletePointer(PKG, "latest");
        assertFalse(pull(alice).pulled());
        Status.Report offline = Status.report(InstalledPackage.require(alice, PKG), null, HashType.SHA2_256_CHUNKED);
        assertEquals(Status.State.LOCAL, offline.state(), "the registry has no latest any more");
        assertEquals(null, offline.latest());
    }

    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void aLatestWhoseManifestIsMissingIsNamedAsSuch(TestRegistries.Kind kind) throws Exception {
        seed(kind);
        String missing = "e".repeat(64);
        registry.writePointer(PKG, "latest", missing);
        io.quiltfs.store.registry.RegistryException.NotFound e = org.junit.jupiter.api.Assertions.assertThrows(
                io.quiltfs.store.registry.RegistryException.NotFound.class, () -> pull(alice));
        assertTrue(e.getMessage().contains("cannot pull team/data") && e.getMessage().contains("latest")
                && e.getMessage().contains(missing) && e.getMessage().contains("nothing was changed"), e.getMessage());
    }
}
