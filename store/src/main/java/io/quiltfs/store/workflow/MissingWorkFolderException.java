package io.quiltfs.store.workflow;

import io.quiltfs.store.registry.PackageName;
import java.io.IOException;
import java.nio.file.Path;

/** An installed package's working folder is gone: its files cannot be told from deleted ones. */
public final class MissingWorkFolderException extends IOException {
    /** {@code install}: the command that puts the files back (with a partial install's --path). */
    public MissingWorkFolderException(PackageName pkg, Path workDir, String install) {
        super("the working folder of " + pkg + ", " + workDir + ", does not exist (moved, deleted, or on a disk"
                + " that is not mounted); nothing was changed. Run `" + install + "` to put its files"
                + " back, or `quiltfs uninstall " + pkg + "` to forget it");
    }
}
