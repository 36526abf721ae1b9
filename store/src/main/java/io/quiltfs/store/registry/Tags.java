package io.quiltfs.store.registry;

import java.util.regex.Pattern;

/** Tag names: letters, digits, '.', '_' and '-', not starting with '.'; "latest" is reserved. */
public final class Tags {
    private static final int MAX_LENGTH = 128;
    private static final Pattern TAG = Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9._-]{0," + (MAX_LENGTH - 1) + "}");

    private Tags() {
    }

    public static boolean isValid(String tag) {
        return TAG.matcher(tag).matches();
    }

    public static String require(String tag) {
        if (!isValid(tag)) {
            throw new IllegalArgumentException("invalid tag '" + tag + "': use " + (tag.length() > MAX_LENGTH
                    ? "at most " + MAX_LENGTH + " characters (it has " + tag.length() + "), " : "")
                    + "letters, digits, '.', '_' and '-' (not starting with '.')");
        }
        if (tag.equals("latest")) {
            throw new IllegalArgumentException("'latest' is the registry's own pointer, not a tag");
        }
        return tag;
    }
}
