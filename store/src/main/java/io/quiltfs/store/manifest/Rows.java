package io.quiltfs.store.manifest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiltfs.store.hash.Checksum;
import io.quiltfs.store.hash.HashType;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * The file rows of a manifest, stored column by column so that a million rows cost about 200
 * bytes each: keys and physical keys as UTF-8 in two byte arrays with offsets, digests in
 * fixed 32-byte slots, sizes in a long array, {@code meta} only where it is not empty. Rare
 * shapes (a checksum value that is not the canonical encoding, unknown row fields) live in side
 * maps. Immutable once {@link #seal} has run; safe to read from many threads afterwards.
 */
final class Rows {
    private static final HashType[] TYPES = HashType.values();
    static final int SLOT = 32;

    private int n;
    private byte[] keys = new byte[1024];
    private int keysLen;
    private int[] keyOff = new int[17];
    private byte[] phys = new byte[2048];
    private int physLen;
    private int[] physOff = new int[17];
    private long[] sizes = new long[16];
    private byte[] types = new byte[16];
    private byte[] digests = new byte[16 * SLOT];
    private JsonNode[] metas = new JsonNode[16];
    private Map<Integer, String> oddValues;
    private Map<Integer, ObjectNode> extras;

    Rows() {
    }

    /**
     * Rows with room for a manifest file of {@code fileBytes} bytes, guessed from typical rows
     * (256 bytes or more, at most a fifth of it the key and two fifths the physical key). Arrays this big are
     * allocated outside the young generation, so the collector never copies them while they
     * fill; a wrong guess only means growing (or a trim at {@link #seal}) as without it.
     */
    static Rows forFileOf(long fileBytes) {
        Rows r = new Rows();
        long guess = Math.min(fileBytes / 256, 64L << 20);
        if (guess > 16) {
            int cap = (int) guess;
            r.keyOff = new int[cap + 1];
            r.physOff = new int[cap + 1];
            r.sizes = new long[cap];
            r.types = new byte[cap];
            r.digests = new byte[cap * SLOT];
            r.metas = new JsonNode[cap];
            r.keys = new byte[(int) Math.min(fileBytes / 5, Integer.MAX_VALUE - 16)];
            r.phys = new byte[(int) Math.min(fileBytes * 2 / 5, Integer.MAX_VALUE - 16)];
        }
        return r;
    }

    int size() {
        return n;
    }

    void add(byte[] key, byte[] physicalKey, long size, Checksum hash, JsonNode meta, ObjectNode rowExtras) {
        grow();
        keys = append(keys, keysLen, key, 0, key.length);
        keysLen += key.length;
        keyOff[n + 1] = keysLen;
        phys = append(phys, physLen, physicalKey, 0, physicalKey.length);
        physLen += physicalKey.length;
        physOff[n + 1] = physLen;
        sizes[n] = size;
        types[n] = (byte) hash.type().ordinal();
        byte[] raw = Checksum.decodeCanonical(hash.type(), hash.value());
        if (raw != null) {
            System.arraycopy(raw, 0, digests, n * SLOT, raw.length);
        } else {
            if (oddValues == null) {
                oddValues = new HashMap<>();
            }
            oddValues.put(n, hash.value());
        }
        metas[n] = (meta == null || meta.isNull() || (meta.isObject() && meta.isEmpty())) ? null : meta;
        if (rowExtras != null && !rowExtras.isEmpty()) {
            if (extras == null) {
                extras = new HashMap<>();
            }
            extras.put(n, rowExtras);
        }
        n++;
    }

    /**
     * Adds a row of the common shape (empty meta, no extra fields, canonical digest) straight
     * from the bytes of its manifest line, without making Strings.
     */
    void add(byte[] line, int keyStart, int keyLength, int physStart, int physLength, long size,
             HashType type, byte[] digest) {
        grow();
        keys = append(keys, keysLen, line, keyStart, keyLength);
        keysLen += keyLength;
        keyOff[n + 1] = keysLen;
        phys = append(phys, physLen, line, physStart, physLength);
        physLen += physLength;
        physOff[n + 1] = physLen;
        sizes[n] = size;
        types[n] = (byte) type.ordinal();
        System.arraycopy(digest, 0, digests, n * SLOT, type.length());
        n++;
    }

    private void grow() {
        if (n == sizes.length) {
            int cap = n * 2;
            keyOff = Arrays.copyOf(keyOff, cap + 1);
            physOff = Arrays.copyOf(physOff, cap + 1);
            sizes = Arrays.copyOf(sizes, cap);
            types = Arrays.copyOf(types, cap);
            digests = Arrays.copyOf(digests, cap * SLOT);
            metas = Arrays.copyOf(metas, cap);
        }
    }

    private static byte[] append(byte[] dst, int len, byte[] src, int off, int count) {
        if (len + count > dst.length) {
            dst = Arrays.copyOf(dst, Math.max(dst.length * 2, len + count));
        }
        System.arraycopy(src, off, dst, len, count);
        return dst;
    }

    /** Whether row i's key sorts after row i-1's for every i. */
    private boolean inWalkOrder() {
        for (int i = 1; i < n; i++) {
            if (compareKeys(i - 1, i) > 0) {
                return false;
            }
        }
        return true;
    }

    int compareKeys(int i, int j) {
        return LogicalKey.compareUtf8(keys, keyOff[i], keyOff[i + 1] - keyOff[i],
                keys, keyOff[j], keyOff[j + 1] - keyOff[j]);
    }

    /**
     * Sorts into walk order (when needed) and trims the arrays to size. Returns the permutation
     * applied (new index to old index), or null when the rows were already in order.
     */
    int[] seal() {
        int[] order = null;
        if (!inWalkOrder()) {
            order = permute();
        }
        keys = Arrays.copyOf(keys, keysLen);
        keyOff = Arrays.copyOf(keyOff, n + 1);
        phys = Arrays.copyOf(phys, physLen);
        physOff = Arrays.copyOf(physOff, n + 1);
        sizes = Arrays.copyOf(sizes, n);
        types = Arrays.copyOf(types, n);
        digests = Arrays.copyOf(digests, n * SLOT);
        metas = Arrays.copyOf(metas, n);
        return order;
    }

    private int[] permute() {
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, this::compareKeys);
        Rows r = new Rows();
        for (Integer idx : order) {
            int i = idx;
            r.add(Arrays.copyOfRange(keys, keyOff[i], keyOff[i + 1]),
                    Arrays.copyOfRange(phys, physOff[i], physOff[i + 1]),
                    sizes[i], checksum(i), metas[i], extras == null ? null : extras.get(i));
        }
        n = r.n;
        keys = r.keys;
        keysLen = r.keysLen;
        keyOff = r.keyOff;
        phys = r.phys;
        physLen = r.physLen;
        physOff = r.physOff;
        sizes = r.sizes;
        types = r.types;
        digests = r.digests;
        metas = r.metas;
        oddValues = r.oddValues;
        extras = r.extras;
        int[] out = new int[order.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = order[i];
        }
        return out;
    }

    String key(int i) {
        return new String(keys, keyOff[i], keyOff[i + 1] - keyOff[i], StandardCharsets.UTF_8);
    }

    /** The UTF-8 bytes of every key; row i's key is {@code [keyStart(i), keyStart(i + 1))}. */
    byte[] keyBytes() {
        return keys;
    }

    int keyStart(int i) {
        return keyOff[i];
    }

    /** True when row i's key lies inside row j's key taken as a folder ({@code key(j) + "/"}). */
    boolean keyIsUnder(int i, int j) {
        int io = keyOff[i];
        int il = keyOff[i + 1] - io;
        int jo = keyOff[j];
        int jl = keyOff[j + 1] - jo;
        return il > jl && keys[io + jl] == '/' && Arrays.equals(keys, io, io + jl, keys, jo, jo + jl);
    }

    /** True when key i equals the UTF-8 bytes given. */
    int compareKey(int i, byte[] key) {
        return LogicalKey.compareUtf8(keys, keyOff[i], keyOff[i + 1] - keyOff[i], key, 0, key.length);
    }

    /** True when row i's key starts with the UTF-8 bytes of {@code prefix}. */
    boolean keyStartsWith(int i, byte[] prefix) {
        int off = keyOff[i];
        int len = keyOff[i + 1] - off;
        if (len < prefix.length) {
            return false;
        }
        return Arrays.equals(keys, off, off + prefix.length, prefix, 0, prefix.length);
    }

    String physicalKey(int i) {
        return new String(phys, physOff[i], physOff[i + 1] - physOff[i], StandardCharsets.UTF_8);
    }

    long sizeOf(int i) {
        return sizes[i];
    }

    HashType hashType(int i) {
        return TYPES[types[i]];
    }

    Checksum checksum(int i) {
        HashType t = TYPES[types[i]];
        if (oddValues != null) {
            String v = oddValues.get(i);
            if (v != null) {
                return Checksum.of(t, v);
            }
        }
        return Checksum.ofRaw(t, Arrays.copyOfRange(digests, i * SLOT, i * SLOT + t.length()));
    }

    /** Row i's digest bytes are its canonical value (no odd spelling). */
    boolean hasCanonicalValue(int i) {
        return oddValues == null || !oddValues.containsKey(i);
    }

    /** Copies row i's raw digest into {@code dst}; returns its length. */
    int digest(int i, byte[] dst) {
        int len = TYPES[types[i]].length();
        System.arraycopy(digests, i * SLOT, dst, 0, len);
        return len;
    }

    /** Row i's meta, or null when it is empty. */
    JsonNode metaOrNull(int i) {
        return metas[i];
    }

    ObjectNode extras(int i) {
        return extras == null ? null : extras.get(i);
    }

    Entry entry(int i) {
        return new Entry(key(i), physicalKey(i), sizes[i], checksum(i),
                metas[i] == null ? null : metas[i], extras(i));
    }

    /** Approximate retained heap in bytes (for the memory benchmark and tests). */
    long retainedBytes() {
        long b = 16L * 12;
        b += 16 + keys.length + 16 + 4L * keyOff.length;
        b += 16 + phys.length + 16 + 4L * physOff.length;
        b += 16 + 8L * sizes.length + 16 + types.length + 16 + digests.length + 16 + 4L * metas.length;
        return b;
    }
}
