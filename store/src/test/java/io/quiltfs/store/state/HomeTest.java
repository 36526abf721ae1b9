package io.quiltfs.store.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiltfs.store.registry.PackageName;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HomeTest {
    private static Path located(String option, Map<String, String> env) {
        return Home.locate(option, env).root();
    }

    @Test
    void homeOptionThenQuiltfsHomeThenXdgDataHomeThenLocalShare() {
        Map<String, String> all = Map.of("QUILTFS_HOME", "/q/home", "XDG_DATA_HOME", "/xdg/data");
        assertEquals(Path.of("/opt/h"), located("/opt/h", all));
        assertEquals(Path.of("/q/home"), located(null, all));
        assertEquals(Path.of("/xdg/data/quiltfs"), located(null, Map.of("XDG_DATA_HOME", "/xdg/data")));
        assertEquals(Path.of(System.getProperty("user.home"), ".local/share/quiltfs"), located(null, Map.of()));
    }

    @Test
    void emptyValuesAreSkipped() {
        Map<String, String> empty = Map.of("QUILTFS_HOME", "", "XDG_DATA_HOME", "/xdg/data");
        assertEquals(Path.of("/xdg/data/quiltfs"), located("", empty));
        assertEquals(Path.of(System.getProperty("user.home"), ".local/share/quiltfs"),
                located("", Map.of("QUILTFS_HOME", "", "XDG_DATA_HOME", "")));
    }

    /** `~` in the docs is the shell's: $HOME, which sudo, containers and tests may set apart from the passwd entry. */
    @Test
    void theDefaultIsUnderDollarHome() {
        assertEquals(Path.of("/users/me/.local/share/quiltfs"), located(null, Map.of("HOME", "/users/me")));
        assertEquals(Path.of(System.getProperty("user.home"), ".local/share/quiltfs"),
                located(null, Map.of("HOME", "")));
    }

    static int bytes(Path p) {
        return p.getFileName().toString().getBytes(StandardCharsets.UTF_8).length;
    }

    /** Parts of 255 bytes, as long as a folder name (and so a local registry's package) may be. */
    static final PackageName LONGEST = new PackageName("é".repeat(127) + "a", "名".repeat(85));

    @Test
    void fileNamesOfTheLongestPackageNameAreBoundedAndDistinct(@org.junit.jupiter.api.io.TempDir Path tmp)
            throws Exception {
        Home home = new Home(tmp).ensure();
        assertEquals(255, LONGEST.name().getBytes(StandardCharsets.UTF_8).length);
        PackageName sibling = new PackageName(LONGEST.namespace(), "名".repeat(84) + "x");
        for (Path p : new Path[] {home.packageLock(LONGEST), home.hashCache(LONGEST), home.packageLock(sibling),
                home.hashCache(sibling)}) {
            assertTrue(bytes(p) <= Home.MAX_NAME_BYTES, p.toString());
            Files.createDirectories(p.getParent());
            Files.writeString(p, "made"); // the file system takes it
        }
        assertNotEquals(home.packageLock(LONGEST), home.packageLock(sibling), "the same first bytes, not the same lock");
        assertNotEquals(home.hashCache(LONGEST), home.hashCache(sibling));
        try (HomeLock l = HomeLock.acquire(home.packageLock(LONGEST))) {
            assertTrue(home.packageLock(LONGEST).getFileName().toString().startsWith("package.éé"), "readable");
        }
        for (Path dir : new Path[] {home.installedDir(LONGEST), home.defaultWorkDir(LONGEST), home.mountArea(LONGEST)}) {
            Files.createDirectories(dir);
        }
        // Names that fit keep the spelling they always had.
        PackageName p = PackageName.parse("team/data");
        assertEquals("package.team.data.lock", home.packageLock(p).getFileName().toString());
        assertEquals("data.json", home.hashCache(p).getFileName().toString());
        String fits = "n".repeat(255 - "package.t..lock".length());
        assertEquals("package.t." + fits + ".lock", home.packageLock(new PackageName("t", fits)).getFileName().toString());
    }

    @Test
    void aPartLongerThanAFileNameIsRefusedNamingThePackage(@org.junit.jupiter.api.io.TempDir Path tmp) {
        Home home = new Home(tmp);
        PackageName tooLong = new PackageName("team", "n".repeat(256));
        for (org.junit.jupiter.api.function.Executable e : java.util.List.<org.junit.jupiter.api.function.Executable>of(
                () -> home.installedDir(tooLong), () -> home.defaultWorkDir(tooLong), () -> home.mountArea(tooLong))) {
            IllegalArgumentException x = assertThrows(IllegalArgumentException.class, e);
            assertTrue(x.getMessage().contains("package team/nnn") && x.getMessage().contains("256 bytes"),
                    x.getMessage());
        }
        assertTrue(bytes(home.packageLock(tooLong)) <= Home.MAX_NAME_BYTES);
    }

    @Test
    void aRelativeHomeIsMadeAbsolute() {
        assertEquals(Path.of("rel").toAbsolutePath(), located("rel/./", Map.of("QUILTFS_HOME", "/q")));
    }
}
