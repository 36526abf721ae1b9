package io.quiltfs.store.json;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;

/** A growable byte buffer for ASCII text (canonical JSON); reused to avoid garbage. */
public final class AsciiBuffer {
    private byte[] buf;
    private int len;

    public AsciiBuffer(int capacity) {
        buf = new byte[Math.max(16, capacity)];
    }

    private void ensure(int extra) {
        if (len + extra > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + extra));
        }
    }

    public AsciiBuffer append(char c) {
        ensure(1);
        buf[len++] = (byte) c;
        return this;
    }

    public AsciiBuffer appendByte(byte b) {
        ensure(1);
        buf[len++] = b;
        return this;
    }

    /** Appends a string that is known to be ASCII. */
    public AsciiBuffer appendAscii(String s) {
        int n = s.length();
        ensure(n);
        for (int i = 0; i < n; i++) {
            buf[len++] = (byte) s.charAt(i);
        }
        return this;
    }

    /** Appends ASCII bytes as they are. */
    public AsciiBuffer append(byte[] ascii, int off, int count) {
        ensure(count);
        System.arraycopy(ascii, off, buf, len, count);
        len += count;
        return this;
    }

    /** Appends the decimal digits of {@code v} (no String made for the common sizes). */
    public AsciiBuffer appendLong(long v) {
        if (v < 0 || v >= 1_000_000_000_000_000_000L) {
            return appendAscii(Long.toString(v));
        }
        int digits = 1;
        for (long t = v; t >= 10; t /= 10) {
            digits++;
        }
        ensure(digits);
        for (int i = len + digits - 1; i >= len; i--) {
            buf[i] = (byte) ('0' + v % 10);
            v /= 10;
        }
        len += digits;
        return this;
    }

    public int length() {
        return len;
    }

    public void clear() {
        len = 0;
    }

    public void digestInto(MessageDigest md) {
        md.update(buf, 0, len);
    }

    public byte[] toByteArray() {
        return Arrays.copyOf(buf, len);
    }

    @Override
    public String toString() {
        return new String(buf, 0, len, StandardCharsets.US_ASCII);
    }
}
