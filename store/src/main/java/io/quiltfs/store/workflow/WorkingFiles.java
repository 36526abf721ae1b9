package io.quiltfs.store.workflow;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * The working files of an installed package, by logical key: what {@link Status} and
 * {@link Commit} look at and what {@link Install} and {@link Pull} write. The working folder
 * ({@link WorkFolder}) is the first implementation; a mount's working area can be another.
 * Implementations are thread-safe for distinct keys.
 */
public interface WorkingFiles {
    /**
     * What identifies a file's current content cheaply: size, modification time, inode and a
     * change stamp. The stamp is what a user cannot set back: a working folder's file has its
     * ctime ({@code unix:ctime}, as git uses it: {@code touch -r} and {@code cp -p} copy an mtime
     * but every write moves the ctime); a mount's copy has its working area's own change count.
     * Any change of the bytes changes at least one of the four (else a hash cache would trust
     * a hash of other bytes), but for the ctime's granularity: a rewrite within the same tick of
     * the kernel's file clock (a few milliseconds) as the change before it keeps the ctime, a
     * window git's index closes with its racy-entry check, and so does {@link HashCache}.
     */
    record FileStat(long size, long mtimeNanos, long inode, long changeStamp) {
    }

    /**
     * Every working file by logical key (in no particular order), with its stat. Refuses (with the key)
     * what a package cannot hold: symbolic links, special files, invalid keys.
     */
    Map<String, FileStat> scan() throws IOException;

    /** Receives the files of a scan, from any thread; returning false ends the scan early. */
    interface ScanSink {
        boolean accept(String key, FileStat stat);
    }

    /**
     * Hands every working file to {@code sink} (possibly from several threads at once) until it
     * returns false; the same refusals as {@link #scan()}.
     */
    default void scan(ScanSink sink) throws IOException {
        for (Map.Entry<String, FileStat> e : scan().entrySet()) {
            if (!sink.accept(e.getKey(), e.getValue())) {
                return;
            }
        }
    }

    /** {@link #scan()}, told roughly how many files to expect (to size its tables once). */
    default Map<String, FileStat> scan(int expected) throws IOException {
        return scan();
    }

    /** The stat of one key, or null when there is no such file. */
    FileStat stat(String key) throws IOException;

    /**
     * A local path to read the key's current content from (to hash it, to copy it). It may stop
     * existing once returned (a mount's unchanged row is a cached object, which the cache's limit
     * may delete): to read it, use {@link #read}.
     */
    Path path(String key);

    /** What is done with a working file while it stays readable (see {@link #read}). */
    interface FileUse<T> {
        T apply(Path file) throws IOException;
    }

    /**
     * Runs {@code use} on {@link #path} of {@code key}, which stays readable until it returns (a
     * mount's cached object stays pinned against the cache's limit meanwhile).
     */
    default <T> T read(String key, FileUse<T> use) throws IOException {
        return use.apply(path(key));
    }

    /**
     * Replaces (or creates) {@code key} with a private, writable copy of {@code source}
     * atomically: readers see the old or the new content, never a mix, and the copy never shares
     * storage with {@code source} (which may be a cached object). Returns the new file's stat.
     */
    FileStat place(String key, Path source) throws IOException;

    /**
     * Like {@link #place}, from a file that is not trusted yet: the copy is hashed as it is
     * written and takes {@code key}'s place only when it has {@code size} bytes and matches
     * {@code expected} (else {@link io.quiltfs.store.cache.ChecksumMismatchException} naming
     * {@code what}, and nothing changes). Returns null when this implementation cannot; the
     * caller then goes through the object cache.
     */
    default FileStat placeChecked(String key, Path source, io.quiltfs.store.hash.Checksum expected, long size,
                                  String what) throws IOException {
        return null;
    }

    /**
     * Whether something that no scan reports (a folder with no files in it) stands where
     * {@code key} must be written, and would still stand once the keys {@code leaving} are
     * removed: a pull looks before it changes anything. Implementations that cannot hold such a
     * thing say false.
     */
    default boolean blocked(String key, java.util.Set<String> leaving) throws IOException {
        return false;
    }

    /**
     * Whether {@code key} is open for writing where this implementation sees it (a descriptor
     * of a mount): a pull does not change such a file under its writer, it counts it as a local
     * change (a conflict) and changes nothing. Implementations that cannot tell say false.
     */
    default boolean openForWriting(String key) {
        return false;
    }

    /** Removes {@code key} (and folders left empty); no error when it is absent. */
    void delete(String key) throws IOException;

    /** In {@link #guarded}'s map: the key had no file when the check looked. */
    FileStat ABSENT = new FileStat(-1, -1, -1, -1);

    /**
     * These files, where {@link #place}, {@link #placeChecked} and {@link #delete} change a key of
     * {@code seen} only while its file is still what a pull's check saw ({@link #ABSENT}: no
     * file): a file written, replaced, created or removed since is kept as it is and the call
     * throws {@link ChangedMeanwhileException} naming the key. A pull's check and its writes are
     * minutes apart on a large pull, and an edit made in between must not be overwritten. Keys
     * not in {@code seen} are changed as before. Implementations that cannot tell (a mount's area
     * refuses files open for writing at the check instead) return themselves.
     */
    default WorkingFiles guarded(Map<String, FileStat> seen) {
        return this;
    }

    /**
     * The row {@code meta} that {@code key} carries from elsewhere (a mount knows the rows it
     * renamed without changing them: their metadata moves with them), or null. A commit gives it
     * to the new row at {@code key}.
     */
    default com.fasterxml.jackson.databind.JsonNode carriedMeta(String key) {
        return null;
    }

    /**
     * The checksum of {@code key} when this implementation knows it without reading the file
     * (a mount knows the rows it never changed), provided {@code stat} is what {@link #scan}
     * reported; null otherwise. Status trusts it as it trusts its hash cache.
     */
    default io.quiltfs.store.hash.Checksum knownHash(String key, FileStat stat) {
        return null;
    }

    /** Where the files are, for messages. */
    String describe();
}
