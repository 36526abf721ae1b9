package io.quiltfs.store.manifest;

import java.io.IOException;
import java.util.List;

/** A manifest that cannot be read: names the source, the line and the key. */
public final class ManifestException extends IOException {
    private final List<Problem> problems;

    public ManifestException(String source, List<Problem> problems) {
        super(source + ":" + problems.get(0).toString()
                + (problems.size() > 1 ? " (and " + (problems.size() - 1) + " more problems)" : ""));
        this.problems = List.copyOf(problems);
    }

    public List<Problem> problems() {
        return problems;
    }
}
