package io.quiltfs.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MountSettingsTest {
    @Test
    void parsesSizes() {
        assertEquals(4096, MountSettings.parseSize("4096"));
        assertEquals(500L << 20, MountSettings.parseSize("500M"));
        assertEquals(10L << 30, MountSettings.parseSize("10G"));
        assertEquals(10L << 30, MountSettings.parseSize("10GiB"));
        assertEquals(1L << 40, MountSettings.parseSize("1t"));
        assertEquals(3L << 29, MountSettings.parseSize("1.5G"));
        for (String bad : new String[] {"", "G", "-1G", "ten", "1X", "0"}) {
            assertThrows(IllegalArgumentException.class, () -> MountSettings.parseSize(bad), bad);
        }
    }

    @Test
    void defaultIsAQuarterOfTheDisk(@TempDir Path tmp) throws Exception {
        long d = MountSettings.defaultCacheBytes(tmp.resolve("not/yet/there"));
        assertTrue(d > 0);
        assertEquals(java.nio.file.Files.getFileStore(tmp).getTotalSpace() / 4, d);
    }
}
