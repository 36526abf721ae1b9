package io.quiltfs.store.registry;

import io.quiltfs.store.hash.Checksum;
import io.quiltfs.store.manifest.Manifest;
import io.quiltfs.store.manifest.ManifestReader;
import io.quiltfs.store.manifest.ManifestWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A Quilt registry: manifests under {@code .quilt/packages/}, pointers under
 * {@code .quilt/named_packages/NS/NAME/}, data objects under {@code NS/NAME/}, and quiltfs's tags
 * under {@code .quilt/quiltfs/tags/NS/NAME/} (where other Quilt clients do not look). Every hot
 * path reads by key; only browsing, revision lists, tag lists and hash-prefix lookup list.
 * Implementations are thread-safe.
 */
public interface Registry extends ObjectSource, AutoCloseable {
    /** The registry's URI: {@code file:///abs/path} or {@code s3://bucket}. */
    String uri();

    /**
     * Where quilt3's workflow config of this registry is ({@code .quilt/workflows/config.yml}), named
     * as quilt3 names it in a manifest header: {@code s3://bucket/KEY}, or {@code file://} and the
     * registry folder's real path (quilt3 resolves symbolic links).
     */
    default PhysicalKey workflowConfigKey() {
        String u = uri();
        String rel = ".quilt/workflows/config.yml";
        if (u.startsWith("s3://")) {
            return PhysicalKey.ofS3(u.substring(5), rel, null);
        }
        java.nio.file.Path root = PhysicalKey.parse(u).filePath();
        try {
            root = root.toRealPath();
        } catch (IOException e) {
            // a registry folder not made yet: its path as given
        }
        return PhysicalKey.ofFile(root.resolve(rel));
    }

    /** Every package with at least one pointer, sorted. */
    List<PackageName> listPackages() throws IOException;

    /**
     * The timestamp pointers of a package, newest first. A pointer that is none (damaged, not a
     * file, unreadable, or a name neither {@code latest} nor a timestamp) is left out and handed to
     * {@code bad}, once: one bad pointer must not hide the others. ({@code latest} itself is read by
     * {@link #latest}.)
     */
    List<Revision> revisions(PackageName pkg, java.util.function.Consumer<RegistryException.BadPointer> bad)
            throws IOException;

    /** {@link #revisions(PackageName, java.util.function.Consumer)}, leaving bad pointers out silently. */
    default List<Revision> revisions(PackageName pkg) throws IOException {
        return revisions(pkg, b -> { });
    }

    /** A timestamp pointer that names a manifest this registry lacks, as a listing reports it. */
    default RegistryException.BadPointer missingManifest(PackageName pkg, Revision rev) {
        return new RegistryException.BadPointer(uri(), Pointers.key(pkg, Long.toString(rev.timestamp())),
                "names " + rev.topHash() + ", whose manifest is missing");
    }

    /** A timestamp pointer that names a manifest this registry holds damaged (no header), as a listing reports it. */
    default RegistryException.BadPointer damagedManifest(PackageName pkg, Revision rev,
                                                         io.quiltfs.store.manifest.ManifestException why) {
        return new RegistryException.BadPointer(uri(), Pointers.key(pkg, Long.toString(rev.timestamp())),
                "names " + rev.topHash() + ", whose manifest is damaged: " + why.getMessage());
    }

    /** The {@code latest} pointer, or null when the package has none. */
    String latest(PackageName pkg) throws IOException;

    /** Reads a named pointer ({@code latest} or a timestamp), or null. */
    String readPointer(PackageName pkg, String pointer) throws IOException;

    /** The top hashes of the manifests whose names start with {@code prefix} (a listing). */
    List<String> manifestsStartingWith(String prefix) throws IOException;

    /** The one manifest whose top hash starts with {@code prefix}; errors name every candidate. */
    default String resolvePrefix(String prefix) throws IOException {
        if (!prefix.matches("[0-9a-f]{6,64}")) {
            throw new IllegalArgumentException("invalid hash prefix '" + prefix + "': expected 6 to 64 hex digits");
        }
        if (prefix.length() == 64) {
            return prefix;
        }
        List<String> found = new java.util.ArrayList<>(manifestsStartingWith(prefix));
        if (found.isEmpty()) {
            throw new RegistryException.NotFound("no revision matches hash prefix " + prefix + " in " + uri());
        }
        if (found.size() > 1) {
            found.sort(java.util.Comparator.naturalOrder());
            throw new RegistryException.Ambiguous("hash prefix " + prefix + " is ambiguous in " + uri() + ": "
                    + String.join(", ", found) + " (give more digits)");
        }
        return found.get(0);
    }

    /** The manifest's bytes; {@link RegistryException.NotFound} when absent. */
    byte[] readManifestBytes(String topHash) throws IOException;

    boolean hasManifest(String topHash) throws IOException;

    /**
     * The header of the manifest {@code topHash} (its message, its user_meta), read without its
     * rows: what a list of revisions shows of each, at the cost of one small read however many
     * rows it has (on S3 a ranged GET of up to 64 KB). Not verified against {@code topHash} (that takes every row; what reads the revision
     * verifies it). {@link RegistryException.NotFound} when absent; a
     * {@link io.quiltfs.store.manifest.ManifestException} naming the line when it has no header.
     */
    default com.fasterxml.jackson.databind.node.ObjectNode readManifestHeader(String topHash) throws IOException {
        return readManifest(topHash).header();
    }

    /**
     * When the manifest {@code topHash} was written to this registry, in seconds since the epoch
     * (its object's Last-Modified, its file's mtime), or -1 when the registry does not hold it.
     * One request by key: no listing.
     */
    long manifestTime(String topHash) throws IOException;

    /** Writes {@code .quilt/packages/TOPHASH} (a no-op when it is already there). */
    void writeManifestBytes(String topHash, byte[] bytes) throws IOException;

    /** Writes a pointer file: exactly the 64 hex digits, no newline. */
    void writePointer(PackageName pkg, String pointer, String topHash) throws IOException;

    /**
     * Writes a pointer file only if there is none of that name, in one step against other
     * writers (two pushes in the same second must not replace each other's timestamp pointer);
     * returns false when there was one, whatever it holds.
     */
    boolean createPointer(PackageName pkg, String pointer, String topHash) throws IOException;

    /** Removes a pointer file (a push withdrawing the timestamp pointer it wrote); absent: nothing. */
    void deletePointer(PackageName pkg, String pointer) throws IOException;

    /**
     * Moves {@code latest} to {@code topHash} only if it is still {@code expected} (null: only if
     * there is no {@code latest}). Returns the value found when it was not, else null.
     */
    String compareAndSetLatest(PackageName pkg, String expected, String topHash) throws IOException;

    /**
     * Tag name to top hash, sorted by name. A tag pointer that is none (damaged, not a file,
     * unreadable, or not named as a tag may be) is left out and handed to {@code bad}, once.
     */
    Map<String, String> tags(PackageName pkg, java.util.function.Consumer<RegistryException.BadPointer> bad)
            throws IOException;

    /** {@link #tags(PackageName, java.util.function.Consumer)}, leaving bad tag pointers out silently. */
    default Map<String, String> tags(PackageName pkg) throws IOException {
        return tags(pkg, b -> { });
    }

    /** The tag's top hash, or null. */
    String tag(PackageName pkg, String tag) throws IOException;

    void setTag(PackageName pkg, String tag, String topHash) throws IOException;

    /**
     * Points {@code tag} at {@code topHash} only if it still names {@code expected} (null: no
     * such tag), in one step against other writers; returns null when it did, else what the tag
     * names now ("" for none).
     */
    String compareAndSetTag(PackageName pkg, String tag, String expected, String topHash) throws IOException;

    /** Removes the tag whatever it names (a damaged tag pointer too); returns false when there was no such tag. */
    boolean deleteTag(PackageName pkg, String tag) throws IOException;

    /**
     * Removes {@code tag} only if it still names {@code expected}, so that a delete removes the
     * revision name its caller saw and not one someone re-pointed meanwhile. Returns null when it
     * removed it, else what the tag names now ("" for none). One step against other writers on a
     * local folder and on a server that honours {@code If-Match} on DELETE; elsewhere a read, a
     * compare and a delete (see S3Registry).
     */
    String compareAndDeleteTag(PackageName pkg, String tag, String expected) throws IOException;

    /**
     * Stores a data object for {@code logicalKey} and says where. Goes to the default place
     * ({@code NS/NAME/KEY}) unless different content is already there: a pushed revision stays
     * readable forever, so nothing an earlier revision points to is overwritten. Content the
     * registry already holds at either place is not sent again.
     */
    Placed place(PackageName pkg, String logicalKey, Checksum sum, long size, Path file) throws IOException;

    /**
     * Says that a push is about to {@link #place} {@code count} objects of a revision with
     * {@code rows} rows, so that the registry can choose how to learn what it holds already.
     */
    default void placing(PackageName pkg, int count, int rows) {
    }

    /** Where {@link #place} put an object, and whether its bytes were sent (false: already there). */
    record Placed(PhysicalKey key, boolean sent) {
    }

    /** {@link #place}, for its physical key only. */
    default PhysicalKey putObject(PackageName pkg, String logicalKey, Checksum sum, long size, Path file)
            throws IOException {
        return place(pkg, logicalKey, sum, size, file).key();
    }

    /** Whether {@code key} already holds the content {@code sum} (so a push can reuse it). */
    boolean holds(PhysicalKey key, Checksum sum, long size) throws IOException;

    @Override
    void close() throws IOException;

    /** Reads and verifies a manifest: its content must hash to the requested top hash. */
    default Manifest readManifest(String topHash) throws IOException {
        return parseManifest(topHash, readManifestBytes(topHash));
    }

    /** Parses manifest bytes read from this registry and checks that they hash to {@code topHash}. */
    default Manifest parseManifest(String topHash, byte[] bytes) throws IOException {
        Manifest m = ManifestReader.read(bytes, uri() + "/.quilt/packages/" + topHash);
        if (!m.topHash().equals(topHash)) {
            throw new RegistryException("manifest " + uri() + "/.quilt/packages/" + topHash
                    + " does not hash to its name (it hashes to " + m.topHash() + "): the registry is corrupt");
        }
        return m;
    }

    /** Writes a manifest under its top hash and returns the top hash. */
    default String writeManifest(Manifest m) throws IOException {
        String h = m.topHash();
        writeManifestBytes(h, ManifestWriter.toBytes(m));
        return h;
    }

    /**
     * {@code notFound}, saying so when the digits given as a hash are the name of one of the
     * package's timestamp pointers (as quilt3 and `browse` list them): which revision is meant.
     */
    private RegistryException.NotFound timestampGiven(PackageRef ref, RegistryException.NotFound notFound) {
        if (!ref.hash().matches("[0-9]{6,19}") || Revision.timestampOf(ref.hash()) < 0) {
            return notFound;
        }
        String top;
        try {
            top = readPointer(ref.name(), ref.hash());
        } catch (IOException | RuntimeException e) {
            return notFound; // no better answer than the one already there
        }
        return top == null ? notFound : new RegistryException.NotFound(notFound.getMessage() + "; " + ref.hash()
                + " is the time of revision " + ref.name() + "@" + top + ": name a revision by its top hash");
    }

    /** Resolves a reference to a full top hash: latest, a tag, a full hash or a unique prefix. */
    default String resolve(PackageRef ref) throws IOException {
        if (ref.hash() != null) {
            String h;
            try {
                h = ref.hash().length() == 64 ? ref.hash() : resolvePrefix(ref.hash());
            } catch (RegistryException.NotFound e) {
                throw timestampGiven(ref, e);
            }
            if (!hasManifest(h)) {
                throw new RegistryException.NotFound("no revision " + h + " of " + ref.name() + " in " + uri());
            }
            return h;
        }
        if (ref.tag() != null && !ref.tag().equals("latest")) {
            String h = tag(ref.name(), ref.tag());
            if (h == null) {
                throw new RegistryException.NotFound("no tag '" + ref.tag() + "' on " + ref.name() + " in " + uri()
                        + " (list tags with `quiltfs log " + ref.name() + " --registry " + uri() + "`)");
            }
            return h;
        }
        String h = latest(ref.name());
        if (h == null) {
            throw new RegistryException.NotFound("no package " + ref.name() + " in " + uri()
                    + " (list packages with `quiltfs browse " + uri() + "`)");
        }
        return h;
    }
}
