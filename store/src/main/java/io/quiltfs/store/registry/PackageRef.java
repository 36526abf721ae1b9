package io.quiltfs.store.registry;

/**
 * A reference to a package revision: {@code ns/name} (latest), {@code ns/name@HASH} (a full top
 * hash or a unique prefix of 6 or more hex digits) or {@code ns/name:TAG}.
 */
public record PackageRef(PackageName name, String hash, String tag) {
    public static PackageRef parse(String s) {
        int at = s.indexOf('@');
        int colon = s.indexOf(':');
        if (at >= 0 && colon >= 0) {
            throw new IllegalArgumentException("invalid package reference '" + s + "': use @HASH or :TAG, not both");
        }
        if (at >= 0) {
            String h = s.substring(at + 1).toLowerCase(java.util.Locale.ROOT);
            if (!h.matches("[0-9a-f]{6,64}")) {
                throw new IllegalArgumentException("invalid hash '" + s.substring(at + 1)
                        + "' in '" + s + "': expected 6 to 64 hex digits");
            }
            return new PackageRef(PackageName.parse(s.substring(0, at)), h, null);
        }
        if (colon >= 0) {
            String t = s.substring(colon + 1);
            if (!Tags.isValid(t)) {
                throw new IllegalArgumentException("invalid tag '" + t + "' in '" + s + "'");
            }
            return new PackageRef(PackageName.parse(s.substring(0, colon)), null, t);
        }
        return new PackageRef(PackageName.parse(s), null, null);
    }

    public static PackageRef latest(PackageName name) {
        return new PackageRef(name, null, null);
    }

    public boolean isLatest() {
        return hash == null && (tag == null || tag.equals("latest"));
    }

    @Override
    public String toString() {
        return name + (hash != null ? "@" + hash : "") + (tag != null ? ":" + tag : "");
    }
}
