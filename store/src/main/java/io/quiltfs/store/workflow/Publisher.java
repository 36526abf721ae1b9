package io.quiltfs.store.workflow;

import io.quiltfs.store.hash.FileHasher;
import io.quiltfs.store.manifest.Entry;
import io.quiltfs.store.manifest.Manifest;
import io.quiltfs.store.registry.PackageName;
import io.quiltfs.store.registry.PhysicalKey;
import io.quiltfs.store.registry.Registry;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Publishes a revision to a registry in the order the format requires: data objects, then the
 * manifest, then a timestamp pointer, then {@code latest} (compare-and-set against the base the
 * revision was made from). A failure at any step before the last leaves {@code latest} where
 * it was; everything written before it is harmless (content-addressed or new names).
 */
public final class Publisher {
    /**
     * Outcome of a publish; {@code uploaded} and {@code uploadedBytes} count the objects whose
     * bytes were sent (content the registry already held is not).
     */
    public record Result(String topHash, Manifest manifest, boolean movedLatest, String remoteLatest,
                         int uploaded, long uploadedBytes) {
    }

    /** Remembers the timestamp pointer a publish is about to write, before it writes it. */
    public interface PointerLog {
        /** The pointer an earlier, interrupted publish of {@code top} wrote, or null. */
        String earlier(String top) throws IOException;

        /** Called before the pointer {@code name} is written for {@code top}. */
        void writing(String top, String name) throws IOException;

        PointerLog NONE = new PointerLog() {
            @Override
            public String earlier(String top) {
                return null;
            }

            @Override
            public void writing(String top, String name) {
            }
        };
    }

    private final Registry registry;
    private final Clock clock;
    private final PointerLog pointers;

    public Publisher(Registry registry, Clock clock) {
        this(registry, clock, PointerLog.NONE);
    }

    /**
     * {@code pointers} lets a publish run again after an interruption reuse the timestamp pointer
     * the first run wrote, so that the revision is not listed twice.
     */
    public Publisher(Registry registry, Clock clock, PointerLog pointers) {
        this.registry = registry;
        this.clock = clock;
        this.pointers = pointers;
    }

    /**
     * Uploads the rows that {@code localFile} gives a file for (the others keep their physical
     * keys), writes the manifest and pointers, and moves {@code latest} if it is still
     * {@code expectedLatest} (or unconditionally when {@code force}).
     */
    public Result publish(PackageName pkg, Manifest manifest, Function<Entry, Path> localFile,
                          String expectedLatest, boolean force, Progress progress) throws IOException {
        List<Entry> upload = new ArrayList<>();
        long bytes = 0;
        for (Entry e : manifest.entries()) {
            if (fileOf(localFile, e) != null) {
                upload.add(e);
                bytes += e.size();
            }
        }
        registry.placing(pkg, upload.size(), manifest.size());
        progress.begin("uploading", upload.size(), bytes);
        Map<String, PhysicalKey> placed = new java.util.concurrent.ConcurrentHashMap<>();
        java.util.concurrent.atomic.AtomicInteger sentFiles = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicLong sentBytes = new java.util.concurrent.atomic.AtomicLong();
        FileHasher.forEach(upload, e -> {
            Registry.Placed p = registry.place(pkg, e.logicalKey(), e.hash(), e.size(), fileOf(localFile, e));
            placed.put(e.logicalKey(), p.key());
            if (p.sent()) {
                sentFiles.incrementAndGet();
                sentBytes.addAndGet(e.size());
            }
            progress.advance(1, e.size());
        });
        progress.end();
        Checkpoints.reach("push.after-data");
        Manifest.Builder b = manifest.toBuilder().clearEntries();
        for (Entry e : manifest.entries()) {
            PhysicalKey pk = placed.get(e.logicalKey());
            b.add(pk == null ? e : e.withPhysicalKey(pk.toString()));
        }
        Manifest out = b.build();
        String top = registry.writeManifest(out);
        Checkpoints.reach("push.after-manifest");
        String pointer = writeTimestampPointer(pkg, top);
        Checkpoints.reach("push.before-latest");
        String found = force ? null : registry.compareAndSetLatest(pkg, expectedLatest, top);
        if (force) {
            registry.writePointer(pkg, "latest", top);
        }
        if (top.equals(found)) {
            // Someone else pushed the very same revision meanwhile: latest is what we wanted it
            // to be, and this revision has a timestamp pointer either way.
            found = null;
        }
        if (found != null && pointer != null && top.equals(registry.readPointer(pkg, pointer))) {
            // Refused: `latest` moved during the upload. Withdraw the revision's pointer, so that
            // a push that reports "nothing was pushed" leaves no new revision in the listing.
            registry.deletePointer(pkg, pointer);
        }
        return new Result(top, out, found == null, found == null ? top : (found.isEmpty() ? null : found),
                sentFiles.get(), sentBytes.get());
    }

    /**
     * The local file of {@code e}. A {@link Function} cannot throw an IOException, so one that
     * checks the file (a build's "unchanged since it was hashed") wraps it: unwrapped here, a
     * file that vanished is still a {@link java.nio.file.NoSuchFileException} to the caller.
     */
    private static Path fileOf(Function<Entry, Path> localFile, Entry e) throws IOException {
        try {
            return localFile.apply(e);
        } catch (java.io.UncheckedIOException u) {
            throw u.getCause();
        }
    }

    /**
     * A pointer named by the push time in seconds; never replaces another revision's pointer,
     * even one that a push of the same second writes between our look and our write (the write
     * creates only). Returns the name written, or null when this revision already had that pointer.
     */
    private String writeTimestampPointer(PackageName pkg, String top) throws IOException {
        String earlier = pointers.earlier(top);
        if (earlier != null && top.equals(registry.readPointer(pkg, earlier))) {
            return null; // written by the run that was interrupted
        }
        long ts = clock.instant().getEpochSecond();
        for (int i = 0; i < 100; i++, ts++) {
            String have = registry.readPointer(pkg, Long.toString(ts));
            if (have == null) {
                pointers.writing(top, Long.toString(ts));
                if (registry.createPointer(pkg, Long.toString(ts), top)) {
                    return Long.toString(ts);
                }
                have = registry.readPointer(pkg, Long.toString(ts));
                if (have == null) {
                    ts--; // removed again meanwhile (a refused push withdrew it): try this second again
                    continue;
                }
            }
            if (have.equals(top)) {
                return null;
            }
        }
        throw new IOException("could not find a free timestamp pointer for " + pkg);
    }
}
