package io.quiltfs.store.manifest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading a big manifest in two halves at once gives exactly what reading it in order gives. */
class ManifestReaderHalvesTest {
    private static final String B64 = "kCOevah/vkkki4QlrgLX764NuZc1eOzYwmq0xFWNxJk=";

    @TempDir
    Path tmp;

    private static List<String> rows(int n) {
        List<String> out = new ArrayList<>();
        out.add("{\"message\":\"halves\",\"version\":\"v0\"}");
        for (int i = 0; i < n; i++) {
            out.add(String.format("{\"logical_key\":\"d%02d/f%04d\",\"physical_keys\":[\"s3://b/k%d?versionId=v\"],"
                    + "\"size\":%d,\"hash\":{\"type\":\"sha2-256-chunked\",\"value\":\"%s\"},\"meta\":{}}",
                    i / 100, i, i, i, B64));
        }
        return out;
    }

    private void assertSameAsInOrder(List<String> lines) throws IOException {
        String text = String.join("\n", lines) + "\n";
        Path f = tmp.resolve("m.jsonl");
        Files.writeString(f, text, StandardCharsets.UTF_8);
        Manifest inOrder;
        try {
            inOrder = ManifestReader.read(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)), f.toString());
        } catch (ManifestException e) {
            ManifestException halves = assertThrows(ManifestException.class, () -> ManifestReader.read(f, 1));
            assertEquals(e.getMessage(), halves.getMessage());
            return;
        }
        Manifest halves = ManifestReader.read(f, 1);
        assertEquals(inOrder.topHash(), halves.topHash());
        assertEquals(inOrder.entries(), halves.entries());
        assertEquals(inOrder.directoryRows(), halves.directoryRows());
    }

    @Test
    void commonRows() throws IOException {
        assertSameAsInOrder(rows(1000));
    }

    @Test
    void rowsOnlyJacksonReadsInTheSecondHalf() throws IOException {
        List<String> lines = rows(1000);
        lines.set(900, lines.get(900).replace("\"meta\":{}", "\"meta\":{\"user_meta\":{\"x\":1}}"));
        lines.add(950, "");
        lines.add(960, "{\"logical_key\":\"d09/\",\"meta\":{\"k\":true}}");
        lines.set(970, lines.get(970).replace("\"d09/", "\"d09\\/"));
        assertSameAsInOrder(lines);
    }

    @Test
    void errorsInEitherHalfAreTheFirstErrorInOrder() throws IOException {
        List<String> second = rows(1000);
        second.set(800, second.get(800).replace("\"size\":799", "\"size\":-1"));
        assertSameAsInOrder(second);
        List<String> both = rows(1000);
        both.set(100, both.get(100).replace("\"size\":99", "\"size\":\"x\""));
        both.set(800, both.get(800).replace("\"size\":799", "\"size\":-1"));
        assertSameAsInOrder(both);
        List<String> duplicate = rows(1000);
        duplicate.set(900, duplicate.get(10));
        assertSameAsInOrder(duplicate);
    }

    @Test
    void unsortedRowsAcrossTheHalves() throws IOException {
        List<String> lines = rows(1000);
        String moved = lines.remove(5);
        lines.add(moved);
        assertSameAsInOrder(lines);
    }

    @Test
    void crlfLinesAndNoHeaderBeforeTheMiddle() throws IOException {
        List<String> lines = rows(200);
        List<String> crlf = new ArrayList<>();
        for (String l : lines) {
            crlf.add(l + "\r");
        }
        assertSameAsInOrder(crlf);
        List<String> blanks = new ArrayList<>();
        for (int i = 0; i < 5000; i++) {
            blanks.add("");
        }
        blanks.addAll(rows(3));
        assertSameAsInOrder(blanks);
    }
}
