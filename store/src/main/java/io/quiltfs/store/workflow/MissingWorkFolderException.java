package io.quiltfs.store.workflow;

import io.quiltfs.store.registry.PackageName;
import java.io.IOException;
import java.nio.file.Path;

/** An installed package's working folder is gone: its files cannot be told from deleted ones. */
public final class MissingWorkFolderException extends IOException {
    public MissingWorkFolderException(PackageName pkg, Path workDir) {
        super("the working folder of " + pkg + ", " + workDir + ", does not exist (moved, deleted, or on a disk"
                + " that is not mounted); nothing was changed. Run `quiltfs install " + pkg + "` to put its files"
                + " back, or `quiltfs uninstall " + pkg + "` to forget it");
    }
}
