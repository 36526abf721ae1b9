package io.quiltfs.store.manifest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiltfs.store.hash.Checksum;
import io.quiltfs.store.json.Json;
import java.util.Objects;

/**
 * One file row: logical key, its one physical key, size, checksum, {@code meta} (never null:
 * missing or null reads as {}), and row fields quiltfs does not interpret (kept, not hashed).
 */
public record Entry(String logicalKey, String physicalKey, long size, Checksum hash, JsonNode meta,
                    ObjectNode extras) {
    public Entry {
        Objects.requireNonNull(logicalKey);
        Objects.requireNonNull(physicalKey);
        Objects.requireNonNull(hash);
        if (meta == null || meta.isNull() || meta.isMissingNode()) {
            meta = Json.object();
        }
        if (size < 0) {
            throw new IllegalArgumentException("negative size for '" + logicalKey + "'");
        }
    }

    public Entry(String logicalKey, String physicalKey, long size, Checksum hash) {
        this(logicalKey, physicalKey, size, hash, null, null);
    }

    /** {@code meta.user_meta}, or null. */
    public JsonNode userMeta() {
        JsonNode um = meta.get("user_meta");
        return um == null || um.isNull() ? null : um;
    }

    public Entry withPhysicalKey(String pk) {
        return new Entry(logicalKey, pk, size, hash, meta, extras);
    }

    public Entry withLogicalKey(String lk) {
        return new Entry(lk, physicalKey, size, hash, meta, extras);
    }

    /** Same content and metadata (what the top hash sees), ignoring the physical key. */
    public boolean sameContent(Entry o) {
        return size == o.size && hash.equals(o.hash);
    }
}
