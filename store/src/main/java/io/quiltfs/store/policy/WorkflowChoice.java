package io.quiltfs.store.policy;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiltfs.store.manifest.Manifest;

/**
 * Which workflow the user asked for: the config's default (quilt3's {@code workflow=...}), none
 * ({@code workflow=None}, allowed only where the config does not require one), or one by id.
 */
public record WorkflowChoice(String id, boolean none) {
    /** The registry's {@code default_workflow}, if any. */
    public static final WorkflowChoice DEFAULT = new WorkflowChoice(null, false);
    /** Explicitly no workflow. */
    public static final WorkflowChoice NONE = new WorkflowChoice(null, true);

    public WorkflowChoice {
        if (id != null && none) {
            throw new IllegalArgumentException("a workflow choice is an id or none, not both");
        }
    }

    public static WorkflowChoice named(String id) {
        return new WorkflowChoice(id, false);
    }

    /**
     * The command-line spelling, as quilt3's CLI takes it: absent (null) for the default, the
     * empty string for no workflow, else an id.
     */
    public static WorkflowChoice parse(String option) {
        if (option == null) {
            return DEFAULT;
        }
        return option.isEmpty() ? NONE : named(option);
    }

    /**
     * The choice a revision was made with, read from its header: the id it records, none when it
     * records {@code "id": null}, the default when it has no {@code workflow} (quilt3 re-checks a
     * pushed package the same way: a revision without one gets the default).
     */
    public static WorkflowChoice of(Manifest m) {
        JsonNode w = m.header().get("workflow");
        if (w == null || !w.isObject() || !w.has("id")) {
            return DEFAULT;
        }
        JsonNode id = w.get("id");
        return id.isTextual() ? named(id.asText()) : NONE;
    }

    /** How a message names it. */
    String describe() {
        return id != null ? "workflow '" + id + "'" : none ? "no workflow" : "the default workflow";
    }
}
