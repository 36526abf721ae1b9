package io.quiltfs.store.workflow;

import io.quiltfs.store.registry.PackageName;
import java.io.IOException;

/** A workflow verb named a package that this home has not installed. */
public final class NotInstalledException extends IOException {
    public NotInstalledException(PackageName pkg) {
        super(pkg + " is not installed in this home (install it with `quiltfs install " + pkg
                + " --registry REGISTRY`)");
    }
}
