package io.quiltfs.store.registry;

import java.io.IOException;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * Opens registries by URI and finds the source that can read a physical key. The one place that
 * maps a scheme to an implementation.
 */
public final class Registries {
    private Registries() {
    }

    /**
     * Opens {@code file:///abs/path}, a plain local path, or {@code s3://bucket}. The S3 client
     * settings come from {@link S3Settings}.
     */
    public static Registry open(String uri, S3Settings s3) throws IOException {
        if (uri.startsWith("s3://")) {
            return openS3(uri, s3);
        }
        Path p;
        if (uri.startsWith("file://")) {
            p = PhysicalKey.parse(uri.endsWith("/") && uri.length() > 8 ? uri.substring(0, uri.length() - 1) : uri).filePath();
        } else if (uri.contains("://")) {
            throw new IllegalArgumentException("unsupported registry '" + uri + "' (expected file:///path or s3://bucket)");
        } else {
            p = Paths.get(uri);
        }
        return new LocalRegistry(p);
    }

    private static Registry openS3(String uri, S3Settings s3) {
        String bucket = canonicalUri(uri).substring(5);
        if (bucket.isEmpty() || bucket.contains("/")) {
            throw new IllegalArgumentException("unsupported registry '" + uri
                    + "': an S3 registry is a whole bucket, s3://bucket (no folder inside it)");
        }
        return S3Registry.open(bucket, s3);
    }

    /** The canonical URI of a registry argument (a path becomes file:///abs/path). */
    public static String canonicalUri(String uri) {
        if (uri.startsWith("s3://")) {
            String b = uri.substring(5);
            while (b.endsWith("/")) {
                b = b.substring(0, b.length() - 1);
            }
            return "s3://" + b;
        }
        if (uri.startsWith("file://")) {
            return new LocalRegistry(PhysicalKey.parse(uri).filePath()).uri();
        }
        return new LocalRegistry(Paths.get(uri)).uri();
    }

    /** A source for any physical key: the registry itself when it can, else one made for the key. */
    public static ObjectSource sourceFor(PhysicalKey key, Registry registry, S3Settings s3) throws IOException {
        if (registry != null && registry.canRead(key)) {
            return registry;
        }
        if (key.isFile()) {
            return LocalRegistry.LocalFiles.INSTANCE;
        }
        // An S3 registry reads any bucket; a local registry's rows may still point into S3. One
        // reader per setting serves them all (an SDK client is costly to make), for the process.
        return S3_READERS.computeIfAbsent(s3, st -> S3Registry.open(key.bucket(), st));
    }

    /** {@link #sourceFor} as a function, for code that reads keys it does not know in advance. */
    public static java.util.function.Function<PhysicalKey, ObjectSource> sources(Registry registry, S3Settings s3) {
        return key -> {
            try {
                return sourceFor(key, registry, s3 == null ? S3Settings.defaults() : s3);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        };
    }

    private static final java.util.Map<S3Settings, S3Registry> S3_READERS = new java.util.concurrent.ConcurrentHashMap<>();
}
