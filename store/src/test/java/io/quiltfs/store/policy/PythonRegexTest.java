package io.quiltfs.store.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiltfs.store.json.Json;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@link PythonRegex} against Python 3.11's {@code re}: python-regex-table.json was written by
 * python-regex-table.py (next to it) with the quilt3 venv's Python; for each pattern, whether
 * {@code re.compile} accepts it and, if so, which of the inputs {@code re.search} matches.
 */
class PythonRegexTest {
    /** What Python accepts and java.util.regex cannot express: refused, saying so. */
    private static final java.util.Set<String> UNSUPPORTED = java.util.Set.of("(a)(?<=\\1)b", "(a)(?(1)a|b)");

    @Test
    void verdictsAndMatchesAreAsPythons() throws Exception {
        JsonNode table;
        try (InputStream in = getClass().getResourceAsStream("python-regex-table.json")) {
            table = Json.MAPPER.readTree(in);
        }
        List<String> inputs = new ArrayList<>();
        table.get("inputs").forEach(n -> inputs.add(n.asText()));
        List<String> wrong = new ArrayList<>();
        for (JsonNode row : table.get("rows")) {
            String pattern = row.get(0).asText();
            boolean valid = row.get(1).asBoolean();
            Pattern p;
            try {
                p = PythonRegex.compile(pattern);
            } catch (PythonRegex.Invalid e) {
                if (valid && !(UNSUPPORTED.contains(pattern) && e.getMessage().contains("not supported by quiltfs"))) {
                    wrong.add(pattern + ": refused (" + e.getMessage() + ") but Python accepts it");
                }
                continue;
            }
            if (!valid) {
                wrong.add(pattern + ": accepted but Python refuses it (" + row.get(2).asText() + ")");
                continue;
            }
            StringBuilder bits = new StringBuilder();
            for (String s : inputs) {
                bits.append(p.matcher(s).find() ? '1' : '0');
            }
            if (!bits.toString().equals(row.get(2).asText())) {
                wrong.add(pattern + ": matches " + bits + ", Python " + row.get(2).asText() + " (as " + p.pattern() + ")");
            }
        }
        assertEquals(List.of(), wrong);
    }

    @Test
    void namedGroupsAreRenamedAndReferencesFollow() {
        Pattern p = PythonRegex.compile("^(?P<team_name>[a-z]+)-(?P=team_name)$");
        assertTrue(p.matcher("ab-ab").find());
        assertEquals(false, p.matcher("ab-cd").find());
    }

    @Test
    void refusalIsOneLineNamingWhy() {
        PythonRegex.Invalid e = assertThrows(PythonRegex.Invalid.class, () -> PythonRegex.compile("\\p{L}"));
        assertEquals("bad escape \\p at position 0", e.getMessage());
    }
}
