package io.quiltfs.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiltfs.store.json.Json;
import java.io.PrintWriter;

/** Writes a command's result: text for people or one JSON document with --json. */
final class Output {
    private final PrintWriter out;
    private final boolean json;

    Output(PrintWriter out, boolean json) {
        this.out = out;
        this.json = json;
    }

    boolean json() {
        return json;
    }

    void line(String s) {
        if (!json) {
            out.println(s);
        }
    }

    /** Text that already ends with its newlines (nothing with --json). */
    void text(CharSequence s) {
        if (!json) {
            out.append(s);
        }
    }

    void json(JsonNode node) {
        if (json) {
            out.println(Json.pretty(node));
        }
        out.flush();
    }

    void flush() {
        out.flush();
    }

    /** Whether progress bars may be drawn: a terminal on stdout and no --json. */
    boolean interactive() {
        return !json && System.console() != null && System.getenv("CI") == null;
    }
}
