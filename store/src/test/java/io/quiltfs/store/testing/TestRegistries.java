package io.quiltfs.store.testing;

import io.quiltfs.store.registry.LocalRegistry;
import io.quiltfs.store.registry.Registry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The registry kinds that end-to-end tests run against. Parameterize a test over
 * {@link #kinds()} (JUnit: {@code @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")})
 * rather than copying it per kind.
 */
public final class TestRegistries {
    private TestRegistries() {
    }

    /** One kind of registry that can make fresh, empty registries. */
    public interface Kind {
        /** A fresh, empty registry URI (a new folder, or a new bucket). */
        String newRegistry(Path scratch) throws IOException;

        /** Opens a registry made by {@link #newRegistry}. */
        Registry open(String uri) throws IOException;

        String name();

        /** Environment variables a child process (the CLI) needs to reach registries of this kind. */
        default java.util.Map<String, String> environment() {
            return java.util.Map.of();
        }
    }

    /** A local-folder registry. */
    public static final Kind LOCAL = new Kind() {
        @Override
        public String newRegistry(Path scratch) throws IOException {
            Path dir = Files.createTempDirectory(scratch, "registry");
            return new LocalRegistry(dir).uri();
        }

        @Override
        public Registry open(String uri) throws IOException {
            return io.quiltfs.store.registry.Registries.open(uri, io.quiltfs.store.registry.S3Settings.defaults());
        }

        @Override
        public String name() {
            return "local";
        }

        @Override
        public String toString() {
            return "local";
        }
    };

    /** An S3 registry: a fresh bucket on the test JVM's shared S3Proxy ({@link S3ProxyServer#shared()}). */
    public static final Kind S3 = new Kind() {
        @Override
        public String newRegistry(Path scratch) throws IOException {
            return "s3://" + S3ProxyServer.shared().newBucket();
        }

        @Override
        public Registry open(String uri) throws IOException {
            return io.quiltfs.store.registry.Registries.open(uri, S3ProxyServer.shared().settings());
        }

        @Override
        public String name() {
            return "s3";
        }

        @Override
        public java.util.Map<String, String> environment() {
            return S3ProxyServer.shared().environment();
        }

        @Override
        public String toString() {
            return "s3";
        }
    };

    /** Every kind. */
    public static List<Kind> kinds() {
        List<Kind> out = new ArrayList<>();
        out.add(LOCAL);
        out.add(S3);
        return out;
    }

    /** The file behind {@code key} of the registry {@code uri} (a local folder, or S3Proxy's backend); its folder made. */
    public static Path backing(String uri, String key) throws IOException {
        Path p = uri.startsWith("s3://")
                ? S3ProxyServer.shared().objectFile(uri.substring(5), key)
                : io.quiltfs.store.registry.PhysicalKey.parse(uri).filePath().resolve(key);
        Files.createDirectories(p.getParent());
        return p;
    }
}
