package io.quiltfs.store.policy;

import java.io.IOException;

/**
 * A workflow refused a revision, or a registry's workflow config (or one of its schemas) could
 * not be used; the message is one line naming the registry and the workflow.
 */
public final class WorkflowException extends IOException {
    /** Whether the config itself is at fault (damaged, unreadable), not the revision. */
    private final boolean config;

    /** Whether the config could not be read at all (the registry did not answer). */
    private final boolean unreachable;

    WorkflowException(String message, boolean config) {
        this(message, config, false);
    }

    private WorkflowException(String message, boolean config, boolean unreachable) {
        super(message);
        this.config = config;
        this.unreachable = unreachable;
    }

    /** The registry could not be asked for its config (offline, refused, failing). */
    static WorkflowException unreachable(String message) {
        return new WorkflowException(message, true, true);
    }

    /**
     * True when the registry did not give its config (nothing is known of it), as opposed to a
     * config that was read and is damaged or refuses the revision.
     */
    public boolean isUnreachable() {
        return unreachable;
    }

    /** True when the registry's config or a schema is at fault; false when the revision failed. */
    public boolean isConfigProblem() {
        return config;
    }
}
