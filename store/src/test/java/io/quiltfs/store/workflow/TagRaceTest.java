package io.quiltfs.store.workflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiltfs.store.registry.PackageName;
import io.quiltfs.store.registry.Registry;
import io.quiltfs.store.registry.RegistryException;
import io.quiltfs.store.testing.TestRegistries;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** `tag --delete` removes the revision name it read, never one another writer re-pointed meanwhile. */
class TagRaceTest {
    static final PackageName PKG = PackageName.parse("team/data");
    static final String H1 = "1".repeat(64);
    static final String H2 = "2".repeat(64);

    @TempDir
    Path tmp;

    /** {@code r}, except that right after each read of a tag, {@code between} runs (another writer). */
    static Registry afterTagRead(Registry r, Runnable between) {
        return (Registry) Proxy.newProxyInstance(Registry.class.getClassLoader(), new Class<?>[] {Registry.class},
                (proxy, method, args) -> {
                    Object result;
                    try {
                        result = method.invoke(r, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                    if (method.getName().equals("tag")) {
                        between.run();
                    }
                    return result;
                });
    }

    static Runnable rePoint(Registry other, String tag, String to) {
        return () -> {
            try {
                other.setTag(PKG, tag, to);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        };
    }

    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void aTagRePointedBetweenTheReadAndTheDeleteIsKept(TestRegistries.Kind kind) throws IOException {
        String uri = kind.newRegistry(tmp);
        try (Registry mine = kind.open(uri); Registry theirs = kind.open(uri)) {
            mine.setTag(PKG, "v1", H1);
            ConflictException e = assertThrows(ConflictException.class,
                    () -> Tag.delete(afterTagRead(mine, rePoint(theirs, "v1", H2)), PKG, "v1"));
            assertTrue(e.getMessage().contains("was moved from " + H1 + " to " + H2), e.getMessage());
            assertEquals(H2, mine.tag(PKG, "v1"), "their tag stays");

            // Without a writer in between it goes, and says what it named.
            assertEquals(H2, Tag.delete(mine, PKG, "v1"));
            assertNull(mine.tag(PKG, "v1"));
            assertThrows(RegistryException.NotFound.class, () -> Tag.delete(mine, PKG, "v1"));
        }
    }

    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void aDeleteWithTheHashItSawRemovesOnlyThat(TestRegistries.Kind kind) throws IOException {
        String uri = kind.newRegistry(tmp);
        try (Registry r = kind.open(uri)) {
            r.setTag(PKG, "v1", H2);
            ConflictException e = assertThrows(ConflictException.class, () -> Tag.delete(r, PKG, "v1", "111111"));
            assertTrue(e.getMessage().contains("names " + H2 + ", not 111111"), e.getMessage());
            assertEquals(H2, r.tag(PKG, "v1"));
            assertEquals(H2, Tag.delete(r, PKG, "v1", "222222"));
            assertNull(r.tag(PKG, "v1"));
        }
    }

    /** A damaged tag pointer can still be deleted (it names nothing anyone could have re-pointed from). */
    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void aDamagedTagIsDeleted(TestRegistries.Kind kind) throws IOException {
        String uri = kind.newRegistry(tmp);
        java.nio.file.Files.writeString(io.quiltfs.store.testing.TestRegistries.backing(uri, ".quilt/quiltfs/tags/team/data/v1"), "junk");
        try (Registry r = kind.open(uri)) {
            assertThrows(RegistryException.BadPointer.class, () -> r.tag(PKG, "v1"));
            assertNull(Tag.delete(r, PKG, "v1"));
            assertNull(r.tag(PKG, "v1"));
        }
    }
}
