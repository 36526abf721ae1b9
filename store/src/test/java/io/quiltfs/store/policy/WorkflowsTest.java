package io.quiltfs.store.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiltfs.store.hash.Checksum;
import io.quiltfs.store.hash.HashType;
import io.quiltfs.store.json.Json;
import io.quiltfs.store.manifest.Entry;
import io.quiltfs.store.manifest.Manifest;
import io.quiltfs.store.registry.LocalRegistry;
import io.quiltfs.store.registry.PackageName;
import io.quiltfs.store.registry.PhysicalKey;
import io.quiltfs.store.registry.Registries;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The rules of quilt3 8.0.0's workflows, checked one by one against a local registry. */
class WorkflowsTest {
    @TempDir
    Path tmp;

    private LocalRegistry registry;
    private Path config;

    @BeforeEach
    void setUp() throws IOException {
        registry = new LocalRegistry(Files.createDirectories(tmp.resolve("reg")));
        config = registry.root().resolve(".quilt/workflows/config.yml");
        Files.createDirectories(config.getParent());
        Files.writeString(registry.root().resolve(".quilt/workflows/meta.json"),
                "{\"type\": \"object\", \"required\": [\"author\"], \"properties\": {\"author\": {\"type\": \"string\"}}}");
        Files.writeString(registry.root().resolve(".quilt/workflows/entries.json"),
                "{\"type\": \"array\", \"items\": {\"type\": \"object\", \"properties\": {"
                + "\"logical_key\": {\"pattern\": \"\\\\.csv$\"}, \"size\": {\"maximum\": 100}}}}");
    }

    private String schemaUrl(String name) {
        return PhysicalKey.ofFile(registry.root().resolve(".quilt/workflows/" + name)).toString();
    }

    private void config(String yaml) throws IOException {
        Files.writeString(config, yaml);
    }

    private String standard() {
        return "version: \"1\"\n"
                + "default_workflow: alpha\n"
                + "workflows:\n"
                + "  alpha:\n"
                + "    name: Alpha\n"
                + "    handle_pattern: ^team/\n"
                + "    metadata_schema: meta\n"
                + "    entries_schema: entries\n"
                + "    is_message_required: true\n"
                + "  free:\n"
                + "    name: Free\n"
                + "schemas:\n"
                + "  meta:\n"
                + "    url: " + schemaUrl("meta.json") + "\n"
                + "  entries:\n"
                + "    url: " + schemaUrl("entries.json") + "\n";
    }

    private static Manifest manifest(String userMeta, String... keysAndSizes) {
        Manifest.Builder b = Manifest.builder().userMeta(userMeta == null ? null : Json.parse(userMeta));
        for (int i = 0; i < keysAndSizes.length; i += 2) {
            b.add(new Entry(keysAndSizes[i], "file:///x/" + i, Long.parseLong(keysAndSizes[i + 1]),
                    Checksum.of(HashType.SHA256, "00".repeat(32))));
        }
        return b.build();
    }

    private JsonNode stamp(WorkflowChoice choice, String name, String message, Manifest m) throws IOException {
        return Workflows.stamp(registry, Registries.sources(registry, null), choice, PackageName.parse(name), message, m);
    }

    private String refusal(WorkflowChoice choice, String name, String message, Manifest m) {
        return assertThrows(WorkflowException.class, () -> stamp(choice, name, message, m)).getMessage();
    }

    @Test
    void withoutAConfigThereIsNoWorkflowUnlessOneIsNamed() throws Exception {
        Manifest m = manifest("{}", "a.csv", "1");
        assertNull(stamp(WorkflowChoice.DEFAULT, "team/x", null, m));
        assertTrue(refusal(WorkflowChoice.named("alpha"), "team/x", null, m).contains("has no workflows config"));
        assertTrue(refusal(WorkflowChoice.NONE, "team/x", null, m).endsWith("has no workflows config"
                + " (.quilt/workflows/config.yml), but --workflow '' (explicitly none) was given (quilt3 refuses this"
                + " too); publish there without --workflow"), refusal(WorkflowChoice.NONE, "team/x", null, m));
    }

    @Test
    void theDefaultWorkflowStampsIdConfigAndLoadedSchemas() throws Exception {
        config(standard());
        JsonNode s = stamp(WorkflowChoice.DEFAULT, "team/x", "msg", manifest("{\"author\": \"a\"}", "a.csv", "10"));
        assertEquals("alpha", s.get("id").asText());
        assertEquals(PhysicalKey.ofFile(config).toString(), s.get("config").asText());
        assertEquals(schemaUrl("meta.json"), s.get("schemas").get("meta").asText());
        assertEquals(schemaUrl("entries.json"), s.get("schemas").get("entries").asText());
        // A workflow without schemas records none.
        JsonNode free = stamp(WorkflowChoice.named("free"), "any/name", null, manifest(null));
        assertEquals("free", free.get("id").asText());
        assertFalse(free.has("schemas"));
    }

    @Test
    void eachRuleRefusesWithOneLineNamingRegistryAndWorkflow() throws Exception {
        config(standard());
        Manifest good = manifest("{\"author\": \"a\"}", "a.csv", "10");
        String noMessage = refusal(WorkflowChoice.DEFAULT, "team/x", null, good);
        assertTrue(noMessage.startsWith(registry.uri() + ": workflow 'alpha' for team/x: "), noMessage);
        assertTrue(noMessage.contains("message is required"), noMessage);
        assertTrue(refusal(WorkflowChoice.DEFAULT, "other/x", "m", good).contains("handle_pattern '^team/'"));
        String meta = refusal(WorkflowChoice.DEFAULT, "team/x", "m", manifest("{}", "a.csv", "10"));
        assertTrue(meta.contains("metadata failed validation: ") && meta.contains("author"), meta);
        // quilt3 validates a header without user_meta as {} and "user_meta": null as null.
        assertTrue(refusal(WorkflowChoice.DEFAULT, "team/x", "m", manifest(null, "a.csv", "10"))
                .contains("metadata failed validation"));
        String entries = refusal(WorkflowChoice.DEFAULT, "team/x", "m", manifest("{\"author\": \"a\"}", "a.txt", "10"));
        assertTrue(entries.contains("package entries failed validation: "), entries);
        assertTrue(refusal(WorkflowChoice.DEFAULT, "team/x", "m", manifest("{\"author\": \"a\"}", "a.csv", "101"))
                .contains("package entries failed validation"));
        assertFalse(noMessage.contains("\n"));
        assertTrue(refusal(WorkflowChoice.named("nope"), "team/x", "m", good).contains("there is no workflow 'nope'"));
    }

    @Test
    void handlePatternsAreSearchedWithPythonsNamedGroups() throws Exception {
        config(standard().replace("handle_pattern: ^team/", "handle_pattern: (?P<ns>[a-z]+)/(?P=ns)$"));
        Manifest m = manifest("{\"author\": \"a\"}", "a.csv", "1");
        assertEquals("alpha", stamp(WorkflowChoice.DEFAULT, "team/team", "m", m).get("id").asText());
        assertTrue(refusal(WorkflowChoice.DEFAULT, "team/other", "m", m).contains("handle_pattern"));
        config(standard().replace("handle_pattern: ^team/", "handle_pattern: \"[\""));
        WorkflowException e = assertThrows(WorkflowException.class, () -> stamp(WorkflowChoice.DEFAULT, "team/x", "m", m));
        assertTrue(e.isConfigProblem() && e.getMessage().contains("not a valid Python regular expression"), e.getMessage());
    }

    @Test
    void patternsArePythonsInHandlePatternsAndSchemas() throws Exception {
        // Python spellings Java refuses: a group name with '_', {,n}, a literal '{'.
        config(standard().replace("handle_pattern: ^team/", "handle_pattern: '^(?P<team_name>[a-z_]{,20})/x{0}'"));
        Files.writeString(registry.root().resolve(".quilt/workflows/meta.json"), "{\"type\": \"object\","
                + " \"properties\": {\"author\": {\"pattern\": \"^(?P<first_name>\\\\w+) {$\"}},"
                + " \"patternProperties\": {\"^x{,2}$\": {\"type\": \"integer\"}}}");
        Manifest good = manifest("{\"author\": \"Zoë {\", \"xx\": 1}", "a.csv", "1");
        assertEquals("alpha", stamp(WorkflowChoice.DEFAULT, "team_a/x", "m", good).get("id").asText());
        assertTrue(refusal(WorkflowChoice.DEFAULT, "Team/x", "m", good).contains("handle_pattern"));
        assertTrue(refusal(WorkflowChoice.DEFAULT, "team_/x", "m", manifest("{\"author\": \"Zoë\"}", "a.csv", "1"))
                .contains("metadata failed validation"));
        assertTrue(refusal(WorkflowChoice.DEFAULT, "team_/x", "m", manifest("{\"author\": \"a {\", \"x\": \"1\"}",
                "a.csv", "1")).contains("metadata failed validation"));
        // Java constructs Python refuses are a damaged config, in one line.
        config(standard().replace("handle_pattern: ^team/", "handle_pattern: '\\p{L}'"));
        WorkflowException e = assertThrows(WorkflowException.class, () -> stamp(WorkflowChoice.DEFAULT, "team_/x", "m", good));
        assertTrue(e.isConfigProblem() && e.getMessage().endsWith("not a valid Python regular expression: bad escape \\p"
                + " at position 0"), e.getMessage());
    }

    @Test
    void aSchemaWithAnInvalidPatternIsAOneLineConfigProblem() throws Exception {
        config(standard());
        Manifest m = manifest("{\"author\": \"a\"}", "a.csv", "1");
        Path meta = registry.root().resolve(".quilt/workflows/meta.json");
        for (String schema : new String[]{"{\"properties\": {\"a\": {\"pattern\": \"(\"}}}",
                "{\"patternProperties\": {\"\\\\p{L}\": {}}}",
                "{\"items\": [{\"not\": {\"pattern\": \"\\\\z\"}}]}",
                "{\"properties\": {\"pattern\": {\"pattern\": \"a**\"}}}"}) {
            Files.writeString(meta, schema);
            WorkflowException e = assertThrows(WorkflowException.class, () -> stamp(WorkflowChoice.DEFAULT, "team/x", "m", m),
                    schema);
            assertTrue(e.isConfigProblem(), schema);
            assertTrue(e.getMessage().contains("schema 'meta' is not a valid JSON Schema")
                    && e.getMessage().contains("not a valid Python regular expression"), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
        }
    }

    @Test
    void yamlIsReadAsPyYamlSafeLoadReadsIt() throws Exception {
        // What /work/main/.venv's yaml.safe_load gives for the same text, as JSON.
        assertEquals(Json.parse("{\"common\": {\"name\": \"C\", \"is_message_required\": true},"
                        + " \"w\": {\"name\": \"W\", \"is_message_required\": true, \"handle_pattern\": \"^a/\"},"
                        + " \"dup\": 2, \"flag\": false, \"n\": 8}"),
                WorkflowConfig.yaml("common: &c\n  name: C\n  is_message_required: yes\n"
                        + "w:\n  <<: *c\n  name: W\n  handle_pattern: ^a/\n"
                        + "dup: 1\ndup: 2\nflag: off\nn: 010\n"));
        config("version: \"1\"\n"
                + "default_workflow: alpha\n"
                + "workflows:\n"
                + "  base: &common\n"
                + "    name: Common\n"
                + "    is_message_required: true\n"
                + "  alpha:\n"
                + "    <<: *common\n"
                + "    handle_pattern: ^team/\n");
        assertTrue(refusal(WorkflowChoice.DEFAULT, "team/x", null, manifest("{}")).contains("message is required"));
        assertEquals("alpha", stamp(WorkflowChoice.DEFAULT, "team/x", "m", manifest("{}")).get("id").asText());
    }

    @Test
    void anEmptySchemaIdMeansNone() throws Exception {
        config(standard().replace("metadata_schema: meta", "metadata_schema: ''")
                .replace("entries_schema: entries", "entries_schema: \"\""));
        JsonNode s = stamp(WorkflowChoice.DEFAULT, "team/x", "m", manifest("{}", "a.bin", "1000"));
        assertEquals("alpha", s.get("id").asText());
        assertFalse(s.has("schemas"));
    }

    @Test
    void noWorkflowOnlyWhereNotRequired() throws Exception {
        config(standard());
        Manifest m = manifest("{}", "a.csv", "1");
        assertTrue(refusal(WorkflowChoice.NONE, "team/x", "m", m).contains("requires a workflow"));
        config(standard() + "is_workflow_required: false\n");
        JsonNode s = stamp(WorkflowChoice.NONE, "team/x", null, m);
        assertTrue(s.get("id").isNull());
        assertEquals(PhysicalKey.ofFile(config).toString(), s.get("config").asText());
        assertFalse(s.has("schemas"));
        // Required, no default, none named: refused.
        config(standard().replace("default_workflow: alpha\n", ""));
        assertTrue(refusal(WorkflowChoice.DEFAULT, "team/x", "m", m).contains("requires a workflow"));
    }

    @Test
    void aDamagedConfigIsAConfigProblem() throws Exception {
        Manifest m = manifest("{}", "a.csv", "1");
        config("version: [1\n");
        WorkflowException e = assertThrows(WorkflowException.class, () -> stamp(WorkflowChoice.DEFAULT, "team/x", "m", m));
        assertTrue(e.isConfigProblem());
        assertTrue(e.getMessage().endsWith("config.yml is not valid YAML: line 2, column 1: expected ',' or ']',"
                + " but got <stream end> (while parsing a flow sequence)"), e.getMessage());
        config("version: \"1\"\nworkflows:\n  a:\n    name: A\n   is_message_required: true\n");
        assertTrue(refusal(WorkflowChoice.DEFAULT, "team/x", "m", m).endsWith(
                "is not valid YAML: line 5, column 4: expected <block end>, but found '<block mapping start>'"
                        + " (while parsing a block mapping)"), refusal(WorkflowChoice.DEFAULT, "team/x", "m", m));
        config("version: \"1\"\nworkflows:\n  a:\n    name: A: B\n");
        assertTrue(refusal(WorkflowChoice.DEFAULT, "team/x", "m", m).endsWith(
                "is not valid YAML: line 4, column 12: mapping values are not allowed here"),
                refusal(WorkflowChoice.DEFAULT, "team/x", "m", m));
        config("version: \"1\"\nworkflows: {}\n");
        assertTrue(refusal(WorkflowChoice.DEFAULT, "team/x", "m", m).contains("failed validation"));
        config("version: \"1\"\nworkflows:\n  a:\n    name: A\n    bogus: 1\n");
        assertTrue(refusal(WorkflowChoice.DEFAULT, "team/x", "m", m).contains("failed validation"));
        config(standard().replace("version: \"1\"", "version: \"1.2\""));
        assertTrue(refusal(WorkflowChoice.DEFAULT, "team/x", "m", m).contains("version '1.2' is not supported"));
        config(standard().replace("version: \"1\"", "version: \"1.99999999999999999999\""));
        assertTrue(refusal(WorkflowChoice.DEFAULT, "team/x", "m", m).contains("is not supported"));
        config(standard().replace("version: \"1\"", "version: {base: \"1.1.0\", catalog: \"2\"}"));
        assertEquals("alpha", stamp(WorkflowChoice.DEFAULT, "team/x", "m",
                manifest("{\"author\": \"a\"}", "a.csv", "1")).get("id").asText());
        config(standard().replace(schemaUrl("meta.json"), schemaUrl("missing.json")));
        assertTrue(refusal(WorkflowChoice.DEFAULT, "team/x", "m", m).contains("could not load schema 'meta'"));
        config(standard().replace(schemaUrl("meta.json"), "https://example.com/s.json"));
        assertTrue(refusal(WorkflowChoice.DEFAULT, "team/x", "m", m).contains("could not parse the schema URL"));
        config(standard().replace(schemaUrl("meta.json"), "meta.json"));
        assertTrue(refusal(WorkflowChoice.DEFAULT, "team/x", "m", m).endsWith("could not parse the schema URL"
                + " 'meta.json' (expected an absolute s3://bucket/key or file:///path URL; quilt3 reads no relative"
                + " ones)"), refusal(WorkflowChoice.DEFAULT, "team/x", "m", m));
        config(standard().replace("metadata_schema: meta", "metadata_schema: nope"));
        assertTrue(refusal(WorkflowChoice.DEFAULT, "team/x", "m", m).contains("there is no 'nope' in schemas"));
    }

    @Test
    void schemasWithRefOrAnotherDraftOrInvalidAreRefused() throws Exception {
        config(standard());
        Manifest m = manifest("{\"author\": \"a\"}", "a.csv", "1");
        Path meta = registry.root().resolve(".quilt/workflows/meta.json");
        Files.writeString(meta, "{\"properties\": {\"a\": {\"$ref\": \"#/definitions/x\"}}}");
        assertTrue(refusal(WorkflowChoice.DEFAULT, "team/x", "m", m).contains("$ref"));
        Files.writeString(meta, "{\"$schema\": \"https://json-schema.org/draft/2020-12/schema\"}");
        assertTrue(refusal(WorkflowChoice.DEFAULT, "team/x", "m", m).contains("unsupported meta-schema"));
        Files.writeString(meta, "{\"type\": 5}");
        assertTrue(refusal(WorkflowChoice.DEFAULT, "team/x", "m", m).contains("not a valid JSON Schema"));
        Files.writeString(meta, "{\"$schema\": \"http://json-schema.org/draft-07/schema#\", \"type\": \"object\","
                + " \"properties\": {\"when\": {\"type\": \"string\", \"format\": \"date\"}}}");
        // quilt3 checks no formats: "format" is an annotation only.
        assertEquals("alpha", stamp(WorkflowChoice.DEFAULT, "team/x", "m",
                manifest("{\"when\": \"not a date\"}", "a.csv", "1")).get("id").asText());
    }

    @Test
    void recheckSeesAConfigThatChangedSinceTheStamp() throws Exception {
        config(standard());
        Manifest m = manifest("{\"author\": \"a\"}", "a.csv", "1");
        PackageName name = PackageName.parse("team/x");
        JsonNode s = stamp(WorkflowChoice.DEFAULT, "team/x", "m", m);
        Manifest stamped = m.toBuilder().message("m").headerField("workflow", s).build();
        assertNull(Workflows.recheck(registry, Registries.sources(registry, null), name, stamped));
        Files.writeString(registry.root().resolve(".quilt/workflows/meta.json"),
                "{\"type\": \"object\", \"required\": [\"author\", \"date\"]}");
        String why = Workflows.recheck(registry, Registries.sources(registry, null), name, stamped);
        assertTrue(why != null && why.contains("metadata failed validation"), why);
        Files.delete(config);
        why = Workflows.recheck(registry, Registries.sources(registry, null), name, stamped);
        assertTrue(why != null && why.contains("no workflows config"), why);
        assertNull(Workflows.recheck(registry, Registries.sources(registry, null), name, m));
    }
}
