package io.quiltfs.store.policy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiltfs.store.json.Json;
import io.quiltfs.store.manifest.Entry;
import io.quiltfs.store.manifest.Manifest;
import io.quiltfs.store.registry.ObjectSource;
import io.quiltfs.store.registry.PackageName;
import io.quiltfs.store.registry.PhysicalKey;
import io.quiltfs.store.registry.Registry;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Checks a revision against its registry's workflow config, as quilt3's {@code build} and
 * {@code push} do, and gives the {@code workflow} value its header must carry.
 */
public final class Workflows {
    private Workflows() {
    }

    /**
     * The header's {@code workflow} value for a revision named {@code name} with {@code message},
     * whose header and rows are {@code m}'s (its own {@code workflow} is ignored); null when the
     * header must have none (the registry has no config and none was asked for). Throws
     * {@link WorkflowException} when the config refuses it or cannot be used.
     */
    public static JsonNode stamp(Registry registry, Function<PhysicalKey, ObjectSource> sources, WorkflowChoice choice,
                                 PackageName name, String message, Manifest m) throws IOException {
        return check(registry, sources, choice, name, message, m.header().get("user_meta")).entries(m);
    }

    /**
     * The first step of {@link #stamp}, what quilt3 checks before it hashes anything: the config,
     * the workflow, the message, the name and the package metadata ({@code userMeta}: the header's
     * {@code user_meta}, Java null when the header has none). The entries are checked by the
     * {@link Check} it returns.
     */
    public static Check check(Registry registry, Function<PhysicalKey, ObjectSource> sources, WorkflowChoice choice,
                              PackageName name, String message, JsonNode userMeta) throws IOException {
        WorkflowConfig config = WorkflowConfig.load(registry, sources);
        if (config == null) {
            if (choice.equals(WorkflowChoice.DEFAULT)) {
                return Check.keeping(null);
            }
            throw new WorkflowException(registry.uri() + " has no workflows config (.quilt/workflows/config.yml),"
                    + " but " + (choice.none() ? "--workflow '' (explicitly none) was given" : choice.describe()
                    + " was asked for") + " (quilt3 refuses this too); publish there without --workflow", false);
        }
        return check(config, choice, name, message, userMeta);
    }

    /** A revision checked but for its entries, and the {@code workflow} value its header gets. */
    public static final class Check {
        private final String prefix;
        private final WorkflowConfig config;
        private final WorkflowConfig.Loaded entriesSchema;
        private final JsonNode stamp;

        private Check(String prefix, WorkflowConfig config, WorkflowConfig.Loaded entriesSchema, JsonNode stamp) {
            this.prefix = prefix;
            this.config = config;
            this.entriesSchema = entriesSchema;
            this.stamp = stamp;
        }

        /** No check at all: the header gets {@code stamp} (null: none), as it is. */
        public static Check keeping(JsonNode stamp) {
            return new Check(null, null, null, stamp);
        }

        /** Whether {@link #entries} checks anything (the workflow has an entries schema). */
        public boolean checksEntries() {
            return entriesSchema != null;
        }

        /** The header's {@code workflow} value (null: none), the entries not checked. */
        public JsonNode stamp() {
            return stamp == null ? null : stamp.deepCopy();
        }

        /** Checks {@code m}'s rows against the entries schema; returns {@link #stamp()}. */
        public JsonNode entries(Manifest m) throws WorkflowException {
            return entriesSchema != null ? entries(rows(m)) : stamp();
        }

        /**
         * Checks rows (in walk order) against the entries schema, which needs no hashes: a build
         * checks them before it hashes. Returns {@link #stamp()}.
         */
        public JsonNode entries(List<Row> rows) throws WorkflowException {
            if (entriesSchema != null) {
                String error = WorkflowConfig.firstError(validate(config, entriesSchema, asJson(rows)),
                        at -> entryAt(rows, at));
                if (error != null) {
                    throw new WorkflowException(prefix + "package entries failed validation: " + error, false);
                }
            }
            return stamp();
        }
    }

    /** What the entries schema sees of a row: its logical key, size and user metadata (null: none). */
    public record Row(String logicalKey, long size, JsonNode userMeta) {
        /** The row of {@code key} whose row {@code meta} (null: none) is {@code meta}. */
        public static Row of(String key, long size, JsonNode meta) {
            return new Row(key, size, meta == null ? null : meta.get("user_meta"));
        }
    }

    /** {@code m}'s rows as the entries schema sees them, in {@code m}'s (walk) order. */
    public static List<Row> rows(Manifest m) {
        List<Row> rows = new ArrayList<>(m.size());
        for (Entry e : m.entries()) {
            rows.add(Row.of(e.logicalKey(), e.size(), e.meta()));
        }
        return rows;
    }

        /** {@link #check} against a config already loaded. */
    static Check check(WorkflowConfig config, WorkflowChoice choice, PackageName name, String message,
                       JsonNode userMeta) throws IOException {
        JsonNode tree = config.tree();
        String id = choice.id();
        if (!choice.none() && id == null) {
            JsonNode d = tree.get("default_workflow");
            id = d == null || d.isNull() ? null : d.asText();
        }
        String prefix = config.registry() + ": " + (id == null ? "no workflow" : "workflow '" + id + "'") + " for "
                + name + ": ";
        JsonNode data;
        if (id == null) {
            JsonNode required = tree.get("is_workflow_required");
            if (required == null || required.asBoolean(true)) {
                throw new WorkflowException(config.registry() + " requires a workflow (is_workflow_required is not false"
                        + " in its workflows config " + config.key() + "), but "
                        + (choice.none() ? "none was asked for (--workflow '')" : "none was given and it has no default_workflow")
                        + "; name one with --workflow ID (one of: " + ids(tree) + ")", false);
            }
            data = Json.object();
        } else if (!config.workflows().has(id)) {
            throw new WorkflowException(config.registry() + ": there is no workflow '" + id + "' in its workflows config "
                    + config.key() + " (one of: " + ids(tree) + ")", false);
        } else {
            data = config.workflows().get(id);
        }
        Pattern handle = config.handlePattern(id, data);
        // quilt3 tests the ids for truth: absent, null and '' all mean none
        WorkflowConfig.Loaded metaSchema = !data.path("metadata_schema").asText("").isEmpty()
                ? config.schema(data.get("metadata_schema").asText()) : null;
        WorkflowConfig.Loaded entriesSchema = !data.path("entries_schema").asText("").isEmpty()
                ? config.schema(data.get("entries_schema").asText()) : null;
        boolean messageRequired = data.path("is_message_required").asBoolean(false);

        if (messageRequired && (message == null || message.isEmpty())) {
            throw new WorkflowException(prefix + "a commit message is required by the workflow, but none was given"
                    + " (give one with -m)", false);
        }
        if (handle != null && !handle.matcher(name.toString()).find()) {
            throw new WorkflowException(prefix + "the package name does not match the workflow's handle_pattern '"
                    + data.get("handle_pattern").asText() + "'", false);
        }
        if (metaSchema != null) {
            JsonNode meta = userMeta != null ? userMeta : Json.object();
            String error = WorkflowConfig.firstError(validate(config, metaSchema, meta),
                    at -> at.isEmpty() ? "" : "at " + at);
            if (error != null) {
                boolean none = userMeta == null || userMeta.isNull();
                throw new WorkflowException(prefix + "metadata failed validation: " + error
                        + (none ? " (the package has no metadata: give it with --meta JSON)" : ""), false);
            }
        }
        ObjectNode stamp = Json.object();
        if (id == null) {
            stamp.putNull("id");
        } else {
            stamp.put("id", id);
        }
        stamp.put("config", config.key().toString());
        Map<String, PhysicalKey> schemas = config.loadedSchemas();
        if (!schemas.isEmpty()) {
            ObjectNode s = stamp.putObject("schemas");
            schemas.forEach((k, v) -> s.put(k, v.toString()));
        }
        return new Check(prefix, config, entriesSchema, stamp);
    }

    /**
     * Checks, before a push, that the revision {@code m} still passes its registry's config and
     * carries the header quilt3 would give it now (the config may have changed since the commit).
     * Returns null when it does, else why not (one line).
     */
    public static String recheck(Registry registry, Function<PhysicalKey, ObjectSource> sources, PackageName name,
                                 Manifest m) throws IOException {
        WorkflowChoice choice = WorkflowChoice.of(m);
        JsonNode now;
        try {
            now = stamp(registry, sources, choice, name, m.message(), m);
        } catch (WorkflowException e) {
            if (e.isConfigProblem()) {
                throw e;
            }
            return "it no longer passes the registry's workflow check: " + e.getMessage();
        }
        JsonNode had = m.header().get("workflow");
        if (had != null && had.isNull()) {
            had = null;
        }
        if (now == null ? had == null : now.equals(had)) {
            return null;
        }
        return "its header records workflow " + (had == null ? "none" : Json.write(had)) + ", but "
                + registry.uri() + "'s workflows config now gives " + (now == null ? "none" : Json.write(now));
    }

    /**
     * Validates, turning what the schema library throws (a schema it cannot use, which the checks
     * at load should have caught) into the config problem it is.
     */
    private static java.util.Set<com.networknt.schema.ValidationMessage> validate(WorkflowConfig config,
            WorkflowConfig.Loaded schema, JsonNode instance) throws WorkflowException {
        try {
            return schema.schema().validate(instance);
        } catch (RuntimeException e) {
            throw new WorkflowException("the workflows config " + config.key() + ": the schema at " + schema.key()
                    + " cannot be used: " + Json.firstLine(String.valueOf(e.getMessage())), true);
        }
    }

    /** The entries as quilt3 validates them: logical_key, size and the row's user metadata, in walk order. */
    private static ArrayNode asJson(List<Row> rows) {
        ArrayNode a = Json.NODES.arrayNode(rows.size());
        for (Row r : rows) {
            ObjectNode o = a.addObject();
            o.put("logical_key", r.logicalKey());
            o.put("size", r.size());
            o.set("meta", r.userMeta() == null ? Json.object() : r.userMeta());
        }
        return a;
    }

    /** Names a JSON Pointer into the entries array by the row's logical key: "'a.csv' /size". */
    private static String entryAt(List<Row> rows, String at) {
        java.util.regex.Matcher x = Pattern.compile("^/(\\d+)(.*)$").matcher(at);
        if (x.matches()) {
            int i = Integer.parseInt(x.group(1));
            if (i < rows.size()) {
                return "'" + rows.get(i).logicalKey() + "'" + (x.group(2).isEmpty() ? "" : " at " + x.group(2));
            }
        }
        return at.isEmpty() ? "" : "at " + at;
    }

    private static String ids(JsonNode tree) {
        StringBuilder sb = new StringBuilder();
        tree.get("workflows").fieldNames().forEachRemaining(n -> sb.append(sb.length() == 0 ? "" : ", ").append(n));
        return sb.toString();
    }
}
