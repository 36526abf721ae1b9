package io.quiltfs.cli;

/** The exit codes of every command (also listed in README). */
public final class ExitCodes {
    /** Success. */
    public static final int OK = 0;
    /** The operation failed (bad input, I/O, a registry error). */
    public static final int FAILURE = 1;
    /** The command line was wrong (an ambiguous hash prefix too). */
    public static final int USAGE = 2;
    /** Refused to protect someone's work: diverged push, pull conflict, uncommitted changes, a tag move. */
    public static final int CONFLICT = 3;
    /** Something named does not exist: a package, revision, tag, file. */
    public static final int NOT_FOUND = 4;

    private ExitCodes() {
    }
}
