package io.quiltfs.store.cache;

import io.quiltfs.store.hash.Checksum;
import io.quiltfs.store.hash.ChunkSize;
import io.quiltfs.store.hash.ChunkedDigest;
import io.quiltfs.store.hash.HashType;
import io.quiltfs.store.manifest.Entry;
import io.quiltfs.store.registry.ObjectSource;
import io.quiltfs.store.registry.PhysicalKey;
import io.quiltfs.store.registry.RegistryException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.function.Function;

/**
 * Brings a row's object into the cache: once per object however many callers ask at the same
 * time (single flight), verified against the row's checksum before anyone sees it. A failed or
 * mismatched download leaves nothing behind.
 */
public final class Fetcher {
    private final ObjectCache cache;
    private final Function<PhysicalKey, ObjectSource> sources;

    private final ConcurrentHashMap<String, CompletableFuture<Path>> inFlight = new ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.AtomicLong downloads = new java.util.concurrent.atomic.AtomicLong();

    /** {@code sources} finds the source for a physical key (see Registries.sourceFor). */
    public Fetcher(ObjectCache cache, Function<PhysicalKey, ObjectSource> sources) {
        this.cache = cache;
        this.sources = sources;
    }

    public ObjectCache cache() {
        return cache;
    }

    /** How many objects this fetcher downloaded (the others were in the cache already). */
    public long downloads() {
        return downloads.get();
    }

    /** The cached, verified object of {@code e}, fetching it when needed. */
    public Path fetch(Entry e) throws IOException {
        Path p = cache.lookup(e.hash());
        if (p != null) {
            return p;
        }
        if (!e.hash().isWellFormed()) {
            throw new IOException("'" + e.logicalKey() + "' has a malformed " + e.hash().type().wireName()
                    + " value '" + e.hash().value() + "': its content cannot be verified");
        }
        String name = io.quiltfs.store.state.Home.objectName(e.hash());
        CompletableFuture<Path> mine = new CompletableFuture<>();
        CompletableFuture<Path> running = inFlight.putIfAbsent(name, mine);
        if (running != null) {
            return await(running);
        }
        try {
            Path got = cache.lookup(e.hash());
            if (got == null) {
                got = download(e);
            }
            mine.complete(got);
            return got;
        } catch (IOException | RuntimeException ex) {
            mine.completeExceptionally(ex);
            throw ex;
        } finally {
            inFlight.remove(name, mine);
        }
    }

    private Path download(Entry e) throws IOException {
        PhysicalKey pk;
        try {
            pk = PhysicalKey.parse(e.physicalKey());
        } catch (IllegalArgumentException ex) {
            throw new IOException("'" + e.logicalKey() + "': " + ex.getMessage());
        }
        ObjectSource src = sources.apply(pk);
        String what = "object " + pk + " for '" + e.logicalKey() + "'";
        Path tmp = cache.newTemp("fetch");
        try {
            // sha2-256-chunked is verified off the wire, chunk by chunk as the pieces arrive;
            // other types are verified by reading the finished file once.
            ChunkedDigest digest = e.hash().type() == HashType.SHA2_256_CHUNKED && e.size() >= 0
                    ? new ChunkedDigest(e.size()) : null;
            long piece = ChunkSize.forSize(Math.max(0, e.size()));
            long got;
            try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                got = src.download(pk, e.size(), piece, out, digest == null ? null : digest::update);
            } catch (RegistryException.NotFound nf) {
                throw new RegistryException.NotFound("cannot fetch '" + e.logicalKey() + "': " + nf.getMessage());
            }
            downloads.incrementAndGet();
            if (digest == null) {
                return cache.adopt(e.hash(), e.size(), tmp, what);
            }
            long size = Files.size(tmp);
            if (got != e.size() || size != e.size()) {
                throw new ChecksumMismatchException(what, e.size(), size != e.size() ? size : got);
            }
            Checksum actual = digest.finish();
            if (actual == null) {
                throw new ChecksumMismatchException(what, e.size(), got);
            }
            if (!actual.equals(e.hash())) {
                throw new ChecksumMismatchException(what, e.hash(), actual);
            }
            return cache.adoptVerified(e.hash(), tmp);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static Path await(CompletableFuture<Path> f) throws IOException {
        try {
            return f.get();
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for a fetch", ie);
        } catch (ExecutionException ee) {
            Throwable c = ee.getCause();
            if (c instanceof IOException io) {
                throw io;
            }
            if (c instanceof RuntimeException re) {
                throw re;
            }
            throw new IOException(c);
        }
    }
}
