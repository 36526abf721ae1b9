package io.quiltfs.store.registry;

import java.util.regex.Pattern;

/**
 * A package name {@code ns/name}, each part of word characters and {@code '-'}, as quilt3's
 * {@code ^[\w-]+/[\w-]+$} with Python's Unicode {@code \w}: letters and numbers of any script
 * and {@code '_'} ({@code team/café} is one; its decomposed spelling, with a combining accent,
 * is not, for quilt3 either).
 */
public record PackageName(String namespace, String name) implements Comparable<PackageName> {
    /** Python's {@code str.isalnum()} or '_': letters (L*), numbers (Nd, Nl, No). */
    private static final Pattern PART = Pattern.compile("[\\p{L}\\p{Nd}\\p{Nl}\\p{No}_-]+");

    public PackageName {
        if (!PART.matcher(namespace).matches() || !PART.matcher(name).matches()) {
            throw new IllegalArgumentException("invalid package name '"
                    + io.quiltfs.store.manifest.LogicalKey.printable(namespace + "/" + name)
                    + "': expected ns/name, each part of letters, digits, '_' or '-'");
        }
    }

    public static PackageName parse(String s) {
        int slash = s.indexOf('/');
        if (slash < 0 || s.indexOf('/', slash + 1) >= 0) {
            throw new IllegalArgumentException("invalid package name '" + io.quiltfs.store.manifest.LogicalKey.printable(s)
                    + "': expected ns/name");
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
