package io.quiltfs.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import io.quiltfs.store.json.Json;
import io.quiltfs.store.manifest.Manifest;
import io.quiltfs.store.registry.PackageName;
import io.quiltfs.store.registry.PackageRef;
import io.quiltfs.store.registry.Registry;
import io.quiltfs.store.registry.RegistryException;
import io.quiltfs.store.registry.Revision;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "browse", mixinStandardHelpOptions = true,
        description = {"List the packages of a registry, the revisions of one package (newest first),"
            + " or the files of one revision (NS/NAME@HASH or NS/NAME:TAG).",
            "REGISTRY is file:///abs/path, a local path, or s3://bucket."})
final class BrowseCommand extends BaseCommand {
    static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss'Z'").withZone(ZoneOffset.UTC);

    @Parameters(index = "0", paramLabel = "REGISTRY",
            description = "file:///abs/path, a local path, or s3://bucket.")
    String registry;

    @Parameters(index = "1", arity = "0..1", paramLabel = "NS/NAME",
            description = "A package: list its revisions instead of the packages. With @HASH (a full top hash"
                    + " or a unique prefix) or :TAG (latest among them), list that revision's files instead:"
                    + " size and logical key, and in --json also the checksum and the physical key.")
    String pkg;

    @Override
    public Integer call() throws Exception {
        Output out = out();
        try (Registry r = openRegistry(registry)) {
            if (pkg == null) {
                List<PackageName> names = r.listPackages();
                ArrayNode arr = Json.NODES.arrayNode();
                for (PackageName n : names) {
                    out.line(n.toString());
                    arr.add(n.toString());
                }
                out.json(Json.object().put("registry", r.uri()).set("packages", arr));
                out.flush();
                return ExitCodes.OK;
            }
            PackageRef ref = PackageRef.parse(pkg);
            if (ref.hash() != null || ref.tag() != null) {
                return files(out, r, ref);
            }
            // latest first: a push writes its timestamp pointer, then latest, so the list read
            // after it holds the revision latest names (unless the registry lacks it).
            // A bad pointer (latest, a timestamp, a tag) is left out and named, not fatal: the
            // rest of the list is what someone repairing the registry needs to see.
            List<RegistryException.BadPointer> bad = new ArrayList<>();
            String latest;
            boolean latestBad = false;
            try {
                latest = r.latest(ref.name());
            } catch (RegistryException.BadPointer e) {
                bad.add(e);
                latest = null;
                latestBad = true;
            }
            List<Revision> revs = r.revisions(ref.name(), bad::add);
            if (revs.isEmpty() && latest == null) {
                if (!bad.isEmpty()) {
                    badPointers(bad);
                    throw new CliException(ExitCodes.FAILURE, "no readable revision of " + ref.name() + " in "
                            + r.uri() + " (" + bad.size() + (bad.size() == 1 ? " bad pointer" : " bad pointers")
                            + " above)");
                }
                throw new CliException(ExitCodes.NOT_FOUND, "no package " + ref.name() + " in " + r.uri()
                        + " (list packages with `quiltfs browse " + registry + "`)");
            }
            Map<String, String> tags = r.tags(ref.name(), bad::add);
            String latestProblem = latestBad ? bad.get(0).getMessage() + ": installing " + ref.name()
                    + " without @HASH fails until it is repaired (`quiltfs push " + ref.name() + " --force` from a home"
                    + " that has it installed replaces it)" : latestProblem(r, ref.name(), latest, revs);
            if (latestProblem != null && !latestBad) {
                warn(latestProblem);
            }
            ArrayNode arr = Json.NODES.arrayNode();
            Map<String, io.quiltfs.store.workflow.Log.Message> messages = io.quiltfs.store.workflow.Log.messages(r, null,
                    revs.stream().map(Revision::topHash).toList());
            java.util.Set<String> seen = new java.util.HashSet<>();
            for (Revision rev : revs) {
                // As log: a top hash pushed more than once is latest at its newest line only.
                boolean isLatest = seen.add(rev.topHash()) && rev.topHash().equals(latest);
                String message = "";
                try {
                    message = messages.get(rev.topHash()).text();
                } catch (RegistryException.NotFound e) {
                    message = "(manifest missing)";
                    bad.add(r.missingManifest(ref.name(), rev));
                } catch (io.quiltfs.store.manifest.ManifestException e) {
                    message = "(unreadable: " + Cli.message(e) + ")";
                    bad.add(r.damagedManifest(ref.name(), rev, e));
                }
                StringBuilder labels = new StringBuilder();
                if (isLatest) {
                    labels.append(" [latest]");
                }
                ArrayNode revTags = Json.NODES.arrayNode();
                tags.forEach((t, h) -> {
                    if (h.equals(rev.topHash())) {
                        labels.append(" [").append(t).append(']');
                        revTags.add(t);
                    }
                });
                out.line(TIME.format(Instant.ofEpochSecond(rev.timestamp())) + "  " + rev.topHash() + "  "
                        + oneLine(message) + labels);
                arr.addObject().put("timestamp", rev.timestamp())
                        .put("time", TIME.format(Instant.ofEpochSecond(rev.timestamp())))
                        .put("top_hash", rev.topHash()).put("message", message)
                        .put("latest", isLatest).set("tags", revTags);
            }
            ArrayNode problems = badPointers(bad);
            var json = Json.object().put("registry", r.uri()).put("package", ref.name().toString())
                    .put("latest", latest).put("latest_problem", latestProblem);
            json.set("revisions", arr);
            json.set("problems", problems);
            out.json(json);
            out.flush();
            // What was asked for is the package, and its latest with it: a bad latest fails.
            return latestBad ? ExitCodes.FAILURE : ExitCodes.OK;
        }
    }

    /** Lists the files of one revision: folders from directory rows, then file rows, in key order. */
    private static int files(Output out, Registry r, PackageRef ref) throws java.io.IOException {
        String top = r.resolve(ref);
        Manifest m = r.readManifest(top);
        ArrayNode arr = Json.NODES.arrayNode();
        int width = Long.toString(Math.max(0, maxSize(m))).length();
        for (var dir : m.directoryRows()) {
            String key = dir.path("logical_key").asText();
            out.line(" ".repeat(width) + "  " + key);
            arr.addObject().put("logical_key", key).put("folder", true);
        }
        for (int i = 0; i < m.size(); i++) {
            var e = m.entry(i);
            out.line(String.format("%" + width + "d  %s", e.size(), e.logicalKey()));
            var o = arr.addObject().put("logical_key", e.logicalKey()).put("size", e.size());
            o.putObject("hash").put("type", e.hash().type().wireName()).put("value", e.hash().value());
            o.put("physical_key", e.physicalKey());
        }
        String message = m.message();
        out.line(m.size() + (m.size() == 1 ? " file, " : " files, ") + m.totalBytes() + " bytes in " + ref.name() + "@"
                + top + (message == null || message.isEmpty() ? "" : ": " + oneLine(message)));
        var json = Json.object().put("registry", r.uri()).put("package", ref.name().toString()).put("top_hash", top)
                .put("message", message);
        json.set("user_meta", m.userMeta());
        json.put("files_total", m.size()).put("bytes_total", m.totalBytes()).set("files", arr);
        out.json(json);
        out.flush();
        return ExitCodes.OK;
    }

    private static long maxSize(Manifest m) {
        long max = 0;
        for (int i = 0; i < m.size(); i++) {
            max = Math.max(max, m.sizeOf(i));
        }
        return max;
    }

    /**
     * What is wrong with {@code latest}, or null: a pointer to a manifest the registry lacks
     * breaks every install of the package's latest, and one without a timestamp pointer is
     * missing from the list above it.
     */
    private static String latestProblem(Registry r, PackageName name, String latest, List<Revision> revs) {
        if (latest == null) {
            return null;
        }
        boolean present;
        try {
            present = r.hasManifest(latest);
        } catch (java.io.IOException e) {
            return "cannot tell whether latest of " + name + " (" + latest + ") is in " + r.uri() + ": "
                    + Cli.message(e);
        }
        if (!present) {
            return "latest of " + name + " in " + r.uri() + " names " + latest + ", whose manifest is missing:"
                    + " installing " + name + " without @HASH fails (`quiltfs push --force` of a good revision"
                    + " repairs it)";
        }
        if (revs.stream().anyMatch(v -> v.topHash().equals(latest))) {
            return null;
        }
        return "latest of " + name + " in " + r.uri() + " names " + latest + ", which has no timestamp pointer"
                + " (it is not in the list); install " + name + "@" + latest + " to see it";
    }

    static String oneLine(String s) {
        return s.replace('\n', ' ').replace('\r', ' ');
    }
}
