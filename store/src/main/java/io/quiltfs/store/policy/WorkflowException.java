package io.quiltfs.store.policy;

import java.io.IOException;

/**
 * A workflow refused a revision, or a registry's workflow config (or one of its schemas) could
 * not be used; the message is one line naming the registry and the workflow.
 */
public final class WorkflowException extends IOException {
    /** Whether the config itself is at fault (damaged, unreadable), not the revision. */
    private final boolean config;

    WorkflowException(String message, boolean config) {
        super(message);
        this.config = config;
    }

    /** True when the registry's config or a schema is at fault; false when the revision failed. */
    public boolean isConfigProblem() {
        return config;
    }
}
