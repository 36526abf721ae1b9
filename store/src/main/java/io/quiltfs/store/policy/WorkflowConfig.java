package io.quiltfs.store.policy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.PathType;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import io.quiltfs.store.json.Json;
import io.quiltfs.store.registry.ObjectSource;
import io.quiltfs.store.registry.PhysicalKey;
import io.quiltfs.store.registry.Registry;
import io.quiltfs.store.registry.RegistryException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * A registry's workflow config as loaded: the validated YAML tree, the key it was read from (with
 * the version the store served) and the schemas loaded so far. Schemas load on first use and are
 * shared by id and by URL, as quilt3 does, which decides what the header's {@code schemas} lists.
 */
public final class WorkflowConfig {
    /** The newest config format version understood (quilt3 8.0.0 accepts up to 1.1.0). */
    private static final int[] SUPPORTED = {1, 1, 0};
    private static final String DRAFT_7 = "http://json-schema.org/draft-07/schema#";

    private static final JsonSchemaFactory FACTORY = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V7);
    /** quilt3 validates without a format checker: {@code format} is an annotation, never a failure. */
    private static final SchemaValidatorsConfig SETTINGS = SchemaValidatorsConfig.builder()
            .formatAssertionsEnabled(false).pathType(PathType.JSON_POINTER)
            // jsonschema's pattern and patternProperties are Python re.search
            .regularExpressionFactory(regex -> {
                Pattern p = PythonRegex.compile(regex);
                return value -> p.matcher(value).find();
            }).build();
    private static final JsonSchema CONFIG_SCHEMA = loadConfigSchema();
    private static final JsonSchema DRAFT_7_META = FACTORY.getSchema(
            SchemaLocation.of("http://json-schema.org/draft-07/schema"), SETTINGS);

    private final String registry;
    private final JsonNode config;
    private final PhysicalKey key;
    private final Function<PhysicalKey, ObjectSource> sources;
    private final Map<String, Loaded> byId = new LinkedHashMap<>();
    private final Map<String, Loaded> byUrl = new LinkedHashMap<>();

    /** A schema ready to validate, and the key it was read from (as the header records it). */
    record Loaded(JsonSchema schema, PhysicalKey key) {
    }

    private WorkflowConfig(String registry, JsonNode config, PhysicalKey key,
                           Function<PhysicalKey, ObjectSource> sources) {
        this.registry = registry;
        this.config = config;
        this.key = key;
        this.sources = sources;
    }

    /**
     * Reads and checks the registry's config; null when it has none. {@code sources} reads schemas
     * the registry itself cannot (an S3 schema of a local registry).
     */
    public static WorkflowConfig load(Registry registry, Function<PhysicalKey, ObjectSource> sources)
            throws IOException {
        PhysicalKey at = registry.workflowConfigKey();
        ObjectSource.Read read;
        try {
            read = registry.readAll(at);
        } catch (RegistryException.NotFound | java.nio.file.NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            throw WorkflowException.unreachable("could not read the workflows config " + at + ": "
                    + Json.firstLine(e.getMessage()));
        }
        String where = "the workflows config " + read.key();
        JsonNode tree;
        try {
            tree = yaml(new String(read.bytes(), StandardCharsets.UTF_8));
        } catch (org.yaml.snakeyaml.error.YAMLException e) {
            throw new WorkflowException(where + " is not valid YAML" + yamlProblem(e), true);
        }
        String invalid = firstError(CONFIG_SCHEMA.validate(tree));
        if (invalid != null) {
            throw new WorkflowException(where + " failed validation: " + invalid, true);
        }
        JsonNode v = tree.get("version");
        String version = v.isTextual() ? v.asText() : v.get("base").asText();
        if (!supported(version)) {
            throw new WorkflowException(where + ": version '" + version + "' is not supported (quilt3 8.0.0"
                    + " and quiltfs read versions up to 1.1.0)", true);
        }
        return new WorkflowConfig(registry.uri(), tree, read.key(), sources);
    }

    /**
     * A YAML document read as PyYAML's {@code safe_load} reads it: YAML 1.1 scalars ({@code yes} is
     * true), merge keys ({@code <<: *common}), the last of duplicate keys wins; then as a JSON tree.
     */
    static JsonNode yaml(String text) {
        org.yaml.snakeyaml.LoaderOptions options = new org.yaml.snakeyaml.LoaderOptions();
        options.setAllowDuplicateKeys(true);
        options.setMaxAliasesForCollections(1000);
        Object doc = new org.yaml.snakeyaml.Yaml(new org.yaml.snakeyaml.constructor.SafeConstructor(options)).load(text);
        return toTree(doc);
    }

    /**
     * Where and what a YAML error is, as one line: ": line 3, column 8: mapping values are not
     * allowed here". SnakeYAML's own message puts the place on later lines, with a snippet.
     */
    static String yamlProblem(org.yaml.snakeyaml.error.YAMLException e) {
        if (e instanceof org.yaml.snakeyaml.error.MarkedYAMLException m && m.getProblemMark() != null) {
            org.yaml.snakeyaml.error.Mark at = m.getProblemMark();
            String problem = m.getProblem() == null ? "" : m.getProblem();
            String context = m.getContext() == null ? "" : " (" + m.getContext() + ")";
            // (marks count from 0; an editor counts from 1)
            return ": line " + (at.getLine() + 1) + ", column " + (at.getColumn() + 1) + ": " + problem + context;
        }
        return ": " + Json.firstLine(String.valueOf(e.getMessage()));
    }

    private static JsonNode toTree(Object o) {
        if (o == null) {
            return Json.NODES.nullNode();
        }
        if (o instanceof Map<?, ?> map) {
            ObjectNode n = Json.object();
            map.forEach((k, v) -> n.set(String.valueOf(k), toTree(v)));
            return n;
        }
        if (o instanceof Collection<?> list) {
            com.fasterxml.jackson.databind.node.ArrayNode a = Json.NODES.arrayNode();
            list.forEach(v -> a.add(toTree(v)));
            return a;
        }
        if (o instanceof String s) {
            return Json.NODES.textNode(s);
        }
        if (o instanceof Boolean b) {
            return Json.NODES.booleanNode(b);
        }
        if (o instanceof Integer i) {
            return Json.NODES.numberNode(i);
        }
        if (o instanceof Long l) {
            return Json.NODES.numberNode(l);
        }
        if (o instanceof java.math.BigInteger b) {
            return Json.NODES.numberNode(b);
        }
        if (o instanceof Double d) {
            return Json.NODES.numberNode(d);
        }
        if (o instanceof byte[] b) {
            return Json.NODES.binaryNode(b);
        }
        // A timestamp (PyYAML gives a date, which no string-typed field of the config accepts).
        return Json.NODES.pojoNode(o);
    }

    private static boolean supported(String version) {
        String[] parts = version.split("\\.");
        for (int i = 0; i < 3; i++) {
            // digits only (the config schema's pattern), of any length
            int c = (i < parts.length ? new java.math.BigInteger(parts[i]) : java.math.BigInteger.ZERO)
                    .compareTo(java.math.BigInteger.valueOf(SUPPORTED[i]));
            if (c != 0) {
                return c < 0;
            }
        }
        return true;
    }

    /** Where the config was read from, as the header names it ({@code ?versionId=} when versioned). */
    public PhysicalKey key() {
        return key;
    }

    String registry() {
        return registry;
    }

    JsonNode tree() {
        return config;
    }

    /** The workflows by id (never empty). */
    JsonNode workflows() {
        return config.get("workflows");
    }

    /** The compiled {@code handle_pattern} of a workflow, or null. */
    Pattern handlePattern(String workflow, JsonNode data) throws WorkflowException {
        JsonNode p = data.get("handle_pattern");
        if (p == null || p.asText().isEmpty()) {
            return null;
        }
        try {
            return PythonRegex.compile(p.asText());
        } catch (PythonRegex.Invalid e) {
            throw new WorkflowException(where() + ": the handle_pattern of workflow '" + workflow
                    + "' is not a valid Python regular expression: " + e.getMessage(), true);
        }
    }

    /** The schema of id {@code schemaId}, loaded once per config (and once per URL). */
    Loaded schema(String schemaId) throws IOException {
        Loaded l = byId.get(schemaId);
        if (l != null) {
            return l;
        }
        JsonNode schemas = config.get("schemas");
        if (schemas == null || !schemas.has(schemaId)) {
            throw new WorkflowException(where() + ": there is no '" + schemaId + "' in schemas", true);
        }
        String url = schemas.get(schemaId).get("url").asText();
        PhysicalKey at = schemaKey(url);
        l = byUrl.get(at.toString());
        if (l == null) {
            l = read(schemaId, at);
            byUrl.put(at.toString(), l);
        }
        byId.put(schemaId, l);
        return l;
    }

    /** The ids of the schemas loaded so far, each with the key it was read from, in load order. */
    Map<String, PhysicalKey> loadedSchemas() {
        Map<String, PhysicalKey> out = new LinkedHashMap<>();
        byId.forEach((id, l) -> out.put(id, l.key()));
        return out;
    }

    /** A schema URL as quilt3 takes it: absolute {@code s3://} or {@code file://}, nothing else. */
    private PhysicalKey schemaKey(String url) throws WorkflowException {
        PhysicalKey at;
        try {
            if (url.startsWith("s3://")) {
                String rest = url.substring(5);
                int q = rest.indexOf('?');
                String query = q < 0 ? "" : rest.substring(q + 1);
                if (!query.isEmpty() && !query.matches("versionId=[^&]*")) {
                    throw new IllegalArgumentException("unexpected S3 query string");
                }
                at = PhysicalKey.parse(url);
            } else if (url.startsWith("file://")) {
                if (url.contains("?")) {
                    throw new IllegalArgumentException("unexpected query");
                }
                at = PhysicalKey.parse(url);
                Path p = at.filePath();
                try {
                    p = p.toRealPath();
                } catch (IOException e) {
                    // quilt3 resolves what it can (os.path.realpath); a missing file fails on read
                }
                at = PhysicalKey.ofFile(p);
            } else {
                throw new IllegalArgumentException("expected an absolute s3://bucket/key or file:///path URL;"
                        + " quilt3 reads no relative ones");
            }
        } catch (IllegalArgumentException e) {
            throw new WorkflowException(where() + ": could not parse the schema URL '" + url + "' ("
                    + Json.firstLine(e.getMessage()) + ")", true);
        }
        if (at.isFile() && !key.isFile()) {
            throw new WorkflowException(where() + ": local schema '" + at + "' cannot be used on the remote registry "
                    + registry, true);
        }
        return at;
    }

    private Loaded read(String schemaId, PhysicalKey at) throws IOException {
        ObjectSource.Read r;
        try {
            ObjectSource src = sources.apply(at);
            r = src.readAll(at);
        } catch (IOException | java.io.UncheckedIOException e) {
            throw new WorkflowException(where() + ": could not load schema '" + schemaId + "' at " + at + " ("
                    + Json.firstLine(e.getMessage()) + ")", true);
        }
        JsonNode schema;
        try {
            schema = Json.parse(new String(r.bytes(), StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            throw new WorkflowException(where() + ": could not parse schema '" + schemaId + "' at " + at
                    + " as JSON: " + Json.firstLine(e.getMessage()), true);
        }
        if (hasRef(schema)) {
            throw new WorkflowException(where() + ": schema '" + schemaId + "' at " + at + " uses $ref, which quilt3"
                    + " does not support in workflow schemas", true);
        }
        if (schema.isObject() && schema.has("$schema")) {
            JsonNode meta = schema.get("$schema");
            if (!meta.isTextual()) {
                throw new WorkflowException(where() + ": schema '" + schemaId + "': $schema must be a string", true);
            }
            if (!meta.asText().equals(DRAFT_7)) {
                throw new WorkflowException(where() + ": schema '" + schemaId + "' has an unsupported meta-schema: "
                        + meta.asText() + " (supported: " + DRAFT_7 + ")", true);
            }
        }
        String invalid = firstError(DRAFT_7_META.validate(schema));
        if (invalid == null) {
            invalid = badRegex(schema, "");
        }
        if (invalid != null) {
            throw new WorkflowException(where() + ": schema '" + schemaId + "' is not a valid JSON Schema: " + invalid,
                    true);
        }
        JsonSchema compiled;
        try {
            compiled = FACTORY.getSchema(schema, SETTINGS);
        } catch (RuntimeException e) {
            throw new WorkflowException(where() + ": schema '" + schemaId + "' at " + at + " cannot be used: "
                    + Json.firstLine(String.valueOf(e.getMessage())), true);
        }
        return new Loaded(compiled, r.key());
    }

    /** Keywords whose value is a schema, an array of schemas, or an object of schemas (draft 7). */
    private static final Set<String> ONE = Set.of("additionalItems", "additionalProperties", "contains", "propertyNames",
            "if", "then", "else", "not", "items");
    private static final Set<String> MANY = Set.of("allOf", "anyOf", "oneOf", "items");
    private static final Set<String> BY_NAME = Set.of("properties", "patternProperties", "definitions", "dependencies");

    /**
     * The first {@code pattern} or {@code patternProperties} key of a (meta-valid) schema that is
     * not a valid Python regular expression, as one line; null when there is none. quilt3's
     * {@code check_schema} checks the draft-7 meta-schema's {@code format: regex} with Python's re.
     */
    private static String badRegex(JsonNode schema, String at) {
        if (!schema.isObject()) {
            return null;
        }
        java.util.List<String[]> regexes = new java.util.ArrayList<>();
        if (schema.path("pattern").isTextual()) {
            regexes.add(new String[]{schema.get("pattern").asText(), at + "/pattern"});
        }
        schema.path("patternProperties").fieldNames()
                .forEachRemaining(k -> regexes.add(new String[]{k, at + "/patternProperties"}));
        for (String[] r : regexes) {
            try {
                PythonRegex.compile(r[0]);
            } catch (PythonRegex.Invalid e) {
                return r[1] + ": '" + r[0] + "' is not a valid Python regular expression (" + e.getMessage() + ")";
            }
        }
        for (var f : (Iterable<Map.Entry<String, JsonNode>>) schema::fields) {
            String k = f.getKey();
            JsonNode v = f.getValue();
            String found = null;
            if (ONE.contains(k) && v.isObject()) {
                found = badRegex(v, at + "/" + k);
            }
            if (found == null && MANY.contains(k) && v.isArray()) {
                for (int n = 0; found == null && n < v.size(); n++) {
                    found = badRegex(v.get(n), at + "/" + k + "/" + n);
                }
            }
            if (found == null && BY_NAME.contains(k) && v.isObject()) {
                for (var e : (Iterable<Map.Entry<String, JsonNode>>) v::fields) {
                    found = badRegex(e.getValue(), at + "/" + k + "/" + e.getKey());
                    if (found != null) {
                        break;
                    }
                }
            }
            if (found != null) {
                return found;
            }
        }
        return null;
    }

    /** quilt3 refuses {@code $ref} anywhere in a workflow schema. */
    private static boolean hasRef(JsonNode n) {
        if (n.isObject() && n.has("$ref")) {
            return true;
        }
        for (JsonNode c : n) {
            if (hasRef(c)) {
                return true;
            }
        }
        return false;
    }

    private String where() {
        return "the workflows config " + key;
    }

    /** The first validation error as one line, with how many more there are; null when valid. */
    static String firstError(Set<ValidationMessage> errors) {
        return firstError(errors, Function.identity());
    }

    /**
     * {@link #firstError}, naming where with {@code where} (given the error's JSON Pointer into the
     * instance, "" at the top level).
     */
    static String firstError(Set<ValidationMessage> errors, Function<String, String> where) {
        if (errors.isEmpty()) {
            return null;
        }
        Collection<ValidationMessage> all = errors;
        ValidationMessage first = all.iterator().next();
        String at = where.apply(first.getInstanceLocation().toString());
        String error = first.getError() != null ? first.getError() : first.getMessage();
        return (at.isEmpty() ? "" : at + ": ") + Json.firstLine(error)
                + (all.size() > 1 ? " (and " + (all.size() - 1) + " more)" : "");
    }

    private static JsonSchema loadConfigSchema() {
        try (InputStream in = WorkflowConfig.class.getResourceAsStream("config-1.schema.json")) {
            ObjectNode schema = (ObjectNode) Json.MAPPER.readTree(in);
            return FACTORY.getSchema(schema, SETTINGS);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
