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

    /**
     * Whether progress bars may be drawn: no --json, and terminals on stdout and on stderr (where
     * the bar goes: {@code 2>log} at a terminal must not fill the log with control codes).
     */
    boolean interactive() {
        return !json && System.console() != null && System.getenv("CI") == null && stderrIsTerminal();
    }

    /** Linux: what descriptor 2 is open on ({@code /dev/pts/N}, {@code /dev/ttyN} for terminals). */
    private static boolean stderrIsTerminal() {
        try {
            String target = java.nio.file.Files.readSymbolicLink(java.nio.file.Path.of("/proc/self/fd/2")).toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty") || target.equals("/dev/console");
        } catch (java.io.IOException | UnsupportedOperationException e) {
            return true; // cannot tell: as before, stdin and stdout decide
        }
    }
}
