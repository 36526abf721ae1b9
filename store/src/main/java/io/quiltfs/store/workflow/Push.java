package io.quiltfs.store.workflow;

import io.quiltfs.store.cache.ChecksumMismatchException;
import io.quiltfs.store.cache.ObjectCache;
import io.quiltfs.store.hash.FileHasher;
import io.quiltfs.store.manifest.Entry;
import io.quiltfs.store.manifest.Manifest;
import io.quiltfs.store.manifest.ManifestWriter;
import io.quiltfs.store.registry.Registry;
import io.quiltfs.store.state.AtomicFile;
import io.quiltfs.store.state.Home;
import io.quiltfs.store.state.HomeLock;
import io.quiltfs.store.state.Lineage;
import io.quiltfs.store.state.PackageState;
import io.quiltfs.store.state.StateException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code push}: publishes the local head. Rows committed locally point into the home's object
 * cache; those objects are uploaded (the registry keeps an object an earlier revision points to,
 * see {@link Registry#putObject}), every other row keeps its physical key. Then the manifest,
 * the timestamp pointer, and {@code latest} only if it is still the base the work started from
 * ({@link Publisher}). The lineage moves last: a push killed before {@code latest} moved leaves
 * the package Ahead, one killed after it is recognised on the next run (the registry's latest
 * is the local head) and only the lineage is brought up to date.
 */
public final class Push {
    private Push() {
    }

    /**
     * Outcome: what was pushed, and whether anything had to be; {@code uploaded} counts the
     * objects sent (content the registry already held is not sent again).
     */
    public record Result(String topHash, boolean pushed, int uploaded, long uploadedBytes, String message) {
    }

    public static Result push(InstalledPackage pkg, Registry registry, boolean force, Clock clock, Progress progress)
            throws IOException {
        return push(pkg, registry, io.quiltfs.store.registry.Registries.sources(registry, null), force, clock, progress);
    }

    /**
     * {@link #push}; {@code sources} reads the workflow schemas the registry itself cannot. The
     * revision is checked against the registry's workflow config as it is now (quilt3 checks at
     * push time too): one it no longer passes, or whose header stamp the config would now give
     * differently, is refused before anything is sent.
     */
    public static Result push(InstalledPackage pkg, Registry registry,
                              java.util.function.Function<io.quiltfs.store.registry.PhysicalKey,
                                      io.quiltfs.store.registry.ObjectSource> sources,
                              boolean force, Clock clock, Progress progress)
            throws IOException {
        Home home = pkg.home();
        try (HomeLock lock = HomeLock.acquire(home.packageLock(pkg.name()))) {
            InstalledPackage p = InstalledPackage.require(home, pkg.name());
            PackageState s = p.state();
            if (s.pulling != null) {
                throw Pull.unfinished(p.name(), s.pulling, "push");
            }
            String latest;
            try {
                latest = registry.latest(p.name());
            } catch (io.quiltfs.store.registry.RegistryException.BadPointer e) {
                if (!force) {
                    throw new io.quiltfs.store.registry.RegistryException.BadPointer(e.registry(), e.key(),
                            e.problem() + "; nothing was pushed. `quiltfs push " + p.name()
                            + " --force` replaces it with your head");
                }
                latest = null; // damaged: --force replaces it, as it would any other latest
            }
            if (s.head.equals(latest)) {
                // A push killed after `latest` moved: keep the published rows from now on, as
                // the push would have (its local rows point into the cache, which may trim them).
                settlePublished(p, registry, s);
                return new Result(s.head, false, 0, 0, p.name() + " is up to date with " + registry.uri());
            }
            if (s.commits.isEmpty() && s.base != null) {
                recordSeen(p, latest);
                if (latest != null && !latest.equals(s.base) && !force) {
                    return new Result(s.head, false, 0, 0, "nothing to push: " + p.name() + " has no local commits;"
                            + " the registry moved on to " + latest + " (run `quiltfs pull " + p.name() + "`)");
                }
                if (latest == null && !force) {
                    return new Result(s.head, false, 0, 0, "nothing to push: " + p.name() + " has no local commits,"
                            + " and " + registry.uri() + " has no latest revision of it (deleted there?);"
                            + " use `quiltfs push " + p.name() + " --force` to make your head its latest there");
                }
                if (!force) {
                    return new Result(s.head, false, 0, 0, "nothing to push: " + p.name() + " has no local commits");
                }
            }
            boolean diverged = latest == null ? false : !latest.equals(s.base);
            if (diverged && !force) {
                recordSeen(p, latest);
                throw new ConflictException(diverged(p, registry, s, latest));
            }
            if (latest == null && s.base != null && !force && !registry.hasManifest(s.base)) {
                // Neither `latest` nor the revision this work started from: most likely the wrong
                // registry (a moved folder, an unmounted disk), not a package to start anew.
                throw new ConflictException(registry.uri() + " has neither a latest revision of " + p.name()
                        + " nor its base " + s.base + ", where it was installed from; nothing was pushed."
                        + " Check that the registry is where it was, or use `quiltfs push " + p.name()
                        + " --force` to publish there anew");
            }
            Manifest head = p.head();
            String refused = io.quiltfs.store.policy.Workflows.recheck(registry, sources, p.name(), head);
            if (refused != null) {
                throw new ConflictException(p.name() + "@" + s.head + " was not pushed to " + registry.uri() + ": "
                        + refused + "; nothing was pushed. Fix it and commit again (`quiltfs commit " + p.name()
                        + " -m MSG`, with --workflow ID to choose another workflow)");
            }
            CachedObjects cached = new CachedObjects(home);
            verifyCommitted(p, head, cached);
            Publisher.Result r = new Publisher(registry, clock, pointerLog(p)).publish(p.name(), head, e -> {
                Path f = cached.of(e);
                if (f != null && !Files.isRegularFile(f)) {
                    throw new java.io.UncheckedIOException(new IOException("the content of '" + e.logicalKey()
                            + "' committed locally is missing from the object cache (" + f + "); commit it again"));
                }
                return f;
            }, latest == null ? null : s.base, force, progress);
            if (!r.movedLatest()) {
                recordSeen(p, r.remoteLatest());
                throw new ConflictException(diverged(p, registry, s, r.remoteLatest()));
            }
            Checkpoints.reach("push.after-latest");
            // Same top hash (physical keys are not hashed): keep the published rows from now on.
            AtomicFile.write(home.installedManifest(p.name(), r.topHash()), ManifestWriter.toBytes(r.manifest()));
            settle(p, r.topHash(), r.topHash());
            return new Result(r.topHash(), true, r.uploaded(), r.uploadedBytes(), "pushed " + p.name() + "@" + r.topHash()
                    + " to " + registry.uri());
        }
    }

    /**
     * Verifies the cached content of the local commits before any of it is published: the cache
     * is the only copy, and a push reads it straight from its folder. An object damaged there (a
     * disk error, a hand edit) is stored again from its working file when that still holds the
     * committed content; otherwise the push stops before anything is sent, rather than publish a
     * revision whose data does not match its manifest.
     */
    private static void verifyCommitted(InstalledPackage p, Manifest head, CachedObjects cached) throws IOException {
        List<Entry> local = new ArrayList<>();
        for (Entry e : head.entries()) {
            if (cached.of(e) != null) {
                local.add(e);
            }
        }
        if (local.isEmpty()) {
            return;
        }
        ObjectCache cache = new ObjectCache(p.home());
        Path work = p.state().workDir == null ? null : Paths.get(p.state().workDir);
        FileHasher.forEach(local, e -> {
            if (!Files.isRegularFile(cache.path(e.hash())) || cache.lookup(e.hash()) != null) {
                return; // a missing object is reported by the upload, as it always was
            }
            Path f = work == null ? null : work.resolve(e.logicalKey());
            if (f != null && Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
                try {
                    cache.putFile(e.hash(), f);
                    return;
                } catch (ChecksumMismatchException changed) {
                    // the working file moved on: the committed content is nowhere else
                }
            }
            throw new StateException("the content of '" + e.logicalKey() + "' committed in " + p.name() + "@"
                    + p.state().head + " was damaged in the object cache (" + cache.path(e.hash())
                    + " no longer matched its hash and was removed) and the working file no longer holds it;"
                    + " nothing was pushed. Put the committed content back at '" + e.logicalKey()
                    + "' and push again, or commit the working folder as it is and push that");
        });
    }

    private static String diverged(InstalledPackage p, Registry registry, PackageState s, String latest) {
        return p.name() + " has diverged: " + registry.uri() + " has latest " + latest + ", but your commits are"
                + " based on " + (s.base == null ? "nothing (a new package)" : s.base) + "; nothing was pushed."
                + " Run `quiltfs pull " + p.name() + "` to take in the remote changes, or `quiltfs push "
                + p.name() + " --force` to make this revision latest anyway";
    }

    /**
     * After a push was killed once {@code latest} had moved: the local head is the registry's
     * latest, so its commits are published. Keeps the published rows and settles the lineage, as
     * the push would have. {@code s} is the state read under the package lock.
     */
    static void settlePublished(InstalledPackage p, Registry registry, PackageState s) throws IOException {
        if (!s.commits.isEmpty()) {
            AtomicFile.write(p.home().installedManifest(p.name(), s.head),
                    ManifestWriter.toBytes(registry.readManifest(s.head)));
        }
        settle(p, s.head, s.head);
    }

    /** The head is the registry's latest: base and head agree, no local commits remain. */
    private static void settle(InstalledPackage p, String top, String latest) throws IOException {
        Lineage.update(p.home(), l -> {
            PackageState s = l.get(p.name());
            if (s == null) {
                throw new NotInstalledException(p.name());
            }
            if (top.equals(s.head)) {
                s.base = top;
                s.commits.clear();
                s.pushPointer = null;
            }
            s.latestSeen = latest;
            l.put(p.name(), s);
            return null;
        });
    }

    /** Keeps the timestamp pointer of a push in the lineage, for a push run again after a kill. */
    private static Publisher.PointerLog pointerLog(InstalledPackage p) {
        String recorded = p.state().pushPointer;
        return new Publisher.PointerLog() {
            @Override
            public String earlier(String top) {
                if (recorded == null) {
                    return null;
                }
                int sp = recorded.indexOf(' ');
                return sp > 0 && recorded.substring(sp + 1).equals(top) ? recorded.substring(0, sp) : null;
            }

            @Override
            public void writing(String top, String name) throws IOException {
                Lineage.update(p.home(), l -> {
                    PackageState s = l.get(p.name());
                    if (s != null) {
                        s.pushPointer = name + " " + top;
                        l.put(p.name(), s);
                    }
                    return null;
                });
            }
        };
    }

    private static void recordSeen(InstalledPackage p, String latest) throws IOException {
        Lineage.update(p.home(), l -> {
            PackageState s = l.get(p.name());
            if (s != null) {
                s.latestSeen = latest;
                l.put(p.name(), s);
            }
            return null;
        });
    }
}
