package io.quiltfs.store.registry;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * A physical key URL: {@code s3://bucket/<percent-encoded key>[?versionId=<id>]} or
 * {@code file:///<percent-encoded absolute path>}. Encoding follows quilt3's {@code PhysicalKey.__str__}:
 * the path as Python's {@code urllib.parse.quote} (everything but letters, digits and {@code _.-~/}
 * percent-encoded as UTF-8), the version id as {@code urlencode} ({@code quote_plus}: {@code /}
 * encoded too, a space as {@code +}).
 */
public record PhysicalKey(String scheme, String bucket, String path, String versionId) {
    public static PhysicalKey parse(String url) {
        if (url.startsWith("s3://")) {
            String rest = url.substring(5);
            int slash = rest.indexOf('/');
            if (slash <= 0) {
                throw new IllegalArgumentException("invalid S3 physical key '" + url + "': no key after the bucket");
            }
            String bucket = rest.substring(0, slash);
            String keyAndQuery = rest.substring(slash + 1);
            String version = null;
            int q = keyAndQuery.indexOf('?');
            if (q >= 0) {
                String query = keyAndQuery.substring(q + 1);
                keyAndQuery = keyAndQuery.substring(0, q);
                for (String part : query.split("&")) {
                    if (part.startsWith("versionId=") && part.length() > "versionId=".length()) {
                        // (An empty one is none, as quilt3's parse_qs reads it: S3 refuses an empty id.)
                        version = decodeQueryValue(part.substring("versionId=".length()));
                    }
                }
            }
            String key = decode(keyAndQuery);
            if (key.isEmpty()) {
                throw new IllegalArgumentException("invalid S3 physical key '" + url + "': empty key");
            }
            return new PhysicalKey("s3", bucket, key, version);
        }
        if (url.startsWith("file://")) {
            String rest = url.substring(7);
            if (rest.startsWith("localhost/")) {
                rest = rest.substring(9);
            }
            if (!rest.startsWith("/")) {
                throw new IllegalArgumentException("invalid file physical key '" + url + "': not an absolute path");
            }
            int q = rest.indexOf('?');
            if (q >= 0) {
                rest = rest.substring(0, q);
            }
            return new PhysicalKey("file", null, decode(rest), null);
        }
        throw new IllegalArgumentException("unsupported physical key '" + url + "' (expected s3:// or file://)");
    }

    public static PhysicalKey ofFile(Path p) {
        return new PhysicalKey("file", null, p.toAbsolutePath().normalize().toString(), null);
    }

    public static PhysicalKey ofS3(String bucket, String key, String versionId) {
        return new PhysicalKey("s3", bucket, key, versionId);
    }

    public boolean isFile() {
        return scheme.equals("file");
    }

    public boolean isS3() {
        return scheme.equals("s3");
    }

    public Path filePath() {
        if (!isFile()) {
            throw new IllegalStateException("not a file key: " + this);
        }
        return Paths.get(path);
    }

    public PhysicalKey withVersion(String v) {
        return new PhysicalKey(scheme, bucket, path, v);
    }

    @Override
    public String toString() {
        if (isFile()) {
            return "file://" + encode(path);
        }
        return "s3://" + bucket + "/" + encode(path)
                + (versionId != null ? "?versionId=" + encodeQueryValue(versionId) : "");
    }

    /**
     * Python's {@code quote_plus(s, safe='')}, what quilt3's {@code urlencode} does to the version id:
     * {@code /} is encoded too, a space becomes {@code +}.
     */
    static String encodeQueryValue(String s) {
        return encode(s).replace("/", "%2F").replace("%20", "+");
    }

    /**
     * Python's {@code unquote_plus}, as quilt3's {@code parse_qs} reads the version id: {@code +} is a
     * space. Reads both what quilt3 writes and what quiltfs wrote before it matched it ({@code /} kept).
     */
    static String decodeQueryValue(String s) {
        return decode(s.replace('+', ' '));
    }

    /** Python's {@code quote(s, safe='/')}. */
    public static String encode(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        StringBuilder sb = new StringBuilder(b.length + 16);
        for (byte x : b) {
            int c = x & 0xff;
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '_' || c == '.' || c == '-' || c == '~' || c == '/') {
                sb.append((char) c);
            } else {
                sb.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
            }
        }
        return sb.toString();
    }

    /** Percent-decoding as UTF-8 ('+' stays '+'). */
    public static String decode(String s) {
        if (s.indexOf('%') < 0) {
            return s;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(s.length());
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < b.length; i++) {
            if (b[i] == '%' && i + 2 < b.length) {
                int hi = Character.digit(b[i + 1], 16);
                int lo = Character.digit(b[i + 2], 16);
                if (hi >= 0 && lo >= 0) {
                    out.write(hi << 4 | lo);
                    i += 2;
                    continue;
                }
            }
            out.write(b[i]);
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
