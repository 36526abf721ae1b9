package io.quiltfs.store.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/** Where the shared interop vectors live (CI has ../shared beside the checkout). */
public final class Vectors {
    private Vectors() {
    }

    public static Path shared() {
        String prop = System.getProperty("quiltfs.shared");
        Path p = prop != null ? Paths.get(prop) : Paths.get("..", "..", "shared");
        if (!Files.isDirectory(p)) {
            p = Paths.get("../../shared");
        }
        if (!Files.isDirectory(p.resolve("vectors/quilt"))) {
            throw new IllegalStateException("the shared vectors are not at " + p.toAbsolutePath()
                    + " (CI has shared/ beside the checkout)");
        }
        return p.normalize();
    }

    public static Path quilt() {
        return shared().resolve("vectors/quilt");
    }
}
