package io.quiltfs.store.manifest;

import java.nio.charset.StandardCharsets;
import java.util.Comparator;

/**
 * Logical keys: validation (a manifest is untrusted input; a key must never name a path outside
 * the folder it is materialized into) and walk order.
 *
 * <p>Walk order compares keys component by component, each by code point, a prefix first. That
 * is exactly the byte order of the UTF-8 encodings with {@code '/'} treated as the lowest byte,
 * which is how {@link #compareUtf8} does it without splitting.
 */
public final class LogicalKey {
    /** Walk order over Java strings. */
    public static final Comparator<String> WALK_ORDER = LogicalKey::compare;

    private LogicalKey() {
    }

    /** Why {@code key} is not a valid file key, or null when it is. */
    public static String problem(String key) {
        return problem(key, false);
    }

    /** Why {@code key} is not a valid key; directory keys end with one {@code '/'}. */
    public static String problem(String key, boolean directory) {
        if (key.isEmpty()) {
            return "empty logical key";
        }
        if (key.indexOf('\0') >= 0) {
            return "logical key contains a NUL character";
        }
        if (key.charAt(0) == '/') {
            return "logical key is absolute (starts with '/')";
        }
        String body = key;
        if (directory) {
            if (!key.endsWith("/")) {
                return "directory key does not end with '/'";
            }
            body = key.substring(0, key.length() - 1);
            if (body.isEmpty()) {
                return "empty directory key";
            }
        } else if (key.endsWith("/")) {
            return "logical key ends with '/'";
        }
        int start = 0;
        while (true) {
            int slash = body.indexOf('/', start);
            int end = slash < 0 ? body.length() : slash;
            int len = end - start;
            if (len == 0) {
                return "logical key has an empty component ('//')";
            }
            if ((len == 1 && body.charAt(start) == '.')
                    || (len == 2 && body.charAt(start) == '.' && body.charAt(start + 1) == '.')) {
                return "logical key has a '" + body.substring(start, end) + "' component";
            }
            if (slash < 0) {
                return null;
            }
            start = slash + 1;
        }
    }

    /** Throws IllegalArgumentException naming the key when it is not a valid file key. */
    public static String require(String key) {
        String p = problem(key);
        if (p != null) {
            throw new IllegalArgumentException(p + ": '" + printable(key) + "'");
        }
        return key;
    }

    /** Walk-order comparison of two keys. */
    public static int compare(String a, String b) {
        int n = Math.min(a.length(), b.length());
        for (int i = 0; i < n; i++) {
            char x = a.charAt(i);
            char y = b.charAt(i);
            if (x != y) {
                return rank(x) - rank(y);
            }
        }
        return a.length() - b.length();
    }

    private static int rank(char c) {
        if (c == '/') {
            return -1;
        }
        if (c >= 0xD800) {
            return c >= 0xE000 ? c - 0x800 : c + 0x2000;
        }
        return c;
    }

    /** Walk-order comparison of two UTF-8 encoded keys held in byte ranges. */
    public static int compareUtf8(byte[] a, int aOff, int aLen, byte[] b, int bOff, int bLen) {
        int n = Math.min(aLen, bLen);
        for (int i = 0; i < n; i++) {
            int x = a[aOff + i] & 0xff;
            int y = b[bOff + i] & 0xff;
            if (x != y) {
                return (x == '/' ? 0 : x) - (y == '/' ? 0 : y);
            }
        }
        return aLen - bLen;
    }

    /** The parent folder of a key ("" for top-level keys). */
    public static String parent(String key) {
        int i = key.lastIndexOf('/');
        return i < 0 ? "" : key.substring(0, i);
    }

    /** The last component of a key. */
    public static String name(String key) {
        return key.substring(key.lastIndexOf('/') + 1);
    }

    /** A key safe to print on one line: control characters escaped. */
    public static String printable(String key) {
        StringBuilder sb = new StringBuilder(key.length());
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                sb.append(String.format("\\x%02x", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
