package io.quiltfs.store.manifest;

import io.quiltfs.store.hash.HashType;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Parses the common shape of a file row straight from its bytes, without Jackson: the fields
 * {@code logical_key}, {@code physical_keys} (one), {@code size}, {@code hash} and an empty
 * {@code meta}, in any order, printable-ASCII strings without escapes, a valid key and a
 * canonical hash value. Anything else (or anything wrong) makes {@link #parse} return false, and
 * the reader's Jackson path then reads the line and owns every error message: this class only
 * ever accepts rows that path would accept with the same result. It exists because a million-row
 * manifest spends most of its time creating a parser per line. One per reader; not thread-safe.
 */
final class FastRow {
    private static final byte[] LOGICAL_KEY = ascii("logical_key");
    private static final byte[] PHYSICAL_KEYS = ascii("physical_keys");
    private static final byte[] SIZE = ascii("size");
    private static final byte[] HASH = ascii("hash");
    private static final byte[] META = ascii("meta");
    private static final byte[] TYPE = ascii("type");
    private static final byte[] VALUE = ascii("value");
    private static final HashType[] TYPES = HashType.values();
    private static final byte[][] TYPE_NAMES = new byte[TYPES.length][];
    private static final int[] BASE64 = new int[128];
    private static final int F_KEY = 1;
    private static final int F_PHYS = 2;
    private static final int F_SIZE = 4;
    private static final int F_HASH = 8;
    private static final int F_META = 16;
    private static final int REQUIRED = F_KEY | F_PHYS | F_SIZE | F_HASH;

    static {
        for (int i = 0; i < TYPES.length; i++) {
            TYPE_NAMES[i] = ascii(TYPES[i].wireName());
        }
        Arrays.fill(BASE64, -1);
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        for (int i = 0; i < alphabet.length(); i++) {
            BASE64[alphabet.charAt(i)] = i;
        }
    }

    /** The row, valid after {@link #parse} returned true: offsets into the line's buffer. */
    int keyOff;
    int keyLen;
    int physOff;
    int physLen;
    /** The hash value's text (its canonical spelling). */
    int valueOff;
    int valueLen;
    long size;
    HashType type;
    /** Whether the row has a {@code meta} field (quilt3 cannot read a row without one). */
    boolean hasMeta;
    final byte[] digest = new byte[Rows.SLOT];

    private byte[] b;
    private int p;
    private int end;
    private int strOff;
    private int strLen;

    /** True when {@code buf[off, off+len)} is a file row of the common shape, now held here. */
    boolean parse(byte[] buf, int off, int len) {
        b = buf;
        p = off;
        end = off + len;
        int seen = 0;
        valueOff = 0;
        valueLen = 0;
        ws();
        if (!eat('{')) {
            return false;
        }
        while (true) {
            ws();
            if (!string()) {
                return false;
            }
            int nameOff = strOff;
            int nameLen = strLen;
            ws();
            if (!eat(':')) {
                return false;
            }
            ws();
            int field = field(nameOff, nameLen);
            if (field == 0 || (seen & field) != 0) {
                return false;
            }
            seen |= field;
            switch (field) {
                case F_KEY -> {
                    if (!string()) {
                        return false;
                    }
                    keyOff = strOff;
                    keyLen = strLen;
                }
                case F_PHYS -> {
                    if (!eat('[')) {
                        return false;
                    }
                    ws();
                    if (!string()) {
                        return false;
                    }
                    physOff = strOff;
                    physLen = strLen;
                    ws();
                    if (!eat(']')) {
                        return false;
                    }
                }
                case F_SIZE -> {
                    if (!number()) {
                        return false;
                    }
                }
                case F_HASH -> {
                    int typeIndex = -1;
                    boolean hasValue = false;
                    if (!eat('{')) {
                        return false;
                    }
                    for (int k = 0; k < 2; k++) {
                        ws();
                        if (k == 1 && !eat(',')) {
                            return false;
                        }
                        ws();
                        if (!string()) {
                            return false;
                        }
                        boolean isType = is(strOff, strLen, TYPE);
                        if (!(isType ? typeIndex < 0 : !hasValue && is(strOff, strLen, VALUE))) {
                            return false;
                        }
                        ws();
                        if (!eat(':')) {
                            return false;
                        }
                        ws();
                        if (!string()) {
                            return false;
                        }
                        if (isType) {
                            typeIndex = typeIndex(strOff, strLen);
                            if (typeIndex < 0) {
                                return false;
                            }
                        } else {
                            hasValue = true;
                            valueOff = strOff;
                            valueLen = strLen;
                        }
                    }
                    ws();
                    if (!eat('}')) {
                        return false;
                    }
                    type = TYPES[typeIndex];
                }
                default -> { // F_META: only the empty object
                    if (!eat('{')) {
                        return false;
                    }
                    ws();
                    if (!eat('}')) {
                        return false;
                    }
                }
            }
            ws();
            if (eat(',')) {
                continue;
            }
            if (eat('}')) {
                break;
            }
            return false;
        }
        ws();
        hasMeta = (seen & F_META) != 0;
        return p == end && (seen & REQUIRED) == REQUIRED && validKey() && decode(valueOff, valueLen);
    }

    private void ws() {
        while (p < end && (b[p] == ' ' || b[p] == '\t' || b[p] == '\r')) {
            p++;
        }
    }

    private boolean eat(char c) {
        if (p < end && b[p] == c) {
            p++;
            return true;
        }
        return false;
    }

    /** A string of printable ASCII without escapes; sets strOff/strLen. */
    private boolean string() {
        if (!eat('"')) {
            return false;
        }
        int start = p;
        while (p < end) {
            byte c = b[p];
            if (c == '"') {
                strOff = start;
                strLen = p - start;
                p++;
                return true;
            }
            if (c < 0x20 || c > 0x7e || c == '\\') {
                return false;
            }
            p++;
        }
        return false;
    }

    /** A non-negative integer without leading zeros that fits a long (18 digits at most). */
    private boolean number() {
        int start = p;
        long v = 0;
        while (p < end && b[p] >= '0' && b[p] <= '9') {
            v = v * 10 + (b[p] - '0');
            p++;
        }
        int digits = p - start;
        if (digits == 0 || digits > 18 || (digits > 1 && b[start] == '0')) {
            return false;
        }
        size = v;
        return true;
    }

    private int field(int off, int len) {
        if (is(off, len, LOGICAL_KEY)) {
            return F_KEY;
        }
        if (is(off, len, PHYSICAL_KEYS)) {
            return F_PHYS;
        }
        if (is(off, len, SIZE)) {
            return F_SIZE;
        }
        if (is(off, len, HASH)) {
            return F_HASH;
        }
        if (is(off, len, META)) {
            return F_META;
        }
        return 0;
    }

    private boolean is(int off, int len, byte[] word) {
        return len == word.length && Arrays.equals(b, off, off + len, word, 0, len);
    }

    private int typeIndex(int off, int len) {
        for (int i = 0; i < TYPE_NAMES.length; i++) {
            if (is(off, len, TYPE_NAMES[i])) {
                return i;
            }
        }
        return -1;
    }

    /** What {@link LogicalKey#problem(String)} accepts, for printable ASCII (no '/' at the ends). */
    private boolean validKey() {
        if (keyLen == 0 || b[keyOff] == '/' || b[keyOff + keyLen - 1] == '/') {
            return false;
        }
        int compStart = keyOff;
        int stop = keyOff + keyLen;
        for (int i = keyOff; i <= stop; i++) {
            if (i == stop || b[i] == '/') {
                int len = i - compStart;
                if (len == 0 || (b[compStart] == '.' && (len == 1 || (len == 2 && b[compStart + 1] == '.')))) {
                    return false;
                }
                compStart = i + 1;
            }
        }
        return true;
    }

    /** Decodes the hash value into {@link #digest}; false unless it is the canonical spelling. */
    private boolean decode(int off, int len) {
        int n = type.length();
        return type == HashType.SHA256 ? hex(off, len, n) : base64(off, len, n);
    }

    private boolean hex(int off, int len, int n) {
        if (len != 2 * n) {
            return false;
        }
        for (int i = 0; i < n; i++) {
            int hi = hexDigit(b[off + 2 * i]);
            int lo = hexDigit(b[off + 2 * i + 1]);
            if (hi < 0 || lo < 0) {
                return false;
            }
            digest[i] = (byte) (hi << 4 | lo);
        }
        return true;
    }

    private static int hexDigit(byte c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    }

    /** Standard padded base64 of exactly n bytes, with the unused bits zero (what Java writes). */
    private boolean base64(int off, int len, int n) {
        if (len != (n + 2) / 3 * 4) {
            return false;
        }
        int o = 0;
        int i = off;
        for (int q = 0; q < n / 3; q++) {
            int v = 0;
            for (int k = 0; k < 4; k++) {
                int c = BASE64[b[i++]]; // printable ASCII: index < 127
                if (c < 0) {
                    return false;
                }
                v = v << 6 | c;
            }
            digest[o++] = (byte) (v >> 16);
            digest[o++] = (byte) (v >> 8);
            digest[o++] = (byte) v;
        }
        int rem = n % 3;
        if (rem == 0) {
            return true;
        }
        int c0 = BASE64[b[i]];
        int c1 = BASE64[b[i + 1]];
        if (c0 < 0 || c1 < 0 || b[i + 3] != '=') {
            return false;
        }
        if (rem == 1) {
            if (b[i + 2] != '=' || (c1 & 0xf) != 0) {
                return false;
            }
            digest[o] = (byte) (c0 << 2 | c1 >> 4);
            return true;
        }
        int c2 = BASE64[b[i + 2]];
        if (c2 < 0 || (c2 & 3) != 0) {
            return false;
        }
        digest[o++] = (byte) (c0 << 2 | c1 >> 4);
        digest[o] = (byte) ((c1 & 0xf) << 4 | c2 >> 2);
        return true;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
