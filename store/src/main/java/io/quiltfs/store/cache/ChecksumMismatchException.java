package io.quiltfs.store.cache;

import io.quiltfs.store.hash.Checksum;
import java.io.IOException;

/** Content that does not match the checksum it was fetched or stored under. */
public final class ChecksumMismatchException extends IOException {
    public ChecksumMismatchException(String what, Checksum expected, Checksum actual) {
        super(what + " does not match its hash: expected " + expected + ", got " + actual);
    }

    public ChecksumMismatchException(String what, long expectedSize, long actualSize) {
        super(what + " has " + actualSize + " bytes, expected " + expectedSize);
    }
}
