package io.quiltfs.store.manifest;

import java.nio.charset.StandardCharsets;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
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
        int lone = unpairedSurrogate(key);
        if (lone >= 0) {
            // JSON can spell one ("\ud800") and Python reads it, but it is not Unicode text: no
            // UTF-8 manifest or file name can hold it (quilt3 cannot write it either).
            return String.format("logical key contains an unpaired surrogate (\\u%04x), which is not Unicode text",
                    (int) key.charAt(lone));
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

    /**
     * Why the file {@code file}, found by listing a folder, cannot be packaged under {@code key}
     * (its path below that folder as Java decoded it), or null. Besides the key's own problems: a
     * name that is not valid in the file name encoding (UTF-8), which Java decodes to U+FFFD (or
     * '?'), so that the key would silently name another file. Checked only for keys holding one
     * of those characters: a listing is a hot path.
     */
    public static String problem(String key, Path file) {
        if (key.indexOf('\uFFFD') >= 0 || key.indexOf('?') >= 0) {
            boolean same;
            try {
                same = file.equals(file.getFileSystem().getPath(file.toString()));
            } catch (InvalidPathException e) {
                same = false;
            }
            if (!same) {
                String enc = System.getProperty("sun.jnu.encoding", "UTF-8");
                return "file name is not valid " + (enc.equals("UTF-8") ? "UTF-8" : enc + " (set a UTF-8 locale)")
                        + ", so it cannot be a logical key (" + file.toUri().getRawPath() + ", percent-encoded)";
            }
        }
        return problem(key);
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

    /** Index of the first UTF-16 surrogate in {@code s} that is not half of a pair, or -1. */
    static int unpairedSurrogate(String s) {
        int n = s.length();
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (Character.isSurrogate(c)) {
                if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                    i++;
                } else {
                    return i;
                }
            }
        }
        return -1;
    }

    /**
     * A key safe to print on one line: control characters escaped as {@code \xNN}, unpaired
     * surrogates (which a terminal would show as '?') as a backslash-u escape.
     */
    public static String printable(String key) {
        StringBuilder sb = null;
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            boolean lone = Character.isSurrogate(c) && !(Character.isHighSurrogate(c) && i + 1 < key.length()
                    && Character.isLowSurrogate(key.charAt(i + 1)));
            if (c < 0x20 || c == 0x7f || lone) {
                if (sb == null) {
                    sb = new StringBuilder(key.length() + 8).append(key, 0, i);
                }
                sb.append(lone ? String.format("\\u%04x", (int) c) : String.format("\\x%02x", (int) c));
            } else {
                if (sb != null) {
                    sb.append(c);
                }
                if (Character.isHighSurrogate(c) && !lone) {
                    i++;
                    if (sb != null) {
                        sb.append(key.charAt(i));
                    }
                }
            }
        }
        return sb == null ? key : sb.toString();
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
