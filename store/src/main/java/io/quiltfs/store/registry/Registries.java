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

    private static Registry openS3(String uri, S3Settings s3) throws IOException {
        throw new RegistryException("S3 registries are not available in this build: " + uri);
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
        return open("s3://" + key.bucket(), s3);
    }
}
