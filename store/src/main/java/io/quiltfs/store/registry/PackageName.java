package io.quiltfs.store.registry;

import java.util.regex.Pattern;

/** A package name {@code ns/name}, each part matching {@code [A-Za-z0-9_-]+}. */
public record PackageName(String namespace, String name) implements Comparable<PackageName> {
    private static final Pattern PART = Pattern.compile("[A-Za-z0-9_-]+");

    public PackageName {
        if (!PART.matcher(namespace).matches() || !PART.matcher(name).matches()) {
            throw new IllegalArgumentException("invalid package name '" + namespace + "/" + name
                    + "': expected ns/name, each part of letters, digits, '_' or '-'");
        }
    }

    public static PackageName parse(String s) {
        int slash = s.indexOf('/');
        if (slash < 0 || s.indexOf('/', slash + 1) >= 0) {
            throw new IllegalArgumentException("invalid package name '" + s + "': expected ns/name");
        }
        return new PackageName(s.substring(0, slash), s.substring(slash + 1));
    }

    public static boolean isValid(String s) {
        try {
            parse(s);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    @Override
    public int compareTo(PackageName o) {
        return toString().compareTo(o.toString());
    }

    @Override
    public String toString() {
        return namespace + "/" + name;
    }
}
