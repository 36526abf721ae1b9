package io.quiltfs.nativetests.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiltfs.store.registry.PhysicalKey;
import io.quiltfs.store.registry.Registry;
import io.quiltfs.store.testing.S3ProxyServer;
import io.quiltfs.store.testing.TestRegistries;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A registry with a quilt3 workflow config: quilt3 and quiltfs publish the same package with the
 * same header ({@code workflow} included) and top hash, under the default workflow, a named one
 * and none, in a local and an S3 registry; and both refuse the same bad metadata, entries and
 * missing message.
 */
class WorkflowInteropTest {
    @TempDir
    Path tmp;

    private static void put(String uri, String key, String text) throws IOException {
        Path f = uri.startsWith("s3://") ? S3ProxyServer.shared().objectFile(uri.substring(5), key)
                : PhysicalKey.parse(uri).filePath().resolve(key);
        Files.createDirectories(f.getParent());
        Files.writeString(f, text);
    }

    private static void config(String uri) throws IOException {
        put(uri, ".quilt/workflows/meta.json", "{\"$schema\": \"http://json-schema.org/draft-07/schema#\","
                + " \"type\": \"object\", \"required\": [\"author\"], \"properties\": {\"author\": {\"type\": \"string\"}}}");
        put(uri, ".quilt/workflows/entries.json", "{\"type\": \"array\", \"items\": {\"type\": \"object\","
                + " \"properties\": {\"size\": {\"maximum\": 1000},"
                // Python re spellings java.util.regex refuses: a group name with '_', {,n}
                + " \"logical_key\": {\"pattern\": \"^(?P<first_char>[a-z]){,1}[a-z]\"}}}}");
        put(uri, ".quilt/workflows/config.yml", "version:\n  base: \"1\"\n"
                + "is_workflow_required: false\n"
                + "default_workflow: alpha\n"
                + "workflows:\n"
                + "  alpha:\n"
                + "    name: Alpha\n"
                + "    handle_pattern: ^(?P<team_name>interop)/\n"
                + "    metadata_schema: meta\n"
                + "    entries_schema: entries\n"
                + "    is_message_required: true\n"
                + "  free: &free\n"
                + "    name: Free\n"
                + "    metadata_schema: meta\n"
                // a YAML merge key, which PyYAML's safe_load merges
                + "  other:\n"
                + "    <<: *free\n"
                + "    name: Other\n"
                + "schemas:\n"
                + "  meta:\n"
                + "    url: " + uri + "/.quilt/workflows/meta.json\n"
                + "  entries:\n"
                + "    url: " + uri + "/.quilt/workflows/entries.json\n");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void bothClientsStampAndRefuseAlike(TestRegistries.Kind kind) throws Exception {
        Path src = Files.createDirectories(tmp.resolve("src"));
        Files.writeString(src.resolve("a.txt"), "alpha\n");
        Files.createDirectories(src.resolve("data"));
        Files.writeString(src.resolve("data/b.csv"), "id\n1\n");
        Quilt3 quilt3 = new Quilt3(tmp, kind);
        Quiltfs quiltfs = new Quiltfs(tmp.resolve("home"), kind);
        String reg = kind.newRegistry(tmp);
        config(reg);
        String meta = "{\"author\": \"ann\", \"n\": 1.5}";

        List<String> tops = new ArrayList<>();
        for (String workflow : new String[] {null, "free", "", "other"}) {
            JsonNode published = quilt3.publish(reg, "interop/wf", src, new Quilt3.Build().message("m").meta(meta)
                    .workflow(workflow));
            String theirs = published.get("top_hash").asText();
            List<String> args = new ArrayList<>(List.of("build", "interop/wf", src.toString(), "--registry", reg,
                    "-m", "m", "--meta", meta));
            if (workflow != null) {
                args.addAll(List.of("--workflow", workflow));
            }
            String mine = quiltfs.run(args.toArray(String[]::new)).strip();
            assertEquals(theirs, mine, "workflow " + workflow + ": the same top hash from both clients");
            try (Registry r = kind.open(reg)) {
                assertEquals(published.get("view").get("header").get("workflow"),
                        r.readManifest(mine).header().get("workflow"));
            }
            tops.add(mine);
        }
        assertNotEquals(tops.get(0), tops.get(1), "the workflow is part of the top hash");
        assertNotEquals(tops.get(1), tops.get(2));
        assertNotEquals(tops.get(1), tops.get(3));

        if (kind != TestRegistries.LOCAL) {
            return; // the refusals do not depend on where the registry is: checked once (quilt3 is slow to start)
        }
        // What quilt3 refuses, quiltfs refuses.
        refusedByBoth(quilt3, quiltfs, reg, src, new Quilt3.Build().message("m").meta("{\"author\": 7}"),
                "Metadata failed validation", "metadata failed validation");
        refusedByBoth(quilt3, quiltfs, reg, src, new Quilt3.Build().meta(meta),
                "Commit message is required", "message is required");
        Files.writeString(src.resolve("Big.txt"), "x".repeat(2000));
        refusedByBoth(quilt3, quiltfs, reg, src, new Quilt3.Build().message("m").meta(meta),
                "Package entries failed validation", "package entries failed validation");
    }

    private static void refusedByBoth(Quilt3 quilt3, Quiltfs quiltfs, String reg, Path src, Quilt3.Build options,
                                      String quilt3Says, String quiltfsSays) throws IOException {
        Quilt3.Result theirs = quilt3.tryPublish(reg, "interop/wf", src, options);
        assertTrue(theirs.exit() != 0 && theirs.stderr().contains(quilt3Says), "quilt3: " + theirs.stderr());
        List<String> args = new ArrayList<>(List.of("build", "interop/wf", src.toString(), "--registry", reg));
        if (options.message != null) {
            args.addAll(List.of("-m", options.message));
        }
        if (options.meta != null) {
            args.addAll(List.of("--meta", options.meta));
        }
        Quiltfs.Result mine = quiltfs.exec(args.toArray(String[]::new));
        assertEquals(3, mine.exit(), "a revision the registry's rules refuse: " + mine.stderr());
        assertTrue(mine.stderr().contains(quiltfsSays), "quiltfs: " + mine.stderr());
    }
}
