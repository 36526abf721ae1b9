package io.quiltfs.fs;

import java.io.IOException;

/**
 * A failure that was already logged once where it happened (a failed fetch names its logical
 * key and cause once): later readers get EIO without another log line.
 */
public final class ReportedException extends IOException {
    public ReportedException(String message, Throwable cause) {
        super(message, cause);
    }
}
