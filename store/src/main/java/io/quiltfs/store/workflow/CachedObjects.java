package io.quiltfs.store.workflow;

import io.quiltfs.store.manifest.Entry;
import io.quiltfs.store.registry.PhysicalKey;
import io.quiltfs.store.state.Home;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which manifest rows point into a home's object cache: the content of local commits, until a
 * push uploads it. A row does when its file is named by its hash in the home's objects folder,
 * whatever spelling of the home's path (a symbolic link, say) the commit was made under; rows
 * read from a local-folder registry are {@code file:} URLs too, and point elsewhere.
 * Thread-safe; each folder is compared once.
 */
final class CachedObjects {
    private final Home home;
    private final ConcurrentHashMap<String, Boolean> folders = new ConcurrentHashMap<>();

    CachedObjects(Home home) {
        this.home = home;
    }

    /** The cached object the row points to, spelled with this home's path; null for any other row. */
    Path of(Entry e) {
        if (!e.physicalKey().startsWith("file:") || !e.hash().isWellFormed()) {
            return null;
        }
        Path f;
        try {
            f = PhysicalKey.parse(e.physicalKey()).filePath();
        } catch (IllegalArgumentException bad) {
            return null;
        }
        String name = Home.objectName(e.hash());
        Path dir = f.getParent();
        if (dir == null || f.getFileName() == null || !f.getFileName().toString().equals(name)) {
            return null;
        }
        return folders.computeIfAbsent(dir.toString(), d -> isObjectsFolder(dir)) ? home.objects().resolve(name) : null;
    }

    private boolean isObjectsFolder(Path dir) {
        Path objects = home.objects();
        try {
            return dir.equals(objects) || Files.isSameFile(dir, objects);
        } catch (IOException gone) {
            return false;
        }
    }
}
