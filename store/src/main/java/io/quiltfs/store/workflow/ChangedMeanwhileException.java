package io.quiltfs.store.workflow;

import io.quiltfs.store.manifest.LogicalKey;
import java.io.IOException;

/**
 * A working file that a pull was about to replace, create or remove was changed by someone else
 * after the pull's check looked at it: the pull kept it as it is and stopped (see
 * {@link WorkingFiles#guarded}). Carries the key.
 */
public final class ChangedMeanwhileException extends IOException {
    private final String key;

    ChangedMeanwhileException(String key, String what) {
        super("'" + LogicalKey.printable(key) + "' " + what);
        this.key = key;
    }

    /** The logical key whose file was kept. */
    public String key() {
        return key;
    }
}
