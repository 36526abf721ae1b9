package io.quiltfs.store.state;

import java.util.ArrayList;
import java.util.List;

/**
 * What the lineage records for one installed package: its remote (registry and name), the base
 * (the remote revision the local work started from), the latest remote hash seen, the local
 * head (base or the newest local commit), the local commits not yet pushed (oldest first), the
 * working folder, and the path globs installed (null: all).
 *
 * <p>Fields it does not know (written by a newer quiltfs) are ignored on read and not written back:
 * a field is added only as a refinement whose absence reads safely (as {@link #pullBegun}: absent,
 * the range it refines is unsure as a whole), so dropping it loses precision, never a fact, and
 * keeping it would pair it with the fields this build rewrote. A field that must not be dropped
 * comes with a new {@link Lineage} version instead, which an older build refuses to read.
 */
@com.fasterxml.jackson.annotation.JsonIgnoreProperties(ignoreUnknown = true)
public final class PackageState {
    public String registry;
    public String base;
    public String latestSeen;
    public String head;
    public List<String> commits = new ArrayList<>();
    public String workDir;
    public List<String> paths;
    /**
     * True from the moment {@code install} registers the package until every wanted file is in
     * place: a working file still missing then is not installed yet, not removed.
     */
    public boolean installing;
    /**
     * While {@link #installing}, what the last finished install of the package had placed: all
     * keys ({@code placedAll}) or those matching {@code placedPaths} (neither: no install has
     * finished). Its files missing since are the user's removals, which a re-run keeps.
     */
    public boolean placedAll;
    public List<String> placedPaths;
    /**
     * While {@link #installing}: the globs the running install was given (null: none, every key):
     * what running it again names.
     */
    public List<String> installingPaths;
    /**
     * The mount holding the working folder when it was installed, on it (a disk given as --dest)
     * or above it ({@link MountTable.Mount#record}: "at MOUNTPOINT DEVICE ROOT TYPE SOURCE", then the working
     * folder's inode number: compared instead of the device when its major is 0, a number the
     * kernel hands out at each mount).
     * Older installs wrote "TYPE SOURCE" (a mount point, told apart too loosely: never matches),
     * "" (no mount point) or nothing (null). Uninstall deletes only while it is still that mount.
     */
    public String workDirMount;
    /**
     * What the globs of {@link #paths}, {@link #placedPaths} and {@link #installingPaths} mean:
     * {@link #GLOB_SYNTAX} ({@code **}{@code /} may match no folder); older entries (0, from
     * before the field) are converted on read ({@link #fromGlobSyntax0}).
     */
    public int globSyntax = GLOB_SYNTAX;

    /** The current {@link #globSyntax}. */
    public static final int GLOB_SYNTAX = 2;
    /**
     * {@code "<pointer> <top hash>"}: the timestamp pointer a push is writing or wrote for that
     * revision, until the push settles; a push run again after a kill reuses it.
     */
    public String pushPointer;
    /**
     * True from the moment {@code uninstall} decided to remove the package until its lineage entry
     * is gone: a working folder partly deleted then is being removed, not edited.
     */
    public boolean uninstalling;
    /**
     * The revision (registry {@code latest}) a pull is taking in, from just before it changes the
     * first working file until the lineage moves to it; null otherwise. While set, the working
     * files that differ from the head and hold this revision's content are the pull's work, not
     * the user's edits, and {@code pull} run again finishes it.
     */
    public String pulling;
    /**
     * While {@link #pulling}: the head the pull makes (that revision, or its merge with the local
     * commits); finishing refuses when it would make another one.
     */
    public String pullingHead;
    /**
     * While {@link #pulling}: every key the revision adds (the head has no such key) up to this one
     * in walk order that the pull was to place is placed (null: none yet). The pull starts files in
     * walk order on one pool and records, now and then, the longest prefix of them all placed: an
     * addition up to here that is gone was removed since, not "not placed yet".
     */
    public String pullPlaced;
    /**
     * While {@link #pulling}: the last addition the pull may have begun (recorded before any up to
     * it begins); an addition after {@link #pullPlaced} and up to this one may or may not have been
     * placed when the pull stopped, one after it was not. A finishing run never records an earlier
     * one than the stopped run's (nor moves {@link #pullPlaced} back) until it has placed past it.
     */
    public String pullPlacing;
    /**
     * While {@link #pulling}: the last addition begun before the range up to {@link #pullPlacing}
     * was allowed (null: as {@link #pullPlaced}); every addition after {@link #pullPlaced} and up to
     * this one is placed but those of {@link #pullUnsure}: only theirs and the range after this one
     * may or may not have been placed when the pull stopped. A large file still being placed then
     * leaves the files placed after it known. A finishing run merges the stopped run's record into
     * its own (this and {@link #pullUnsure}: an addition the stopped run placed stays placed, one it
     * was unsure of stays unsure until this run places it) until its prefix passes this key, then
     * drops it; when more than {@link #pullUnsure} can name are unsure, this moves back to the last
     * one named (the range after it unsure as a whole). Left out of the file when null, as
     * {@link #pullUnsure} is: a lineage with no pull stopped reads the same to a build before them.
     */
    @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
    public String pullBegun;
    /**
     * While {@link #pulling}: the additions after {@link #pullPlaced} and up to {@link #pullBegun}
     * not known to be placed when the lineage was written (being placed then; a few dozen at most);
     * null: none.
     */
    @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
    public List<String> pullUnsure;

    public PackageState() {
    }

    public PackageState copy() {
        PackageState s = new PackageState();
        s.registry = registry;
        s.base = base;
        s.latestSeen = latestSeen;
        s.head = head;
        s.commits = new ArrayList<>(commits);
        s.workDir = workDir;
        s.paths = paths == null ? null : new ArrayList<>(paths);
        s.installing = installing;
        s.placedAll = placedAll;
        s.placedPaths = placedPaths == null ? null : new ArrayList<>(placedPaths);
        s.installingPaths = installingPaths == null ? null : new ArrayList<>(installingPaths);
        s.workDirMount = workDirMount;
        s.globSyntax = globSyntax;
        s.pushPointer = pushPointer;
        s.uninstalling = uninstalling;
        s.pulling = pulling;
        s.pullingHead = pullingHead;
        s.pullPlaced = pullPlaced;
        s.pullPlacing = pullPlacing;
        s.pullBegun = pullBegun;
        s.pullUnsure = pullUnsure == null ? null : new ArrayList<>(pullUnsure);
        return s;
    }

    /**
     * Globs recorded before {@code **}{@code /} could match no folder (java.nio's globs, where
     * {@code **}{@code /*.csv} needs at least one folder) written so that they keep that meaning:
     * each {@code **}{@code /} at the start or after a '/' (the ones that may now match no folder)
     * becomes {@code *}{@code /**}{@code /}, which still needs one.
     */
    static List<String> fromGlobSyntax0(List<String> globs) {
        if (globs == null) {
            return null;
        }
        List<String> out = new ArrayList<>(globs.size());
        for (String g : globs) {
            StringBuilder b = new StringBuilder(g.length() + 4);
            for (int i = 0; i < g.length(); i++) {
                if (g.startsWith("**/", i) && (i == 0 || g.charAt(i - 1) == '/')) {
                    b.append("*/**/");
                    i += 2;
                } else {
                    b.append(g.charAt(i));
                }
            }
            out.add(b.toString());
        }
        return out;
    }

    /** Brings an entry read from a lineage file to the current {@link #globSyntax}. */
    void upgrade() {
        if (globSyntax < GLOB_SYNTAX) {
            paths = fromGlobSyntax0(paths);
            placedPaths = fromGlobSyntax0(placedPaths);
            installingPaths = fromGlobSyntax0(installingPaths);
            globSyntax = GLOB_SYNTAX;
        }
    }
}
