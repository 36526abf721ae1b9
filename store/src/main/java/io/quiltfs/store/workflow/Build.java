package io.quiltfs.store.workflow;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiltfs.store.hash.Checksum;
import io.quiltfs.store.hash.FileHasher;
import io.quiltfs.store.hash.HashType;
import io.quiltfs.store.manifest.Entry;
import io.quiltfs.store.manifest.LogicalKey;
import io.quiltfs.store.manifest.Manifest;
import io.quiltfs.store.policy.WorkflowChoice;
import io.quiltfs.store.policy.Workflows;
import io.quiltfs.store.registry.ObjectSource;
import io.quiltfs.store.registry.PackageName;
import io.quiltfs.store.registry.PhysicalKey;
import io.quiltfs.store.registry.Registry;
import java.io.IOException;
import java.nio.file.FileVisitOption;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * {@code build}: makes a package revision from a folder. Hashes every regular file (in
 * parallel), copies the files into the registry's data area, writes the manifest and pointers.
 * Symbolic links and special files are refused: a package holds regular files.
 */
public final class Build {
    private Build() {
    }

    /** The files of a folder by logical key (walk order), refusing what a package cannot hold. */
    public static Map<String, Path> scan(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IOException(dir + " is not a folder");
        }
        Map<String, Path> out = new java.util.TreeMap<>(LogicalKey.WALK_ORDER);
        try (Stream<Path> s = Files.walk(dir, FileVisitOption.values())) {
            for (Path p : (Iterable<Path>) s::iterator) {
                if (p.equals(dir) || Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    continue;
                }
                String key = dir.relativize(p).toString().replace(java.io.File.separatorChar, '/');
                if (!Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    throw new IOException("'" + key + "' in " + dir + " is not a regular file (symbolic links and"
                            + " special files cannot be packaged)");
                }
                String problem = LogicalKey.problem(key, p);
                if (problem != null) {
                    throw new IOException(problem + ": '" + key + "' in " + dir);
                }
                out.put(key, p);
            }
        }
        return out;
    }

    public static Publisher.Result build(Registry registry, PackageName pkg, Path dir, String message,
                                         JsonNode userMeta, HashType type, Clock clock, Progress progress)
            throws IOException {
        return build(registry, pkg, dir, message, userMeta, type, WorkflowChoice.DEFAULT,
                io.quiltfs.store.registry.Registries.sources(registry, null), clock, progress);
    }

    /**
     * Builds under the registry's workflow config ({@code workflow}: which workflow the user asked
     * for): the revision is checked and its header stamped before anything is published.
     */
    public static Publisher.Result build(Registry registry, PackageName pkg, Path dir, String message,
                                         JsonNode userMeta, HashType type, WorkflowChoice workflow,
                                         Function<PhysicalKey, ObjectSource> sources, Clock clock, Progress progress)
            throws IOException {
        Map<String, Path> files = scan(dir);
        List<Path> paths = new ArrayList<>(files.values());
        long total = 0;
        List<Workflows.Row> rows = new ArrayList<>(paths.size());
        // Size and mtime before hashing: the rows get the size that was hashed, and a file that
        // changes meanwhile (still being written) is refused instead of published with a row its
        // data does not match.
        List<BasicFileAttributes> before = new ArrayList<>(paths.size());
        for (Map.Entry<String, Path> f : files.entrySet()) {
            BasicFileAttributes a = Files.readAttributes(f.getValue(), BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            before.add(a);
            rows.add(new Workflows.Row(f.getKey(), a.size(), null));
            total += a.size();
        }
        // As quilt3 does, the workflow checks what it can before hashing: message, name, metadata,
        // and the entries (they need only keys and sizes).
        JsonNode stamp = Workflows.check(registry, sources, workflow, pkg, message,
                userMeta == null ? io.quiltfs.store.json.Json.NODES.nullNode() : userMeta).entries(rows);
        progress.begin("hashing", paths.size(), total);
        List<Checksum> sums = FileHasher.hashAll(paths, type);
        progress.advance(paths.size(), total);
        progress.end();
        int n = 0;
        for (Map.Entry<String, Path> f : files.entrySet()) {
            requireUnchanged(f.getKey(), dir, f.getValue(), before.get(n++));
        }
        // A package made from a folder without metadata has "user_meta": null in its header, as
        // quilt3's folder push (`quilt3 push --dir`, Package.set_dir) writes it: the same folder
        // then gets the same top hash from either client.
        Manifest.Builder b = Manifest.builder().message(message)
                .userMeta(userMeta == null ? io.quiltfs.store.json.Json.NODES.nullNode() : userMeta);
        Map<String, Path> local = new HashMap<>();
        int i = 0;
        for (Map.Entry<String, Path> f : files.entrySet()) {
            Path p = f.getValue();
            b.add(new Entry(f.getKey(), io.quiltfs.store.registry.PhysicalKey.ofFile(p).toString(), before.get(i).size(),
                    sums.get(i++)));
            local.put(f.getKey(), p);
        }
        Manifest m = b.build();
        if (stamp != null) {
            m = m.toBuilder().headerField("workflow", stamp).build();
        }
        String latest = registry.latest(pkg);
        Map<String, BasicFileAttributes> hashed = new HashMap<>();
        n = 0;
        for (String key : files.keySet()) {
            hashed.put(key, before.get(n++));
        }
        return new Publisher(registry, clock).publish(pkg, m, e -> {
            Path p = local.get(e.logicalKey());
            if (p != null) {
                // Again right before it is stored (a local registry copies the file as it is then).
                try {
                    requireUnchanged(e.logicalKey(), dir, p, hashed.get(e.logicalKey()));
                } catch (IOException ex) {
                    throw new java.io.UncheckedIOException(ex);
                }
            }
            return p;
        }, latest, true, progress);
    }

    /** Refuses a file whose size or mtime is no longer what it was when it was hashed. */
    private static void requireUnchanged(String key, Path dir, Path file, BasicFileAttributes hashed) throws IOException {
        BasicFileAttributes now = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (now.size() != hashed.size() || !now.lastModifiedTime().equals(hashed.lastModifiedTime())) {
            throw new IOException("'" + key + "' in " + dir + " changed while it was being packaged (something is still"
                    + " writing to it?); nothing was published. Build again once it is finished");
        }
    }
}
