package io.quiltfs.fs;

import java.io.IOException;

/** A filesystem answer that is not a failure of I/O: no such file, read-only, not a folder. */
public final class FsException extends IOException {
    private final Errno errno;

    public FsException(Errno errno, String message) {
        super(message);
        this.errno = errno;
    }

    public Errno errno() {
        return errno;
    }

    /** Cheap: these are answers, not bugs, so no stack trace is filled in. */
    @Override
    public synchronized Throwable fillInStackTrace() {
        return this;
    }
}
