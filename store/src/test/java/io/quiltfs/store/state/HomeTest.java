package io.quiltfs.store.state;

import static org.junit.jupiter.api.Assertions.assertEquals;

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

    @Test
    void aRelativeHomeIsMadeAbsolute() {
        assertEquals(Path.of("rel").toAbsolutePath(), located("rel/./", Map.of("QUILTFS_HOME", "/q")));
    }
}
