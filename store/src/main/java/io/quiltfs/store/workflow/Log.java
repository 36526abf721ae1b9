package io.quiltfs.store.workflow;

import io.quiltfs.store.manifest.Manifest;
import io.quiltfs.store.registry.PackageName;
import io.quiltfs.store.registry.Registry;
import io.quiltfs.store.registry.RegistryException;
import io.quiltfs.store.registry.Revision;
import io.quiltfs.store.state.PackageState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code log}: the revisions of a package, newest first: the local commits not pushed yet (when
 * the package is installed), then the registry's revisions, each with its time, top hash,
 * message, tags, and whether it is the registry's latest, the local base or the local head.
 */
public final class Log {
    private Log() {
    }

    /** One revision. {@code timestamp} is seconds since the epoch (a local commit: its manifest's mtime). */
    public record Line(long timestamp, String topHash, String message, List<String> tags, boolean latest,
                       boolean base, boolean head, boolean local) {
    }

    /**
     * A log: its lines, the pointers it left out or found wrong (each once), and whether
     * {@code latest} itself is one of them (then no line is marked latest, and installing the
     * package without {@code @HASH} fails until it is repaired). {@code registryMissing} (else
     * null): the installed package's registry is not there (a local folder moved or deleted), so
     * only its local commits are listed.
     */
    public record Result(List<Line> lines, List<RegistryException.BadPointer> problems, boolean latestBad,
                         RegistryException.NotFound registryMissing) {
    }

    /** {@link #read}'s lines. */
    public static List<Line> log(Registry registry, PackageName pkg, InstalledPackage installed) throws IOException {
        return read(registry, pkg, installed).lines();
    }

    /**
     * {@code installed} may be null (a package known only remotely). A bad pointer (a timestamp,
     * a tag or {@code latest}) does not fail the log: it is left out and listed in the result's
     * problems, as is a timestamp pointer whose manifest the registry lacks (its line stays). A
     * registry that is not there ({@link RegistryException.NotFound}: a local folder moved) fails
     * the log unless {@code installed} has local commits to list: then they are, and the result
     * names it.
     */
    public static Result read(Registry registry, PackageName pkg, InstalledPackage installed) throws IOException {
        List<RegistryException.BadPointer> problems = new ArrayList<>();
        List<Revision> revs;
        RegistryException.NotFound missing = null;
        try {
            revs = registry.revisions(pkg, problems::add);
        } catch (RegistryException.NotFound e) {
            if (installed == null || installed.state().commits.isEmpty()) {
                throw e;
            }
            // The local commits are in the home: a moved registry folder does not hide them.
            missing = e;
            revs = List.of();
        }
        String latest = null;
        boolean latestBad = false;
        try {
            latest = missing != null ? null : registry.latest(pkg);
        } catch (RegistryException.BadPointer e) {
            problems.add(e);
            latestBad = true;
        }
        Map<String, String> tags = missing != null ? Map.of() : registry.tags(pkg, problems::add);
        PackageState s = installed == null ? null : installed.state();
        if (revs.isEmpty() && latest == null && s == null) {
            if (!problems.isEmpty()) {
                throw new RegistryException("no readable revision of " + pkg + " in " + registry.uri() + ": "
                        + problems.get(0).getMessage() + (problems.size() > 1 ? " (and " + (problems.size() - 1)
                        + " more bad pointers)" : ""));
            }
            throw new RegistryException.NotFound("no package " + pkg + " in " + registry.uri()
                    + " (list packages with `quiltfs browse " + registry.uri() + "`)");
        }
        List<Line> out = new ArrayList<>();
        java.util.Set<String> inRegistry = new java.util.HashSet<>();
        revs.forEach(r -> inRegistry.add(r.topHash()));
        java.util.Set<Revision> listed = new java.util.HashSet<>(revs);
        if (missing == null) {
            revs = withUnlisted(registry, revs, latest, s);
        }
        List<String> shown = new ArrayList<>();
        if (s != null) {
            s.commits.stream().filter(c -> !inRegistry.contains(c)).forEach(shown::add);
        }
        revs.forEach(r -> shown.add(r.topHash()));
        Map<String, Message> messages = messages(registry, installed, shown);
        if (s != null) {
            List<String> commits = new ArrayList<>(s.commits);
            java.util.Collections.reverse(commits);
            for (String c : commits) {
                if (inRegistry.contains(c)) {
                    // A push of it stands between its timestamp pointer and latest (or was killed
                    // there): the registry lists it, so it is shown once, as the registry's.
                    continue;
                }
                Path f = installed.home().installedManifest(pkg, c);
                long ts = Files.isRegularFile(f) ? Files.getLastModifiedTime(f).toMillis() / 1000 : 0;
                String message;
                try {
                    message = messages.get(c).text();
                } catch (RegistryException.NotFound e) {
                    message = "(manifest missing)";
                } catch (io.quiltfs.store.manifest.ManifestException e) {
                    message = "(unreadable: " + e.getMessage() + ")";
                }
                out.add(new Line(ts, c, message, List.of(), c.equals(latest),
                        c.equals(s.base), c.equals(s.head), true));
            }
        }
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (Revision r : revs) {
            List<String> t = new ArrayList<>();
            tags.forEach((name, h) -> {
                if (h.equals(r.topHash())) {
                    t.add(name);
                }
            });
            boolean first = seen.add(r.topHash());
            String message;
            try {
                message = messages.get(r.topHash()).text();
            } catch (RegistryException.NotFound e) {
                message = "(manifest missing)";
                if (listed.contains(r)) {
                    problems.add(registry.missingManifest(pkg, r));
                }
            } catch (io.quiltfs.store.manifest.ManifestException e) {
                message = "(unreadable: " + e.getMessage() + ")";
                if (listed.contains(r)) {
                    problems.add(registry.damagedManifest(pkg, r, e));
                }
            }
            out.add(new Line(r.timestamp(), r.topHash(), message, t,
                    first && r.topHash().equals(latest), s != null && first && r.topHash().equals(s.base),
                    s != null && first && r.topHash().equals(s.head), false));
        }
        return new Result(out, problems, latestBad, missing);
    }

    /**
     * {@code revs} plus the registry's latest and the local base when they have no timestamp
     * pointer (another tool moved latest, or a pointer was deleted): a log that left them out
     * would hide the revision that status calls latest. Each is placed by its manifest's time;
     * one the registry does not hold is left out.
     */
    private static List<Revision> withUnlisted(Registry registry, List<Revision> revs, String latest,
                                               PackageState s) throws IOException {
        java.util.Set<String> listed = new java.util.HashSet<>();
        revs.forEach(r -> listed.add(r.topHash()));
        List<Revision> out = new ArrayList<>(revs);
        java.util.Set<String> wanted = new java.util.LinkedHashSet<>();
        if (latest != null) {
            wanted.add(latest);
        }
        if (s != null && s.base != null) {
            wanted.add(s.base);
        }
        for (String h : wanted) {
            if (listed.contains(h) || (s != null && s.commits.contains(h))) {
                continue;
            }
            long t = registry.manifestTime(h);
            if (t >= 0) {
                out.add(new Revision(t, h));
            }
        }
        if (out.size() > revs.size()) {
            out.sort(java.util.Comparator.comparingLong(Revision::timestamp).reversed());
        }
        return out;
    }

    /** What a list shows of a revision: its message ("" for none), or why it has none. */
    public record Message(String message, IOException failure) {
        /**
         * The message; {@link RegistryException.NotFound} when the registry lacks the manifest,
         * {@link io.quiltfs.store.manifest.ManifestException} when it has no header, and for
         * another failure (a network error) a message saying so.
         */
        public String text() throws RegistryException.NotFound, io.quiltfs.store.manifest.ManifestException {
            if (failure instanceof RegistryException.NotFound n) {
                throw n;
            }
            if (failure instanceof io.quiltfs.store.manifest.ManifestException m) {
                throw m;
            }
            return failure != null ? "(unreadable: " + failure.getMessage() + ")" : message;
        }
    }

    /** Headers read at once: each is a request of its own (tens of ms on S3), and a registry answers several together. */
    private static final int PARALLEL_READS = 8;

    /**
     * The message of each of {@code tops}, from the manifest's header only (hundreds of revisions
     * of millions of rows cost one small read each: on S3 a ranged GET of up to 64 KB),
     * {@link #PARALLEL_READS} at a time.
     * {@code installed} (may be null): its home's copies are read first.
     */
    public static Map<String, Message> messages(Registry registry, InstalledPackage installed,
                                                java.util.Collection<String> tops) throws IOException {
        List<String> distinct = new ArrayList<>(new java.util.LinkedHashSet<>(tops));
        Map<String, Message> out = new java.util.HashMap<>();
        if (distinct.size() <= 1) {
            distinct.forEach(h -> out.put(h, message(registry, installed, h)));
            return out;
        }
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(
                Math.min(PARALLEL_READS, distinct.size()), r -> {
                    Thread t = new Thread(r, "quiltfs-headers");
                    t.setDaemon(true);
                    return t;
                });
        try {
            List<java.util.concurrent.Future<Message>> reads = new ArrayList<>();
            for (String h : distinct) {
                reads.add(pool.submit(() -> message(registry, installed, h)));
            }
            for (int i = 0; i < reads.size(); i++) {
                out.put(distinct.get(i), reads.get(i).get());
            }
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while reading the revisions of " + registry.uri());
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(e.getCause());
        } finally {
            pool.shutdownNow();
        }
    }

    private static Message message(Registry registry, InstalledPackage installed, String top) {
        try {
            String m = Manifest.messageOf(installed != null ? installed.header(top, registry)
                    : registry.readManifestHeader(top));
            return new Message(m == null ? "" : m, null);
        } catch (IOException e) {
            return new Message(null, e);
        }
    }
}
